"""float16: stored as LLVM `half`, computed as NumPy computes it.

NumPy computes each float16 operation in float32 and rounds the result to float16; for +, -,
*, / and sqrt that is the correctly rounded float16 result (float32 has more than 2*11 + 2
bits, so the double rounding is innocuous), and the reference backend's transcendentals are
correctly rounded values rounded once more. So every scalar rule runs on float16 operands
widened to float32 (`through_float32`), with its float16 results rounded back; only the
conversions and nextafter, which depend on float16's own bits, are written here.

float64 -> float16 is not one LLVM instruction on x86 (it calls `__truncdfhf2`, which the JIT
does not provide): it rounds to float32 with round-to-odd, then to float16, which is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from llvmlite import ir

from kiln.ir import ShapedArray

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
HALF = ir.HalfType()
I16, I32 = ir.IntType(16), ir.IntType(32)

# Rules that read float16 values themselves rather than through float32.
NATIVE = frozenset({"convert_element_type", "nextafter"})


@dataclass(frozen=True)
class _Atom:
    aval: ShapedArray


@dataclass(frozen=True)
class _Widened:
    """An equation as its rule sees it: float16 operands and results read as float32."""
    prim: object
    inputs: tuple
    params: dict
    outputs: tuple
    loc: object = None


def _widen(atom):
    aval = atom.aval
    return _Atom(aval.update(dtype=F32)) if aval.dtype == F16 else atom


def has_half(eqn) -> bool:
    return any(a.aval.dtype == F16 for a in (*eqn.inputs, *eqn.outputs))


def through_float32(name, lower):
    """`lower`, applied to float16 operands as float32 and its float16 results rounded back."""
    if name in NATIVE:
        return lower

    def rule(cg, eqn, *args):
        if not has_half(eqn):
            return lower(cg, eqn, *args)
        b = cg.b
        args = [b.fpext(a, ir.FloatType()) if a.type == HALF else a for a in args]
        wide = _Widened(eqn.prim, tuple(map(_widen, eqn.inputs)), eqn.params,
                        tuple(map(_widen, eqn.outputs)), eqn.loc)
        out = lower(cg, wide, *args)
        outs = out if isinstance(out, list) else [out]
        outs = [b.fptrunc(v, HALF) if o.aval.dtype == F16 else v for v, o in zip(outs, eqn.outputs)]
        return outs if isinstance(out, list) else outs[0]
    return rule


def from_float64(cg, x):
    """float64 -> float16, correctly rounded: to float32 rounding to odd (truncate, and set the
    last bit when anything was dropped), then to float16 to nearest even."""
    b = cg.b
    t = b.fptrunc(x, ir.FloatType())
    back = b.fpext(t, ir.DoubleType())
    inexact = b.fcmp_ordered("!=", back, x)  # NaN is exact: it stays NaN
    bits = b.bitcast(t, I32)
    # rounded away from zero (|t| > |x|): step back one ulp toward zero
    away = b.fcmp_ordered(">", cg.intrinsic("llvm.fabs", [back]), cg.intrinsic("llvm.fabs", [x]))
    bits = b.select(away, b.sub(bits, ir.Constant(I32, 1)), bits)
    bits = b.select(inexact, b.or_(bits, ir.Constant(I32, 1)), bits)
    return b.fptrunc(b.bitcast(bits, ir.FloatType()), HALF)


def to_half(cg, x, src):
    """A float or integer value of dtype `src` (not bool) as float16."""
    b, src = cg.b, np.dtype(src)
    if src == F64:
        return from_float64(cg, x)
    if src.kind == "f":
        return b.fptrunc(x, HALF)
    # integers: exact in float64 below 2**53; anything from 65520 on is inf either way
    wide = b.sitofp(x, ir.DoubleType()) if src.kind == "i" else b.uitofp(x, ir.DoubleType())
    return from_float64(cg, wide)


def nextafter(cg, x, y):
    """NumPy's npy_half_nextafter, on the bits: NaN if either is NaN, x if x == y, the
    smallest subnormal toward y from ±0, else one step of the bits toward y."""
    b = cg.b
    xb, yb = b.bitcast(x, I16), b.bitcast(y, I16)
    c = lambda v: ir.Constant(I16, v)
    # the bits count away from zero on both sides: down toward zero when y lies that way
    negative = b.icmp_unsigned("!=", b.and_(xb, c(0x8000)), c(0))
    down = b.xor(b.fcmp_ordered(">", x, y), negative)
    step = b.select(down, b.sub(xb, c(1)), b.add(xb, c(1)))
    tiny = b.or_(b.and_(yb, c(0x8000)), c(1))
    out = b.select(b.fcmp_ordered("==", x, ir.Constant(HALF, 0.0)), tiny, step)
    out = b.select(b.fcmp_ordered("==", x, y), xb, out)
    out = b.select(b.fcmp_unordered("uno", x, y), c(0x7E00), out)
    return b.bitcast(out, HALF)
