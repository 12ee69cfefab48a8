"""Python control flow on array values, converted by the frontend.

Numbers: every function runs three ways and must agree: as plain Python on NumPy values (the
reference: the frontend must not change what the code means), eagerly through kiln on
concrete arrays (static conditions: plain Python), and under kiln.jit (array conditions:
cond / while_loop / fori_loop / scan). Text: golden IR for the conversions.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as jnp


def branch(x):
    if x.sum() > 0:
        y = x * 2
    else:
        y = -x
    return y


def elif_chain(x):
    s = x.sum()
    if s > 10:
        out = x - 10
    elif s > 0:
        out = x * 3
    elif s > -5:
        out = x + 100
    else:
        out = x
    return out


def nested_if(x, y):
    z = x
    if x > 0:
        if y > 0:
            z = x + y
        else:
            z = x - y
    return z * 2


def conditional_expression(x):
    return x if x > 0 else -x


def boolean_ops(x, y):
    if x > 0 and y > 0:
        return x + y
    if x < 0 or not y > 0:
        return x - y
    return x * y


def early_return(x):
    if x > 1:
        return x * 10
    x = x + 1
    if x > 0:
        return x
    return -x


def collatz_steps(n):
    steps = 0
    while n > 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-4 * a:
        x = 0.5 * (x + a / x)
    return x


def power_sum(x, n):
    total = 0.0
    for i in range(n):
        total = total + x ** i
    return total


def rows(m):
    acc = m[0] * 0
    for row in m:
        acc = acc + row * row
    return acc


def inplace_loop(v):
    out = v * 0
    for i in range(v.shape[0]):  # static: unrolled
        out[i] = v[i] * i
    return out


def static_flag(x, flag):
    if flag:  # a Python value: decided while compiling
        return x + 1
    return x - 1


CASES = [
    (branch, [(np.array([1.0, 2.0, -0.5], np.float32),), (np.array([-1.0, -2.0, 0.5], np.float32),)]),
    (elif_chain, [(np.array([v, 1.0], np.float32),) for v in (20.0, 2.0, -3.0, -50.0)]),
    (nested_if, [(np.float32(a), np.float32(b)) for a in (1.0, -1.0) for b in (2.0, -3.0)]),
    (conditional_expression, [(np.float32(v),) for v in (2.5, -1.5)]),
    (boolean_ops, [(np.float32(a), np.float32(b)) for a in (1.0, -1.0) for b in (2.0, -3.0)]),
    (early_return, [(np.float32(v),) for v in (3.0, 0.5, -4.0)]),
    (collatz_steps, [(np.int32(n),) for n in (1, 6, 7, 27)]),
    (newton_sqrt, [(np.float32(a),) for a in (2.0, 9.0, 0.25)]),
    (power_sum, [(np.float32(1.5), np.int32(n)) for n in (0, 1, 5)]),
    (rows, [(np.arange(12, dtype=np.float32).reshape(4, 3),)]),
    (inplace_loop, [(np.arange(5, dtype=np.float32),)]),
]


def _plain(fn, args):
    """The function as plain Python on NumPy values (with kiln.numpy only where it is used)."""
    if fn is inplace_loop:
        v = args[0]
        return v * np.arange(len(v), dtype=v.dtype)
    return fn(*args)


@pytest.mark.parametrize("fn,arg_sets", CASES, ids=[c[0].__name__ for c in CASES])
def test_jit_agrees_with_plain_python(fn, arg_sets):
    jitted = kiln.jit(fn)
    for args in arg_sets:
        want = _plain(fn, args)
        np.testing.assert_allclose(np.asarray(jitted(*args)), np.asarray(want), rtol=1e-5, atol=1e-6)
        if fn is not inplace_loop:  # (outside kiln, kiln arrays are immutable, as JAX's)
            eager = fn(*(jnp.asarray(a) for a in args))  # concrete arrays: plain Python control flow
            np.testing.assert_allclose(np.asarray(eager), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_static_arguments_still_decide_while_compiling():
    f = kiln.jit(static_flag, static_argnums=1)
    assert float(f(1.0, True)) == 2.0 and float(f(1.0, False)) == 0.0
    assert [e.prim.name for e in kiln.make_ir(static_flag, static_argnums=1)(1.0, True).eqns] == ["add"]


def test_converted_control_flow_is_differentiable_and_batchable():
    xs = np.array([-2.0, -0.5, 0.5, 3.0], np.float32)
    grads = kiln.vmap(kiln.grad(early_return))(xs)
    eps = 1e-3
    fd = [(early_return(float(x) + eps) - early_return(float(x) - eps)) / (2 * eps) for x in xs]
    np.testing.assert_allclose(grads, fd, rtol=1e-3)
    # A static trip count is unrolled (reverse mode works); an array one becomes a while loop.
    import functools
    np.testing.assert_allclose(kiln.grad(functools.partial(power_sum, n=4))(1.5), 1 + 2 * 1.5 + 3 * 1.5 ** 2,
                               rtol=1e-6)
    _, tangent = kiln.jvp(power_sum, (1.5, 4), (1.0, np.zeros((), kiln.dtypes.float0)))
    np.testing.assert_allclose(tangent, 1 + 2 * 1.5 + 3 * 1.5 ** 2, rtol=1e-6)


def test_golden_ir_of_a_converted_if():
    program = kiln.make_ir(branch)(np.ones(3, np.float32))
    assert str(program) == (
        "{ lambda ; a:f32[3]. let\n"
        "    b:f32[] = reduce_sum[axes=(0,)] a\n"
        "    c:bool[] = gt b 0.0:f32[]\n"
        "    d:i32[] = convert_element_type[new_dtype=int32 weak_type=False] c\n"
        "    e:f32[3] = cond[\n"
        "      branches=(\n"
        "        { lambda ; f:f32[3]. let g:f32[3] = neg f in (g,) }\n"
        "        { lambda ; h:f32[3]. let i:f32[3] = mul h 2.0:f32[] in (i,) }\n"
        "      )\n"
        "    ] d a\n"
        "  in (e,) }"
    )


def test_golden_ir_of_a_converted_while():
    program = kiln.make_ir(newton_sqrt)(np.float32(2.0))
    assert [e.prim.name for e in program.eqns] == ["while"]
    text = str(program)
    assert "cond={ lambda" in text and "body={ lambda" in text


def test_branches_that_disagree_name_the_variable():
    def bad(x):
        if x > 0:
            y = x
        else:
            y = jnp.ones(3)
        return y
    with pytest.raises(kiln.CompileError, match="'y'"):
        kiln.jit(bad)(1.0)


def test_variable_defined_in_one_branch_is_an_error_when_used():
    def one_sided(x):
        if x > 0:
            y = x * 2
        return y
    with pytest.raises(kiln.CompileError, match="'y'"):
        kiln.jit(one_sided)(1.0)


def test_loop_state_that_changes_shape_is_an_error():
    def grows(x):
        while x.sum() < 10:
            x = jnp.concatenate([x, x])
        return x
    with pytest.raises(kiln.CompileError, match="loop"):
        kiln.jit(grows)(jnp.ones(2))


def test_return_inside_a_loop_on_an_array_condition_is_converted():
    # Like break/continue (tests/test_python_break_continue.py), an early return from inside
    # such a loop becomes flags in the loop state (tests/test_python_early_return.py).
    def with_return(x):
        while True:
            x = x * 2
            if x > 10:
                return x
    assert float(kiln.jit(with_return)(1.0)) == 16.0
    assert float(with_return(1.0)) == 16.0  # plain Python is unchanged
