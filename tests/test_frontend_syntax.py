"""Python syntax inside compiled functions, checked against the same code run as plain Python."""
import operator
from typing import NamedTuple

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln.errors import TracerBoolConversionError

from frontend_helpers.check import assert_jit_matches, assert_trees_close, prims

X = np.linspace(-2.0, 2.0, 12, dtype=np.float32).reshape(3, 4)
V = np.arange(1, 5, dtype=np.float32)
I = np.array([[3, -2], [5, 7]], np.int32)


def test_assignment_unpacking_and_starred_targets():
    def f(x):
        a = b = x[0]
        first, *middle, last = x  # unpacking an array along its leading axis
        (p, q), r = (x[1], x[2]), 2.0
        *init, tail = [1.0, 2.0, 3.0]
        return a + b + first + sum(middle) + last + p * q * r + sum(init) + tail
    assert_jit_matches(f, X)


def test_unpacking_a_state_array():
    def step(state, dt):
        x, v = state
        x, v = x + dt * v, v - dt * x
        return jnp.stack([x, v])
    state = np.stack([V, V[::-1]])
    assert_jit_matches(step, state, 0.1)


def test_augmented_assignment_of_every_operator():
    def floats(x, y):
        x += y
        x -= 1.0
        x *= y
        x /= 2.0
        x **= 2
        x //= 1.5
        x %= 3.0
        x @= np.eye(4, dtype=np.float32)
        return x
    assert_jit_matches(floats, X, V)

    def ints(i, j):
        i &= j
        i |= 4
        i ^= j
        i <<= 1
        i >>= 1
        return i
    assert_jit_matches(ints, I, I[::-1])


def test_binary_unary_operators_and_matmul():
    def f(x, v):
        return (x @ v, v @ x.T, x + v, x - v, x * v, x / v, x // v, x % v, x ** 2, 2 ** v,
                -x, +x, abs(x), divmod(x, 1.5))
    assert_jit_matches(f, X, V)

    def g(i, j):
        return i & j, i | j, i ^ j, ~i, i << 2, i >> 1, operator.neg(i)
    assert_jit_matches(g, I, I.T)


def test_comparisons_chained_on_static_values():
    def f(x, v):
        lo, hi = 0, len(v)
        assert lo < 2 < hi <= 4 != 5
        return (x < v, x <= v, x > v, x >= v, x == v, x != v, (x > -1) & (x < 1))
    assert_jit_matches(f, X, V)


def test_chained_comparison_on_arrays_is_a_bool_error():
    def f(x):
        return 0 < x < 1
    with pytest.raises(TracerBoolConversionError):
        kiln.jit(f)(X)


def test_subscripts_and_slices():
    def f(x, i):
        return (x[0], x[-1], x[1:], x[:, ::2], x[::-1, ::-2], x[None], x[..., None, 1], x[..., 2],
                x[1, -1], x[i], x[:, i], x[np.array([2, 0])], x[[0, 0, 2], [1, 2, 3]],
                x[x.shape[0] - 1:0:-1], x[slice(1, None)], x[(0, 1)])
    assert_jit_matches(f, X, np.array([2, 0, 1]))


def test_attributes_and_array_methods():
    def f(x):
        return (x.T, x.shape, x.ndim, x.size, x.dtype == jnp.float32, x.sum(axis=0), x.mean(),
                x.max(axis=1), x.reshape(2, 6), x.reshape((4, 3)), x.astype(jnp.int32), x.ravel(),
                x.transpose(1, 0), x.clip(-1, 1), x.argmax(axis=0), x.cumsum(axis=1), x.real,
                x.round(), x.std(), x.any(), x.all())
    got = kiln.jit(f)(X)
    want = f(jnp.asarray(X))  # eager kiln, as NumPy spells some of these differently
    assert_trees_close(got, want)
    # static results come back as arrays, as from jax.jit
    assert (int(got[2]), int(got[3]), bool(got[4])) == (2, 12, True)
    assert got[1] == (3, 4)  # a tuple of ints is a pytree of two arrays


def test_calls_with_star_args_keywords_and_defaults():
    def helper(a, b=2.0, *rest, scale=1.0, **extra):
        return (a * b + sum(rest)) * scale + sum(extra.values())

    def f(x, v):
        args = (x, v)
        kwargs = {"scale": 0.5, "bonus": 1.0}
        return (helper(x), helper(*args), helper(x, v, 1.0, 2.0, **kwargs),
                helper(a=v, scale=3.0), helper(*[x], **{"b": v}))
    assert_jit_matches(f, X, V)


def test_comprehensions_over_static_iterables():
    def f(x):
        rows = [x[i] * i for i in range(x.shape[0]) if i != 1]
        table = {name: x[:, k] for k, name in enumerate("abc")}
        pairs = {(i, j) for i in range(2) for j in range(2)}
        gen = sum(x[0, j] for j in range(4))
        return rows, table, len(pairs), gen, [r.sum() for r in x]
    assert_jit_matches(f, X)


def test_conditional_expressions_and_assert_on_static_values():
    def f(x, mode):
        assert mode in ("relu", "tanh"), "unknown mode"
        y = jnp.maximum(x, 0) if mode == "relu" else jnp.tanh(x)
        return y * (2 if x.ndim == 2 else 3)
    relu = kiln.jit(f, static_argnums=1)
    np.testing.assert_allclose(relu(X, "relu"), np.maximum(X, 0) * 2)
    np.testing.assert_allclose(relu(X, "tanh"), np.tanh(X) * 2, rtol=1e-6)
    assert prims(lambda x: f(x, "tanh"), X) == ["tanh", "mul"]
    with pytest.raises(AssertionError, match="unknown mode"):
        relu(X, "gelu")


def test_assert_on_array_values_is_a_bool_error():
    def g(x):
        assert (x > -10).all()
        return x
    with pytest.raises(TracerBoolConversionError):
        kiln.jit(g)(X)


class Result(NamedTuple):
    value: object
    aux: object = None


def test_returning_any_pytree():
    def f(x, v):
        return {"sum": x.sum(), "parts": [x, (v, None)], "named": Result(v * 2), "n": 3,
                "nested": {"empty": (), "none": None}}
    got = assert_jit_matches(f, X, V)
    assert isinstance(got["named"], Result) and got["named"].aux is None
    assert got["parts"][1][1] is None and got["nested"]["empty"] == ()
    assert kiln.jit(lambda x: None)(X) is None
    assert isinstance(kiln.jit(lambda x: x)(X), kiln.Array)


def test_returning_a_string_is_a_type_error():
    with pytest.raises(TypeError, match="returned a str"):
        kiln.jit(lambda x: (x, "label"))(X)


def test_walrus_and_nested_functions_with_lists():
    def f(x):
        out = []
        for i in range(3):
            if (k := i * 2) > 0:
                out.append(x * k)
        out.extend([x.sum()])
        out[0] = out[0] + 1.0  # an ordinary write into a Python list
        return out
    assert_jit_matches(f, X)
