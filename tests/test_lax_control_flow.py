"""kiln.lax control flow against real JAX: values, eagerly and under jit, and derivatives."""
import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln import lax

jax = pytest.importorskip("jax")
rjnp = jax.numpy

xs = np.linspace(-1.0, 1.5, 6).astype(np.float32)


def programs(np_, lax_):
    """The same functions written against either library."""
    def branchy(x):
        return lax_.cond(x.sum() > 0, lambda o: np_.sin(o) * 2, lambda o: o ** 2 - 1, x)

    def switchy(i, x):
        return lax_.switch(i, [lambda v: v + 1, lambda v: v * v, lambda v: np_.cos(v)], x)

    def rnn(w, xs):
        def step(h, x):
            h = np_.tanh(w * h + x)
            return h, h * 2
        h, ys = lax_.scan(step, 0.5, xs)
        return h + ys.sum()

    def rnn_reverse(w, xs):
        def step(h, x):
            h = np_.sin(w * h) + x
            return h, h
        h, ys = lax_.scan(step, 0.1, xs, reverse=True)
        return (ys * np_.arange(6.0)).sum() + h

    def power(x):
        return lax_.fori_loop(0, 5, lambda i, v: v * x + i, 1.0)

    def while_power(x):
        return lax_.while_loop(lambda c: c[0] < 4, lambda c: (c[0] + 1, c[1] * x), (0, 1.0))[1]

    def mapped(xs):
        return lax_.map(lambda x: x ** 2 + 1, xs)

    return dict(branchy=branchy, switchy=switchy, rnn=rnn, rnn_reverse=rnn_reverse, power=power,
                while_power=while_power, mapped=mapped)


K = programs(jnp, lax)
J = programs(rjnp, jax.lax)


@pytest.mark.parametrize("wrap", [lambda f: f, kiln.jit], ids=["eager", "jit"])
def test_values_match_jax(wrap):
    for x in (xs, -xs - 1):
        np.testing.assert_allclose(wrap(K["branchy"])(x), J["branchy"](x), rtol=1e-6)
    for i in (0, 1, 2, 7, -3):
        np.testing.assert_allclose(wrap(K["switchy"])(i, xs), J["switchy"](i, xs), rtol=1e-6)
    np.testing.assert_allclose(wrap(K["rnn"])(0.7, xs), J["rnn"](0.7, xs), rtol=1e-6)
    np.testing.assert_allclose(wrap(K["rnn_reverse"])(0.7, xs), J["rnn_reverse"](0.7, xs), rtol=1e-6)
    np.testing.assert_allclose(wrap(K["power"])(1.3), J["power"](1.3), rtol=1e-6)
    np.testing.assert_allclose(wrap(K["while_power"])(1.3), J["while_power"](1.3), rtol=1e-6)
    np.testing.assert_allclose(wrap(K["mapped"])(xs), J["mapped"](xs), rtol=1e-6)


@pytest.mark.parametrize("name,args,argnums", [
    ("branchy", (xs,), 0), ("branchy", (-xs - 1,), 0), ("rnn", (0.7, xs), (0, 1)),
    ("rnn_reverse", (0.7, xs), (0, 1)), ("power", (1.3,), 0), ("switchy", (1, xs), 1),
])
def test_reverse_mode_matches_jax(name, args, argnums):
    def scalar(lib):
        f = (K if lib == "kiln" else J)[name]
        return lambda *a: (f(*a) ** 2).sum()
    got = kiln.grad(scalar("kiln"), argnums)(*args)
    want = jax.grad(scalar("jax"), argnums)(*args)
    for g, w in zip(np.atleast_1d(got) if argnums == 0 else got, np.atleast_1d(want) if argnums == 0 else want):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)
    jitted = kiln.jit(kiln.grad(scalar("kiln"), argnums))(*args)
    for g, w in zip(jitted if argnums != 0 else [jitted], want if argnums != 0 else [want]):
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name,args", [("while_power", (1.3,)), ("rnn", (0.7, xs)), ("branchy", (xs,))])
def test_forward_mode_matches_jax(name, args):
    tangents = tuple(np.ones_like(np.asarray(a, dtype=np.float32)) for a in args)
    out, t = kiln.jvp(K[name], args, tangents)
    out_ref, t_ref = jax.jvp(J[name], args, tangents)
    np.testing.assert_allclose(out, out_ref, rtol=1e-6)
    np.testing.assert_allclose(t, t_ref, rtol=2e-5, atol=1e-6)


def test_second_order_through_scan_and_cond():
    f = lambda w: K["rnn"](w, xs)  # noqa: E731
    f_ref = lambda w: J["rnn"](w, xs)  # noqa: E731
    np.testing.assert_allclose(kiln.grad(kiln.grad(f))(0.7), jax.grad(jax.grad(f_ref))(0.7), rtol=1e-4)
    g = lambda x: K["branchy"](x).sum()  # noqa: E731
    g_ref = lambda x: J["branchy"](x).sum()  # noqa: E731
    np.testing.assert_allclose(kiln.hessian(g)(xs), jax.hessian(g_ref)(xs), rtol=1e-5, atol=1e-6)


def test_reverse_mode_through_while():
    np.testing.assert_allclose(kiln.grad(K["while_power"])(1.3), 4 * 1.3 ** 3, rtol=1e-6)


def test_branches_must_agree():
    with pytest.raises(TypeError, match="same"):
        kiln.jit(lambda x: lax.cond(x > 0, lambda: x, lambda: (x, x)))(1.0)
    with pytest.raises(TypeError, match="same types"):
        kiln.jit(lambda x: lax.cond(x > 0, lambda: x, lambda: jnp.ones(3)))(1.0)


def test_structured_ir():
    program = kiln.make_ir(K["rnn"])(0.7, xs)
    assert [e.prim.name for e in program.eqns].count("scan") == 1
    text = kiln.show(K["rnn"], 0.7, xs)
    assert "def body_" in text and "scan(" in text
