"""kiln.custom_batching (custom_vmap, sequential_vmap) against jax.custom_batching.

Each custom rule below computes something other than the function, so a test sees whether the
rule ran: under vmap it must (as in JAX), elsewhere (eager, jit, jvp) the function must.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp

jax = pytest.importorskip("jax")
jnp = jax.numpy


def _make(cb, np_):
    @cb.custom_vmap
    def f(x, y):
        return np_.sin(x) * y

    @f.def_vmap
    def rule(axis_size, in_batched, x, y):
        x_batched, y_batched = in_batched
        return np_.cos(x) * y + axis_size, x_batched or y_batched
    return f


KF, JF = _make(kiln.custom_batching, knp), _make(jax.custom_batching, jnp)
X = np.linspace(0.0, 1.0, 6, dtype=np.float32).reshape(3, 2)
Y = np.float32(2.0)


def test_rule_runs_under_vmap_only():
    np.testing.assert_allclose(kiln.vmap(KF, in_axes=(0, None))(X, Y), jax.vmap(JF, in_axes=(0, None))(X, Y),
                               rtol=1e-6)
    np.testing.assert_allclose(kiln.vmap(KF, in_axes=(None, 0))(X[0, 1], X[:, 0]),
                               jax.vmap(JF, in_axes=(None, 0))(X[0, 1], X[:, 0]), rtol=1e-6)
    np.testing.assert_allclose(KF(X, Y), JF(X, Y), rtol=1e-6)
    np.testing.assert_allclose(kiln.jit(KF)(X, Y), JF(X, Y), rtol=1e-6)
    np.testing.assert_allclose(kiln.jit(kiln.vmap(KF, in_axes=(0, None)))(X, Y),
                               jax.vmap(JF, in_axes=(0, None))(X, Y), rtol=1e-6)


def test_nested_vmap_batches_the_rule():
    nest = lambda v, f: v(v(f, in_axes=(0, None)), in_axes=(0, None))
    np.testing.assert_allclose(nest(kiln.vmap, KF)(X, Y), nest(jax.vmap, JF)(X, Y), rtol=1e-6)


def test_jvp_and_vmap_of_jvp():
    """jvp uses the function; vmap of jvp the jvp of the rule, as in JAX."""
    for x in (0.3, 1.2):
        k = kiln.jvp(lambda x: KF(x, Y), (np.float32(x),), (np.float32(1.0),))
        j = jax.jvp(lambda x: JF(x, Y), (np.float32(x),), (np.float32(1.0),))
        np.testing.assert_allclose(k, j, rtol=1e-6)
    kv = kiln.vmap(lambda x: kiln.jvp(lambda x: KF(x, Y), (x,), (knp.ones_like(x),)))(X)
    jv = jax.vmap(lambda x: jax.jvp(lambda x: JF(x, Y), (x,), (jnp.ones_like(x),)))(X)
    np.testing.assert_allclose(kv, jv, rtol=1e-6)
    # a tangent shared by the batch
    kv = kiln.vmap(lambda x: kiln.jvp(lambda x: KF(x, Y), (x,), (knp.ones(2, np.float32),)))(X)
    jv = jax.vmap(lambda x: jax.jvp(lambda x: JF(x, Y), (x,), (jnp.ones(2, np.float32),)))(X)
    np.testing.assert_allclose(kv, jv, rtol=1e-6)


def test_grad_goes_through_the_function():
    # (JAX cannot linearize a custom_vmap function; kiln differentiates its body.)
    g = kiln.grad(lambda x: knp.sum(KF(x, Y)))(X)
    np.testing.assert_allclose(g, 2.0 * np.cos(X), rtol=1e-6)
    gv = kiln.vmap(kiln.grad(lambda x: knp.sum(KF(x, Y))))(X)
    np.testing.assert_allclose(gv, 2.0 * np.cos(X), rtol=1e-6)


def test_pytrees_and_unbatched_outputs():
    def make(cb, np_):
        @cb.custom_vmap
        def f(pair, scale):
            a, b = pair
            return {"sum": a + b, "scale": scale * 2}

        @f.def_vmap
        def rule(axis_size, in_batched, pair, scale):
            (a_batched, b_batched), scale_batched = in_batched
            a, b = pair
            return {"sum": a - b, "scale": scale * 3}, {"sum": a_batched or b_batched, "scale": scale_batched}
        return f
    kf, jf = make(kiln.custom_batching, knp), make(jax.custom_batching, jnp)
    args = ((X, X[0]), np.float32(1.5))
    k = kiln.vmap(kf, in_axes=((0, None), None))(*args)
    j = jax.vmap(jf, in_axes=((0, None), None))(*args)
    assert sorted(k) == sorted(j)
    for name in j:
        np.testing.assert_allclose(k[name], j[name], rtol=1e-6)
        assert np.shape(k[name]) == np.shape(j[name])


def test_sequential_vmap():
    def make(cb, np_):
        return cb.sequential_vmap(lambda x, y: np_.sum(x) * y)
    kf, jf = make(kiln.custom_batching, knp), make(jax.custom_batching, jnp)
    np.testing.assert_allclose(kiln.vmap(kf, in_axes=(0, None))(X, Y), jax.vmap(jf, in_axes=(0, None))(X, Y),
                               rtol=1e-6)
    np.testing.assert_allclose(kiln.vmap(kf)(X, X[:, 0]), jax.vmap(jf)(X, X[:, 0]), rtol=1e-6)


def test_errors():
    f = kiln.custom_batching.custom_vmap(lambda x: x)
    with pytest.raises(AttributeError, match="def_vmap"):
        f(X)
    f.def_vmap(lambda n, b, x: (x[0], True))  # wrong batched shape
    with pytest.raises(ValueError, match="shape"):
        kiln.vmap(f)(X)
    g = kiln.custom_batching.custom_vmap(lambda x: x)
    g.def_vmap(lambda n, b, x: ((x, x), True))  # wrong structure
    with pytest.raises(ValueError, match="structure"):
        kiln.vmap(g)(X)

    def closes_over(y):
        h = kiln.custom_batching.custom_vmap(lambda x: x * y)
        h.def_vmap(lambda n, b, x: (x * y, b[0]))
        return h(np.float32(1.0))
    with pytest.raises(NotImplementedError, match="closes over"):
        kiln.vmap(closes_over)(X[:, 0])
