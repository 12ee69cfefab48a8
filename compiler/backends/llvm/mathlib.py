"""Transcendental functions as straight-line LLVM instructions (selects, no calls), so the
loops that use them vectorize, as XLA:CPU does.

float32 exp, log, log1p and rsqrt are XLA:CPU's own sequences, fused multiply-adds included,
exactly as the reference backend computes them (`kiln.lax.xla_math`), so both give JAX's bits;
tanh is the rational approximation XLA and Eigen use. float64 log and log1p are fdlibm's; the
other float64 functions and the rest of the family live beside this file: mathlib_exp (exp,
exp2, expm1, sinh, cosh, float64 tanh), mathlib_trig (float64 sin and cos, tan, atan, atan2)
and mathlib_inverse (cbrt, asinh, acosh, atanh). sin, cos and tan beyond their polynomials'
range call the C library, in a second run of the kernel (codegen's `note_fallback`).
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from kiln.backends.llvm import mathlib_exp, mathlib_trig
from kiln.backends.llvm.types import I32, constant
from kiln.lax import xla_math as xm

F32 = np.float32


def _is_f32(x) -> bool:
    return str(x.type) == "float"


def _dtype(x):
    return np.float32 if _is_f32(x) else np.float64


def _c(value):
    return constant(F32, value)


def horner(b, x, coefficients):
    """Horner's rule, highest coefficient first (Cephes' polevl), in x's float type."""
    dtype = _dtype(x)
    acc = constant(dtype, coefficients[0])
    for c in coefficients[1:]:
        acc = b.fadd(b.fmul(acc, x), constant(dtype, c))
    return acc


def _pow2(b, n):
    """2**n for an integer-valued float32 n in [-126, 127], built from its exponent bits."""
    k = b.fptosi(n, I32)
    return b.bitcast(b.shl(b.add(k, ir.Constant(I32, 127)), ir.Constant(I32, 23)), ir.FloatType())


def _fma(cg, a, b, c):
    return cg.intrinsic("llvm.fma", [a, b, c])


def _fma_horner(cg, x, coefficients):
    acc = coefficients[0]
    for c in coefficients[1:]:
        acc = _fma(cg, acc, x, c)
    return acc


def _fc(value):
    """A float32 constant from a NumPy float32 (bit patterns kept)."""
    return _c(float(value))


def exp(cg, x):
    """float32: XLA's exp, operation for operation as `kiln.lax.xla_math.exp32` (JAX's bits)."""
    if not _is_f32(x):
        return mathlib_exp.exp(cg, x)
    b = cg.b
    xc = cg.intrinsic("llvm.maximum", [cg.intrinsic("llvm.minimum", [x, _fc(xm.EXP_HI)]), _fc(xm.EXP_LO)])
    n = cg.intrinsic("llvm.floor", [_fma(cg, xc, _fc(xm.LOG2E), _c(0.5))])
    n = cg.intrinsic("llvm.minimum", [cg.intrinsic("llvm.maximum", [n, _c(-150.0)]), _c(127.0)])
    r = _fma(cg, _fc(-xm.LN2_HI), n, xc)
    r = _fma(cg, _fc(-xm.LN2_LO), n, r)
    p = _fma_horner(cg, r, [_fc(c) for c in xm.EXP_POLY])
    y = b.fadd(_fma(cg, p, b.fmul(r, r), r), _c(1.0))
    # 2**n in two factors, so that results in the subnormal range are right
    half = cg.intrinsic("llvm.floor", [b.fmul(n, _c(0.5))])
    y = b.fmul(b.fmul(y, _pow2(b, half)), _pow2(b, b.fsub(n, half)))
    y = b.select(b.fcmp_ordered("<", x, _c(-103.972084)), _c(0.0), y)
    return b.select(b.fcmp_unordered("uno", x, x), x, y)


def log(cg, x):
    """float32: XLA's log (Eigen's plog_float with fused multiply-adds), operation for operation
    as `kiln.lax.xla_math.log32` (JAX's bits)."""
    if not _is_f32(x):
        return cg.intrinsic("llvm.log", [x])
    b = cg.b
    i32 = lambda v: ir.Constant(I32, v)
    tiny = _c(np.finfo(F32).tiny)
    sub = b.and_(b.fcmp_ordered(">", x, _c(0.0)), b.fcmp_ordered("<", x, tiny))
    xs = b.select(sub, b.fmul(x, _c(8388608.0)), b.select(b.fcmp_ordered(">=", x, tiny), x, tiny))
    bits = b.bitcast(xs, I32)
    e = b.fadd(b.sitofp(b.sub(b.ashr(bits, i32(23)), i32(127)), ir.FloatType()), _c(1.0))
    m = b.bitcast(b.or_(b.and_(bits, i32(-2139095041)), i32(0x3F000000)), ir.FloatType())  # [0.5, 1)
    low = b.fcmp_ordered("<", m, _fc(xm.SQRT_HALF))
    e = b.fsub(b.fsub(e, b.select(low, _c(1.0), _c(0.0))), b.select(sub, _c(23.0), _c(0.0)))
    m = b.fadd(b.fsub(m, _c(1.0)), b.select(low, m, _c(0.0)))
    m2 = b.fmul(m, m)
    m3 = b.fmul(m2, m)
    p = [_fc(c) for c in xm.LOG_POLY]
    y0 = _fma(cg, _fma(cg, m, p[0], p[1]), m, p[2])
    y1 = _fma(cg, _fma(cg, m, p[3], p[4]), m, p[5])
    y2 = _fma(cg, _fma(cg, m, p[6], p[7]), m, p[8])
    y = _fma(cg, _fma(cg, y0, m3, y1), m3, y2)
    y = _fma(cg, y, m3, b.fmul(e, _fc(xm.LN2_LO)))
    out = _fma(cg, e, _fc(xm.LN2_HI), b.fadd(_fma(cg, _c(-0.5), m2, m), y))
    out = b.select(b.fcmp_ordered("==", x, _c(np.inf)), x, out)
    out = b.select(b.fcmp_ordered("==", x, _c(0.0)), _c(-np.inf), out)
    return b.select(b.fcmp_unordered("<", x, _c(0.0)), _c(np.nan), out)  # x < 0 or NaN


_TANH_ALPHA = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
               5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
               4.89352455891786e-03)
_TANH_BETA = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
              4.89352518554385e-03)


def tanh(cg, x):
    if not _is_f32(x):
        return mathlib_exp.tanh64(cg, x)
    b = cg.b
    bound = 7.90531110763549805
    xc = cg.intrinsic("llvm.maximum", [cg.intrinsic("llvm.minimum", [x, _c(bound)]), _c(-bound)])
    x2 = b.fmul(xc, xc)
    p = b.fmul(xc, horner(b, x2, _TANH_ALPHA))
    q = horner(b, x2, _TANH_BETA)
    y = b.fdiv(p, q)
    small = b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [x]), _c(0.0004))
    return b.select(small, x, y)  # also keeps ±0; NaN flows through the polynomial


# Cephes sinf/cosf: reduction by pi/4 in three parts, exact for |x| <= SIN_LIMIT; larger
# arguments set the kernel's fallback flag and the kernel runs again with libm (see codegen).
SIN_LIMIT = 4096.0
_DP = (0.78515625, 2.4187564849853515625e-4, 3.77489497744594108e-8)
_SIN_POLY = (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)
_COS_POLY = (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2)


def _sin_cos(cg, x, cosine: bool):
    b = cg.b
    i32 = lambda v: ir.Constant(I32, v)
    ax = cg.intrinsic("llvm.fabs", [x])
    cg.note_fallback(b.fcmp_unordered(">", ax, _c(SIN_LIMIT)))  # also NaN: libm gives NaN
    j = b.fptosi(b.fmul(ax, _c(1.27323954473516)), I32)  # |x| / (pi/4)
    j = b.and_(b.add(j, i32(1)), i32(-2))  # the even octant at or above
    y = b.sitofp(j, ir.FloatType())
    j = b.and_(j, i32(7))
    if cosine:
        j = b.add(j, i32(2))  # cos(x) = sin(x + pi/2)
        j = b.and_(j, i32(7))
    flip = b.icmp_signed(">", j, i32(3))
    j = b.select(flip, b.sub(j, i32(4)), j)
    z = b.fsub(b.fsub(b.fsub(ax, b.fmul(y, _c(_DP[0]))), b.fmul(y, _c(_DP[1]))), b.fmul(y, _c(_DP[2])))
    zz = b.fmul(z, z)
    sin_part = b.fadd(b.fmul(b.fmul(horner(b, zz, _SIN_POLY), zz), z), z)
    cos_part = b.fadd(b.fsub(b.fmul(b.fmul(horner(b, zz, _COS_POLY), zz), zz), b.fmul(zz, _c(0.5))), _c(1.0))
    use_cos = b.or_(b.icmp_signed("==", j, i32(1)), b.icmp_signed("==", j, i32(2)))
    r = b.select(use_cos, cos_part, sin_part)
    negative = flip if cosine else b.xor(flip, b.fcmp_ordered("<", x, _c(0.0)))
    return b.select(negative, b.fneg(r), r)


def sin(cg, x):
    if cg.precise:
        return cg.intrinsic("llvm.sin", [x])
    return _sin_cos(cg, x, cosine=False) if _is_f32(x) else mathlib_trig.sin(cg, x)


def cos(cg, x):
    if cg.precise:
        return cg.intrinsic("llvm.cos", [x])
    return _sin_cos(cg, x, cosine=True) if _is_f32(x) else mathlib_trig.cos(cg, x)


def expm1(cg, x):
    return mathlib_exp.expm1(cg, x)


# fdlibm's log: x = 2**k (1 + f) with 1 + f in [sqrt(2)/2, sqrt(2)), s = f / (2 + f), and a
# polynomial in s**2; within 1 ulp.
_LG = (6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01,
       2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01,
       1.479819860511658591e-01)
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10


def log64(cg, x):
    """float64 log as instructions (vectorizable)."""
    b = cg.b
    d = lambda v: constant(np.float64, v)
    i64 = lambda v: ir.Constant(ir.IntType(64), v)
    tiny = b.fcmp_ordered("<", x, d(np.finfo(np.float64).tiny))
    xs = b.select(tiny, b.fmul(x, d(2.0 ** 54)), x)
    bits = b.bitcast(xs, ir.IntType(64))
    k = b.sub(b.lshr(bits, i64(52)), i64(1023))
    k = b.select(tiny, b.sub(k, i64(54)), k)
    m = b.bitcast(b.or_(b.and_(bits, i64(0x000FFFFFFFFFFFFF)), i64(0x3FF0000000000000)), ir.DoubleType())
    big = b.fcmp_ordered(">", m, d(1.4142135623730951))
    m = b.select(big, b.fmul(m, d(0.5)), m)
    k = b.select(big, b.add(k, i64(1)), k)
    f = b.fsub(m, d(1.0))
    kf = b.sitofp(k, ir.DoubleType())
    s = b.fdiv(f, b.fadd(f, d(2.0)))
    z = b.fmul(s, s)
    w = b.fmul(z, z)
    t1 = b.fmul(w, b.fadd(d(_LG[1]), b.fmul(w, b.fadd(d(_LG[3]), b.fmul(w, d(_LG[5]))))))
    t2 = b.fmul(z, b.fadd(d(_LG[0]), b.fmul(w, b.fadd(d(_LG[2]), b.fmul(w, b.fadd(d(_LG[4]), b.fmul(w, d(_LG[6]))))))))
    r = b.fadd(t2, t1)
    hfsq = b.fmul(b.fmul(d(0.5), f), f)
    inner = b.fadd(b.fmul(s, b.fadd(hfsq, r)), b.fmul(kf, d(_LN2_LO)))
    out = b.fsub(b.fmul(kf, d(_LN2_HI)), b.fsub(b.fsub(hfsq, inner), f))
    out = b.select(b.fcmp_ordered("==", x, d(np.inf)), x, out)
    out = b.select(b.fcmp_ordered("==", x, d(0.0)), d(-np.inf), out)
    return b.select(b.fcmp_unordered("<", x, d(0.0)), d(np.nan), out)


def log1p64(cg, u):
    """float64 log1p: log(1 + u) corrected by the rounding of 1 + u."""
    b = cg.b
    one = constant(np.float64, 1.0)
    y = b.fadd(one, u)
    correction = b.fdiv(b.fsub(b.fsub(y, one), u), y)
    out = b.fsub(log64(cg, y), correction)
    out = b.select(b.fcmp_ordered("==", y, one), u, out)  # |u| below half an ulp of 1 (and ±0)
    out = b.select(b.fcmp_ordered("==", y, constant(np.float64, 0.0)), constant(np.float64, -np.inf), out)
    return b.select(b.fcmp_ordered("==", u, constant(np.float64, np.inf)), u, out)


def log1p(cg, x):
    """float32: XLA's log1p, operation for operation as `kiln.lax.xla_math.log1p32` (JAX's bits):
    a rational approximation for |x| < sqrt(2) - 1, log(1 + x) above. float64: `log1p64`."""
    if not _is_f32(x):
        return log1p64(cg, x)
    b = cg.b
    big = log(cg, b.fadd(x, _c(1.0)))
    num = _fma_horner(cg, x, [_fc(c) for c in xm.LOG1P_NUM])
    den = _fma_horner(cg, x, [_fc(c) for c in xm.LOG1P_DEN])
    x2 = b.fmul(x, x)
    x3 = b.fmul(x, x2)
    small = b.fadd(x, _fma(cg, x2, _c(-0.5), b.fmul(x3, b.fdiv(num, den))))
    use_small = b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [x]), _fc(xm.LOG1P_SMALL))
    return b.select(use_small, small, big)


def rsqrt(cg, x):
    """float32 on x86: XLA's rsqrt, the CPU's rsqrtss estimate and one Newton step, as
    `kiln.lax.xla_math.rsqrt32` (JAX's bits); otherwise 1 / sqrt(x)."""
    b = cg.b
    if not _is_f32(x) or not xm.HOST_X86:
        return b.fdiv(constant(_dtype(x), 1), cg.intrinsic("llvm.sqrt", [x]))
    vec_t = ir.VectorType(ir.FloatType(), 4)
    fn = cg.module.globals.get("llvm.x86.sse.rsqrt.ss") or ir.Function(
        cg.module, ir.FunctionType(vec_t, [vec_t]), "llvm.x86.sse.rsqrt.ss")
    vec = b.insert_element(ir.Constant(vec_t, [0.0] * 4), x, ir.Constant(I32, 0))
    y = b.extract_element(b.call(fn, [vec]), ir.Constant(I32, 0))
    refined = _fma(cg, b.fmul(y, _c(-0.5)), _fma(cg, b.fmul(x, y), y, _c(-1.0)), y)
    normal = b.and_(b.fcmp_ordered(">=", x, _c(np.finfo(F32).tiny)), b.fcmp_ordered("<", x, _c(np.inf)))
    return b.select(b.or_(normal, b.fcmp_unordered("uno", x, x)), refined, y)


def logistic(cg, x):
    """1 / (1 + exp(-x)), written so that neither branch overflows."""
    b, dtype = cg.b, _dtype(x)
    one = constant(dtype, 1)
    e = exp(cg, b.fneg(cg.intrinsic("llvm.fabs", [x])))
    positive = b.fdiv(one, b.fadd(one, e))
    return b.select(b.fcmp_ordered(">=", x, constant(dtype, 0)), positive, b.fdiv(e, b.fadd(one, e)))
