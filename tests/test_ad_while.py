"""Reverse mode through while loops whose trip count depends on the data (JAX refuses these).

Values in float64 against central finite differences, and against real JAX running the same
loop with the trip count made static (a fori_loop of the known length, which JAX can
differentiate). Trip counts 0, 1, small, and larger than the checkpoint capacity C (made
small here) so that both backward walks run: recompute a segment into a buffer (s <= C) and
recompute each carry from the segment's checkpoint (s > C). Also under jit and vmap (lanes
with different trip counts), second order, and the IR's buffers are [C, ...].
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln import lax
from kiln.ad import Staging
from kiln.ir import sub_programs
import kiln.lax.while_transpose as while_transpose

jax = pytest.importorskip("jax")
jnp = jax.numpy


@pytest.fixture(autouse=True)
def x64():
    previous = kiln.config.read("jax_enable_x64")
    kiln.config.update("jax_enable_x64", True)
    jax.config.update("jax_enable_x64", True)
    yield
    kiln.config.update("jax_enable_x64", previous)
    jax.config.update("jax_enable_x64", False)


@pytest.fixture
def small_capacity(monkeypatch):
    """C = 4 saved carries per buffer."""
    monkeypatch.setattr(while_transpose, "MAX_CHECKPOINTS", 4)
    return 4


def fd(f, x, h=1e-6):
    x = np.asarray(x, np.float64)
    if x.shape == ():
        return (f(x + h) - f(x - h)) / (2 * h)
    return np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size).reshape((x.size,) + x.shape)],
                    axis=-1)


# ---------------------------------------------------------------------------- the loops
# grow(x): multiply until the value passes a threshold, N = the number of steps taken.

def grow_step(L, x, v):
    return v * x + 0.3 * L.sin(v)


def grow_kiln(x, limit=10.0):
    return lax.while_loop(lambda c: c[1] < limit, lambda c: (c[0] + 1, grow_step(knp, x, c[1])), (0, 1.0))[1]


def grow_trips(x, limit=10.0):
    n, v = 0, 1.0
    while v < limit:
        n, v = n + 1, float(grow_step(np, x, v))
    return n


def grow_jax(x, n):
    return jax.lax.fori_loop(0, n, lambda i, v: grow_step(jnp, x, v), 1.0)


@pytest.mark.parametrize("x,trips", [(20.0, 1), (3.0, 3), (1.5, 6), (1.2, 11)])
def test_grad_of_a_data_dependent_while(x, trips):
    assert grow_trips(x) == trips
    g = kiln.grad(grow_kiln)(x)
    np.testing.assert_allclose(g, fd(grow_kiln, x), rtol=1e-7)
    np.testing.assert_allclose(g, jax.grad(grow_jax)(x, trips), rtol=1e-12)
    np.testing.assert_allclose(kiln.jit(kiln.grad(grow_kiln))(x), g, rtol=1e-12)
    np.testing.assert_allclose(kiln.grad(kiln.jit(grow_kiln))(x), g, rtol=1e-12)


def test_zero_trips_pass_the_cotangent_through():
    f = lambda x: lax.while_loop(lambda v: v < 0.0, lambda v: v * 3.0, x) * 2.0  # noqa: E731
    assert kiln.grad(f)(1.0) == 2.0
    g = lambda x, a: lax.while_loop(lambda v: v < 0.0, lambda v: v * a, x) * a  # noqa: E731
    np.testing.assert_allclose(kiln.grad(g, argnums=(0, 1))(1.0, 3.0), (3.0, 1.0))


@pytest.mark.parametrize("limit,trips,fd_checked", [(1e3, 17, True), (1e8, 45, False)])
def test_more_trips_than_the_capacity(small_capacity, limit, trips, fd_checked):
    # C = 4: 17 trips give a stride s = 5 > C, 45 trips s = 12 > C: each carry is recomputed
    # from its segment's checkpoint (test_every_stride_against_jax also has s <= C).
    x = 1.5
    assert grow_trips(x, limit) == trips
    f = lambda x: grow_kiln(x, limit) / limit  # noqa: E731
    expected = jax.grad(lambda x: grow_jax(x, trips) / limit)(x)
    np.testing.assert_allclose(kiln.grad(f)(x), expected, rtol=1e-7)  # see test_every_stride_against_jax
    if fd_checked:  # near 1e8 the sin term makes finite differences too noisy
        np.testing.assert_allclose(kiln.grad(f)(x), fd(f, x, 1e-7), rtol=1e-6)


@pytest.mark.parametrize("cap", [2, 5, 16])
def test_every_stride_against_jax(monkeypatch, cap):
    monkeypatch.setattr(while_transpose, "MAX_CHECKPOINTS", cap)
    x, limit = 1.5, 1e8
    trips = grow_trips(x, limit)  # 45: s = 23 > 2, s = 9 > 5, s = 3 <= 16
    f = lambda x: grow_kiln(x, limit) / limit  # noqa: E731
    g = kiln.grad(f)(x)
    # sin of values near 1e8 rounds differently in NumPy and XLA; kiln's own value does not
    # depend on the capacity.
    np.testing.assert_allclose(g, jax.grad(lambda x: grow_jax(x, trips) / limit)(x), rtol=1e-7)
    monkeypatch.setattr(while_transpose, "MAX_CHECKPOINTS", 1024)
    np.testing.assert_allclose(kiln.grad(f)(x), g, rtol=1e-14)


# ---------------------------------------------------------------------------- other spellings

@kiln.jit
def python_while(x, a):
    # A Python `while` on array values: kiln stages a while loop.
    y = x
    while knp.sum(y * y) < a:
        y = y * 1.3 + knp.sin(y)
    return knp.sum(y)


def python_while_jax(x, a, n):
    return jnp.sum(jax.lax.fori_loop(0, n, lambda i, y: y * 1.3 + jnp.sin(y), x))


def test_python_while_in_jit_and_grad():
    x = np.array([0.3, -0.2, 0.5])
    n = 0
    y = x
    while np.sum(y * y) < 50.0:
        y, n = y * 1.3 + np.sin(y), n + 1
    g = kiln.grad(python_while)(x, 50.0)
    np.testing.assert_allclose(g, jax.grad(python_while_jax)(x, 50.0, n), rtol=1e-12)
    np.testing.assert_allclose(g, fd(lambda x: python_while(x, 50.0), x), rtol=1e-6)
    value, g2 = kiln.value_and_grad(python_while)(x, 50.0)
    np.testing.assert_allclose(value, python_while_jax(x, 50.0, n), rtol=1e-12)
    np.testing.assert_allclose(g2, g, rtol=1e-12)


def traced_fori(x, n):
    return lax.fori_loop(0, n, lambda i, v: v * x + i * knp.cos(v), 1.0)


@pytest.mark.parametrize("n", [0, 1, 3, 9])
def test_fori_loop_with_a_traced_bound(n):
    expected = jax.grad(lambda x: jax.lax.fori_loop(0, n, lambda i, v: v * x + i * jnp.cos(v), 1.0))(0.9)
    np.testing.assert_allclose(kiln.grad(traced_fori)(0.9, n), expected, rtol=1e-12)
    np.testing.assert_allclose(kiln.jit(kiln.grad(traced_fori))(0.9, n), expected, rtol=1e-12)


def newton_sqrt(a):
    # Newton's iteration for sqrt(a), to a tolerance: the trip count depends on a.
    def body(c):
        x, _ = c
        new = 0.5 * (x + a / x)
        return new, knp.abs(new - x) > 1e-12 * new
    return lax.while_loop(lambda c: c[1], body, (a + 1.0, True))[0]


@pytest.mark.parametrize("a", [0.5, 2.0, 1e4])
def test_newton_iteration(a):
    # The derivative of the converged iteration is that of sqrt.
    np.testing.assert_allclose(kiln.grad(newton_sqrt)(a), 0.5 / np.sqrt(a), rtol=1e-9)
    np.testing.assert_allclose(kiln.jit(kiln.grad(newton_sqrt))(a), 0.5 / np.sqrt(a), rtol=1e-9)


def vector_loop(x, w):
    # A vector carry, an integer counter and a bool flag in the carry, closures over x and w.
    def body(c):
        i, v, done = c
        v = 0.9 * v + knp.tanh(w @ v) + x
        return i + 1, v, knp.sum(v * v) > 1000.0
    i, v, _ = lax.while_loop(lambda c: ~c[2] & (c[0] < 100), body, (0, x, False))
    return v * i


def vector_loop_jax(x, w, n):
    return jax.lax.fori_loop(0, n, lambda i, v: 0.9 * v + jnp.tanh(w @ v) + x, x) * n


def vector_trips(x, w):
    i, v = 0, x
    while True:
        v, i = 0.9 * v + np.tanh(w @ v) + x, i + 1
        if np.sum(v * v) > 1000.0 or i >= 100:
            return i


W = np.array([[0.5, -0.3, 0.8], [0.1, 0.9, -0.4], [-0.6, 0.2, 0.7]])
X = np.array([1.0, 2.0, 3.0])


def test_vjp_and_jacrev_with_integer_and_bool_carries():
    n = vector_trips(X, W)
    assert n > 1
    out, pull = kiln.vjp(vector_loop, X, W)
    j_out, j_pull = jax.vjp(lambda x, w: vector_loop_jax(x, w, n), X, W)
    np.testing.assert_allclose(out, j_out, rtol=1e-12)
    ct = np.array([0.3, -1.0, 2.0])
    for mine, theirs in zip(pull(ct), j_pull(ct)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10)
    jac = kiln.jacrev(vector_loop, argnums=(0, 1))(X, W)
    j_jac = jax.jacrev(lambda x, w: vector_loop_jax(x, w, n), argnums=(0, 1))(X, W)
    for mine, theirs in zip(jac, j_jac):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10)
    np.testing.assert_allclose(jac[0], fd(lambda x: vector_loop(x, W), X), rtol=1e-6)


def test_checkpoint_inside_the_body():
    """The call primitives are expanded in sub-programs too (passes/expand_calls.py)."""
    def f(x):
        step = kiln.checkpoint(lambda v: knp.sin(v) * 0.3 + v * x + 0.1)
        return lax.while_loop(lambda v: v < 5.0, step, 0.5)
    np.testing.assert_allclose(kiln.grad(f)(1.1), fd(f, 1.1), rtol=1e-7)


def test_nested_data_dependent_loops():
    def f(x):
        def outer(c):
            inner = lax.while_loop(lambda v: v < c * 2.0, lambda v: v * x + 0.1, 1.0)
            return c + knp.log(inner)
        return lax.while_loop(lambda c: c < 6.0, outer, x)
    np.testing.assert_allclose(kiln.grad(f)(1.3), fd(f, 1.3), rtol=1e-6)


# ---------------------------------------------------------------------------- vmap and second order

def test_vmap_of_grad_with_per_example_trip_counts(small_capacity):
    xs = np.array([20.0, 3.0, 1.5, 1.2, 1.15])
    trips = [grow_trips(x, 1e3) for x in xs]
    assert len(set(trips)) == len(trips) and max(trips) > small_capacity
    f = lambda x: grow_kiln(x, 1e3)  # noqa: E731
    expected = [jax.grad(grow_jax)(x, n) for x, n in zip(xs, trips)]
    np.testing.assert_allclose(kiln.vmap(kiln.grad(f))(xs), expected, rtol=1e-10)
    np.testing.assert_allclose(kiln.jit(kiln.vmap(kiln.grad(f)))(xs), expected, rtol=1e-10)
    n = knp.array([0, 1, 3, 9])
    expected = [jax.grad(lambda x: jax.lax.fori_loop(0, int(k), lambda i, v: v * x + i * jnp.cos(v), 1.0))(0.9)
                for k in n]
    np.testing.assert_allclose(kiln.vmap(kiln.grad(traced_fori), in_axes=(None, 0))(0.9, n), expected, rtol=1e-12)


def test_grad_of_vmap():
    f = lambda xs: knp.sum(kiln.vmap(grow_kiln)(xs))  # noqa: E731
    xs = np.array([3.0, 1.5, 1.2])
    np.testing.assert_allclose(kiln.grad(f)(xs), [kiln.grad(grow_kiln)(x) for x in xs], rtol=1e-12)


@pytest.mark.parametrize("x", [1.5, 1.2])
def test_second_order(x):
    n = grow_trips(x)
    expected = jax.grad(jax.grad(grow_jax))(x, n)
    np.testing.assert_allclose(kiln.grad(kiln.grad(grow_kiln))(x), expected, rtol=1e-10)
    np.testing.assert_allclose(kiln.jacfwd(kiln.grad(grow_kiln))(x), expected, rtol=1e-10)
    np.testing.assert_allclose(kiln.hessian(grow_kiln)(x), expected, rtol=1e-10)


def test_second_order_float32():
    """Reverse over reverse with x64 off: the loop's int32 counter carries no tangent (it was
    given one, and the reverse walk's carries mixed int32 and float32)."""
    kiln.config.update("jax_enable_x64", False)
    jax.config.update("jax_enable_x64", False)
    x = np.float32(1.5)
    expected = jax.grad(jax.grad(grow_jax))(x, grow_trips(1.5))
    np.testing.assert_allclose(kiln.grad(kiln.grad(grow_kiln))(x), expected, rtol=1e-5)


# ---------------------------------------------------------------------------- memory is bounded

def _eqns(program):
    for eqn in program.eqns:
        yield eqn
        for sub in sub_programs(eqn):
            yield from _eqns(sub)


def test_saved_carries_live_in_buffers_of_capacity_c(small_capacity):
    # Whatever the trip count, the backward pass writes carries only into [C, ...] buffers.
    program = Staging(kiln.grad(python_while), (X, 50.0)).program
    writes = [e for e in _eqns(program) if e.prim.name == "dynamic_update_slice"]
    assert writes
    assert {e.inputs[0].aval.shape for e in writes} == {(small_capacity,), (small_capacity, 3)}
    assert all(len(v.aval.shape) <= 2 and v.aval.size <= small_capacity * 3
               for e in _eqns(program) for v in e.outputs)


def test_capacity_follows_the_memory_budget():
    from kiln.ir import ShapedArray
    small = ShapedArray((), np.dtype(np.float64), False)
    big = ShapedArray((1024, 1024), np.dtype(np.float32), False)  # 4 MiB
    assert while_transpose.capacity([small]) == while_transpose.MAX_CHECKPOINTS
    assert while_transpose.capacity([big]) * 4 * 2 ** 20 <= max(while_transpose.BUDGET_BYTES,
                                                                 while_transpose.MIN_CHECKPOINTS * 4 * 2 ** 20)


# ---------------------------------------------------------------------------- eager loops give arrays

EAGER = [
    lambda L: L.lax.while_loop(lambda c: c < 10, lambda c: c + 1, 0),
    lambda L: L.lax.while_loop(lambda c: c < 10, lambda c: c + 1.5, 0.0),
    lambda L: L.lax.while_loop(lambda c: c < 10, lambda c: c + 1.5, 0),
    lambda L: L.lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] + 1, c[1] * L.numpy.float32(2.0)), (0, 1.0)),
    lambda L: L.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1]), (0, 2.0)),
    lambda L: L.lax.while_loop(lambda c: c < 10, lambda c: c + 1, np.int32(0)),
    lambda L: L.lax.while_loop(lambda c: False, lambda c: c + 1, 0),
    lambda L: L.lax.fori_loop(0, 3, lambda i, c: c + i, 0),
    lambda L: L.lax.fori_loop(0, 3, lambda i, c: c + i, 0.0),
    lambda L: L.lax.fori_loop(0, 0, lambda i, c: c + 1.0, 0.0),
    lambda L: L.lax.fori_loop(0, 3, lambda i, c: c + 1.0, L.numpy.float32(0)),
    lambda L: L.lax.fori_loop(0, 3, lambda i, c: c + i, np.int32(0)),
    lambda L: L.jit(lambda: L.lax.fori_loop(0, 3, lambda i, c: c + i, 0))(),
]


@pytest.mark.parametrize("case", range(len(EAGER)))
def test_eager_loops_give_jax_types(case):
    jax.config.update("jax_enable_x64", False)
    kiln.config.update("jax_enable_x64", False)
    mine, theirs = EAGER[case](kiln), EAGER[case](jax)
    for m, t in zip(kiln.tree_util.tree_leaves(mine), jax.tree_util.tree_leaves(theirs)):
        assert isinstance(m, kiln.Array) == isinstance(t, jax.Array)
        if isinstance(t, jax.Array):
            assert (m.dtype, m.weak_type) == (t.dtype, t.aval.weak_type)
        np.testing.assert_array_equal(np.asarray(m), np.asarray(t))
