"""Differentiation of complex functions, against real JAX and finite differences.

JAX's conventions: tangents of complex values are complex; a linear map is transposed with
respect to Re(a * b), without conjugation, so `grad` of a real function f(x + i y) is
df/dx - i df/dy (`grad(abs(z)**2)(z)` is 2 conj(z)); `holomorphic=True` differentiates
complex-valued holomorphic functions (the derivative f'(z)); without it, grad and jacrev reject
complex outputs, jacfwd rejects complex inputs, and holomorphic=True rejects real inputs or
outputs, each with JAX's message.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln.tree_util import tree_leaves, tree_structure

jax = pytest.importorskip("jax")
jnp = jax.numpy

Z = np.array([0.5 + 1.0j, -1.2 + 0.3j, 0.8 - 0.6j], np.complex64)
W = np.array([1.0 - 0.5j, 0.25 + 2.0j, -0.7 + 0.1j], np.complex64)
A = (np.arange(9).reshape(3, 3) * (0.3 - 0.2j) + 1j).astype(np.complex64)
X = np.array([0.5, -1.0, 2.0], np.float32)


def both(build):
    """The same function for kiln and for JAX: `build(numpy module, lax module)`."""
    return build(knp, kiln.lax), build(jnp, jax.lax)


def same(kiln_value, jax_value, rtol=2e-5):
    """Equal pytrees: structure, values, dtypes and weak types."""
    assert tree_structure(kiln_value) == tree_structure(jax_value)
    for k, j in zip(tree_leaves(kiln_value), tree_leaves(jax_value)):
        assert np.shape(k) == np.shape(j)
        np.testing.assert_allclose(np.asarray(k), np.asarray(j), rtol=rtol, atol=1e-5)
        assert np.dtype(k.dtype) == np.dtype(j.dtype), (k.dtype, j.dtype)
        assert getattr(k, "weak_type", False) == getattr(j, "weak_type", False), (k, j)


# Holomorphic functions C^3 -> C^3 (every complex elementwise primitive with a derivative).
HOLOMORPHIC = {
    "exp": lambda np_, lax: lambda z: np_.exp(z),
    "log": lambda np_, lax: lambda z: np_.log(z),
    "sin-cos": lambda np_, lax: lambda z: np_.sin(z) * np_.cos(z),
    "mul": lambda np_, lax: lambda z: z * z * (2 - 1j),
    "div": lambda np_, lax: lambda z: (1 + z) / (z - 3j),
    "pow": lambda np_, lax: lambda z: z ** (1.5 + 0.5j),
    "pow-z-z": lambda np_, lax: lambda z: np_.power(z, z),
    "integer_pow": lambda np_, lax: lambda z: z ** 3 + 1 / z ** 2,
    "dot": lambda np_, lax: lambda z: np_.dot(A, z),
    "sum": lambda np_, lax: lambda z: np_.sum(z * z) * z,
    "tanh-sqrt-expm1-log1p": lambda np_, lax: lambda z: np_.tanh(z) + np_.sqrt(z) + np_.expm1(z) + np_.log1p(z),
    "tan-sinh-cosh-atan": lambda np_, lax: lambda z: np_.tan(z) + np_.sinh(z) + np_.cosh(z) + np_.arctan(z),
    "asin-acos-asinh-acosh-atanh": lambda np_, lax: lambda z: (np_.arcsin(z) + np_.arccos(z) + np_.arcsinh(z)
                                                               + np_.arccosh(z + 2) + np_.arctanh(z / 2)),
    "square-rsqrt-exp2": lambda np_, lax: lambda z: np_.square(z) + lax.rsqrt(z) + np_.exp2(z),
    "logistic": lambda np_, lax: lambda z: lax.logistic(z),
    "cumsum-prod": lambda np_, lax: lambda z: np_.cumsum(z) * np_.prod(z),
    "mean-flip-where": lambda np_, lax: lambda z: np_.mean(z) * z + np_.where(np_.real(z) > 0, z, np_.flip(z)),
}
# Real-valued functions C^3 -> R^3.
REAL_VALUED = {
    "abs": lambda np_, lax: lambda z: np_.abs(z),
    "abs-squared": lambda np_, lax: lambda z: np_.abs(z) ** 2,
    "real": lambda np_, lax: lambda z: np_.real(z * (1 + 2j)),
    "imag": lambda np_, lax: lambda z: np_.imag(np_.exp(z)),
    "conj": lambda np_, lax: lambda z: np_.real(np_.conj(z) * z * (3 + 1j)),
    "angle": lambda np_, lax: lambda z: np_.arctan2(np_.imag(z), np_.real(z)),
    "vdot": lambda np_, lax: lambda z: np_.real(np_.vdot(z, z * (2 - 1j))) * np_.imag(z),
    "complex": lambda np_, lax: lambda z: lax.imag(lax.complex(np_.real(z) * 2, np_.imag(z) ** 2) ** 2),
    "abs-of-holomorphic": lambda np_, lax: lambda z: np_.abs(np_.sin(z) / z + np_.log(z)),
}


@pytest.mark.parametrize("name", sorted(HOLOMORPHIC))
def test_holomorphic(name):
    fk, fj = both(HOLOMORPHIC[name])
    same(kiln.jvp(fk, (Z,), (W,)), jax.jvp(fj, (Z,), (W,)))
    same(kiln.vjp(fk, Z)[1](W), jax.vjp(fj, Z)[1](W))
    same(kiln.grad(lambda z: knp.sum(fk(z)), holomorphic=True)(Z),
         jax.grad(lambda z: jnp.sum(fj(z)), holomorphic=True)(Z))
    same(kiln.jacfwd(fk, holomorphic=True)(Z), jax.jacfwd(fj, holomorphic=True)(Z))
    same(kiln.jacrev(fk, holomorphic=True)(Z), jax.jacrev(fj, holomorphic=True)(Z))
    # A real function of it: not holomorphic, differentiated without holomorphic=True.
    same(kiln.grad(lambda z: knp.sum(knp.abs(fk(z)) ** 2))(Z), jax.grad(lambda z: jnp.sum(jnp.abs(fj(z)) ** 2))(Z),
         rtol=1e-4)
    same(kiln.jacrev(lambda z: knp.abs(fk(z)))(Z), jax.jacrev(lambda z: jnp.abs(fj(z)))(Z), rtol=1e-4)


@pytest.mark.parametrize("name", sorted(REAL_VALUED))
def test_real_valued(name):
    fk, fj = both(REAL_VALUED[name])
    same(kiln.jvp(fk, (Z,), (W,)), jax.jvp(fj, (Z,), (W,)))
    same(kiln.vjp(fk, Z)[1](X), jax.vjp(fj, Z)[1](X))
    same(kiln.grad(lambda z: knp.sum(fk(z)))(Z), jax.grad(lambda z: jnp.sum(fj(z)))(Z))
    same(kiln.jacrev(fk)(Z), jax.jacrev(fj)(Z))
    # A Python complex: weakly typed, as JAX's.
    same(kiln.grad(lambda z: knp.sum(fk(z)))(0.3 + 0.8j), jax.grad(lambda z: jnp.sum(fj(z)))(0.3 + 0.8j))
    # Real inputs through complex values: jacfwd and hessian need no holomorphic=True.
    same(kiln.jacfwd(lambda x: fk(x * (1 + 2j) + 0.5j))(X), jax.jacfwd(lambda x: fj(x * (1 + 2j) + 0.5j))(X))
    same(kiln.hessian(lambda x: knp.sum(fk(x * (1 + 2j) + 0.5j)))(X),
         jax.hessian(lambda x: jnp.sum(fj(x * (1 + 2j) + 0.5j)))(X), rtol=1e-3)


@pytest.fixture
def x64():
    previous = kiln.config.read("jax_enable_x64")
    kiln.config.update("jax_enable_x64", True)
    yield
    kiln.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("name", sorted(REAL_VALUED))
def test_grad_is_df_dx_minus_i_df_dy(name, x64):
    """The convention, from central differences along the real and the imaginary axis."""
    fk, _ = both(REAL_VALUED[name])
    z = Z.astype(np.complex128)
    f = kiln.jit(lambda z: knp.sum(fk(z)))
    h = 1e-6
    expected = np.zeros(3, np.complex128)
    for k in range(3):
        e = np.zeros(3, np.complex128)
        e[k] = h
        d_dx = (float(f(z + e)) - float(f(z - e))) / (2 * h)
        d_dy = (float(f(z + 1j * e)) - float(f(z - 1j * e))) / (2 * h)
        expected[k] = d_dx - 1j * d_dy
    g = kiln.grad(lambda z: knp.sum(fk(z)))(z)
    assert g.dtype == np.complex128
    np.testing.assert_allclose(np.asarray(g), expected, rtol=1e-6, atol=1e-8)


def test_holomorphic_derivative_against_finite_differences(x64):
    z = Z.astype(np.complex128)
    for name in ("exp", "log", "div", "pow", "tanh-sqrt-expm1-log1p", "asin-acos-asinh-acosh-atanh"):
        fk, _ = both(HOLOMORPHIC[name])
        h = 1e-6
        # f'(z) along the real axis and along the imaginary axis (equal: f is holomorphic).
        along_x = (np.asarray(kiln.jit(fk)(z + h)) - np.asarray(kiln.jit(fk)(z - h))) / (2 * h)
        along_y = (np.asarray(kiln.jit(fk)(z + 1j * h)) - np.asarray(kiln.jit(fk)(z - 1j * h))) / (2j * h)
        jac = np.asarray(kiln.jacfwd(fk, holomorphic=True)(z))
        np.testing.assert_allclose(np.diag(jac), along_x, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(np.diag(jac), along_y, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(np.asarray(kiln.jacrev(fk, holomorphic=True)(z)), jac, rtol=1e-10, err_msg=name)


def test_abs_squared_at_a_python_complex():
    g = kiln.grad(lambda z: knp.abs(z) ** 2)(1 + 2j)
    same(g, jax.grad(lambda z: jnp.abs(z) ** 2)(1 + 2j))
    assert complex(g) == 2 - 4j
    same(kiln.grad(lambda z: z ** 2, holomorphic=True)(1 + 2j), jax.grad(lambda z: z ** 2, holomorphic=True)(1 + 2j))


def test_abs_at_zero():
    # Complex: the zero magnitude is replaced, so the derivative is 0 (as JAX). Real: the
    # tangent passes at 0 (JAX's select(x >= 0, t, -t)).
    same(kiln.grad(lambda z: knp.abs(z))(np.complex64(0)), jax.grad(lambda z: jnp.abs(z))(np.complex64(0)))
    same(kiln.grad(lambda x: knp.abs(x))(np.float32(0)), jax.grad(lambda x: jnp.abs(x))(np.float32(0)))
    same(kiln.grad(lambda x: knp.abs(x))(-2.0), jax.grad(lambda x: jnp.abs(x))(-2.0))


def test_hessian_and_nested_holomorphic():
    fk, fj = both(lambda np_, lax: lambda z: np_.sum(np_.exp(z) * z ** 3))
    same(kiln.hessian(fk, holomorphic=True)(Z), jax.hessian(fj, holomorphic=True)(Z), rtol=1e-4)
    same(kiln.grad(kiln.grad(lambda z: z ** 3 * knp.sin(z), holomorphic=True), holomorphic=True)(1 + 2j),
         jax.grad(jax.grad(lambda z: z ** 3 * jnp.sin(z), holomorphic=True), holomorphic=True)(1 + 2j), rtol=1e-5)
    same(kiln.grad(lambda z: (z ** 2, z * 2), holomorphic=True, has_aux=True)(Z[0]),
         jax.grad(lambda z: (z ** 2, z * 2), holomorphic=True, has_aux=True)(Z[0]))


def test_compositions():
    fk, fj = both(lambda np_, lax: lambda z: np_.sum(np_.abs(np_.exp(z) * z) ** 2))
    same(kiln.jit(kiln.grad(fk))(Z), jax.jit(jax.grad(fj))(Z), rtol=1e-4)
    batch = Z[:, None] * np.arange(1, 4, dtype=np.float32)
    same(kiln.vmap(kiln.grad(fk))(batch), jax.vmap(jax.grad(fj))(batch), rtol=1e-4)
    same(kiln.grad(kiln.jit(fk))(Z), jax.grad(jax.jit(fj))(Z), rtol=1e-4)
    same(kiln.linearize(fk, Z)[1](W), jax.linearize(fj, Z)[1](W), rtol=1e-4)


# ---------------------------------------------------------------------------- lax.complex
def test_lax_complex():
    x, y = np.arange(6, dtype=np.float32).reshape(2, 3), np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    same(kiln.lax.complex(x, y), jax.lax.complex(x, y))
    same(kiln.jit(kiln.lax.complex)(x, y), jax.jit(jax.lax.complex)(x, y))
    same(kiln.vmap(kiln.lax.complex)(x, y), jax.vmap(jax.lax.complex)(x, y))
    same(kiln.vmap(kiln.lax.complex, (1, None))(x, y[0, 0]), jax.vmap(jax.lax.complex, (1, None))(x, y[0, 0]))
    same(kiln.lax.complex(2.0, 3.0), jax.lax.complex(2.0, 3.0))
    # An infinite part stays infinite (not inf * 1j = nan + inf j).
    out = np.asarray(kiln.lax.complex(np.float32(np.inf), np.float32(1.0)))
    assert out.real == np.inf and out.imag == 1.0
    with pytest.raises(TypeError, match="float32 or float64"):
        kiln.lax.complex(np.float16(1), np.float16(2))


def test_complex_rules_under_vmap_of_grad():
    fk, fj = both(lambda np_, lax: lambda x, y: np_.sum(lax.imag(lax.complex(x, y) ** 2) + lax.real(lax.conj(
        lax.complex(y, x)) * (2 - 1j))))
    xs, ys = np.arange(6, dtype=np.float32).reshape(2, 3), np.ones((2, 3), np.float32)
    same(kiln.vmap(kiln.grad(fk, (0, 1)))(xs, ys), jax.vmap(jax.grad(fj, (0, 1)))(xs, ys))
    same(kiln.jacrev(fk, (0, 1))(xs, ys), jax.jacrev(fj, (0, 1))(xs, ys))


# ---------------------------------------------------------------------------- errors
def _message(fn, *args):
    with pytest.raises(TypeError) as info:
        fn(*args)
    return str(info.value)


ERRORS = {  # (transform of the library, function, arguments)
    "grad-complex-output": (lambda L, np_: L.grad(lambda z: z ** 2), (1.0 + 1j,)),
    "grad-holomorphic-real-input": (lambda L, np_: L.grad(lambda z: z ** 2, holomorphic=True), (1.0,)),
    "grad-holomorphic-real-output": (lambda L, np_: L.grad(lambda z: np_.abs(z), holomorphic=True), (1.0 + 1j,)),
    "grad-integer-output": (lambda L, np_: L.grad(lambda x: np_.sum(x), allow_int=True), (np.arange(3),)),
    "jacfwd-complex-input": (lambda L, np_: L.jacfwd(lambda z: z ** 2), (Z,)),
    "jacfwd-integer-input": (lambda L, np_: L.jacfwd(lambda z: z * 2), (np.arange(2),)),
    "jacfwd-holomorphic-real-input": (lambda L, np_: L.jacfwd(lambda z: z * 2, holomorphic=True), (X,)),
    "jacfwd-holomorphic-real-output": (lambda L, np_: L.jacfwd(lambda z: np_.abs(z), holomorphic=True), (Z,)),
    "jacrev-complex-output": (lambda L, np_: L.jacrev(lambda x: x * (1 + 1j)), (X,)),
    "jacrev-holomorphic-real-input": (lambda L, np_: L.jacrev(lambda z: z * 2.0, holomorphic=True), (X,)),
    "jacrev-holomorphic-real-output": (lambda L, np_: L.jacrev(lambda z: np_.abs(z), holomorphic=True), (Z,)),
    "hessian-complex-input": (lambda L, np_: L.hessian(lambda z: np_.sum(np_.abs(z))), (Z,)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_jax(name):
    build, args = ERRORS[name]
    assert _message(build(kiln, knp), *args) == _message(build(jax, jnp), *args)
