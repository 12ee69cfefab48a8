"""The frontend reads source: IR locations, printing, tracebacks, and functions without source."""
import re
import traceback

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln.printer import pp_program

from frontend_helpers import other_module
from frontend_helpers.check import assert_jit_matches, line_of

X = np.arange(6, dtype=np.float32).reshape(2, 3)
Y = np.ones((3, 2), np.float32)


def located(x, y):
    a = x * 2.0
    b = jnp.sin(a)
    return b @ y


def _expected_loc(fn, text):
    """(line, 0-based column) of `text` in fn's source."""
    line = line_of(fn, text)
    with open(__file__, encoding="utf-8") as f:
        return line, f.read().splitlines()[line - 1].index(text)


def test_equations_carry_the_users_file_line_and_column():
    program = kiln.make_ir(located)(X, Y)
    by_prim = {e.prim.name: e.loc for e in program.eqns}
    assert set(by_prim) == {"mul", "sin", "dot_general"}
    for prim, text in [("mul", "x * 2.0"), ("sin", "jnp.sin(a)"), ("dot_general", "b @ y")]:
        loc = by_prim[prim]
        assert loc.file == __file__
        assert (loc.line, loc.col) == _expected_loc(located, text), prim
        assert loc.function == "located"


def test_program_repr_prints_the_ir_and_locs_on_request():
    program = kiln.make_ir(located)(X, Y)
    text = repr(program)
    assert text == pp_program(program)
    assert text.startswith("{ lambda ; a:f32[2,3] b:f32[3,2]. let")
    assert "c:f32[2,3] = mul a 2.0:f32[]" in text
    assert "d:f32[2,3] = sin c" in text
    assert __file__ not in text
    with_locs = pp_program(program, locs=True)
    line, col = _expected_loc(located, "jnp.sin(a)")
    # As JAX prints source_info: file:line:column (0-based column) and the function.
    assert re.search(rf"d:f32\[2,3\] = sin c +# {re.escape(__file__)}:{line}:{col} \(located\)\n",
                     with_locs), with_locs


def test_lambda_location_and_two_lambdas_on_one_line():
    add, mul = (lambda x: x + 1.0), (lambda x: x * 3.0)
    assert [e.prim.name for e in kiln.make_ir(add)(X).eqns] == ["add"]
    assert [e.prim.name for e in kiln.make_ir(mul)(X).eqns] == ["mul"]
    loc = kiln.make_ir(mul)(X).eqns[0].loc
    with open(__file__, encoding="utf-8") as f:
        source_line = f.read().splitlines()[loc.line - 1]
    assert source_line[loc.col:].startswith("x * 3.0")
    assert_jit_matches(add, X)
    assert_jit_matches(mul, X)


def test_multiline_expression_and_non_ascii_names_keep_columns():
    def f(x):
        σ = jnp.std(x)
        α = (σ +
             jnp.cos(x))
        return α
    program = kiln.make_ir(f)(X)
    cos = next(e for e in program.eqns if e.prim.name == "cos")
    line, col = _expected_loc(f, "jnp.cos(x)")
    assert (cos.loc.line, cos.loc.col) == (line, col)
    add = next(e for e in program.eqns if e.prim.name == "add")
    assert (add.loc.line, add.loc.col) == _expected_loc(f, "σ +")
    assert_jit_matches(f, X)


def test_locations_inside_helpers_of_other_modules_point_at_them():
    program = kiln.make_ir(lambda x: other_module.scaled_tanh(x))(X)
    tanh = next(e for e in program.eqns if e.prim.name == "tanh")
    assert tanh.loc.file == other_module.__file__
    assert tanh.loc.line == line_of(other_module.scaled_tanh, "jnp.tanh")
    assert tanh.loc.function == "scaled_tanh"


def raises_in_user_code(x):
    y = x + 1.0
    if y.shape[0] == 2:
        raise ValueError("rows must not be 2")
    return y


def test_errors_raised_by_user_code_show_the_users_line():
    with pytest.raises(ValueError, match="rows must not be 2") as info:
        kiln.jit(raises_in_user_code)(X)
    last = traceback.extract_tb(info.value.__traceback__)[-1]
    assert (last.filename, last.lineno) == (__file__, line_of(raises_in_user_code, "raise ValueError"))
    assert last.line.strip() == 'raise ValueError("rows must not be 2")'


def test_errors_inside_helpers_show_every_user_frame():
    def outer(x):
        return other_module.bad_shapes(x)
    with pytest.raises((ValueError, TypeError)) as info:
        kiln.jit(outer)(X)
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(info.value.__traceback__)]
    assert (__file__, line_of(outer, "other_module.bad_shapes")) in frames
    assert (other_module.__file__, line_of(other_module.bad_shapes, "x + x.T")) in frames


def test_function_without_source_is_reported_as_such():
    namespace = {}
    exec("def made_by_exec(x):\n    return x + 1\n", {"__name__": "made"}, namespace)
    with pytest.raises(kiln.CompileError, match="source of made_by_exec cannot be retrieved"):
        kiln.jit(namespace["made_by_exec"])(1.0)
    with pytest.raises(kiln.CompileError, match="exec"):
        kiln.jit(eval("lambda x: x * 2"))(1.0)


def test_exec_with_a_real_file_name_reads_that_file(tmp_path):
    path = tmp_path / "execd.py"
    path.write_text("def double(x):\n    return x * 2\n")
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert float(kiln.jit(namespace["double"])(3.0)) == 6.0
    assert kiln.make_ir(namespace["double"])(3.0).eqns[0].loc.file == str(path)


class Scaler:
    """A method using a private (name-mangled) attribute."""

    def __init__(self):
        self.__factor = 3.0

    def apply(self, x):
        return x * self.__factor


def test_private_names_in_methods_are_mangled_as_python_does():
    scaler = Scaler()
    assert_jit_matches(lambda x: scaler.apply(x), X)
