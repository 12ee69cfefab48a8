"""Set operations of kiln.numpy: isin and unique (with the array API's unique_* forms).

unique sorts (lexicographically along `axis`), marks where each run of equal entries starts and
gathers those: eagerly the result has as many entries as there are distinct ones; inside a
compiled function a static `size=` is needed, the result padded with `fill_value` (the smallest
entry by default), as in JAX.
"""
from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from kiln.numpy import math as m
from kiln.numpy import reductions as r
from kiln.numpy.core import asarray, canonical_axis, cast, promote, reshape_to, where
from kiln.staging import Staged

UNIQUE_SIZE_HINT = ("When jit-compiling jnp.unique or related functions, the size argument must be "
                    "specified.")


def isin(element, test_elements, assume_unique=False, invert=False, *, method="auto"):
    element, test_elements = asarray(element), asarray(test_elements)
    shape = element.shape
    a, b = promote(element, test_elements)
    a, b = reshape_to(a, (a.size,)), reshape_to(b, (b.size,))
    if method not in ("auto", "compare_all", "binary_search", "sort"):
        raise ValueError(f"method={method!r} is not implemented; options are 'compare_all', "
                         "'binary_search', 'sort', and 'auto'")
    if a.size == 0 or b.size == 0:
        from kiln.numpy.creation import full
        return full(shape, bool(invert), dtype=bool)
    if invert:
        found = r.all(m.not_equal(a[:, None], b[None, :]), axis=-1)
    else:
        found = r.any(m.equal(a[:, None], b[None, :]), axis=-1)
    return reshape_to(found, shape)


def _sorted_mask(ar, axis, equal_nan):
    """The entries along `axis` sorted, where each new value starts, and the sorting permutation."""
    from kiln.numpy.creation import ones, zeros
    from kiln.numpy.shapes import moveaxis
    from kiln.numpy.sorting import lexsort
    aux = moveaxis(ar, axis, 0)
    if aux.dtype.kind == "c":
        aux = where(m.isnan(aux), cast(np.nan, aux.dtype), aux)
    size, rest = aux.shape[0], aux.shape[1:]
    if int(np.prod(rest, dtype=np.int64)) == 0:
        size, perm = 1, zeros(1, dtype=int)
    else:
        flat = reshape_to(aux, (size, int(np.prod(rest, dtype=np.int64))))
        perm = lexsort([flat[:, j] for j in range(flat.shape[1] - 1, -1, -1)])
    aux = aux[perm]
    if not aux.size:
        return aux, zeros(size, dtype=bool), perm
    if aux.dtype.kind in "fc" and equal_nan:
        def differ(x, y):
            return m.logical_and(m.not_equal(x, y), m.logical_not(m.logical_and(m.isnan(x), m.isnan(y))))
    else:
        differ = m.not_equal
    starts = r.any(differ(aux[1:], aux[:-1]), tuple(range(1, aux.ndim)))
    return aux, ones(size, dtype=bool).at[1:].set(starts), perm


def _unique(ar, axis, return_index, return_inverse, return_counts, equal_nan, size, fill_value):
    from kiln.numpy.creation import arange, empty, full, full_like, zeros
    from kiln.numpy.editing import append, diff
    from kiln.numpy.indexing import nonzero
    from kiln.numpy.shapes import expand_dims, moveaxis
    if ar.shape[axis] == 0 and size and fill_value is None:
        raise ValueError("jnp.unique: for zero-sized input with nonzero size argument, fill_value must be "
                         "specified")
    aux, mask, perm = _sorted_mask(ar, axis, equal_nan)
    index = nonzero(mask, size=size)[0]
    result = aux[index] if aux.size else aux
    if size is not None and fill_value is not None:
        fill = cast(asarray(fill_value), result.dtype)
        if result.shape[0]:
            valid = expand_dims(m.less(arange(size), r.sum(mask)), tuple(range(1, result.ndim)))
            result = where(valid, result, fill)
        else:
            result = full_like(result, fill, shape=(size,) + result.shape[1:])
    ret = (moveaxis(result, 0, axis),)
    if return_index:
        ret += (perm[index] if aux.size else perm,)
    if return_inverse:
        if aux.size:
            inverse = zeros(mask.shape, dtype=int).at[perm].set(m.subtract(r.cumsum(mask), 1))
        else:
            inverse = zeros(ar.shape[axis], dtype=int)
        ret += (inverse,)
    if return_counts:
        if aux.size:
            if size is None:
                starts = append(nonzero(mask)[0], mask.size)
            else:
                starts = nonzero(mask, size=size + 1)[0]
                starts = starts.at[1:].set(where(starts[1:], starts[1:], mask.size))
            ret += (diff(starts),)
        elif ar.shape[axis]:
            ret += (full((1,), ar.shape[axis], dtype=int),)
        else:
            ret += (empty(0, dtype=int),)
    return ret[0] if len(ret) == 1 else ret


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *, equal_nan=True,
           size=None, fill_value=None, sorted=True):
    arr = asarray(ar)
    if size is None:
        if isinstance(arr, Staged):
            from kiln.errors import ConcretizationTypeError
            from kiln.staging import user_location
            raise ConcretizationTypeError("The error arose for the first argument of jnp.unique(). "
                                          + UNIQUE_SIZE_HINT, user_location())
    else:
        size = operator.index(size)
    shape = arr.shape
    if axis is None:
        arr, axis_ = reshape_to(arr, (arr.size,)), 0
    else:
        axis_ = canonical_axis(axis, arr.ndim)
    result = _unique(arr, axis_, return_index, return_inverse, return_counts, equal_nan, size, fill_value)
    if return_inverse and axis is None:
        k = 2 if return_index else 1
        result = (*result[:k], reshape_to(result[k], shape), *result[k + 1:])
    return result


class UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


def unique_all(x, /, *, size=None, fill_value=None):
    return UniqueAllResult(*unique(x, return_index=True, return_inverse=True, return_counts=True,
                                   equal_nan=False, size=size, fill_value=fill_value))


def unique_counts(x, /, *, size=None, fill_value=None):
    return UniqueCountsResult(*unique(x, return_counts=True, equal_nan=False, size=size, fill_value=fill_value))


def unique_inverse(x, /, *, size=None, fill_value=None):
    return UniqueInverseResult(*unique(x, return_inverse=True, equal_nan=False, size=size,
                                       fill_value=fill_value))


def unique_values(x, /, *, size=None, fill_value=None):
    return unique(x, equal_nan=False, size=size, fill_value=fill_value)
