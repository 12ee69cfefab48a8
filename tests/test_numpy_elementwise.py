"""kiln.numpy's elementwise functions and array operators against real JAX.

Every function is run on 2-d arrays, 0-d arrays, empty arrays, Python scalars (weakly
typed), integer and bool inputs where it accepts them, and broadcast operand pairs; each
case eagerly and under kiln.jit, with x64 off and on (see test_numpy_harness).
"""
import jax
import jax.numpy as jnp
import numpy as onp
import pytest

import kiln
import kiln.numpy as knp
from test_numpy_harness import SPECIAL, bools, case, floats, ints, table_test

UNIT = onp.round(onp.linspace(0.05, 0.95, 12).reshape(3, 4), 3)   # inside every domain

# ---------------------------------------------------------------------------- unary float functions

UNARY_FLOAT = {
    "exp": lambda np, x: np.exp(x), "log": lambda np, x: np.log(x), "log1p": lambda np, x: np.log1p(x),
    "expm1": lambda np, x: np.expm1(x), "sqrt": lambda np, x: np.sqrt(x),
    "sin": lambda np, x: np.sin(x), "cos": lambda np, x: np.cos(x), "tan": lambda np, x: np.tan(x),
    "arcsin": lambda np, x: np.arcsin(x), "arccos": lambda np, x: np.arccos(x),
    "arctan": lambda np, x: np.arctan(x), "sinh": lambda np, x: np.sinh(x),
    "cosh": lambda np, x: np.cosh(x), "tanh": lambda np, x: np.tanh(x),
}
# Functions that keep integer and bool dtypes (JAX's abs/sign/floor/... do).
UNARY_ANY = {
    "square": lambda np, x: np.square(x), "abs": lambda np, x: np.abs(x),
    "sign": lambda np, x: np.sign(x), "floor": lambda np, x: np.floor(x),
    "ceil": lambda np, x: np.ceil(x), "round": lambda np, x: np.round(x),
    "negative": lambda np, x: np.negative(x),
}

cases = []
for k, (name, fn) in enumerate(UNARY_FLOAT.items()):
    cases += [
        case(f"{name}-2d", fn, UNIT),
        case(f"{name}-0d", fn, onp.float64(0.25)),
        case(f"{name}-empty", fn, onp.zeros((0, 3))),
        case(f"{name}-pyfloat", fn, 0.5),
        case(f"{name}-int", fn, onp.array([[0, 1], [1, 0]])),
        case(f"{name}-special", fn, SPECIAL, rtol=1e-5),
    ]
    # The promotion of small ints, bools and Python ints is shared: a few functions suffice.
    if k % 4 == 0:
        cases += [
            case(f"{name}-pyint", fn, 1),
            case(f"{name}-int8", fn, onp.array([0, 1], onp.int8)),
            case(f"{name}-bool", fn, onp.array([True, False])),
        ]
for name, fn in UNARY_ANY.items():
    cases += [
        case(f"{name}-2d", fn, floats(3, 4)),
        case(f"{name}-0d", fn, onp.float64(-1.5)),
        case(f"{name}-empty", fn, onp.zeros((2, 0))),
        case(f"{name}-pyfloat", fn, -2.5),
        case(f"{name}-pyint", fn, -3),
        case(f"{name}-int", fn, ints(3, 4)),
        case(f"{name}-uint8", fn, onp.array([0, 3, 255], onp.uint8)),
        case(f"{name}-special", fn, SPECIAL),
    ]
    if name != "negative":
        cases.append(case(f"{name}-bool", fn, bools(4)))
cases += [
    case("round-half-even", lambda np, x: np.round(x), onp.array([0.5, 1.5, 2.5, -0.5, -1.5, 3.4999])),
    case("round-decimals", lambda np, x: np.round(x, 2), floats(5)),
    case("round-int-decimals", lambda np, x: np.round(x, -1), onp.array([14, 15, 25, -15])),
    case("abs-int-min", lambda np, x: np.abs(x), onp.array([-128, 127], onp.int8)),
    case("builtin-round", lambda np, x: round(x), onp.array([0.5, 1.5, -2.5])),
    case("builtin-round-ndigits", lambda np, x: round(x, 1), onp.array([0.25, 1.55])),
    case("builtin-round-int", lambda np, x: round(x), onp.int64(3)),
]

# ---------------------------------------------------------------------------- predicates

PREDICATES = {
    "isnan": lambda np, x: np.isnan(x), "isfinite": lambda np, x: np.isfinite(x),
    "isinf": lambda np, x: np.isinf(x), "logical_not": lambda np, x: np.logical_not(x),
}
for name, fn in PREDICATES.items():
    cases += [
        case(f"{name}-special", fn, SPECIAL),
        case(f"{name}-0d", fn, onp.float64(onp.inf)),
        case(f"{name}-empty", fn, onp.zeros((0,))),
        case(f"{name}-int", fn, ints(4)),
        case(f"{name}-bool", fn, bools(4)),
        case(f"{name}-pyfloat", fn, 1.0),
        case(f"{name}-pyint", fn, 2),
    ]

# ---------------------------------------------------------------------------- binary functions

BINARY = {
    "add": lambda np, x, y: np.add(x, y), "subtract": lambda np, x, y: np.subtract(x, y),
    "multiply": lambda np, x, y: np.multiply(x, y), "divide": lambda np, x, y: np.divide(x, y),
    "maximum": lambda np, x, y: np.maximum(x, y), "minimum": lambda np, x, y: np.minimum(x, y),
    "arctan2": lambda np, x, y: np.arctan2(x, y), "power": lambda np, x, y: np.power(x, y),
    "floor_divide": lambda np, x, y: np.floor_divide(x, y), "mod": lambda np, x, y: np.mod(x, y),
    "equal": lambda np, x, y: np.equal(x, y), "not_equal": lambda np, x, y: np.not_equal(x, y),
    "less": lambda np, x, y: np.less(x, y), "less_equal": lambda np, x, y: np.less_equal(x, y),
    "greater": lambda np, x, y: np.greater(x, y), "greater_equal": lambda np, x, y: np.greater_equal(x, y),
    "logical_and": lambda np, x, y: np.logical_and(x, y), "logical_or": lambda np, x, y: np.logical_or(x, y),
    "logical_xor": lambda np, x, y: np.logical_xor(x, y),
}
POSITIVE = onp.round(onp.linspace(0.5, 2.0, 12).reshape(3, 4), 3)
NONZERO_INTS = onp.array([[-7, -3, 2, 5], [7, -1, 3, -4], [1, 6, -6, 4]])
COMPARISONS = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")
for name, fn in BINARY.items():
    cases += [
        case(f"{name}-2d", fn, POSITIVE, floats(3, 4)),
        case(f"{name}-broadcast", fn, POSITIVE[:, :1], floats(4)),
        case(f"{name}-array-pyfloat", fn, POSITIVE, 1.5),
        case(f"{name}-pyint-pyfloat", fn, 2, 1.5),
        case(f"{name}-int-float", fn, onp.array([1, 2, 3]), onp.array([0.5, -1.5, 2.0])),
        case(f"{name}-empty", fn, onp.zeros((0, 4)), floats(4)),
    ]
    if name not in COMPARISONS:  # the comparisons share their promotion with subtract
        cases += [
            case(f"{name}-0d-array", fn, onp.float64(1.5), floats(2, 3)),
            case(f"{name}-pyfloat-array", fn, 1.5, floats(3, 4)),
            case(f"{name}-float32-float64", fn, onp.float32([1.5, 2.0]), onp.array([0.5, 3.0])),
        ]
    if name not in ("divide", "arctan2", "power"):
        cases += [
            case(f"{name}-int-int", fn, NONZERO_INTS, -NONZERO_INTS[::-1]),
            case(f"{name}-int8-pyint", fn, onp.array([5, -6, 7], onp.int8), 3),
            case(f"{name}-uint8-int8", fn, onp.array([5, 6, 7], onp.uint8), onp.array([2, -3, 1], onp.int8)),
            case(f"{name}-bool-int", fn, onp.array([True, False, True]), onp.array([2, 3, -1])),
        ]
    if name in ("maximum", "minimum", "equal", "not_equal", "logical_and", "logical_or", "logical_xor"):
        cases.append(case(f"{name}-bool-bool", fn, bools(4), bools(4)))
    if name in ("maximum", "minimum", "equal", "less", "greater"):
        cases.append(case(f"{name}-special", fn, SPECIAL, SPECIAL[::-1].copy()))

# floor_divide / mod: every sign combination, integers and floats
SIGNS_X = onp.array([7, -7, 7, -7, 6, -6, 0, 3])
SIGNS_Y = onp.array([2, 2, -2, -2, 3, -3, 5, -4])
for name, op in [("floordiv", lambda np, x, y: x // y), ("mod-op", lambda np, x, y: x % y),
                 ("divmod", lambda np, x, y: np.divmod(x, y)), ("remainder", lambda np, x, y: np.remainder(x, y)),
                 ("fmod", lambda np, x, y: np.fmod(x, y)), ("truediv-op", lambda np, x, y: x / y)]:
    cases += [
        case(f"{name}-signs-int", op, SIGNS_X, SIGNS_Y),
        case(f"{name}-signs-float", op, SIGNS_X * 1.25, SIGNS_Y * 1.0),
        case(f"{name}-signs-int8", op, SIGNS_X.astype(onp.int8), SIGNS_Y.astype(onp.int8)),
        case(f"{name}-uint", op, onp.array([7, 9, 0], onp.uint32), onp.array([2, 4, 3], onp.uint32)),
        case(f"{name}-int-pyint", op, SIGNS_X, -3),
        case(f"{name}-pyint-int", op, -7, SIGNS_Y),
    ]

cases += [  # quotients that are inexact in binary: 1.0 // 0.1 is 9, as in Python
    case("floordiv-inexact", lambda np, x, y: x // y, onp.array([1.5, 1.0, -1.0, 0.7, 5.0]),
         onp.array([0.004, 0.1, 0.1, 0.1, 0.0])),
    case("divmod-inexact", lambda np, x, y: np.divmod(x, y), onp.array([1.0, -1.0, 0.7]), onp.array([0.1, 0.1, -0.1])),
    case("floordiv-bool", lambda np, x, y: np.floor_divide(x, y), bools(4), onp.ones(4, bool)),
]

# power: integer exponents (lax.integer_pow), integer bases, fractional and array exponents
cases += [
    case("power-pyint-2", lambda np, x: x ** 2, floats(3, 4)),
    case("power-pyint-neg", lambda np, x: x ** -2, POSITIVE),
    case("power-pyint-0", lambda np, x: np.power(x, 0), floats(3)),
    case("power-pyfloat-half", lambda np, x: x ** 0.5, POSITIVE),
    case("power-int-pyint", lambda np, x: x ** 3, ints(5)),
    case("power-int-int", lambda np, x, y: np.power(x, y), onp.array([2, -3, 4, 0, 1]), onp.array([3, 3, 0, 2, 7])),
    case("power-int-negative-int", lambda np, x, y: np.power(x, y), onp.array([2, 1, -1, 0]), onp.array([-1, -2, -3, -1])),
    case("power-rpow", lambda np, x: 2.0 ** x, floats(4)),
    case("power-rpow-int", lambda np, x: 2 ** x, onp.array([0, 1, 5])),
    case("power-rpow-pyfloat-int", lambda np, x: 2.0 ** x, onp.array([0, 1, 5])),
    case("power-float-int", lambda np, x, y: x ** y, floats(3), onp.array([0, 1, 5])),
    case("power-bool-bool", lambda np, x, y: x ** y, bools(4), bools(4)),
    case("power-int-negative-pyint", lambda np, x: x ** -1, onp.array([1, 2])),
    case("broadcast-error-rank", lambda np, x, y: x + y, floats(3, 4), floats(3)),
    case("broadcast-error-dims", lambda np, x, y: np.add(x, y), floats(3, 4), floats(3, 3)),
    case("broadcast-error-where", lambda np, x, y: np.where(x > 0, x, y), floats(3, 4), floats(2, 1)),
    case("power-int-pyfloat", lambda np, x: x ** 1.5, onp.array([1, 4, 9])),
]

# ---------------------------------------------------------------------------- operators

OPERATORS = {
    "+": lambda np, x, y: x + y, "-": lambda np, x, y: x - y, "*": lambda np, x, y: x * y,
    "/": lambda np, x, y: x / y, "**": lambda np, x, y: abs(x) ** y, "==": lambda np, x, y: x == y,
    "!=": lambda np, x, y: x != y, "<": lambda np, x, y: x < y, "<=": lambda np, x, y: x <= y,
    ">": lambda np, x, y: x > y, ">=": lambda np, x, y: x >= y,
}
# The operators call the functions above; these check the dispatch, reflected operands
# (`2.0 - x` is __rsub__) and Python scalars on either side.
for name, op in OPERATORS.items():
    cases += [
        case(f"op{name}-broadcast", op, POSITIVE, floats(3, 1)),
        case(f"op{name}-rpyfloat", op, 2.0, POSITIVE),
        case(f"op{name}-int-pyfloat", op, NONZERO_INTS, 2.0),
        case(f"op{name}-int8-pyint", op, onp.array([1, 2, 3], onp.int8), 2),
    ]
BITWISE = {"&": lambda np, x, y: x & y, "|": lambda np, x, y: x | y, "^": lambda np, x, y: x ^ y,
           "<<": lambda np, x, y: x << y, ">>": lambda np, x, y: x >> y}
for name, op in BITWISE.items():
    cases += [
        case(f"op{name}-int", op, onp.array([12, -7, 5, 0]), onp.array([3, 1, 2, 4])),
        case(f"op{name}-uint8-pyint", op, onp.array([12, 7, 255], onp.uint8), 1),
    ]
    if name in "&|^":
        cases.append(case(f"op{name}-bool", op, bools(5), bools(5)))
cases += [
    case("op-neg", lambda np, x: -x, floats(3)),
    case("op-neg-uint", lambda np, x: -x, onp.array([1, 2], onp.uint8)),
    case("op-pos", lambda np, x: +x, ints(3)),
    case("op-abs", lambda np, x: abs(x), floats(2, 2)),
    case("op-invert-int", lambda np, x: ~x, ints(4)),
    case("op-invert-bool", lambda np, x: ~x, bools(4)),
    case("op-neg-bool", lambda np, x: -x, bools(3)),
    case("op-chain", lambda np, x, y: (x * 2 + y) / (1 + x * x) - y ** 2, floats(3, 4), floats(4)),
]

# ---------------------------------------------------------------------------- where and clip

cases += [
    case("where-arrays", lambda np, c, x, y: np.where(c, x, y), bools(3, 4), floats(3, 4), floats(3, 4)),
    case("where-broadcast", lambda np, c, x, y: np.where(c, x, y), bools(4), floats(3, 1), floats(1, 4)),
    case("where-pyscalars", lambda np, c: np.where(c, 1.0, 0.0), bools(5)),
    case("where-array-pyscalar", lambda np, c, x: np.where(c, x, 0), bools(5), floats(5)),
    case("where-int-float", lambda np, c, x, y: np.where(c, x, y), bools(3), ints(3), floats(3)),
    case("where-nonbool-cond", lambda np, c, x: np.where(c, x, -x), onp.array([0, 2, -1]), floats(3)),
    case("where-float-cond", lambda np, c, x: np.where(c, x, -x), onp.array([0.0, 0.5, onp.nan]), floats(3)),
    case("where-0d", lambda np, c, x, y: np.where(c, x, y), onp.bool_(True), onp.float64(1.0), floats(2)),
    case("where-empty", lambda np, c, x: np.where(c, x, 1.0), onp.zeros((0,), bool), onp.zeros((0,))),
    case("where-cond-comparison", lambda np, x: np.where(x > 0, x, 0.1 * x), floats(3, 4)),
    case("clip-pyscalars", lambda np, x: np.clip(x, -0.5, 0.5), floats(3, 4)),
    case("clip-arrays", lambda np, x, lo, hi: np.clip(x, lo, hi), floats(3, 4), floats(4) - 1, floats(3, 1) + 1),
    case("clip-min-only", lambda np, x: np.clip(x, 0), floats(5)),
    case("clip-max-only", lambda np, x: np.clip(x, max=0.0), floats(5)),
    case("clip-int-pyint", lambda np, x: np.clip(x, -2, 2), ints(6)),
    case("clip-int-pyfloat", lambda np, x: np.clip(x, -1.5, 1.5), ints(6)),
    case("clip-method", lambda np, x: x.clip(-1, 1), floats(4)),
    case("clip-0d", lambda np, x: np.clip(x, 0.0, 1.0), onp.float64(1.5)),
]

test_elementwise = table_test(cases)


# ---------------------------------------------------------------------------- traced Python scalars

@pytest.mark.parametrize("fn", [lambda np, x: np.sin(x), lambda np, x: x * 2, lambda np, x: np.power(3.0, x),
                                lambda np, x: np.where(x > 0, x, 0), lambda np, x: np.abs(x) ** 2],
                         ids=["sin", "mul", "power", "where", "abs-pow"])
@pytest.mark.parametrize("value", [2.0, -3, True], ids=["float", "int", "bool"])
def test_jit_of_python_scalar_is_weak(fn, value):
    """A Python scalar passed to a jitted function is a weakly typed 0-d value (as in jax.jit)."""
    expected = jax.jit(fn, static_argnums=0)(jnp, value)
    got = kiln.jit(fn, static_argnums=0)(knp, value)
    assert (got.dtype, got.weak_type, got.shape) == (expected.dtype, expected.weak_type, expected.shape)
    onp.testing.assert_allclose(onp.asarray(got), onp.asarray(expected), rtol=1e-6)


def test_power_by_concrete_integer_array_is_integer_pow():
    """As JAX: eagerly, a concrete 0-d integer exponent is a static power (keeps int8); traced,
    it promotes like any operand."""
    x, y = onp.array([1, 2, 3], onp.int8), onp.array(2)
    eager, traced = knp.asarray(x) ** knp.asarray(y), kiln.jit(lambda a, b: a ** b)(knp.asarray(x), knp.asarray(y))
    assert eager.dtype == (jnp.asarray(x) ** jnp.asarray(y)).dtype == onp.int8
    assert traced.dtype == jax.jit(lambda a, b: a ** b)(x, y).dtype == onp.int32
    onp.testing.assert_array_equal(onp.asarray(eager), [1, 4, 9])
    onp.testing.assert_array_equal(onp.asarray(traced), [1, 4, 9])
