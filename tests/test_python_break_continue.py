"""`break` and `continue` in Python loops whose condition or trip count is an array value.

The frontend turns them into flags (AutoGraph's design): `break` sets a flag the `while` test
checks, and which guards the remaining iterations of a `for` (a staged scan cannot stop early);
`continue` sets a flag that guards the rest of the iteration. Every function runs as plain
Python on NumPy values (the reference: the rewrite must not change what the code means), under
kiln.jit (array conditions: while_loop / scan / cond) and eagerly on kiln arrays; then under
grad, jvp and vmap, checked against finite differences and per-example plain Python.
"""
import functools

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp

from frontend_helpers.check import line_of


def while_true_break(x):
    while True:
        x = x * 2
        if x > 10:
            break
    return x


def while_break_mid_body(x, limit):
    i = 0
    total = x * 0
    while i < 10:
        total = total + x * i
        if total > limit:
            break
        i = i + 1
    return total, i


def while_continue(n):
    i = 0
    odd_sum = 0
    while i < n:
        i = i + 1
        if i % 2 == 0:
            continue
        odd_sum = odd_sum + i
    return odd_sum


def for_range_break(x, n):
    total = 0.0
    for i in range(n):
        if x[i] < 0:
            break
        total = total + x[i]
    return total


def for_range_continue(x, n):
    total = 0.0
    count = 0
    for i in range(n):
        if x[i] < 0:
            continue
        total = total + x[i] * 2
        count = count + 1
    return total, count


def for_array_break_and_continue(xs, limit):
    acc = xs[0] * 0
    for row in xs:
        if row.sum() < 0:
            continue
        acc = acc + row
        if acc.sum() > limit:
            break
    return acc


def nested_depth_two(x, n):
    total = 0.0
    for i in range(n):
        if x[i] > 0:
            if total > 4:
                break
            total = total + x[i]
        elif x[i] < -2:
            continue
        else:
            total = total - 1
        total = total * 1.5
    return total


def nested_loops(xs):
    # The inner break leaves only the inner loop; the outer continue skips the rest of a row.
    total = 0.0
    rows_done = 0
    for row in xs:
        if row[0] < 0:
            continue
        for v in row:
            if v > 5:
                break
            total = total + v
        rows_done = rows_done + 1
    return total, rows_done


def while_with_else(x):
    i = 0
    while i < 5:
        if x * i > 6:
            break
        i = i + 1
    else:
        x = -x
    return x, i


def for_with_else(xs):
    found = -1.0
    for v in xs:
        if v > 2:
            found = v
            break
    else:
        found = xs.sum()
    return found


def static_loop_break(x):
    out = x
    for k in range(10):  # static: unrolled; the break is decided while compiling
        if k == 3:
            break
        out = out + k
    return out


def temporaries_after_continue(xs):
    total = 0.0
    for v in xs:
        if v < 0:
            continue
        doubled = v * 2  # a temporary of the guarded rest of the body
        total = total + doubled
    return total


F = np.float32
ROWS = np.array([[1.0, 2.0, 9.0], [-1.0, 7.0, 0.5], [3.0, 0.5, 1.0], [6.0, 1.0, 1.0]], F)
CASES = [
    (while_true_break, [(F(1.0),), (F(11.0),), (F(0.3),)]),
    (while_break_mid_body, [(F(1.0), F(8.0)), (F(0.1), F(100.0)), (F(2.0), F(-1.0))]),
    (while_continue, [(np.int32(n),) for n in (0, 1, 6, 9)]),
    (for_range_break, [(np.array([1.0, 2.0, -1.0, 4.0], F), np.int32(n)) for n in (0, 2, 4)]
     + [(np.array([1.0, 2.0, 3.0, 4.0], F), np.int32(4))]),
    (for_range_continue, [(np.array([1.0, -2.0, 3.0, -4.0, 5.0], F), np.int32(n)) for n in (0, 3, 5)]),
    (for_array_break_and_continue, [(ROWS, F(lim)) for lim in (5.0, 15.0, 100.0)]),
    (nested_depth_two, [(np.array([1.0, -3.0, 2.0, -1.0, 3.0, 4.0], F), np.int32(n)) for n in (2, 4, 6)]),
    (nested_loops, [(ROWS,), (-ROWS,)]),
    (while_with_else, [(F(1.0),), (F(3.0),), (F(0.0),)]),
    (for_with_else, [(np.array([0.5, 3.0, 1.0], F),), (np.array([0.5, 1.0, 1.5], F),)]),
    (static_loop_break, [(F(1.0),)]),
    (temporaries_after_continue, [(np.array([1.0, -2.0, 3.0], F),)]),
]


def _check(got, want):
    got_leaves, want_leaves = kiln.tree_util.tree_leaves(got), kiln.tree_util.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn,arg_sets", CASES, ids=[c[0].__name__ for c in CASES])
def test_jit_and_eager_agree_with_plain_python(fn, arg_sets):
    jitted = kiln.jit(fn)
    for args in arg_sets:
        want = fn(*args)  # plain Python on NumPy values
        _check(jitted(*args), want)
        _check(fn(*(jnp.asarray(a) for a in args)), want)  # concrete kiln arrays: plain Python


def test_array_conditions_stage_loops_not_python():
    # With an array trip count / condition the loop is one staged construct, not unrolled.
    ir = kiln.make_ir(for_range_break)(np.ones(4, F), np.int32(4))
    assert [e.prim.name for e in ir.eqns if e.prim.name != "convert_element_type"] == ["while"]
    ir = kiln.make_ir(for_array_break_and_continue)(ROWS, F(5.0))
    assert "scan" in [e.prim.name for e in ir.eqns]


def test_static_loops_keep_python_semantics():
    ir = kiln.make_ir(static_loop_break)(F(1.0))
    assert [e.prim.name for e in ir.eqns] == ["add", "add"]  # k = 1, 2 (+ 0 is simplified); no flag, no cond

    def from_a_generator(x):
        import itertools
        for k in itertools.count():  # endless: only a real break stops it
            if k == 4:
                break
            x = x + 1.0
        return x
    assert float(kiln.jit(from_a_generator)(1.0)) == 5.0


def test_break_after_the_flag_becomes_an_array_in_a_static_loop():
    def first_big(x):
        out = 0.0
        for k in range(5):  # static range, array break condition: every later step guarded
            out = out + x * k
            if out > 3:
                break
        return out
    for x in (0.1, 0.5, 2.0):
        np.testing.assert_allclose(kiln.jit(first_big)(F(x)), first_big(F(x)), rtol=1e-6)


def _central_difference(f, x, eps=1e-3):
    x = np.float64(x)
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def static_range_under_grad(x):
    total = 0.0
    for i in range(6):
        if total > 2.0:
            break
        if i == 1:
            continue
        total = total + jnp.sin(x * i) + x
    return total


def scan_under_grad(x, xs):
    acc = 0.0
    for v in xs:
        if v < 0:
            continue
        acc = acc + x * v + jnp.sin(x * v)
        if acc > 4.0:
            break
    return acc


def test_grad_through_static_range_with_break_and_continue():
    def plain(x):
        total = 0.0
        for i in range(6):
            if total > 2.0:
                break
            if i == 1:
                continue
            total = total + np.sin(x * i) + x
        return total
    for x in (0.2, 0.45, 0.9):
        want = _central_difference(plain, x)
        np.testing.assert_allclose(kiln.grad(static_range_under_grad)(F(x)), want, rtol=2e-3)
        np.testing.assert_allclose(kiln.jit(kiln.grad(static_range_under_grad))(F(x)), want, rtol=2e-3)


def test_grad_through_a_scan_with_break_and_continue():
    xs = np.array([1.0, -1.0, 2.0, 0.5, 3.0], F)

    def plain(x):
        acc = 0.0
        for v in xs.astype(np.float64):
            if v < 0:
                continue
            acc = acc + x * v + np.sin(x * v)
            if acc > 4.0:
                break
        return acc
    for x in (0.3, 0.7, 1.5):
        want = _central_difference(plain, x)
        np.testing.assert_allclose(kiln.grad(scan_under_grad)(F(x), xs), want, rtol=2e-3)
        np.testing.assert_allclose(kiln.jit(kiln.grad(scan_under_grad))(F(x), xs), want, rtol=2e-3)


def test_forward_mode_through_while_with_break():
    for x, limit in ((1.0, 8.0), (0.5, 3.0)):
        (total, i), (total_dot, _) = kiln.jvp(while_break_mid_body, (F(x), F(limit)), (F(1.0), F(0.0)))
        want_total, want_i = while_break_mid_body(F(x), F(limit))
        np.testing.assert_allclose(total, want_total, rtol=1e-6)
        assert int(i) == want_i
        # total = x * (0 + 1 + ... + i): its derivative in x is that sum.
        np.testing.assert_allclose(total_dot, sum(range(want_i + 1)), rtol=1e-6)


def test_vmap_with_a_batched_break_condition():
    xs = np.array([0.3, 1.0, 6.0, 11.0], F)
    np.testing.assert_allclose(kiln.vmap(while_true_break)(xs), [while_true_break(x) for x in xs], rtol=1e-6)
    batch = np.array([[1.0, 2.0, -1.0, 4.0], [1.0, 2.0, 3.0, 4.0], [-1.0, 5.0, 5.0, 5.0]], F)
    got = kiln.vmap(for_range_break, in_axes=(0, None))(batch, np.int32(4))
    np.testing.assert_allclose(got, [for_range_break(row, 4) for row in batch], rtol=1e-6)
    limits = np.array([5.0, 15.0, 100.0], F)
    got = kiln.vmap(for_array_break_and_continue, in_axes=(None, 0))(ROWS, limits)
    np.testing.assert_allclose(got, [for_array_break_and_continue(ROWS, lim) for lim in limits], rtol=1e-6)
    grads = kiln.vmap(kiln.grad(static_range_under_grad))(np.array([0.2, 0.9], F))
    np.testing.assert_allclose(grads, [kiln.grad(static_range_under_grad)(F(x)) for x in (0.2, 0.9)], rtol=1e-6)


def test_an_error_of_a_loop_names_its_first_line():
    # Code generated for a statement of several lines stays on its first line (CPython would
    # put a method call on the line where the statement ends).
    def changes_type(x):
        total = 0
        while x > 0:
            x = x - 1
            total = jnp.zeros(3)
        return total
    with pytest.raises(kiln.CompileError, match="changes type") as info:
        kiln.jit(changes_type)(F(2.0))
    assert f"test_python_break_continue.py:{line_of(changes_type, 'while x > 0')}:" in str(info.value)


def continue_in_scan(xs):
    total = 0.0
    for v in xs:
        if v < 0:
            continue
        total = total + v
    return total


def test_golden_ir_of_a_continue():
    program = kiln.make_ir(continue_in_scan)(np.ones(3, F))
    assert str(program) == GOLDEN_CONTINUE


GOLDEN_CONTINUE = (
    '{ lambda ; a:f32[3]. let\n'
    '    b:f32[] = convert_element_type[new_dtype=float32 weak_type=False] 0.0:f32[]\n'
    '    c:f32[] = scan[\n'
    '      body={ lambda ; d:f32[] e:f32[]. let\n'
    '          f:bool[] = lt e 0.0:f32[]\n'
    '          g:i32[] = convert_element_type[new_dtype=int32 weak_type=False] f\n'
    '          h:bool[] = cond[\n'
    '            branches=(\n'
    '              { lambda ; . let  in (False:bool[],) }\n'
    '              { lambda ; . let  in (True:bool[],) }\n'
    '            )\n'
    '          ] g\n'
    '          i:bool[] = not h\n'
    '          j:i32[] = convert_element_type[new_dtype=int32 weak_type=False] i\n'
    '          k:f32[] = cond[\n'
    '            branches=(\n'
    '              { lambda ; l:f32[] m:f32[]. let  in (l,) }\n'
    '              { lambda ; n:f32[] o:f32[]. let\n'
    '                  p:f32[] = convert_element_type[\n'
    '                    new_dtype=float32\n'
    '                    weak_type=False\n'
    '                  ] n\n'
    '                  q:f32[] = add p o\n'
    '                in (q,) }\n'
    '            )\n'
    '          ] j d e\n'
    '        in (k,) }\n'
    '      length=3\n'
    '      n_carry=1\n'
    '      n_extras=0\n'
    '      reverse=False\n'
    '    ] b a\n'
    '  in (c,) }'
)
