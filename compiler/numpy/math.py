"""Elementwise math of kiln.numpy, with NumPy's names and JAX's type promotion.

The functions that are one primitive each are in kiln.numpy.ufuncs (re-exported here);
this module has those that combine several: abs, sign, rounding, division, powers,
predicates, clip, ...
"""
from __future__ import annotations

import numpy as np

from kiln import lax
from kiln.lax import elementwise as ew
from kiln.numpy.core import asarray, cast, elementwise_operands, promote, promote_inexact, where
from kiln.primitives import aval_of, bind
from kiln.runtime import dtypes
from kiln.staging import Staged
from kiln.numpy.ufuncs import *  # noqa: F401,F403  (the one-primitive functions, re-exported)
from kiln.numpy.ufuncs import _as_bool  # noqa: F401  (used by kiln.numpy.reductions)

real = lambda x: bind(ew.real_p, x) if dtypes.is_complex(aval_of(x).dtype) else asarray(x)  # noqa: E731


def imag(x, /):
    if dtypes.is_complex(aval_of(x).dtype):
        return bind(ew.imag_p, x)
    # A true zero: `x * 0` would be -0.0 for negative x (angle(-1.0) must be +pi) and NaN for inf.
    from kiln.numpy.core import full_like_shape
    x = asarray(x)
    return full_like_shape(cast(0, x.dtype, x.weak_type), x.shape)

conj = conjugate = lambda x: bind(ew.conj_p, x) if dtypes.is_complex(aval_of(x).dtype) else asarray(x)  # noqa: E731


def zeros_like_value(x):
    x = asarray(x)
    return multiply(x, 0)


def positive(x, /):
    return asarray(x)


def abs(x, /):
    (x,) = promote(x)
    if x.dtype == np.bool_ or x.dtype.kind == "u":
        return x
    return bind(ew.abs_p, x)


absolute = abs


def sign(x, /):
    (x,) = promote(x)
    if x.dtype == np.bool_:
        raise TypeError("sign does not accept dtype bool. Accepted dtypes are subtypes of integer, "
                        "floating, complexfloating.")
    return bind(ew.sign_p, x)


def floor(x, /):
    (x,) = promote(x)
    return x if x.dtype.kind in "biu" else bind(ew.floor_p, x)


def ceil(x, /):
    (x,) = promote(x)
    return x if x.dtype.kind in "biu" else bind(ew.ceil_p, x)


def trunc(x, /):
    (x,) = promote(x)
    return x if x.dtype.kind in "biu" else where(less(x, 0), ceil(x), floor(x))


fix = trunc


def round(a, decimals=0, out=None):
    (a,) = promote(a)
    # JAX rejects these two cases; kiln follows so programs behave the same on both.
    if a.dtype == np.bool_:
        raise ValueError("data type <class 'numpy.bool'> not inexact")
    if a.dtype.kind in "iu":
        if decimals < 0:
            raise NotImplementedError("integer np.round not implemented for decimals < 0")
        return a
    if decimals == 0:
        return bind(ew.round_even_p, a)
    factor = cast(10.0 ** decimals, a.dtype, a.weak_type)
    return true_divide(bind(ew.round_even_p, multiply(a, factor)), factor)


around = round_ = round


def rint(x, /):
    return round(x)


def true_divide(x, y, /):
    x, y = promote_inexact(x, y)
    x, y = elementwise_operands("true_divide", x, y)
    return bind(ew.div_p, x, y)


divide = true_divide


def floor_divide(x, y, /):
    x, y = elementwise_operands("floor_divide", *_promote_numeric(x, y))
    if x.dtype.kind == "c":
        raise TypeError("floor_divide does not support complex-valued inputs")
    if x.dtype.kind in "iu":
        q = bind(ew.div_p, x, y)
        if x.dtype.kind == "u":
            return q
        # Truncating division rounds toward zero; floor needs one less when signs differ.
        r = bind(ew.rem_p, x, y)
        adjust = logical_and(not_equal(r, 0), not_equal(less(r, 0), less(y, 0)))
        return where(adjust, subtract(q, 1), q)
    # Floats as CPython's divmod: x - fmod(x, y) divides exactly, so 1.5 // 0.004 is 374 (the
    # quotient 375.0 is rounded up); step down where fmod's sign differs from y's.
    r = bind(ew.rem_p, x, y)
    q = bind(ew.div_p, where(equal(y, 0), x, subtract(x, r)), y)
    adjust = logical_and(not_equal(r, 0), not_equal(less(r, 0), less(y, 0)))
    return bind(ew.round_away_p, where(adjust, subtract(q, 1), q))


def remainder(x, y, /):
    x, y = promote(x, y)
    x, y = elementwise_operands("remainder", x, y)
    r = bind(ew.rem_p, x, y)
    # Python's sign convention: the remainder has the divisor's sign.
    adjust = logical_and(not_equal(r, 0), not_equal(less(r, 0), less(y, 0)))
    return where(adjust, add(r, y), r)


mod = remainder


def fmod(x, y, /):
    x, y = promote(x, y)
    x, y = elementwise_operands("fmod", x, y)
    return bind(ew.rem_p, x, y)


def divmod(x, y, /):
    return floor_divide(x, y), remainder(x, y)


def power(x, y, /):
    exponent = _concrete_int(y)
    if exponent is not None:  # a known integer exponent: repeated multiplication, as JAX
        (x,) = _promote_numeric(x)
        return lax.integer_pow(x, exponent)
    x_aval, y_aval = aval_of(x), aval_of(y)
    x, y = promote(x, y)
    x, y = elementwise_operands("power", x, y)
    if x.dtype.kind in "biu":
        x, y = _promote_numeric(x, y)
        return _integer_power(x, y)
    if x_aval.dtype.kind in "fc" and y_aval.dtype.kind in "iu" and x.weak_type:
        # JAX applies lax.pow to the unpromoted operands here: weak only if both are.
        x, y = cast(x, x.dtype, y_aval.weak_type), cast(y, y.dtype, y_aval.weak_type)
    return bind(ew.pow_p, x, y)


def _concrete_int(y):
    """y as a Python int if it is a known integer scalar (Python, NumPy or concrete array)."""
    if isinstance(y, Staged) or np.ndim(y) != 0 or aval_of(y).dtype.kind not in "biu":
        return None
    return int(np.asarray(y))


def _promote_numeric(*args):
    """promote(), with bool results made the default integer type (as JAX's power does)."""
    args = promote(*args)
    if args[0].dtype == np.bool_:  # int32 even with x64 on, as in JAX
        args = [cast(a, np.dtype(np.int32)) for a in args]
    return args


pow = power


def _integer_power(x, y):
    """x ** y for integer arrays by repeated squaring, as JAX computes it.

    JAX squares six times, so it uses the exponent's low six bits (`y & 63`; larger exponents
    overflow anyway except for bases 0 and ±1), and 0 ** y is 0 for every y != 0. Negative
    exponents therefore give JAX's wrapped values, not an error.
    """
    result = cast(where(logical_and(equal(x, 0), not_equal(y, 0)), 0, 1), x.dtype, x.weak_type)
    base, exponent = x, y
    for bit in range(6):
        result = where(not_equal(bitwise_and(exponent, 1), 0), multiply(result, base), result)
        if bit < 5:
            base = multiply(base, base)
            exponent = right_shift(exponent, 1)
    return result


def float_power(x, y, /):
    x, y = promote_inexact(x, y)
    return power(x, y)


def square(x, /):
    (x,) = _promote_numeric(x)
    return lax.integer_pow(x, 2)


def reciprocal(x, /):
    return true_divide(1, x)


def log2(x, /):
    (x,) = promote_inexact(x)
    return true_divide(log(x), np.log(2).astype(x.dtype))


def log10(x, /):
    (x,) = promote_inexact(x)
    return true_divide(log(x), np.log(10).astype(x.dtype))


def logaddexp(x, y, /):
    """log(exp(x) + exp(y)): the larger plus log1p(exp(-|x - y|)), which keeps the small
    term's digits (x + y where x - y is NaN: a NaN, or equal infinities)."""
    x, y = promote_inexact(x, y)
    if x.dtype.kind == "c":
        big = maximum(x, y)
        finite_big = where(isfinite(big), big, 0)
        return add(finite_big, log(add(exp(subtract(x, finite_big)), exp(subtract(y, finite_big)))))
    return _real_logaddexp(x, y)


def _logaddexp(x, y):
    delta = subtract(x, y)
    return where(isnan(delta), add(x, y), add(maximum(x, y), log1p(exp(negative(absolute(delta))))))


def _logaddexp_jvp(primals, tangents):
    # d = t_x exp(x - out) + t_y exp(y - out), with +inf read as 0 (inf - inf would be NaN)
    x, y = primals
    tx, ty = tangents
    out = _real_logaddexp(x, y)

    def finite(v):
        return where(isposinf(v), 0, v)
    return out, add(multiply(tx, exp(subtract(finite(x), finite(out)))),
                    multiply(ty, exp(subtract(finite(y), finite(out)))))


def _make_real_logaddexp():
    from kiln.custom_derivatives import custom_jvp
    fn = custom_jvp(_logaddexp)
    fn.defjvp(_logaddexp_jvp)
    return fn


_real_logaddexp = _make_real_logaddexp()


def hypot(x, y, /):
    x, y = promote_inexact(x, y)
    return sqrt(add(multiply(x, x), multiply(y, y)))


def deg2rad(x, /):
    (x,) = promote_inexact(x)
    return multiply(x, np.pi / 180)


def rad2deg(x, /):
    (x,) = promote_inexact(x)
    return multiply(x, 180 / np.pi)


radians, degrees = deg2rad, rad2deg


def sinc(x, /):
    (x,) = promote_inexact(x)
    pix = multiply(x, np.pi)
    safe = where(equal(x, 0), 1, pix)
    return where(equal(x, 0), 1, true_divide(sin(safe), safe))


def heaviside(x1, x2, /):
    x1, x2 = promote_inexact(x1, x2)
    return where(less(x1, 0), 0, where(greater(x1, 0), 1, x2))


def copysign(x1, x2, /):
    x1, x2 = promote_inexact(x1, x2)
    return where(signbit(x2), negative(abs(x1)), abs(x1))


def signbit(x, /):
    (x,) = promote(x)
    if x.dtype.kind == "f":
        return less(true_divide(1, where(equal(x, 0), x, sign(x))), 0)
    return less(x, 0)


# ---------------------------------------------------------------------------- logic

def isfinite(x, /):
    (x,) = promote(x)
    if x.dtype.kind in "biu":
        return _full_bool(x, True)
    if x.dtype.kind == "c":
        return logical_and(isfinite(real(x)), isfinite(imag(x)))
    return bind(ew.is_finite_p, x)


def isnan(x, /):
    (x,) = promote(x)
    return not_equal(x, x)


def isinf(x, /):
    (x,) = promote(x)
    if x.dtype.kind in "biu":
        return _full_bool(x, False)
    return equal(abs(x), np.asarray(np.inf, x.dtype))  # a strong inf: the result is not weak


def isposinf(x, /):
    return logical_and(isinf(x), greater(x, 0))


def isneginf(x, /):
    return logical_and(isinf(x), less(x, 0))


def _full_bool(x, value: bool):
    from kiln.numpy.core import broadcast_to
    return broadcast_to(np.bool_(value), x.shape)


def clip(arr, min=None, max=None, *, a_min=None, a_max=None):
    lo = min if min is not None else a_min
    hi = max if max is not None else a_max
    out = asarray(arr)
    if lo is not None:
        out = maximum(out, lo)
    if hi is not None:
        out = minimum(out, hi)
    return out


def fmax(x, y, /):
    return where(isnan(y), x, where(isnan(x), y, maximum(x, y)))


def fmin(x, y, /):
    return where(isnan(y), x, where(isnan(x), y, minimum(x, y)))


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    (x,) = promote(x)
    if x.dtype.kind not in "fc":
        return x
    info = np.finfo(x.dtype)
    x = where(isnan(x), nan, x)
    x = where(isposinf(x), info.max if posinf is None else posinf, x)
    return where(isneginf(x), info.min if neginf is None else neginf, x)


__all__ = ['add', 'subtract', 'multiply', 'maximum', 'minimum', 'arctan2', 'nextafter', 'equal',
           'not_equal', 'less', 'less_equal', 'greater', 'greater_equal', 'bitwise_and',
           'bitwise_or', 'bitwise_xor', 'left_shift', 'right_shift', 'invert', 'bitwise_not',
           'negative', 'exp', 'exp2', 'log', 'log1p', 'expm1', 'sqrt', 'cbrt', 'sin', 'cos', 'tan',
           'arcsin', 'arccos', 'arctan', 'sinh', 'cosh', 'tanh', 'arcsinh', 'arccosh', 'arctanh',
           'asin', 'acos', 'atan', 'asinh', 'acosh', 'atanh', 'atan2', 'real', 'imag', 'conj',
           'conjugate', 'positive', 'abs', 'absolute', 'sign', 'floor', 'ceil', 'trunc', 'fix',
           'round', 'around', 'round_', 'rint', 'true_divide', 'divide', 'floor_divide',
           'remainder', 'mod', 'fmod', 'divmod', 'power', 'pow', 'float_power', 'square',
           'reciprocal', 'log2', 'log10', 'logaddexp', 'hypot', 'deg2rad', 'rad2deg', 'radians',
           'degrees', 'sinc', 'heaviside', 'copysign', 'signbit', 'logical_and', 'logical_or',
           'logical_xor', 'logical_not', 'isfinite', 'isnan', 'isinf', 'isposinf', 'isneginf',
           'clip', 'fmax', 'fmin', 'nan_to_num']
