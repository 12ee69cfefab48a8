"""Elementwise primitives: unary math, binary arithmetic, comparisons, select, casts.

Contract of every primitive here: operands have one dtype (callers such as kiln.numpy
promote first); shapes are equal, except that rank-0 operands broadcast. The result is
weakly typed only when every operand is.
"""
from __future__ import annotations

import numpy as np
import scipy.special as sp

from kiln.ir import ShapedArray
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules
from kiln.lax import host_libm, prng, xla_composite, xla_math, xla_math64
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


# ---------------------------------------------------------------------------- AD helpers
# Rules below are written with `bind` on this module's primitives. Operands of one equation
# share a dtype; `_c(x, v)` makes the constant v in x's dtype.

def _c(x, value):
    """The constant `value` of x's dtype, weakly typed if x is (as JAX's constants in rules are),
    so that derivatives of weakly typed values stay weakly typed."""
    aval = x if isinstance(x, ShapedArray) else aval_of(x)
    value = np.asarray(value, dtype=aval.dtype)
    if aval.weak_type:
        from kiln.runtime.array import Array
        return Array(value, weak_type=True)
    return value


def _mul(a, b):
    return bind(mul_p, a, b)


def _bcast(t, shape):
    """A tangent of a rank-0 operand, broadcast to the output's shape."""
    if t is None or aval_of(t).shape == tuple(shape):
        return t
    from kiln.lax.structural import broadcast_in_dim_p
    return bind(broadcast_in_dim_p, t, shape=tuple(shape), broadcast_dimensions=())


def _unbcast(ct, aval):
    """The cotangent of an operand that was broadcast from rank 0: summed."""
    if ct is None or aval_of(ct).shape == aval.shape:
        return ct
    from kiln.lax.reductions import reduce_sum_p
    return bind(reduce_sum_p, ct, axes=tuple(range(len(aval_of(ct).shape))))


def _out_shape(*xs):
    shapes = [aval_of(x).shape for x in xs if aval_of(x).shape != ()]
    return shapes[0] if shapes else ()


def _zero_tangent_jvp(prim):
    def rule(primals, tangents, **params):
        out = bind(prim, *primals, **params)
        return [out], [None]
    return rule


# ---------------------------------------------------------------------------- unary

def _unary(name, np_fn, accepts=_ANY, out_dtype=None):
    p = primitive(name)

    def shape_rule(x, **_):
        _check_dtype(name, x, accepts)
        dtype = x.dtype if out_dtype is None else out_dtype(x.dtype)
        # As in JAX, weak_type follows the operand even where the dtype is fixed (isnan(1.0)).
        return [ShapedArray(x.shape, np.dtype(dtype), x.weak_type)]

    def impl(x, **_):
        with np.errstate(all="ignore"):  # NaN and inf are results, as in XLA, not warnings
            return [np_fn(x)]

    shape_rules[p] = shape_rule
    impl_rules[p] = impl
    return p


def _wide(np_fn):
    """Compute in float64 and round once: correctly rounded float16/float32 results, as XLA's
    transcendentals give (NumPy's float32 SIMD versions can be an ulp off)."""
    def fn(x, *rest):
        if x.dtype.kind == "f" and x.dtype.itemsize < 8:
            return np.asarray(np_fn(x.astype(np.float64), *(r.astype(np.float64) for r in rest))).astype(x.dtype)
        return np_fn(x, *rest)
    return fn


def _xla_f32(fn32, other):
    """float32 by XLA:CPU's own algorithm (`kiln.lax.xla_math`: JAX's bits), other dtypes by `other`."""
    def fn(x, *rest):
        if x.dtype == np.float32:
            return fn32(x, *rest)
        return other(x, *rest)
    return fn


def _xla(fn32, fn64, other=None):
    """float32, and float16 through it (as XLA computes it), by XLA:CPU's float32 algorithm
    `fn32`, float64 by its float64 one `fn64` (`kiln.lax.xla_math`, `xla_math64`: JAX's bits);
    complex values by `other`."""
    def fn(x):
        if x.dtype.kind == "c":
            return other(x)
        if x.dtype.itemsize <= 4:
            return np.asarray(fn32(x.astype(np.float32))).astype(x.dtype)
        return fn64(x)
    return fn


def _libm(name, other):
    """The C library's `name` (float32: `namef`), which XLA:CPU calls; complex values by `other`."""
    return _xla(lambda x: host_libm.libm(name, x), lambda x: host_libm.libm(name, x), other)


def _real_dtype(dtype):
    return np.finfo(dtype).dtype if np.dtype(dtype).kind == "c" else dtype


def _sign(x):
    return np.sign(x) if x.dtype.kind != "u" else (x > 0).astype(x.dtype)


def _round_half_even(x):
    return np.round(x)


def _round_away(x):
    if x.dtype.kind != "f":
        return x
    t = np.trunc(x)  # x - t is exact, where x + 0.5 rounds (0.49999997 + 0.5 == 1 in float32)
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(x - t) >= 0.5, t + np.sign(x), t).astype(x.dtype)


def _rsqrt(x):
    return (np.ones((), x.dtype) / np.sqrt(x)).astype(x.dtype)


def _logistic(x):
    if x.dtype.kind == "c":  # scipy's expit is real only
        return (1 / (1 + np.exp(-x))).astype(x.dtype)
    return sp.expit(x).astype(x.dtype)


neg_p = _unary("neg", np.negative, _NUMBER)
sign_p = _unary("sign", _sign, _NUMBER)
floor_p = _unary("floor", np.floor, _REAL_FLOAT)
ceil_p = _unary("ceil", np.ceil, _REAL_FLOAT)
round_even_p = _unary("round", _round_half_even, _REAL_FLOAT)
round_away_p = _unary("round_away_from_zero", _round_away, _REAL_FLOAT)
is_finite_p = _unary("is_finite", np.isfinite, _REAL_FLOAT, out_dtype=lambda d: np.bool_)
exp_p = _unary("exp", _xla(xla_math.exp32, xla_math64.exp64, np.exp), _FLOAT)
exp2_p = _unary("exp2", _xla(xla_composite.exp2, xla_composite.exp2, np.exp2), _FLOAT)
log_p = _unary("log", _xla(xla_math.log32, lambda x: host_libm.libm("log", x), np.log), _FLOAT)
log1p_p = _unary("log1p", _xla(xla_math.log1p32, xla_math64.log1p64, np.log1p), _FLOAT)
expm1_p = _unary("expm1", _xla(xla_math.expm1_32, xla_math64.expm1_64, np.expm1), _FLOAT)
tanh_p = _unary("tanh", _xla(xla_math.tanh32, xla_math64.tanh64, np.tanh), _FLOAT)
logistic_p = _unary("logistic", _xla(xla_math.logistic32, xla_math64.logistic64, _logistic), _FLOAT)
sin_p = _unary("sin", _libm("sin", np.sin), _FLOAT)
cos_p = _unary("cos", _libm("cos", np.cos), _FLOAT)
tan_p = _unary("tan", _libm("tan", np.tan), _FLOAT)
asin_p = _unary("asin", _xla(xla_composite.asin, xla_composite.asin, np.arcsin), _FLOAT)
acos_p = _unary("acos", _xla(xla_composite.acos, xla_composite.acos, np.arccos), _FLOAT)
atan_p = _unary("atan", _libm("atan", np.arctan), _FLOAT)
sinh_p = _unary("sinh", _xla(xla_composite.sinh, xla_composite.sinh, np.sinh), _FLOAT)
cosh_p = _unary("cosh", _xla(xla_composite.cosh, xla_composite.cosh, np.cosh), _FLOAT)
asinh_p = _unary("asinh", _xla(xla_composite.asinh, xla_composite.asinh, np.arcsinh), _FLOAT)
acosh_p = _unary("acosh", _xla(xla_composite.acosh, xla_composite.acosh, np.arccosh), _FLOAT)
atanh_p = _unary("atanh", _xla(xla_composite.atanh, xla_composite.atanh, np.arctanh), _FLOAT)
sqrt_p = _unary("sqrt", np.sqrt, _FLOAT)
rsqrt_p = _unary("rsqrt", _xla_f32(xla_math.rsqrt32, _wide(_rsqrt)), _FLOAT)
cbrt_p = _unary("cbrt", _libm("cbrt", None), _REAL_FLOAT)
abs_p = _unary("abs", np.abs, _NUMBER, out_dtype=_real_dtype)


def _through_f32(fn32, other):
    """float32, and float16 through float32 (as XLA computes it), by `fn32`; float64 by `other`."""
    def fn(x):
        if x.dtype.itemsize <= 4:
            return np.asarray(fn32(x.astype(np.float32))).astype(x.dtype)
        return other(x)
    return fn


def _erf32(x):
    # eager JAX's saturation point depends on the element count (`xla_math.erf32`)
    return xla_math.erf32(x, xla_math.erf_saturation(x.size))


erf_p = _unary("erf", _through_f32(_erf32, xla_math.erf64), _REAL_FLOAT)
erfc_p = _unary("erfc", _through_f32(xla_math.erfc32, xla_math64.erfc64), _REAL_FLOAT)
def _erf_inv32(x):
    """XLA's float32 erf_inv (`kiln.lax.prng.erf_inv_numpy`, whose sampler's version is +-max at
    +-1 where lax.erf_inv is +-inf)."""
    with np.errstate(all="ignore"):
        return np.where(np.abs(x) == 1, x * np.float32(np.inf), prng.erf_inv_numpy(x)).astype(np.float32)


erf_inv_p = _unary("erf_inv", _xla(_erf_inv32, xla_math64.erf_inv64), _REAL_FLOAT)
lgamma_p = _unary("lgamma", _through_f32(xla_math.lgamma32, xla_math64.lgamma64), _REAL_FLOAT)
digamma_p = _unary("digamma", _through_f32(xla_math.digamma32, xla_math64.digamma64), _REAL_FLOAT)
not_p = _unary("not", lambda x: np.logical_not(x) if x.dtype == np.bool_ else np.invert(x), _INTEGRAL)
real_p = _unary("real", np.real, ("complex",), out_dtype=_real_dtype)
imag_p = _unary("imag", np.imag, ("complex",), out_dtype=_real_dtype)
conj_p = _unary("conj", np.conj, ("complex",))


# Derivatives of the unary functions: the tangent is t times a coefficient of x and y = f(x).
def _unary_jvp(coefficient):
    def rule(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        y = bind(rule.prim, x, **params)
        return [y], [_mul(t, coefficient(x, y))]
    return rule


def _recip(x):
    return bind(div_p, _c(x, 1), x)


def _sq(x):
    return _mul(x, x)


def _trigamma(x):
    """psi'(x), digamma's derivative, from differentiable primitives (so digamma has higher
    derivatives too): the asymptotic series at x + 8 after 8 recurrence steps
    psi'(x) = psi'(x + 1) + 1/x**2, and reflection psi'(x) + psi'(1 - x) = pi**2 / sin(pi x)**2
    below 1/2 (relative error ~1e-14 in float64)."""
    reflect = bind(lt_p, x, _c(x, 0.5))
    z = bind(select_n_p, reflect, x, bind(sub_p, _c(x, 1), x))
    total = _recip(_sq(z))
    for k in range(1, 8):
        total = bind(add_p, total, _recip(_sq(bind(add_p, z, _c(z, k)))))
    w = _recip(bind(add_p, z, _c(z, 8)))
    w2 = _sq(w)
    series = _c(z, 0.0)  # 1/x + 1/(2x^2) + sum B_2k / x^(2k+1), Horner in 1/x^2
    for b in (7 / 6, -691 / 2730, 5 / 66, -1 / 30, 1 / 42, -1 / 30, 1 / 6):
        series = bind(add_p, _mul(series, w2), _c(z, b))
    tail = bind(add_p, bind(add_p, w, _mul(_c(z, 0.5), w2)), _mul(_mul(series, w2), w))
    direct = bind(add_p, total, tail)
    pi_x = _mul(_c(x, np.pi), x)
    reflected = bind(sub_p, bind(div_p, _c(x, np.pi ** 2), _sq(bind(sin_p, pi_x))), direct)
    return bind(select_n_p, reflect, direct, reflected)


_UNARY_DERIVATIVES = {
    exp_p: lambda x, y: y,
    exp2_p: lambda x, y: _mul(y, _c(x, np.log(2))),
    log_p: lambda x, y: _recip(x),
    log1p_p: lambda x, y: _recip(bind(add_p, x, _c(x, 1))),
    expm1_p: lambda x, y: bind(add_p, y, _c(x, 1)),
    # (1 + y)(1 - y), not 1 - y**2: 1 - y is exact near |y| = 1 (as JAX's rule)
    tanh_p: lambda x, y: _mul(bind(add_p, _c(x, 1), y), bind(sub_p, _c(x, 1), y)),
    logistic_p: lambda x, y: _mul(y, bind(sub_p, _c(x, 1), y)),
    sin_p: lambda x, y: bind(cos_p, x),
    cos_p: lambda x, y: bind(neg_p, bind(sin_p, x)),
    tan_p: lambda x, y: bind(add_p, _c(x, 1), _sq(y)),
    asin_p: lambda x, y: bind(rsqrt_p, bind(sub_p, _c(x, 1), _sq(x))),
    acos_p: lambda x, y: bind(neg_p, bind(rsqrt_p, bind(sub_p, _c(x, 1), _sq(x)))),
    atan_p: lambda x, y: _recip(bind(add_p, _c(x, 1), _sq(x))),
    sinh_p: lambda x, y: bind(cosh_p, x),
    cosh_p: lambda x, y: bind(sinh_p, x),
    asinh_p: lambda x, y: bind(rsqrt_p, bind(add_p, _sq(x), _c(x, 1))),
    acosh_p: lambda x, y: bind(rsqrt_p, bind(sub_p, _sq(x), _c(x, 1))),
    atanh_p: lambda x, y: _recip(bind(sub_p, _c(x, 1), _sq(x))),
    sqrt_p: lambda x, y: bind(div_p, _c(x, 0.5), y),
    rsqrt_p: lambda x, y: _mul(bind(div_p, y, x), _c(x, -0.5)),
    cbrt_p: lambda x, y: bind(div_p, y, _mul(x, _c(x, 3))),
    erf_p: lambda x, y: _mul(_c(x, 2 / np.sqrt(np.pi)), bind(exp_p, bind(neg_p, _sq(x)))),
    erfc_p: lambda x, y: _mul(_c(x, -2 / np.sqrt(np.pi)), bind(exp_p, bind(neg_p, _sq(x)))),
    erf_inv_p: lambda x, y: _mul(_c(x, np.sqrt(np.pi) / 2), bind(exp_p, _sq(y))),
    lgamma_p: lambda x, y: bind(digamma_p, x),
    digamma_p: lambda x, y: _trigamma(x),
}
for _p, _coefficient in _UNARY_DERIVATIVES.items():
    jvp_rules[_p] = _unary_jvp(_coefficient)
    jvp_rules[_p].prim = _p
# stop_gradient is the identity whose tangent is zero.
stop_gradient_p = _unary("stop_gradient", lambda x: x, _ANY)
for _p in (sign_p, floor_p, ceil_p, round_even_p, round_away_p, is_finite_p, not_p, stop_gradient_p):
    jvp_rules[_p] = _zero_tangent_jvp(_p)


def _linear_unary(prim, transpose=None):
    """A primitive linear in its operand; its transpose is itself unless given."""
    transpose = transpose or (lambda ct: bind(prim, ct))
    jvp_rules[prim] = lambda primals, tangents, **params: (
        [bind(prim, *primals, **params)], [bind(prim, *tangents, **params)])
    transpose_rules[prim] = lambda ct, x, **params: [None if ct is None else transpose(ct)]


def _zero(x):
    """A rank-0 zero of x's dtype, strongly typed (it broadcasts inside the primitive)."""
    return np.zeros((), aval_of(x).dtype)


# Complex values are differentiated as JAX does: tangents are complex, and transposition is
# with respect to the bilinear pairing <a, b> = Re(a * b), without conjugation. So
# multiplication by a holomorphic derivative transposes to itself, and the gradient of a
# real f(z), z = x + i y, is df/dx - i df/dy: grad(abs(z)**2) is 2 conj(z).
_linear_unary(neg_p)
_linear_unary(conj_p)
_linear_unary(real_p, lambda ct: bind(complex_p, ct, _zero(ct)))
_linear_unary(imag_p, lambda ct: bind(complex_p, _zero(ct), bind(neg_p, ct)))


def _abs_jvp(primals, tangents):
    # Real: the tangent's sign flipped below 0 (at 0 it passes, as in JAX). Complex:
    # Re(t conj(x) / |x|), with |x| = 0 replaced by 1 so that the tangent at 0 is 0.
    (x,), (t,) = primals, tangents
    y = bind(abs_p, x)
    if aval_of(x).dtype.kind != "c":
        return [y], [bind(select_n_p, bind(ge_p, x, _c(x, 0)), bind(neg_p, t), t)]
    magnitude = bind(convert_element_type_p, y, new_dtype=aval_of(x).dtype, weak_type=False)
    safe = bind(select_n_p, bind(eq_p, magnitude, _c(x, 0)), magnitude, _c(x, 1))
    return [y], [bind(real_p, _mul(t, bind(div_p, bind(conj_p, x), safe)))]


jvp_rules[abs_p] = _abs_jvp


# ---------------------------------------------------------------------------- binary

def _binary(name, np_fn, accepts=_ANY, out_dtype=None):
    p = primitive(name)

    def shape_rule(x, y, **_):
        dtype = _same_dtype(name, (x, y))
        _check_dtype(name, x, accepts)
        shape = broadcast_shapes_of(name, (x, y))
        weak = x.weak_type and y.weak_type  # also for comparisons, as in JAX
        return [ShapedArray(shape, np.dtype(dtype if out_dtype is None else out_dtype), weak)]

    def impl(x, y, **_):
        with np.errstate(all="ignore"):  # NaN, inf and division by zero are results, as in XLA
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
pow_p = _binary("pow", _xla_f32(xla_math.pow32, _wide(_pow)), _FLOAT)
max_p = _binary("max", np.maximum, _ANY)
min_p = _binary("min", np.minimum, _ANY)
def _atan2(x, y):
    """The C library's atan2 (float32: atan2f, float16 through it), which XLA:CPU calls."""
    if x.dtype.itemsize <= 4:
        return host_libm.libm("atan2", x.astype(np.float32), y.astype(np.float32)).astype(x.dtype)
    return host_libm.libm("atan2", x, y)


atan2_p = _binary("atan2", _atan2, _REAL_FLOAT)
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


# Derivatives of the binary functions. Rank-0 operands broadcast, so tangents are broadcast
# to the output's shape and cotangents summed back.
def _add_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    shape = _out_shape(x, y)
    out = bind(add_p, x, y)
    if tx is None or ty is None:
        return [out], [_bcast(tx if ty is None else ty, shape)]
    return [out], [bind(add_p, tx, ty)]


def _sub_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    shape = _out_shape(x, y)
    out = bind(sub_p, x, y)
    if ty is None:
        return [out], [_bcast(tx, shape)]
    if tx is None:
        return [out], [_bcast(bind(neg_p, ty), shape)]
    return [out], [bind(sub_p, tx, ty)]


def _add_transpose(ct, x, y):
    return [_unbcast(ct, x.aval) if _is_undefined(x) else None,
            _unbcast(ct, y.aval) if _is_undefined(y) else None]


def _sub_transpose(ct, x, y):
    return [_unbcast(ct, x.aval) if _is_undefined(x) else None,
            _unbcast(bind(neg_p, ct), y.aval) if _is_undefined(y) and ct is not None else None]


def _is_undefined(x) -> bool:
    from kiln.passes.transpose import is_linear
    return is_linear(x)


def _product_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    shape = _out_shape(x, y)
    terms = [_bcast(_mul(tx, y), shape) if tx is not None else None,
             _bcast(_mul(x, ty), shape) if ty is not None else None]
    terms = [t for t in terms if t is not None]
    return [_mul(x, y)], [terms[0] if len(terms) == 1 else bind(add_p, *terms)]


def _mul_transpose(ct, x, y):
    if ct is None:
        return [None, None]
    if _is_undefined(x) and _is_undefined(y):
        raise NotImplementedError("kiln: transpose of a product of two linear values (not linear)")
    if _is_undefined(x):
        return [_unbcast(_mul(ct, y), x.aval), None]
    return [None, _unbcast(_mul(x, ct), y.aval)]


def _div_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    shape = _out_shape(x, y)
    out = bind(div_p, x, y)
    terms = []
    if tx is not None:
        terms.append(_bcast(bind(div_p, tx, y), shape))
    if ty is not None:  # -t * x / y**2, in the order JAX computes it (same rounding)
        terms.append(_bcast(_mul(_mul(bind(neg_p, ty), x), bind(integer_pow_p, y, y=-2)), shape))
    return [out], [terms[0] if len(terms) == 1 else bind(add_p, *terms)]


def _div_transpose(ct, x, y):
    if _is_undefined(y):
        raise NotImplementedError("kiln: transpose of a division by a linear value (not linear)")
    return [None if ct is None else _unbcast(bind(div_p, ct, y), x.aval), None]


def _weighted_jvp(prim, weights):
    """jvp of f(x, y) = tx * wx(x, y, out) + ty * wy(x, y, out)."""
    def rule(primals, tangents, **params):
        x, y = primals
        out = bind(prim, x, y, **params)
        shape = _out_shape(x, y)
        wx, wy = weights(x, y, out)
        terms = [_bcast(_mul(t, w), shape) for t, w in zip(tangents, (wx, wy)) if t is not None]
        return [out], [terms[0] if len(terms) == 1 else bind(add_p, *terms)]
    return rule


def _balanced(x, y, pick):
    """1 where `pick` holds, 1/2 on ties, else 0: the derivative of max/min splits ties."""
    one, half, zero = _c(x, 1), _c(x, 0.5), _c(x, 0)
    tie = bind(eq_p, x, y)
    return bind(select_n_p, tie, bind(select_n_p, pick, zero, one), half)


def _max_weights(x, y, out):
    return _balanced(x, y, bind(gt_p, x, y)), _balanced(y, x, bind(gt_p, y, x))


def _min_weights(x, y, out):
    return _balanced(x, y, bind(lt_p, x, y)), _balanced(y, x, bind(lt_p, y, x))


def _pow_jvp(primals, tangents):
    # d/dx x**y = y * x**(y-1), taken as 0 where y == 0 (not 0 * inf at x == 0, as JAX);
    # d/dy = log(x) * x**y, taken as 0 where x == 0.
    # The weak types follow JAX's rule: dx is computed from strongly typed copies of x and y,
    # and the y term is made strong after its product with the tangent. So the tangent is
    # strongly typed and the cotangent of a weakly typed operand weak again (the transpose of a
    # conversion restores the operand's weak type): grad(grad(lambda x: x ** 2.5))(2.0) is weak.
    x, y = primals
    tx, ty = tangents
    out = bind(pow_p, x, y)
    shape = _out_shape(x, y)
    terms = []
    if tx is not None:
        xs, ys = (_strong(v) for v in (x, y))
        y_zero = bind(eq_p, ys, _c(ys, 0))
        safe_y = bind(select_n_p, y_zero, ys, _c(ys, 1))
        dx = bind(select_n_p, y_zero, _mul(safe_y, bind(pow_p, xs, bind(sub_p, safe_y, _c(ys, 1)))), _c(xs, 0))
        terms.append(_bcast(_mul(tx, dx), shape))
    if ty is not None:
        x_zero = bind(eq_p, x, _c(x, 0))
        safe_x = bind(select_n_p, x_zero, x, _c(x, 1))
        dy = bind(select_n_p, x_zero, _mul(bind(log_p, safe_x), out), _c(x, 0))
        terms.append(_bcast(_strong(_mul(ty, dy)), shape))
    return [out], [terms[0] if len(terms) == 1 else bind(add_p, *terms)]


def _strong(x):
    return bind(convert_element_type_p, x, new_dtype=aval_of(x).dtype, weak_type=False)


def _atan2_weights(x, y, out):
    denom = bind(add_p, _sq(x), _sq(y))
    return bind(div_p, y, denom), bind(neg_p, bind(div_p, x, denom))


def _rem_weights(x, y, out):
    q = bind(div_p, bind(sub_p, x, out), y)  # x = q*y + rem, q an integer value
    return _c(x, 1), bind(neg_p, q)


# complex(x, y) = x + i y, from two real operands of one dtype (float32 or float64, as in JAX).
complex_p = primitive("complex")


def _complex_shape(x, y):
    dtype = _same_dtype("complex", (x, y))
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"kiln.lax.complex takes float32 or float64 operands, got {dtype.name}")
    shape = broadcast_shapes_of("complex", (x, y))
    return [ShapedArray(shape, np.dtype(np.complex64 if dtype == np.float32 else np.complex128),
                        x.weak_type and y.weak_type)]


def _complex_impl(x, y):
    x, y = np.asarray(x), np.asarray(y)
    out = np.empty(np.broadcast_shapes(x.shape, y.shape), np.complex64 if x.dtype == np.float32 else np.complex128)
    out.real, out.imag = x, y  # not x + 1j * y, which turns an infinite part into NaN
    return [out]


def _complex_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    shape = _out_shape(x, y)
    tx = _zeros(aval_of(x), shape) if tx is None else _bcast(tx, shape)
    ty = _zeros(aval_of(y), shape) if ty is None else _bcast(ty, shape)
    return [bind(complex_p, x, y)], [bind(complex_p, tx, ty)]


def _complex_transpose(ct, x, y):
    if ct is None:
        return [None, None]
    return [_unbcast(bind(real_p, ct), x.aval) if _is_undefined(x) else None,
            _unbcast(bind(imag_p, bind(neg_p, ct)), y.aval) if _is_undefined(y) else None]


shape_rules[complex_p] = _complex_shape
impl_rules[complex_p] = _complex_impl
jvp_rules[complex_p] = _complex_jvp
transpose_rules[complex_p] = _complex_transpose

jvp_rules[add_p] = _add_jvp
jvp_rules[sub_p] = _sub_jvp
jvp_rules[mul_p] = _product_jvp
jvp_rules[div_p] = _div_jvp
jvp_rules[max_p] = _weighted_jvp(max_p, _max_weights)
jvp_rules[min_p] = _weighted_jvp(min_p, _min_weights)
jvp_rules[pow_p] = _pow_jvp
jvp_rules[atan2_p] = _weighted_jvp(atan2_p, _atan2_weights)
jvp_rules[rem_p] = _weighted_jvp(rem_p, _rem_weights)
transpose_rules[add_p] = _add_transpose
transpose_rules[sub_p] = _sub_transpose
transpose_rules[mul_p] = _mul_transpose
transpose_rules[div_p] = _div_transpose
# nextafter has no rule, as in JAX: its result is its first operand moved by one ulp, so a
# zero derivative would be wrong and the identity's a guess.
for _p in (eq_p, ne_p, lt_p, le_p, gt_p, ge_p, and_p, or_p, xor_p, shift_left_p, shift_right_p):
    jvp_rules[_p] = _zero_tangent_jvp(_p)


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



def _integer_pow_jvp(primals, tangents, *, y):
    (x,), (t,) = primals, tangents
    out = bind(integer_pow_p, x, y=y)
    if y == 0:
        return [out], [None]
    coefficient = _c(x, y) if y == 1 else _mul(_c(x, y), bind(integer_pow_p, x, y=y - 1))
    return [out], [_mul(t, coefficient)]


jvp_rules[integer_pow_p] = _integer_pow_jvp


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



def _select_n_jvp(primals, tangents):
    which, *cases = primals
    out = bind(select_n_p, which, *cases)
    case_ts = tangents[1:]
    if all(t is None for t in case_ts):
        return [out], [None]
    shape = aval_of(out).shape
    ts = [_bcast(t, shape) if t is not None else _zeros(aval_of(c), shape) for t, c in zip(case_ts, cases)]
    return [out], [bind(select_n_p, which, *ts)]


def _zeros(aval, shape):
    """Zeros of `shape` in aval's type (weakly typed too, as JAX's `full_like`)."""
    from kiln.lax.structural import broadcast_in_dim_p
    return bind(broadcast_in_dim_p, _c(aval, 0), shape=tuple(shape), broadcast_dimensions=())


def _select_n_transpose(ct, which, *cases):
    if _is_undefined(which):
        raise NotImplementedError("kiln: transpose of select_n with respect to its selector")
    if ct is None:
        return [None] * (1 + len(cases))
    zeros = _zeros(aval_of(ct), aval_of(ct).shape)
    out = [None]
    for i, case in enumerate(cases):
        if not _is_undefined(case):
            out.append(None)
            continue
        picks = [zeros] * len(cases)
        picks[i] = ct
        out.append(_unbcast(bind(select_n_p, which, *picks), case.aval))
    return out


jvp_rules[select_n_p] = _select_n_jvp
transpose_rules[select_n_p] = _select_n_transpose


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



def _clamp_jvp(primals, tangents):
    # As JAX: the tangent of whichever operand is the result (the bounds' too), and zero
    # where the operand ties with a bound.
    lo, x, hi = primals
    out = bind(clamp_p, lo, x, hi)
    if all(t is None for t in tangents):
        return [out], [None]
    shape = aval_of(x).shape
    zeros = _zeros(aval_of(x), shape)
    picks = [bind(and_p, bind(gt_p, lo, x), bind(lt_p, lo, hi)),
             bind(and_p, bind(gt_p, x, lo), bind(lt_p, x, hi)),
             bind(lt_p, hi, x)]
    terms = [bind(select_n_p, pick, zeros, _bcast(t, shape)) for pick, t in zip(picks, tangents) if t is not None]
    tangent = terms[0]
    for term in terms[1:]:
        tangent = bind(add_p, tangent, term)
    return [out], [tangent]


jvp_rules[clamp_p] = _clamp_jvp


# ---------------------------------------------------------------------------- libm
# The C library's exp or log (float32: expf, logf), `fn` naming which: where XLA:CPU leaves
# LLVM's own intrinsic, on a remainder vector of 3, 5, 6 or 7 lanes, and LLVM turns it into
# calls of the C library (`kiln.random.core._log_alone`). Internal, as in JAX.
libm_p = _unary("libm", None, _REAL_FLOAT)
impl_rules[libm_p] = lambda x, *, fn: [_libm(fn, None)(x)]


def _libm_jvp(primals, tangents, *, fn):
    (x,), (t,) = primals, tangents
    y = bind(libm_p, x, fn=fn)
    return [y], [_mul(t, y) if fn == "exp" else bind(div_p, t, x)]


jvp_rules[libm_p] = _libm_jvp


# ---------------------------------------------------------------------------- fma
# a * b + c with one rounding: XLA:CPU fuses a multiply into an add this way, and kiln's
# samplers reproduce it (not public in JAX either). LLVM lowers it to llvm.fma.
fma_p = primitive("fma")


def _fma_shape(a, b, c):
    dtype = _same_dtype("fma", (a, b, c))
    _check_dtype("fma", a, _REAL_FLOAT)
    return [ShapedArray(broadcast_shapes_of("fma", (a, b, c)), np.dtype(dtype),
                        a.weak_type and b.weak_type and c.weak_type)]


def _fma_impl(a, b, c):
    from kiln.lax import xla_math, xla_math64
    dtype = np.result_type(a, b, c)
    if dtype == np.float64:
        return [xla_math64.fma64(a, b, c)]
    # float32 (float16 through it: its product is exact in float32)
    return [np.asarray(xla_math.fma32(a, b, c)).astype(dtype)]


def _fma_jvp(primals, tangents):
    a, b, c = primals
    ta, tb, tc = tangents
    out = bind(fma_p, a, b, c)
    shape = aval_of(out).shape
    terms = [_bcast(t, shape) for t in (None if ta is None else _mul(ta, b), None if tb is None else _mul(a, tb), tc)
             if t is not None]
    if not terms:
        return [out], [None]
    tangent = terms[0]
    for term in terms[1:]:
        tangent = bind(add_p, tangent, term)
    return [out], [tangent]


shape_rules[fma_p] = _fma_shape
impl_rules[fma_p] = _fma_impl
jvp_rules[fma_p] = _fma_jvp


def fma(a, b, c, dtype):
    """a * b + c rounded once, the operands made `dtype` and broadcast together (NumPy's rules)."""
    import kiln.numpy as jnp
    shape = np.broadcast_shapes(*(aval_of(v).shape for v in (a, b, c)))
    return bind(fma_p, *(jnp.broadcast_to(jnp.asarray(v, dtype), shape) for v in (a, b, c)))


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



def _convert_jvp(primals, tangents, *, new_dtype, weak_type=False):
    (x,), (t,) = primals, tangents
    out = bind(convert_element_type_p, x, new_dtype=new_dtype, weak_type=weak_type)
    if np.dtype(new_dtype).kind not in "fc" or aval_of(x).dtype.kind not in "fc":
        return [out], [None]
    return [out], [bind(convert_element_type_p, t, new_dtype=new_dtype, weak_type=weak_type)]


def _convert_transpose(ct, x, *, new_dtype, weak_type=False):
    if ct is None:
        return [None]
    return [bind(convert_element_type_p, ct, new_dtype=x.aval.dtype, weak_type=x.aval.weak_type)]


jvp_rules[convert_element_type_p] = _convert_jvp
transpose_rules[convert_element_type_p] = _convert_transpose


def convert_element_type(x, new_dtype, weak_type=False):
    return bind(convert_element_type_p, x, new_dtype=dtypes.canonicalize_dtype(new_dtype),
                weak_type=weak_type)


# ---------------------------------------------------------------------------- batching
# Every primitive of this module is elementwise: operands are batched at axis 0 together.
def _elementwise_batcher(prim):
    def rule(args, dims, **params):
        from kiln.passes.vmap import elementwise_rule
        return elementwise_rule(prim)(args, dims, **params)
    return rule


from kiln.primitives import Primitive as _Primitive, vmap_rules as _vmap_rules  # noqa: E402

for _p in [v for k, v in list(globals().items()) if k.endswith("_p") and isinstance(v, _Primitive)]:
    _vmap_rules[_p] = _elementwise_batcher(_p)


from kiln.primitives import public_names as _public_names  # noqa: E402

__all__ = _public_names(globals())
