"""kiln.numpy's elementwise functions that are one primitive each, and the logical ones.

Each promotes its operands as JAX does (`unary`/`binary` in kiln.numpy.core), broadcasts
them and applies one kiln.lax primitive; the composite functions are in kiln.numpy.math.
"""
from __future__ import annotations

import numpy as np

from kiln.lax import elementwise as ew
from kiln.numpy.core import asarray, binary, elementwise_operands, promote, unary
from kiln.primitives import aval_of, bind

add = binary(ew.add_p)
subtract = binary(ew.sub_p, "subtract")
multiply = binary(ew.mul_p, "multiply")
maximum = binary(ew.max_p, "maximum")
minimum = binary(ew.min_p, "minimum")
arctan2 = binary(ew.atan2_p, "arctan2", inexact=True)
nextafter = binary(ew.nextafter_p, inexact=True)
equal = binary(ew.eq_p, "equal")
not_equal = binary(ew.ne_p, "not_equal")
less = binary(ew.lt_p, "less")
less_equal = binary(ew.le_p, "less_equal")
greater = binary(ew.gt_p, "greater")
greater_equal = binary(ew.ge_p, "greater_equal")
bitwise_and = binary(ew.and_p, "bitwise_and")
bitwise_or = binary(ew.or_p, "bitwise_or")
bitwise_xor = binary(ew.xor_p, "bitwise_xor")
left_shift = binary(ew.shift_left_p, "left_shift")
right_shift = binary(ew.shift_right_p, "right_shift")
invert = bitwise_not = unary(ew.not_p, "invert")

negative = unary(ew.neg_p, "negative")
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


# ---------------------------------------------------------------------------- logic

def _as_bool(x):
    # `x != 0` rather than a cast: it keeps a Python scalar's weak type, as JAX does.
    return not_equal(x, 0) if aval_of(x).dtype != np.bool_ else asarray(x)


def _logical(p, name):
    def fn(x, y, /):
        # Promote first, then compare with zero: a pair of Python scalars stays weak.
        x, y = elementwise_operands(name, *promote(x, y))
        return bind(p, _as_bool(x), _as_bool(y))
    fn.__name__ = name
    return fn


logical_and = _logical(ew.and_p, "logical_and")
logical_or = _logical(ew.or_p, "logical_or")
logical_xor = _logical(ew.xor_p, "logical_xor")


def logical_not(x, /):
    return bind(ew.not_p, _as_bool(x))


__all__ = ["add", "subtract", "multiply", "maximum", "minimum", "arctan2", "nextafter", "equal",
           "not_equal", "less", "less_equal", "greater", "greater_equal", "bitwise_and", "bitwise_or",
           "bitwise_xor", "left_shift", "right_shift", "invert", "bitwise_not", "negative", "exp",
           "exp2", "log", "log1p", "expm1", "sqrt", "cbrt", "sin", "cos", "tan", "arcsin", "arccos",
           "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "asin", "acos", "atan",
           "asinh", "acosh", "atanh", "atan2", "logical_and", "logical_or", "logical_xor",
           "logical_not"]
