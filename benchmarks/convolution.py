"""A small CNN's training step: kiln against jax.jit.

Run: python benchmarks/convolution.py [--repeats 10] [--batch 64]
The model is MNIST-sized: 28x28x1 images (NHWC) -> conv 3x3x16 (SAME) -> relu -> max pool 2x2
-> conv 3x3x32 -> relu -> max pool 2x2 -> dense 10, cross-entropy loss, one SGD step
(value_and_grad over a dict of parameters). Rows: the first call (staging and compiling,
kiln's per-process compile cache cleared) and a step once compiled (best of `repeats`).
kiln computes a convolution as strided slices stacked per window offset and one dot_general
(`kiln/lax/convolution.py`); XLA:CPU has a direct convolution kernel.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

import kiln
import kiln.numpy as knp

sys.path.insert(0, os.path.dirname(__file__))
from llvm_backend import best, first_call, timed  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
except ImportError:  # the kiln rows still run
    jax = None


def model(lax, np_, nn):
    def loss(params, x, y):
        h = x
        for name in ("conv1", "conv2"):
            h = lax.conv_general_dilated(h, params[name], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = nn.relu(h)
            h = lax.reduce_window(h, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        logits = h.reshape(h.shape[0], -1) @ params["dense"]
        return -np_.mean(np_.sum(nn.log_softmax(logits) * y, axis=-1))
    return loss


def step_fn(lib, lax, np_, nn):
    grad_fn = lib.value_and_grad(model(lax, np_, nn))

    def step(params, x, y):
        loss, grads = grad_fn(params, x, y)
        return loss, {k: params[k] - 0.05 * grads[k] for k in params}
    return step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    params = {"conv1": rng.normal(size=(3, 3, 1, 16)).astype(np.float32) * 0.3,
              "conv2": rng.normal(size=(3, 3, 16, 32)).astype(np.float32) * 0.1,
              "dense": rng.normal(size=(7 * 7 * 32, 10)).astype(np.float32) * 0.02}
    x = rng.normal(size=(args.batch, 28, 28, 1)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, args.batch)]

    def kiln_block(out):
        return out

    rows = []
    make_kiln = lambda: kiln.jit(step_fn(kiln, kiln.lax, knp, kiln.nn))
    kiln_first = first_call(make_kiln, params, x, y, block=kiln_block)
    kiln_step = best(make_kiln(), params, x, y, repeats=args.repeats, block=kiln_block)
    jax_first = jax_step = None
    if jax is not None:
        def jax_block(out):
            return jax.block_until_ready(out)
        make_jax = lambda: jax.jit(step_fn(jax, jax.lax, jnp, jax.nn))
        jax_first = timed(make_jax(), params, x, y, block=jax_block)
        jax_step = best(make_jax(), params, x, y, repeats=args.repeats, block=jax_block)
        kiln_loss = float(make_kiln()(params, x, y)[0])
        jax_loss = float(make_jax()(params, x, y)[0])
        assert abs(kiln_loss - jax_loss) < 1e-4 * max(1.0, abs(jax_loss)), (kiln_loss, jax_loss)
    rows.append(("CNN step, first call", kiln_first, jax_first))
    rows.append(("CNN step", kiln_step, jax_step))
    print(f"{'case':32s} {'kiln llvm':>12s} {'jax.jit':>12s} {'kiln/jax':>9s}")
    for name, k, j in rows:
        ratio = f"{k / j:8.2f}x" if j else "       -"
        jtext = f"{j * 1e3:9.2f} ms" if j else "           -"
        print(f"{name:32s} {k * 1e3:9.2f} ms {jtext} {ratio}")


if __name__ == "__main__":
    main()
