"""Trigonometric functions as straight-line instructions (selects, no calls), so that loops
using them vectorize: float64 sin and cos (float32's are in mathlib), tan, atan and atan2.

sin, cos and tan (float32 tan through float64, rounded once) reduce |x| = n pi/2 + y + yy with
pi/2 in four parts, the first three of 33 bits so that n times each is exact for n < 2**20:
with TwoSum keeping each subtraction's error, y + yy is |x| - n pi/2 to about 100 bits, as
fdlibm's __ieee754_rem_pio2 computes it for "medium" arguments. Beyond FAST_LIMIT, an element
raises the kernel's fallback flag and the kernel is run again with the C library (codegen's
`note_fallback`). The polynomials on |y| <= pi/4, with yy's correction, are fdlibm's
__kernel_sin and __kernel_cos; tan is their ratio.

atan reduces |x| to |t| <= 7/16 by atan(x) = atan(c) + atan((x - c) / (1 + c x)) for c in
(0.5, 1, 1.5) and atan(x) = pi/2 - atan(1/x) beyond 39/16, as fdlibm's atan, whose
polynomial it uses for float64; float32 uses Cephes' atanf polynomial, valid for |t| below
tan(pi/8), where its first step starts. atan2 reduces |y| / |x| the same way without
rounding the ratio first, places the angle in its quadrant (pi - angle where x's sign bit is
set, y's sign), and gives IEEE's results for zeros and infinities.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.mathlib_exp import (F64_SPEC, const, copysign, fabs, keep_nan, poly,
                                             round_to_integer, spec, two_sum)
from kiln.backends.llvm.types import I1, I32, I64

FAST_LIMIT = 2.0 ** 20  # |x| above: the C library (n = round(|x| 2/pi) < 2**20 below)

# pi/2 = _PIO2[0] + _PIO2[1] + _PIO2[2] + _PIO2[3], the first three with 33 significant bits
_PIO2 = tuple(float.fromhex(h) for h in ("0x1.921fb54400000p+0", "0x1.0b4611a600000p-34",
                                         "0x1.3198a2e000000p-69", "0x1.b839a252049c1p-104"))
# fdlibm's __kernel_sin and __kernel_cos coefficients: sin y = y + y**3 (S1 + y**2 S2 + ...),
# cos y = 1 - y**2/2 + y**4 (C1 + y**2 C2 + ...)
_S = (-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
      2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10)
_C = (4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
      -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11)


def _d(value):
    return const(F64_SPEC, value)


def _reduce_pio2(cg, ax):
    """(n mod 4 as i32, y, yy) with |x| = n pi/2 + y + yy, for float64 |x| < FAST_LIMIT."""
    b = cg.b
    n, t = round_to_integer(cg, b.fmul(ax, _d(2 / math.pi)))
    r = b.fsub(ax, b.fmul(n, _d(_PIO2[0])))  # exact (Sterbenz)
    r, e2 = two_sum(b, r, b.fmul(n, _d(-_PIO2[1])))
    r, e3 = two_sum(b, r, b.fmul(n, _d(-_PIO2[2])))
    y, yy = two_sum(b, r, b.fadd(b.fadd(e2, e3), b.fmul(n, _d(-_PIO2[3]))))
    quadrant = b.and_(b.trunc(b.bitcast(t, I64), I32), I32(3))  # t's low bits are n's
    return quadrant, y, yy


def _kernels(cg, y, yy):
    """sin(y + yy) and cos(y + yy) for |y| <= ~pi/4 (fdlibm's kernels), each as a pair
    (head, tail) whose sum it is: sin y = y + ..., cos y = (1 - y**2/2) + ..."""
    b = cg.b
    z = b.fmul(y, y)
    v = b.fmul(z, y)
    rest = poly(cg, z, _S[:0:-1])  # S2 + z S3 + ...
    sin_tail = b.fsub(b.fmul(v, _d(_S[0])),
                      b.fsub(b.fmul(z, b.fsub(b.fmul(_d(0.5), yy), b.fmul(v, rest))), yy))
    hz = b.fmul(_d(0.5), z)
    w = b.fsub(_d(1.0), hz)
    tail = b.fsub(b.fmul(z, b.fmul(z, poly(cg, z, _C[::-1]))), b.fmul(y, yy))
    cos_tail = b.fadd(b.fsub(b.fsub(_d(1.0), w), hz), tail)  # with 1 - hz's rounding error
    return (y, sin_tail), (w, cos_tail)


def _divide(cg, num, den):
    """(num head + tail) / (den head + tail): a quotient q and one correction by the
    remainder num - q den, exact where the CPU fuses multiply-adds."""
    b = cg.b
    (n, n_lo), (d, d_lo) = num, den
    inverse = b.fdiv(_d(1.0), b.fadd(d, d_lo))
    q = b.fmul(b.fadd(n, n_lo), inverse)
    rem = b.fadd(cg.intrinsic("llvm.fmuladd", [b.fneg(q), d, n]), b.fsub(n_lo, b.fmul(q, d_lo)))
    return cg.intrinsic("llvm.fmuladd", [rem, inverse, q])


def _trig(cg, x, which: str):
    """sin, cos or tan of x (float32 computed in float64 and rounded once)."""
    b = cg.b
    x64 = x if spec(x) is F64_SPEC else b.fpext(x, ir.DoubleType())
    ax = fabs(cg, x64)
    cg.note_fallback(b.and_(b.fcmp_ordered(">", ax, _d(FAST_LIMIT)), b.fcmp_ordered("<", ax, _d(np.inf))))
    q, y, yy = _reduce_pio2(cg, ax)
    sin, cos = _kernels(cg, y, yy)
    odd = b.trunc(q, I1)
    pick = lambda if_odd, if_even: [b.select(odd, u, v) for u, v in zip(if_odd, if_even)]
    negative = b.icmp_signed("<", b.bitcast(x64, I64), I64(0))  # the sign bit: -0 too
    if which == "sin":  # sin(n pi/2 + y): sin y, cos y, -sin y, -cos y
        out = b.fadd(*pick(cos, sin))
        flip = b.xor(b.icmp_unsigned(">=", q, I32(2)), negative)
    elif which == "cos":  # cos y, -sin y, -cos y, sin y
        out = b.fadd(*pick(sin, cos))
        flip = b.icmp_unsigned("!=", b.and_(b.add(q, I32(1)), I32(2)), I32(0))
    else:  # tan y, -1/tan y
        out = _divide(cg, pick([b.fneg(c) for c in cos], sin), pick(sin, cos))
        flip = negative
    out = b.select(flip, b.fneg(out), out)
    out = keep_nan(cg, x64, out)
    return out if spec(x) is F64_SPEC else b.fptrunc(out, x.type)


def sin(cg, x):
    return _trig(cg, x, "sin")


def cos(cg, x):
    return _trig(cg, x, "cos")


def tan(cg, x):
    if cg.precise:
        return cg.intrinsic("llvm.tan", [x])
    return _trig(cg, x, "tan")


# atan(|x|) = atan(c) + atan((|x| - c) / (1 + c |x|)) from each bound up, (c, atan(c) as
# hi + lo); from the last bound up, pi/2 + atan(-1/|x|)
_ATAN_STEPS = {
    np.float64: ([(7 / 16, 0.5, 4.6364760900080609e-01, 2.2698777452961687e-17),
                  (11 / 16, 1.0, 7.8539816339744828e-01, 3.0616169978683830e-17),
                  (19 / 16, 1.5, 9.8279372324732905e-01, 1.3903311031230998e-17)],
                 (39 / 16, 1.5707963267948966, 6.1232339957367660e-17)),
    np.float32: ([(0.41421356, 0.5, 0.46364760398864746, 5.01215868808913e-09),  # Cephes' |t| bound
                  (11 / 16, 1.0, 0.7853981852531433, -2.1855694143368964e-08),
                  (19 / 16, 1.5, 0.9827937483787537, -2.5131424052915463e-08)],
                 (39 / 16, 1.5707963705062866, -4.371138828673793e-08)),
}
# atan(t) = t - t**3 P(t**2), highest coefficient first: fdlibm's atan (float64), Cephes'
# atanf (float32)
_ATAN_P = {
    np.float64: (1.62858201153657823623e-02, -3.65315727442169155270e-02, 4.97687799461593236017e-02,
                 -5.83357013379057348645e-02, 6.66107313738753120669e-02, -7.69187620504482999495e-02,
                 9.09088713343650656196e-02, -1.11111104054623557880e-01, 1.42857142725034663711e-01,
                 -1.99999999998764832476e-01, 3.33333333333329318027e-01),
    np.float32: (-8.05374449538e-2, 1.38776856032e-1, -1.99777106478e-1, 3.33329491539e-1),
}


def _atan_ratio(cg, sy, sx):
    """atan(sy / sx) for sy, sx >= 0 as a pair (hi, small) whose sum it is, reduced without
    rounding the ratio first: t = (sy - c sx) / (sx + c sy), divided as t + t_lo. atan2
    scales sy and sx so that these terms and 1/sx stay finite where they matter."""
    b, s = cg.b, spec(sx)
    steps, (last, last_hi, last_lo) = _ATAN_STEPS[s.dtype]
    num, den, hi, lo = sy, sx, const(s, 0.0), const(s, 0.0)
    for bound, c, c_hi, c_lo in steps:
        above = b.fcmp_ordered(">=", sy, b.fmul(const(s, bound), sx))
        num = b.select(above, b.fsub(sy, b.fmul(const(s, c), sx)), num)
        den = b.select(above, b.fadd(sx, b.fmul(const(s, c), sy)), den)
        hi = b.select(above, const(s, c_hi), hi)
        lo = b.select(above, const(s, c_lo), lo)
    above = b.fcmp_ordered(">=", sy, b.fmul(const(s, last), sx))
    num = b.select(above, b.fneg(sx), num)
    den = b.select(above, sy, den)
    hi = b.select(above, const(s, last_hi), hi)
    lo = b.select(above, const(s, last_lo), lo)
    # t + t_lo = num / den, t_lo from the remainder (exact where multiply-adds fuse)
    inverse = b.fdiv(const(s, 1.0), den)
    t = b.fmul(num, inverse)
    t_lo = b.fmul(cg.intrinsic("llvm.fmuladd", [b.fneg(t), den, num]), inverse)
    t_lo = b.select(b.fcmp_unordered("uno", t_lo, t_lo), const(s, 0.0), t_lo)  # den infinite: 0 * inf
    z = b.fmul(t, t)
    tail = b.fmul(b.fmul(t, z), poly(cg, z, _ATAN_P[s.dtype]))
    return hi, b.fadd(t, b.fsub(t_lo, b.fsub(tail, lo)))  # atan(c) + t - t**3 P, small terms first


def atan(cg, x):
    hi, small = _atan_ratio(cg, fabs(cg, x), const(spec(x), 1.0))
    return copysign(cg, cg.b.fadd(hi, small), x)


_PI = {np.float64: (3.141592653589793, 1.2246467991473532e-16),
       np.float32: (3.1415927410125732, -8.742278e-08)}


def atan2(cg, y, x):
    """atan(|y| / |x|), or pi - that where x's sign bit is set, with y's sign; 0/0 and
    inf/inf are taken as 0 and pi/4 (IEEE's atan2)."""
    b, s = cg.b, spec(x)
    ax, ay = fabs(cg, x), fabs(cg, y)
    # by a power of two that keeps sy +- c sx finite and 1/sx normal
    emax, emin = (128, -126) if s.dtype == np.float32 else (1024, -1022)
    factor = b.select(b.fcmp_ordered(">", ax, const(s, 2.0 ** (emax - 4))), const(s, 0.125), const(s, 1.0))
    factor = b.select(b.fcmp_ordered("<", ax, const(s, 2.0 ** (emin + s.mantissa + 2))),
                      const(s, 2.0 ** (s.mantissa + 2)), factor)
    hi, small = _atan_ratio(cg, b.fmul(ay, factor), b.fmul(ax, factor))
    # 0/0 and inf/inf, NaN as ratios: atan 0 and pi/4
    both = lambda v: b.and_(b.fcmp_ordered("==", ax, const(s, v)), b.fcmp_ordered("==", ay, const(s, v)))
    zeros, infinities = both(0.0), both(np.inf)
    _, _, quarter_hi, quarter_lo = _ATAN_STEPS[s.dtype][0][1]  # c = 1: pi/4
    hi = b.select(zeros, const(s, 0.0), b.select(infinities, const(s, quarter_hi), hi))
    small = b.select(zeros, const(s, 0.0), b.select(infinities, const(s, quarter_lo), small))
    pi_hi, pi_lo = _PI[s.dtype]
    left = b.icmp_signed("<", b.bitcast(x, s.int_type), ir.Constant(s.int_type, 0))  # -0 too
    a = b.select(left, b.fadd(b.fsub(const(s, pi_hi), hi), b.fsub(const(s, pi_lo), small)), b.fadd(hi, small))
    return copysign(cg, a, y)
