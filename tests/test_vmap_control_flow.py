"""vmap of lax.cond, lax.switch, lax.while_loop (and fori_loop), lax.scan (and map), and of
custom_jvp / custom_vjp / checkpoint calls, against a Python loop over the batch.

A batched predicate makes lanes take different branches or finish a loop at different
steps: each lane's result must equal running that lane alone, which is what the loop
oracle computes. Batched operands with an unbatched predicate, batched values closed over
by the bodies, and partly batched carries are covered too.
"""
import pytest

import kiln
import kiln.numpy as jnp
from kiln import lax
from vmap_helpers import Arg, check, primitives_of

A = Arg


def I(shape=(), axis=0, lo=0, hi=6):  # noqa: E743
    return Arg(shape, axis, "i", lo, hi)


def cond_on_sign(p, x, y):
    return lax.cond(p > 0, lambda a, b: a * b, lambda a, b: a - b, x, y)


def cond_pytree(p, x):
    return lax.cond(p > 0, lambda a: {"s": a.sum(), "v": a * 2.0}, lambda a: {"s": a.max(), "v": -a}, x)


def cond_two_results(p, x, y):
    return lax.cond(p > 0, lambda a, b: (a * b, a), lambda a, b: (a - b, b), x, y)


def cond_closure(p, x):
    return lax.cond(p > 0, lambda: x * 2.0, lambda: x + 1.0)


def cond_unbatched_result(p, x, c):
    return lax.cond(p > 0, lambda a: c + 1.0, lambda a: c * 2.0, x)


def cond_with_scan(p, x):
    return lax.cond(p > 0, lambda a: lax.scan(lambda c, e: (c + e, c), 0.0, a)[1], lambda a: a, x)


def switch(i, x):
    return lax.switch(i, [lambda a: a + 1.0, lambda a: a * 2.0, lambda a: -a], x)


def while_count(n):
    return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 2.0), (0, 1.0))


def while_doubling(x):
    return lax.while_loop(lambda c: c.sum() < 10.0, lambda c: c * 2.0 + 0.1, x)


def while_closures(x, limit):
    # `limit` is closed over by the predicate, `x` by the body.
    return lax.while_loop(lambda c: c[0] < limit, lambda c: (c[0] + x, c[1] + 1), (x, 0))


def while_partly_batched(n, x):
    # The carry's first part is batched, the second only through the loop's trip count.
    return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1.5), (0, x))


def fori(n, x):
    return lax.fori_loop(0, n, lambda i, c: c * 1.5 + i, x)


def fori_static(x):
    return lax.fori_loop(0, 4, lambda i, c: c * x + i, x)


def while_in_scan(xs):
    step = lambda c, x: (c + lax.while_loop(lambda v: v < x, lambda v: v + 1.0, 0.0), c)  # noqa: E731
    return lax.scan(step, 0.0, xs)


def scan_sum(c0, xs):
    return lax.scan(lambda c, x: (c + x, c * x), c0, xs)


def scan_closed(w, xs):
    return lax.scan(lambda c, x: (c * w + x, jnp.sin(c)), jnp.zeros(4), xs)


def scan_reverse(c0, xs):
    return lax.scan(lambda c, x: (c + x, c * x), c0, xs, reverse=True)


def scan_unbatched_ys(c0, xs):
    return lax.scan(lambda c, x: (c + x, x * 2.0), c0, xs)


def scan_pytree(c0, xs):
    def step(c, x):
        return {"a": c["a"] + x[0], "b": c["b"] * 0.5}, (x[1], c["a"])
    return lax.scan(step, {"a": c0, "b": c0 * 2.0}, (xs, xs * 3.0))


def scan_length_only(c0):
    return lax.scan(lambda c, _: (c * 1.1 + 1.0, c), c0, None, length=3)


def lax_map(xs):
    return lax.map(lambda x: x * 2.0 + 1.0, xs)


CASES = [
    # (name, primitive exercised, function, operand specs)
    ("cond_batched_predicate", "cond", cond_on_sign, [A(()), A((4,)), A((4,), None)]),
    ("cond_batched_predicate_and_operand", "cond", cond_on_sign, [A((), 0), A((4,), None), A((4,), 1)]),
    ("cond_batched_predicate_only", "cond", cond_on_sign, [A(()), A((4,), None), A((4,), None)]),
    ("cond_pytree", "cond", cond_pytree, [A(()), A((4,), -1)]),
    ("cond_batched_operands_only", "cond", cond_two_results, [A((), None), A((4,), 1), A((4,), None)]),
    ("cond_unbatched_predicate", "cond", cond_on_sign, [A((), None), A((4,), 0), A((4,), None)]),
    ("cond_closure", "cond", cond_closure, [A(()), A((2, 4), -1)]),
    ("cond_unbatched_result", "cond", cond_unbatched_result, [A(()), A((4,), None), A((4,), None)]),
    ("cond_with_scan", "scan", cond_with_scan, [A(()), A((4,), 1)]),
    ("switch_batched_index", "cond", switch, [I((), 0, -1, 4), A((4,))]),  # out of range: clamped
    ("switch_batched_index_only", "cond", switch, [I((), 0, -1, 4), A((4,), None)]),
    ("switch_unbatched_index", "cond", switch, [I((), None, 0, 3), A((4,), 1)]),
    ("while_lanes_finish_apart", "while", while_count, [I()]),
    ("while_batched_carry", "while", while_doubling, [A((4,), 1, "pos")]),
    ("while_batched_body_closure", "while", while_closures, [A((), 0, "pos"), A((), None, "gt1")]),
    ("while_batched_cond_closure", "while", while_closures, [A((), None, "pos"), A((), 0, "gt1")]),
    ("while_partly_batched", "while", while_partly_batched, [I((), 0, 0, 5), A((2,), None)]),
    ("fori_batched_trip_count", "while", fori, [I((), 0, 0, 5), A((2,), None)]),
    ("fori_batched_carry", "while", fori, [I((), None, 0, 5), A((2,), 1)]),
    ("fori_static", "scan", fori_static, [A((2,), 1)]),
    ("while_in_scan", "while", while_in_scan, [A((5,), 1, "gt1")]),
    ("scan_batched_carry", "scan", scan_sum, [A((4,), 0), A((5, 4), None)]),
    ("scan_batched_xs", "scan", scan_sum, [A((4,), None), A((5, 4), 1)]),
    ("scan_batched_both", "scan", scan_sum, [A((4,), 1), A((5, 4), 2)]),
    ("scan_batched_closure", "scan", scan_closed, [A((4,), 0), A((5, 4), None)]),
    ("scan_reverse", "scan", scan_reverse, [A((4,), -1), A((5, 4), 0)]),
    ("scan_unbatched_ys", "scan", scan_unbatched_ys, [A((4,), 0), A((5, 4), None)]),
    ("scan_pytree", "scan", scan_pytree, [A((2,), 0), A((5, 2), -1)]),
    ("scan_length_only", "scan", scan_length_only, [A((2,), 1)]),
    ("map", "scan", lax_map, [A((5, 2), 1)]),
]


@pytest.mark.parametrize("name, prim, f, specs", CASES, ids=[c[0] for c in CASES])
def test_control_flow(name, prim, f, specs):
    assert prim in primitives_of(f, specs)
    check(name, f, specs, rtol=1e-5, atol=1e-5)


# Python control flow on array values becomes cond / while_loop / scan when compiled, so under
# vmap each lane follows its own branch and trip count.
def python_if(x):
    if x.sum() > 0:
        y = x * 2.0
    else:
        y = -x
    return y


def python_while(n):
    i, acc = 0, 1.0
    while i < n:
        acc = acc * 1.5
        i += 1
    return acc


def python_for_if(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            s = s + x[i]
    return s


PYTHON = [
    ("python_if", python_if, [A((4,), 1)]),
    ("python_while", python_while, [I((), 0, 0, 5)]),
    ("python_for_if", python_for_if, [A((4,), -1)]),
]


@pytest.mark.parametrize("name, f, specs", PYTHON, ids=[c[0] for c in PYTHON])
def test_python_control_flow(name, f, specs):
    check(name, f, specs, per_example=kiln.jit(f))


def test_while_lanes_stop_independently():
    # A lane that is done must keep its carry while others go on: the body would overflow it.
    def f(n):
        return lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1e10), (0, 1.0))
    out = kiln.vmap(f)(jnp.asarray([0, 1, 3]))
    assert [int(v) for v in out[0]] == [0, 1, 3]
    assert [float(v) for v in out[1]] == [1.0, 1e10, float(jnp.float32(1e10) ** 3)]


# custom derivative calls: their values under vmap (their derivatives under vmap are compared
# with JAX in test_vmap_compositions.py).
@kiln.custom_jvp
def softplus(x):
    return jnp.log1p(jnp.exp(x))


@softplus.defjvp
def _softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), t * nn_sigmoid(x)


def nn_sigmoid(x):
    return 1.0 / (1.0 + jnp.exp(-x))


@kiln.custom_vjp
def scaled(x, w):
    return jnp.sin(x) * w


scaled.defvjp(lambda x, w: (scaled(x, w), (x, w)), lambda res, g: (g * jnp.cos(res[0]) * res[1], g * jnp.sin(res[0])))
remat_f = kiln.checkpoint(lambda x, w: jnp.tanh(x @ w))


@kiln.custom_batching.custom_vmap
def batched_own(x, w):
    return jnp.sin(x) * w


@batched_own.def_vmap
def _batched_own_rule(axis_size, in_batched, x, w):
    # the same function, on a batch (w broadcast when it is shared)
    return jnp.sin(x) * w, any(in_batched)

CALLS = [
    ("custom_jvp", "custom_jvp_call", softplus, [A((4,), 1)]),
    ("custom_jvp_closure", "custom_jvp_call", lambda x, y: softplus(x * y), [A((4,), None), A((4,), 0)]),
    ("custom_vjp", "custom_vjp_call", scaled, [A((4,), 0), A((4,), None)]),
    ("custom_vjp_both", "custom_vjp_call", scaled, [A((4,), -1), A((4,), 0)]),
    ("checkpoint", "checkpoint_call", remat_f, [A((4,), 0), A((4, 2), None)]),
    ("checkpoint_both", "checkpoint_call", remat_f, [A((4,), None), A((4, 2), 2)]),
    # jvp inside vmap: the checkpointed call's tangent equation is batched.
    ("checkpoint_jvp", "checkpoint_jvp", lambda x, w: kiln.jvp(remat_f, (x, w), (w[:, 0], w))[1],
     [A((4,), 0), A((4, 2), None)]),
    ("custom_vmap", "custom_vmap_call", batched_own, [A((4,), 0), A((4,), None)]),
    ("custom_vmap_jvp", "custom_vmap_jvp", lambda x, w: kiln.jvp(batched_own, (x, w), (w, x))[1],
     [A((4,), None), A((4,), 1)]),
]


@pytest.mark.parametrize("name, prim, f, specs", CALLS, ids=[c[0] for c in CALLS])
def test_custom_derivative_calls(name, prim, f, specs):
    # These calls are staged only inside compiled code; one example runs through kiln.jit.
    assert prim in primitives_of(f, specs)
    check(name, f, specs, per_example=kiln.jit(f))


def test_jvp_of_custom_vjp_under_vmap_is_an_error():
    # As in JAX: forward mode through a custom_vjp function fails, under vmap too.
    with pytest.raises(TypeError, match="can't apply forward-mode autodiff"):
        kiln.vmap(lambda x, w: kiln.jvp(scaled, (x, w), (x, w))[1])(jnp.ones((3, 4)), jnp.ones((3, 4)))


COVERED = {c[1] for c in CASES + CALLS} | {"custom_lin"}
