"""The reference backend: `kiln.show` text parses, names the user's lines, and runs.

Executing the text (in `reference.namespace(program)`, called with `reference.constants`
first) must give exactly the numbers of the jit call; a primitive without a NumPy
implementation fails with MissingRuleError naming it and the transform.
"""
from __future__ import annotations

import ast
import inspect
import os

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln import lax
from kiln.backends import reference
from kiln.primitives import MissingRuleError, bind, primitive, shape_rules

X = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
Y = np.arange(4, dtype=np.float32)


def run_text(text, fn, *args):
    """Execute `kiln.show`'s text as a user would, and call the function it defines."""
    program = kiln.make_ir(fn)(*args)
    namespace = reference.namespace(program)
    exec(compile(text, "<show>", "exec"), namespace)
    name = ast.parse(text).body[0].name
    return namespace[name](*reference.constants(program), *args)


def quickstart(x, y):
    return jnp.dot(x + 1, y + 1)


def with_constants(x, y):
    z = x * np.array([1.0, -2.0, 3.0, 0.5], np.float32) + 2
    w = jnp.where(z > 0, z, -z)
    return w.sum(axis=0), {"z": z, "n": jnp.arange(4) * y}


def special_literals(x, y):
    return x * np.nan + np.inf, x - (-0.0), jnp.maximum(x, -np.inf), (x > 0) & True, y.astype(jnp.int8) - 3


def multiple_results(x, y):
    return jnp.sort(x, axis=1), jnp.argsort(-x, axis=0), jnp.cumsum(y)


def control_flow(x, y):
    carry, ys = lax.scan(lambda c, v: (c + v.sum(), c * v), 0.0, x)
    picked = lax.cond(carry > 0, lambda a: a * 2.0, lambda a: a - 1.0, y)
    return carry, ys, picked


FUNCTIONS = [quickstart, with_constants, special_literals, multiple_results, control_flow]


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_show_parses_names_lines_and_runs(fn):
    text = kiln.show(fn, X, Y)
    tree = ast.parse(text)
    assert isinstance(tree.body[0], ast.FunctionDef)
    # Every line of the body that stages something is named, with its text.
    lines, first = inspect.getsourcelines(fn)
    file = os.path.basename(__file__)
    for offset, source in enumerate(lines[1:], start=1):
        if "(" in source:  # a line that calls something stages equations
            assert f"# {file}:{first + offset}: {source.strip()}" in text, text
    expected = kiln.jit(fn)(X, Y)
    got = run_text(text, fn, X, Y)
    flat_expected = kiln.tree_util.tree_leaves(expected)
    assert len(got) == len(flat_expected)
    for g, e in zip(got, flat_expected):
        np.testing.assert_array_equal(np.asarray(g).astype(e.dtype), np.asarray(e))


def test_quickstart_text():
    text = kiln.show(quickstart, X, Y)
    line = inspect.getsourcelines(quickstart)[1] + 1
    assert text == (
        "def quickstart(a, b):\n"
        f"    # {os.path.basename(__file__)}:{line}: return jnp.dot(x + 1, y + 1)\n"
        "    c = add(a, np.float32(1.0))\n"
        "    d = add(b, np.float32(1.0))\n"
        "    e = dot_general(c, d, dimension_numbers=(((1,), (0,)), ((), ())), preferred_element_type=np.float32)\n"
        "    return (e,)\n")


def test_constants_are_described():
    text = kiln.show(with_constants, X, Y)
    assert "# a: constant f32[4] = [ 1.  -2.   3.   0.5]" in text
    assert text.splitlines()[0].startswith("def with_constants(a, b, c")


def test_nested_programs_become_functions():
    text = kiln.show(control_flow, X, Y)
    tree = ast.parse(text)
    nested = [n.name for n in ast.walk(tree.body[0]) if isinstance(n, ast.FunctionDef)][1:]
    assert len(nested) == 3 and "scan(" in text and "cond(" in text


def test_literal_expressions_round_trip():
    import libcst as cst
    for dtype in (np.float16, np.float32, np.float64):
        info = np.finfo(dtype)
        for value in (0.1, -0.0, 1e-30, info.tiny, info.smallest_subnormal, info.max, -info.max,
                      np.inf, -np.inf, np.pi, 1 / 3, 123456789.0):
            with np.errstate(over="ignore"):  # 123456789.0 is inf in float16
                v = dtype(value)
            code = cst.Module([]).code_for_node(reference.value_expr(v))
            back = eval(code, {"np": np})
            assert type(back) is type(v) and back.tobytes() == v.tobytes(), (dtype, value, code)
        assert np.isnan(eval(cst.Module([]).code_for_node(reference.value_expr(dtype(np.nan))), {"np": np}))
    for v in (np.int8(-3), np.uint32(7), np.bool_(True), True, -5, 2.5, (1, (2,)), "name", None):
        code = cst.Module([]).code_for_node(reference.value_expr(v))
        assert eval(code, {"np": np}) == v and type(eval(code, {"np": np})) is type(v)


def test_many_values_never_shadow_functions_or_keywords():
    # Built by hand: 400 values take the printer's names `if` (213), `in`, `is`, `np` (353), `or`.
    from kiln.ir import Eqn, Program, ShapedArray, Var
    from kiln.primitives import registry
    aval = ShapedArray((4,), np.dtype(np.float32))
    values = [Var(aval) for _ in range(401)]
    eqns = tuple(Eqn(registry["sin"], (a,), {}, (b,)) for a, b in zip(values, values[1:]))
    program = Program((values[0],), eqns, (values[-1],))
    text = reference.python_source(program, "chain")
    ast.parse(text)
    assert "    if = " not in text and "    np = " not in text and "    or = " not in text
    expected = Y
    for _ in range(400):
        expected = np.sin(expected)
    np.testing.assert_allclose(reference.compile_program(program, "chain")(Y)[0], expected, rtol=1e-6)


undefined_p = primitive("test_reference_undefined")
shape_rules[undefined_p] = lambda x: [x]  # a shape rule only: no NumPy implementation


def uses_undefined(x):
    return bind(undefined_p, x) + 1


def test_missing_rule_names_primitive_and_transform():
    with pytest.raises(MissingRuleError) as info:
        kiln.jit(uses_undefined, backend="reference")(Y)
    assert "test_reference_undefined" in str(info.value)
    assert "reference implementation" in str(info.value)
    # Staging, printing and showing do not need the implementation.
    assert "test_reference_undefined a" in str(kiln.make_ir(uses_undefined)(Y))
    assert "test_reference_undefined(a)" in kiln.show(uses_undefined, Y)
    with pytest.raises(MissingRuleError, match="test_reference_undefined"):
        reference.namespace(kiln.make_ir(uses_undefined)(Y))
