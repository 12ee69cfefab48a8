"""Integer arguments (`allow_int`, float0 (co)tangents) and Jacobians built by vmap, against JAX.

Integer and bool values have float0 tangents and cotangents, as in JAX: `grad(f,
allow_int=True)` and `vjp` return `np.zeros(shape, float0)` for them, `jvp` takes float0
tangents for them (and rejects others with JAX's message) and returns float0 tangents for
integer outputs; `jacrev(allow_int=True)` gives integer zeros. jacfwd and jacrev are one vmap
over a standard basis, so their programs do not grow with the number of basis vectors.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln.ir import sub_programs

from compare_helpers import same

jax = pytest.importorskip("jax")
jnp = jax.numpy
FLOAT0 = jax.dtypes.float0

X = np.array([0.5, -1.0, 2.0], np.float32)
N = np.arange(3, dtype=np.int32)


def both(build):
    return build(knp), build(jnp)


def test_float0_is_jax_float0():
    assert kiln.dtypes.float0 == FLOAT0 and kiln.float0 is kiln.dtypes.float0
    assert str(kiln.dtypes.float0) == str(FLOAT0)


# ---------------------------------------------------------------------------- allow_int
ALLOW_INT = {  # (function of the numpy module, argnums, arguments)
    "python-int": (lambda np_: lambda x, n: x * n, (0, 1), (1.0, 3)),
    "int-array": (lambda np_: lambda x, n: np_.sum(x * n), (0, 1), (X, N)),
    "int-only": (lambda np_: lambda x, n: np_.sum(x * n), 1, (X, N)),
    "bool": (lambda np_: lambda x, b: np_.where(b, x, 2 * x), (0, 1), (2.0, True)),
    "pytree": (lambda np_: lambda p: np_.sum(p["x"] * p["n"][0]) + p["n"][1], 0,
               ({"x": X, "n": (N, np.int32(2))},)),
}


@pytest.mark.parametrize("name", sorted(ALLOW_INT))
def test_grad_allow_int(name):
    build, argnums, args = ALLOW_INT[name]
    fk, fj = both(build)
    fk0, fj0 = (lambda *a: fk(*a) * 1.0), (lambda *a: fj(*a) * 1.0)  # a float output
    same(kiln.grad(fk0, argnums, allow_int=True)(*args), jax.grad(fj0, argnums, allow_int=True)(*args))
    same(kiln.value_and_grad(fk0, argnums, allow_int=True)(*args),
         jax.value_and_grad(fj0, argnums, allow_int=True)(*args))


def test_grad_allow_int_inside_jit():
    @kiln.jit
    def step(x, n):
        gx, gn = kiln.grad(lambda x, n: knp.sum(x * n), (0, 1), allow_int=True)(x, n)
        assert gn.dtype == kiln.dtypes.float0 and gn.shape == (3,)
        return x - 0.1 * gx

    np.testing.assert_allclose(np.asarray(step(X, N)), X - 0.1 * N, rtol=1e-6)


def test_integer_input_without_allow_int():
    for f, args in [(lambda n: n * 2.0, (np.int32(3),)), (lambda b: knp.where(b, 1.0, 2.0), (True,))]:
        for who, k_tr, j_tr in [("grad", kiln.grad, jax.grad), ("jacrev", kiln.jacrev, jax.jacrev)]:
            with pytest.raises(TypeError) as k_info:
                k_tr(f)(*args)
            with pytest.raises(TypeError) as j_info:
                j_tr(lambda *a: f(*a) if not isinstance(a[0], bool) else jnp.where(a[0], 1.0, 2.0))(*args)
            assert str(k_info.value) == str(j_info.value)


def test_jacrev_allow_int():
    fk, fj = both(lambda np_: lambda x, n: x * n)
    for args in [(np.ones(2, np.float32), 3), (np.ones(2, np.float32), np.arange(2, dtype=np.int32))]:
        same(kiln.jacrev(fk, (0, 1), allow_int=True)(*args), jax.jacrev(fj, (0, 1), allow_int=True)(*args))


# ---------------------------------------------------------------------------- vjp, jvp, linearize
def test_vjp_integer_inputs_and_outputs():
    fk, fj = both(lambda np_: lambda x, n: (x * n, n * 2))
    out_k, pull_k = kiln.vjp(fk, X, N)
    out_j, pull_j = jax.vjp(fj, X, N)
    same(out_k[0], out_j[0])
    zeros = np.zeros(3, FLOAT0)
    same(pull_k((X, zeros)), pull_j((X, zeros)))
    same(pull_k((X, np.zeros(3, np.int32))), pull_j((X, np.zeros(3, np.int32))))  # JAX takes integer zeros too
    with pytest.raises(ValueError, match="unexpected JAX type"):
        pull_k((X, np.zeros(2, FLOAT0)))


def test_jvp_float0_tangents():
    fk, fj = both(lambda np_: lambda x, n: (x * n, n * 2, n > 1))
    tangents = (X, np.zeros(3, FLOAT0))
    k_out, k_t = kiln.jvp(fk, (X, N), tangents)
    j_out, j_t = jax.jvp(fj, (X, N), tangents)
    same(k_out, j_out)
    same(k_t, j_t)
    k_out, k_t = kiln.jvp(lambda b: b, (True,), (np.zeros((), FLOAT0),))
    j_out, j_t = jax.jvp(lambda b: b, (True,), (np.zeros((), FLOAT0),))
    assert bool(k_out) is j_out is True  # JAX's primal output is the Python bool itself
    same(k_t, j_t)


@pytest.mark.parametrize("primals, tangents", [
    ((np.int32(3),), (np.int32(0),)),
    ((np.float16(1.0),), (1.0,)),
    ((np.float32(1.0),), (np.zeros((), FLOAT0),)),
    ((X,), (np.arange(3),)),
], ids=["int-tangent", "float16-float32", "float0-for-float", "int-for-float"])
def test_jvp_tangent_dtype_errors(primals, tangents):
    with pytest.raises(TypeError) as k_info:
        kiln.jvp(lambda x: x, primals, tangents)
    with pytest.raises(TypeError) as j_info:
        jax.jvp(lambda x: x, primals, tangents)
    assert str(k_info.value) == str(j_info.value)


def test_jvp_shape_error_after_dtype_check():
    with pytest.raises(ValueError, match=r"Got primal shape \(3,\) and tangent shape as \(2,\)"):
        kiln.jvp(lambda x: x, (X,), (X[:2],))
    with pytest.raises(ValueError, match=r"Got primal shape \(3,\) and tangent shape as \(\)"):
        kiln.jvp(lambda n: n, (N,), (np.zeros((), FLOAT0),))


def test_linearize_integer_output():
    fk, fj = both(lambda np_: lambda x, n: (x * n, n))
    k_out, k_lin = kiln.linearize(fk, X, N)
    j_out, j_lin = jax.linearize(fj, X, N)
    same(k_out, j_out)
    same(k_lin(X, np.zeros(3, FLOAT0)), j_lin(X, np.zeros(3, FLOAT0)))


# ---------------------------------------------------------------------------- Jacobians by vmap
def _count_eqns(program):
    return sum(1 + sum(_count_eqns(sub) for sub in sub_programs(eqn)) for eqn in program.eqns)


def _f(np_):
    def f(x):
        y = np_.sin(x) * np_.mean(x ** 2) + x[0] * np_.cumsum(x) / x.shape[0]
        return np_.tanh(y[::-1]) * np_.exp(-x)
    return f


@pytest.mark.parametrize("name", ["jacfwd", "jacrev", "hessian"])
def test_program_size_does_not_grow_with_the_dimension(name):
    tr = getattr(kiln, name)
    sizes = [_count_eqns(kiln.make_ir(tr(lambda x: knp.sum(_f(knp)(x)) if name == "hessian" else _f(knp)(x)))(
        np.linspace(-1, 1, n, dtype=np.float32))) for n in (3, 200)]
    assert sizes[0] == sizes[1], sizes


@pytest.mark.parametrize("name", ["jacfwd", "jacrev"])
def test_200_dimensional_jacobian_matches_jax(name):
    x = np.linspace(-1, 1, 200, dtype=np.float32)
    same(getattr(kiln, name)(_f(knp))(x), getattr(jax, name)(_f(jnp))(x), rtol=2e-4)


def test_hessian_matches_jax():
    x = np.linspace(-1, 1, 20, dtype=np.float32)
    same(kiln.hessian(lambda x: knp.sum(_f(knp)(x)))(x), jax.hessian(lambda x: jnp.sum(_f(jnp)(x)))(x), rtol=1e-3)


def _tree_f(np_):
    def f(p, s, h):
        y = np_.sin(p["a"]) * s + np_.sum(p["b"] ** 2) * h.astype(np_.float32).sum()
        return {"y": y, "z": (np_.cos(s) * p["b"][0, 1], h * 2)}, np_.sum(y)
    return f


P = {"a": np.array([0.5, 1.0, -0.3], np.float32), "b": np.arange(6, dtype=np.float32).reshape(2, 3) / 7}
S, H = np.float32(0.7), np.array([1.0, 2.0], np.float16)


@pytest.mark.parametrize("has_aux", [False, True])
@pytest.mark.parametrize("argnums", [0, (0, 1), (2, 0), (0, 1, 2)], ids=str)
@pytest.mark.parametrize("name", ["jacfwd", "jacrev"])
def test_pytrees_argnums_aux_and_dtypes(name, argnums, has_aux):
    """Leaves of several shapes and dtypes (a float16 one) in and out, in one basis."""
    fk, fj = both(_tree_f)
    if not has_aux:
        fk, fj = (lambda f: lambda *a: f(*a)[0])(fk), (lambda f: lambda *a: f(*a)[0])(fj)
    same(getattr(kiln, name)(fk, argnums, has_aux=has_aux)(P, S, H),
         getattr(jax, name)(fj, argnums, has_aux=has_aux)(P, S, H), rtol=2e-3)


@pytest.mark.parametrize("name", ["jacfwd", "jacrev", "hessian"])
def test_empty_inputs_and_outputs(name):
    cases = [(lambda np_: lambda x: np_.sum(x) * 2.0, (np.zeros(0, np.float32),)),
             (lambda np_: lambda x: x[:0] * 2.0, (X,)),
             (lambda np_: lambda x, y: (x * y[0], {"s": np_.sum(y)}), (X[:2], np.ones((2, 2), np.float32)))]
    for build, args in cases:
        fk, fj = both(build)
        nums = tuple(range(len(args)))
        same(getattr(kiln, name)(fk, nums)(*args), getattr(jax, name)(fj, nums)(*args))
