"""Running a function compiled by kiln and as plain Python, and comparing the results."""
from __future__ import annotations

import copy

import numpy as np

import kiln
from kiln.runtime.pytree import tree_flatten


def plain(fn, *args, **kwargs):
    """`fn` run as ordinary Python on copies of NumPy arguments (so in-place writes stay there)."""
    return fn(*copy.deepcopy(args), **copy.deepcopy(kwargs))


def assert_trees_close(actual, expected, rtol=1e-6, atol=1e-6):
    got, got_tree = tree_flatten(actual)
    want, want_tree = tree_flatten(expected)
    assert got_tree == want_tree, f"{got_tree} != {want_tree}"
    for g, w in zip(got, want):
        assert np.shape(g) == np.shape(w), (np.shape(g), np.shape(w))
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)


def assert_jit_matches(fn, *args, static_argnums=(), static_argnames=(), **kwargs):
    """kiln.jit(fn)(*args) equals fn(*args) run as plain Python; returns the compiled result."""
    got = kiln.jit(fn, static_argnums=static_argnums, static_argnames=static_argnames)(*args, **kwargs)
    assert_trees_close(got, plain(fn, *args, **kwargs))
    return got


def prims(fn, *args, **kwargs) -> list[str]:
    """The primitive names of the equations kiln stages for fn(*args)."""
    return [e.prim.name for e in kiln.make_ir(fn)(*args, **kwargs).eqns]


def line_of(fn, text: str) -> int:
    """The line number in fn's file of the first line (from fn's definition on) containing `text`."""
    import inspect
    lines, start = inspect.getsourcelines(fn)
    for i, line in enumerate(lines):
        if text in line:
            return start + i
    raise AssertionError(f"{text!r} not in the source of {fn.__qualname__}")
