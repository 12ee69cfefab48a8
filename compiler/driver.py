"""The driver: from a Python function and example arguments to a verified program.

`specialise(fn, args, kwargs, statics)` splits the arguments into static values and a pytree
of arrays, converts `fn`'s source, runs it on staged values and returns a `Specialisation`:
the program, the output tree and what is needed to run it again. Compiled callables are
cached by the key `(treedef, avals, static values, config)`.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

from kiln.errors import CompileError
from kiln.ir import Program, ShapedArray
from kiln.primitives import aval_of
from kiln.runtime import dtypes
from kiln.runtime.array import Array
from kiln.runtime.config import config
from kiln.runtime.pytree import PyTreeDef, tree_flatten, tree_unflatten
from kiln.staging import Builder, Staged

DEFAULT_PASSES = ("dce",)


@dataclass(frozen=True)
class Signature:
    """How a function's parameters split into static and dynamic ones."""
    params: tuple[inspect.Parameter, ...]
    static_names: frozenset

    @classmethod
    def of(cls, fn, static_argnums=(), static_argnames=()) -> "Signature":
        try:
            params = tuple(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            params = ()
        static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = set(static_argnames)
        for i in static_argnums:
            if -len(positional) <= i < len(positional):
                names.add(positional[i].name)
            elif not any(p.kind == p.VAR_POSITIONAL for p in params):
                raise ValueError(f"static_argnums {i} is out of range for {fn.__qualname__}, which "
                                 f"takes {len(positional)} positional arguments")
        unknown = names - {p.name for p in params}
        if unknown and params and not any(p.kind == p.VAR_KEYWORD for p in params):
            raise ValueError(f"static_argnames {sorted(unknown)} are not parameters of {fn.__qualname__}")
        return cls(params, frozenset(names))

    def split(self, fn, args, kwargs):
        """(bound arguments, dynamic pytree, static key)."""
        try:
            bound = inspect.Signature(self.params).bind(*args, **kwargs) if self.params else None
        except TypeError as e:
            raise TypeError(f"{fn.__qualname__}() {e}") from None
        if bound is None:
            return None, (tuple(args), dict(kwargs)), ()
        dynamic, static = {}, []
        for name, value in bound.arguments.items():
            if name in self.static_names:
                try:
                    hash(value)
                except TypeError:
                    raise ValueError(
                        f"static argument {name!r} of {fn.__qualname__} must be hashable, got "
                        f"{type(value).__name__}: {value!r}") from None
                static.append((name, value))
            else:
                dynamic[name] = value
        return bound, dynamic, tuple(static)


def abstractify(leaf, where: str) -> ShapedArray:
    """The aval of a dynamic argument leaf, or a TypeError naming the argument."""
    if isinstance(leaf, Array):
        return leaf.aval
    if isinstance(leaf, (bool, int, float, complex, np.ndarray, np.generic)):
        if isinstance(leaf, np.ndarray) and leaf.dtype.kind not in "biufc":
            raise TypeError(f"{where} is a NumPy array of dtype {leaf.dtype}, which kiln cannot compile; "
                            "pass numeric arrays, or mark the argument static")
        dtype, weak = dtypes.dtype_and_weak(leaf)
        return ShapedArray(tuple(np.shape(leaf)), dtype, weak)
    raise TypeError(f"{where} is a {type(leaf).__name__} ({leaf!r:.60}); kiln functions take arrays, "
                    "Python numbers and pytrees (tuples, lists, dicts, ...) of them. Mark the argument "
                    "static (static_argnums/static_argnames) if it configures the function")


def leaf_value(leaf, aval: ShapedArray) -> np.ndarray:
    if isinstance(leaf, Array):
        return leaf._value
    return np.asarray(leaf, dtype=aval.dtype)


@dataclass(frozen=True)
class Specialisation:
    program: Program
    in_tree: PyTreeDef
    out_tree: PyTreeDef
    out_avals: tuple[ShapedArray, ...]


def argument_leaves(fn, dynamic):
    leaves, treedef = tree_flatten(dynamic)
    names = _leaf_names(dynamic)
    avals = tuple(abstractify(leaf, f"argument {name!r} of {getattr(fn, '__qualname__', fn)}")
                  for leaf, name in zip(leaves, names))
    return leaves, treedef, avals


def _leaf_names(dynamic):
    if isinstance(dynamic, dict):
        return [name for name, value in dynamic.items() for _ in tree_flatten(value)[0]]
    return ["?"] * len(tree_flatten(dynamic)[0])


def stage(fn, bound, dynamic_tree: PyTreeDef, avals, static, name: str) -> Specialisation:
    """Run the converted `fn` on staged values; returns the specialised program."""
    from kiln.frontend.convert import convert
    from kiln.passes import run_passes
    from kiln.passes.verify import verify
    converted = convert(fn)
    with Builder(name) as builder:
        staged = [builder.new_input(a) for a in avals]
        dynamic = tree_unflatten(dynamic_tree, staged)
        if bound is None:
            args, kwargs = dynamic
        else:
            values = dict(static)
            values.update(dynamic)
            bound.arguments.update(values)
            args, kwargs = bound.args, bound.kwargs
        result = converted(*args, **kwargs)
        out_leaves, out_tree = tree_flatten(result)
        for leaf in out_leaves:
            if not isinstance(leaf, (Staged, Array, bool, int, float, complex, np.ndarray, np.generic)):
                raise TypeError(f"{fn.__qualname__} returned a {type(leaf).__name__} ({leaf!r:.60}); "
                                "compiled functions return arrays, numbers and pytrees of them")
        program = builder.build(out_leaves)
    if builder.captures:
        raise CompileError(f"{fn.__qualname__} uses array values of an enclosing staged function; "
                           "this is only possible when it is called inside it")
    verify(program)
    program = run_passes(program, DEFAULT_PASSES)
    out_avals = tuple(a.aval for a in program.outputs)
    return Specialisation(program, dynamic_tree, out_tree, out_avals)


def cache_key(treedef, avals, static):
    return (treedef, avals, static, config.x64_enabled)
