"""kiln's main demo: compile JAX-style code from its source, look at the IR and the Python it runs.

Run it with `python examples/demo.py`.
"""
from functools import partial

import numpy as np

import kiln
import kiln.numpy as jnp


@kiln.jit
def selu(x, alpha=1.67, lmbda=1.05):
    return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)


def normalise_rows(X):
    X = X - X.mean(0)
    return X / X.std(0)


@partial(kiln.jit, static_argnums=1)
def smooth(signal, width: int):
    out = jnp.zeros_like(signal)
    for k in range(width):          # a static loop: unrolled while compiling
        out += jnp.roll(signal, k)
    out[0] = signal[0]              # an in-place write, made functional by the frontend
    return out / width


def main():
    x = jnp.linspace(-2.0, 2.0, 5)
    print("selu(x) =", selu(x))
    print("\nThe IR kiln staged from selu's source:")
    print(kiln.make_ir(selu)(x))
    print("\nThe readable Python the reference backend runs:")
    print(kiln.show(selu, x))

    X = jnp.asarray(np.random.default_rng(0).random((1000, 10)))
    fast = kiln.jit(normalise_rows)
    print("normalise_rows agrees with NumPy:",
          np.allclose(fast(X), (np.asarray(X) - np.asarray(X).mean(0)) / np.asarray(X).std(0), atol=1e-5))

    smoothed = smooth(jnp.arange(8.0), 3)
    print("smooth(arange(8), 3) =", smoothed)


if __name__ == "__main__":
    main()
