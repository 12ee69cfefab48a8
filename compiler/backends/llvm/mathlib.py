"""Transcendental functions as straight-line LLVM instructions (selects, no calls), so the
loops that use them vectorize, as XLA:CPU does.

float32 exp, log, log1p and rsqrt are XLA:CPU's own sequences, fused multiply-adds included,
exactly as the reference backend computes them (`kiln.lax.xla_math`), so both give JAX's bits.
float32 sin and cos are the C library's sinf and cosf (which XLA calls) computed as glibc
computes them, vectorized; beyond |x| = 120 the kernel runs again calling the C library
(codegen's `note_fallback`). `libm` calls the C library where XLA does (float64 sin, cos and
log, tan, atan, atan2, cbrt). XLA's other sequences are in mathlib_xla (float64 exp and log1p,
tanh, expm1, logistic, erf_inv) and mathlib_composite (sinh, cosh, exp2 and the inverse
functions).
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from kiln.backends.llvm import mathlib_xla
from kiln.backends.llvm.types import I32, constant
from kiln.lax import host_libm
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
        return mathlib_xla.exp64(cg, x)
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


# The C library's sinf and cosf (glibc's, from ARM's optimized-routines, its variant for CPUs
# with FMA, which x86-64 glibc picks where the CPU has FMA), computed in double as it is:
# n = round(x 2/pi) from a truncating conversion of x 2**24 2/pi, r = fma(-n, pi/2, x), and
# one of two polynomials in r by fused steps, its sign from n. The C library is called (in
# the fallback run, see codegen's `note_fallback`) from |x| = 120 on, where glibc reduces by
# a table of 2/pi, and for inf and NaN.
SIN_LIMIT = 120.0
_hex = float.fromhex
_HPI_INV = _hex("0x1.45f306dc9c883p+23")  # 2/pi * 2**24
_HPI = _hex("0x1.921fb54442d18p+0")
_COS_C = tuple(map(_hex, ("0x1p+0", "-0x1.ffffffd0c621cp-2", "0x1.55553e1068f19p-5", "-0x1.6c087e89a359dp-10",
                          "0x1.99343027bf8c3p-16")))
_SIN_S = tuple(map(_hex, ("-0x1.555545995a603p-3", "0x1.1107605230bc4p-7", "-0x1.994eb3774cf24p-13")))


def _sin_cos(cg, y, cosine: bool):
    b = cg.b
    d = lambda v: constant(np.float64, v)
    fma = lambda u, v, w: cg.intrinsic("llvm.fma", [u, v, w])
    ay = cg.intrinsic("llvm.fabs", [y])
    cg.note_fallback(b.fcmp_unordered(">=", ay, _c(SIN_LIMIT)))  # also inf, NaN
    x = b.fpext(y, ir.DoubleType())
    n = b.ashr(b.add(b.fptosi(b.fmul(x, d(_HPI_INV)), I32), ir.Constant(I32, 0x800000)), ir.Constant(I32, 24))
    r = fma(b.fneg(b.sitofp(n, ir.DoubleType())), d(_HPI), x)
    r2 = b.fmul(r, r)
    r3 = b.fmul(r, r2)
    sin_r = fma(b.fmul(r2, r3), fma(r2, d(_SIN_S[2]), d(_SIN_S[1])), fma(r3, d(_SIN_S[0]), r))
    r4 = b.fmul(r2, r2)
    c = fma(r4, d(_COS_C[2]), fma(r2, d(_COS_C[1]), d(_COS_C[0])))
    cos_r = fma(b.fmul(r2, r4), fma(r2, d(_COS_C[4]), d(_COS_C[3])), c)
    if cosine:
        n = b.add(n, ir.Constant(I32, 1))  # cos(x) = sin(x + pi/2)
    odd = b.trunc(n, ir.IntType(1))
    out = b.fptrunc(b.select(odd, cos_r, sin_r), ir.FloatType())
    out = b.select(b.icmp_unsigned("!=", b.and_(n, ir.Constant(I32, 2)), ir.Constant(I32, 0)), b.fneg(out), out)
    tiny = b.fcmp_ordered("<", ay, _c(2.0 ** -12))
    return b.select(tiny, _c(1.0) if cosine else y, out)


def libm(cg, name, x, *rest):
    """The C library's `name` (`namef` for float32), as XLA:CPU calls it. A constant operand
    is evaluated here by the same function: LLVM's constant folder would round its own
    double result."""
    dtype = _dtype(x)
    if isinstance(x, ir.Constant) and all(isinstance(v, ir.Constant) for v in rest):
        args = [np.asarray(v.constant, dtype) for v in (x, *rest)]
        return constant(dtype, float(host_libm.libm(name, *args)))
    return cg.libm(name, dtype, [x, *rest])


def sin(cg, x):
    """float32: glibc's sinf (`_sin_cos`); float64: the C library's sin."""
    if cg.precise or not _is_f32(x) or isinstance(x, ir.Constant):
        return libm(cg, "sin", x)
    return _sin_cos(cg, x, cosine=False)


def cos(cg, x):
    if cg.precise or not _is_f32(x) or isinstance(x, ir.Constant):
        return libm(cg, "cos", x)
    return _sin_cos(cg, x, cosine=True)


def log1p(cg, x, square_shared=False):
    """float32: XLA's log1p, operation for operation as `kiln.lax.xla_math.log1p32` (JAX's bits):
    a rational approximation for |x| < sqrt(2) - 1, log(1 + x) above. `square_shared`: as in
    `xla_math.log1p32`. float64: `mathlib_xla.log1p64`."""
    if not _is_f32(x):
        return mathlib_xla.log1p64(cg, x, square_shared)
    b = cg.b
    big = log(cg, b.fadd(x, _c(1.0)))
    num = _fma_horner(cg, x, [_fc(c) for c in xm.LOG1P_NUM])
    den = _fma_horner(cg, x, [_fc(c) for c in xm.LOG1P_DEN])
    x2 = b.fmul(x, x)
    x3 = b.fmul(x, x2)
    ratio = b.fdiv(num, den)
    if square_shared:
        tail = _fma(cg, x3, ratio, b.fmul(x2, _c(-0.5)))
    else:
        tail = _fma(cg, x2, _c(-0.5), b.fmul(x3, ratio))
    small = b.fadd(x, tail)
    use_small = b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [x]), _fc(xm.LOG1P_SMALL))
    return b.select(use_small, small, big)


def rsqrt(cg, x):
    """float32 on x86: XLA's rsqrt, the CPU's rsqrtss estimate and one Newton step, as
    `kiln.lax.xla_math.rsqrt32` (JAX's bits); otherwise 1 / sqrt(x)."""
    b = cg.b
    if not _is_f32(x) or not host_libm.HOST_X86:
        return b.fdiv(constant(_dtype(x), 1), cg.intrinsic("llvm.sqrt", [x]))
    vec_t = ir.VectorType(ir.FloatType(), 4)
    fn = cg.module.globals.get("llvm.x86.sse.rsqrt.ss") or ir.Function(
        cg.module, ir.FunctionType(vec_t, [vec_t]), "llvm.x86.sse.rsqrt.ss")
    vec = b.insert_element(ir.Constant(vec_t, [0.0] * 4), x, ir.Constant(I32, 0))
    y = b.extract_element(b.call(fn, [vec]), ir.Constant(I32, 0))
    refined = _fma(cg, b.fmul(y, _c(-0.5)), _fma(cg, b.fmul(x, y), y, _c(-1.0)), y)
    normal = b.and_(b.fcmp_ordered(">=", x, _c(np.finfo(F32).tiny)), b.fcmp_ordered("<", x, _c(np.inf)))
    return b.select(b.or_(normal, b.fcmp_unordered("uno", x, x)), refined, y)
