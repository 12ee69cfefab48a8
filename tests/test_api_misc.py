"""Smaller pieces of JAX's top-level API: disable_jit, clear_caches, linear_transpose,
closure_convert, named_call / named_scope, typeof, checkpoint_policies."""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp

jax = pytest.importorskip("jax")
jnp = jax.numpy


def test_disable_jit_runs_python_on_values(capsys):
    @kiln.jit
    def f(x):
        print("running with", float(x.sum()))  # a concrete value only without jit
        return x * 2
    x = np.arange(3.0, dtype=np.float32)
    with kiln.disable_jit():
        np.testing.assert_allclose(f(x), x * 2)
        assert "running with 3.0" in capsys.readouterr().out
    assert not kiln.config.jax_disable_jit
    with pytest.raises(Exception):  # staged: no concrete value
        f(x)


def test_clear_caches_recompiles():
    calls = []

    @kiln.jit
    def f(x):
        calls.append(1)  # runs while staging
        return x + 1
    f(np.float32(1))
    f(np.float32(2))
    assert len(calls) == 1
    kiln.clear_caches()
    np.testing.assert_allclose(f(np.float32(3)), 4.0)
    assert len(calls) == 2


def test_linear_transpose_and_closure_convert():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    f = lambda x: (a @ x, x.sum())
    x = np.ones(3, np.float32)
    ct = (np.array([1.0, 2.0], np.float32), np.float32(3))
    got = kiln.linear_transpose(f, x)(ct)
    want = jax.linear_transpose(f, x)(ct)
    np.testing.assert_allclose(got[0], want[0])

    scale = np.float32(3)
    converted, consts = kiln.closure_convert(lambda v: v * scale, x)
    np.testing.assert_allclose(converted(x, *consts), x * 3)


def test_small_names():
    f = kiln.named_call(lambda x: x + 1, name="inc")
    with kiln.named_scope("block"), kiln.ensure_compile_time_eval():
        assert kiln.jit(f)(np.float32(1)) == 2
    t = kiln.typeof(np.ones((2, 3), np.float32))
    assert t.shape == (2, 3) and t.dtype == np.float32
    g = kiln.checkpoint(lambda x: knp.sin(x) * 2, policy=kiln.checkpoint_policies.dots_saveable)
    np.testing.assert_allclose(kiln.grad(lambda x: knp.sum(g(x)))(np.ones(3, np.float32)),
                               jax.grad(lambda x: jnp.sum(jnp.sin(x) * 2))(np.ones(3, np.float32)), rtol=1e-6)
