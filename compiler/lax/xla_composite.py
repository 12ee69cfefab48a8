"""sinh, cosh, exp2, asinh, acosh, atanh, asin and acos as XLA:CPU computes them, bit for bit,
in NumPy, float32 and float64.

JAX lowers these to other operations (CHLO decompositions), which XLA fuses into one loop:

- exp2(x) = exp(x ln2);
- cosh(x) = exp(x - ln2) + exp(-ln2 - x);
- sinh(x) = (m + m / (m + 1)) / 2 with m = expm1(x) for |x| < 1, else exp(x - ln2) - exp(-ln2 - x);
- asinh(x) = sign(x) log1p(|x| + x**2 / (sqrt(x**2 + 1) + 1)), or sign(x) (log|x| + ln2) from
  |x| = sqrt(max) on;
- acosh(x) = log1p(sqrt(x - 1) (sqrt(x + 1) + sqrt(x - 1))), or log(x) + ln2 from max / 2 on;
- atanh(x) = (log1p(x) - log1p(-x)) / 2, NaN beyond |x| = 1;
- asin(x) = 2 atan2(x, 1 + sqrt((1 - x)(1 + x))), acos(x) = atan2(sqrt((1 - x)(1 + x)), x),
  with the C library's atan2.

with exp, expm1, log and log1p as XLA emits them (`xla_math`, `xla_math64`). In float32, LLVM
fuses the last product of one exp into cosh's and sinh's sum (`fma32`); in float64 the exp's
range selects stand between them. In atanh the two log1p share x**2 * -1/2, so LLVM fuses
their other product (`xla_math.log1p32`'s `square_shared`). These are the vectorized loop's
bits; XLA's scalar remainder loop (`xla_math`) fuses float32 asinh and acosh differently in
about 4e-5 of the elements it runs.
"""
from __future__ import annotations

import numpy as np

from kiln.lax import xla_math as xm
from kiln.lax import xla_math64 as xm64
from kiln.lax.host_libm import libm

F32, F64 = np.float32, np.float64


def _exp(x):
    """XLA's exp inside a fusion: (y, s) with exp(x) = y * s, and y * s (float64: with its
    range selects)."""
    if x.dtype == F32:
        y, s = xm.exp_parts32(x)
        return y, s, (y * s).astype(F32)
    y, s = xm64.exp_parts64(x)
    with np.errstate(all="ignore"):
        return y, s, xm64.exp_limits(x, y * s, 0.0, np.inf)


def _half_exps(x, sign):
    """exp(x - ln2) + sign exp(-ln2 - x)."""
    t = x.dtype.type
    ln2 = t(np.log(2))
    with np.errstate(all="ignore"):
        y1, s1, e1 = _exp((x + -ln2).astype(x.dtype))
        _, _, e2 = _exp((-ln2 - x).astype(x.dtype))
        if x.dtype == F32:
            return xm.fma32(y1, s1, sign * e2)
        return e1 + sign * e2


def exp2(x):
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        return _exp((x * x.dtype.type(np.log(2))).astype(x.dtype))[2]


def cosh(x):
    return _half_exps(np.asarray(x), 1)


def sinh(x):
    x = np.asarray(x)
    t = x.dtype.type
    m = xm.expm1_32(x) if x.dtype == F32 else xm64.expm1_64(x)
    with np.errstate(all="ignore"):
        small = ((m + (m / (m + t(1))).astype(x.dtype)).astype(x.dtype) * t(0.5)).astype(x.dtype)
        return np.where(np.abs(x) < 1, small, _half_exps(x, -1)).astype(x.dtype)


def _log(x):
    return xm.log32(x) if x.dtype == F32 else libm("log", x)


def _log1p(x, square_shared=False):
    if x.dtype == F32:
        return xm.log1p32(x, square_shared=square_shared)
    return xm64.log1p64(x, square_shared=square_shared)


def asinh(x):
    x = np.asarray(x)
    t = x.dtype.type
    with np.errstate(all="ignore"):
        a = np.abs(x)
        x2 = (x * x).astype(x.dtype)
        root = np.sqrt((x2 + t(1)).astype(x.dtype))
        small = _log1p((a + (x2 / (root + t(1)).astype(x.dtype)).astype(x.dtype)).astype(x.dtype))
        large = (_log(a) + t(np.log(2))).astype(x.dtype)
        out = np.where(a >= np.sqrt(np.finfo(x.dtype).max), large, small)
        sign = np.where(np.isnan(x), x, np.copysign((x != 0).astype(x.dtype), x))  # XLA's sign: -0 at -0
        return (sign * out).astype(x.dtype)


def acosh(x):
    x = np.asarray(x)
    t = x.dtype.type
    with np.errstate(all="ignore"):
        below = np.sqrt((x + t(-1)).astype(x.dtype))
        small = _log1p((below * (np.sqrt((x + t(1)).astype(x.dtype)) + below).astype(x.dtype)).astype(x.dtype))
        large = (_log(x) + t(np.log(2))).astype(x.dtype)
        return np.where(x >= np.finfo(x.dtype).max / 2, large, small).astype(x.dtype)


def atanh(x):
    x = np.asarray(x)
    t = x.dtype.type
    with np.errstate(all="ignore"):
        out = ((_log1p(x, True) - _log1p(-x, True)).astype(x.dtype) * t(0.5)).astype(x.dtype)
        return np.where(np.abs(x) > 1, t(np.nan), out).astype(x.dtype)


def _root_1_minus_x2(x):
    t = x.dtype.type
    with np.errstate(all="ignore"):
        return np.sqrt(((t(1) - x).astype(x.dtype) * (x + t(1)).astype(x.dtype)).astype(x.dtype))


def asin(x):
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        a = libm("atan2", x, (_root_1_minus_x2(x) + x.dtype.type(1)).astype(x.dtype))
        a = np.where(np.abs(a) < np.finfo(x.dtype).tiny, a * 0, a)  # XLA flushes subnormals
        return (a + a).astype(x.dtype)


def acos(x):
    x = np.asarray(x)
    return libm("atan2", _root_1_minus_x2(x), x)
