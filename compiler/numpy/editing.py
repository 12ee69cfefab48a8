"""Element-editing functions of kiln.numpy: diff, ediff1d, append, insert, delete, resize,
trim_zeros (JAX's constructions; the indices that decide a result's shape are static)."""
from __future__ import annotations

import operator

import numpy as np

from kiln.numpy import math as m
from kiln.numpy.core import array, asarray, broadcast_shapes, broadcast_to, canonical_axis, reshape_to, where
from kiln.numpy.shapes import _axis_slice, concatenate, moveaxis, ravel, tile
from kiln.staging import Staged


def diff(a, n=1, axis=-1, prepend=None, append=None):
    arr = asarray(a)
    n, axis = operator.index(n), operator.index(axis)
    if n == 0:
        return arr
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    if arr.ndim == 0:
        raise ValueError(f"diff requires input that is at least one dimensional; got {a}")
    axis = canonical_axis(axis, arr.ndim)
    edge_shape = tuple(1 if i == axis else d for i, d in enumerate(arr.shape))
    def edge(extra):
        extra = asarray(extra)
        return [broadcast_to(extra, edge_shape) if extra.ndim == 0 else extra]
    combined = (edge(prepend) if prepend is not None else []) + [arr] + \
        (edge(append) if append is not None else [])
    arr = concatenate(combined, axis) if len(combined) > 1 else arr
    op = m.not_equal if arr.dtype == np.bool_ else m.subtract
    for _ in range(n):
        k = arr.shape[axis]
        arr = op(_axis_slice(arr, axis, 1, k), _axis_slice(arr, axis, 0, max(k - 1, 0)))
    return arr


def ediff1d(ary, to_end=None, to_begin=None):
    arr = ravel(ary)
    k = arr.shape[0]
    result = m.subtract(arr[1:], arr[:max(k - 1, 0)])
    if to_begin is not None:
        result = concatenate([ravel(asarray(to_begin).astype(arr.dtype)), result])
    if to_end is not None:
        result = concatenate([result, ravel(asarray(to_end).astype(arr.dtype))])
    return result


def append(arr, values, axis=None):
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], 0)
    return concatenate([arr, values], axis=axis)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    from kiln.numpy.creation import arange
    from kiln.numpy.sorting import sort
    a = asarray(arr)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canonical_axis(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(obj, (int, np.integer)) or (hasattr(obj, "__index__") and np.ndim(obj) == 0
                                             and not isinstance(obj, Staged) and asarray(obj).dtype.kind in "iu"):
        i = canonical_axis(operator.index(obj), n)
        return concatenate([_axis_slice(a, axis, 0, i), _axis_slice(a, axis, i + 1, n)], axis)
    if isinstance(obj, slice):
        obj, assume_unique_indices = np.arange(n)[obj], True
    if isinstance(obj, (list, tuple)) and not obj:
        obj = np.zeros((0,), np.int64)
    obj_dtype = asarray(obj).dtype
    if obj_dtype.kind in "iu" and assume_unique_indices:
        index = ravel(asarray(obj))
        index = m.clip(where(m.less(index, 0), m.add(index, n), index), 0, n)
        index = m.subtract(sort(index), arange(index.shape[0], dtype=index.dtype))
        keep = arange(n - index.shape[0], dtype=index.dtype)
        from kiln.numpy.reductions import sum
        keep = m.add(keep, sum(m.greater_equal(keep[None, :], index[:, None]), 0, dtype=keep.dtype))
        return a[(slice(None),) * axis + (keep,)]
    if isinstance(obj, Staged):
        from kiln.errors import ConcretizationTypeError
        from kiln.staging import user_location
        raise ConcretizationTypeError("the 'obj' array argument of jnp.delete() must be static (concrete) "
                                      "unless assume_unique_indices=True", user_location())
    obj = np.asarray(obj)
    if obj.dtype.kind in "iu":
        mask = np.ones(n, dtype=bool)
        mask[obj] = False
    elif obj.dtype == np.bool_:
        if obj.shape != (n,):
            raise ValueError("np.delete(arr, obj): for boolean indices, obj must be one-dimensional with "
                             "length matching specified axis.")
        mask = ~obj
    else:
        raise ValueError(f"np.delete(arr, obj): got obj.dtype={obj.dtype}; must be integer or bool.")
    keep = np.nonzero(mask)[0]
    return a[(slice(None),) * axis + (asarray(keep.astype(np.int32)),)]


def insert(arr, obj, values, axis=None):
    from kiln.numpy.creation import arange, full, ones, zeros_like
    from kiln.numpy.indexing import nonzero
    from kiln.numpy.sorting import argsort
    a, values = asarray(arr), asarray(values)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canonical_axis(axis, a.ndim)
    n_input = a.shape[axis]
    indices = arange(*obj.indices(n_input)) if isinstance(obj, slice) else asarray(obj)
    if indices.ndim > 1:
        raise ValueError(f"jnp.insert(): obj must be a slice, a one-dimensional array, or a scalar; got {obj}")
    if indices.dtype.kind not in "iu":
        if indices.size == 0 and not isinstance(obj, (Staged,)) and not hasattr(obj, "aval"):
            indices = indices.astype(int)
        else:
            raise ValueError(f"jnp.insert(): index array must be integer typed; got {obj}")
    values = array(values, dtype=a.dtype, ndmin=a.ndim)
    if indices.size == 1:
        index = ravel(indices)[0]
        if indices.ndim == 0:
            values = moveaxis(values, 0, axis)
        indices = full(values.shape[axis], index)
    n_insert = broadcast_shapes(indices.shape, (values.shape[axis],))[0]
    out_shape = list(a.shape)
    out_shape[axis] += n_insert
    out = zeros_like(a, shape=tuple(out_shape))
    indices = m.clip(where(m.less(indices, 0), m.add(indices, n_input), indices), 0, n_input)
    values_at = indices.at[argsort(indices)].add(arange(n_insert, dtype=indices.dtype))
    keep = ones(n_input + n_insert, dtype=bool).at[values_at].set(False)
    arr_at = nonzero(keep, size=n_input)[0]
    out = out.at[(slice(None),) * axis + (values_at,)].set(values)
    return out.at[(slice(None),) * axis + (arr_at,)].set(a)


def resize(a, new_shape):
    from kiln.numpy.creation import zeros_like
    new_shape = (operator.index(new_shape),) if np.ndim(new_shape) == 0 else tuple(operator.index(d) for d in new_shape)
    if any(d < 0 for d in new_shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    arr = ravel(a)
    size = int(np.prod(new_shape, dtype=np.int64))
    if arr.size == 0 or size == 0:
        return zeros_like(arr, shape=new_shape)
    repeats = -(-size // arr.size)
    return reshape_to(tile(arr, repeats)[:size], new_shape)


def trim_zeros(filt, trim="fb", axis=None):
    filt = asarray(filt)
    if isinstance(filt, Staged):
        from kiln.errors import ConcretizationTypeError
        from kiln.staging import user_location
        raise ConcretizationTypeError("trim_zeros needs a concrete `filt`: the result's shape depends on "
                                      "its values", user_location())
    from kiln.numpy.core import canonical_axes
    axes = set(canonical_axes(axis, filt.ndim))
    trim = trim.lower()
    if not axes or ("f" not in trim and "b" not in trim):
        return filt
    value = np.asarray(filt)
    index = []
    for ax in range(filt.ndim):
        if ax not in axes:
            index.append(slice(None))
            continue
        mask = value.any(axis=tuple(i for i in range(filt.ndim) if i != ax))
        if not mask.any():
            index.append(slice(0, 0))
            continue
        start = int(mask.argmax()) if "f" in trim else None
        stop = filt.shape[ax] - int(mask[::-1].argmax()) if "b" in trim else None
        index.append(slice(start, stop))
    return filt[tuple(index)]


__all__ = ["diff", "ediff1d", "append", "delete", "insert", "resize", "trim_zeros"]
