"""The driver: from a Python function and example arguments to a verified program.

`Signature.split` separates the arguments into static values and a pytree of arrays;
`stage(fn, ...)` converts `fn`'s source, runs it on staged values and returns a
`Specialisation`: the program, the output tree and what is needed to run it again. Compiled
callables are cached by the key `(treedef, avals, static values, config)`; a specialisation
also stamps the files its functions were read from, so rewriting (and reloading) a helper's
file restages. The stamps are compared again only after an import or reload (`import_epoch`
counts them), so a call does not pay for a stat of every file.
"""
from __future__ import annotations

import collections
import inspect
import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np

from kiln.errors import CompileError, format_location
from kiln.ir import Program, ShapedArray
from kiln.runtime import dtypes
from kiln.runtime.array import Array
from kiln.runtime.config import config
from kiln.runtime.pytree import PyTreeDef, tree_flatten, tree_leaves, tree_unflatten
from kiln.staging import Builder, Staged

DEFAULT_PASSES = ("expand-calls", "simplify", "cse", "dce")


def qualname(fn) -> str:
    """How messages name a function (partials and callable objects included)."""
    return getattr(fn, "__qualname__", None) or getattr(getattr(fn, "func", None), "__qualname__", None) \
        or repr(fn)


@dataclass(frozen=True)
class Signature:
    """How a function's parameters split into static and dynamic ones."""
    signature: inspect.Signature | None  # None: not introspectable, every argument is dynamic
    static_names: frozenset

    @classmethod
    def of(cls, fn, static_argnums=(), static_argnames=()) -> "Signature":
        try:
            signature = inspect.signature(fn)
        except (TypeError, ValueError):
            signature = None
        params = tuple(signature.parameters.values()) if signature else ()
        static_argnums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
        static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        names = set(static_argnames)
        for i in static_argnums:
            if -len(positional) <= i < len(positional):
                names.add(positional[i].name)
            elif not any(p.kind == p.VAR_POSITIONAL for p in params):
                raise ValueError(f"static_argnums {i} is out of range for {qualname(fn)}, which "
                                 f"takes {len(positional)} positional arguments")
        unknown = names - {p.name for p in params}
        if unknown and params and not any(p.kind == p.VAR_KEYWORD for p in params):
            raise ValueError(f"static_argnames {sorted(unknown)} are not parameters of {qualname(fn)}")
        return cls(signature, frozenset(names))

    def split(self, fn, args, kwargs):
        """(bound arguments, dynamic pytree, static key)."""
        if self.signature is None:
            return None, (tuple(args), dict(kwargs)), ()
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{qualname(fn)}() {e}") from None
        # An OrderedDict flattens in insertion (parameter) order; a dict would sort the names.
        dynamic, static = collections.OrderedDict(), []
        for name, value in bound.arguments.items():
            if name in self.static_names:
                try:
                    hash(value)
                except TypeError:
                    raise ValueError(
                        f"static argument {name!r} of {qualname(fn)} must be hashable, got "
                        f"{type(value).__name__}: {value!r}") from None
                # The type is part of the key: 1, 1.0 and True are equal but stage differently.
                static.append((name, type(value), value))
            else:
                dynamic[name] = value
        return bound, dynamic, tuple(static)


def abstractify(leaf) -> ShapedArray:
    """The aval of a dynamic argument leaf; TypeError saying what it is otherwise."""
    if isinstance(leaf, Array):
        return leaf.aval
    if is_float0(leaf):
        return ShapedArray(tuple(np.shape(leaf)), dtypes.float0)
    if isinstance(leaf, (bool, int, float, complex, np.ndarray, np.generic)):
        if isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype.kind not in "biufc":
            raise TypeError(f"is a NumPy array of dtype {leaf.dtype}, which kiln cannot compile; "
                            "pass numeric arrays, or mark the argument static")
        dtype, weak = dtypes.dtype_and_weak(leaf)
        return ShapedArray(tuple(np.shape(leaf)), dtype, weak)
    raise TypeError(f"is a {type(leaf).__name__} ({leaf!r:.60}); kiln functions take arrays, "
                    "Python numbers and pytrees (tuples, lists, dicts, ...) of them. Mark the argument "
                    "static (static_argnums/static_argnames) if it configures the function")


def argument_leaves(fn, dynamic):
    """(leaves, treedef, avals) of the dynamic arguments; a TypeError names a bad one."""
    leaves, treedef = tree_flatten(dynamic)
    avals = []
    for leaf in leaves:
        try:
            avals.append(abstractify(leaf))
        except TypeError as e:
            raise TypeError(f"{_argument_name(dynamic, leaf)} of {qualname(fn)} {e}") from None
    return leaves, treedef, tuple(avals)


def _argument_name(dynamic, leaf) -> str:
    named = dynamic.items() if isinstance(dynamic, dict) else [*enumerate(dynamic[0]), *dynamic[1].items()]
    for name, value in named:
        if any(x is leaf for x in tree_leaves(value)):
            inside = "" if value is leaf else f" (inside its {type(value).__name__})"
            return f"argument {name!r}{inside}"
    return "an argument"


# ---------------------------------------------------------------------------- float0
# float0 (the (co)tangent type of integer and bool values, see kiln.ad) is no dtype of the IR:
# it has one value, so a float0 argument is no program input (the function sees the NumPy
# zeros while staging) and a float0 result no program output (the caller gets new zeros).

def is_float0(x) -> bool:
    return isinstance(x, (np.ndarray, np.generic)) and x.dtype == dtypes.float0


def float0_zeros(shape) -> np.ndarray:
    return np.zeros(tuple(shape), dtypes.float0)


def leaf_value(leaf, aval: ShapedArray) -> np.ndarray:
    if isinstance(leaf, Array):
        return leaf._value
    return np.asarray(leaf, dtype=aval.dtype)


class _ImportEpoch:
    """A finder on `sys.meta_path` that finds nothing and counts: every import of a new module
    and every reload asks it first. A helper's code only changes through one of those."""

    def __init__(self):
        self.value = 0

    def find_spec(self, name, path=None, target=None):
        self.value += 1
        return None


import_epoch = _ImportEpoch()
sys.meta_path.insert(0, import_epoch)


@dataclass(frozen=True)
class Specialisation:
    program: Program
    in_tree: PyTreeDef
    out_tree: PyTreeDef
    out_avals: tuple[ShapedArray, ...]  # of the program's outputs
    sources: tuple = ()  # ((file name, stamp), ...) of the functions converted to stage it
    # the import epoch at which the stamps last matched
    checked: list = field(default_factory=lambda: [import_epoch.value], compare=False)
    # Per output leaf, None for the next program output or the shape of a float0 result;
    # empty when every leaf is a program output.
    float0_outputs: tuple = ()

    def outputs(self, values) -> list:
        """The output leaves, from the program's output values."""
        if not self.float0_outputs:
            return values
        values = iter(values)
        return [next(values) if shape is None else float0_zeros(shape) for shape in self.float0_outputs]

    def sources_unchanged(self) -> bool:
        epoch = import_epoch.value
        if self.checked[0] == epoch:
            return True
        if all(_stamp(name) == stamp for name, stamp in self.sources):
            self.checked[0] = epoch
            return True
        return False


def _stamp(filename: str):
    try:
        st = os.stat(filename)
    except OSError:  # no file (a notebook cell, exec'd code): nothing to compare
        return None
    return st.st_mtime_ns, st.st_size


_OUTPUT_TYPES = (Staged, Array, bool, int, float, complex, np.ndarray, np.generic)


def stage(fn, bound, dynamic_tree: PyTreeDef, avals, static, name: str) -> Specialisation:
    """Run the converted `fn` on staged values; returns the specialised program."""
    from kiln.frontend.convert import recording_files
    from kiln.frontend.operators import staging_target
    from kiln.passes import run_passes
    from kiln.passes.verify import verify
    with recording_files() as files, Builder(name) as builder:
        converted = staging_target(fn)
        staged = [float0_zeros(a.shape) if a.dtype == dtypes.float0 else builder.new_input(a) for a in avals]
        dynamic = tree_unflatten(dynamic_tree, staged)
        if bound is None:
            args, kwargs = dynamic
        else:
            bound.arguments.update({name: value for name, _, value in static})
            bound.arguments.update(dynamic)
            args, kwargs = bound.args, bound.kwargs
        result = converted(*args, **kwargs)
        out_leaves, out_tree = tree_flatten(result)
        for leaf in out_leaves:
            if not isinstance(leaf, _OUTPUT_TYPES):
                raise TypeError(f"{qualname(fn)} returned a {type(leaf).__name__} ({leaf!r:.60}); "
                                "compiled functions return arrays, numbers and pytrees of them")
        program = builder.build([leaf for leaf in out_leaves if not is_float0(leaf)])
        float0_outputs = tuple(tuple(np.shape(leaf)) if is_float0(leaf) else None for leaf in out_leaves) \
            if any(map(is_float0, out_leaves)) else ()
    if builder.captures:
        raise CompileError(f"{qualname(fn)} uses array values of an enclosing staged function; "
                           "this is only possible when it is called inside it")
    verify(program)
    program = run_passes(program, DEFAULT_PASSES)
    check_sizes(program)
    out_avals = tuple(a.aval for a in program.outputs)
    sources = tuple((f, _stamp(f)) for f in sorted(files))
    return Specialisation(program, dynamic_tree, out_tree, out_avals, sources, float0_outputs=float0_outputs)


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def check_sizes(program: Program) -> None:
    """A MemoryError, before running, for a value larger than this machine's memory.

    Such a program could only fail when run, or, where the system overcommits memory, be
    killed while filling the array; the error names the user's line that computes it.
    """
    memory = _physical_memory()
    if memory is None:
        return
    for eqn in program.eqns:
        for out in eqn.outputs:
            nbytes = math.prod(out.aval.shape) * out.aval.dtype.itemsize
            if nbytes > memory:
                raise MemoryError(
                    f"kiln: {eqn.prim.name} makes an array of shape {out.aval.str_short()}, which needs "
                    f"{_bytes(nbytes)}, more than this machine's memory ({_bytes(memory)}); it is "
                    f"computed at {format_location(eqn.loc)}")


def _bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{n} B"
        n /= 1024


def cache_key(treedef, avals, static):
    return (treedef, avals, static, config.x64_enabled)


__all__ = ["Signature", "Specialisation", "abstractify", "argument_leaves", "cache_key",
           "check_sizes", "float0_zeros", "is_float0", "leaf_value", "qualname", "stage"]
