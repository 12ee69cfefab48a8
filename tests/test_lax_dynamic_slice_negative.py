"""Negative start indices of kiln.lax.dynamic_slice / dynamic_update_slice and the *_in_dim
helpers, against JAX: a negative start counts from the end (`start + dim`), and the window is
then clamped into the array. Eagerly, under jit (static and array starts), vmap and grad.
"""
import jax
import numpy as np
import pytest

import kiln

X = np.arange(20, dtype=np.float32).reshape(4, 5)
U = -np.arange(6, dtype=np.float32).reshape(2, 3) - 1
STARTS = [(0, 0), (-1, -1), (-2, 1), (-4, -5), (-7, -12), (3, -2), (1, 7)]


@pytest.mark.parametrize("starts", STARTS)
def test_dynamic_slice_matches_jax(starts):
    want = jax.lax.dynamic_slice(X, starts, (2, 3))
    np.testing.assert_array_equal(kiln.lax.dynamic_slice(X, starts, (2, 3)), want)
    static = kiln.jit(lambda x: kiln.lax.dynamic_slice(x, starts, (2, 3)))
    np.testing.assert_array_equal(static(X), want)
    traced = kiln.jit(lambda x, i, j: kiln.lax.dynamic_slice(x, (i, j), (2, 3)))
    np.testing.assert_array_equal(traced(X, np.int32(starts[0]), np.int32(starts[1])), want)


@pytest.mark.parametrize("starts", STARTS)
def test_dynamic_update_slice_matches_jax(starts):
    want = jax.lax.dynamic_update_slice(X, U, starts)
    np.testing.assert_array_equal(kiln.lax.dynamic_update_slice(X, U, starts), want)
    traced = kiln.jit(lambda x, u, i, j: kiln.lax.dynamic_update_slice(x, u, (i, j)))
    np.testing.assert_array_equal(traced(X, U, np.int32(starts[0]), np.int32(starts[1])), want)


@pytest.mark.parametrize("index", [-1, -3, -6, 2])
def test_in_dim_helpers_match_jax(index):
    i = np.int32(index)
    for axis in (0, 1):
        np.testing.assert_array_equal(kiln.lax.dynamic_slice_in_dim(X, i, 2, axis),
                                      jax.lax.dynamic_slice_in_dim(X, i, 2, axis))
        np.testing.assert_array_equal(kiln.lax.dynamic_index_in_dim(X, i, axis, keepdims=False),
                                      jax.lax.dynamic_index_in_dim(X, i, axis, keepdims=False))
        np.testing.assert_array_equal(kiln.jit(lambda x, i: kiln.lax.dynamic_index_in_dim(x, i, axis))(X, i),
                                      jax.lax.dynamic_index_in_dim(X, i, axis))
    np.testing.assert_array_equal(kiln.lax.dynamic_update_slice_in_dim(X, U[:, :1].T, i, 0),
                                  jax.lax.dynamic_update_slice_in_dim(X, U[:, :1].T, i, 0))
    row = np.full((5,), -1.0, np.float32)
    np.testing.assert_array_equal(kiln.jit(lambda x, r, i: kiln.lax.dynamic_update_index_in_dim(x, r, i, 0))(X, row, i),
                                  jax.lax.dynamic_update_index_in_dim(X, row, i, 0))


def test_allow_negative_indices_false_matches_jax():
    # Array starts are not normalised (then clamped); a static negative start is an error.
    starts_k = (kiln.numpy.asarray(-1, dtype=np.int32), kiln.numpy.asarray(-2, dtype=np.int32))
    starts_j = (jax.numpy.asarray(-1, dtype=np.int32), jax.numpy.asarray(-2, dtype=np.int32))
    np.testing.assert_array_equal(kiln.lax.dynamic_slice(X, starts_k, (2, 2), allow_negative_indices=False),
                                  jax.lax.dynamic_slice(X, starts_j, (2, 2), allow_negative_indices=False))
    with pytest.raises(ValueError, match="out of bounds"):
        jax.lax.dynamic_slice(X, (np.int32(-1), 0), (2, 2), allow_negative_indices=False)
    with pytest.raises(ValueError, match="out of bounds"):
        kiln.lax.dynamic_slice(X, (np.int32(-1), 0), (2, 2), allow_negative_indices=False)


def test_vmap_over_negative_starts_matches_jax():
    starts = np.array([-1, -3, 0, 2, -9], np.int32)

    def kf(x, i):
        return kiln.lax.dynamic_slice(x, (i, i), (2, 2))

    def jf(x, i):
        return jax.lax.dynamic_slice(x, (i, i), (2, 2))
    np.testing.assert_array_equal(kiln.vmap(kf, in_axes=(None, 0))(X, starts), jax.vmap(jf, in_axes=(None, 0))(X, starts))

    def ku(x, i):
        return kiln.lax.dynamic_update_slice(x, U, (i, -1))

    def ju(x, i):
        return jax.lax.dynamic_update_slice(x, U, (i, -1))
    np.testing.assert_array_equal(kiln.vmap(ku, in_axes=(None, 0))(X, starts), jax.vmap(ju, in_axes=(None, 0))(X, starts))


def test_grad_through_negative_starts_matches_jax():
    w = np.linspace(-1.0, 1.0, 20, dtype=np.float32).reshape(4, 5)

    def make(lax):
        def f(x, i):
            window = lax.dynamic_slice(x, (i, -3), (2, 3))
            y = lax.dynamic_update_slice(x * x, window * 2.0, (-1, i))
            return (y * w).sum() + (window ** 3).sum()
        return f
    for i in (-1, -2, 1, -8):
        want = jax.grad(make(jax.lax))(X / 10, np.int32(i))
        np.testing.assert_allclose(kiln.grad(make(kiln.lax))(X / 10, np.int32(i)), want, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(kiln.jit(kiln.grad(make(kiln.lax)))(X / 10, np.int32(i)), want,
                                   rtol=1e-5, atol=1e-6)
