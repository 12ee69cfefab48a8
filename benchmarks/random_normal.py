"""random.normal of 10M float32 values inside a compiled function: kiln.jit vs jax.jit.

Run: python benchmarks/random_normal.py [n]. Prints the best of a few timed calls (after one
warm-up call that compiles), and checks that both draw the same values (to float32 rounding
of XLA's CPU log1p; see kiln.random's docstring).
"""
import sys
import time

import numpy as np

import kiln
from kiln import random

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000


def sample(k):
    return random.normal(k, (N,))


def best_of(fn, arg, repeat=3):
    fn(arg).block_until_ready()  # compile / warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(arg).block_until_ready()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    kiln_fn = kiln.jit(sample)
    t_kiln = best_of(kiln_fn, random.key(0))
    print(f"kiln.jit random.normal({N:,} float32): {t_kiln * 1e3:9.1f} ms")
    try:
        import jax
    except ImportError:
        print("jax is not installed: no comparison")
        return
    jax_fn = jax.jit(lambda k: jax.random.normal(k, (N,)))
    t_jax = best_of(jax_fn, jax.random.key(0))
    print(f"jax.jit  random.normal({N:,} float32): {t_jax * 1e3:9.1f} ms")
    print(f"kiln / jax: {t_kiln / t_jax:.1f}x")
    a, b = np.asarray(kiln_fn(random.key(0))), np.asarray(jax_fn(jax.random.key(0)))
    print(f"identical values: {np.mean(a == b) * 100:.3f}%  max |diff|: {np.max(np.abs(a - b)):.3g}")


if __name__ == "__main__":
    main()
