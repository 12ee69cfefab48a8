"""XLA:CPU's own sequences for exp (float64), tanh, expm1, logistic, log1p (float64) and
erf_inv (float64) as straight-line instructions, operation for operation as the reference
backend computes them (`kiln.lax.xla_math`, `kiln.lax.xla_math64`: JAX's bits); float64 erfc,
lgamma and digamma are in `special`.

Where XLA's code has a multiply feeding an add that LLVM fuses (its `-ffp-contract=fast`),
this emits `llvm.fma`; everywhere else plain instructions, which kiln's LLVM never contracts.
float64 log1p calls the C library's log through `llvm.log`, as XLA's does.
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.types import I32, I64, constant
from kiln.lax import xla_math as xm
from kiln.lax import xla_math64 as xm64

F32, F64 = np.float32, np.float64


def is_f32(x) -> bool:
    return str(x.type) == "float"


def const(x, value):
    """A constant of x's float type (NumPy scalars keep their bit patterns)."""
    return constant(F32 if is_f32(x) else F64, float(value))


def fma(cg, a, b, c):
    return cg.intrinsic("llvm.fma", [a, b, c])


def horner(cg, x, coefficients):
    """fma(x, acc, c) steps, highest coefficient first."""
    acc = const(x, coefficients[0])
    for c in coefficients[1:]:
        acc = fma(cg, x, acc, const(x, c))
    return acc


def clamp(cg, x, lo, hi):
    """x limited to [lo, hi], NaN kept (XLA's selects on ordered compares)."""
    b = cg.b
    x = b.select(b.fcmp_ordered("<", x, const(x, lo)), const(x, lo), x)
    return b.select(b.fcmp_ordered(">", x, const(x, hi)), const(x, hi), x)


def _not_nan(cg, x):
    """x with NaN replaced by 0, before a conversion to an integer (poison for NaN)."""
    return cg.b.select(cg.b.fcmp_unordered("uno", x, x), const(x, 0.0), x)


def _pow2(cg, k, spec):
    """2**k for an integer k (i32 for float32, i64 for float64) from exponent bits."""
    int_t, bias, shift, float_t = spec
    bits = cg.b.shl(cg.b.add(k, ir.Constant(int_t, bias)), ir.Constant(int_t, shift))
    return cg.b.bitcast(bits, float_t)


_SPEC32 = (I32, 127, 23, ir.FloatType())
_SPEC64 = (I64, 1023, 52, ir.DoubleType())


# ---------------------------------------------------------------------------- exp

def exp_parts(cg, x):
    """(y, s), XLA's exp(x) = y * s (`xla_math.exp_parts32`, `xla_math64.exp_parts64`)."""
    b = cg.b
    if is_f32(x):
        xc = clamp(cg, x, -87.8, xm.EXP_HI)
        n = clamp(cg, cg.intrinsic("llvm.floor", [fma(cg, xc, const(x, xm.LOG2E), const(x, 0.5))]), -127.0, 127.0)
        r = fma(cg, const(x, -xm.LN2_HI), n, xc)
        r = fma(cg, const(x, -xm.LN2_LO), n, r)
        p = horner(cg, r, xm.EXP_POLY)
        y = b.fadd(fma(cg, p, b.fmul(r, r), r), const(x, 1.0))
        return y, _pow2(cg, b.fptosi(_not_nan(cg, n), I32), _SPEC32)
    xc = clamp(cg, x, xm64.EXP_LO, xm64.EXP_HI)
    n = cg.intrinsic("llvm.floor", [fma(cg, xc, const(x, xm64.LOG2E), const(x, 0.5))])
    g = fma(cg, b.fneg(n), const(x, xm64.LN2_HI), xc)
    g = fma(cg, b.fneg(n), const(x, xm64.LN2_LO), g)
    gg = b.fmul(g, g)
    p = b.fmul(fma(cg, fma(cg, gg, const(x, xm64.EXP_P[0]), const(x, xm64.EXP_P[1])), gg, const(x, 1.0)), g)
    q = horner(cg, gg, xm64.EXP_Q)
    y = fma(cg, b.fdiv(p, b.fsub(q, p)), const(x, 2.0), const(x, 1.0))
    k = b.fptosi(_not_nan(cg, n), I32)  # as XLA: AVX2 converts doubles to i32 only
    k = b.select(b.icmp_signed("<", k, I32(-2099)), I32(-2099), k)
    k = b.sext(b.select(b.icmp_signed(">", k, I32(2099)), I32(2099), k), I64)
    half = b.ashr(k, I64(2))
    quarter = _pow2(cg, half, _SPEC64)
    y = b.fmul(b.fmul(b.fmul(y, quarter), quarter), quarter)
    return y, _pow2(cg, b.sub(k, b.mul(half, I64(3))), _SPEC64)


def exp_limits(cg, x, out, below, above):
    """float64: `below` where x < EXP_LO, `above` where x > EXP_HI."""
    b = cg.b
    out = b.select(b.fcmp_ordered("<", x, const(x, xm64.EXP_LO)), const(x, below), out)
    return b.select(b.fcmp_ordered(">", x, const(x, xm64.EXP_HI)), const(x, above), out)


def exp64(cg, x):
    y, s = exp_parts(cg, x)
    return exp_limits(cg, x, cg.b.fmul(y, s), 0.0, np.inf)


# ---------------------------------------------------------------------------- tanh, expm1, logistic

def tanh(cg, x):
    """`xla_math.tanh32`, `xla_math64.tanh64`."""
    b = cg.b
    m = xm if is_f32(x) else xm64
    xc = clamp(cg, x, -m.TANH_CLAMP, m.TANH_CLAMP)
    x2 = b.fmul(xc, xc)
    out = b.fdiv(b.fmul(xc, horner(cg, x2, m.TANH_P)), horner(cg, x2, m.TANH_Q))
    a = cg.intrinsic("llvm.fabs", [x])
    if is_f32(x):
        out = b.select(b.fcmp_ordered("<", a, const(x, 0.0004)), x, out)
    return b.select(b.fcmp_ordered(">=", a, const(x, 20.0)), cg.intrinsic("llvm.copysign", [const(x, 1.0), x]), out)


def expm1(cg, x):
    """`xla_math.expm1_32`, `xla_math64.expm1_64`."""
    b = cg.b
    y, s = exp_parts(cg, x)
    e = b.fmul(y, s)
    if not is_f32(x):
        e = exp_limits(cg, x, e, 0.0, np.inf)
    half = b.fmul(x, const(x, 0.5))
    small = b.fmul(tanh(cg, half), b.fadd(e, const(x, 1.0)))
    out = b.select(b.fcmp_ordered(">", cg.intrinsic("llvm.fabs", [x]), const(x, 0.5)), b.fsub(e, const(x, 1.0)), small)
    tiny = np.finfo(F32 if is_f32(x) else F64).tiny
    return b.select(b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [half]), const(x, tiny)), x, out)


def logistic(cg, x):
    """1 / (1 + e**-x), the exp's last product fused into the add."""
    b = cg.b
    minus_x = b.fneg(x)
    y, s = exp_parts(cg, minus_x)
    out = b.fdiv(const(x, 1.0), fma(cg, y, s, const(x, 1.0)))
    return out if is_f32(x) else exp_limits(cg, minus_x, out, 1.0, 0.0)


# ---------------------------------------------------------------------------- log1p, erf_inv

def log1p64(cg, x, square_shared=False):
    """`xla_math64.log1p64`: the C library's log above sqrt(2) - 1."""
    b = cg.b
    big = cg.intrinsic("llvm.log", [b.fadd(x, const(x, 1.0))])
    zero = b.fmul(x, const(x, 0.0))
    num = b.fadd(zero, const(x, xm64.LOG1P_NUM[0]))
    for c in xm64.LOG1P_NUM[1:]:
        num = fma(cg, num, x, const(x, c))
    den = b.fadd(zero, const(x, 1.0))
    for c in xm64.LOG1P_DEN:
        den = fma(cg, den, x, const(x, c))
    x2 = b.fmul(x, x)
    x3, ratio = b.fmul(x, x2), b.fdiv(num, den)
    if square_shared:
        tail = fma(cg, x3, ratio, b.fmul(x2, const(x, -0.5)))
    else:
        tail = fma(cg, x2, const(x, -0.5), b.fmul(x3, ratio))
    small = b.fadd(x, tail)
    return b.select(b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [x]), const(x, xm64.LOG1P_SMALL)), small, big)


def erf_inv64(cg, x):
    """`xla_math64.erf_inv64`: Giles' polynomials in w = -log1p(-x**2)."""
    b = cg.b
    w = b.fneg(log1p64(cg, b.fmul(x, b.fneg(x))))
    lt_6_25 = b.fcmp_ordered("<", w, const(x, 6.25))
    lt_16 = b.fcmp_ordered("<", w, const(x, 16.0))
    root = cg.intrinsic("llvm.sqrt", [w])
    p = b.select(lt_6_25, horner(cg, b.fsub(w, const(x, 3.125)), xm.ERF_INV64_6_25),
                 b.select(lt_16, horner(cg, b.fsub(root, const(x, 3.25)), xm.ERF_INV64_16),
                          horner(cg, b.fsub(root, const(x, 5.0)), xm.ERF_INV64_LARGE)))
    edge = b.fcmp_ordered("==", cg.intrinsic("llvm.fabs", [x]), const(x, 1.0))
    return b.select(edge, cg.intrinsic("llvm.copysign", [const(x, np.inf), x]), b.fmul(p, x))
