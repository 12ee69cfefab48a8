"""The LLVM backend against NumPy, kiln's reference backend and (when installed) jax.jit,
measured in the same run (the LLVM backend issue's table).

Run: python benchmarks/llvm_backend.py [--repeats 20]
Each row: the best time of `repeats` calls after a warm-up call (the first call, compile
included, is its own row for the MLP step). Dispatch is the mean of 20,000 back-to-back calls
(best of `repeats // 4` such loops) on each library's own arrays, as a training loop passes
them. Ratios are kiln-llvm / jax.jit.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import kiln
import kiln.numpy as knp
from kiln.backends.llvm import engine
from kiln.scipy.special import logsumexp as k_logsumexp

try:
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp as j_logsumexp
except ImportError:  # the table has no jax column then
    jax = None


def chain(np_):
    def f(x):
        return np_.tanh(np_.sin(x) * np_.exp(-x))
    return f


def small(x, y):
    return x * y + 1.0


def mlp_loss(np_):
    def loss(params, x, y):
        h = np_.tanh(x @ params["w1"] + params["b1"])
        logits = h @ params["w2"] + params["b2"]
        return np_.mean((logits - y) ** 2)
    return loss


def sgd_step(grad_fn):
    def step(params, x, y):
        loss, grads = grad_fn(params, x, y)
        return loss, {k: params[k] - 0.01 * grads[k] for k in params}
    return step


def best(fn, *args, repeats, block):
    block(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        block(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)


def per_call(fn, *args, repeats, block, calls=20_000):
    block(fn(*args))
    block(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn(*args)
        block(fn(*args))
        times.append((time.perf_counter() - start) / (calls + 1))
    return min(times)


def timed(fn, *args, block):
    """The time of one call."""
    start = time.perf_counter()
    block(fn(*args))
    return time.perf_counter() - start


def first_call(make, *args, block):
    engine.clear_cache()  # kiln keeps compiled code per process: this call must compile
    return timed(make(), *args, block=block)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=20)
    repeats = parser.parse_args().repeats
    rng = np.random.default_rng(0)
    x4m = rng.standard_normal(4_000_000).astype(np.float32)
    x1m = rng.standard_normal(1_000_000).astype(np.float32)
    a4, b4 = np.ones(4, np.float32), np.full(4, 2.0, np.float32)
    params = {"w1": (rng.standard_normal((784, 512)) * 0.05).astype(np.float32),
              "b1": np.zeros(512, np.float32),
              "w2": (rng.standard_normal((512, 10)) * 0.05).astype(np.float32),
              "b2": np.zeros(10, np.float32)}
    batch = rng.standard_normal((128, 784)).astype(np.float32)
    labels = rng.standard_normal((128, 10)).astype(np.float32)

    kb = kiln.block_until_ready
    jb = jax.block_until_ready if jax else None
    rows = []

    def row(name, numpy_fn, kiln_make, jax_make, args, first=False):
        measure = (lambda make, blk: first_call(make, *args, block=blk)) if first else \
            (lambda make, blk: best(make(), *args, repeats=repeats, block=blk))
        t_np = best(numpy_fn, *args, repeats=repeats, block=lambda v: v) if numpy_fn else None
        t_ref = measure(lambda: kiln_make("reference"), kb)
        t_llvm = measure(lambda: kiln_make("llvm"), kb)
        t_jax = measure(jax_make, jb) if jax else None
        rows.append((name, t_np, t_ref, t_llvm, t_jax))

    row("tanh(sin(x)*exp(-x)), 4M f32", chain(np), lambda b: kiln.jit(chain(knp), backend=b),
        lambda: jax.jit(chain(jnp)), (x4m,))
    n = max(3, repeats // 4)
    rows.append(("dispatch: x*y+1, 4 f32",
                 per_call(small, a4, b4, repeats=n, block=lambda v: v),
                 *(per_call(kiln.jit(small, backend=b), knp.asarray(a4), knp.asarray(b4), repeats=n,
                            block=kb) for b in ("reference", "llvm")),
                 per_call(jax.jit(small), jnp.asarray(a4), jnp.asarray(b4), repeats=n, block=jb)
                 if jax else None))
    k_step = lambda b: kiln.jit(sgd_step(kiln.value_and_grad(mlp_loss(knp))), backend=b)
    j_step = lambda: jax.jit(sgd_step(jax.value_and_grad(mlp_loss(jnp))))
    row("MLP step 128x784-512-10", None, k_step, j_step, (params, batch, labels))
    row("MLP step, first call", None, k_step, j_step, (params, batch, labels), first=True)
    row("grad logsumexp, 1M f32", None, lambda b: kiln.jit(kiln.grad(k_logsumexp), backend=b),
        lambda: jax.jit(jax.grad(j_logsumexp)), (x1m,))
    # keys belong to their library, so this row is measured on its own
    normal = lambda b: kiln.jit(lambda k: kiln.random.normal(k, (10_000_000,)), backend=b)
    t_ref = best(normal("reference"), kiln.random.key(0), repeats=n, block=kb)
    t_llvm = best(normal("llvm"), kiln.random.key(0), repeats=n, block=kb)
    t_jax = best(jax.jit(lambda k: jax.random.normal(k, (10_000_000,))), jax.random.key(0),
                 repeats=n, block=jb) if jax else None
    rows.append(("random.normal 10M f32", None, t_ref, t_llvm, t_jax))

    def fmt(t):
        return "-" if t is None else (f"{t * 1e6:9.1f} us" if t < 1e-3 else f"{t * 1e3:9.2f} ms")
    print(f"{'case':<32} {'numpy':>12} {'kiln ref':>12} {'kiln llvm':>12} {'jax.jit':>12} {'llvm/jax':>9}")
    for name, t_np, t_ref, t_llvm, t_jax in rows:
        ratio = f"{t_llvm / t_jax:8.2f}x" if t_jax else "-"
        print(f"{name:<32} {fmt(t_np):>12} {fmt(t_ref):>12} {fmt(t_llvm):>12} {fmt(t_jax):>12} {ratio:>9}")


if __name__ == "__main__":
    main()
