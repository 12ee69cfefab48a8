"""gather and scatter (NumPy-style indexing, see `kiln.lax.indexing`) as index arithmetic.

`positions` maps an index of the indexed result to the operand's index, following NumPy's
rules: the advanced indices (arrays, and static ints when arrays are present) broadcast
together; their dimensions replace the first of them when they are adjacent, and come first
otherwise. Negative array indices wrap once; then gather clamps (`clip`) or marks the element
invalid (`fill`, and every scatter), as the reference does.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.types import I64, constant, last_index

__all__ = ["gather", "scatter"]


def _layout(spec, index_avals):
    """(for each spec entry, the output dimensions it takes; the broadcast shape of the
    advanced indices; the output dimension where that group starts)."""
    has_arrays = any(e[0] == "array" for e in spec)
    advanced = [k for k, e in enumerate(spec) if e[0] == "array" or (has_arrays and e[0] == "int")]
    shape = np.broadcast_shapes(*[index_avals[e[1]].shape for e in spec if e[0] == "array"]) if has_arrays else ()
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1)) if advanced else True
    group_at = 0 if not adjacent else None
    dims, cursor = [], 0 if adjacent else len(shape)
    for k, entry in enumerate(spec):
        if k in advanced:
            if adjacent and group_at is None:
                group_at = cursor
                cursor += len(shape)
            dims.append(None)
        elif entry[0] in ("slice", "none"):
            dims.append(cursor)
            cursor += 1
        else:  # a static int without arrays: no dimension
            dims.append(None)
    return dims, shape, group_at


def positions(cg, spec, x_shape, indices, out_index, clip: bool):
    """(operand index, validity as i1 or None) of the element at `out_index`."""
    b = cg.b
    dims, group_shape, group_at = _layout(spec, [a.aval for a in indices])
    group = out_index[group_at:group_at + len(group_shape)] if group_at is not None else []
    operand, valid, axis = [], None, 0
    for entry, d in zip(spec, dims):
        kind = entry[0]
        if kind == "none":
            continue
        size = x_shape[axis]
        if kind == "slice":
            start, _, step = entry[1:]
            i = out_index[d]
            i = i if step == 1 else b.mul(i, ir.Constant(I64, step))
            operand.append(i if start == 0 else b.add(i, cg.i64(start)))
        elif kind == "int":
            operand.append(cg.i64(entry[1]))
        else:
            atom = indices[entry[1]]
            shape = atom.aval.shape
            own = group[len(group) - len(shape):] if shape else []
            own = [i if n != 1 else ir.Constant(I64, 0) for i, n in zip(own, shape)]
            raw = cg.value(atom, own)
            wide = b.sext(raw, I64) if atom.aval.dtype.kind == "i" and raw.type.width < 64 else \
                (b.zext(raw, I64) if raw.type.width < 64 else raw)
            i = b.select(b.icmp_signed("<", wide, ir.Constant(I64, 0)), b.add(wide, cg.i64(size)), wide) \
                if atom.aval.dtype.kind == "i" else wide
            if clip:
                i = cg._clamp(i, 0, last_index(size))
            else:
                ok = b.and_(b.icmp_signed(">=", i, ir.Constant(I64, 0)), b.icmp_signed("<", i, cg.i64(size)))
                valid = ok if valid is None else b.and_(valid, ok)
                i = cg._clamp(i, 0, last_index(size))
            operand.append(i)
        axis += 1
    return operand, valid


def gather(cg, eqn, index):
    x, *indices = eqn.inputs
    mode = eqn.params.get("mode", "clip")
    if x.aval.size == 0:
        return constant(x.aval.dtype, eqn.params.get("fill_value") or 0)
    where, valid = positions(cg, eqn.params["spec"], x.aval.shape, indices, index, clip=mode == "clip")
    value = cg.value(x, where)
    if valid is None:
        return value
    return cg.b.select(valid, value, constant(x.aval.dtype, eqn.params["fill_value"]))


def scatter(cg, eqn):
    """The operand copied, then each update combined into its position, in order (so with
    repeated indices the last `set` wins, as in the reference)."""
    from kiln.backends.llvm import complex as complex_ops
    from kiln.backends.llvm.lowerings import scalar_rules
    x, updates, *indices = eqn.inputs
    out = eqn.outputs[0]
    b, mode = cg.b, eqn.params["mode"]
    cg.nest(out.aval.shape, lambda i: cg.store(out, i, cg.value(x, i)))
    if x.aval.size == 0 or updates.aval.size == 0:
        return
    combine = None if mode == "set" else complex_ops.lowering(mode, eqn) or scalar_rules[mode]

    def body(u_index):
        where, valid = positions(cg, eqn.params["spec"], x.aval.shape, indices, u_index, clip=False)
        u = cg.value(updates, u_index)
        address = cg.address(out, cg.offset(out.aval.shape, where))
        old = cg.load_linear(out, cg.offset(out.aval.shape, where))
        new = u if combine is None else combine(cg, eqn, old, u)
        if valid is not None:
            new = b.select(valid, new, old)
        if out.aval.dtype == np.bool_:
            new = b.zext(new, ir.IntType(8))
        b.store(new, address)
    cg.nest(updates.aval.shape, body)
