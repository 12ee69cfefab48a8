"""What kiln refuses, and how it says so: unsupported constructs, bad arguments, huge arrays."""
import math
import re

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln.errors import ConcretizationTypeError, TracerArrayConversionError

from frontend_helpers.check import line_of

X = np.ones((2, 3), np.float32)


def problem_at(fn, text):
    """The `file:line:col` (1-based column, as CompileError prints it) of `text` in fn."""
    line = line_of(fn, text)
    with open(__file__, encoding="utf-8") as f:
        col = f.read().splitlines()[line - 1].index(text)
    return f"{__file__}:{line}:{col + 1}"


def assert_refused(fn, text, message, *args):
    """kiln.jit(fn) raises one CompileError pointing at `text`, with the line and a caret."""
    with pytest.raises(kiln.CompileError) as info:
        kiln.jit(fn)(*(args or (X,)))
    error = str(info.value)
    assert problem_at(fn, text) in error, error
    assert re.search(message, error), error
    source_line = next(line for line in error.splitlines() if text in line)
    caret = error.splitlines()[error.splitlines().index(source_line) + 1]
    assert caret.strip() == "^" and caret.index("^") == source_line.index(text)
    return info.value


def uses_try(x):
    try:
        y = x + 1
    except ValueError:
        y = x
    return y


def uses_try_star(x):
    try:
        y = x + 1
    except* ValueError:
        y = x
    return y


def uses_with(x):
    with np.errstate(all="ignore"):
        y = x + 1
    return y


def uses_yield(x):
    yield x


def uses_yield_from(x):
    yield from (x, x)


async def uses_async(x):
    return x


def uses_global(x):
    global X
    X = x
    return x


def uses_nonlocal(x):
    count = 0

    def bump():
        nonlocal count
        count += 1
    bump()
    return x


def uses_open(x):
    open("weights.bin", "rb")
    return x


def uses_input(x):
    return x * float(input("scale? "))


@pytest.mark.parametrize("fn, text, message", [
    (uses_try, "try:", r"try blocks \(try/except/finally\) are not supported"),
    (uses_try_star, "try:", "try/except"),
    (uses_with, "with np.errstate", "`with` blocks are not supported"),
    (uses_yield, "yield x", "generators"),
    (uses_yield_from, "yield from", "generators"),
    (uses_async, "async def", "async functions"),
    (uses_global, "global X", "`global`"),
    (uses_nonlocal, "nonlocal count", "`nonlocal`"),
    (uses_open, 'open("weights.bin", "rb")', r"file I/O \(open\)"),
    (uses_input, 'input("scale? ")', r"input"),
], ids=lambda p: getattr(p, "__name__", None))
def test_each_unsupported_construct_is_refused_with_its_location(fn, text, message):
    error = assert_refused(fn, text, message)
    assert len(error.problems) == 1


def many_problems(x):
    global X
    try:
        y = open("f")
    finally:
        pass
    with open("g") as g:
        z = g
    yield y + z


def test_every_unsupported_construct_is_listed_at_once():
    with pytest.raises(kiln.CompileError) as info:
        kiln.jit(many_problems)(X)
    error = info.value
    expected = ["global X", "try:", 'open("f")', "with open", 'open("g")', "yield y + z"]
    assert [str(loc) for _, loc in error.problems] == [problem_at(many_problems, t) for t in expected]
    text = str(error)
    assert text.startswith("kiln cannot compile function 'many_problems': 6 unsupported constructs")
    for t in expected:
        assert problem_at(many_problems, t) in text
    assert text.count("^") == 6


def test_unknown_native_calls_on_array_values_name_the_call():
    def f(x):
        return math.sin(x)
    error = assert_refused(f, "math.sin(x)", r"math\.sin is native code.*kiln\.numpy\.sin")
    assert isinstance(error, ConcretizationTypeError)

    def g(x):
        return np.tanh(x)
    error = assert_refused(g, "np.tanh(x)", r"numpy\.tanh is native code.*kiln\.numpy\.tanh")
    assert isinstance(error, TracerArrayConversionError)


def test_native_calls_on_static_values_and_higher_order_natives_are_fine():
    def f(x):
        rows = []
        rows.append(x * math.sin(0.5))  # a native method taking an array is fine
        total = math.fsum([1.0, 2.0]) + np.float32(3.0)
        return sum(map(lambda r: r * total, rows))
    np.testing.assert_allclose(kiln.jit(f)(X), X * math.sin(0.5) * 6.0, rtol=1e-6)


def test_names_that_shadow_io_builtins_are_not_io():
    def f(x, open=jnp.abs):
        def inner(v):
            return input(v)
        input = jnp.negative  # bound after its use in `inner`: still not the builtin
        return open(x) + inner(x)
    np.testing.assert_allclose(kiln.jit(f)(X), np.zeros_like(X))


def test_print_runs_once_while_staging_like_jax(capsys):
    def f(x):
        print("staging", x)
        return x * 2
    jitted = kiln.jit(f)
    jitted(X)
    jitted(X)
    assert capsys.readouterr().out == "staging JitTracer<float32[2,3]>\n"


@pytest.mark.parametrize("args, kwargs, message", [
    (("label",), {}, r"argument 'x' of .*f is a str \('label'\)"),
    ((np.array(["a", "b"]),), {}, r"argument 'x' of .*f is a NumPy array of dtype <U1"),
    ((np.array([object()]),), {}, r"argument 'x' of .*f is a NumPy array of dtype object"),
    ((X,), {"scale": {"w": X, "name": "w"}}, r"argument 'scale' \(inside its dict\) of .*f is a str"),
    ((X,), {"scale": object()}, r"argument 'scale' of .*f is a object"),
])
def test_arguments_that_are_not_arrays_are_type_errors_naming_them(args, kwargs, message):
    def f(x, scale=1.0):
        return x
    with pytest.raises(TypeError, match=message):
        kiln.jit(f)(*args, **kwargs)


def test_an_allocation_that_cannot_succeed_is_a_memory_error_inside_jit():
    def f():
        return jnp.zeros((10 ** 12,))
    with pytest.raises(MemoryError, match=re.escape(problem_at(f, "jnp.zeros"))):
        kiln.jit(f)()

    def g(x):
        return jnp.ones((2 ** 62, 2 ** 62)).sum() * x  # beyond any address space
    with pytest.raises(MemoryError, match=r"shape f32\[4611686018427387904,4611686018427387904\]"):
        kiln.jit(g)(1.0)


def test_an_allocation_that_cannot_succeed_eagerly_is_an_error_not_a_crash():
    with pytest.raises((MemoryError, ValueError)):
        jnp.zeros((10 ** 12,)) + 1.0


def test_eager_zeros_of_an_impossible_size_fails_at_once():
    with pytest.raises((MemoryError, ValueError)):
        jnp.zeros((10 ** 12,))
