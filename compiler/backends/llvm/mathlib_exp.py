"""The exponential family as straight-line instructions (selects, no calls), so that loops
using them vectorize: float64 exp, exp2, expm1, sinh, cosh and float64 tanh.

All share Cody and Waite's reduction x = k ln2 + r, k = round(x / ln2), |r| <= ln2/2, with
ln2 = LN2_HI + LN2_LO and k * LN2_HI exact, so that r is exact but for the last rounding.
expm1(r) is its Taylor polynomial (to r**8/8! for float32, r**14/14! for float64: the next
term is below 0.1 ulp on |r| <= ln2/2), and 2**k is built from exponent bits. k is rounded by
adding 1.5 * 2**52 (1.5 * 2**23 for float32), whose sum holds k in its low bits: no float to
integer conversion, which AVX2 lacks for float64 vectors. Results whose 2**k is not a normal
number (subnormal results, sinh just below overflow) are scaled by two powers of two.

Polynomials are evaluated with `llvm.fmuladd` (a fused multiply-add where the CPU has one);
the error-free steps are plain instructions, which LLVM never contracts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.types import I32, I64, constant


@dataclass(frozen=True)
class Spec:
    """A float format's constants for the bit manipulations and reductions."""
    dtype: type
    int_type: ir.IntType
    mantissa: int  # explicit significand bits
    bias: int
    ln2_hi: float
    ln2_lo: float
    expm1_degree: int


F32_SPEC = Spec(np.float32, I32, 23, 127, 0.693359375, -2.12194440e-4, 8)
F64_SPEC = Spec(np.float64, I64, 52, 1023, 6.93147180369123816490e-01, 1.90821492927058770002e-10, 14)


def spec(x) -> Spec:
    return F32_SPEC if str(x.type) == "float" else F64_SPEC


# ---------------------------------------------------------------------------- helpers

def const(s: Spec, value):
    return constant(s.dtype, value)


def poly(cg, x, coefficients):
    """Horner's rule with fused multiply-adds, highest coefficient first, in x's type."""
    s = spec(x)
    acc = const(s, coefficients[0])
    for c in coefficients[1:]:
        acc = cg.intrinsic("llvm.fmuladd", [acc, x, const(s, c)])
    return acc


def fabs(cg, x):
    return cg.intrinsic("llvm.fabs", [x])


def copysign(cg, magnitude, sign):
    return cg.intrinsic("llvm.copysign", [magnitude, sign])


def clamp(cg, x, lo, hi):
    """x limited to [lo, hi]; NaN stays NaN (the callers select it out at the end)."""
    b, s = cg.b, spec(x)
    x = b.select(b.fcmp_ordered("<", x, const(s, lo)), const(s, lo), x)
    return b.select(b.fcmp_ordered(">", x, const(s, hi)), const(s, hi), x)


def keep_nan(cg, x, out):
    return cg.b.select(cg.b.fcmp_unordered("uno", x, x), x, out)


def shifter(s: Spec):
    """1.5 * 2**mantissa: adding it rounds to an integer held in the sum's low bits."""
    return const(s, 1.5 * 2.0 ** s.mantissa)


def round_to_integer(cg, x):
    """(round(x) as a float, the sum whose low bits hold it); |x| < 2**(mantissa - 1)."""
    b, s = cg.b, spec(x)
    t = b.fadd(x, shifter(s))
    return b.fsub(t, shifter(s)), t


def pow2(cg, k):
    """2**k for an integer-valued float k within the normal exponent range."""
    b, s = cg.b, spec(k)
    bits = b.bitcast(b.fadd(k, shifter(s)), s.int_type)  # low bits: k (two's complement)
    bits = b.shl(b.add(bits, ir.Constant(s.int_type, s.bias)), ir.Constant(s.int_type, s.mantissa))
    return b.bitcast(bits, k.type)


def scale(cg, y, k):
    """y * 2**k in two exact steps, so that 2**k may be subnormal or just above the largest
    float and only the last product rounds."""
    b = cg.b
    k1 = cg.intrinsic("llvm.floor", [b.fmul(k, const(spec(k), 0.5))])
    return b.fmul(b.fmul(y, pow2(cg, k1)), pow2(cg, b.fsub(k, k1)))


# ---------------------------------------------------------------------------- the reduction

def two_sum(b, a, c):
    """(a + c rounded, its rounding error exactly): Knuth's TwoSum."""
    s = b.fadd(a, c)
    cc = b.fsub(s, a)
    return s, b.fadd(b.fsub(a, b.fsub(s, cc)), b.fsub(c, cc))


def expm1_poly(cg, r, r_lo=None):
    """expm1(r + r_lo) for |r| <= ln2/2, r_lo below an ulp of r, as the pair (r, t) whose
    sum it is: t = r_lo + r**2 (1/2 + r/3! + r**2/4! + ...), Taylor's. Kept unrounded, so
    that r, exact, is added to the large terms last."""
    s = spec(r)
    q = poly(cg, r, [1 / math.factorial(n) for n in range(s.expm1_degree, 2, -1)])
    q = cg.intrinsic("llvm.fmuladd", [r, q, const(s, 0.5)])
    return r, cg.intrinsic("llvm.fmuladd", [cg.b.fmul(r, r), q, const(s, 0.0) if r_lo is None else r_lo])


def reduce(cg, x):
    """(k, r, t) with x = k ln2 + r + r_lo and expm1(r + r_lo) = r + t; x finite and below
    2**20 (callers clamp). x - k LN2_HI is exact; subtracting k LN2_LO rounds, by r_lo."""
    b, s = cg.b, spec(x)
    k, _ = round_to_integer(cg, b.fmul(x, const(s, 1 / math.log(2))))
    r, r_lo = two_sum(b, b.fsub(x, b.fmul(k, const(s, s.ln2_hi))), b.fmul(k, const(s, -s.ln2_lo)))
    return (k, *expm1_poly(cg, r, r_lo))


def one_plus(cg, r, t, one=None):
    """one + r + t (one: 1 by default, at least |r|), rounded once but for t's low bits:
    Dekker's Fast2Sum of one and r."""
    b = cg.b
    one = const(spec(r), 1.0) if one is None else one
    hi = b.fadd(one, r)
    return b.fadd(hi, b.fadd(b.fadd(b.fsub(one, hi), r), t))


# Clamps that keep k's powers of two in range and the results already 0, -1 or inf.
_EXP_RANGE = {np.float32: (-104.0, 89.0), np.float64: (-746.0, 710.0)}
_EXPM1_RANGE = {np.float32: (-20.0, 89.0), np.float64: (-40.0, 710.0)}
_EXP2_RANGE = {np.float32: (-151.0, 129.0), np.float64: (-1076.0, 1025.0)}
_HYPERBOLIC_MAX = {np.float32: 90.0, np.float64: 711.0}  # past sinh's and cosh's overflow


def exp(cg, x):
    """e**x = (1 + expm1(r)) 2**k."""
    s = spec(x)
    k, r, t = reduce(cg, clamp(cg, x, *_EXP_RANGE[s.dtype]))
    return keep_nan(cg, x, scale(cg, one_plus(cg, r, t), k))


def exp2(cg, x):
    """2**x = 2**k e**(f ln2) with k = round(x) and f = x - k exact; f ln2's rounding error
    is kept where the CPU fuses multiply-adds."""
    b, s = cg.b, spec(x)
    xc = clamp(cg, x, *_EXP2_RANGE[s.dtype])
    k, _ = round_to_integer(cg, xc)
    f = b.fsub(xc, k)
    r = b.fmul(f, const(s, math.log(2)))
    r_lo = cg.intrinsic("llvm.fmuladd", [f, const(s, math.log(2)), b.fneg(r)])
    return keep_nan(cg, x, scale(cg, one_plus(cg, *expm1_poly(cg, r, r_lo)), k))


def expm1(cg, x):
    """e**x - 1 = 2 ((h - 1/2) + h r + h t) with h = 2**(k-1), summed exactly but for the
    last rounding and t's low bits (k = 0 gives r + t itself)."""
    b, s = cg.b, spec(x)
    k, r, t = reduce(cg, clamp(cg, x, *_EXPM1_RANGE[s.dtype]))
    h = pow2(cg, b.fsub(k, const(s, 1.0)))
    a = b.fsub(h, const(s, 0.5))
    a_lo = b.fsub(b.fsub(h, a), const(s, 0.5))  # h - 1/2 rounds where h > 2**mantissa
    hi, lo = two_sum(b, a, b.fmul(h, r))
    out = b.fmul(b.fadd(hi, cg.intrinsic("llvm.fmuladd", [h, t, b.fadd(lo, a_lo)])), const(s, 2.0))
    tiny = b.fcmp_ordered("<", fabs(cg, x), const(s, 2.0 ** -(s.mantissa + 2)))
    return keep_nan(cg, x, b.select(tiny, x, out))  # tiny: x itself, ±0 and subnormals kept


def _half_exp_pair(cg, ax, sign):
    """(e**|x| + sign e**-|x|) / 2: with e**|x| = 2**k (1 + r + t),
    2**(k-1) (1 + r + (t + sign 2**-2k / (1 + r + t))), 1 + r added last."""
    b, s = cg.b, spec(ax)
    top = _HYPERBOLIC_MAX[s.dtype]
    k, r, t = reduce(cg, b.select(b.fcmp_ordered(">", ax, const(s, top)), const(s, top), ax))
    # 2**-2k, or a power small enough to be lost in 1 where that would be subnormal
    m = pow2(cg, b.fmul(cg.intrinsic("llvm.minnum", [k, const(s, s.bias // 2)]), const(s, -2.0)))
    u = b.fdiv(const(s, sign), b.fadd(const(s, 1.0), b.fadd(r, t)))
    return scale(cg, one_plus(cg, r, cg.intrinsic("llvm.fmuladd", [m, u, t])), b.fsub(k, const(s, 1.0)))


def sinh(cg, x):
    """Taylor's x + x**3/3! + ... for |x| < 1 (to x**17/17! for float64); above,
    (e**|x| - e**-|x|) / 2."""
    b, s = cg.b, spec(x)
    ax = fabs(cg, x)
    large = _half_exp_pair(cg, ax, -1.0)
    z = b.fmul(ax, ax)
    last = 11 if s.dtype == np.float32 else 17
    series = cg.intrinsic("llvm.fmuladd", [
        b.fmul(ax, z), poly(cg, z, [1 / math.factorial(n) for n in range(last, 2, -2)]), ax])
    out = b.select(b.fcmp_ordered("<", ax, const(s, 1.0)), series, large)
    return keep_nan(cg, x, copysign(cg, out, x))


def cosh(cg, x):
    """(e**|x| + e**-|x|) / 2."""
    return keep_nan(cg, x, _half_exp_pair(cg, fabs(cg, x), 1.0))


# Cephes' tanh: x + x**3 P(x**2)/Q(x**2) for |x| < 0.625 (Q monic, highest first).
_TANH_P = (-9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3)
_TANH_Q = (1.0, 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3)


def tanh64(cg, x):
    """float64 tanh: Cephes' rational for |x| < 0.625; above, 1 - 2/(e**2|x| + 1) with
    e**2|x| + 1 = 2**k ((1 + 2**-k) + r + t); both as a + n/d, selected before one division."""
    b, s = cg.b, spec(x)
    ax = fabs(cg, x)
    small = b.fcmp_ordered("<", ax, const(s, 0.625))
    z = b.fmul(ax, ax)
    k, r, t = reduce(cg, b.fmul(clamp(cg, ax, 0.0, 20.0), const(s, 2.0)))
    big = one_plus(cg, r, t, b.fadd(const(s, 1.0), pow2(cg, b.fneg(k))))
    a = b.select(small, ax, const(s, 1.0))
    n = b.select(small, b.fmul(b.fmul(ax, z), poly(cg, z, _TANH_P)),
                 b.fneg(pow2(cg, b.fsub(const(s, 1.0), k))))  # -2 / 2**k
    d = b.select(small, poly(cg, z, _TANH_Q), big)
    return keep_nan(cg, x, copysign(cg, b.fadd(a, b.fdiv(n, d)), x))
