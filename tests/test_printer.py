"""The IR printer: golden texts of `kiln.make_ir`, in `jax.make_jaxpr`'s exact format.

The goldens are written out here. Where kiln stages the same primitives as JAX the text is
also compared with `jax.make_jaxpr`'s, which fixes the format (names, literals, params,
line breaks at 80 columns) to JAX's own.
"""
from __future__ import annotations

import inspect
import textwrap

import jax
import jax.numpy as jjnp
import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln.ir import Eqn, Loc, Program, ShapedArray, Var
from kiln.primitives import primitive, registry, shape_rules
from kiln.printer import pp_program, var_name

F34, F4, F3 = np.ones((3, 4), np.float32), np.ones(4, np.float32), np.ones(3, np.float32)


def golden(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def quickstart(x, y):
    return jnp.dot(x + 1, y + 1)


def elementwise(x):
    return jnp.sin(x) * 2.0 + jnp.exp(-x) - x / 3


def reductions(x):
    return jnp.sum(x, axis=0), x.max(axis=1), jnp.mean(x)


def with_constants(x):
    return x + np.arange(3, dtype=np.float32), x * np.float32(2), x - np.full(3, 7, np.float32)


def literals(x):
    return x * 0.1, x > -np.inf, x + 2, jnp.logical_and(x > 0, True)


def pytree_outputs(x, y):
    return {"z": x * y, "a": (y, x)}, [x]


def unused_argument(x, y):
    return x, 1.0


def one_line(x):
    return jnp.sin(x)


GOLDENS = {
    "quickstart": (quickstart, (F34, F4), """
        { lambda ; a:f32[3,4] b:f32[4]. let
            c:f32[3,4] = add a 1.0:f32[]
            d:f32[4] = add b 1.0:f32[]
            e:f32[3] = dot_general[
              dimension_numbers=(([1], [0]), ([], []))
              preferred_element_type=float32
            ] c d
          in (e,) }"""),
    "elementwise": (elementwise, (F3,), """
        { lambda ; a:f32[3]. let
            b:f32[3] = sin a
            c:f32[3] = mul b 2.0:f32[]
            d:f32[3] = neg a
            e:f32[3] = exp d
            f:f32[3] = add c e
            g:f32[3] = div a 3.0:f32[]
            h:f32[3] = sub f g
          in (h,) }"""),
    "reductions": (reductions, (F34,), """
        { lambda ; a:f32[3,4]. let
            b:f32[4] = reduce_sum[axes=(0,)] a
            c:f32[3] = reduce_max[axes=(1,)] a
            d:f32[] = reduce_sum[axes=(0, 1)] a
            e:f32[] = div d 12.0:f32[]
          in (b, c, e) }"""),
    "constants": (with_constants, (F3,), """
        { lambda a:f32[3] b:f32[3]; c:f32[3]. let
            d:f32[3] = add c a
            e:f32[3] = mul c 2.0:f32[]
            f:f32[3] = sub c b
          in (d, e, f) }"""),
    "literals": (literals, (F3,), """
        { lambda ; a:f32[3]. let
            b:f32[3] = mul a 0.10000000149011612:f32[]
            c:bool[3] = gt a -inf:f32[]
            d:f32[3] = add a 2.0:f32[]
            e:bool[3] = gt a 0.0:f32[]
            f:bool[3] = and e True:bool[]
          in (b, c, d, f) }"""),
    "pytrees": (pytree_outputs, (F3, F3), """
        { lambda ; a:f32[3] b:f32[3]. let c:f32[3] = mul a b in (b, a, c, a) }"""),
    "no-equations": (unused_argument, (np.int32(1), 2.0), """
        { lambda ; a:i32[] b:f32[]. let  in (a, 1.0:f32[]) }"""),
    "one-line": (one_line, (1.0,), """
        { lambda ; a:f32[]. let b:f32[] = sin a in (b,) }"""),
}


@pytest.mark.parametrize("name", GOLDENS, ids=str)
def test_golden(name):
    fn, args, expected = GOLDENS[name]
    program = kiln.make_ir(fn)(*args)
    assert pp_program(program) == golden(expected)
    assert str(program) == repr(program) == golden(expected)
    assert pp_program(kiln.make_ir(fn)(*args)) == golden(expected)  # deterministic


def _as_jax(fn):
    """The same function body, with `jnp` meaning jax.numpy."""
    return type(fn)(fn.__code__, {**fn.__globals__, "jnp": jjnp}, fn.__name__)


@pytest.mark.parametrize("name", ["quickstart", "elementwise", "constants", "literals", "pytrees",
                                  "no-equations", "one-line"])
def test_same_text_as_jax(name):
    fn, args, _ = GOLDENS[name]
    assert pp_program(kiln.make_ir(fn)(*args)) == str(jax.make_jaxpr(_as_jax(fn))(*args))


def test_long_lines_break_like_jax():
    many_in = lambda *a: tuple(v * 2.0 for v in a)  # noqa: E731 - 30 inputs wrap
    many_out = lambda *a: a  # noqa: E731 - an empty body on its own line
    for fn, args in [(many_in, [1.0] * 30), (many_out, [np.ones((100, 100), np.float32)] * 12)]:
        assert pp_program(kiln.make_ir(fn)(*args)) == str(jax.make_jaxpr(fn)(*args))


def test_names_continue_past_z():
    assert [var_name(i) for i in (0, 25, 26, 27, 52, 675, 676)] == ["a", "z", "ba", "bb", "ca", "zz", "baa"]


def test_locations_are_shown_on_request():
    program = kiln.make_ir(quickstart)(F34, F4)
    lines, first = inspect.getsourcelines(quickstart)
    line = first + 1
    col = lines[1].index("x + 1")
    where = f"{__file__}:{line}:{{}} (quickstart)"
    text = pp_program(program, locs=True).splitlines()
    width = max(len(t) for t in pp_program(program).splitlines())
    assert text[1] == "    c:f32[3,4] = add a 1.0:f32[]".ljust(width) + " # " + where.format(col)
    assert text[2].endswith(where.format(lines[1].index("y + 1")))
    assert text[3].startswith("    e:f32[3] = dot_general[".ljust(width) + " # " + __file__)
    assert text[4:] == pp_program(program).splitlines()[4:]  # params carry no location
    jaxpr = jax.make_jaxpr(_as_jax(quickstart))(F34, F4)
    assert "\n".join(text) == jaxpr.pretty_print(source_info=True, use_color=False)


# ---------------------------------------------------------------------------- hand-built programs

apply_p = primitive("test_printer_apply", multiple_results=True)
shape_rules[apply_p] = lambda *avals, body, times: [v.aval for v in body.outputs]


def test_nested_programs_and_params():
    f32 = ShapedArray((2,), np.dtype(np.float32))
    inner_in, inner_out = Var(f32), Var(f32)
    body = Program((inner_in,), (Eqn(registry["neg"], (inner_in,), {}, (inner_out,)),), (inner_out,))
    x, y = Var(f32), Var(f32)
    eqn = Eqn(apply_p, (x,), {"times": 3, "body": body, "mode": "fast", "kinds": (np.dtype("int8"),)},
              (y,), Loc("demo.py", 3, 4, "f"))
    program = Program((x,), (eqn,), (y,))
    assert pp_program(program) == golden("""
        { lambda ; a:f32[2]. let
            b:f32[2] = test_printer_apply[
              body={ lambda ; c:f32[2]. let d:f32[2] = neg c in (d,) }
              kinds=(dtype('int8'),)
              mode=fast
              times=3
            ] a
          in (b,) }""")
    with_locs = pp_program(program, locs=True).splitlines()
    assert with_locs[1].endswith(" # demo.py:3:4 (f)") and with_locs[2:] == pp_program(program).splitlines()[2:]


def test_inputs_in_positional_order():
    def f(x, i):
        return x + 1, i * 2
    assert pp_program(kiln.make_ir(f)(F3, np.int32(1))).startswith("{ lambda ; a:f32[3] b:i32[]. let")
