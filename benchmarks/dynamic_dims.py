"""Dynamic dimensions: what a new batch size costs, and what symbolic sizes cost per call.

Run: python benchmarks/dynamic_dims.py [--repeats 20]
Three kinds of compiled MLP training step (value_and_grad + SGD over a dict pytree, x: Bx784 ->
512 -> 10): kiln.jit specialised on shapes (as JAX), kiln.jit with `dynamic_dims` on the batch
axis, and jax.jit when installed. Rows:
- first call (compile included), batch 128;
- each new batch size afterwards (the mean over sizes 96, 100, 160, 200, 255): a compile for
  the specialised functions, a staging and a check for the dynamic one;
- a step at batch 128 once compiled (best of `repeats`);
and the fused tanh/sin/exp chain on 4M float32, specialised and dynamic.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import kiln
import kiln.numpy as knp
from kiln.backends.llvm import engine

sys.path.insert(0, os.path.dirname(__file__))
from llvm_backend import best, chain, mlp_loss, sgd_step, timed  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
except ImportError:
    jax = None

NEW_SIZES = (96, 100, 160, 200, 255)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    repeats = parser.parse_args().repeats
    rng = np.random.default_rng(0)
    params = {"w1": (rng.standard_normal((784, 512)) * 0.05).astype(np.float32),
              "b1": np.zeros(512, np.float32),
              "w2": (rng.standard_normal((512, 10)) * 0.05).astype(np.float32),
              "b2": np.zeros(10, np.float32)}
    data = lambda n: (rng.standard_normal((n, 784)).astype(np.float32),
                      rng.standard_normal((n, 10)).astype(np.float32))
    kb = kiln.block_until_ready
    batch = {"x": {0: "batch"}, "y": {0: "batch"}}
    makers = {
        "kiln specialised": (lambda: kiln.jit(sgd_step(kiln.value_and_grad(mlp_loss(knp)))), kb),
        "kiln dynamic_dims": (lambda: kiln.jit(sgd_step(kiln.value_and_grad(mlp_loss(knp))),
                                               dynamic_dims=batch), kb),
    }
    if jax:
        makers["jax.jit"] = (lambda: jax.jit(sgd_step(jax.value_and_grad(mlp_loss(jnp)))), jax.block_until_ready)
    columns = {}
    for name, (make, block) in makers.items():
        engine.clear_cache()  # each column compiles for itself
        fn = make()
        first = timed(fn, params, *data(128), block=block)
        new = [timed(fn, params, *data(n), block=block) for n in NEW_SIZES]
        step = best(fn, params, *data(128), repeats=repeats, block=block)
        columns[name] = (first, sum(new) / len(new), step)
    x4m = rng.standard_normal(4_000_000).astype(np.float32)
    chains = [best(kiln.jit(chain(knp), **kw), x4m, repeats=repeats, block=kb)
              for kw in ({}, {"dynamic_dims": {"x": 0}})]

    def ms(t):
        return f"{t * 1e3:.2f} ms"
    names = list(columns)
    print(f"| MLP step 784-512-10 | {' | '.join(names)} |")
    print("|---" * (len(names) + 1) + "|")
    for k, label in enumerate(("first call, batch 128", "each new batch size", "step, batch 128")):
        print(f"| {label} | {' | '.join(ms(columns[n][k]) for n in names)} |")
    print(f"\ntanh(sin(x)*exp(-x)), 4M f32: specialised {ms(chains[0])}, dynamic_dims {ms(chains[1])}")


if __name__ == "__main__":
    main()
