"""sinh, cosh, exp2, asinh, acosh, atanh, asin and acos as XLA:CPU computes them (JAX's CHLO
decompositions, fused), operation for operation as `kiln.lax.xla_composite` (JAX's bits), from
XLA's exp, expm1, log and log1p (`mathlib`, `mathlib_xla`) and the C library's log (float64)
and atan2.
"""
from __future__ import annotations

import math

import numpy as np

from kiln.backends.llvm import mathlib, mathlib_xla
from kiln.backends.llvm.mathlib_xla import const, exp_parts, fma, is_f32


def _ln2(x):
    return const(x, np.float32(math.log(2)) if is_f32(x) else math.log(2))


def _exp(cg, x):
    """(y, s, exp(x)) as XLA's exp inside a fusion (`xla_composite._exp`)."""
    y, s = exp_parts(cg, x)
    e = cg.b.fmul(y, s)
    return y, s, e if is_f32(x) else mathlib_xla.exp_limits(cg, x, e, 0.0, np.inf)


def _half_exps(cg, x, sign):
    """exp(x - ln2) + sign exp(-ln2 - x), float32 with the first exp's product fused."""
    b = cg.b
    ln2 = _ln2(x)
    y1, s1, e1 = _exp(cg, b.fsub(x, ln2))
    _, _, e2 = _exp(cg, b.fsub(b.fneg(ln2), x))
    e2 = e2 if sign > 0 else b.fneg(e2)
    return fma(cg, y1, s1, e2) if is_f32(x) else b.fadd(e1, e2)


def exp2(cg, x):
    return _exp(cg, cg.b.fmul(x, _ln2(x)))[2]


def cosh(cg, x):
    return _half_exps(cg, x, 1)


def sinh(cg, x):
    b = cg.b
    m = mathlib_xla.expm1(cg, x)
    small = b.fmul(b.fadd(m, b.fdiv(m, b.fadd(m, const(x, 1.0)))), const(x, 0.5))
    use_small = b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [x]), const(x, 1.0))
    return b.select(use_small, small, _half_exps(cg, x, -1))


def _log(cg, x):
    return mathlib.log(cg, x) if is_f32(x) else cg.intrinsic("llvm.log", [x])


def _log1p(cg, x, square_shared=False):
    return mathlib.log1p(cg, x, square_shared) if is_f32(x) else mathlib_xla.log1p64(cg, x, square_shared)


def _max(x):
    return np.finfo(np.float32 if is_f32(x) else np.float64).max


def asinh(cg, x):
    b = cg.b
    a = cg.intrinsic("llvm.fabs", [x])
    x2 = b.fmul(x, x)
    root = cg.intrinsic("llvm.sqrt", [b.fadd(x2, const(x, 1.0))])
    small = _log1p(cg, b.fadd(a, b.fdiv(x2, b.fadd(root, const(x, 1.0)))))
    large = b.fadd(_log(cg, a), _ln2(x))
    out = b.select(b.fcmp_ordered(">=", a, const(x, math.sqrt(_max(x)))), large, small)
    nonzero = b.uitofp(b.fcmp_ordered("!=", x, const(x, 0.0)), x.type)
    sign = b.select(b.fcmp_unordered("uno", x, x), x, cg.intrinsic("llvm.copysign", [nonzero, x]))
    return b.fmul(sign, out)


def acosh(cg, x):
    b = cg.b
    below = cg.intrinsic("llvm.sqrt", [b.fadd(x, const(x, -1.0))])
    small = _log1p(cg, b.fmul(below, b.fadd(cg.intrinsic("llvm.sqrt", [b.fadd(x, const(x, 1.0))]), below)))
    large = b.fadd(_log(cg, x), _ln2(x))
    return b.select(b.fcmp_ordered(">=", x, const(x, _max(x) / 2)), large, small)


def atanh(cg, x):
    b = cg.b
    out = b.fmul(b.fsub(_log1p(cg, x, True), _log1p(cg, b.fneg(x), True)), const(x, 0.5))
    beyond = b.fcmp_ordered(">", cg.intrinsic("llvm.fabs", [x]), const(x, 1.0))
    return b.select(beyond, const(x, np.nan), out)


def _root_1_minus_x2(cg, x):
    b = cg.b
    return cg.intrinsic("llvm.sqrt", [b.fmul(b.fsub(const(x, 1.0), x), b.fadd(x, const(x, 1.0)))])


def asin(cg, x):
    b = cg.b
    a = mathlib.libm(cg, "atan2", x, b.fadd(_root_1_minus_x2(cg, x), const(x, 1.0)))
    tiny = np.finfo(np.float32 if is_f32(x) else np.float64).tiny
    a = b.select(b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [a]), const(x, tiny)), b.fmul(a, const(x, 0.0)), a)
    return b.fadd(a, a)


def acos(cg, x):
    return mathlib.libm(cg, "atan2", _root_1_minus_x2(cg, x), x)
