"""Cost of a gradient relative to its function, on the same backend (the autodiff issue's goal:
logsumexp over 1M float32 elements, grad/primal <= 2.0x).

Run: [KILN_BACKEND=llvm] python benchmarks/grad_overhead.py
Prints one row per case: primal time, gradient time, their ratio, and the equation counts.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import kiln
from kiln.api import default_backend
import kiln.numpy as jnp
from kiln.scipy.special import logsumexp


def lse(x):
    return logsumexp(x)


def mlp_loss(params, x, y):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    logits = h @ params["w2"] + params["b2"]
    return jnp.mean((logits - y) ** 2)


def best_of(fn, *args, repeats=20):
    fn(*args)  # compile
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        kiln.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)


def row(name, f, args, argnums=0):
    primal = kiln.jit(f)
    gradient = kiln.jit(kiln.grad(f, argnums=argnums))
    t_p, t_g = best_of(primal, *args), best_of(gradient, *args)
    n_p = len(kiln.make_ir(f)(*args).eqns)
    n_g = len(kiln.make_ir(kiln.grad(f, argnums=argnums))(*args).eqns)
    print(f"{name:<28} {t_p * 1e3:>10.3f} {t_g * 1e3:>10.3f} {t_g / t_p:>7.2f}x {n_p:>6} {n_g:>6}")


def main():
    parser = argparse.ArgumentParser()
    parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1_000_000).astype(np.float32)
    params = {"w1": rng.standard_normal((784, 512)).astype(np.float32) * 0.05,
              "b1": np.zeros(512, np.float32),
              "w2": rng.standard_normal((512, 10)).astype(np.float32) * 0.05,
              "b2": np.zeros(10, np.float32)}
    batch = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.standard_normal((128, 10)).astype(np.float32)
    print(f"backend: {default_backend()} (KILN_BACKEND); best of 20 runs")
    print(f"{'case':<28} {'primal ms':>10} {'grad ms':>10} {'ratio':>8} {'eqns':>6} {'grad':>6}")
    row("logsumexp, 1M float32", lse, (x,))
    row("MLP loss 128x784->512->10", mlp_loss, (params, batch, labels))


if __name__ == "__main__":
    main()
