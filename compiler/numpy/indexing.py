"""Indexing: `x[idx]` and the functional updates `x.at[idx].set(v)` and friends.

An index is normalised once (`_parse`): static slices, None and Ellipsis, static ints and
integer arrays. Without arrays, a read is `slice` + `rev` + `reshape`; with arrays it is one
`gather`, and every update is one `scatter`. Boolean masks are only possible eagerly (the
result's shape depends on the data), as in JAX.
"""
from __future__ import annotations

import numpy as np

from kiln import lax
from kiln.lax.indexing import gather_p, indexed_shape, scatter_p
from kiln.numpy.core import asarray, broadcast_to, cast, is_array, reshape_to
from kiln.errors import NonConcreteBooleanIndexError
from kiln.primitives import aval_of, bind
from kiln.runtime.array import Array
from kiln.staging import Staged


def _expand(index, ndim):
    """The index as a tuple with Ellipsis expanded and boolean masks made integer arrays."""
    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, (list,)) or (isinstance(item, np.ndarray)):
            item = asarray(item)
        if is_array(item) and aval_of(item).dtype == np.bool_:
            if isinstance(item, Staged):
                raise NonConcreteBooleanIndexError(
                    f"Array boolean indices must be concrete; got {item.aval.str_short()}. The result's "
                    "shape would depend on the data; use kiln.numpy.where(mask, x, 0) instead")
            out.extend(Array(np.asarray(i, dtype=np.int32)) for i in np.nonzero(item._value))
            continue
        if isinstance(item, (bool, np.bool_)):
            raise IndexError("kiln does not support indexing with a Python bool")
        out.append(item)
    used = sum(1 for i in out if i is not None and i is not Ellipsis)
    if used > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {used} were indexed")
    ellipses = [k for k, i in enumerate(out) if i is Ellipsis]  # `is`: arrays compare elementwise
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    if ellipses:
        at = ellipses[0]
        out[at:at + 1] = [slice(None)] * (ndim - used)
    else:
        out.extend([slice(None)] * (ndim - used))
    return out


def _parse(index, shape):
    """(spec, arrays) for the gather/scatter primitives, and whether any array is involved."""
    spec, arrays, axis = [], [], 0
    for item in _expand(index, len(shape)):
        if item is None:
            spec.append(("none",))
            continue
        dim = shape[axis]
        if isinstance(item, slice):
            start, stop, step = (None if v is None else _static_int(v) for v in (item.start, item.stop, item.step))
            start, stop, step = slice(start, stop, step).indices(dim)
            spec.append(("slice", start, None if stop < 0 else stop, step))
        elif is_array(item):
            if aval_of(item).dtype.kind not in "iu":
                raise IndexError(f"arrays used as indices must be of integer type, got {aval_of(item).dtype}")
            spec.append(("array", len(arrays)))
            arrays.append(item)
        else:
            i = _static_int(item)
            if not -dim <= i < dim:
                raise IndexError(f"index {i} is out of bounds for axis {axis} with size {dim}")
            spec.append(("int", i % dim))
        axis += 1
    return tuple(spec), arrays


def _static_int(v):
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, Array) and v.ndim == 0 and v.dtype.kind in "iu":
        return int(v)
    raise TypeError(f"indices must be integers, slices, None, Ellipsis or integer arrays, got {v!r}")


def getitem(x, index):
    x = asarray(x)
    spec, arrays = _parse(index, x.shape)
    if arrays:
        return bind(gather_p, x, *arrays, spec=spec, mode="clip")
    return _basic(x, spec)


def _basic(x, spec):
    starts, limits, strides, flips, shape = [], [], [], [], []
    axis = 0
    for entry in spec:
        if entry[0] == "none":
            shape.append(1)
            continue
        dim = x.shape[axis]
        if entry[0] == "int":
            starts.append(entry[1]), limits.append(entry[1] + 1), strides.append(1)
        else:
            start, stop, step = entry[1:]
            if step > 0:
                stop = start if stop is not None and stop < start else stop
                n = len(range(start, stop if stop is not None else -1, step))
                starts.append(start), limits.append(start + (n - 1) * step + 1 if n else start), strides.append(step)
            else:
                n = len(range(start, stop if stop is not None else -1, step))
                last = start + (n - 1) * step if n else start
                starts.append(last if n else 0), limits.append(start + 1 if n else 0), strides.append(-step)
                flips.append(axis)
            shape.append(n)
        axis += 1
    out = x
    if any(s != 0 for s in starts) or any(l != d for l, d in zip(limits, x.shape)) or any(s != 1 for s in strides):
        out = lax.slice(out, starts, limits, strides)
    if flips:
        out = lax.rev(out, flips)
    if tuple(shape) != out.shape:
        out = reshape_to(out, shape)
    return out


# ---------------------------------------------------------------------------- updates

def scatter(x, index, values, mode: str):
    x = asarray(x)
    spec, arrays = _parse(index, x.shape)
    target_shape = indexed_shape("scatter", aval_of(x), [aval_of(a) for a in arrays], spec)
    values = broadcast_to(cast(values, x.dtype, x.weak_type and aval_of(values).weak_type), target_shape)
    return bind(scatter_p, x, values, *arrays, spec=spec, mode=mode)


class _IndexUpdateRef:
    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def get(self, *, mode=None, fill_value=None, indices_are_sorted=False, unique_indices=False):
        return getitem(self.array, self.index)

    def set(self, values, **_):
        return scatter(self.array, self.index, values, "set")

    def add(self, values, **_):
        return scatter(self.array, self.index, values, "add")

    def multiply(self, values, **_):
        return scatter(self.array, self.index, values, "mul")

    mul = multiply

    def divide(self, values, **_):
        return self.set(getitem(self.array, self.index) / values)

    def power(self, values, **_):
        return self.set(getitem(self.array, self.index) ** values)

    def min(self, values, **_):
        return scatter(self.array, self.index, values, "min")

    def max(self, values, **_):
        return scatter(self.array, self.index, values, "max")

    def apply(self, func, **_):
        return self.set(func(getitem(self.array, self.index)))


class _IndexUpdateHelper:
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


def nonzero(a, *, size=None, fill_value=None):
    a = asarray(a)
    if isinstance(a, Staged):
        if size is None:
            raise NonConcreteBooleanIndexError(
                "kiln.numpy.nonzero inside a compiled function needs a static `size=`: its result's "
                "shape would otherwise depend on the data")
        raise NotImplementedError("kiln.numpy.nonzero with size= inside compiled functions is not "
                                  "implemented yet")
    found = np.nonzero(a._value)
    if size is not None:
        fill = 0 if fill_value is None else fill_value
        found = tuple(np.concatenate([f[:size], np.full(max(size - len(f), 0), fill, f.dtype)]) for f in found)
    return tuple(Array(np.asarray(f, dtype=np.int32)) for f in found)
