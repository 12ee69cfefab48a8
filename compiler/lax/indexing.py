"""NumPy-style advanced indexing as two primitives: `gather` (read) and `scatter` (write).

Both take the indexed operand, then (scatter only) the updates, then the integer index
arrays, and a static `spec` describing the full index, one entry per item:

    ("slice", start, stop, step)   a static slice (already normalised for the axis)
    ("int", i)                     a static in-bounds integer
    ("array", k)                   the k-th index operand (any integer shape)
    ("none",)                      a new axis

The result follows NumPy's rules for mixing basic and advanced indices. Out-of-bounds
array indices follow JAX: negative indices wrap once; gather then clamps (`mode="clip"`) or
fills (`mode="fill"`), and scatter drops the update.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import ShapedArray
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules


def _index_tuple(spec, arrays):
    out = []
    for entry in spec:
        kind = entry[0]
        if kind == "slice":
            out.append(slice(*entry[1:]))
        elif kind == "int":
            out.append(entry[1])
        elif kind == "array":
            out.append(arrays[entry[1]])
        else:
            out.append(None)
    return tuple(out)


def indexed_shape(name, x, index_avals, spec):
    for a in index_avals:
        if a.dtype.kind not in "iu":
            raise TypeError(f"kiln.lax.{name}: index arrays must be integers, got {a.dtype.name}")
    axes = sum(1 for e in spec if e[0] != "none")
    if axes != x.ndim:
        raise TypeError(f"kiln.lax.{name}: the index spec covers {axes} axes but the operand "
                        f"{x.str_short()} has {x.ndim}")
    dummy = np.broadcast_to(np.zeros((), np.bool_), x.shape)
    zeros = [np.broadcast_to(np.zeros((), np.intp), a.shape) for a in index_avals]
    return dummy[_index_tuple(spec, zeros)].shape


def _flat_positions(shape, arrays, spec, clip: bool):
    """Flat positions in an array of `shape` for each indexed element, and where they are valid."""
    ids = np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)
    fixed, pad, axis = [], [], 0
    for entry in spec:
        if entry[0] == "none":
            continue
        dim = shape[axis]
        if entry[0] == "array":
            i = np.asarray(arrays[entry[1]]).astype(np.int64)
            i = np.where(i < 0, i + dim, i)
            i = np.clip(i, 0, max(dim - 1, 0)) if clip else np.where((i < 0) | (i >= dim), dim, i)
            fixed.append(i)
            pad.append((0, 0 if clip else 1))
        else:
            pad.append((0, 0))
        axis += 1
    # Out-of-bounds positions read the padding, -1, and are marked invalid.
    padded = np.pad(ids, pad, constant_values=-1) if not clip and ids.ndim else ids
    it = iter(fixed)
    index = tuple(next(it) if e[0] == "array" else s for e, s in zip(spec, _index_tuple(spec, [None] * len(arrays))))
    positions = padded[index]
    return positions, positions >= 0


gather_p = primitive("gather")


def _gather_shape(x, *indices, spec, mode="clip", fill_value=None):
    shape = indexed_shape("gather", x, indices, spec)
    return [ShapedArray(shape, x.dtype, x.weak_type)]


def _gather_impl(x, *indices, spec, mode="clip", fill_value=None):
    if mode == "clip":
        positions, _ = _flat_positions(x.shape, indices, spec, clip=True)
        return [x.reshape(-1)[positions] if x.size else np.zeros(positions.shape, x.dtype)]
    positions, valid = _flat_positions(x.shape, indices, spec, clip=False)
    flat = x.reshape(-1)
    taken = flat[np.where(valid, positions, 0)] if flat.size else np.zeros(positions.shape, x.dtype)
    return [np.where(valid, taken, np.asarray(fill_value).astype(x.dtype))]


shape_rules[gather_p] = _gather_shape
impl_rules[gather_p] = _gather_impl


scatter_p = primitive("scatter")
_SCATTER_UFUNCS = {"add": np.add, "mul": np.multiply, "min": np.minimum, "max": np.maximum}


def _scatter_shape(x, updates, *indices, spec, mode):
    shape = indexed_shape("scatter", x, indices, spec)
    if updates.shape != shape or updates.dtype != x.dtype:
        raise TypeError(f"kiln.lax.scatter: updates must be {x.dtype.name}{list(shape)} for this "
                        f"index, got {updates.str_short()}")
    if mode not in ("set", *_SCATTER_UFUNCS):
        raise ValueError(f"kiln.lax.scatter: unknown mode {mode!r}")
    return [ShapedArray(x.shape, x.dtype, x.weak_type)]


def _scatter_impl(x, updates, *indices, spec, mode):
    positions, valid = _flat_positions(x.shape, indices, spec, clip=False)
    out = np.array(x).reshape(-1)
    where, values = positions[valid], np.asarray(updates)[valid]
    if mode == "set":
        out[where] = values
    else:
        _SCATTER_UFUNCS[mode].at(out, where, values)
    return [out.reshape(x.shape)]


shape_rules[scatter_p] = _scatter_shape
impl_rules[scatter_p] = _scatter_impl


# Derivatives. gather is linear in its operand; scatter with "set"/"add" in operand and updates.
def _zeros(aval):
    from kiln.lax.structural import broadcast_in_dim_p
    return bind(broadcast_in_dim_p, np.zeros((), aval.dtype), shape=aval.shape, broadcast_dimensions=())


def _clipped(indices, spec, shape):
    """Index arrays normalised as gather's clip mode reads them (wrapped once, then clamped)."""
    import kiln.numpy as knp
    out = list(indices)
    axis = 0
    for entry in spec:
        if entry[0] == "none":
            continue
        if entry[0] == "array":
            i, dim = indices[entry[1]], shape[axis]
            out[entry[1]] = knp.clip(knp.where(i < 0, i + dim, i), 0, max(dim - 1, 0)).astype(aval_of(i).dtype)
        axis += 1
    return out


def _gather_jvp(primals, tangents, **params):
    x, *indices = primals
    t = tangents[0]
    out = bind(gather_p, x, *indices, **params)
    return [out], [None if t is None else bind(gather_p, t, *indices, **params)]


def _gather_transpose(ct, x, *indices, spec, mode="clip", fill_value=None):
    if mode == "clip":
        indices = _clipped(indices, spec, x.aval.shape)
    return [bind(scatter_p, _zeros(x.aval), ct, *indices, spec=spec, mode="add")] + [None] * len(indices)


def _scatter_jvp(primals, tangents, *, spec, mode):
    x, updates, *indices = primals
    out = bind(scatter_p, x, updates, *indices, spec=spec, mode=mode)
    tx, tu = tangents[0], tangents[1]
    if tx is None and tu is None:
        return [out], [None]
    from kiln.passes.jvp import instantiate
    tx, tu = instantiate(tx, aval_of(x)), instantiate(tu, aval_of(updates))
    if mode == "mul":
        return [out], [_scatter_mul_tangent(x, updates, indices, tangents, spec)]
    if mode in ("min", "max"):
        return [out], [_scatter_extremum_tangent(x, updates, indices, out, tx, tu, spec)]
    if mode == "set" and indices:
        return [out], [_scatter_set_tangent(x, updates, indices, tx, tu, spec)]
    return [out], [bind(scatter_p, tx, tu, *indices, spec=spec, mode=mode)]


def _scatter_set_tangent(x, updates, indices, tx, tu, spec):
    """Index arrays may repeat a position, and then only the update written last counts. As
    JAX does: scatter an id per update, read back which id won each position, and add the
    winners' tangents (and the untouched operand's) with a scatter-add, whose transpose
    exists."""
    from kiln.lax.elementwise import add_p, convert_element_type_p, eq_p, mul_p
    from kiln.lax.structural import iota_p, reshape_p
    u_aval = aval_of(updates)
    n = int(np.prod(u_aval.shape, dtype=np.int64))
    ids = bind(add_p, bind(iota_p, dtype=np.dtype(np.int32), shape=(n,), dimension=0), np.int32(1))
    ids = bind(reshape_p, ids, new_sizes=u_aval.shape)
    no_id = ShapedArray(aval_of(x).shape, np.dtype(np.int32), False)
    placed = bind(scatter_p, _zeros(no_id), ids, *indices, spec=spec, mode="set")
    won = bind(eq_p, bind(gather_p, placed, *indices, spec=spec, mode="fill", fill_value=0), ids)
    kept = bind(eq_p, placed, np.int32(0))

    def masked(t, mask):
        return bind(mul_p, t, bind(convert_element_type_p, mask, new_dtype=aval_of(t).dtype, weak_type=False))
    return bind(scatter_p, masked(tx, kept), masked(tu, won), *indices, spec=spec, mode="add")


# The tangents of the non-linear modes are written with mul/div and linear scatters, whose
# transposes exist, so these modes need no transpose rule of their own.
def _scatter_mul_tangent(x, updates, indices, tangents, spec):
    from kiln.lax.elementwise import add_p, mul_p
    tx, tu = tangents[0], tangents[1]
    terms = []
    if tx is not None:  # out = x * (product of the updates landing on each element)
        from kiln.lax.structural import broadcast_in_dim_p
        ones = bind(broadcast_in_dim_p, np.ones((), aval_of(x).dtype), shape=aval_of(x).shape, broadcast_dimensions=())
        terms.append(bind(mul_p, tx, bind(scatter_p, ones, updates, *indices, spec=spec, mode="mul")))
    if tu is not None:
        if indices:  # as JAX: with index arrays, updates may meet on one element
            raise NotImplementedError("kiln: the derivative of x.at[...].multiply(y) with respect to y is only "
                                      "implemented for static (slice/integer) indices, whose positions are unique")
        terms.append(bind(mul_p, x, bind(scatter_p, _zeros(aval_of(x)), tu, spec=spec, mode="add")))
    return terms[0] if len(terms) == 1 else bind(add_p, *terms)


def _scatter_extremum_tangent(x, updates, indices, out, tx, tu, spec):
    """As JAX: the mean of the tangents of every operand and update equal to the result."""
    from kiln.lax.elementwise import add_p, convert_element_type_p, div_p, eq_p, mul_p
    dtype = aval_of(x).dtype

    def as_float(b):
        return bind(convert_element_type_p, b, new_dtype=dtype, weak_type=False)
    x_hit = as_float(bind(eq_p, x, out))
    # Dropped (out-of-bounds) updates read NaN, so they never count as hits.
    u_hit = as_float(bind(eq_p, updates, bind(gather_p, out, *indices, spec=spec, mode="fill", fill_value=np.nan)))
    count = bind(add_p, x_hit, bind(scatter_p, _zeros(aval_of(x)), u_hit, *indices, spec=spec, mode="add"))
    total = bind(add_p, bind(mul_p, tx, x_hit),
                 bind(scatter_p, _zeros(aval_of(x)), bind(mul_p, tu, u_hit), *indices, spec=spec, mode="add"))
    return bind(div_p, total, count)


def _scatter_transpose(ct, x, updates, *indices, spec, mode):
    from kiln.passes.transpose import is_linear
    if mode not in ("set", "add"):
        raise NotImplementedError(f"kiln: transpose of scatter mode {mode!r}")
    u_aval = updates.aval if is_linear(updates) else aval_of(updates)
    ct_x = ct if mode == "add" else bind(scatter_p, ct, _zeros(u_aval), *indices, spec=spec, mode="set")
    ct_u = bind(gather_p, ct, *indices, spec=spec, mode="fill", fill_value=0) if is_linear(updates) else None
    return [ct_x if is_linear(x) else None, ct_u] + [None] * len(indices)


jvp_rules[gather_p] = _gather_jvp
transpose_rules[gather_p] = _gather_transpose
jvp_rules[scatter_p] = _scatter_jvp
transpose_rules[scatter_p] = _scatter_transpose


# ---------------------------------------------------------------------------- batching
# The operand's batch axis goes to the front and is indexed by an iota, one more index array
# in front of the spec. That iota is an advanced index at position 0, so NumPy's rules put the
# broadcast advanced dimensions (batch first) at the front of the result, where one example
# may have them in the middle (advanced indices adjacent after a slice); `_batched_layout`
# gives the permutation between the two layouts.
def _batched_layout(spec, result_ndim, n_advanced):
    """Permutation taking the batched result (batch, advanced dims, basic dims) to (batch, one
    example's layout)."""
    has_arrays = any(e[0] == "array" for e in spec)
    # With an index array, integers are advanced indices too (NumPy's rule).
    advanced = [k for k, e in enumerate(spec) if e[0] == "array" or (has_arrays and e[0] == "int")]
    before = 0
    if advanced and advanced == list(range(advanced[0], advanced[-1] + 1)):
        # One adjacent block: an example keeps it in place, after the dims made before it.
        before = sum(1 for e in spec[:advanced[0]] if e[0] in ("slice", "none"))
    basic = list(range(1 + n_advanced, 1 + result_ndim))
    adv = list(range(1, 1 + n_advanced))
    return (0,) + tuple(basic[:before] + adv + basic[before:])


def _batched_index(x, dx, indices, dims, spec, size):
    from kiln.passes.vmap import move_to_front, with_batch
    x = with_batch(x, dx, size)
    ranks = [len(aval_of(i).shape) - (d is not None) for i, d in zip(indices, dims)]
    rank = max(ranks, default=0)
    new = []
    for i, d in zip(indices, dims):
        if d is None:
            new.append(i)
        else:
            i = move_to_front(i, d)
            shape = aval_of(i).shape
            new.append(bind(_reshape_p(), i, new_sizes=(size,) + (1,) * (rank - len(shape) + 1) + shape[1:]))
    from kiln.lax.structural import iota_p
    new.append(bind(iota_p, dtype=np.dtype(np.int32), shape=(size,) + (1,) * rank, dimension=0))
    new_spec = (("array", len(new) - 1),) + tuple(spec)
    result_ndim = len(indexed_shape("gather", aval_of(x), [aval_of(i) for i in new], new_spec)) - 1
    n_advanced = rank if any(e[0] == "array" for e in spec) else 0
    return x, new, new_spec, _batched_layout(spec, result_ndim, n_advanced)


def _reshape_p():
    from kiln.lax.structural import reshape_p
    return reshape_p


def _transpose(x, perm):
    from kiln.lax.structural import transpose_p
    return x if perm == tuple(range(len(perm))) else bind(transpose_p, x, permutation=perm)


def _gather_batch(args, dims, *, spec, mode="clip", fill_value=None):
    from kiln.passes.vmap import batch_size
    size = batch_size(args, dims)
    x, indices, new_spec, perm = _batched_index(args[0], dims[0], args[1:], dims[1:], spec, size)
    out = bind(gather_p, x, *indices, spec=new_spec, mode=mode, fill_value=fill_value)
    return [_transpose(out, perm)], [0]


def _scatter_batch(args, dims, *, spec, mode):
    from kiln.passes.vmap import batch_size, with_batch
    size = batch_size(args, dims)
    x, updates, idx = args[0], args[1], args[2:]
    x, indices, new_spec, perm = _batched_index(x, dims[0], idx, dims[2:], spec, size)
    # Updates batched at 0 in one example's layout, then in the batched gather's layout.
    updates = with_batch(updates, dims[1], size)
    inverse = tuple(int(k) for k in np.argsort(perm))
    return [bind(scatter_p, x, _transpose(updates, inverse), *indices, spec=new_spec, mode=mode)], [0]


from kiln.primitives import vmap_rules as _vmap_rules  # noqa: E402

_vmap_rules[gather_p] = _gather_batch
_vmap_rules[scatter_p] = _scatter_batch
