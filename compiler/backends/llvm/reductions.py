"""Reductions, cumulative operations and contractions: kernels whose root accumulates.

Each is a function of the codegen (`cg`) and the root equation; the operand is read through
`cg.value`, so whatever is fused into it is computed in the innermost loop.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from kiln.backends.llvm import complex as complex_ops
from kiln.backends.llvm.blas import try_gemm
from kiln.backends.llvm.lowerings import _max_min, convert
from kiln.backends.llvm.plan import UnsupportedError
from kiln.backends.llvm.types import I64, PTR, VOID, at_least_1, constant, is_float, is_signed, register_type

__all__ = ["reduction", "cumulative", "contraction"]


def reduction(cg, eqn):
    (x,), out = eqn.inputs, eqn.outputs[0]
    name = eqn.prim.name
    axes = (eqn.params["axis"],) if "axis" in eqn.params else tuple(eqn.params["axes"])
    shape = x.aval.shape
    kept = [d for d in range(len(shape)) if d not in axes]
    if name in ("argmax", "argmin"):
        return arg_reduction(cg, eqn, x, out, axes, kept)
    dtype = out.aval.dtype
    # float32 (complex64) sums and products accumulate in float64 (complex128): as accurate as
    # NumPy's pairwise sums
    wide = {np.dtype(np.float32): np.dtype(np.float64), np.dtype(np.complex64): np.dtype(np.complex128),
            np.dtype(np.float16): np.dtype(np.float64)}
    acc_dtype = wide.get(dtype, dtype) if name in ("reduce_sum", "reduce_prod") else dtype
    identity, combine = monoid(cg, name, acc_dtype)
    widen = lambda v: convert(cg, v, dtype, acc_dtype)
    narrow = lambda v: convert(cg, v, acc_dtype, dtype)
    acc_type = register_type(acc_dtype)
    reduced = [shape[d] for d in axes]

    def full_index(out_index, red_index):
        index = [None] * len(shape)
        for d, i in zip(kept, out_index):
            index[d] = i
        for d, i in zip(axes, red_index):
            index[d] = i
        return index

    if shape and (len(shape) - 1) not in axes:
        # The innermost dimension is kept: accumulate into a buffer of partial results,
        # walking the operand in order, so the innermost loop is contiguous in both (it
        # vectorizes), then write the result.
        out_shape = out.aval.shape
        nbytes = at_least_1(out.aval.size) * 16  # room for any accumulator type
        partial = cg.external("malloc", PTR, [cg.i64(nbytes)])

        def slot(oi):
            return cg.b.gep(partial, [cg.offset(out_shape, oi)], inbounds=True, source_etype=acc_type)
        cg.nest(out_shape, lambda oi: cg.b.store(identity, slot(oi)))

        def accumulate(index):
            address = slot([index[d] for d in kept])
            acc = cg.b.load(address, typ=acc_type)
            cg.b.store(combine(acc, widen(cg.value(x, index))), address)
        cg.nest(shape, accumulate)
        cg.nest(out_shape, lambda oi: cg.store(out, oi, narrow(cg.b.load(slot(oi), typ=acc_type))))
        cg.external("free", VOID, [partial])
        return

    def per_output(out_index):
        acc_slot = cg.entry_alloca(acc_type)
        cg.b.store(identity, acc_slot)

        def step(red_index):
            acc = cg.b.load(acc_slot, typ=acc_type)
            cg.b.store(combine(acc, widen(cg.value(x, full_index(out_index, red_index)))), acc_slot)
        cg.nest(reduced, step)
        cg.store(out, out_index, narrow(cg.b.load(acc_slot, typ=acc_type)))
    cg.split_nest(eqn, out.aval.shape, per_output, work=x.aval.size)

def cumulative(cg, eqn):
    """cumsum/cumprod/cummax/cummin: a running value along `axis`, in the operand's dtype
    and order (as NumPy's accumulate, so the reference's float rounding is reproduced)."""
    (x,), out = eqn.inputs, eqn.outputs[0]
    axis, reverse = eqn.params["axis"], eqn.params.get("reverse", False)
    dtype, shape = out.aval.dtype, out.aval.shape
    name = {"cumsum": "reduce_sum", "cumprod": "reduce_prod", "cummax": "reduce_max",
            "cummin": "reduce_min"}[eqn.prim.name]
    identity, combine = monoid(cg, name, dtype, exact=True)
    acc_slot = cg.entry_alloca(register_type(dtype))
    outer = [n for d, n in enumerate(shape) if d != axis]
    n = shape[axis]

    def per_line(index):
        cg.b.store(identity, acc_slot)

        def step(i):
            cg.memo = {}
            j = cg.b.sub(cg.i64(n - 1), i) if reverse else i
            full = [*index[:axis], j, *index[axis:]]
            acc = combine(cg.b.load(acc_slot, typ=register_type(dtype)), cg.value(x, full))
            cg.b.store(acc, acc_slot)
            cg.store(out, full, acc)
        cg.loop(n, step)
    cg.nest(outer, per_line)

def monoid(cg, name, dtype, exact=False):
    """(identity, combine) of a reduction; `exact` keeps the order of float operations
    (no reassociation, so no vectorized reduction)."""
    if np.dtype(dtype).kind == "c":
        return complex_ops.monoid(cg, name, dtype, exact)
    flt = is_float(dtype)  # (combine uses the builder current when it is called)
    flags = () if exact else ("reassoc",)
    if name == "reduce_sum":
        return constant(dtype, 0), (lambda a, v: cg.b.fadd(a, v, flags=flags) if flt else cg.b.add(a, v))
    if name == "reduce_prod":
        return constant(dtype, 1), (lambda a, v: cg.b.fmul(a, v, flags=flags) if flt else cg.b.mul(a, v))
    if name in ("reduce_max", "reduce_min"):
        largest = name == "reduce_max"
        if flt:
            start = -np.inf if largest else np.inf
        elif dtype == np.bool_:
            start = not largest
        else:
            info = np.iinfo(dtype)
            start = info.min if largest else info.max
        return constant(dtype, start), (lambda a, v: _max_min(cg, dtype, a, v, largest))
    if name == "reduce_and":
        return constant(dtype, -1 if dtype != np.bool_ else True), (lambda a, v: cg.b.and_(a, v))
    if name == "reduce_or":
        return constant(dtype, 0), (lambda a, v: cg.b.or_(a, v))
    raise UnsupportedError(f"kiln LLVM backend: reduction {name} has no lowering yet")

def arg_reduction(cg, eqn, x, out, axes, kept):
    """argmax/argmin over one axis: the first index of the extreme value (NaN counts as the
    extreme, as in NumPy and JAX)."""
    (axis,) = axes
    dtype, largest = x.aval.dtype, eqn.prim.name == "argmax"
    b = cg.b
    best_slot = cg.entry_alloca(register_type(dtype))
    where_slot = cg.entry_alloca(I64)
    n = x.aval.shape[axis]

    def per_output(out_index):
        index = list(out_index)
        index.insert(axis, ir.Constant(I64, 0))
        b.store(cg.value(x, index), best_slot)
        b.store(ir.Constant(I64, 0), where_slot)

        def step(i):
            cg.memo = {}
            index = list(out_index)
            index.insert(axis, i)
            v = cg.value(x, index)
            best = b.load(best_slot, typ=register_type(dtype))
            if dtype.kind == "c":
                better = complex_ops.arg_better(cg, v, best, largest)
            elif is_float(dtype):
                better = b.fcmp_ordered(">" if largest else "<", v, best)
                nan_first = b.and_(b.fcmp_unordered("uno", v, v), b.fcmp_ordered("ord", best, best))
                better = b.or_(better, nan_first)
            else:
                better = (b.icmp_signed if is_signed(dtype) else b.icmp_unsigned)(">" if largest else "<", v, best)
            b.store(b.select(better, v, best), best_slot)
            b.store(b.select(better, i, b.load(where_slot, typ=I64)), where_slot)
        cg.loop(n, step)
        where = b.load(where_slot, typ=I64)
        t = register_type(out.aval.dtype)
        cg.store(out, out_index, b.trunc(where, t) if t.width < 64 else where)
    cg.nest(out.aval.shape, per_output)

def contraction(cg, eqn):
    """dot_general as loops: out[batch, lhs free, rhs free] = sum over the contracted
    dimensions of lhs * rhs, accumulated in the result dtype."""
    if try_gemm(cg, eqn):
        return
    lhs, rhs = eqn.inputs
    out = eqn.outputs[0]
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    lfree = [d for d in range(lhs.aval.ndim) if d not in lc and d not in lb]
    rfree = [d for d in range(rhs.aval.ndim) if d not in rc and d not in rb]
    dtype = out.aval.dtype
    # float16 as NumPy's matmul: float32 sums in order, rounded to float16 once (then cast)
    half_in = lhs.aval.dtype == np.float16
    acc_dtype = np.dtype(np.float32) if half_in else dtype
    zero, _ = monoid(cg, "reduce_sum", acc_dtype)
    acc_slot = cg.entry_alloca(register_type(acc_dtype))
    contracted = [lhs.aval.shape[d] for d in lc]
    flt = is_float(acc_dtype)

    def per_output(oi):
        nb = len(lb)
        batch, li, ri = oi[:nb], oi[nb:nb + len(lfree)], oi[nb + len(lfree):]
        cg.b.store(zero, acc_slot)

        def step(ki):
            cg.memo = {}
            l_index, r_index = [None] * lhs.aval.ndim, [None] * rhs.aval.ndim
            for target, dims, values in ((l_index, lb, batch), (r_index, rb, batch), (l_index, lfree, li),
                                         (r_index, rfree, ri), (l_index, lc, ki), (r_index, rc, ki)):
                for d, i in zip(dims, values):
                    target[d] = i
            a = convert(cg, cg.value(lhs, l_index), lhs.aval.dtype, acc_dtype)
            c = convert(cg, cg.value(rhs, r_index), rhs.aval.dtype, acc_dtype)
            acc = cg.b.load(acc_slot, typ=register_type(acc_dtype))
            if dtype == np.bool_:
                total = cg.b.or_(acc, cg.b.and_(a, c))
            elif dtype.kind == "c":
                total = complex_ops.multiply_add(cg, acc, a, c)
            elif flt:
                total = cg.b.fadd(acc, cg.b.fmul(a, c), flags=() if half_in else ("reassoc",))
            else:
                total = cg.b.add(acc, cg.b.mul(a, c))
            cg.b.store(total, acc_slot)
        if contracted:
            cg.nest(contracted, step)
        else:
            step([])
        total = cg.b.load(acc_slot, typ=register_type(acc_dtype))
        if half_in:
            total = convert(cg, convert(cg, total, acc_dtype, np.float16), np.float16, dtype)
        cg.store(out, oi, total)
    cg.nest(out.aval.shape, per_output)
