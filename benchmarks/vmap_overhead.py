"""vmap against hand-batched code on the same backend (the control-flow-and-vmap issue's goals:
vmap(apply_matrix) within 1.2x of the batched dot; a vmapped per-example gradient within 1.5x
of the hand-batched gradient).

Run: [KILN_BACKEND=llvm] python benchmarks/vmap_overhead.py
"""
from __future__ import annotations

import time

import numpy as np

import kiln
from kiln.api import default_backend
import kiln.numpy as jnp

rng = np.random.default_rng(1701)
mat = rng.standard_normal((150, 100)).astype(np.float32)
batched_x = rng.standard_normal((512, 100)).astype(np.float32)
w = rng.standard_normal(100).astype(np.float32)
ys = rng.standard_normal(512).astype(np.float32)


def apply_matrix(x):
    return jnp.dot(mat, x)


def batched_apply_matrix(xs):
    return jnp.dot(xs, mat.T)


def example_loss(w, x, y):
    return (jnp.tanh(jnp.dot(x, w)) - y) ** 2


def hand_batched_grads(w, xs, ys):
    # d/dw (tanh(x.w) - y)^2 for every row, written by hand
    z = jnp.tanh(xs @ w)
    return (2 * (z - ys) * (1 - z * z))[:, None] * xs


def best_of(fn, *args, repeats=50):
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        kiln.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    vmapped = kiln.jit(kiln.vmap(apply_matrix))
    by_hand = kiln.jit(batched_apply_matrix)
    np.testing.assert_allclose(vmapped(batched_x), by_hand(batched_x), rtol=1e-4, atol=1e-4)
    per_example = kiln.jit(kiln.vmap(kiln.grad(example_loss), in_axes=(None, 0, 0)))
    hand = kiln.jit(hand_batched_grads)
    np.testing.assert_allclose(per_example(w, batched_x, ys), hand(w, batched_x, ys), rtol=1e-3, atol=1e-3)
    print(f"backend: {default_backend()} (KILN_BACKEND); best of 50 runs; batch of 512")
    print(f"{'case':<36} {'vmap us':>10} {'by hand us':>11} {'ratio':>7}")
    for name, a, b, args in [("vmap(apply_matrix) vs batched dot", vmapped, by_hand, (batched_x,)),
                             ("vmap(grad(loss)) vs hand gradient", per_example, hand, (w, batched_x, ys))]:
        t_a, t_b = best_of(a, *args), best_of(b, *args)
        print(f"{name:<36} {t_a * 1e6:>10.1f} {t_b * 1e6:>11.1f} {t_a / t_b:>6.2f}x")


if __name__ == "__main__":
    main()
