"""Sorting of kiln.numpy: sort, argsort (stable, NaNs last, as NumPy)."""
from __future__ import annotations

from kiln import lax
from kiln.numpy.core import asarray, canonical_axis, reshape_to
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
