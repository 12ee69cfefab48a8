"""sort (several operands, the first `num_keys` compared lexicographically) as a stable
bottom-up merge sort of a permutation, per line along `dimension`, then a gather of every
operand through it. The order is NumPy's and the reference's: NaN after everything, equal keys
(also -0.0 and 0.0) in their original order.
"""
from __future__ import annotations

from llvmlite import ir

from kiln.backends.llvm import complex as complex_ops
from kiln.backends.llvm.types import I1, I64, PTR, is_float, is_signed

__all__ = ["emit"]


def _less(cg, dtype, a, b):
    builder = cg.b
    if dtype.kind == "c":
        return complex_ops.less(cg, a, b)
    if is_float(dtype):
        nan_b = builder.fcmp_unordered("uno", b, b)
        not_nan_a = builder.fcmp_ordered("ord", a, a)
        return builder.or_(builder.fcmp_ordered("<", a, b), builder.and_(nan_b, not_nan_a))
    return (builder.icmp_signed if is_signed(dtype) else builder.icmp_unsigned)("<", a, b)


def emit(cg, eqn):
    operands, outputs = eqn.inputs, eqn.outputs
    d, num_keys = eqn.params["dimension"], eqn.params["num_keys"]
    shape = outputs[0].aval.shape
    n = shape[d] if shape else 1
    if any(s == 0 for s in shape):
        return
    b = cg.b
    c = cg.i64
    perm = cg.external("malloc", PTR, [c(8 * n)])
    spare = cg.external("malloc", PTR, [c(8 * n)])
    outer = [s for k, s in enumerate(shape) if k != d]

    def at(buffer, i):
        return b.gep(buffer, [i], inbounds=True, source_etype=I64)

    def per_line(index):
        def full(i):
            return [*index[:d], i, *index[d:]] if shape else []

        def key_less(i, j):  # operand position i before position j?
            result = ir.Constant(I1, 0)
            for atom in reversed(operands[:num_keys]):
                dtype = atom.aval.dtype
                vi, vj = cg.value(atom, full(i)), cg.value(atom, full(j))
                lt, gt = _less(cg, dtype, vi, vj), _less(cg, dtype, vj, vi)
                result = b.or_(lt, b.and_(b.not_(gt), result))
            return result

        cg.loop(n, lambda i: b.store(i, at(perm, i)))
        src, dst = cg.entry_alloca(PTR), cg.entry_alloca(PTR)
        b.store(perm, src)
        b.store(spare, dst)
        width = cg.entry_alloca(I64)
        b.store(c(1), width)

        def passes_left():
            return b.icmp_signed("<", b.load(width, typ=I64), c(n))

        def one_pass():
            w = b.load(width, typ=I64)
            s, t = b.load(src, typ=PTR), b.load(dst, typ=PTR)
            runs = b.sdiv(b.add(c(n - 1), b.mul(w, c(2))), b.mul(w, c(2)))

            def merge(r):
                lo = b.mul(r, b.mul(w, c(2)))
                mid = cg._clamp(b.add(lo, w), 0, n)
                hi = cg._clamp(b.add(lo, b.mul(w, c(2))), 0, n)
                i_slot, j_slot = cg.entry_alloca(I64), cg.entry_alloca(I64)
                b.store(lo, i_slot)
                b.store(mid, j_slot)

                def take(k):
                    i, j = b.load(i_slot, typ=I64), b.load(j_slot, typ=I64)
                    pi = b.load(at(s, cg._clamp(i, 0, n - 1)), typ=I64)
                    pj = b.load(at(s, cg._clamp(j, 0, n - 1)), typ=I64)
                    cg.memo = {}
                    right = b.and_(b.icmp_signed("<", j, hi),
                                   b.or_(b.icmp_signed(">=", i, mid), key_less(pj, pi)))
                    b.store(b.select(right, pj, pi), at(t, k))
                    b.store(b.select(right, b.add(j, c(1)), j), j_slot)
                    b.store(b.select(right, i, b.add(i, c(1))), i_slot)
                cg.loop_range(lo, hi, take)
            cg.loop_range(c(0), runs, merge)
            b.store(t, src)
            b.store(s, dst)
            b.store(b.mul(w, c(2)), width)
        cg.while_(passes_left, one_pass)

        sorted_perm = b.load(src, typ=PTR)

        def write(i):
            cg.memo = {}
            p = b.load(at(sorted_perm, i), typ=I64)
            for atom, out in zip(operands, outputs):
                cg.store(out, full(i), cg.value(atom, full(p)))
        cg.loop(n, write)
    cg.nest(outer, per_line)
    cg.external("free", ir.VoidType(), [perm])
    cg.external("free", ir.VoidType(), [spare])
