"""Transcendentals over 4M elements: kiln's LLVM backend against NumPy and jax.jit.

Run: python benchmarks/vector_math.py [--repeats 10] [--only expm1,exp]
Each cell is the best of `repeats` calls after a warm-up call (the machine may be shared:
the minimum is the least noisy figure). kiln splits kernels this large across
KILN_NUM_THREADS threads (default: the cores this process may use); NumPy uses one thread.
Ratios are kiln-llvm / jax.jit.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import kiln
import kiln.numpy as knp
from kiln.backends.llvm import parallel

sys.path.insert(0, os.path.dirname(__file__))
from llvm_backend import best  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
except ImportError:  # the table has no jax column then
    jax = jnp = None

N = 4_000_000


def _inputs(rng, lo, hi, dtype, count=1):
    return tuple(rng.uniform(lo, hi, N).astype(dtype) for _ in range(count))


# NumPy function name (also knp's and jnp's), domain, operand count
CASES = [("expm1", (-5, 5), 1), ("exp", (-50, 50), 1), ("tanh", (-5, 5), 1), ("sin", (-100, 100), 1),
         ("cos", (-100, 100), 1), ("tan", (-10, 10), 1), ("sinh", (-5, 5), 1), ("cosh", (-5, 5), 1),
         ("arctan", (-5, 5), 1), ("arctan2", (-5, 5), 2), ("exp2", (-50, 50), 1), ("cbrt", (-50, 50), 1),
         ("arcsinh", (-50, 50), 1), ("arccosh", (1, 50), 1), ("arctanh", (-0.99, 0.99), 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--only", default="", help="comma-separated case names")
    args = parser.parse_args()
    only = {s for s in args.only.split(",") if s}
    kiln.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    print(f"{N // 1_000_000}M elements; best of {args.repeats}; kiln threads: {parallel.threads()}")
    print(f"{'case':<18} {'numpy':>10} {'kiln llvm':>10} {'jax.jit':>10} {'llvm/jax':>9}")
    for name, (lo, hi), count in CASES:
        if only and name not in only:
            continue
        for dtype in (np.float32, np.float64):
            xs = _inputs(rng, lo, hi, dtype, count)
            t_np = best(getattr(np, name), *xs, repeats=args.repeats, block=lambda v: v)
            t_kiln = best(kiln.jit(getattr(knp, name)), *xs, repeats=args.repeats, block=kiln.block_until_ready)
            t_jax = None
            if jax is not None:
                jxs = tuple(jnp.asarray(x) for x in xs)
                t_jax = best(jax.jit(getattr(jnp, name)), *jxs, repeats=args.repeats, block=jax.block_until_ready)
            ratio = f"{t_kiln / t_jax:8.2f}x" if t_jax else "-"
            ms = lambda t: "-" if t is None else f"{t * 1e3:7.2f} ms"
            label = f"{name} {np.dtype(dtype).name.replace('float', 'f')}"
            print(f"{label:<18} {ms(t_np):>10} {ms(t_kiln):>10} {ms(t_jax):>10} {ratio:>9}", flush=True)


if __name__ == "__main__":
    main()
