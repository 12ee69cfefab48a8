"""Lambdas whose body continues on lines that start further left than the lambda.

kiln reads a lambda's source from the parsed file and compiles it on its own, as an assignment
inside a generated function: its continuation lines must survive that (they are valid Python only
inside the brackets the lambda sat in).
"""
import numpy as np

import kiln
import kiln.numpy as jnp

from frontend_helpers.check import line_of

add_one = kiln.jit(lambda x: x +
  1)

scaled = kiln.jit(lambda x,
scale=3.0: x *
scale)


def _then(fn):
    """A decorator taking a function: the decorated function runs, then `fn` on its result."""
    def wrap(g):
        return lambda x: fn(g(x))
    return wrap


@_then(lambda y: y *
2.0)
def double_after_increment(x):
    return x + 1.0


def test_module_level_lambda_continued_further_left():
    assert float(add_one(np.float32(2.0))) == 3.0
    assert float(scaled(np.float32(2.0))) == 6.0


def test_lambda_in_a_function_continued_at_column_zero():
    f = kiln.jit(lambda y: jnp.sin(y) *
2.0)
    np.testing.assert_allclose(f(np.float32(0.5)), 2.0 * np.sin(0.5), rtol=1e-6)
    g = kiln.grad(lambda y: (y *
 y).sum())
    np.testing.assert_allclose(g(np.arange(3.0, dtype=np.float32)), [0.0, 2.0, 4.0])


def test_decorator_argument_lambda_spanning_lines():
    assert float(kiln.jit(double_after_increment)(3.0)) == 8.0
    assert float(kiln.grad(double_after_increment)(3.0)) == 2.0


def test_continued_lambda_with_control_flow_and_a_second_lambda_on_its_line():
    pair = (lambda x: x + 1.0, lambda x: x if x > 0 else \
-x)
    assert float(kiln.jit(pair[1])(np.float32(-2.0))) == 2.0
    assert float(kiln.jit(pair[0])(np.float32(-2.0))) == -1.0


def test_locations_inside_a_continued_lambda_are_the_users():
    fn = lambda x: jnp.sin(x) + \
  jnp.cos(x)
    program = kiln.make_ir(fn)(np.float32(1.0))
    lines = {e.prim.name: e.loc.line for e in program.eqns}
    assert lines["sin"] == line_of(test_locations_inside_a_continued_lambda_are_the_users, "jnp.sin(x)")
    assert lines["cos"] == lines["sin"] + 1
