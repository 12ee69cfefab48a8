"""Names resolve as Python resolves them, and static Python runs while compiling."""
import functools
import math
import re

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
import kiln.numpy as knp
from kiln.errors import CompileError, TracerBoolConversionError

from frontend_helpers import numpy_alias, other_module
from frontend_helpers.check import assert_jit_matches, line_of, prims

np_alias = knp  # a module constant bound to kiln.numpy under another name
SCALE = 1.5
SHIFTS = (1.0, 2.0, 3.0)
X = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)


def test_aliases_of_kiln_numpy_math_and_module_constants():
    def f(x):
        return jnp.sin(x) + knp.cos(x) * np_alias.exp(x) + math.pi * SCALE + math.sqrt(SHIFTS[1])
    got = kiln.jit(f)(X)
    want = np.sin(X) + np.cos(X) * np.exp(X) + np.pi * 1.5 + np.sqrt(2.0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert sorted(set(prims(f, X))) == ["add", "cos", "exp", "mul", "sin"]


def test_np_bound_to_kiln_numpy_in_another_module():
    def f(x):
        return numpy_alias.normalise(x) + numpy_alias.jitted_normalise(x)
    want = (X - X.mean()) / np.sqrt(X.var() + 1e-3) * 2
    np.testing.assert_allclose(kiln.jit(f)(X), want, rtol=1e-5)
    np.testing.assert_allclose(numpy_alias.jitted_normalise(X), want / 2, rtol=1e-5)


def test_locals_shadow_globals_and_builtins():
    def f(x):
        SCALE = 10.0  # noqa: N806  (a local shadowing the module constant)
        abs = lambda v: v * 2.0  # noqa: E731  (shadows the builtin)
        return abs(x) * SCALE
    np.testing.assert_allclose(kiln.jit(f)(X), X * 20.0, rtol=1e-6)


def test_closure_cells_are_read_when_staging():
    factor = 2.0
    table = {"bias": 0.25}

    def f(x):
        return x * factor + table["bias"]
    np.testing.assert_allclose(kiln.jit(f)(X), X * 2.0 + 0.25, rtol=1e-6)
    factor = 4.0  # the cell is shared: a new kiln.jit sees the new value, as Python would
    np.testing.assert_allclose(kiln.jit(f)(X), X * 4.0 + 0.25, rtol=1e-6)


def test_builtins_and_global_functions_of_other_modules():
    def f(x):
        n = len(x) + max(1, 2) + sum([1, 2]) + abs(-3)
        pairs = list(zip(range(n), reversed(range(n))))
        return other_module.scaled_tanh(x) + len(pairs) + isinstance(x, kiln.Array)
    assert_jit_matches(f, X)


def test_shapes_len_and_python_numbers_are_static():
    def f(x):
        rows, cols = x.shape
        n = len(x) * cols + x.ndim + x.size
        half = n // 2
        assert isinstance(rows, int) and isinstance(half, int)
        return x.reshape(cols, rows) * half + float(rows)
    program = kiln.make_ir(f)(X)
    # only the array work is staged: the shape arithmetic ran while compiling
    assert prims(f, X) == ["reshape", "mul", "add"]
    assert "7.0" in repr(program) and "2.0" in repr(program)  # (2*3+2+6)//2 and rows
    assert_jit_matches(f, X)


def scaled_sum(x, n, mode="sum"):
    total = x
    for i in range(n):  # a Python loop on a static bound runs while compiling
        total = total + x * i
    if mode == "sum":  # an `if` on a static value picks a branch while compiling
        return total.sum()
    return total.max()


def test_static_argnums_and_argnames_unroll_loops_and_pick_branches():
    f = kiln.jit(scaled_sum, static_argnums=1, static_argnames="mode")
    np.testing.assert_allclose(f(X, 3), scaled_sum(X, 3), rtol=1e-6)
    np.testing.assert_allclose(f(X, 2, mode="max"), scaled_sum(X, 2, mode="max"), rtol=1e-6)
    # a sum that cancels to ~0: kiln's float32 sums accumulate in float64, NumPy's do not
    np.testing.assert_allclose(f(X, n=4), scaled_sum(X.astype(np.float64), 4), rtol=1e-6, atol=1e-6)
    ir = kiln.make_ir(scaled_sum, static_argnums=1)(X, 3)
    assert [e.prim.name for e in ir.eqns].count("add") == 3  # the loop ran three times
    assert "reduce_sum" in repr(ir) and "reduce_max" not in repr(ir)


def test_static_arguments_through_functools_partial_of_jit():
    @functools.partial(kiln.jit, static_argnums=(1,))
    def power(x, n):
        result = jnp.ones_like(x)
        for _ in range(n):
            result = result * x
        return result
    np.testing.assert_allclose(power(X, 3), X ** 3, rtol=1e-6)
    np.testing.assert_allclose(power(X, 0), np.ones_like(X))
    assert len(power._cache) == 2  # one specialisation per static value

    @functools.partial(kiln.jit, static_argnames=("shape", "names"))
    def reshape(x, shape, names):
        return {name: x.reshape(shape) * i for i, name in enumerate(names)}
    got = reshape(X, shape=(3, 2), names=("a", "b"))
    assert set(got) == {"a", "b"}
    np.testing.assert_allclose(got["b"], X.reshape(3, 2))


def test_static_containers_and_pure_helper_calls_run_while_compiling():
    def layout(sizes, scale):
        return [s * scale for s in sizes], {"n": len(sizes), "name": "w" * 2}

    def f(x):
        widths, meta = layout((1, 2, 3), scale=2)
        assert widths == [2, 4, 6] and meta["name"] == "ww"
        total = sum(widths) + meta["n"] + SHIFTS[-1]
        return x * total + len("abc")
    assert prims(f, X) == ["mul", "add"]
    assert_jit_matches(f, X)


def test_static_argument_must_be_hashable():
    f = kiln.jit(lambda x, opts: x * len(opts), static_argnums=1)
    with pytest.raises(ValueError, match="static argument 'opts'.*hashable"):
        f(X, [1, 2])
    np.testing.assert_allclose(f(X, (1, 2)), X * 2)


def bool_of_array(x):
    if bool(x.sum() > 0):  # Python needs the value now: only known when the function runs
        return x
    return -x


def test_bool_of_an_array_value_is_a_clear_error_naming_the_users_line():
    with pytest.raises(TracerBoolConversionError) as info:
        kiln.jit(bool_of_array)(X)
    assert isinstance(info.value, CompileError)
    line = line_of(bool_of_array, "if bool(x.sum() > 0)")
    assert info.value.loc.file == __file__ and info.value.loc.line == line
    assert f"{__file__}:{line}:" in str(info.value)
    assert "if bool(x.sum() > 0):" in str(info.value)


def test_static_python_if_and_for_run_while_compiling():
    def f(x, n):
        total = jnp.zeros(x.shape[1])
        for row in x:  # iterating an array runs over its static leading axis
            total = total + row
        for i in range(n):
            if i % 2 == 0:
                total = total * 2.0
        return total
    assert_jit_matches(f, X, 3, static_argnums=1)
    ir_prims = prims(lambda x: f(x, 3), X)
    assert ir_prims.count("mul") == 2  # i = 0 and i = 2: the loop and the `if` ran in Python


def test_int_of_an_array_value_is_a_concretization_error():
    def f(x):
        return jnp.zeros(int(x.sum()))
    with pytest.raises(kiln.errors.ConcretizationTypeError, match=re.escape(f"{__file__}:")):
        kiln.jit(f)(X)
