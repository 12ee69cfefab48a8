"""An early `return` inside a Python loop whose condition or trip count is an array value.

The frontend rewrites it as AutoGraph does: the `return` sets a `did return` flag and a
returned-value slot in the loop state and breaks out of the loop (the break machinery of
test_python_break_continue.py), and `if did_return: return value` follows the loop. Every function
runs as plain Python on NumPy values (the reference), under kiln.jit and eagerly on kiln arrays;
then under grad (finite differences) and vmap (a Python loop over the batch). Errors name the
user's file and the lines of the returns.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as jnp

from frontend_helpers.check import line_of


def first_above(xs, t):
    for v in xs:
        if v > t:
            return v
    return t


def find_index(x, n, t):
    for i in range(n):  # n is an array value: a while loop that also stops on the flag
        if x[i] > t:
            return i
    return -1


def while_search(x):
    i = 0
    while i < 10:
        if x * i > 5:
            return x * i, i
        i = i + 1
    return x, -1


def while_true_no_final_return(x):
    while True:  # left only by returning: no value is needed after the loop
        x = x * 2
        if x > 10:
            return x


def nested_in_ifs(x, n):
    total = 0.0
    for i in range(n):
        if x[i] > 0:
            if total > 4:
                return total * 10
            total = total + x[i]
        elif x[i] < -2:
            return -total
        else:
            total = total - 1
    return total


def nested_loops(xs, limit):
    total = 0.0
    for row in xs:
        for v in row:
            if v > limit:
                return total, v  # leaves both loops
            total = total + v
    return total, -1.0


def loop_inside_if(xs, t):
    if xs.sum() > 0:
        for v in xs:
            if v > t:
                return v * 2
    return t


def with_break_and_continue(xs, t):
    acc = 0.0
    for v in xs:
        if v < 0:
            continue
        if v > 100:
            break
        acc = acc + v
        if acc > t:
            return acc
    return -acc


def returning_else(xs):
    for v in xs:
        if v > 2:
            return v
    else:
        return xs.sum()


def returning_else_and_break(xs):
    for v in xs:
        if v > 5:
            break
        if v > 1:
            return v
    else:
        return -1.0
    return 0.0


def returns_a_dict(xs):
    total = xs[0] * 0
    for v in xs:
        if v < 0:
            return {"value": v, "found": True}
        total = total + v
    return {"value": total, "found": False}


def two_loops(xs, ys):
    for v in xs:
        if v > 3:
            return v
    for w in ys:
        if w < -3:
            return w
    return 0.0


def one_line_if(xs, t):
    for v in xs:
        if v > t: return v - t
    return t


def static_loop_array_condition(x):
    out = x
    for k in range(5):  # static: unrolled; the condition is an array value
        out = out + x * k
        if out > 3:
            return out * 10
    return out


def static_loop_static_return(x):
    for k in range(10):  # static: unrolled and decided while compiling
        if k == 3:
            return x + k
    return x


F = np.float32
V = np.array([0.5, 3.0, 1.0, 4.0], F)
ROWS = np.array([[1.0, 2.0, 9.0], [-1.0, 7.0, 0.5]], F)
CASES = [
    (first_above, [(V, F(t)) for t in (0.1, 2.0, 3.5, 10.0)]),
    (find_index, [(V, np.int32(n), F(t)) for n, t in ((4, 2.5), (2, 2.5), (0, 0.0), (4, 9.0))]),
    (while_search, [(F(1.0),), (F(0.1),), (F(3.0),)]),
    (while_true_no_final_return, [(F(1.0),), (F(11.0),), (F(0.3),)]),
    (nested_in_ifs, [(np.array([1.0, 2.0, 3.0, -1.0, 5.0], F), np.int32(n)) for n in (2, 4, 5)]
     + [(np.array([1.0, -3.0, 2.0], F), np.int32(3)), (np.array([1.0, -1.0, 2.0], F), np.int32(3))]),
    (nested_loops, [(ROWS, F(lim)) for lim in (1.5, 5.0, 8.0, 100.0)]),
    (loop_inside_if, [(V, F(2.0)), (V, F(9.0)), (-V, F(2.0))]),
    (with_break_and_continue, [(np.array([1.0, -1.0, 2.0, 200.0, 5.0], F), F(t)) for t in (0.5, 2.5, 50.0)]),
    (returning_else, [(V,), (V * 0.1,)]),
    (returning_else_and_break, [(np.array(a, F),) for a in ([0.5, 7.0, 2.0], [0.5, 2.0, 7.0], [0.5, 0.2], [9.0])]),
    (returns_a_dict, [(V,), (np.array([1.0, -2.0, 3.0], F),)]),
    (two_loops, [(V, -V), (V * 0.1, -V), (V * 0.1, -V * 0.1)]),
    (one_line_if, [(V, F(1.0)), (V, F(5.0))]),
    (static_loop_array_condition, [(F(0.1),), (F(1.0),), (F(-1.0),)]),
    (static_loop_static_return, [(F(1.0),)]),
]


def _check(got, want):
    if isinstance(want, list):  # per-example results of a batch
        want = kiln.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *want)
    got_leaves, got_tree = kiln.tree_util.tree_flatten(got)
    want_leaves, want_tree = kiln.tree_util.tree_flatten(want)
    assert got_tree == want_tree, (got_tree, want_tree)
    for g, w in zip(got_leaves, want_leaves):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn,arg_sets", CASES, ids=[c[0].__name__ for c in CASES])
def test_jit_and_eager_agree_with_plain_python(fn, arg_sets):
    jitted = kiln.jit(fn)
    for args in arg_sets:
        want = fn(*args)  # plain Python on NumPy values
        _check(jitted(*args), want)
        _check(fn(*(jnp.asarray(a) for a in args)), want)  # concrete kiln arrays: plain Python


def test_array_loops_stay_one_staged_loop():
    assert "scan" in _prims(first_above, V, F(1.0))
    assert "while" in _prims(find_index, V, np.int32(4), F(1.0))
    assert "while" in _prims(while_search, F(1.0))
    # Returning is the only way out of `while True:`: nothing to choose after the loop. (The
    # first iteration runs while compiling, as for `while True:` ... `break`: the test is static
    # until the flag is an array value.)
    assert _prims(while_true_no_final_return, F(1.0))[-1] == "while"


def _prims(fn, *args):
    return [e.prim.name for e in kiln.make_ir(fn)(*args).eqns if e.prim.name != "convert_element_type"]


def test_static_loops_keep_python_semantics():
    # A static return in a static loop is decided while compiling: no flag, no cond.
    assert [e.prim.name for e in kiln.make_ir(static_loop_static_return)(F(1.0)).eqns] == ["add"]

    def from_a_generator(x):
        import itertools
        for k in itertools.count():  # endless: only the return stops it
            if k == 4:
                return x + k
            x = x + 1.0
    assert float(kiln.jit(from_a_generator)(1.0)) == 9.0

    def returns_a_string_statically(x):
        for k in range(3):
            if k == 1:
                return "found", x * k  # not an array: fine where the choice is static
        return "none", x

    def value_of(x):
        label, value = returns_a_string_statically(x)
        assert label == "found"
        return value
    assert float(kiln.jit(value_of)(F(2.0))) == 2.0


def test_golden_ir():
    assert str(kiln.make_ir(first_above)(np.ones(3, F), F(0.5))) == GOLDEN_FIRST_ABOVE


def test_golden_show_names_the_users_lines():
    text = kiln.show(first_above, np.ones(3, F), F(0.5))
    loop, test = line_of(first_above, "for v in xs"), line_of(first_above, "if v > t")
    assert text == GOLDEN_SHOW.format(loop=loop, test=test)


# -- grad and vmap ------------------------------------------------------------------------
def grow(x):
    acc = x
    i = 0
    while i < 20:
        acc = acc * 1.3 + 0.1 * jnp.sin(acc)
        if acc > 5.0:
            return acc * x
        i = i + 1
    return acc


def grow_plain(x):
    acc = x
    i = 0
    while i < 20:
        acc = acc * 1.3 + 0.1 * np.sin(acc)
        if acc > 5.0:
            return acc * x
        i = i + 1
    return acc


def scan_return(x, xs):
    acc = 0.0
    for v in xs:
        acc = acc + x * v + jnp.sin(x * v)
        if acc > 4.0:
            return acc * x
    return acc


def _central_difference(f, x, eps=1e-4):
    x = np.float64(x)
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def test_grad_through_a_while_with_a_return():
    for x in (0.3, 0.8, 1.7, -0.5):
        want = _central_difference(grow_plain, x)
        np.testing.assert_allclose(kiln.grad(grow)(F(x)), want, rtol=2e-3)
        np.testing.assert_allclose(kiln.jit(kiln.grad(grow))(F(x)), want, rtol=2e-3)
        np.testing.assert_allclose(kiln.grad(kiln.jit(grow))(F(x)), want, rtol=2e-3)


def test_grad_through_a_scan_with_a_return():
    xs = np.array([1.0, 2.0, 0.5, 3.0], F)

    def plain(x):
        acc = 0.0
        for v in xs.astype(np.float64):
            acc = acc + x * v + np.sin(x * v)
            if acc > 4.0:
                return acc * x
        return acc
    for x in (0.2, 0.5, 1.3):
        want = _central_difference(plain, x)
        np.testing.assert_allclose(kiln.grad(scan_return)(F(x), xs), want, rtol=2e-3)
        np.testing.assert_allclose(kiln.jit(kiln.grad(scan_return))(F(x), xs), want, rtol=2e-3)


def test_forward_mode_through_a_while_with_a_return():
    for x in (0.3, 1.7):
        value, tangent = kiln.jvp(grow, (F(x),), (F(1.0),))
        np.testing.assert_allclose(value, grow_plain(np.float64(x)), rtol=1e-5)
        np.testing.assert_allclose(tangent, _central_difference(grow_plain, x), rtol=2e-3)


def test_vmap_with_a_batched_return_condition():
    xs = np.array([0.3, 0.8, 1.7, -0.5], F)
    _check(kiln.vmap(grow)(xs), [grow(x) for x in xs])
    _check(kiln.vmap(kiln.grad(grow))(xs), [kiln.grad(grow)(x) for x in xs])
    _check(kiln.vmap(while_true_no_final_return)(np.array([0.3, 1.0, 11.0], F)),
           [while_true_no_final_return(x) for x in np.array([0.3, 1.0, 11.0], F)])
    vs = np.array([1.0, 2.0, 0.5, 3.0], F)
    _check(kiln.vmap(scan_return, in_axes=(0, None))(xs, vs), [scan_return(x, vs) for x in xs])
    batch = np.array([[1, 2, 5, 3], [0, 0, 0, 0], [9, 1, 1, 1]], F)
    got = kiln.vmap(find_index, in_axes=(0, None, None))(batch, np.int32(4), F(2.5))
    _check(got, [find_index(b, 4, F(2.5)) for b in batch])
    ts = np.array([0.5, 2.5, 4.0, 10.0], F)
    _check(kiln.vmap(find_index, in_axes=(None, None, 0))(batch[0], np.int32(4), ts),
           [find_index(batch[0], 4, t) for t in ts])
    limits = np.array([1.5, 5.0, 8.0, 100.0], F)
    _check(kiln.vmap(nested_loops, in_axes=(None, 0))(ROWS, limits), [nested_loops(ROWS, lim) for lim in limits])


# -- errors -------------------------------------------------------------------------------
def shape_differs(xs):
    for v in xs:
        if v > 1:
            return xs
    return xs.sum()


def structure_differs(xs):
    for v in xs:
        if v > 1:
            return v, v
    return xs[0]


def dtype_differs(xs, n):
    for i in range(n):
        if xs[i] > 5:
            return i
        if xs[i] < -5:
            return xs[i]
    return 0


def no_final_return(xs):
    for v in xs:
        if v > 1:
            return v


def returns_a_string(xs):
    for v in xs:
        if v > 1:
            return "big"
    return "small"


@pytest.mark.parametrize("fn,args,types,where", [
    (shape_differs, (V,), "f32[4] and f32[]", "for v in xs"),
    (structure_differs, (V,), "(f32[], f32[]) and f32[]", "for v in xs"),
    # The second return disagrees with the first already inside the loop, at its `if`.
    (dtype_differs, (V, np.int32(4)), "f32[] and i32[]", "if xs[i] < -5"),
    (no_final_return, (V,), "f32[] and None (it can also end without a `return`", "for v in xs"),
], ids=lambda x: getattr(x, "__name__", None))
def test_returns_of_different_types_name_the_lines(fn, args, types, where):
    with pytest.raises(kiln.CompileError) as info:
        kiln.jit(fn)(*args)
    message = str(info.value)
    assert f"returns values of different types, {types}" in message
    lines = _return_lines(fn)
    if len(lines) == 1:
        assert f"(its `return` is at line {lines[0]})" in message
    else:
        assert f"(its `return`s are at lines {', '.join(map(str, lines[:-1]))} and {lines[-1]})" in message
    assert f"test_python_early_return.py:{line_of(fn, where)}:" in message  # where an array decides


def _return_lines(fn):
    import inspect
    source, start = inspect.getsourcelines(fn)
    return [start + i for i, line in enumerate(source) if line.strip().startswith("return ")]


def test_a_return_that_is_not_an_array_names_the_lines():
    with pytest.raises(kiln.CompileError, match="gives a str") as info:
        kiln.jit(returns_a_string)(V)
    lines = line_of(returns_a_string, 'return "big"'), line_of(returns_a_string, 'return "small"')
    assert f"lines {lines[0]} and {lines[1]}" in str(info.value)
    assert f"test_python_early_return.py:{line_of(returns_a_string, 'if v > 1')}:" in str(info.value)


GOLDEN_FIRST_ABOVE = (
    '{ lambda ; a:f32[3] b:f32[]. let\n'
    '    c:f32[] d:bool[] e:bool[] = scan[\n'
    '      body={ lambda ; f:f32[] g:f32[] h:bool[] i:bool[] j:f32[]. let\n'
    '          k:bool[] = not i\n'
    '          l:i32[] = convert_element_type[new_dtype=int32 weak_type=False] k\n'
    '          m:f32[] n:bool[] o:bool[] = cond[\n'
    '            branches=(\n'
    '              { lambda ; p:f32[] q:bool[] r:bool[] s:f32[] t:f32[]. let\n'
    '                  \n'
    '                in (p, q, r) }\n'
    '              { lambda ; u:f32[] v:bool[] w:bool[] x:f32[] y:f32[]. let\n'
    '                  z:bool[] = gt x y\n'
    '                  ba:i32[] = convert_element_type[\n'
    '                    new_dtype=int32\n'
    '                    weak_type=False\n'
    '                  ] z\n'
    '                  bb:f32[] bc:bool[] bd:bool[] = cond[\n'
    '                    branches=(\n'
    '                      { lambda ; be:f32[] bf:bool[] bg:bool[] bh:f32[]. let\n'
    '                          \n'
    '                        in (be, bf, bg) }\n'
    '                      { lambda ; bi:f32[] bj:bool[] bk:bool[] bl:f32[]. let\n'
    '                          \n'
    '                        in (bl, True:bool[], True:bool[]) }\n'
    '                    )\n'
    '                  ] ba u v w x\n'
    '                in (bb, bc, bd) }\n'
    '            )\n'
    '          ] l g h i j f\n'
    '        in (m, n, o) }\n'
    '      length=3\n'
    '      n_carry=3\n'
    '      n_extras=1\n'
    '      reverse=False\n'
    '    ] b 0.0:f32[] False:bool[] False:bool[] a\n'
    '    bm:i32[] = convert_element_type[new_dtype=int32 weak_type=False] d\n'
    '    bn:f32[] = cond[\n'
    '      branches=(\n'
    '        { lambda ; bo:f32[] bp:f32[]. let  in (bo,) }\n'
    '        { lambda ; bq:f32[] br:f32[]. let  in (br,) }\n'
    '      )\n'
    '    ] bm b c\n'
    '  in (bn,) }'
)

GOLDEN_SHOW = '''\
def first_above(a, b):
    # test_python_early_return.py:{loop}: for v in xs:
    def body_1(a, b, c, d, e):
        # test_python_early_return.py:{loop}: for v in xs:
        f = not_(d)
        g = convert_element_type(f, new_dtype=np.int32, weak_type=False)
        def branches_1(a, b, c, d, e):
            return (a, b, c)
        def branches_2(a, b, c, d, e):
            # test_python_early_return.py:{test}: if v > t:
            f = gt(d, e)
            g = convert_element_type(f, new_dtype=np.int32, weak_type=False)
            def branches_1(a, b, c, d):
                return (a, b, c)
            def branches_2(a, b, c, d):
                return (d, np.bool(True), np.bool(True))
            (h, i, j) = cond(g, a, b, c, d, branches=(branches_1, branches_2))
            return (h, i, j)
        (h, i, j) = cond(g, b, c, d, e, a, branches=(branches_1, branches_2))
        return (h, i, j)
    (c, d, e) = scan(b, np.float32(0.0), np.bool(False), np.bool(False), a, body=body_1, n_extras=1, n_carry=3, length=3, reverse=False)
    f = convert_element_type(d, new_dtype=np.int32, weak_type=False)
    def branches_2(a, b):
        return (a,)
    def branches_3(a, b):
        return (b,)
    (g,) = cond(f, b, c, branches=(branches_2, branches_3))
    return (g,)
'''
