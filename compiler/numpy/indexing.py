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
from kiln.runtime import dtypes
from kiln.runtime.array import Array
from kiln.staging import Staged


def _expand(index, shape):
    """The index as a list with one entry per axis of `shape` (None adds one): Ellipsis
    expanded, sequences made arrays and boolean masks made integer arrays."""
    if isinstance(index, list):
        raise TypeError("Using a non-tuple sequence for multidimensional indexing is not allowed; "
                        "use `arr[array(seq)]` instead of `arr[seq]`")
    items = [_item(i) for i in (index if isinstance(index, tuple) else (index,))]
    ndim = len(shape)
    used = sum(_width(i) for i in items if i is not Ellipsis)
    if used > ndim:
        raise IndexError(f"too many indices for array: array is {ndim}-dimensional, but {used} were indexed")
    ellipses = [k for k, i in enumerate(items) if i is Ellipsis]  # `is`: arrays compare elementwise
    if len(ellipses) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    fill = [slice(None)] * (ndim - used)
    items = items[:ellipses[0]] + fill + items[ellipses[0] + 1:] if ellipses else items + fill
    out, axis = [], 0
    for item in items:
        if _is_mask(item):
            out.extend(_mask_indices(item, shape, axis))
        else:
            out.append(item)
        axis += _width(item)
    return out


def _item(item):
    if isinstance(item, (list, tuple, np.ndarray)):
        return asarray(item)
    if isinstance(item, (bool, np.bool_)):
        if not item:  # NumPy's x[False] is an empty new axis; nothing in kiln makes one yet
            raise IndexError("kiln does not support indexing with a scalar False")
        return None  # x[True] is x[None], as in NumPy and JAX
    return item


def _is_mask(item) -> bool:
    return is_array(item) and aval_of(item).dtype == np.bool_


def _width(item) -> int:
    """How many axes of the indexed array an index item consumes."""
    if item is None:
        return 0
    return aval_of(item).ndim if _is_mask(item) else 1


def _mask_indices(mask, shape, axis):
    if isinstance(mask, Staged):
        raise NonConcreteBooleanIndexError(
            f"Array boolean indices must be concrete; got {mask.aval.str_short()}. The result's "
            "shape would depend on the data; use kiln.numpy.where(mask, x, 0) instead")
    for k, size in enumerate(mask.shape):
        if shape[axis + k] != size:
            raise IndexError(f"boolean index did not match indexed array along axis {axis + k}; size of "
                             f"axis is {shape[axis + k]} but size of corresponding boolean axis is {size}")
    if mask.ndim == 0:
        if not mask:
            raise IndexError("kiln does not support indexing with a scalar False")
        return [None]
    return [Array(np.asarray(i, dtype=np.int32)) for i in np.nonzero(mask._value)]


def _parse(index, shape):
    """(spec, arrays) for the gather/scatter primitives, and whether any array is involved."""
    spec, arrays, axis = [], [], 0
    for item in _expand(index, shape):
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
                raise TypeError("Indexer must have integer or boolean type, got indexer with type "
                                f"{aval_of(item).dtype.name}")
            spec.append(("array", len(arrays)))
            arrays.append(item)
        else:
            i = _static_int(item)
            if -dim <= i < dim:
                spec.append(("int", i % dim))
            else:  # out of bounds: an index array, so reads clamp and writes drop, as in JAX
                spec.append(("array", len(arrays)))
                arrays.append(Array(np.asarray(i, dtype=np.int64 if abs(i) >= 2**31 else np.int32)))
        axis += 1
    return tuple(spec), arrays


def _static_int(v):
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, Array) and v.ndim == 0 and v.dtype.kind in "iu":
        return int(v)
    raise TypeError(f"indices must be integers, slices, None, Ellipsis or integer arrays, got {v!r}")


def getitem(x, index, mode=None, fill_value=None):
    """`x[index]`; `mode` says what out-of-bounds array indices read, as JAX's modes:
    "clip" (the default, also "promise_in_bounds"), "wrap", or "fill" with `fill_value`
    (NaN for inexact dtypes, the lowest signed / highest unsigned value, True)."""
    x = asarray(x)
    spec, arrays = _parse(index, x.shape)
    if not arrays:
        return _basic(x, spec)
    if mode == "fill":
        return bind(gather_p, x, *arrays, spec=spec, mode="fill",
                    fill_value=_default_fill(x.dtype) if fill_value is None else fill_value)
    if mode == "wrap":
        arrays = _wrapped(arrays, spec, x.shape)
    elif mode not in (None, "clip", "promise_in_bounds"):
        raise ValueError(f"Invalid mode: {mode!r}; expected 'clip', 'wrap', 'fill' or 'promise_in_bounds'")
    return bind(gather_p, x, *arrays, spec=spec, mode="clip")


def _default_fill(dtype):
    if dtype.kind in "fc":
        return np.nan
    if dtype == np.bool_:
        return True
    return np.iinfo(dtype).min if dtype.kind == "i" else np.iinfo(dtype).max


def _wrapped(arrays, spec, shape):
    """Each index array taken modulo the size of the axis it indexes."""
    from kiln.numpy.math import remainder
    sizes, axis = {}, 0
    for entry in spec:
        if entry[0] == "array":
            sizes[entry[1]] = shape[axis]
        axis += entry[0] != "none"
    return [remainder(a, sizes[k]) for k, a in enumerate(arrays)]


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
    """x.at[index] updated with `values` by `mode` ("set", "add", "mul", "min", "max").

    As in JAX, x and the values are promoted together, the update happens in that type and
    the result is cast back to x's dtype and weak type (an int array `.at[i].multiply(2.5)`
    truncates the product, not the factor)."""
    x = asarray(x)
    spec, arrays = _parse(index, x.shape)
    target_shape = indexed_shape("scatter", aval_of(x), [aval_of(a) for a in arrays], spec)
    if 0 in target_shape:
        return x
    if isinstance(values, int) and x.dtype.kind in "iu" and \
            np.iinfo(x.dtype).min <= values <= np.iinfo(x.dtype).max:
        values = Array(np.asarray(values, x.dtype))
    dtype, weak = dtypes.result_type(x, values, return_weak_type_flag=True)
    values = broadcast_to(cast(values, dtype, weak), target_shape)
    out = bind(scatter_p, cast(x, dtype, weak), values, *arrays, spec=spec, mode=mode)
    return cast(out, x.dtype, x.weak_type)


class _IndexUpdateRef:
    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def get(self, *, mode=None, fill_value=None, indices_are_sorted=False, unique_indices=False):
        return getitem(self.array, self.index, mode, fill_value)

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
    """JAX's nonzero: with a static `size`, the first `size` indices, padded with `fill_value`
    (0 by default); without one, only eagerly (the result's shape depends on the data)."""
    from kiln.numpy.creation import arange, zeros
    from kiln.numpy import math as m
    from kiln.numpy.reductions import cumsum, sum
    a = asarray(a)
    if a.ndim == 0:
        raise ValueError("Calling nonzero on 0d arrays is not allowed. "
                         "Use jnp.atleast_1d(scalar).nonzero() instead.")
    mask = a if a.dtype == np.bool_ else m.not_equal(a, 0)
    if size is None:
        if isinstance(mask, Staged):
            from kiln.errors import ConcretizationTypeError
            from kiln.staging import user_location
            raise ConcretizationTypeError(
                "The size argument of jnp.nonzero must be statically specified to use jnp.nonzero "
                "within JAX transformations (inside a compiled function the result's shape would "
                "depend on the data)", user_location())
        size = int(np.count_nonzero(mask._value))
    size = int(size)
    index_dtype = dtypes.default_int_dtype()
    if a.size == 0 or size == 0:
        return tuple(zeros(size, index_dtype) for _ in a.shape)
    flat = reshape_to(mask, (a.size,))
    count = cumsum(flat, dtype=index_dtype)
    # The k-th true element goes to position k; the others to `size`, a dropped write.
    target = where_(flat, m.subtract(count, 1), size)
    flat_indices = zeros(size, index_dtype).at[target].set(arange(a.size, dtype=index_dtype))
    strides = np.cumprod(a.shape[::-1])[::-1] // a.shape
    out = tuple(m.remainder(m.floor_divide(flat_indices, int(stride)), d) if a.ndim > 1 else flat_indices
                for stride, d in zip(strides, a.shape))
    if fill_value is not None:
        fills = fill_value if isinstance(fill_value, tuple) else (fill_value,) * a.ndim
        if len(fills) != a.ndim or any(np.shape(f) != () for f in fills):
            raise ValueError(f"fill_value must be a scalar or a tuple of length {a.ndim}; got {fill_value}")
        beyond = m.greater_equal(arange(size, dtype=index_dtype), sum(flat, dtype=index_dtype))
        out = tuple(where_(beyond, f, o) for f, o in zip(fills, out))
    return out


def where_(condition, x, y):
    from kiln.numpy.core import where
    return where(condition, x, y)
