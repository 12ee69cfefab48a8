"""The autodiff API behaves as JAX's: arguments, pytrees, aux outputs, errors, dtypes.

Each behaviour is checked against real JAX running the same code (default float32
configuration), or against the message JAX gives. Also: grad composes with jit and closures
(the seeds' `update_step`), `make_ir(grad(f))` is a program that verifies, and
`kiln.show(grad(f), x)` is Python that runs.
"""
import ast
from typing import NamedTuple

import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln.backends import reference
from kiln.passes.verify import verify
from kiln.tree_util import tree_leaves, tree_map, tree_structure

jax = pytest.importorskip("jax")
jnp = jax.numpy

X = np.array([0.5, -1.0, 2.0], np.float32)
Y = np.array([1.5, 0.25, -0.5], np.float32)


class Params(NamedTuple):
    w: object
    b: object


def both(build):
    """The same function for kiln and for JAX: `build(numpy_module)`."""
    return build(knp), build(jnp)


def same(kiln_value, jax_value, rtol=1e-6):
    """Equal pytrees (structure, leaves, dtypes and weak types)."""
    assert tree_structure(kiln_value) == tree_structure(jax_value)
    k_leaves, j_leaves = tree_leaves(kiln_value), tree_leaves(jax_value)
    assert len(k_leaves) == len(j_leaves)
    for k, j in zip(k_leaves, j_leaves):
        np.testing.assert_allclose(np.asarray(k), np.asarray(j), rtol=rtol, atol=1e-6)
        assert np.dtype(k.dtype) == np.dtype(j.dtype), (k.dtype, j.dtype)
        assert getattr(k, "weak_type", False) == getattr(j, "weak_type", False), (k, j)


# ---------------------------------------------------------------------------- argnums, aux, values
@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1, (0, 2)])
def test_argnums(argnums):
    fk, fj = both(lambda np_: lambda x, y, z: np_.sum(np_.sin(x) * y) * z)
    args = (X, Y, np.float32(2.0))
    same(kiln.grad(fk, argnums)(*args), jax.grad(fj, argnums)(*args))
    vk, gk = kiln.value_and_grad(fk, argnums)(*args)
    vj, gj = jax.value_and_grad(fj, argnums)(*args)
    same(vk, vj)
    same(gk, gj)


def test_has_aux():
    fk, fj = both(lambda np_: lambda x: (np_.sum(x ** 2), {"mean": np_.mean(x), "x": x}))
    same(kiln.grad(fk, has_aux=True)(X), jax.grad(fj, has_aux=True)(X))
    (vk, auxk), gk = kiln.value_and_grad(fk, has_aux=True)(X)
    (vj, auxj), gj = jax.value_and_grad(fj, has_aux=True)(X)
    same((vk, auxk, gk), (vj, auxj, gj))
    same(kiln.jacrev(fk, has_aux=True)(X), jax.jacrev(fj, has_aux=True)(X))
    same(kiln.jacfwd(fk, has_aux=True)(X), jax.jacfwd(fj, has_aux=True)(X))
    same(kiln.hessian(fk, has_aux=True)(X), jax.hessian(fj, has_aux=True)(X))
    k_out, k_t, k_aux = kiln.jvp(fk, (X,), (Y,), has_aux=True)
    j_out, j_t, j_aux = jax.jvp(fj, (X,), (Y,), has_aux=True)
    same((k_out, k_t, k_aux), (j_out, j_t, j_aux))
    k_out, k_pull, k_aux = kiln.vjp(fk, X, has_aux=True)
    j_out, j_pull, j_aux = jax.vjp(fj, X, has_aux=True)
    same((k_out, k_pull(np.float32(1.0)), k_aux), (j_out, j_pull(np.float32(1.0)), j_aux))


def test_has_aux_needs_a_pair():
    with pytest.raises(TypeError, match="expected function with aux output to return a two-element tuple"):
        kiln.grad(lambda x: x * 2.0, has_aux=True)(1.0)


# ---------------------------------------------------------------------------- pytrees and keywords
PYTREES = {
    "dict": {"w": X, "b": np.float32(0.5)},
    "namedtuple": Params(X, Y),
    "nested": {"layers": [Params(X, np.float32(1.0)), Params(Y, np.float32(-1.0))], "scale": (np.float32(2.0),)},
    "none_leaf": {"w": X, "unused": None},
}


@pytest.mark.parametrize("name", sorted(PYTREES))
def test_gradients_have_the_arguments_structure(name):
    def loss(np_):
        return lambda p, x: sum(np_.sum(np_.tanh(leaf * x[0])) for leaf in tree_leaves(p))
    params = PYTREES[name]
    gk, gj = kiln.grad(loss(knp))(params, X), jax.grad(loss(jnp))(params, X)
    assert tree_structure(gk) == tree_structure(params)
    same(gk, gj)
    gk, gj = kiln.grad(loss(knp), (0, 1))(params, X), jax.grad(loss(jnp), (0, 1))(params, X)
    same(gk, gj)


def test_keyword_arguments():
    def fk(x, y, *, scale=1.0, **options):
        out = knp.sum(knp.sin(x) * y) * scale
        return out * options["extra"] if "extra" in options else out

    def fj(x, y, *, scale=1.0, **options):
        out = jnp.sum(jnp.sin(x) * y) * scale
        return out * options["extra"] if "extra" in options else out
    for kwargs in ({}, {"scale": 3.0}, {"y": Y}, {"scale": 2.0, "extra": np.float32(0.5)}):
        args = (X,) if "y" in kwargs else (X, Y)
        same(kiln.grad(fk)(*args, **kwargs), jax.grad(fj)(*args, **kwargs))
        same(kiln.jacrev(fk)(*args, **kwargs), jax.jacrev(fj)(*args, **kwargs))
        same(kiln.jacfwd(fk)(*args, **kwargs), jax.jacfwd(fj)(*args, **kwargs))


def test_static_python_arguments_stay_python_values():
    # Eager JAX passes arguments it does not differentiate to the function as they are.
    def fk(x, mode="sum", training=False, *, norm=None):
        y = knp.sin(x) if training else x * 2.0
        y = y if norm is None else y / norm
        return knp.sum(y) if mode == "sum" else knp.mean(y)

    def fj(x, mode="sum", training=False, *, norm=None):
        y = jnp.sin(x) if training else x * 2.0
        y = y if norm is None else y / norm
        return jnp.sum(y) if mode == "sum" else jnp.mean(y)
    for args, kwargs in [((X, "mean"), {}), ((X,), {"training": True}), ((X, "sum", True), {"norm": 2.0})]:
        same(kiln.grad(fk)(*args, **kwargs), jax.grad(fj)(*args, **kwargs))
        same(kiln.value_and_grad(fk)(*args, **kwargs), jax.value_and_grad(fj)(*args, **kwargs))


# ---------------------------------------------------------------------------- errors
def test_grad_of_non_scalar_output():
    with pytest.raises(TypeError) as info:
        kiln.grad(lambda x: x * 2.0)(X)
    assert str(info.value) == "Gradient only defined for scalar-output functions. Output had shape: (3,)."
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions. Output was"):
        kiln.grad(lambda x: (knp.sum(x), knp.sum(x)))(X)


def test_grad_with_respect_to_an_integer():
    message = ("grad requires real- or complex-valued inputs (input dtype that is a sub-dtype of np.inexact), "
               "but got int32. If you want to use Boolean- or integer-valued inputs, use vjp or set allow_int to True.")
    with pytest.raises(TypeError) as info:
        kiln.grad(lambda n: n * 2.0)(np.int32(3))
    assert str(info.value) == message
    with pytest.raises(TypeError, match="but got int32"):
        kiln.grad(lambda x, n: x * n, argnums=(0, 1))(1.0, np.arange(3, dtype=np.int32))


def test_grad_of_integer_output():
    with pytest.raises(TypeError, match="grad requires real-valued outputs"):
        kiln.grad(lambda x: knp.argmax(x))(X)


def test_argnums_out_of_range():
    with pytest.raises(TypeError, match=r"argnums=2 requires at least 3 positional arguments to be passed by the "
                                        r"caller, but got only 1 positional arguments"):
        kiln.grad(lambda x, y=1.0, z=2.0: x * y * z, argnums=2)(1.0)


def test_jvp_and_vjp_argument_errors():
    f = lambda x: x * 2.0  # noqa: E731
    with pytest.raises(TypeError, match="primal and tangent arguments to jax.jvp must be tuples or lists; found "
                                        "ndarray and ndarray"):
        kiln.jvp(f, X, Y)
    with pytest.raises(TypeError, match="must have the same tree structure"):
        kiln.jvp(f, (X,), ((Y,),))
    with pytest.raises(ValueError, match=r"jvp called with different primal and tangent shapes;Got primal shape "
                                         r"\(3,\) and tangent shape as \(2,\)"):
        kiln.jvp(f, (X,), (Y[:2],))
    _, pullback = kiln.vjp(f, X)
    with pytest.raises(ValueError, match=r"got f32\[2\], but expected f32\[3\]"):
        pullback(Y[:2])
    with pytest.raises(ValueError, match="unexpected tree structure of argument to vjp function"):
        pullback((Y,))


# ---------------------------------------------------------------------------- types
@pytest.mark.parametrize("x", [3.0, np.float32(3.0), np.float16(3.0), np.array([3.0, 1.0], np.float32)],
                         ids=["python-float", "float32", "float16", "array"])
def test_result_dtypes_and_weak_types(x):
    fk, fj = both(lambda np_: lambda x: np_.sum(x * x * 2.0))
    same(kiln.grad(fk)(x), jax.grad(fj)(x), rtol=1e-3)
    same(kiln.value_and_grad(fk)(x), jax.value_and_grad(fj)(x), rtol=1e-3)
    same(kiln.jvp(fk, (x,), (x,)), jax.jvp(fj, (x,), (x,)), rtol=1e-3)
    for k_tr, j_tr in [(kiln.jacfwd, jax.jacfwd), (kiln.jacrev, jax.jacrev), (kiln.hessian, jax.hessian)]:
        same(k_tr(fk)(x), j_tr(fj)(x), rtol=1e-3)
    out, j_pull = jax.vjp(fj, x)
    ct = np.ones((), out.dtype)
    same(kiln.vjp(fk, x)[1](ct), j_pull(ct), rtol=1e-3)


F32 = np.float32(2.0)
WEAK_TYPE_CASES = {  # (transform of the library, arguments): weak and strong values meeting
    "grad-weak-times-strong": (lambda lib, np_: lib.grad(lambda x: x * F32), (3.0,)),
    "grad-strong-times-weak": (lambda lib, np_: lib.grad(lambda x: x * 2.0), (np.float32(3.0),)),
    "grad-unused-weak": (lambda lib, np_: lib.grad(lambda x, y: y * F32, (0, 1)), (3.0, 2.0)),
    "grad-float16": (lambda lib, np_: lib.grad(lambda x: np_.sum(x.astype(np_.float32) * 2)),
                     (np.ones(2, np.float16),)),
    "vjp-strong-cotangent": (lambda lib, np_: lambda x: lib.vjp(lambda x: x * 2.0, x)[1](F32), (2.0,)),
    "vjp-weak-cotangent": (lambda lib, np_: lambda x: lib.vjp(lambda x: x * 2.0, x)[1](1.0), (F32,)),
    "jvp-mixed": (lambda lib, np_: lambda x: lib.jvp(lambda x, y: (x * 1.0, y * 2.0), (x, 1.0), (1.0, F32)), (2.0,)),
    "linearize": (lambda lib, np_: lambda x: lib.linearize(lambda x: x * 2.0, x)[1](1.0), (2.0,)),
    "jacfwd-weak-times-strong": (lambda lib, np_: lib.jacfwd(lambda x: x * F32), (3.0,)),
    "jacrev-weak-times-strong": (lambda lib, np_: lib.jacrev(lambda x: x * F32), (3.0,)),
    "hessian-weak": (lambda lib, np_: lib.hessian(lambda x: x * x * F32), (3.0,)),
}


@pytest.mark.parametrize("name", sorted(WEAK_TYPE_CASES))
def test_weak_types_follow_jax(name):
    build, args = WEAK_TYPE_CASES[name]
    same(build(kiln, knp)(*args), build(jax, jnp)(*args))


def test_grad_of_python_float_is_weakly_typed():
    g = kiln.grad(lambda x: x * x)(3.0)
    assert g.dtype == np.float32 and g.weak_type and float(g) == 6.0


def test_vjp_and_jvp_with_integer_arguments():
    fk, fj = both(lambda np_: lambda x, n: x * n)
    k_out, k_t = kiln.jvp(fk, (X, np.int32(3)), (Y, np.zeros((), kiln.dtypes.float0)))
    j_out, j_t = jax.jvp(fj, (X, np.int32(3)), (Y, np.zeros((), jax.dtypes.float0)))
    same((k_out, k_t), (j_out, j_t))
    k_ct = kiln.vjp(fk, X, np.int32(3))[1](Y)
    j_ct = jax.vjp(fj, X, np.int32(3))[1](Y)
    same(k_ct[0], j_ct[0])
    assert k_ct[1].dtype == jax.dtypes.float0 and k_ct[1].shape == ()  # a float0 zero, as JAX's


def test_linearize():
    fk, fj = both(lambda np_: lambda x, y: np_.sin(x) * y)
    k_out, k_lin = kiln.linearize(fk, X, Y)
    j_out, j_lin = jax.linearize(fj, X, Y)
    same(k_out, j_out)
    same(k_lin(Y, X), j_lin(Y, X))


def test_jacobians_and_hessian_structure():
    fk, fj = both(lambda np_: lambda p, x: {"y": np_.tanh(p.w * x + p.b), "n": np_.sum(p.w ** 2)})
    p = Params(X, np.float32(0.5))
    for k_tr, j_tr in [(kiln.jacfwd, jax.jacfwd), (kiln.jacrev, jax.jacrev), (kiln.jacobian, jax.jacobian)]:
        same(k_tr(fk)(p, Y), j_tr(fj)(p, Y))
        same(k_tr(fk, (0, 1))(p, Y), j_tr(fj, (0, 1))(p, Y))
    sk, sj = both(lambda np_: lambda p, x: np_.sum(np_.tanh(p.w * x + p.b)))
    same(kiln.hessian(sk)(p, Y), jax.hessian(sj)(p, Y), rtol=1e-5)
    same(kiln.hessian(sk, (0, 1))(p, Y), jax.hessian(sj, (0, 1))(p, Y), rtol=1e-5)


# ---------------------------------------------------------------------------- composition with jit
def _forward(np_):
    return lambda p, x: x @ p.w + p.b


def test_update_step_pattern():
    def make(lib, np_):
        forward = _forward(np_)

        @lib.jit
        def update_step(params, x, y, learning_rate=0.01):
            def loss_fn(p):
                return np_.mean((forward(p, x) - y) ** 2)
            loss, grads = lib.value_and_grad(loss_fn)(params)
            return lib.tree_util.tree_map(lambda p, g: p - learning_rate * g, params, grads), loss
        return update_step
    params = Params(np.arange(6, dtype=np.float32).reshape(3, 2) / 10, np.array([0.5, -0.5], np.float32))
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    k_step, j_step = make(kiln, knp), make(jax, jnp)
    pk, pj = params, params
    for _ in range(3):  # closures over jitted values, applied repeatedly
        (pk, lk), (pj, lj) = k_step(pk, x, y), j_step(pj, x, y)
        same(pk, pj)
        same(lk, lj)


def test_grad_closing_over_staged_values():
    def outer(np_, lib):
        def f(x, y):
            scale = np_.sum(y ** 2)  # a value of the enclosing jit, captured by the inner grad
            g = lib.grad(lambda z: np_.sum(np_.sin(z * scale)))(x)
            return g * lib.grad(lambda s: s * scale)(2.0)
        return lib.jit(f)
    same(outer(knp, kiln)(X, Y), outer(jnp, jax)(X, Y), rtol=1e-5)


def test_transforms_nest():
    fk, fj = both(lambda np_: lambda x: np_.sin(x) * x ** 2)
    for k, j in [(kiln.grad(kiln.grad(fk)), jax.grad(jax.grad(fj))),
                 (kiln.grad(kiln.grad(kiln.grad(fk))), jax.grad(jax.grad(jax.grad(fj)))),
                 (kiln.jit(kiln.grad(kiln.jit(kiln.grad(fk)))), jax.jit(jax.grad(jax.jit(jax.grad(fj)))))]:
        same(k(np.float32(0.7)), j(np.float32(0.7)), rtol=1e-5)


# ---------------------------------------------------------------------------- the IR and show
def _loss(x, y):
    h = knp.tanh(x * y)
    return knp.sum(h ** 2) + knp.max(x)


def test_make_ir_of_grad_verifies_and_prints():
    program = kiln.make_ir(kiln.grad(_loss, (0, 1)))(X, Y)
    verify(program)
    text = str(program)
    assert text.startswith("{ lambda ") and "tanh" in text and text.rstrip().endswith(") }")
    assert len(program.outputs) == 2


def test_show_of_grad_runs():
    grad_fn = kiln.grad(_loss, (0, 1))
    text = kiln.show(grad_fn, X, Y)
    ast.parse(text)
    assert "test_ad_api.py" in text  # comments name the user's lines
    program = kiln.make_ir(grad_fn)(X, Y)
    namespace = reference.namespace(program)
    exec(compile(text, "<show>", "exec"), namespace)
    name = ast.parse(text).body[0].name
    outs = namespace[name](*reference.constants(program), X, Y)
    for out, expected in zip(outs, grad_fn(X, Y)):
        np.testing.assert_allclose(out, np.asarray(expected), rtol=1e-6)
    j = jax.grad(lambda x, y: jnp.sum(jnp.tanh(x * y) ** 2) + jnp.max(x), (0, 1))(X, Y)
    same(tree_map(np.asarray, tuple(grad_fn(X, Y))), tuple(np.asarray(v) for v in j))
