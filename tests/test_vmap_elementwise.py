"""vmap of every elementwise primitive against a Python loop over the batch.

Each primitive is bound directly (`kiln.primitives.bind`), so the table covers the batching
rule of every elementwise primitive whatever kiln.numpy lowers to. Operands are batched at
0, 1, -1 or not at all, alone or together on different axes, and rank-0 operands (which
elementwise primitives broadcast) are batched and unbatched.
"""
import numpy as np
import pytest

from kiln.primitives import bind, registry
from vmap_helpers import Arg, check

# primitive name -> the domain of its operand (an Arg kind)
UNARY = {
    "neg": "f", "sign": "f", "floor": "f", "ceil": "f", "round": "f", "round_away_from_zero": "f",
    "is_finite": "f", "exp": "f", "exp2": "f", "log": "pos", "log1p": "pos", "expm1": "f",
    "tanh": "f", "logistic": "f", "sin": "f", "cos": "f", "tan": "unit", "asin": "unit",
    "acos": "unit", "atan": "f", "sinh": "f", "cosh": "f", "asinh": "f", "acosh": "gt1",
    "atanh": "unit", "sqrt": "pos", "rsqrt": "pos", "cbrt": "f", "abs": "f", "erf": "f",
    "erfc": "f", "erf_inv": "unit", "lgamma": "pos", "digamma": "pos", "not": "b", "real": "c",
    "imag": "c", "conj": "c", "stop_gradient": "f", "random_erf_inv": "unit",
}
# primitive name -> the domains of its two operands
BINARY = {
    "add": "ff", "sub": "ff", "mul": "ff", "div": ("f", "pos"), "rem": ("f", "pos"),
    "pow": ("pos", "f"), "max": "ff", "min": "ff", "atan2": "ff", "nextafter": "ff", "and": "bb",
    "or": "bb", "xor": "ii", "shift_left": "ii", "shift_right_arithmetic": "ii", "eq": "ff",
    "ne": "ff", "lt": "ff", "le": "ff", "gt": "ff", "ge": "ff", "complex": "ff",
}
SHAPE = (4, 5)


def arg(kind, axis, shape=SHAPE):
    # Shifts and xor take small non-negative ints, so every result is defined.
    return Arg(shape, axis, kind, 0, 5) if kind == "i" else Arg(shape, axis, kind)


def bound(name, **params):
    prim = registry[name]
    return lambda *args: bind(prim, *args, **params)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, axis):
    check(f"{name}{axis}", bound(name), [arg(UNARY[name], axis)])


# (x axis, y axis, x shape, y shape): both batched on one or different axes, one batched,
# and rank-0 operands batched or not next to a rank-2 one.
BINARY_AXES = [
    (0, 0, SHAPE, SHAPE),
    (1, -1, SHAPE, SHAPE),
    (None, 1, SHAPE, SHAPE),
    (-1, None, SHAPE, SHAPE),
    (0, None, SHAPE, ()),
    (None, 0, (), SHAPE),
    (0, 2, (), SHAPE),
    (0, 0, (), ()),
]


@pytest.mark.parametrize("x_axis, y_axis, x_shape, y_shape", BINARY_AXES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, x_axis, y_axis, x_shape, y_shape):
    kx, ky = BINARY[name]
    check(f"{name}{x_axis}{y_axis}{x_shape}", bound(name),
          [arg(kx, x_axis, x_shape), arg(ky, y_axis, y_shape)])


@pytest.mark.parametrize("axes", [(0,), (1,), (-1,)])
def test_integer_pow(axes):
    check("integer_pow", bound("integer_pow", y=3), [arg("f", axes[0])])


@pytest.mark.parametrize("dtype", [np.int32, np.float32, np.bool_])
@pytest.mark.parametrize("axis", [0, -1])
def test_convert_element_type(dtype, axis):
    check("convert", bound("convert_element_type", new_dtype=np.dtype(dtype), weak_type=False),
          [arg("f", axis)])


# clamp(lo, x, hi): bounds of rank 0 or of x's shape, batched or not.
CLAMP = [
    (Arg((), None), Arg(SHAPE, 0), Arg((), None)),
    (Arg((), 0), Arg(SHAPE, 1), Arg((), None)),
    (Arg(SHAPE, -1), Arg(SHAPE, None), Arg((), 0)),
    (Arg(SHAPE, 0), Arg(SHAPE, 1), Arg(SHAPE, 2)),
]


@pytest.mark.parametrize("specs", CLAMP)
def test_clamp(specs):
    # Shift `hi` up so that lo <= hi holds wherever the bounds are arrays.
    check("clamp", lambda lo, x, hi: bind(registry["clamp"], lo - 2.0, x, hi + 2.0), specs)


# fma(a, b, c): operands of one shape or rank 0, batched or not.
FMA = [
    (Arg(SHAPE, 0), Arg(SHAPE, None), Arg((), None)),
    (Arg((), 0), Arg(SHAPE, 1), Arg(SHAPE, 0)),
]


@pytest.mark.parametrize("specs", FMA)
def test_fma(specs):
    check("fma", lambda a, b, c: bind(registry["fma"], a, b, c), specs)


# libm(x, fn): the C library's exp or log.
@pytest.mark.parametrize("fn", ["exp", "log"])
def test_libm(fn):
    check("libm", bound("libm", fn=fn), [arg("pos", 1)])


SELECT = [
    (Arg(SHAPE, 0, "b"), Arg(SHAPE, None), Arg(SHAPE, None)),
    (Arg(SHAPE, None, "b"), Arg(SHAPE, 1), Arg(SHAPE, None)),
    (Arg(SHAPE, -1, "b"), Arg(SHAPE, 0), Arg(SHAPE, 1)),
    (Arg((), 0, "b"), Arg(SHAPE, None), Arg(SHAPE, 1)),
    (Arg(SHAPE, 1, "i", 0, 3), Arg(SHAPE, None), Arg(SHAPE, 0), Arg(SHAPE, None)),
]


@pytest.mark.parametrize("specs", SELECT)
def test_select_n(specs):
    check("select_n", bound("select_n"), specs)


@pytest.mark.parametrize("out_axes", [1, -1, None])
def test_out_axes_of_elementwise(out_axes):
    # out_axes=None is allowed when nothing batched reaches the output.
    if out_axes is None:
        check("out_none", lambda x, y: y * 2.0, [Arg(SHAPE, 0), Arg(SHAPE, None)], out_axes=None)
    else:
        check("out_axes", lambda x, y: x * y, [Arg(SHAPE, 1), Arg(SHAPE, None)], out_axes=out_axes)


# threefry2x32(k0, k1, x0, x1): a key (rank 0) and counters, batched or not.
THREEFRY = [
    ((), None, SHAPE, 0),
    ((), 0, SHAPE, None),
    ((), 0, SHAPE, -1),
    (SHAPE, 1, SHAPE, 0),
]


@pytest.mark.parametrize("key_shape, key_axis, x_shape, x_axis", THREEFRY)
def test_threefry2x32(key_shape, key_axis, x_shape, x_axis):
    key, counter = Arg(key_shape, key_axis, "u32"), Arg(x_shape, x_axis, "u32")
    check("threefry", bound("threefry2x32"), [key, key, counter, counter])


# Which primitives these tables exercise, for tests/test_vmap_coverage.py.
COVERED = set(UNARY) | set(BINARY) | {"integer_pow", "convert_element_type", "clamp", "fma", "libm", "select_n",
                                      "threefry2x32"}
