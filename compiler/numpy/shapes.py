"""Shape manipulation of kiln.numpy: reshape, transpose, stack, split, tile, roll, take, ..."""
from __future__ import annotations

import builtins

import numpy as np

from kiln import lax
from kiln.numpy.core import (asarray, broadcast_to, canonical_axes, canonical_axis,
                             promote, reshape_to)
from kiln.numpy.indexing import getitem


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    a = asarray(a)
    shape = newshape if shape is None else shape
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = [int(d) for d in shape]
    if order not in ("C", None):
        raise NotImplementedError("kiln.numpy.reshape supports only order='C'")
    if shape.count(-1) > 1:
        raise TypeError(f"can only specify one unknown axis size with a `-1` value, got {tuple(shape)}")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        if known == 0 or a.size % known:
            raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into shape "
                            f"{tuple(shape)} because the product of specified axis sizes ({known}) "
                            f"does not evenly divide {a.size}")
        shape[shape.index(-1)] = a.size // known
    return reshape_to(a, shape)


def ravel(a, order="C"):
    a = asarray(a)
    return reshape_to(a, (a.size,))


def transpose(a, axes=None):
    a = asarray(a)
    axes = tuple(range(a.ndim))[::-1] if axes is None else tuple(canonical_axis(int(x), a.ndim) for x in axes)
    if axes == tuple(range(a.ndim)):
        return a
    return lax.transpose(a, axes)


def permute_dims(a, axes):
    return transpose(a, axes)


def matrix_transpose(x):
    x = asarray(x)
    return swapaxes(x, -1, -2)


def moveaxis(a, source, destination):
    a = asarray(a)
    src = canonical_axes(source, a.ndim)
    dst = canonical_axes(destination, a.ndim)
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def swapaxes(a, axis1, axis2):
    a = asarray(a)
    perm = list(range(a.ndim))
    i, j = canonical_axis(axis1, a.ndim), canonical_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def squeeze(a, axis=None):
    a = asarray(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = canonical_axes(axis, a.ndim)
        for i in axes:
            if a.shape[i] != 1:
                raise ValueError("cannot select an axis to squeeze out which has size not equal to one")
    return reshape_to(a, tuple(d for i, d in enumerate(a.shape) if i not in axes))


def expand_dims(a, axis):
    a = asarray(a)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out_ndim = a.ndim + len(axes)
    axes = sorted(canonical_axis(int(x), out_ndim) for x in axes)
    shape = list(a.shape)
    for x in axes:
        shape.insert(x, 1)
    return reshape_to(a, shape)


def atleast_1d(*arys):
    out = [reshape_to(asarray(a), (1,)) if asarray(a).ndim == 0 else asarray(a) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = []
    for a in arys:
        a = asarray(a)
        out.append(reshape_to(a, (1,) * (2 - a.ndim) + a.shape) if a.ndim < 2 else a)
    return out[0] if len(out) == 1 else out


def concatenate(arrays, axis=0, dtype=None):
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    if arrays[0].ndim == 0:
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    arrays = promote(*arrays)
    if dtype is not None:
        arrays = [a.astype(dtype) for a in arrays]
    axis = canonical_axis(axis, arrays[0].ndim)
    if len(arrays) == 1:
        return arrays[0]
    return lax.concatenate(arrays, axis)


concat = concatenate


def stack(arrays, axis=0, dtype=None):
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to stack")
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise ValueError("all input arrays must have the same shape")
    axis = canonical_axis(axis, arrays[0].ndim + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis, dtype)


def hstack(tup, dtype=None):
    arrays = [atleast_1d(a) for a in tup]
    return concatenate(arrays, 0 if arrays[0].ndim == 1 else 1, dtype)


def vstack(tup, dtype=None):
    return concatenate([atleast_2d(a) for a in tup], 0, dtype)


def column_stack(tup):
    arrays = [asarray(a) for a in tup]
    return concatenate([reshape_to(a, (a.size, 1)) if a.ndim < 2 else a for a in arrays], 1)


def split(ary, indices_or_sections, axis=0):
    ary = asarray(ary)
    axis = canonical_axis(axis, ary.ndim)
    n = ary.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ValueError("array split does not result in an equal division")
        bounds = [i * (n // sections) for i in range(sections + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
        sizes = [hi - lo for lo, hi in zip(bounds[:-1], bounds[1:])]
        if builtins.min(sizes) < 0:  # JAX does not clip the split points as NumPy does
            raise ValueError(f"Sizes passed to split must be nonnegative, got {sizes}")
    return [_axis_slice(ary, axis, lo, builtins.max(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def array_split(ary, indices_or_sections, axis=0):
    ary = asarray(ary)
    if isinstance(indices_or_sections, (int, np.integer)):
        n, sections = ary.shape[canonical_axis(axis, ary.ndim)], int(indices_or_sections)
        each, extra = divmod(n, sections)
        sizes = [each + 1] * extra + [each] * (sections - extra)
        return split(ary, np.cumsum(sizes)[:-1].tolist(), axis)
    return split(ary, indices_or_sections, axis)


def _axis_slice(a, axis, lo, hi):
    index = [slice(None)] * a.ndim
    index[axis] = slice(lo, hi)
    return getitem(a, tuple(index))


def tile(A, reps):
    A = asarray(A)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    ndim = builtins.max(A.ndim, len(reps))
    reps = (1,) * (ndim - len(reps)) + reps
    A = reshape_to(A, (1,) * (ndim - A.ndim) + A.shape)
    # Broadcast to (r0, d0, r1, d1, ...) and merge each pair.
    expanded = reshape_to(A, tuple(x for d in A.shape for x in (1, d)))
    target = tuple(x for r, d in zip(reps, A.shape) for x in (r, d))
    return reshape_to(broadcast_to(expanded, target), tuple(r * d for r, d in zip(reps, A.shape)))


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    if isinstance(repeats, (list, tuple)):
        raise TypeError(f"repeat requires ndarray or scalar arguments, got {type(repeats)} at position 1.")
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canonical_axis(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(repeats, (int, np.integer)) and total_repeat_length in (None, n * int(repeats)):
        r = int(repeats)
        moved = moveaxis(a, axis, -1)
        out = reshape_to(broadcast_to(reshape_to(moved, moved.shape + (1,)), moved.shape + (r,)),
                         moved.shape[:-1] + (n * r,))
        return moveaxis(out, -1, axis)
    repeats = asarray(repeats)
    from kiln.staging import Staged
    if isinstance(repeats, Staged) and total_repeat_length is None:
        from kiln.errors import ConcretizationTypeError
        from kiln.staging import user_location
        raise ConcretizationTypeError(
            "kiln.numpy.repeat with array `repeats` inside a compiled function needs a static "
            "total_repeat_length: the result's shape would otherwise depend on the data",
            user_location())
    if total_repeat_length is None:
        counts = np.broadcast_to(np.asarray(repeats), (n,))
        total_repeat_length = int(counts.sum())
    # Output position j takes input index searchsorted(cumsum(repeats), j, 'right').
    from kiln.numpy.reductions import cumsum
    from kiln.numpy.creation import arange
    from kiln.numpy import math as m
    ends = cumsum(broadcast_to(repeats, (n,)))
    positions = arange(total_repeat_length)
    index = _count_le(ends, positions)
    index = m.minimum(index, n - 1)
    return take(a, index, axis=axis)


def _count_le(ends, positions):
    from kiln.numpy import math as m
    from kiln.numpy.reductions import sum
    return sum(m.less_equal(reshape_to(ends, (1,) + ends.shape), reshape_to(positions, positions.shape + (1,))),
               axis=1).astype(ends.dtype)


def flip(m, axis=None):
    m = asarray(m)
    axes = canonical_axes(axis, m.ndim)
    return lax.rev(m, axes) if axes else m


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    a = asarray(a)
    if axis is None:
        return reshape_to(roll(ravel(a), shift, 0), a.shape)
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    if len(shifts) == 1 and len(axes) > 1:
        shifts = shifts * len(axes)
    for s, ax in zip(shifts, axes):
        ax = canonical_axis(ax, a.ndim)
        n = a.shape[ax]
        if n == 0:
            continue
        s = int(s) % n
        if s:
            a = concatenate([_axis_slice(a, ax, n - s, n), _axis_slice(a, ax, 0, n - s)], ax)
    return a


def take(a, indices, axis=None, mode=None, fill_value=None, unique_indices=False, indices_are_sorted=False):
    a = asarray(a)
    if axis is None:
        a, axis = ravel(a), 0
    axis = canonical_axis(axis, a.ndim)
    index = tuple(indices if i == axis else slice(None) for i in range(a.ndim))
    return _gather(a, index, mode, fill_value)


def _gather(a, index, mode, fill_value):
    """take's indexing: out-of-bounds indices read `fill_value` unless `mode` says otherwise."""
    for i in index:
        if not isinstance(i, slice) and asarray(i).dtype.kind not in "iu":
            raise ValueError("indices must have an integer type")
    index = tuple(asarray(i) if not isinstance(i, slice) else i for i in index)
    return getitem(a, index, "fill" if mode is None else mode, fill_value)


def take_along_axis(arr, indices, axis, mode=None, fill_value=None):
    arr, indices = asarray(arr), asarray(indices)
    if axis is None:
        arr, axis = ravel(arr), 0
    axis = canonical_axis(axis, arr.ndim)
    if indices.ndim != arr.ndim:
        raise ValueError("indices and arr must have the same number of dimensions; "
                         f"{indices.ndim} vs. {arr.ndim}")
    # The other axes broadcast against each other; each is then indexed by a ramp.
    shape = [builtins.max(a, i) if a == 1 or i == 1 else a for a, i in zip(arr.shape, indices.shape)]
    arr = broadcast_to(arr, tuple(d if k != axis else arr.shape[axis] for k, d in enumerate(shape)))
    indices = broadcast_to(indices, tuple(d if k != axis else indices.shape[axis] for k, d in enumerate(shape)))
    from kiln.numpy.creation import arange
    index = [indices if k == axis else reshape_to(arange(d), [d if j == k else 1 for j in range(arr.ndim)])
             for k, d in enumerate(shape)]
    return _gather(arr, tuple(index), mode, fill_value)


def diagonal(a, offset=0, axis1=0, axis2=1):
    a = asarray(a)
    a = moveaxis(a, (axis1, axis2), (-2, -1))
    n, m_ = a.shape[-2], a.shape[-1]
    from kiln.numpy.creation import arange
    length = builtins.max(0, builtins.min(n, m_ - offset) if offset >= 0 else builtins.min(n + offset, m_))
    rows = arange(length) + builtins.max(-offset, 0)
    cols = arange(length) + builtins.max(offset, 0)
    return getitem(a, (Ellipsis, rows, cols))


def trace(a, offset=0, axis1=0, axis2=1):
    from kiln.numpy.reductions import sum
    return sum(diagonal(a, offset, axis1, axis2), axis=-1)


def tril(m, k=0):
    from kiln.numpy.creation import tri
    m = asarray(m)
    from kiln.numpy.core import where
    return where(tri(m.shape[-2], m.shape[-1], k, dtype=bool), m, 0)


def triu(m, k=0):
    from kiln.numpy.creation import tri
    m = asarray(m)
    from kiln.numpy.core import where
    return where(tri(m.shape[-2], m.shape[-1], k - 1, dtype=bool), 0, m)

