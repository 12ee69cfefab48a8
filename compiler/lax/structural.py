"""Primitives that move data without arithmetic: broadcasts, reshapes, slices, concatenation.

All shape parameters are static tuples of ints. Start indices of the dynamic_* primitives
are 0-d integer operands and are clamped so the window stays in bounds, as in XLA.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import ShapedArray
from kiln.primitives import impl_rules, primitive, shape_rules


def _fail(name, message):
    raise TypeError(f"kiln.lax.{name}: {message}")


# ---------------------------------------------------------------------------- broadcast_in_dim
broadcast_in_dim_p = primitive("broadcast_in_dim")


def _broadcast_in_dim_shape(x, *, shape, broadcast_dimensions):
    if len(broadcast_dimensions) != x.ndim:
        _fail("broadcast_in_dim", f"operand of rank {x.ndim} needs {x.ndim} broadcast_dimensions, "
                                  f"got {broadcast_dimensions}")
    for d, size in zip(broadcast_dimensions, x.shape):
        if not 0 <= d < len(shape) or size not in (1, shape[d]):
            _fail("broadcast_in_dim", f"cannot broadcast {x.str_short()} to {shape} "
                                      f"along {broadcast_dimensions}")
    if list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        _fail("broadcast_in_dim", f"broadcast_dimensions must be strictly increasing, got {broadcast_dimensions}")
    return [ShapedArray(tuple(shape), x.dtype, x.weak_type)]


def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    expanded = [1] * len(shape)
    for d, size in zip(broadcast_dimensions, x.shape):
        expanded[d] = size
    return [np.broadcast_to(x.reshape(expanded), shape)]


shape_rules[broadcast_in_dim_p] = _broadcast_in_dim_shape
impl_rules[broadcast_in_dim_p] = _broadcast_in_dim_impl

# ---------------------------------------------------------------------------- reshape
reshape_p = primitive("reshape")


def _reshape_shape(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"cannot reshape array of shape {x.shape} (size {x.size}) "
                        f"into shape {tuple(new_sizes)} (size {int(np.prod(new_sizes))})")
    return [ShapedArray(tuple(new_sizes), x.dtype, x.weak_type)]


shape_rules[reshape_p] = _reshape_shape
impl_rules[reshape_p] = lambda x, *, new_sizes: [x.reshape(new_sizes)]

# ---------------------------------------------------------------------------- transpose
transpose_p = primitive("transpose")


def _transpose_shape(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose permutation {permutation} is not a permutation of the "
                         f"{x.ndim} axes of {x.str_short()}")
    return [ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)]


shape_rules[transpose_p] = _transpose_shape
impl_rules[transpose_p] = lambda x, *, permutation: [np.transpose(x, permutation)]

# ---------------------------------------------------------------------------- rev
rev_p = primitive("rev")


def _rev_shape(x, *, dimensions):
    if any(not 0 <= d < x.ndim for d in dimensions):
        _fail("rev", f"dimensions {dimensions} out of range for {x.str_short()}")
    return [x]


shape_rules[rev_p] = _rev_shape
impl_rules[rev_p] = lambda x, *, dimensions: [np.flip(x, dimensions) if dimensions else x]

# ---------------------------------------------------------------------------- slice
slice_p = primitive("slice")


def _slice_shape(x, *, start_indices, limit_indices, strides):
    if not len(start_indices) == len(limit_indices) == len(strides) == x.ndim:
        _fail("slice", f"needs one start, limit and stride per axis of {x.str_short()}")
    shape = []
    for lo, hi, st, size in zip(start_indices, limit_indices, strides, x.shape):
        if not (0 <= lo <= hi <= size) or st < 1:
            _fail("slice", f"slice [{lo}:{hi}:{st}] out of bounds for an axis of size {size}")
        shape.append(max(0, -(-(hi - lo) // st)))
    return [ShapedArray(tuple(shape), x.dtype, x.weak_type)]


def _slice_impl(x, *, start_indices, limit_indices, strides):
    return [x[tuple(slice(lo, hi, st) for lo, hi, st in zip(start_indices, limit_indices, strides))]]


shape_rules[slice_p] = _slice_shape
impl_rules[slice_p] = _slice_impl

# ---------------------------------------------------------------------------- pad
pad_p = primitive("pad")


def _pad_shape(x, padding_value, *, padding_config):
    if padding_value.shape != () or padding_value.dtype != x.dtype:
        _fail("pad", "the padding value must be a scalar of the operand's dtype")
    if len(padding_config) != x.ndim:
        _fail("pad", f"needs one (low, high, interior) per axis of {x.str_short()}")
    shape = []
    for (lo, hi, interior), size in zip(padding_config, x.shape):
        if interior < 0:
            _fail("pad", "interior padding must be non-negative")
        n = lo + hi + size + max(size - 1, 0) * interior
        if n < 0:
            _fail("pad", f"padding {padding_config} leaves a negative size")
        shape.append(n)
    return [ShapedArray(tuple(shape), x.dtype, x.weak_type and padding_value.weak_type)]


def _pad_impl(x, padding_value, *, padding_config):
    shape = [lo + hi + size + max(size - 1, 0) * interior
             for (lo, hi, interior), size in zip(padding_config, x.shape)]
    # Place x into a big enough canvas, then crop for negative padding.
    canvas_shape = [max(lo, 0) + max(hi, 0) + size + max(size - 1, 0) * interior
                    for (lo, hi, interior), size in zip(padding_config, x.shape)]
    out = np.full(canvas_shape, padding_value, dtype=x.dtype)
    out[tuple(slice(max(lo, 0), max(lo, 0) + (size - 1) * (interior + 1) + 1, interior + 1)
              for (lo, hi, interior), size in zip(padding_config, x.shape))] = x
    crop = tuple(slice(-min(lo, 0), -min(lo, 0) + n) for (lo, _, _), n in zip(padding_config, shape))
    return [out[crop]]


shape_rules[pad_p] = _pad_shape
impl_rules[pad_p] = _pad_impl

# ---------------------------------------------------------------------------- concatenate
concatenate_p = primitive("concatenate")


def _concatenate_shape(*xs, dimension):
    if not xs:
        _fail("concatenate", "needs at least one operand")
    first = xs[0]
    for x in xs:
        if x.dtype != first.dtype or x.ndim != first.ndim or any(
                a != b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != dimension):
            _fail("concatenate", "operands must have one dtype and equal shapes except along "
                                 f"axis {dimension}; got " + ", ".join(y.str_short() for y in xs))
    shape = list(first.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return [ShapedArray(tuple(shape), first.dtype, all(x.weak_type for x in xs))]


shape_rules[concatenate_p] = _concatenate_shape
impl_rules[concatenate_p] = lambda *xs, dimension: [np.concatenate(xs, axis=dimension)]

# ---------------------------------------------------------------------------- iota
iota_p = primitive("iota")


def _iota_shape(*, dtype, shape, dimension):
    return [ShapedArray(tuple(shape), np.dtype(dtype), False)]


def _iota_impl(*, dtype, shape, dimension):
    ramp = np.arange(shape[dimension], dtype=dtype)
    expanded = [1] * len(shape)
    expanded[dimension] = shape[dimension]
    return [np.broadcast_to(ramp.reshape(expanded), shape)]


shape_rules[iota_p] = _iota_shape
impl_rules[iota_p] = _iota_impl

# ---------------------------------------------------------------------------- dynamic slices
dynamic_slice_p = primitive("dynamic_slice")
dynamic_update_slice_p = primitive("dynamic_update_slice")


def _check_starts(name, x, starts):
    if len(starts) != x.ndim:
        _fail(name, f"needs {x.ndim} start indices for {x.str_short()}, got {len(starts)}")
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            _fail(name, "start indices must be integer scalars")


def _clamped_starts(x_shape, sizes, starts):
    return [int(np.clip(int(s), 0, dim - size)) for s, dim, size in zip(starts, x_shape, sizes)]


def _dynamic_slice_shape(x, *starts, slice_sizes):
    _check_starts("dynamic_slice", x, starts)
    if len(slice_sizes) != x.ndim or any(not 0 <= s <= d for s, d in zip(slice_sizes, x.shape)):
        _fail("dynamic_slice", f"slice_sizes {slice_sizes} do not fit {x.str_short()}")
    return [ShapedArray(tuple(slice_sizes), x.dtype, x.weak_type)]


def _dynamic_slice_impl(x, *starts, slice_sizes):
    lo = _clamped_starts(x.shape, slice_sizes, starts)
    return [x[tuple(slice(l, l + s) for l, s in zip(lo, slice_sizes))]]


def _dynamic_update_slice_shape(x, update, *starts):
    _check_starts("dynamic_update_slice", x, starts)
    if update.dtype != x.dtype or update.ndim != x.ndim or any(u > d for u, d in zip(update.shape, x.shape)):
        _fail("dynamic_update_slice", f"update {update.str_short()} does not fit {x.str_short()}")
    return [ShapedArray(x.shape, x.dtype, x.weak_type)]


def _dynamic_update_slice_impl(x, update, *starts):
    lo = _clamped_starts(x.shape, update.shape, starts)
    out = np.array(x)
    out[tuple(slice(l, l + s) for l, s in zip(lo, update.shape))] = update
    return [out]


shape_rules[dynamic_slice_p] = _dynamic_slice_shape
impl_rules[dynamic_slice_p] = _dynamic_slice_impl
shape_rules[dynamic_update_slice_p] = _dynamic_update_slice_shape
impl_rules[dynamic_update_slice_p] = _dynamic_update_slice_impl
