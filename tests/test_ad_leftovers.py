"""Loose ends of autodiff, against JAX: float0 results of a user's jit function and of vmap, the weak types
of nested gradients, the trip counter of reverse mode through while loops, max/min of complex
arrays (and nanmax/nanmin), and transposing a vmapped linearized while loop.
"""
import functools

import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln.runtime.config import enable_x64

from compare_helpers import same

jax = pytest.importorskip("jax")
jnp = jax.numpy
FLOAT0 = jax.dtypes.float0

N = np.arange(3, dtype=np.int32)
X = np.array([0.5, -1.0, 2.0], np.float32)
BACKENDS = ["reference", "llvm"]


same = functools.partial(same, equal_nan=True)  # NaN results agree with JAX's too


# ---------------------------------------------------------------------------- float0 results of jit

def _float0_cases(K, np_):
    f0 = np.zeros(3, K.dtypes.float0)
    return {
        "grad": lambda x: K.grad(lambda x: np_.sum(x) * 2.0, allow_int=True)(x),
        "grad_scalar": lambda x: K.grad(lambda n: n * 2.0, allow_int=True)(x[0]),
        "grad_mixed": lambda x: (x, K.grad(lambda a, n: np_.sum(a * n), argnums=(0, 1), allow_int=True)(1.0, x)),
        "jvp": lambda x: K.jvp(lambda x: (x * 2, x * 1.5), (x,), (f0,)),
        "vjp": lambda x: K.vjp(lambda x: x * 2, x)[1](f0),
    }


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(_float0_cases(kiln, knp)))
def test_jit_returns_float0(case, backend):
    f = kiln.jit(_float0_cases(kiln, knp)[case], backend=backend)
    expected = jax.jit(_float0_cases(jax, jnp)[case])(N)
    for _ in range(3):  # the first call stages, later ones take the fast paths
        same(f(N), expected)


@pytest.mark.parametrize("backend", BACKENDS)
def test_jit_takes_float0_arguments(backend):
    def build(K):
        return lambda x, t: K.jvp(lambda x: (x * 2, x * 1.5), (x,), (t,))
    t = np.zeros(3, FLOAT0)
    f = kiln.jit(build(kiln), backend=backend)
    for _ in range(3):
        same(f(N, t), jax.jit(build(jax))(N, t))


@pytest.mark.parametrize("out_axes", [0, (1, 0), (0, -1)])
@pytest.mark.parametrize("backend", BACKENDS)
def test_vmap_of_integer_gradients_returns_batched_float0(out_axes, backend):
    def build(K):
        grad = K.grad(lambda x, n: (x * n).sum(), argnums=(0, 1), allow_int=True)
        return K.vmap(grad, out_axes=out_axes)
    x = np.ones((3, 2), np.float32)
    same(build(kiln)(x, N), build(jax)(x, N))
    same(kiln.jit(build(kiln), backend=backend)(x, N), build(jax)(x, N))
    with pytest.raises(ValueError, match="out of bounds"):
        kiln.vmap(kiln.grad(lambda x, n: (x * n).sum(), argnums=(0, 1), allow_int=True), out_axes=1)(x, N)


def test_float0_is_no_program_value():
    ir = str(kiln.make_ir(lambda x, t: kiln.jvp(lambda x: x * 2, (x,), (t,)))(N, np.zeros(3, FLOAT0)))
    assert "float0" not in ir and "V" not in ir.split("let")[0]


# ---------------------------------------------------------------------------- weak types of gradients

FUNCTIONS = {
    "pow_float": lambda np_: lambda x: x ** 2.5,
    "pow_base": lambda np_: lambda x: 2.5 ** x,
    "pow_int": lambda np_: lambda x: x ** 2,
    "sin": lambda np_: lambda x: np_.sin(x),
    "times_3": lambda np_: lambda x: x * 3,
    "where": lambda np_: lambda x: np_.where(x > 1, x * x, 2.0 * x),
}
INPUTS = {"python": 2.0, "float32": np.float32(2.0), "array": np.array(2.0, np.float32)}


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("x", sorted(INPUTS))
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_gradient_weak_types(name, x, depth):
    fk, fj = FUNCTIONS[name](knp), FUNCTIONS[name](jnp)
    for _ in range(depth):
        fk, fj = kiln.grad(fk), jax.grad(fj)
    same(fk(INPUTS[x]), fj(INPUTS[x]), rtol=1e-4)
    if depth == 2:
        same(kiln.jit(fk)(INPUTS[x]), jax.jit(fj)(INPUTS[x]), rtol=1e-4)


@pytest.mark.parametrize("name", ["pow_float", "pow_base", "sin"])
def test_jvp_tangent_weak_types(name):
    # A strongly typed tangent stays strong, as in JAX (x ** 2.5's is strong even for a weak x).
    fk, fj = FUNCTIONS[name](knp), FUNCTIONS[name](jnp)
    same(kiln.jvp(fk, (2.0,), (1.0,)), jax.jvp(fj, (2.0,), (1.0,)), rtol=1e-5)
    same(kiln.jvp(fk, (X,), (X,)), jax.jvp(fj, (X,), (X,)), rtol=1e-5)


# ---------------------------------------------------------------------------- while trip counters

def _loop(x):
    return kiln.lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * 1.1), (0, x))[1]


def test_trip_counter_is_int64_with_x64():
    with enable_x64():
        ir = str(kiln.make_ir(kiln.grad(_loop))(2.0))
        assert "i64" in ir and "i32" not in ir
        np.testing.assert_allclose(kiln.grad(_loop)(2.0), 1.1 ** 10)
    ir = str(kiln.make_ir(kiln.grad(_loop))(2.0))
    assert "i64" not in ir
    np.testing.assert_allclose(kiln.grad(_loop)(2.0), 1.1 ** 10, rtol=1e-6)


def test_int32_trip_counter_saturates():
    from kiln.lax.while_rules import count_trip
    top = np.iinfo(np.int32).max
    for n, expected in [(0, 1), (41, 42), (top - 1, top), (top, -1), (-1, -1)]:
        assert int(count_trip(np.int32(n))) == expected


# The loops below run 2**31 + 3 trips (about a second each, compiled).
LONG = 2 ** 31 + 3


def test_long_loop_derivatives_are_nan_without_x64():
    # An int32 count would wrap to a negative number and give derivatives of no iteration.
    def f(x):
        return kiln.lax.while_loop(lambda c: c[0] < np.uint32(LONG),
                                   lambda c: (c[0] + np.uint32(1), c[1] * 1.0), (np.uint32(0), x))[1]
    y, t = kiln.jit(lambda x, t: kiln.jvp(f, (x,), (t,)), backend="llvm")(np.float32(2.0), np.float32(1.0))
    assert float(y) == 2.0 and np.isnan(t)
    assert np.isnan(kiln.jit(kiln.grad(f), backend="llvm")(np.float32(2.0)))


def test_long_loop_tangent_with_x64():
    with enable_x64():
        def f(x):
            return kiln.lax.while_loop(lambda c: c[0] < LONG, lambda c: (c[0] + 1, c[1] * (1 + 2.0 ** -40)),
                                       (0, x))[1]
        y, t = kiln.jit(lambda x, t: kiln.jvp(f, (x,), (t,)), backend="llvm")(1.0, 1.0)
        np.testing.assert_allclose(y, np.exp(LONG * 2.0 ** -40), rtol=1e-9)
        assert float(t) == float(y)  # (1 + 2**-40) ** LONG, as the primal (x = 1)


# ---------------------------------------------------------------------------- complex max and min

Z = np.array([[1 + 2j, 1 + 3j, 0 + 9j], [2 - 1j, 2 - 5j, 1 + 0j]], np.complex64)
Z_NAN = np.array([[1 + 2j, np.nan, 3 - 1j], [np.nan, complex(np.nan, 1), complex(2, np.nan)]], np.complex64)
R_NAN = np.array([[1, np.nan, 3], [np.nan, np.nan, np.nan]], np.float32)
REDUCTION_ARGS = [{}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": 1, "initial": 2},
                  {"where": np.array([True, False, True]), "initial": 0}]


@pytest.mark.parametrize("kwargs", REDUCTION_ARGS, ids=str)
@pytest.mark.parametrize("name", ["max", "min", "amax", "amin", "nanmax", "nanmin"])
def test_complex_max_min_is_lexicographic(name, kwargs):
    # JAX orders complex values by real part, then imaginary part. (Where NaNs meet, XLA's result
    # depends on the order it reduces in; kiln propagates them, as NumPy.)
    inputs = [Z, N.reshape(1, 3)] + ([Z_NAN, R_NAN] if name.startswith("nan") else [])
    for a in inputs:
        expected = getattr(jnp, name)(a, **kwargs)
        same(getattr(knp, name)(a, **kwargs), expected)
        for backend in BACKENDS:
            same(kiln.jit(lambda a: getattr(knp, name)(a, **kwargs), backend=backend)(a), expected)


def test_complex_max_method_and_empty_initial():
    same(kiln.jit(lambda a: a.max(axis=1))(Z), jnp.asarray(Z).max(axis=1))
    empty = np.zeros((0, 3), np.complex64)
    same(knp.max(empty, axis=0, initial=1 + 1j), jnp.max(empty, axis=0, initial=1 + 1j))


# ---------------------------------------------------------------------------- vmap of a tangent loop

def test_transpose_of_vmapped_linearized_while_loop():
    # kiln has no linear_transpose; vjp of the vmapped linear function is its transpose (the
    # batched tangent loop is differentiated as an ordinary loop).
    def f(x):
        return kiln.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, knp.sin(c[1]) * 1.5), (0, x))[1]

    _, f_jvp = kiln.linearize(f, X)
    tangents = np.arange(9, dtype=np.float32).reshape(3, 3)
    ct = np.arange(9, dtype=np.float32).reshape(3, 3) + 1
    _, pull = kiln.vjp(kiln.vmap(f_jvp), tangents)
    jacobian = np.diag(np.cos(np.sin(np.sin(X) * 1.5) * 1.5) * 1.5 * np.cos(np.sin(X) * 1.5) * 1.5
                       * np.cos(X) * 1.5)
    np.testing.assert_allclose(pull(ct)[0], ct @ jacobian, rtol=1e-5)
    np.testing.assert_allclose(kiln.vmap(f_jvp)(tangents), tangents @ jacobian.T, rtol=1e-5)
