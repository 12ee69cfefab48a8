"""kiln.debug.print / callback, kiln.pure_callback and kiln.eval_shape: what JAX's print and
return, eagerly, under jit, grad, vmap and inside loops."""
import numpy as np
import pytest
import scipy.special

import kiln
import kiln.numpy as knp
from kiln import lax

jax = pytest.importorskip("jax")
jnp = jax.numpy

X = np.arange(3.0, dtype=np.float32)


def _printing(m, debug):
    def f(x):
        y = m.sin(x)
        # ordered: JAX may reorder unordered prints under jit (kiln runs them in program order)
        debug.print("y = {y}, sum {s}", y=y, s=m.sum(y), ordered=True)
        debug.print("twice {} and {}", y * 2, 7, ordered=True)
        return y * 3
    return f


def _printed(capsys, fn, *args):
    out = fn(*args)
    return np.asarray(jax.tree.leaves(out)[0]) if out is not None else None, capsys.readouterr().out


@pytest.mark.parametrize("transform", ["eager", "jit", "grad", "vmap", "jit_vmap"])
def test_debug_print_prints_what_jax_prints(capsys, transform):
    wrap = {"eager": lambda lib, f: f,
            "jit": lambda lib, f: lib.jit(f),
            "grad": lambda lib, f: lib.grad(lambda v: lib.numpy.sum(f(v))),
            "vmap": lambda lib, f: lib.vmap(f),
            "jit_vmap": lambda lib, f: lib.jit(lib.vmap(f))}[transform]
    x = np.stack([X, X + 1]) if "vmap" in transform else X
    got, got_out = _printed(capsys, wrap(kiln, _printing(knp, kiln.debug)), x)
    want, want_out = _printed(capsys, wrap(jax, _printing(jnp, jax.debug)), x)
    assert got_out == want_out
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_debug_print_in_loops_and_branches(capsys):
    def build(m, debug, lax_):
        def f(x):
            def body(i, c):
                debug.print("i={i} c={c}", i=i, c=c, ordered=True)
                return lax_.cond(c > 4, lambda v: v + 1, lambda v: v * 2, c)
            return lax_.fori_loop(0, 4, body, x)
        return f
    got, got_out = _printed(capsys, kiln.jit(build(knp, kiln.debug, lax)), np.float32(1.5))
    want, want_out = _printed(capsys, jax.jit(build(jnp, jax.debug, jax.lax)), np.float32(1.5))
    assert got_out == want_out and got == want


def test_debug_callback_is_kept_and_ordered():
    seen = []

    def f(x):
        kiln.debug.callback(lambda v: seen.append(("first", v.tolist())), x)
        y = x + 1  # the result does not depend on the callbacks: they must still run
        kiln.debug.callback(lambda v, w: seen.append(("second", v.tolist(), w)), y, w="static")
        return x * 2
    kiln.jit(f)(X)
    kiln.jit(f)(X)  # twice: each run calls back
    assert seen == [("first", [0, 1, 2]), ("second", [1, 2, 3], "static")] * 2


def test_pure_callback():
    def build(lib, m):
        def f(x):
            y = lib.pure_callback(lambda v: scipy.special.j0(v).astype(v.dtype),
                                  lib.ShapeDtypeStruct(x.shape, x.dtype), x)
            return m.sum(y) + x
        return f
    want = build(jax, jnp)(X)
    np.testing.assert_allclose(build(kiln, knp)(X), want, rtol=1e-6)
    np.testing.assert_allclose(kiln.jit(build(kiln, knp))(X), want, rtol=1e-6)


@pytest.mark.parametrize("method", ["sequential", "expand_dims", "broadcast_all"])
def test_pure_callback_vmap(method):
    calls = []

    def host(a, b):
        calls.append(a.shape)
        return (a * 2 + b).astype(a.dtype)

    def build(lib):
        return lambda x, b: lib.pure_callback(host, lib.ShapeDtypeStruct(x.shape, x.dtype), x, b, vmap_method=method)
    xs, b = np.stack([X, X + 1, X + 2]), np.float32(10)
    want = jax.vmap(build(jax), in_axes=(0, None))(xs, b)
    want_calls, calls[:] = list(calls), []
    np.testing.assert_allclose(kiln.jit(kiln.vmap(build(kiln), in_axes=(0, None)))(xs, b), want)
    assert calls == want_calls  # called per row, or once with the batch


def test_pure_callback_errors():
    f = kiln.jit(lambda x: kiln.pure_callback(lambda v: v.astype(np.float64), kiln.ShapeDtypeStruct((3,), np.float32), x))
    with pytest.raises(TypeError, match="declared"):
        f(X)
    g = lambda x: knp.sum(kiln.pure_callback(np.sin, kiln.ShapeDtypeStruct((3,), np.float32), x))
    with pytest.raises(ValueError, match="do not support JVP"):
        kiln.grad(g)(X)
    with pytest.raises(NotImplementedError, match="vmap_method"):
        kiln.vmap(lambda x: kiln.pure_callback(np.sin, kiln.ShapeDtypeStruct((), np.float32), x))(X)
    with pytest.raises(ZeroDivisionError):
        kiln.jit(lambda x: kiln.debug.callback(lambda v: 1 / 0, x) or x)(X)


def test_eval_shape():
    def f(a, b):
        return {"s": a @ b, "t": (a.sum(), 1, a.astype(np.int32))}
    a = kiln.ShapeDtypeStruct((3, 4), np.float32)
    b = np.ones((4, 2), np.float32)
    got = kiln.eval_shape(f, a, b)
    want = jax.eval_shape(f, jax.ShapeDtypeStruct((3, 4), np.float32), b)
    for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
        assert (g.shape, g.dtype, g.weak_type) == (w.shape, w.dtype, w.weak_type)
    assert kiln.tree.structure(got) == kiln.tree.structure({"s": 0, "t": (0, 0, 0)})
