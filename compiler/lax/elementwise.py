"""Elementwise primitives: unary math, binary arithmetic, comparisons, select, casts.

Contract of every primitive here: operands have one dtype (callers such as kiln.numpy
promote first); shapes are equal, except that rank-0 operands broadcast. The result is
weakly typed only when every operand is.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sp

from kiln.ir import ShapedArray
from kiln.primitives import bind, impl_rules, primitive, shape_rules
from kiln.runtime import dtypes

# Which dtypes each family accepts.
_FLOAT = ("float", "complex")
_REAL_FLOAT = ("float",)
_NUMBER = ("int", "uint", "float", "complex")
_REAL = ("int", "uint", "float")
_INTEGRAL = ("bool", "int", "uint")
_ANY = ("bool", "int", "uint", "float", "complex")


def _kind(dtype) -> str:
    kind = np.dtype(dtype).kind
    return {"b": "bool", "i": "int", "u": "uint", "f": "float", "c": "complex"}[kind]


def _check_dtype(name, aval, accepts):
    if _kind(aval.dtype) not in accepts:
        raise TypeError(f"kiln.lax.{name} does not accept dtype {aval.dtype.name}; "
                        f"it takes {', '.join(accepts)} values")


def broadcast_shapes_of(name, avals) -> tuple[int, ...]:
    shapes = {a.shape for a in avals if a.shape != ()}
    if len(shapes) > 1:
        raise TypeError(f"kiln.lax.{name} needs operands of one shape (or rank 0), got "
                        + ", ".join(a.str_short() for a in avals))
    return shapes.pop() if shapes else ()


def _same_dtype(name, avals):
    kinds = {a.dtype for a in avals}
    if len(kinds) > 1:
        raise TypeError(f"kiln.lax.{name} needs operands of one dtype, got "
                        + ", ".join(a.str_short() for a in avals))
    return avals[0].dtype


# ---------------------------------------------------------------------------- unary

def _unary(name, np_fn, accepts=_ANY, out_dtype=None):
    p = primitive(name)

    def shape_rule(x, **_):
        _check_dtype(name, x, accepts)
        dtype = x.dtype if out_dtype is None else out_dtype(x.dtype)
        return [ShapedArray(x.shape, np.dtype(dtype), x.weak_type and out_dtype is None)]

    def impl(x, **_):
        return [np_fn(x)]

    shape_rules[p] = shape_rule
    impl_rules[p] = impl
    return p


def _real_dtype(dtype):
    return np.finfo(dtype).dtype if np.dtype(dtype).kind == "c" else dtype


def _sign(x):
    return np.sign(x) if x.dtype.kind != "u" else (x > 0).astype(x.dtype)


def _round_half_even(x):
    return np.round(x)


def _round_away(x):
    return np.trunc(x + np.copysign(np.asarray(0.5, x.dtype), x)) if x.dtype.kind == "f" else x


def _rsqrt(x):
    return (np.ones((), x.dtype) / np.sqrt(x)).astype(x.dtype)


def _logistic(x):
    return sp.expit(x).astype(x.dtype)


def _typed(fn):
    return lambda x: np.asarray(fn(x)).astype(x.dtype)


neg_p = _unary("neg", np.negative, _NUMBER)
sign_p = _unary("sign", _sign, _NUMBER)
floor_p = _unary("floor", np.floor, _REAL_FLOAT)
ceil_p = _unary("ceil", np.ceil, _REAL_FLOAT)
round_even_p = _unary("round", _round_half_even, _REAL_FLOAT)
round_away_p = _unary("round_away_from_zero", _round_away, _REAL_FLOAT)
is_finite_p = _unary("is_finite", np.isfinite, _REAL_FLOAT, out_dtype=lambda d: np.bool_)
exp_p = _unary("exp", np.exp, _FLOAT)
exp2_p = _unary("exp2", np.exp2, _FLOAT)
log_p = _unary("log", np.log, _FLOAT)
log1p_p = _unary("log1p", np.log1p, _FLOAT)
expm1_p = _unary("expm1", np.expm1, _FLOAT)
tanh_p = _unary("tanh", np.tanh, _FLOAT)
logistic_p = _unary("logistic", _logistic, _FLOAT)
sin_p = _unary("sin", np.sin, _FLOAT)
cos_p = _unary("cos", np.cos, _FLOAT)
tan_p = _unary("tan", np.tan, _FLOAT)
asin_p = _unary("asin", np.arcsin, _FLOAT)
acos_p = _unary("acos", np.arccos, _FLOAT)
atan_p = _unary("atan", np.arctan, _FLOAT)
sinh_p = _unary("sinh", np.sinh, _FLOAT)
cosh_p = _unary("cosh", np.cosh, _FLOAT)
asinh_p = _unary("asinh", np.arcsinh, _FLOAT)
acosh_p = _unary("acosh", np.arccosh, _FLOAT)
atanh_p = _unary("atanh", np.arctanh, _FLOAT)
sqrt_p = _unary("sqrt", np.sqrt, _FLOAT)
rsqrt_p = _unary("rsqrt", _rsqrt, _FLOAT)
cbrt_p = _unary("cbrt", np.cbrt, _REAL_FLOAT)
abs_p = _unary("abs", np.abs, _NUMBER, out_dtype=_real_dtype)
erf_p = _unary("erf", _typed(sp.erf), _REAL_FLOAT)
erfc_p = _unary("erfc", _typed(sp.erfc), _REAL_FLOAT)
erf_inv_p = _unary("erf_inv", _typed(sp.erfinv), _REAL_FLOAT)
lgamma_p = _unary("lgamma", _typed(sp.gammaln), _REAL_FLOAT)
digamma_p = _unary("digamma", _typed(sp.digamma), _REAL_FLOAT)
not_p = _unary("not", lambda x: np.logical_not(x) if x.dtype == np.bool_ else np.invert(x), _INTEGRAL)
real_p = _unary("real", np.real, ("complex",), out_dtype=_real_dtype)
imag_p = _unary("imag", np.imag, ("complex",), out_dtype=_real_dtype)
conj_p = _unary("conj", np.conj, ("complex",))


# ---------------------------------------------------------------------------- binary

def _binary(name, np_fn, accepts=_ANY, out_dtype=None):
    p = primitive(name)

    def shape_rule(x, y, **_):
        dtype = _same_dtype(name, (x, y))
        _check_dtype(name, x, accepts)
        shape = broadcast_shapes_of(name, (x, y))
        weak = x.weak_type and y.weak_type and out_dtype is None
        return [ShapedArray(shape, np.dtype(dtype if out_dtype is None else out_dtype), weak)]

    def impl(x, y, **_):
        return [np_fn(x, y)]

    shape_rules[p] = shape_rule
    impl_rules[p] = impl
    return p


def _div(x, y):
    if x.dtype.kind in "iu":  # C semantics: truncate toward zero, as XLA does
        with np.errstate(all="ignore"):
            safe = np.where(y == 0, 1, y)
            q = np.abs(x) // np.abs(safe)
            q = np.where((x < 0) != (y < 0), -q, q) if x.dtype.kind == "i" else q
            return np.where(y == 0, -1 if x.dtype.kind == "i" else np.iinfo(x.dtype).max, q).astype(x.dtype)
    return np.true_divide(x, y).astype(x.dtype)


def _rem(x, y):
    if x.dtype.kind in "iu":
        safe = np.where(y == 0, 1, y)
        return np.where(y == 0, x, np.fmod(x, safe)).astype(x.dtype)
    return np.fmod(x, y)


def _logical(np_logical, np_bitwise):
    return lambda x, y: np_logical(x, y) if x.dtype == np.bool_ else np_bitwise(x, y)


def _pow(x, y):
    return np.power(x, y).astype(x.dtype)


add_p = _binary("add", np.add, _NUMBER)
sub_p = _binary("sub", np.subtract, _NUMBER)
mul_p = _binary("mul", np.multiply, _NUMBER)
div_p = _binary("div", _div, _NUMBER)
rem_p = _binary("rem", _rem, _REAL)
pow_p = _binary("pow", _pow, _FLOAT)
max_p = _binary("max", np.maximum, _ANY)
min_p = _binary("min", np.minimum, _ANY)
atan2_p = _binary("atan2", np.arctan2, _REAL_FLOAT)
nextafter_p = _binary("nextafter", np.nextafter, _REAL_FLOAT)
and_p = _binary("and", _logical(np.logical_and, np.bitwise_and), _INTEGRAL)
or_p = _binary("or", _logical(np.logical_or, np.bitwise_or), _INTEGRAL)
xor_p = _binary("xor", _logical(np.logical_xor, np.bitwise_xor), _INTEGRAL)
shift_left_p = _binary("shift_left", np.left_shift, ("int", "uint"))
shift_right_p = _binary("shift_right_arithmetic", np.right_shift, ("int", "uint"))
eq_p = _binary("eq", np.equal, _ANY, out_dtype=np.bool_)
ne_p = _binary("ne", np.not_equal, _ANY, out_dtype=np.bool_)
lt_p = _binary("lt", np.less, _REAL + ("bool",), out_dtype=np.bool_)
le_p = _binary("le", np.less_equal, _REAL + ("bool",), out_dtype=np.bool_)
gt_p = _binary("gt", np.greater, _REAL + ("bool",), out_dtype=np.bool_)
ge_p = _binary("ge", np.greater_equal, _REAL + ("bool",), out_dtype=np.bool_)


# ---------------------------------------------------------------------------- integer_pow

integer_pow_p = primitive("integer_pow")


def _integer_pow_shape(x, *, y):
    _check_dtype("integer_pow", x, _NUMBER)
    if x.dtype.kind in "iu" and y < 0:
        raise TypeError("kiln.lax.integer_pow: integers cannot be raised to a negative power")
    return [x]


def _integer_pow_impl(x, *, y):
    if y == 0:
        return [np.ones_like(x)]
    return [np.power(x, y).astype(x.dtype) if x.dtype.kind in "iu" or y > 0
            else (np.ones((), x.dtype) / np.power(x, -y)).astype(x.dtype)]


shape_rules[integer_pow_p] = _integer_pow_shape
impl_rules[integer_pow_p] = _integer_pow_impl


# ---------------------------------------------------------------------------- select_n

select_n_p = primitive("select_n")


def _select_n_shape(which, *cases):
    if not cases:
        raise TypeError("kiln.lax.select_n needs at least one case")
    dtype = _same_dtype("select_n", cases)
    if which.dtype != np.bool_ and which.dtype.kind not in "iu":
        raise TypeError(f"kiln.lax.select_n: the selector must be bool or integer, got {which.dtype.name}")
    if which.dtype == np.bool_ and len(cases) > 2:
        raise TypeError("kiln.lax.select_n: a bool selector picks between at most two cases")
    shape = broadcast_shapes_of("select_n", (which, *cases))
    return [ShapedArray(shape, dtype, all(c.weak_type for c in cases))]


def _select_n_impl(which, *cases):
    if which.dtype == np.bool_:
        return [np.where(which, cases[-1], cases[0])]
    return [np.choose(which.astype(np.int64), np.broadcast_arrays(*cases), mode="clip")]


shape_rules[select_n_p] = _select_n_shape
impl_rules[select_n_p] = _select_n_impl


# ---------------------------------------------------------------------------- clamp

clamp_p = primitive("clamp")


def _clamp_shape(lo, x, hi):
    _same_dtype("clamp", (lo, x, hi))
    broadcast_shapes_of("clamp", (lo, x, hi))
    if lo.shape not in ((), x.shape) or hi.shape not in ((), x.shape):
        raise TypeError("kiln.lax.clamp: bounds must be scalars or have the operand's shape")
    return [x]


shape_rules[clamp_p] = _clamp_shape
impl_rules[clamp_p] = lambda lo, x, hi: [np.minimum(np.maximum(x, lo), hi)]


# ---------------------------------------------------------------------------- casts

convert_element_type_p = primitive("convert_element_type")


def _convert_shape(x, *, new_dtype, weak_type=False):
    return [ShapedArray(x.shape, np.dtype(new_dtype), weak_type)]


def _convert_impl(x, *, new_dtype, weak_type=False):
    new_dtype = np.dtype(new_dtype)
    if x.dtype.kind == "c" and new_dtype.kind != "c":
        x = np.real(x)
    if x.dtype.kind == "f" and new_dtype.kind in "iu":
        # XLA saturates float->int conversions and maps NaN to 0.
        info = np.iinfo(new_dtype)
        with np.errstate(invalid="ignore"):
            x = np.where(np.isnan(x), 0, np.clip(x, info.min, info.max))
        x = np.trunc(x)
        big = x >= float(info.max)
        out = np.where(big, 0, x).astype(new_dtype)
        return [np.where(big, info.max, out).astype(new_dtype)]
    if new_dtype == np.bool_:
        return [x != 0]
    return [x.astype(new_dtype)]


shape_rules[convert_element_type_p] = _convert_shape
impl_rules[convert_element_type_p] = _convert_impl


def convert_element_type(x, new_dtype, weak_type=False):
    return bind(convert_element_type_p, x, new_dtype=dtypes.canonicalize_dtype(new_dtype),
                weak_type=weak_type)
