"""Special functions as straight-line instructions (selects, no branches, so loops that use
them vectorize).

float32 erf and lgamma are XLA:CPU's own sequences, operation for operation as the reference
backend computes them (`kiln.lax.xla_math.erf32`, `lgamma32`: JAX's bits); lgamma's reflection
takes the C library's sinf through `llvm.sin`, as XLA's code does (the vectorizer widens it,
and codegen calls sinf for each lane).

float64 lgamma, and digamma (float32 computed in float64 and rounded once), are SciPy's, as the
reference backend computes them: Cephes' `lgam`, and `psi` (Cephes, with Boost's rational
function on [1, 2], and a Taylor series about digamma's negative zero). These follow the same
algorithms, every loop of a data-dependent length unrolled to its bound and guarded by selects:
they agree to a few ulp, or, where the result is near 0 (lgamma near 1 and 2, either near its
negative zeros) and both sides cancel, to a few ulp of 1. float64 erf_inv is XLA's polynomial
(Giles).
"""
from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir

from kiln.backends.llvm import mathlib
from kiln.backends.llvm.types import I32, constant
from kiln.lax import xla_math as xm

F64 = np.float64


def _d(value):
    return constant(F64, value)


def _poly1(b, x, coefficients):
    """Horner's rule with an implicit leading 1 (Cephes' p1evl)."""
    acc = b.fadd(x, _d(coefficients[0]))
    for c in coefficients[1:]:
        acc = b.fadd(b.fmul(acc, x), _d(c))
    return acc


def _lt(b, x, v):
    return b.fcmp_ordered("<", x, _d(v))


# ---------------------------------------------------------------------------- sin, cos on [-pi, pi]

_PI = np.pi
_PIO2_HI, _PIO2_LO = 1.57079632673412561417e+00, 6.07710050650619224932e-11  # fdlibm's pio2_1, pio2_1t
# Taylor coefficients of sin(u)/u and cos(u) in u**2, highest first: |u| <= pi/4 needs 9 terms.
_SIN = [(-1) ** k / float(np.prod(np.arange(1, 2 * k + 2, dtype=np.float64))) for k in range(9)][::-1]
_COS = [(-1) ** k / float(np.prod(np.arange(1, 2 * k + 1, dtype=np.float64))) for k in range(10)][::-1]


def _sin_cos(cg, a):
    """(sin a, cos a) for |a| <= pi (the Cephes code above takes sin and tan of pi times a
    reduced argument): a = k pi/2 + d, |d| <= pi/4, d in two parts, then Taylor series."""
    b = cg.b
    k = cg.intrinsic("llvm.roundeven", [b.fmul(a, _d(2 / _PI))])
    d = b.fsub(b.fsub(a, b.fmul(k, _d(_PIO2_HI))), b.fmul(k, _d(_PIO2_LO)))
    d2 = b.fmul(d, d)
    s = b.fmul(d, mathlib.horner(b, d2, _SIN))
    c = mathlib.horner(b, d2, _COS)
    quadrant = b.and_(b.fptosi(k, I32), ir.Constant(I32, 3))
    odd = b.trunc(quadrant, ir.IntType(1))
    flip_sin = b.icmp_unsigned(">=", quadrant, ir.Constant(I32, 2))  # quadrants 2, 3: -sin, -cos
    flip_cos = b.or_(b.icmp_unsigned("==", quadrant, ir.Constant(I32, 1)),
                     b.icmp_unsigned("==", quadrant, ir.Constant(I32, 2)))
    sin_a, cos_a = b.select(odd, c, s), b.select(odd, s, c)
    return b.select(flip_sin, b.fneg(sin_a), sin_a), b.select(flip_cos, b.fneg(cos_a), cos_a)


# ---------------------------------------------------------------------------- float32 erf, lgamma

def _f(value):
    """A float32 constant from a NumPy float32 (bit patterns kept)."""
    return constant(np.float32, float(value))


def _fma(cg, a, b, c):
    return cg.intrinsic("llvm.fma", [a, b, c])


def erf32(cg, x, saturate):
    """XLA's float32 erf saturating at `saturate`, a float32 value (`kiln.lax.xla_math.erf32`)."""
    b = cg.b
    x2 = b.fmul(x, x)
    p, q = _f(xm.ERF_P[0]), _f(xm.ERF_Q[0])
    for c in xm.ERF_P[1:]:
        p = _fma(cg, x2, p, _f(c))
    for c in xm.ERF_Q[1:]:
        q = _fma(cg, x2, q, _f(c))
    out = b.fdiv(b.fmul(x, p), q)
    saturated = b.fcmp_ordered(">=", cg.intrinsic("llvm.fabs", [x]), saturate)
    return b.select(saturated, cg.intrinsic("llvm.copysign", [_f(1.0), x]), out)


def lgamma32(cg, x):
    """XLA's float32 lgamma, Lanczos' approximation (`kiln.lax.xla_math.lgamma32`)."""
    b = cg.b
    reflect = b.fcmp_ordered("<", x, _f(0.5))
    z = b.select(reflect, b.fneg(x), b.fsub(x, _f(1.0)))
    s = b.fadd(_f(1.0), b.fdiv(_f(xm.LANCZOS[0]), b.fadd(z, _f(1.0))))
    for i, c in enumerate(xm.LANCZOS[1:], start=2):
        s = b.fadd(s, b.fdiv(_f(c), b.fadd(z, _f(i))))
    t = b.fadd(z, _f(xm.LANCZOS_G + np.float32(0.5)))
    log_t = b.fadd(mathlib.log1p(cg, b.fmul(z, _f(xm.INV_G_HALF))), _f(xm.LOG_G_HALF))
    w = b.fsub(b.fadd(z, _f(0.5)), b.fdiv(t, log_t))
    log_y = b.fadd(_fma(cg, log_t, w, _f(xm.LOG_SQRT_2PI)), mathlib.log(cg, s))

    a = cg.intrinsic("llvm.fabs", [x])
    frac = b.fsub(a, cg.intrinsic("llvm.floor", [a]))
    frac = b.select(b.fcmp_ordered(">", frac, _f(0.5)), b.fsub(_f(1.0), frac), frac)
    log_sin = mathlib.log(cg, cg.intrinsic("llvm.sin", [b.fmul(_f(xm.PI), frac)]))
    finite = b.fcmp_ordered("!=", cg.intrinsic("llvm.fabs", [log_sin]), _f(np.inf))
    reflection = b.select(finite, b.fsub(b.fsub(_f(xm.LOG_PI), log_sin), log_y), b.fneg(log_sin))
    out = b.select(reflect, reflection, log_y)
    return b.select(b.fcmp_ordered("==", a, _f(np.inf)), _f(np.inf), out)


def digamma32(cg, x):
    """XLA's float32 digamma (`kiln.lax.xla_math.digamma32`)."""
    b = cg.b
    reflect = b.fcmp_ordered("<", x, _f(0.5))
    z = b.select(reflect, b.fneg(x), b.fsub(x, _f(1.0)))
    num, den = _f(0.0), _f(1.0)
    for i, c in enumerate(xm.LANCZOS, start=1):
        zi = b.fadd(z, _f(i))
        num = b.fsub(num, b.fdiv(_f(c), b.fmul(zi, zi)))
        den = b.fadd(den, b.fdiv(_f(c), zi))
    t = b.fadd(z, _f(xm.LANCZOS_G + np.float32(0.5)))
    log_t = b.fadd(mathlib.log1p(cg, b.fmul(z, _f(xm.INV_G_HALF))), _f(xm.LOG_G_HALF))
    y = b.fsub(b.fadd(log_t, b.fdiv(num, den)), b.fdiv(_f(xm.LANCZOS_G), t))

    r = b.fadd(x, cg.intrinsic("llvm.fabs", [cg.intrinsic("llvm.floor", [b.fadd(x, _f(0.5))])]))
    pi_r = b.fmul(_f(xm.PI), r)
    cot = b.fdiv(b.fmul(_f(xm.PI), cg.intrinsic("llvm.cos", [pi_r])), cg.intrinsic("llvm.sin", [pi_r]))
    out = b.select(reflect, b.fsub(y, cot), y)
    pole = b.and_(b.fcmp_ordered("<=", x, _f(0.0)), b.fcmp_ordered("==", cg.intrinsic("llvm.trunc", [x]), x))
    return b.select(pole, _f(np.nan), out)


def erfc32(cg, x):
    """XLA's float32 erfc (`kiln.lax.xla_math.erfc32`)."""
    b = cg.b

    def horner(v, coefficients):
        acc = _f(coefficients[0])
        for c in coefficients[1:]:
            acc = _fma(cg, v, acc, _f(c))
        return acc
    x2 = b.fmul(x, x)
    r = b.fdiv(_f(1.0), x2)
    a = cg.intrinsic("llvm.fabs", [x])
    tail = b.select(b.fcmp_ordered("<", a, _f(2.0)), horner(r, xm.ERFC_MID), horner(r, xm.ERFC_LARGE))
    z = b.fmul(b.fmul(mathlib.exp(cg, b.fneg(x2)), b.fdiv(_f(1.0), a)), tail)
    z = b.select(b.fcmp_ordered(">", x2, _f(xm.ERFC_UNDERFLOW)), _f(0.0), z)
    z = b.select(b.fcmp_ordered("<", x, _f(0.0)), b.fsub(_f(2.0), z), z)
    small = _fma(cg, b.fneg(x), horner(x2, xm.ERFC_SMALL), _f(1.0))
    return b.select(b.fcmp_ordered("<", a, _f(1.0)), small, z)


# ---------------------------------------------------------------------------- lgamma

_LGAM_A = (8.11614167470508450300E-4, -5.95061904284301438324E-4, 7.93650340457716943945E-4,
           -2.77777777730099687205E-3, 8.33333333333331927722E-2)
_LGAM_B = (-1.37825152569120859100E3, -3.88016315134637840924E4, -3.31612992738871184744E5,
           -1.16237097492762307383E6, -1.72173700820839662146E6, -8.53555664245765465627E5)
_LGAM_C = (-3.51815701436523470549E2, -1.70642106651881159223E4, -2.20528590553854454839E5,
           -1.13933444367982507207E6, -2.53252307177582951285E6, -2.01889141433532773231E6)
_LS2PI, _LOGPI, _MAXLGM = 0.91893853320467274178, 1.14472988584940017414, 2.556348e305


def _lgamma_cephes(cg, y):
    """Cephes' lgam for y >= -34: below 13 the recurrence down (at most 10 steps) or up (at
    most 36) to u in [2, 3), log|z| for the product z of the steps and a rational function of
    u - 2; above, Stirling's series."""
    b = cg.b
    z, shift = _d(1.0), _d(0.0)
    for k in range(1, 11):  # while u >= 3: u = y - k; z *= u
        down = b.fcmp_ordered(">=", y, _d(k + 2))
        z = b.select(down, b.fmul(z, b.fsub(y, _d(k))), z)
        shift = b.select(down, _d(-k), shift)
    for k in range(36):  # while u < 2: z /= u; u = y + k + 1 (a pole where u == 0)
        u = b.fadd(y, _d(k))
        up = _lt(b, u, 2.0)
        z = b.select(up, b.fdiv(z, u), z)
        shift = b.select(up, _d(k + 1), shift)
    t = b.fadd(y, b.fsub(shift, _d(2.0)))
    rational = b.fdiv(b.fmul(t, mathlib.horner(b, t, _LGAM_B)), _poly1(b, t, _LGAM_C))
    small = b.fadd(mathlib.log64(cg, cg.intrinsic("llvm.fabs", [z])), rational)

    q = b.fadd(b.fsub(b.fmul(b.fsub(y, _d(0.5)), mathlib.log64(cg, y)), y), _d(_LS2PI))
    p = b.fdiv(_d(1.0), b.fmul(y, y))
    series = b.select(_lt(b, y, 1000.0), mathlib.horner(b, p, _LGAM_A),
                      b.fadd(b.fmul(b.fsub(b.fmul(_d(7.9365079365079365079365e-4), p),
                                           _d(2.7777777777777777777778e-3)), p),
                             _d(0.0833333333333333333333)))
    large = b.select(b.fcmp_ordered(">", y, _d(1.0e8)), q, b.fadd(q, b.fdiv(series, y)))
    large = b.select(b.fcmp_ordered(">", y, _d(_MAXLGM)), _d(np.inf), large)
    return b.select(_lt(b, y, 13.0), small, large)


def lgamma(cg, x):
    """log|Gamma(x)|; +inf at the poles (0 and the negative integers) and at +inf, -inf at -inf
    (as SciPy). Below -34 by reflection: log(pi / |x sin(pi x)|) - lgamma(-x)."""
    b = cg.b
    reflect = _lt(b, x, -34.0)
    q = b.fneg(x)
    w = _lgamma_cephes(cg, b.select(reflect, q, x))
    p = cg.intrinsic("llvm.floor", [q])
    frac = b.fsub(q, p)
    frac = b.select(b.fcmp_ordered(">", frac, _d(0.5)), b.fsub(b.fadd(p, _d(1.0)), q), frac)
    s, _ = _sin_cos(cg, b.fmul(_d(_PI), frac))
    reflected = b.fsub(b.fsub(_d(_LOGPI), mathlib.log64(cg, b.fmul(q, s))), w)
    reflected = b.select(b.fcmp_ordered("==", p, q), _d(np.inf), reflected)
    out = b.select(reflect, reflected, w)
    return b.select(b.fcmp_ordered("==", cg.intrinsic("llvm.fabs", [x]), _d(np.inf)), x, out)


# ---------------------------------------------------------------------------- digamma

_EULER = 0.57721566490153286061
_PSI_A = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
          -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
          8.33333333333333333333E-2)
# Boost's rational approximation on [1, 2]: (x - root) (Y + P(x - 1) / Q(x - 1)), the positive
# root in three parts.
_PSI_Y = float(np.float32(0.99558162689208984))
_PSI_ROOT = (1569415565.0 / 1073741824.0, (381566830.0 / 1073741824.0) / 1073741824.0,
             0.9016312093258695918615325266959189453125e-19)
_PSI_P = (-0.0020713321167745952, -0.045251321448739056, -0.28919126444774784,
          -0.65031853770896507, -0.32555031186804491, 0.25479851061131551)
_PSI_Q = (-0.55789841321675513e-6, 0.0021284987017821144, 0.054151797245674225,
          0.43593529692665969, 1.4606242909763515, 2.0767117023730469, 1.0)
# SciPy evaluates digamma near its negative zero as a Taylor series about it (the value there
# from mpmath), where the reflection would cancel.
_NEG_ROOT, _NEG_ROOT_VALUE, _ROOT_RADIUS = -0.504083008264455409, 7.2897639029768949e-17, 0.3


@functools.lru_cache(maxsize=None)
def _root_zetas():
    """zeta(n + 1, root) for n = 1..99, SciPy's series coefficients (up to sign)."""
    import scipy.special as sp
    return tuple(float(sp.zeta(n + 1, _NEG_ROOT)) for n in range(1, 100))


def _root_series(cg, x):
    """SciPy's `zeta_series` term for term: the sum stops (here: stops changing) at the first
    term below eps times the sum."""
    b = cg.b
    z = b.fsub(x, _d(_NEG_ROOT))
    minus_z = b.fneg(z)
    res, coeff, done = _d(_NEG_ROOT_VALUE), _d(-1.0), ir.Constant(ir.IntType(1), 0)
    eps = _d(np.finfo(np.float64).eps)
    for zeta in _root_zetas():
        coeff = b.fmul(coeff, minus_z)
        term = b.fmul(coeff, _d(zeta))
        res = b.select(done, res, b.fadd(res, term))
        small = b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [term]),
                               b.fmul(eps, cg.intrinsic("llvm.fabs", [res])))
        done = b.or_(done, small)
    return z, res


def digamma(cg, x0):
    """SciPy's psi: reflection below 0, psi(n) as a harmonic sum for integers up to 10, the
    recurrence into [1, 2] and Boost's rational function there, the asymptotic series from 10;
    +-inf at -+0, NaN at the negative integers and -inf."""
    b = cg.b
    one = _d(1.0)
    negative = _lt(b, x0, 0.0)
    r = b.fsub(x0, cg.intrinsic("llvm.trunc", [x0]))  # in (-1, 0] below 0
    sin_pi, cos_pi = _sin_cos(cg, b.fmul(_d(_PI), r))
    y = b.select(negative, b.fdiv(b.fmul(_d(-_PI), cos_pi), sin_pi), _d(0.0))  # -pi / tan(pi r)
    x = b.select(negative, b.fsub(one, x0), x0)

    harmonic = y  # psi(n) = 1 + 1/2 + ... + 1/(n-1) - Euler
    for i in range(1, 10):
        harmonic = b.select(b.fcmp_ordered(">", x, _d(i)), b.fadd(harmonic, _d(1.0 / i)), harmonic)
    harmonic = b.fsub(harmonic, _d(_EULER))
    integer = b.and_(b.fcmp_ordered("<=", x, _d(10.0)),
                     b.fcmp_ordered("==", x, cg.intrinsic("llvm.floor", [x])))

    below_one = _lt(b, x, 1.0)
    y = b.select(below_one, b.fsub(y, b.fdiv(one, x)), y)
    u = b.select(below_one, b.fadd(x, one), x)
    middle = _lt(b, u, 10.0)
    for _ in range(8):  # while u > 2: u -= 1; y += 1/u
        step = b.and_(middle, b.fcmp_ordered(">", u, _d(2.0)))
        u = b.select(step, b.fsub(u, one), u)
        y = b.select(step, b.fadd(y, b.fdiv(one, u)), y)
    g = b.fsub(b.fsub(b.fsub(u, _d(_PSI_ROOT[0])), _d(_PSI_ROOT[1])), _d(_PSI_ROOT[2]))
    v = b.fsub(u, one)
    rational = b.fdiv(mathlib.horner(b, v, _PSI_P), mathlib.horner(b, v, _PSI_Q))
    near = b.fadd(b.fmul(g, _d(_PSI_Y)), b.fmul(g, rational))
    z = b.fdiv(one, b.fmul(u, u))
    tail = b.select(_lt(b, u, 1.0e17), b.fmul(z, mathlib.horner(b, z, _PSI_A)), _d(0.0))
    asymptotic = b.fsub(b.fsub(mathlib.log64(cg, u), b.fdiv(_d(0.5), u)), tail)
    out = b.fadd(y, b.select(middle, near, asymptotic))
    out = b.select(integer, harmonic, out)

    t, series = _root_series(cg, x0)
    out = b.select(_lt(b, cg.intrinsic("llvm.fabs", [t]), _ROOT_RADIUS), series, out)
    pole = b.and_(negative, b.fcmp_ordered("==", r, _d(0.0)))  # also -inf
    out = b.select(pole, _d(np.nan), out)
    out = b.select(b.fcmp_ordered("==", x0, _d(0.0)), b.fdiv(_d(-1.0), x0), out)
    return b.select(b.fcmp_ordered("==", x0, _d(np.inf)), x0, out)


# ---------------------------------------------------------------------------- erf_inv

# XLA's ErfInv64 (Giles): polynomials in w = -log1p(-x*x) on w < 6.25, w < 16 and above.
_ERF_INV_6_25, _ERF_INV_16, _ERF_INV_LARGE = xm.ERF_INV64_6_25, xm.ERF_INV64_16, xm.ERF_INV64_LARGE


def erf_inv(cg, x):
    """float64 erf_inv: XLA's polynomials, with w computed without the cancellation of
    1 - x*x near +-1; +-inf at +-1, NaN outside [-1, 1]."""
    b = cg.b
    # 1 - x*x as (1 - |x|)(1 + |x|) from |x| = 1/2 on: x*x rounds away what is left of 1 - x*x
    a = cg.intrinsic("llvm.fabs", [x])
    near_one = mathlib.log64(cg, b.fmul(b.fsub(_d(1.0), a), b.fadd(_d(1.0), a)))
    w = b.fneg(b.select(_lt(b, a, 0.5), mathlib.log1p64(cg, b.fneg(b.fmul(x, x))), near_one))
    small, medium = _lt(b, w, 6.25), _lt(b, w, 16.0)
    root = cg.intrinsic("llvm.sqrt", [w])
    w = b.select(small, b.fsub(w, _d(3.125)), b.fsub(root, b.select(medium, _d(3.25), _d(5.0))))
    polys = [mathlib.horner(b, w, c) for c in (_ERF_INV_6_25, _ERF_INV_16, _ERF_INV_LARGE)]
    p = b.select(small, polys[0], b.select(medium, polys[1], polys[2]))
    out = b.fmul(p, x)
    edge = b.fcmp_ordered("==", cg.intrinsic("llvm.fabs", [x]), _d(1.0))
    return b.select(edge, b.fmul(x, _d(np.inf)), out)
