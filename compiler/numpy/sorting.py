"""Sorting of kiln.numpy: sort, argsort (stable, NaNs last, as NumPy), lexsort, partition,
argpartition, sort_complex."""
from __future__ import annotations

import numpy as np

from kiln import lax
from kiln.numpy.core import asarray, canonical_axis, cast, reshape_to
from kiln.runtime import dtypes


def sort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    a = asarray(a)
    if axis is None:
        a, axis = reshape_to(a, (a.size,)), 0
    axis = canonical_axis(axis, a.ndim)
    out = lax.sort(a, dimension=axis)
    return lax.rev(out, (axis,)) if descending else out


def argsort(a, axis=-1, *, kind=None, order=None, stable=True, descending=False):
    a = asarray(a)
    if axis is None:
        a, axis = reshape_to(a, (a.size,)), 0
    axis = canonical_axis(axis, a.ndim)
    index = lax.broadcasted_iota(dtypes.default_int_dtype(), a.shape, axis)
    if descending:
        # Stable descending order: sort the reversed array, then map indices back.
        flipped = lax.rev(a, (axis,))
        _, idx = lax.sort((flipped, index), dimension=axis, num_keys=1)
        return lax.rev(a.shape[axis] - 1 - idx, (axis,))
    _, idx = lax.sort((a, index), dimension=axis, num_keys=1)
    return idx


def lexsort(keys, axis=-1):
    keys = tuple(asarray(k) for k in keys)
    if not keys:
        raise TypeError("need sequence of keys with len > 0 in lexsort")
    if len({k.shape for k in keys}) > 1:
        raise ValueError("all keys need to be the same shape")
    if keys[0].ndim == 0:
        return cast(0, dtypes.default_int_dtype())
    axis = canonical_axis(axis, keys[0].ndim)
    index = lax.broadcasted_iota(_index_dtype(keys[0].shape[axis]), keys[0].shape, axis)
    return lax.sort((*keys[::-1], index), dimension=axis, num_keys=len(keys))[-1]


def _index_dtype(n):
    return np.dtype(np.int64) if n > np.iinfo(np.int32).max else dtypes.default_int_dtype()


def partition(a, kth, axis=-1):
    """JAX's layout (from two top_k): the kth+1 smallest ascending, then the rest descending."""
    a = asarray(a)
    if a.dtype.kind == "c":
        raise NotImplementedError("jnp.partition for complex dtype is not implemented.")
    axis = canonical_axis(axis, a.ndim)
    kth = canonical_axis(kth, a.shape[axis])
    s = moveaxis_last(sort(a, axis=axis), axis)
    out = lax.concatenate([s[..., :kth + 1], lax.rev(s[..., kth + 1:], (s.ndim - 1,))], s.ndim - 1)
    return moveaxis_last(out, axis, back=True)


def argpartition(a, kth, axis=-1):
    """JAX's layout: the indices of the kth+1 smallest by value, then the others in index order."""
    a = asarray(a)
    if a.dtype.kind == "c":
        raise NotImplementedError("jnp.argpartition for complex dtype is not implemented.")
    axis = canonical_axis(axis, a.ndim)
    kth = canonical_axis(kth, a.shape[axis])
    order = moveaxis_last(argsort(a, axis=axis), axis)
    top = lax.sort(order[..., kth + 1:], dimension=order.ndim - 1)
    out = lax.concatenate([order[..., :kth + 1], top], order.ndim - 1)
    return cast(moveaxis_last(out, axis, back=True), np.dtype(np.int32))


def moveaxis_last(a, axis, back=False):
    from kiln.numpy.shapes import moveaxis
    return moveaxis(a, -1, axis) if back else moveaxis(a, axis, -1)


def sort_complex(a):
    a = sort(a)
    real = dtypes.to_inexact_dtype(a.dtype)
    complex_dtype = real if real.kind == "c" else np.dtype(np.complex128 if real.itemsize == 8 else np.complex64)
    return cast(a, dtypes.canonicalize_dtype(complex_dtype))
