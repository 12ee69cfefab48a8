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
    padded = np.pad(ids, pad, constant_values=-1) if not clip else ids
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
    if mode not in ("set", "add"):
        raise NotImplementedError(f"kiln: the derivative of scatter mode {mode!r} is not implemented yet")
    from kiln.passes.jvp import instantiate
    tx, tu = instantiate(tx, aval_of(x)), instantiate(tu, aval_of(updates))
    return [out], [bind(scatter_p, tx, tu, *indices, spec=spec, mode=mode)]


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
