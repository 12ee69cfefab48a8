"""Elementwise math of kiln.numpy, with NumPy's names and JAX's type promotion."""
from __future__ import annotations

import numpy as np

from kiln import lax
from kiln.lax import elementwise as ew
from kiln.numpy.core import (asarray, binary, cast, promote, promote_inexact, unary, where,
                             _elementwise_operands)
from kiln.primitives import aval_of, bind
from kiln.runtime import dtypes

add = binary(ew.add_p)
subtract = binary(ew.sub_p)
multiply = binary(ew.mul_p)
maximum = binary(ew.max_p)
minimum = binary(ew.min_p)
arctan2 = binary(ew.atan2_p, inexact=True)
nextafter = binary(ew.nextafter_p, inexact=True)
equal = binary(ew.eq_p)
not_equal = binary(ew.ne_p)
less = binary(ew.lt_p)
less_equal = binary(ew.le_p)
greater = binary(ew.gt_p)
greater_equal = binary(ew.ge_p)
bitwise_and = binary(ew.and_p)
bitwise_or = binary(ew.or_p)
bitwise_xor = binary(ew.xor_p)
left_shift = binary(ew.shift_left_p)
right_shift = binary(ew.shift_right_p)
invert = bitwise_not = unary(ew.not_p)

negative = unary(ew.neg_p)
exp = unary(ew.exp_p, inexact=True)
exp2 = unary(ew.exp2_p, inexact=True)
log = unary(ew.log_p, inexact=True)
log1p = unary(ew.log1p_p, inexact=True)
expm1 = unary(ew.expm1_p, inexact=True)
sqrt = unary(ew.sqrt_p, inexact=True)
cbrt = unary(ew.cbrt_p, inexact=True)
sin = unary(ew.sin_p, inexact=True)
cos = unary(ew.cos_p, inexact=True)
tan = unary(ew.tan_p, inexact=True)
arcsin = unary(ew.asin_p, inexact=True)
arccos = unary(ew.acos_p, inexact=True)
arctan = unary(ew.atan_p, inexact=True)
sinh = unary(ew.sinh_p, inexact=True)
cosh = unary(ew.cosh_p, inexact=True)
tanh = unary(ew.tanh_p, inexact=True)
arcsinh = unary(ew.asinh_p, inexact=True)
arccosh = unary(ew.acosh_p, inexact=True)
arctanh = unary(ew.atanh_p, inexact=True)
asin, acos, atan, asinh, acosh, atanh, atan2 = arcsin, arccos, arctan, arcsinh, arccosh, arctanh, arctan2
real = lambda x: bind(ew.real_p, x) if dtypes.is_complex(aval_of(x).dtype) else asarray(x)  # noqa: E731
imag = lambda x: bind(ew.imag_p, x) if dtypes.is_complex(aval_of(x).dtype) else zeros_like_value(x)  # noqa: E731
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
        return x
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
    if a.dtype.kind in "biu":
        if decimals >= 0:
            return a
        factor = 10 ** (-decimals)
        return multiply(floor_divide(add(a, factor // 2), factor), factor)
    if decimals == 0:
        return bind(ew.round_even_p, a)
    factor = cast(10.0 ** decimals, a.dtype, a.weak_type)
    return true_divide(bind(ew.round_even_p, multiply(a, factor)), factor)


around = round_ = round


def rint(x, /):
    return round(x)


def true_divide(x, y, /):
    x, y = promote_inexact(x, y)
    x, y = _elementwise_operands((x, y))
    return bind(ew.div_p, x, y)


divide = true_divide


def floor_divide(x, y, /):
    x, y = promote(x, y)
    x, y = _elementwise_operands((x, y))
    if x.dtype == np.bool_:
        raise TypeError("floor_divide of booleans is not supported")
    if x.dtype.kind in "iu":
        q = bind(ew.div_p, x, y)
        if x.dtype.kind == "u":
            return q
        # Truncating division rounds toward zero; floor needs one less when signs differ.
        r = bind(ew.rem_p, x, y)
        adjust = logical_and(not_equal(r, 0), not_equal(less(r, 0), less(y, 0)))
        return where(adjust, subtract(q, 1), q)
    return floor(bind(ew.div_p, x, y))


def remainder(x, y, /):
    x, y = promote(x, y)
    x, y = _elementwise_operands((x, y))
    r = bind(ew.rem_p, x, y)
    # Python's sign convention: the remainder has the divisor's sign.
    adjust = logical_and(not_equal(r, 0), not_equal(less(r, 0), less(y, 0)))
    return where(adjust, add(r, y), r)


mod = remainder


def fmod(x, y, /):
    x, y = promote(x, y)
    x, y = _elementwise_operands((x, y))
    return bind(ew.rem_p, x, y)


def divmod(x, y, /):
    return floor_divide(x, y), remainder(x, y)


def power(x, y, /):
    if isinstance(y, (int, np.integer)) and not isinstance(y, bool):
        (x,) = promote(x)
        if x.dtype.kind in "iu" and y < 0:
            raise ValueError("Integers cannot be raised to negative integer powers")
        return lax.integer_pow(x, int(y))
    x, y = promote(x, y)
    x, y = _elementwise_operands((x, y))
    if x.dtype.kind in "iub":
        return _integer_power(x, y)
    return bind(ew.pow_p, x, y)


pow = power


def _integer_power(x, y):
    """x ** y for integer arrays by repeated squaring over the bits of y."""
    bits = int(np.iinfo(y.dtype).bits) if y.dtype != np.bool_ else 1
    result = cast(1, x.dtype, x.weak_type)
    base, exponent = x, y
    for _ in range(bits):
        result = where(not_equal(bitwise_and(exponent, 1), 0), multiply(result, base), result)
        base = multiply(base, base)
        exponent = right_shift(exponent, 1)
    return where(less(y, 0), 0, result)


def float_power(x, y, /):
    x, y = promote_inexact(x, y)
    return power(x, y)


def square(x, /):
    (x,) = promote(x)
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
    x, y = promote_inexact(x, y)
    big = maximum(x, y)
    finite_big = where(isfinite(big), big, 0)
    return add(finite_big, log(add(exp(subtract(x, finite_big)), exp(subtract(y, finite_big)))))


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

def _as_bool(x):
    return cast(x, np.dtype(np.bool_)) if aval_of(x).dtype != np.bool_ else asarray(x)


def logical_and(x, y, /):
    return bitwise_and(_as_bool(x), _as_bool(y))


def logical_or(x, y, /):
    return bitwise_or(_as_bool(x), _as_bool(y))


def logical_xor(x, y, /):
    return bitwise_xor(_as_bool(x), _as_bool(y))


def logical_not(x, /):
    return bind(ew.not_p, _as_bool(x))


def isfinite(x, /):
    (x,) = promote(x)
    if x.dtype.kind in "biu":
        return _full_bool(x, True)
    if x.dtype.kind == "c":
        return logical_and(isfinite(real(x)), isfinite(imag(x)))
    return bind(ew.is_finite_p, x)


def isnan(x, /):
    (x,) = promote(x)
    if x.dtype.kind in "biu":
        return _full_bool(x, False)
    return not_equal(x, x)


def isinf(x, /):
    (x,) = promote(x)
    if x.dtype.kind in "biu":
        return _full_bool(x, False)
    return equal(abs(x), np.inf)


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
