"""Special functions as straight-line instructions (selects, no branches, so loops that use
them vectorize).

erf (float32), erfc, lgamma and digamma are XLA:CPU's own sequences, operation for operation as
the reference backend computes them (`kiln.lax.xla_math.erf32`, `lgamma32`, ...,
`kiln.lax.xla_math64.erfc64`, `lgamma64`, `digamma64`: JAX's bits). Their reflections take
the C library's sin and cos, float32 through `llvm.sin` and `llvm.cos` as XLA's code does (the
vectorizer widens them, and codegen calls sinf and cosf for each lane); float64 lgamma,
digamma and the log of float64 log1p call the C library too.
"""
from __future__ import annotations

import numpy as np

from kiln.backends.llvm import mathlib, mathlib_xla
from kiln.backends.llvm.types import constant
from kiln.lax import xla_math as xm
from kiln.lax import xla_math64 as xm64

F64 = np.float64


# ---------------------------------------------------------------------------- float32 erf, lgamma

def _f(value):
    """A float32 constant from a NumPy float32 (bit patterns kept)."""
    return constant(np.float32, float(value))


_fma = mathlib_xla.fma


def erf32(cg, x, saturate):
    """XLA's float32 erf saturating at `saturate`, a float32 value (`kiln.lax.xla_math.erf32`)."""
    b = cg.b
    x2 = b.fmul(x, x)
    out = b.fdiv(b.fmul(x, mathlib_xla.horner(cg, x2, xm.ERF_P)), mathlib_xla.horner(cg, x2, xm.ERF_Q))
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
    x2 = b.fmul(x, x)
    r = b.fdiv(_f(1.0), x2)
    a = cg.intrinsic("llvm.fabs", [x])
    tail = b.select(b.fcmp_ordered("<", a, _f(2.0)), mathlib_xla.horner(cg, r, xm.ERFC_MID),
                    mathlib_xla.horner(cg, r, xm.ERFC_LARGE))
    z = b.fmul(b.fmul(mathlib.exp(cg, b.fneg(x2)), b.fdiv(_f(1.0), a)), tail)
    z = b.select(b.fcmp_ordered(">", x2, _f(xm.ERFC_UNDERFLOW)), _f(0.0), z)
    z = b.select(b.fcmp_ordered("<", x, _f(0.0)), b.fsub(_f(2.0), z), z)
    small = _fma(cg, b.fneg(x), mathlib_xla.horner(cg, x2, xm.ERFC_SMALL), _f(1.0))
    return b.select(b.fcmp_ordered("<", a, _f(1.0)), small, z)


# ---------------------------------------------------------------------------- float64

def _d(value):
    return constant(F64, value)


def _monic(cg, x, coefficients):
    acc = cg.b.fadd(x, _d(coefficients[0]))
    for c in coefficients[1:]:
        acc = _fma(cg, acc, x, _d(c))
    return acc


def erfc64(cg, x):
    """XLA's float64 erfc (`kiln.lax.xla_math64.erfc64`)."""
    b = cg.b
    a = cg.intrinsic("llvm.fabs", [x])
    x2 = b.fmul(x, x)
    small = b.fsub(_d(1.0), b.fdiv(b.fmul(x, mathlib_xla.horner(cg, x2, xm64.ERFC_P_SMALL)),
                                   _monic(cg, x2, xm64.ERFC_Q_SMALL)))
    minus_x2 = b.fneg(x2)
    y, s = mathlib_xla.exp_parts(cg, minus_x2)
    e = mathlib_xla.exp_limits(cg, minus_x2, b.fmul(y, s), 0.0, np.inf)
    mid = b.fdiv(b.fmul(e, mathlib_xla.horner(cg, a, xm64.ERFC_P_MID)), _monic(cg, a, xm64.ERFC_Q_MID))
    large = b.fdiv(b.fmul(e, mathlib_xla.horner(cg, a, xm64.ERFC_P_LARGE)), _monic(cg, a, xm64.ERFC_Q_LARGE))
    z = b.select(b.fcmp_ordered("<", a, _d(8.0)), mid, large)
    z = b.select(b.fcmp_ordered("<", minus_x2, _d(-709.782712893384)), _d(0.0), z)
    z = b.select(b.fcmp_ordered("<", x, _d(0.0)), b.fsub(_d(2.0), z), z)
    return b.select(b.fcmp_ordered("<", a, _d(1.0)), small, z)


def _lanczos64(cg, x):
    """(x < 1/2, z, log t) of `xla_math64.lgamma64`."""
    b = cg.b
    reflect = b.fcmp_ordered("<", x, _d(0.5))
    z = b.select(reflect, b.fneg(x), b.fadd(x, _d(-1.0)))
    log_t = b.fadd(mathlib_xla.log1p64(cg, b.fmul(z, _d(xm64.INV_G_HALF))), _d(xm64.LOG_G_HALF))
    return reflect, z, log_t


def lgamma64(cg, x):
    """XLA's float64 lgamma (`kiln.lax.xla_math64.lgamma64`)."""
    b = cg.b
    reflect, z, log_t = _lanczos64(cg, x)
    s = b.fadd(b.fdiv(_d(xm64.LANCZOS[1]), b.fadd(z, _d(1.0))), _d(xm64.LANCZOS[0]))
    for i, c in enumerate(xm64.LANCZOS[2:], start=2):
        s = b.fadd(s, b.fdiv(_d(c), b.fadd(z, _d(i))))
    w = b.fsub(b.fadd(z, _d(0.5)), b.fdiv(b.fadd(z, _d(7.5)), log_t))
    log_y = b.fadd(_fma(cg, w, log_t, _d(xm64.LOG_SQRT_2PI)), cg.intrinsic("llvm.log", [s]))
    a = cg.intrinsic("llvm.fabs", [x])
    frac = b.fsub(a, cg.intrinsic("llvm.floor", [a]))
    frac = b.select(b.fcmp_ordered("<", _d(0.5), frac), b.fsub(_d(1.0), frac), frac)
    log_sin = cg.intrinsic("llvm.log", [mathlib.libm(cg, "sin", b.fmul(frac, _d(np.pi)))])
    finite = b.fcmp_ordered("!=", cg.intrinsic("llvm.fabs", [log_sin]), _d(np.inf))
    reflection = b.select(finite, b.fsub(b.fsub(_d(xm64.LOG_PI), log_sin), log_y), b.fneg(log_sin))
    out = b.select(reflect, reflection, log_y)
    return b.select(b.fcmp_ordered("==", a, _d(np.inf)), _d(np.inf), out)


def digamma64(cg, x):
    """XLA's float64 digamma (`kiln.lax.xla_math64.digamma64`)."""
    b = cg.b
    reflect, z, log_t = _lanczos64(cg, x)
    num = _d(0.0)
    den = b.fadd(b.fdiv(_d(xm64.LANCZOS[1]), b.fadd(z, _d(1.0))), _d(xm64.LANCZOS[0]))
    for i, c in enumerate(xm64.LANCZOS[1:], start=1):
        zi = b.fadd(z, _d(i))
        num = b.fsub(num, b.fdiv(_d(c), b.fmul(zi, zi)))
        if i > 1:
            den = b.fadd(den, b.fdiv(_d(c), zi))
    y = b.fsub(b.fadd(log_t, b.fdiv(num, den)), b.fdiv(_d(7.0), b.fadd(z, _d(7.5))))
    r = b.fadd(x, cg.intrinsic("llvm.fabs", [cg.intrinsic("llvm.floor", [b.fadd(x, _d(0.5))])]))
    pi_r = b.fmul(r, _d(np.pi))
    cot = b.fdiv(b.fmul(mathlib.libm(cg, "cos", pi_r), _d(np.pi)), mathlib.libm(cg, "sin", pi_r))
    out = b.select(reflect, b.fsub(y, cot), y)
    pole = b.and_(b.fcmp_ordered("<=", x, _d(0.0)), b.fcmp_ordered("==", cg.intrinsic("llvm.floor", [x]), x))
    return b.select(pole, _d(np.nan), out)
