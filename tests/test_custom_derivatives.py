"""custom_jvp, custom_vjp and checkpoint: values against real JAX, and the IR they leave."""
import functools

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp

jax = pytest.importorskip("jax")
jnp_ref = jax.numpy


def _both(build):
    """Build the same custom-derivative function with kiln and with JAX."""
    return build(kiln, jnp), build(jax, jnp_ref)


def _custom_jvp_sin_times(lib, np_):
    @lib.custom_jvp
    def f(x, y):
        return np_.sin(x) * y

    @f.defjvp
    def f_jvp(primals, tangents):
        x, y = primals
        x_dot, y_dot = tangents
        return f(x, y), np_.cos(x) * x_dot * y + np_.sin(x) * y_dot
    return f


def _custom_jvp_log1pexp(lib, np_):
    @lib.custom_jvp
    def log1pexp(x):
        return np_.log(1.0 + np_.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (x_dot,) = primals, tangents
        return log1pexp(x), x_dot * (1 - 1 / (1 + np_.exp(x)))
    return log1pexp


def _custom_jvp_defjvps(lib, np_):
    @lib.custom_jvp
    def f(x, y):
        return np_.sin(x) * y

    f.defjvps(lambda x_dot, ans, x, y: np_.cos(x) * x_dot * y,
              lambda y_dot, ans, x, y: np_.sin(x) * y_dot)
    return f


def _custom_vjp_clip_gradient(lib, np_):
    @lib.custom_vjp
    def clip_gradient(x):
        return x

    def fwd(x):
        return x, None

    def bwd(res, g):
        return (np_.clip(g, -0.5, 0.5),)

    clip_gradient.defvjp(fwd, bwd)
    return lambda x: 3.0 * clip_gradient(x)


def _custom_vjp_residuals(lib, np_):
    @lib.custom_vjp
    def f(x, y):
        return np_.sin(x) * y

    def f_fwd(x, y):
        return f(x, y), (np_.cos(x), np_.sin(x), y)

    def f_bwd(res, g):
        cos_x, sin_x, y = res
        return (cos_x * g * y, sin_x * g)

    f.defvjp(f_fwd, f_bwd)
    return f


@pytest.mark.parametrize("build", [_custom_jvp_sin_times, _custom_jvp_defjvps, _custom_vjp_residuals])
@pytest.mark.parametrize("wrap", ["eager", "jit"])
def test_two_argument_derivatives_match_jax(build, wrap):
    f, f_ref = _both(build)
    g = kiln.grad(f, argnums=(0, 1))
    g = kiln.jit(g) if wrap == "jit" else g
    got = g(2.0, 3.0)
    want = jax.grad(f_ref, argnums=(0, 1))(2.0, 3.0)
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6)
    assert [x.weak_type for x in got] == [x.weak_type for x in want]
    np.testing.assert_allclose(f(2.0, 3.0), f_ref(2.0, 3.0), rtol=1e-6)


def test_custom_jvp_is_used_where_autodiff_would_overflow():
    f, f_ref = _both(_custom_jvp_log1pexp)
    assert float(kiln.grad(f)(100.0)) == float(jax.grad(f_ref)(100.0)) == 1.0
    out, t = kiln.jvp(f, (3.0,), (1.0,))
    out_ref, t_ref = jax.jvp(f_ref, (3.0,), (1.0,))
    np.testing.assert_allclose([out, t], [out_ref, t_ref], rtol=1e-6)


def test_custom_jvp_vectors_under_jit_and_vjp():
    f, f_ref = _both(_custom_jvp_log1pexp)
    x = np.linspace(-3, 3, 7).astype(np.float32)
    loss = lambda x: jnp.sum(f(x) ** 2)  # noqa: E731
    loss_ref = lambda x: jnp_ref.sum(f_ref(x) ** 2)  # noqa: E731
    np.testing.assert_allclose(kiln.jit(kiln.grad(loss))(x), jax.grad(loss_ref)(x), rtol=1e-5)
    _, pullback = kiln.vjp(f, x)
    _, pullback_ref = jax.vjp(f_ref, x)
    np.testing.assert_allclose(pullback(np.ones(7, np.float32))[0], pullback_ref(np.ones(7, np.float32))[0],
                               rtol=1e-6)


def test_custom_vjp_rule_replaces_the_derivative():
    f, f_ref = _both(_custom_vjp_clip_gradient)
    for x in (2.0, -1.0):
        assert float(kiln.grad(f)(x)) == float(jax.grad(f_ref)(x)) == 0.5 * np.sign(3.0)


def test_forward_mode_through_custom_vjp_is_an_error():
    f, _ = _both(_custom_vjp_residuals)
    with pytest.raises(TypeError, match="forward-mode"):
        kiln.jvp(f, (2.0, 3.0), (1.0, 0.0))


def test_custom_jvp_call_appears_in_the_ir_and_runs_eagerly():
    f, _ = _both(_custom_jvp_sin_times)
    from kiln.api import JitFunction
    program = JitFunction(f).lower(2.0, 3.0)
    assert float(f(2.0, 3.0)) == pytest.approx(np.sin(2.0) * 3.0, rel=1e-6)
    # The backend sees the expanded body; differentiation saw the call.
    assert [e.prim.name for e in program.eqns] == ["sin", "mul"]


def _deep(x):
    for _ in range(4):
        x = jnp.sin(x) * 1.5
    return x


def test_checkpoint_gradients_equal_plain_gradients():
    x = np.linspace(-1, 1, 5).astype(np.float32)
    plain = kiln.grad(lambda x: jnp.sum(_deep(x)))(x)
    remat = kiln.grad(lambda x: jnp.sum(kiln.checkpoint(_deep)(x)))(x)
    want = jax.grad(lambda x: jnp_ref.sum(jax.checkpoint(_deep_ref)(x)))(x)
    np.testing.assert_allclose(remat, plain, rtol=1e-6)
    np.testing.assert_allclose(remat, want, rtol=1e-5)


def _deep_ref(x):
    for _ in range(4):
        x = jnp_ref.sin(x) * 1.5
    return x


def test_checkpoint_saves_only_inputs():
    """The transposed program recomputes the body: its residuals are the inputs alone."""
    from kiln.ad import Staging, VJP
    x = np.linspace(-1, 1, 5).astype(np.float32)

    def residual_count(fn):
        staging = Staging(lambda x: jnp.sum(fn(x)), (x,))
        parts = VJP(staging.program, [True])
        return len(parts.known.outputs) - parts.n_out

    # Without checkpoint every cos(x_i) of the chain is kept; with it, only x itself.
    assert residual_count(_deep) >= 4
    assert residual_count(kiln.checkpoint(_deep)) == 1


@pytest.mark.parametrize("backend", ["reference", "llvm"])
def test_custom_jvp_calling_a_custom_jvp_compiles(backend):
    """A custom_jvp function whose body calls another: both bodies are inlined for the backend."""
    def build(lib, np_):
        inner = _custom_jvp_sin_times(lib, np_)

        @lib.custom_jvp
        def outer(x):
            return inner(x, x) + 1

        @outer.defjvp
        def outer_jvp(primals, tangents):
            return outer(primals[0]), 3 * tangents[0]
        return outer
    k, j = _both(build)
    x = np.array([0.5, 1.5], np.float32)
    np.testing.assert_allclose(kiln.jit(k, backend=backend)(x), j(x), rtol=1e-6)
    np.testing.assert_allclose(kiln.jit(kiln.grad(lambda v: jnp.sum(k(v))), backend=backend)(x),
                               jax.grad(lambda v: jnp_ref.sum(j(v)))(x), rtol=1e-6)


def test_nondiff_argnums_with_defaults_and_keywords():
    """Arguments are resolved as in JAX: defaults filled in, keywords made positional."""
    def build(lib):
        @functools.partial(lib.custom_jvp, nondiff_argnums=(1,))
        def f(x, n=3):
            return x * n

        @f.defjvp
        def f_jvp(n, primals, tangents):
            return f(primals[0], n), tangents[0] * n * 10
        return f
    k, j = build(kiln), build(jax)
    for call in (lambda f, x: f(x), lambda f, x: f(x, 2), lambda f, x: f(x, n=4), lambda f, x: f(x=x)):
        np.testing.assert_allclose(kiln.jit(lambda x: call(k, x))(2.0), jax.jit(lambda x: call(j, x))(2.0))
        np.testing.assert_allclose(kiln.grad(lambda x: call(k, x))(2.0), jax.grad(lambda x: call(j, x))(2.0))
