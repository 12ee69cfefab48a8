"""Primitives that move data without arithmetic: broadcasts, reshapes, slices, concatenation.

All shape parameters are static tuples of ints. Start indices of the dynamic_* primitives
are 0-d integer operands and are clamped so the window stays in bounds, as in XLA.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import ShapedArray
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules


def _linear(prim, transpose):
    """Register a primitive that is linear in its array operands (params static)."""
    def jvp(primals, tangents, **params):
        out = bind(prim, *primals, **params)
        if all(t is None for t in tangents):
            return [out], [None]
        from kiln.passes.jvp import instantiate
        ts = [instantiate(t, aval_of(x)) if _is_float(x) else x for t, x in zip(tangents, primals)]
        return [out], [bind(prim, *ts, **params)]
    jvp_rules[prim] = jvp
    transpose_rules[prim] = transpose


def _is_float(x) -> bool:
    return aval_of(x).dtype.kind in "fc"


def _undefined(x) -> bool:
    from kiln.passes.transpose import is_linear
    return is_linear(x)


def _zeros(shape, dtype):
    return bind(broadcast_in_dim_p, np.zeros((), dtype), shape=tuple(shape), broadcast_dimensions=())


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


def _broadcast_in_dim_transpose(ct, x, *, shape, broadcast_dimensions):
    from kiln.lax.reductions import reduce_sum_p
    new_dims = tuple(d for d in range(len(shape)) if d not in broadcast_dimensions)
    stretched = tuple(d for d, size in zip(broadcast_dimensions, x.aval.shape) if size == 1 and shape[d] != 1)
    summed = bind(reduce_sum_p, ct, axes=tuple(sorted(new_dims + stretched)))
    return [bind(reshape_p, summed, new_sizes=x.aval.shape)]


_linear(broadcast_in_dim_p, _broadcast_in_dim_transpose)

# ---------------------------------------------------------------------------- reshape
reshape_p = primitive("reshape")


def _reshape_shape(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise TypeError(f"cannot reshape array of shape {x.shape} (size {x.size}) "
                        f"into shape {tuple(new_sizes)} (size {int(np.prod(new_sizes))})")
    return [ShapedArray(tuple(new_sizes), x.dtype, x.weak_type)]


shape_rules[reshape_p] = _reshape_shape
impl_rules[reshape_p] = lambda x, *, new_sizes: [x.reshape(new_sizes)]
_linear(reshape_p, lambda ct, x, *, new_sizes: [bind(reshape_p, ct, new_sizes=x.aval.shape)])

# ---------------------------------------------------------------------------- transpose
transpose_p = primitive("transpose")


def _transpose_shape(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise TypeError("transpose permutation isn't a permutation of operand dimensions, got "
                        f"permutation {permutation} for operand shape {x.shape}.")
    return [ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)]


shape_rules[transpose_p] = _transpose_shape
impl_rules[transpose_p] = lambda x, *, permutation: [np.transpose(x, permutation)]
_linear(transpose_p, lambda ct, x, *, permutation: [
    bind(transpose_p, ct, permutation=tuple(int(i) for i in np.argsort(permutation)))])

# ---------------------------------------------------------------------------- rev
rev_p = primitive("rev")


def _rev_shape(x, *, dimensions):
    if any(not 0 <= d < x.ndim for d in dimensions):
        _fail("rev", f"dimensions {dimensions} out of range for {x.str_short()}")
    return [x]


shape_rules[rev_p] = _rev_shape
impl_rules[rev_p] = lambda x, *, dimensions: [np.flip(x, dimensions) if dimensions else x]
_linear(rev_p, lambda ct, x, *, dimensions: [bind(rev_p, ct, dimensions=dimensions)])

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


def _slice_transpose(ct, x, *, start_indices, limit_indices, strides):
    out_shape = aval_of(ct).shape
    config = []
    for lo, n, st, size in zip(start_indices, out_shape, strides, x.aval.shape):
        used = lo + (n - 1) * st + 1 if n else lo
        config.append((lo, size - used, st - 1) if n else (0, 0, 0))
    if any(n == 0 for n in out_shape):
        return [_zeros(x.aval.shape, x.aval.dtype)]
    return [bind(pad_p, ct, np.zeros((), x.aval.dtype), padding_config=tuple(config))]


_linear(slice_p, _slice_transpose)

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


def _pad_transpose(ct, x, padding_value, *, padding_config):
    from kiln.lax.reductions import reduce_sum_p
    # Undo the edges (negative padding crops), then take every (interior+1)-th element.
    unpadded = bind(pad_p, ct, np.zeros((), aval_of(ct).dtype),
                    padding_config=tuple((-lo, -hi, 0) for lo, hi, _ in padding_config))
    shape = aval_of(unpadded).shape
    ct_x = bind(slice_p, unpadded, start_indices=(0,) * len(shape), limit_indices=shape,
                strides=tuple(interior + 1 for _, _, interior in padding_config))
    ct_value = None
    if _undefined(padding_value):
        axes = tuple(range(len(aval_of(ct).shape)))
        ct_value = bind(reduce_sum_p, ct, axes=axes) - bind(reduce_sum_p, ct_x, axes=axes)
    return [ct_x if _undefined(x) else None, ct_value]


_linear(pad_p, _pad_transpose)

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


def _concatenate_transpose(ct, *xs, dimension):
    shape = aval_of(ct).shape
    out, start = [], 0
    for x in xs:
        size = aval_of(x).shape[dimension] if not _undefined(x) else x.aval.shape[dimension]
        if _undefined(x):
            starts = tuple(start if d == dimension else 0 for d in range(len(shape)))
            limits = tuple(start + size if d == dimension else n for d, n in enumerate(shape))
            out.append(bind(slice_p, ct, start_indices=starts, limit_indices=limits, strides=(1,) * len(shape)))
        else:
            out.append(None)
        start += size
    return out


_linear(concatenate_p, _concatenate_transpose)

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


def _dynamic_slice_jvp(primals, tangents, *, slice_sizes):
    x, *starts = primals
    out = bind(dynamic_slice_p, x, *starts, slice_sizes=slice_sizes)
    t = tangents[0]
    return [out], [None if t is None else bind(dynamic_slice_p, t, *starts, slice_sizes=slice_sizes)]


def _dynamic_slice_transpose(ct, x, *starts, slice_sizes):
    zeros = _zeros(x.aval.shape, x.aval.dtype)
    return [bind(dynamic_update_slice_p, zeros, ct, *starts)] + [None] * len(starts)


def _dynamic_update_slice_jvp(primals, tangents):
    x, update, *starts = primals
    out = bind(dynamic_update_slice_p, x, update, *starts)
    tx, tu = tangents[0], tangents[1]
    if tx is None and tu is None:
        return [out], [None]
    from kiln.passes.jvp import instantiate
    tx, tu = instantiate(tx, aval_of(x)), instantiate(tu, aval_of(update))
    return [out], [bind(dynamic_update_slice_p, tx, tu, *starts)]


def _dynamic_update_slice_transpose(ct, x, update, *starts):
    u_aval = update.aval if _undefined(update) else aval_of(update)
    ct_x = bind(dynamic_update_slice_p, ct, _zeros(u_aval.shape, u_aval.dtype), *starts) if _undefined(x) else None
    ct_u = bind(dynamic_slice_p, ct, *starts, slice_sizes=u_aval.shape) if _undefined(update) else None
    return [ct_x, ct_u] + [None] * len(starts)


jvp_rules[dynamic_slice_p] = _dynamic_slice_jvp
transpose_rules[dynamic_slice_p] = _dynamic_slice_transpose
jvp_rules[dynamic_update_slice_p] = _dynamic_update_slice_jvp
transpose_rules[dynamic_update_slice_p] = _dynamic_update_slice_transpose


# ---------------------------------------------------------------------------- batching
# The batch axis is moved to the front; params that name axes shift by one.
def _front(x, d):
    from kiln.passes.vmap import move_to_front
    return move_to_front(x, d)


def _batched(prim, rewrite):
    from kiln.primitives import vmap_rules

    def rule(args, dims, **params):
        (x,), (d,) = args[:1], dims[:1]
        if any(dd is not None for dd in dims[1:]):  # pad's padding value
            raise NotImplementedError(f"kiln: vmap of {prim} with a batched padding value is not implemented yet")
        x = _front(x, d)
        size = aval_of(x).shape[0]
        return [bind(prim, x, *args[1:], **rewrite(size, **params))], [0]
    vmap_rules[prim] = rule


_batched(broadcast_in_dim_p, lambda b, shape, broadcast_dimensions: dict(
    shape=(b,) + tuple(shape), broadcast_dimensions=(0,) + tuple(d + 1 for d in broadcast_dimensions)))
_batched(reshape_p, lambda b, new_sizes: dict(new_sizes=(b,) + tuple(new_sizes)))
_batched(transpose_p, lambda b, permutation: dict(permutation=(0,) + tuple(p + 1 for p in permutation)))
_batched(rev_p, lambda b, dimensions: dict(dimensions=tuple(d + 1 for d in dimensions)))
_batched(slice_p, lambda b, start_indices, limit_indices, strides: dict(
    start_indices=(0,) + tuple(start_indices), limit_indices=(b,) + tuple(limit_indices),
    strides=(1,) + tuple(strides)))
_batched(pad_p, lambda b, padding_config: dict(padding_config=((0, 0, 0),) + tuple(padding_config)))


def _concatenate_batch(args, dims, *, dimension):
    from kiln.passes.vmap import batch_size, with_batch
    size = batch_size(args, dims)
    return [bind(concatenate_p, *[with_batch(x, d, size) for x, d in zip(args, dims)],
                 dimension=dimension + 1)], [0]


def _dynamic_batch(prim):
    def rule(args, dims, **params):
        from kiln.passes.vmap import batch_size, with_batch
        n_arrays = 1 if prim is dynamic_slice_p else 2
        size = batch_size(args, dims)
        if any(d is not None for d in dims[n_arrays:]):
            return _dynamic_batched_starts(prim, args, dims, size, n_arrays, params)
        arrays = [with_batch(x, d, size) for x, d in zip(args[:n_arrays], dims[:n_arrays])]
        zero = np.zeros((), aval_of(args[n_arrays]).dtype) if len(args) > n_arrays else np.int32(0)
        if prim is dynamic_slice_p:
            params = dict(slice_sizes=(size,) + tuple(params["slice_sizes"]))
        return [bind(prim, *arrays, zero, *args[n_arrays:], **params)], [0]
    return rule


def _dynamic_batched_starts(prim, args, dims, size, n_arrays, params):
    """Start indices that differ between lanes: a gather (scatter for the update) whose index
    arrays are each lane's clamped window, `start + arange(window)` along each axis."""
    from kiln.lax.elementwise import add_p, clamp_p, convert_element_type_p
    from kiln.lax.indexing import gather_p, scatter_p
    from kiln.passes.vmap import with_batch
    x = with_batch(args[0], dims[0], size)
    x_shape = aval_of(x).shape[1:]
    if prim is dynamic_slice_p:
        window = tuple(params["slice_sizes"])
    else:
        update = with_batch(args[1], dims[1], size)
        window = aval_of(update).shape[1:]
    n = len(x_shape)
    indices = [bind(iota_p, dtype=np.dtype(np.int32), shape=(size,) + (1,) * n, dimension=0)]
    for k, (start, d) in enumerate(zip(args[n_arrays:], dims[n_arrays:])):
        start = bind(convert_element_type_p, with_batch(start, d, size), new_dtype=np.dtype(np.int32),
                     weak_type=False)
        start = bind(clamp_p, np.int32(0), start, np.int32(x_shape[k] - window[k]))
        # lane's start (along axis 0) + arange(window) (along axis k + 1), broadcast together.
        shape = (size,) + (1,) * k + (window[k],) + (1,) * (n - k - 1)
        lane = bind(broadcast_in_dim_p, start, shape=shape, broadcast_dimensions=(0,))
        along = bind(iota_p, dtype=np.dtype(np.int32), shape=shape, dimension=k + 1)
        indices.append(bind(add_p, lane, along))
    spec = tuple(("array", k) for k in range(n + 1))
    if prim is dynamic_slice_p:
        return [bind(gather_p, x, *indices, spec=spec, mode="clip", fill_value=None)], [0]
    return [bind(scatter_p, x, update, *indices, spec=spec, mode="set")], [0]


def _pad_batch(args, dims, *, padding_config):
    from kiln.lax.elementwise import select_n_p
    from kiln.passes.vmap import batch_size, with_batch
    if dims[1] is None:
        return _pad_rule(args, dims, padding_config=padding_config)
    # A padding value per lane: pad with zeros, and pick each lane's value where a padded
    # mask says the element is padding.
    size = batch_size(args, dims)
    x = with_batch(args[0], dims[0], size)
    config = ((0, 0, 0),) + tuple(padding_config)
    padded = bind(pad_p, x, np.zeros((), aval_of(x).dtype), padding_config=config)
    inside = bind(broadcast_in_dim_p, np.True_, shape=aval_of(x).shape, broadcast_dimensions=())
    mask = bind(pad_p, inside, np.False_, padding_config=config)
    shape = aval_of(padded).shape
    value = bind(broadcast_in_dim_p, with_batch(args[1], dims[1], size), shape=shape, broadcast_dimensions=(0,))
    return [bind(select_n_p, mask, value, padded)], [0]


from kiln.primitives import vmap_rules as _vmap_rules  # noqa: E402

_pad_rule = _vmap_rules[pad_p]
_vmap_rules[pad_p] = _pad_batch
_vmap_rules[concatenate_p] = _concatenate_batch
_vmap_rules[dynamic_slice_p] = _dynamic_batch(dynamic_slice_p)
_vmap_rules[dynamic_update_slice_p] = _dynamic_batch(dynamic_update_slice_p)


from kiln.primitives import public_names as _public_names  # noqa: E402

__all__ = _public_names(globals())
