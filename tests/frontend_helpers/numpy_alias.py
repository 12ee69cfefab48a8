"""User code that imports kiln under JAX's and NumPy's names, as ported code does."""
import kiln as jax
import kiln.numpy as np

EPS = 1e-3


def normalise(x):
    return (x - np.mean(x)) / np.sqrt(np.var(x) + EPS)


@jax.jit
def jitted_normalise(x):
    return normalise(x)
