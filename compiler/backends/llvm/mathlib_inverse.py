"""cbrt, asinh, acosh and atanh as straight-line instructions (selects, no calls), so that
loops using them vectorize. Each is computed in float64 (float32 operands widened, the
result rounded once, as fdlibm's cbrtf computes in double too).

cbrt is fdlibm's: an estimate from the exponent bits divided by 3, a polynomial step to 23
bits, rounding to 32 bits, and one Newton step (within 0.67 ulp). asinh and acosh are
fdlibm's formulas through log1p or log, atanh is log1p(2|x| / (1 - |x|)) / 2; each case
selects the argument of one log, log1p(u + u_lo) = log(1 + u) - ((1 + u) - 1 - u - u_lo) /
(1 + u) as `mathlib.log1p64`, with u_lo the rounding error of u where it is cheap to keep.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir

from kiln.backends.llvm import mathlib
from kiln.backends.llvm.mathlib_exp import F64_SPEC, const, copysign, fabs, keep_nan, spec
from kiln.backends.llvm.types import I32, I64

DOUBLE = ir.DoubleType()


def _d(value):
    return const(F64_SPEC, value)


def _in_float64(fn):
    """fn on float64 values; float32 values widened, and the result rounded once."""
    def lower(cg, x):
        if spec(x) is F64_SPEC:
            return fn(cg, x)
        return cg.b.fptrunc(fn(cg, cg.b.fpext(x, DOUBLE)), x.type)
    return lower


# fdlibm's cbrt: the high word of |x| divided by 3 plus B1 (B2 for subnormals, scaled by
# 2**54 first) estimates cbrt(|x|) to 5 bits; the polynomial in r = t**3/|x| takes it to 23.
_B1, _B2 = 715094163, 696219795
_CBRT_P = (1.87595182427177009643, -1.88497979543377169875, 1.621429720105354466140,
           -0.758397934778766047437, 0.145996192886612446982)


@_in_float64
def cbrt(cg, x):
    b = cg.b
    ax = fabs(cg, x)
    sub = b.fcmp_ordered("<", ax, _d(np.finfo(np.float64).tiny))
    high = b.trunc(b.lshr(b.bitcast(b.select(sub, b.fmul(ax, _d(2.0 ** 54)), ax), I64), I64(32)), I32)
    high = b.add(b.udiv(high, I32(3)), b.select(sub, I32(_B2), I32(_B1)))
    t = b.bitcast(b.shl(b.zext(high, I64), I64(32)), DOUBLE)
    r = b.fmul(b.fmul(t, t), b.fdiv(t, ax))
    p = b.fadd(b.fadd(_d(_CBRT_P[0]), b.fmul(r, b.fadd(_d(_CBRT_P[1]), b.fmul(r, _d(_CBRT_P[2]))))),
               b.fmul(b.fmul(b.fmul(r, r), r), b.fadd(_d(_CBRT_P[3]), b.fmul(r, _d(_CBRT_P[4])))))
    t = b.fmul(t, p)
    # to 32 bits, rounded away from zero, so that t*t below is exact
    t = b.bitcast(b.and_(b.add(b.bitcast(t, I64), I64(0x80000000)), I64(-(1 << 30))), DOUBLE)
    s = b.fmul(t, t)
    r = b.fdiv(ax, s)
    r = b.fdiv(b.fsub(r, t), b.fadd(b.fadd(t, t), r))
    t = b.fadd(t, b.fmul(t, r))
    finite_nonzero = b.and_(b.fcmp_ordered(">", ax, _d(0.0)), b.fcmp_ordered("<", ax, _d(np.inf)))
    return b.select(finite_nonzero, copysign(cg, t, x), x)  # ±0, ±inf and NaN: x


def _log1p_parts(cg, u, u_lo):
    """(1 + u, the correction c) with log1p(u + u_lo) = log(1 + u) - c: 1 + u's rounding
    error and u_lo (below an ulp of u), relative to 1 + u."""
    b = cg.b
    y = b.fadd(_d(1.0), u)
    return y, b.fdiv(b.fsub(b.fsub(b.fsub(y, _d(1.0)), u), u_lo), y)


def _sum(b, big, small):
    """(big + small, its rounding error) for |big| >= |small|: Dekker's Fast2Sum."""
    s = b.fadd(big, small)
    return s, b.fadd(b.fsub(big, s), small)


_BIG = 2.0 ** 28  # above: asinh, acosh = log(2|x|), to the last bit


@_in_float64
def asinh(cg, x):
    """log(2|x|) for |x| > 2**28; log(2|x| + 1/(sqrt(x**2 + 1) + |x|)) above 2; below,
    log1p(|x| + x**2/(1 + sqrt(1 + x**2))); x itself below 2**-28."""
    b = cg.b
    ax = fabs(cg, x)
    x2 = b.fmul(ax, ax)
    root = cg.intrinsic("llvm.sqrt", [b.fadd(x2, _d(1.0))])
    y_small, c_small = _log1p_parts(cg, *_sum(b, ax, b.fdiv(x2, b.fadd(_d(1.0), root))))
    y_mid = b.fadd(b.fmul(ax, _d(2.0)), b.fdiv(_d(1.0), b.fadd(root, ax)))
    big = b.fcmp_ordered(">", ax, _d(_BIG))
    mid = b.fcmp_ordered(">", ax, _d(2.0))
    y = b.select(big, ax, b.select(mid, y_mid, y_small))
    c = b.select(big, _d(-math.log(2)), b.select(mid, _d(0.0), c_small))
    out = copysign(cg, b.fsub(mathlib.log64(cg, y), c), x)
    return b.select(b.fcmp_ordered("<", ax, _d(2.0 ** -28)), x, out)


@_in_float64
def acosh(cg, x):
    """log(2x) for x > 2**28; log(2x - 1/(x + sqrt(x**2 - 1))) above 2; below,
    log1p(t + sqrt(2t + t**2)) with t = x - 1 (exact); NaN below 1."""
    b = cg.b
    t = b.fsub(x, _d(1.0))
    y_small, c_small = _log1p_parts(cg, *_sum(b, cg.intrinsic("llvm.sqrt", [
        b.fadd(b.fmul(t, _d(2.0)), b.fmul(t, t))]), t))
    root = cg.intrinsic("llvm.sqrt", [b.fsub(b.fmul(x, x), _d(1.0))])
    y_mid = b.fsub(b.fmul(x, _d(2.0)), b.fdiv(_d(1.0), b.fadd(x, root)))
    big = b.fcmp_ordered(">", x, _d(_BIG))
    mid = b.fcmp_ordered(">", x, _d(2.0))
    y = b.select(big, x, b.select(mid, y_mid, y_small))
    c = b.select(big, _d(-math.log(2)), b.select(mid, _d(0.0), c_small))
    out = b.fsub(mathlib.log64(cg, y), c)
    return b.select(b.fcmp_unordered("<", x, _d(1.0)), _d(np.nan), out)


@_in_float64
def atanh(cg, x):
    """log1p(2|x| / (1 - |x|)) / 2, the quotient as u + u_lo from its remainder (exact where
    multiply-adds fuse) and 1 - |x|'s rounding error; ±inf at ±1, NaN beyond, x itself
    below 2**-28."""
    b = cg.b
    ax = fabs(cg, x)
    two_ax = b.fmul(ax, _d(2.0))
    d, d_lo = _sum(b, _d(1.0), b.fneg(ax))
    u = b.fdiv(two_ax, d)
    rem = b.fsub(cg.intrinsic("llvm.fmuladd", [b.fneg(u), d, two_ax]), b.fmul(u, d_lo))
    y, c = _log1p_parts(cg, u, b.fdiv(rem, d))
    out = b.fmul(b.fsub(mathlib.log64(cg, y), c), _d(0.5))
    out = b.select(b.fcmp_ordered("==", ax, _d(1.0)), _d(np.inf), out)
    out = b.select(b.fcmp_ordered(">", ax, _d(1.0)), _d(np.nan), out)
    out = copysign(cg, out, x)
    return keep_nan(cg, x, b.select(b.fcmp_ordered("<", ax, _d(2.0 ** -28)), x, out))
