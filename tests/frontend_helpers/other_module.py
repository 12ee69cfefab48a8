"""User helpers in a module of their own: kiln converts them as it converts the caller."""
import kiln.numpy as jnp

OFFSET = 0.5


def scaled_tanh(x, scale=2.0):
    return jnp.tanh(x) * scale + OFFSET


def bad_shapes(x):
    return x + x.T


def apply_to_rows(fn, x):
    return jnp.stack([fn(row) for row in x])


def make_affine(w, b):
    def affine(x):
        return x @ w + b
    return affine
