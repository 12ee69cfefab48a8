"""Staging: running converted source on `Staged` values appends equations to a `Builder`.

The frontend rewrites a user function's source (see `kiln.frontend`) and runs the rewritten
function once per specialisation with `Staged` arguments. Operators and kiln.numpy calls on
them go through `bind`, which asks the innermost active builder to emit an equation. Static
Python (ints, shapes, tuples, helpers, comprehensions) simply runs.

Builders nest: staging a function inside another (a `grad` or branch body inside `jit`) opens
an inner builder. A value of an outer builder used inside becomes a *capture*: an extra input
of the inner program, recorded so the caller can pass the outer value in.

Every equation records the user's source location: the first frame outside kiln's own
package. Converted functions are compiled with their original file names and positions, so
their frames already point at the user's lines.
"""
from __future__ import annotations

import contextlib
import functools
import linecache
import os
import sys

import numpy as np

from kiln.errors import (CompileError, ConcretizationTypeError, TracerArrayConversionError,
                         TracerBoolConversionError, TracerIntegerConversionError)
from kiln.ir import Eqn, Literal, Loc, Program, ShapedArray, Var
from kiln.primitives import Primitive, aval_of, concrete_value, shape_rules
from kiln.runtime import dtypes

_builders: list["Builder"] = []
staging_stack = _builders  # the stack itself, for hot paths that only ask whether it is empty


def current_builder() -> "Builder | None":
    return _builders[-1] if _builders else None


@functools.cache
def _kiln_roots() -> tuple[str, ...]:
    import kiln
    import kiln.frontend
    import kiln.passes
    import kiln.runtime
    return tuple(os.path.join(os.path.abspath(p), "")
                 for m in (kiln, kiln.frontend, kiln.passes, kiln.runtime) for p in m.__path__)


def _is_kiln_file(filename: str) -> bool:
    return filename.startswith(_kiln_roots())


_locations: list[Loc | None] = []


@contextlib.contextmanager
def located(loc: Loc | None):
    """Equations emitted inside take `loc` (a transform re-emitting a user's equation)."""
    _locations.append(loc)
    try:
        yield
    finally:
        _locations.pop()


def user_location() -> Loc | None:
    """The innermost stack frame that belongs to user code, as a Loc."""
    if _locations and _locations[-1] is not None:
        return _locations[-1]
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if not _is_kiln_file(code.co_filename) and not code.co_filename.startswith("<frozen"):
            line, col = frame.f_lineno, 0
            positions = _positions(code)
            index = frame.f_lasti // 2
            if 0 <= index < len(positions):
                pline, _, pcol, _ = positions[index]
                if pline is not None:
                    line, col = pline, _char_column(code.co_filename, pline, pcol or 0)
            return Loc(code.co_filename, line, col, code.co_name)
        frame = frame.f_back
    return None


@functools.lru_cache(maxsize=4096)
def _positions(code) -> tuple:
    return tuple(code.co_positions())


def _char_column(filename: str, line: int, byte_col: int) -> int:
    """CPython's columns are UTF-8 byte offsets; a Loc counts characters (`σ = ...`)."""
    text = linecache.getline(filename, line)
    if text.isascii():
        return byte_col
    return len(text.encode()[:byte_col].decode(errors="ignore"))


class Builder:
    def __init__(self, name: str = "f"):
        self.name = name
        self.parent = current_builder()
        self.inputs: list[Var] = []
        self.eqns: list[Eqn] = []
        self.consts: list[tuple[Var, np.ndarray]] = []
        self._const_ids: dict[int, Var] = {}
        self.captures: list[tuple["Staged", Var]] = []  # (outer value, inner input)
        self._capture_ids: dict[int, Var] = {}

    # -- the active-builder stack
    def __enter__(self) -> "Builder":
        _builders.append(self)
        return self

    def __exit__(self, *exc) -> None:
        popped = _builders.pop()
        assert popped is self

    # -- values
    def new_input(self, aval: ShapedArray) -> "Staged":
        var = Var(aval)
        self.inputs.append(var)
        return Staged(self, var)

    def atom(self, x):
        """The IR atom for an operand of an equation emitted by this builder."""
        if isinstance(x, Staged):
            if x.builder is self:
                return x.irvar
            return self._capture(x)
        if isinstance(x, (Var, Literal)):
            return x
        aval = aval_of(x)
        value = concrete_value(x)
        if aval.shape == ():
            return Literal(value.astype(aval.dtype)[()], aval)
        return self._const(value, aval)

    def _capture(self, x: "Staged") -> Var:
        if not x.builder.is_ancestor_of(self):
            raise CompileError(
                "a staged array value escaped the function that computed it "
                "(it was stored outside the function, e.g. in a global or a list that outlived it)",
                user_location())
        var = self._capture_ids.get(id(x))
        if var is None:
            var = self._capture_ids[id(x)] = Var(x.aval)
            self.captures.append((x, var))
        return var

    def _const(self, value: np.ndarray, aval: ShapedArray) -> Var:
        var = self._const_ids.get(id(value))
        if var is None:
            var = self._const_ids[id(value)] = Var(aval)
            self.consts.append((var, np.asarray(value, dtype=aval.dtype)))
        return var

    def is_ancestor_of(self, other: "Builder") -> bool:
        b = other.parent
        while b is not None:
            if b is self:
                return True
            b = b.parent
        return False

    # -- equations
    def emit(self, prim: Primitive, args, params) -> list["Staged"]:
        atoms = [self.atom(a) for a in args]
        out_avals = shape_rules[prim](*(a.aval for a in atoms), **params)
        outs = [Var(a) for a in out_avals]
        self.eqns.append(Eqn(prim, tuple(atoms), params, tuple(outs), user_location()))
        return [Staged(self, v) for v in outs]

    def build(self, outputs) -> Program:
        """The program computed so far, returning `outputs`.

        Captured outer values come first among the inputs, after the declared ones, and are
        listed in `self.captures` so the caller can supply them.
        """
        out_atoms = tuple(self.atom(o) for o in outputs)
        inputs = tuple(self.inputs) + tuple(v for _, v in self.captures)
        return Program(inputs, tuple(self.eqns), out_atoms, tuple(self.consts))


class Staged:
    """A value being staged: an IR variable of some builder, with the array API on top.

    The operators and methods come from kiln.numpy (installed on this class and on
    kiln.Array by `kiln.numpy.array_methods`), so staged code reads like eager code.
    """
    __slots__ = ("builder", "irvar")
    __array_priority__ = 100

    def __init__(self, builder: Builder, var: Var):
        self.builder = builder
        self.irvar = var

    @property
    def aval(self) -> ShapedArray:
        return self.irvar.aval

    @property
    def shape(self) -> tuple[int, ...]:
        return self.irvar.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.irvar.aval.dtype

    @property
    def weak_type(self) -> bool:
        return self.irvar.aval.weak_type

    @property
    def ndim(self) -> int:
        return len(self.irvar.aval.shape)

    @property
    def size(self) -> int:
        return self.irvar.aval.size

    def __repr__(self) -> str:
        # Named as JAX names its jit tracers, so printed output reads the same.
        return f"JitTracer<{self.dtype.name}[{','.join(map(str, self.shape))}]>"

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d array)")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    # Python needs a concrete value for these; an array value only exists at run time.
    def _needs_concrete(self, what: str, error=ConcretizationTypeError):
        raise error(
            f"{what} needs a concrete value, but this is an array value ({self.aval.str_short()}) "
            "known only when the compiled function runs. Python control flow on array values "
            "(if/while/and/or on arrays) is converted by kiln's control-flow support, which is not "
            "available yet (issue #4); for now use kiln.numpy.where, or pass the value as a static "
            "argument (static_argnums/static_argnames)", user_location())

    def __bool__(self):
        raise TracerBoolConversionError(
            f"Attempted boolean conversion of traced array with shape {self.aval.str_short()}.\n"
            "kiln: an `if`, `while`, `and`, `or` or `not` needs a concrete value, but this array "
            "value is known only when the compiled function runs. Python control flow on array "
            "values is converted by kiln's control-flow support, which is not available yet "
            "(issue #4); for now use kiln.numpy.where, or mark the argument static "
            "(static_argnums/static_argnames)", user_location())

    def __index__(self):
        self._needs_concrete("using an array as a Python int (__index__)", TracerIntegerConversionError)

    def __int__(self):
        self._needs_concrete("int() of an array", TracerIntegerConversionError)

    def __float__(self):
        self._needs_concrete("float() of an array")

    def __complex__(self):
        self._needs_concrete("complex() of an array")

    def __array__(self, *args, **kwargs):
        raise TracerArrayConversionError(
            f"a NumPy function was called on an array value ({self.aval.str_short()}) being "
            "compiled; NumPy cannot see its contents. Use kiln.numpy instead",
            user_location())

    def tolist(self):
        self._needs_concrete(".tolist()")

    def item(self, *args):
        self._needs_concrete(".item()")

    def __setitem__(self, idx, value):
        raise TypeError(
            "kiln arrays are immutable; inside a kiln function write `x[idx] = y` only on a "
            "local variable name (it is turned into `x = x.at[idx].set(y)`), or use "
            "x.at[idx].set(y) directly")


def stage_function(fn, in_avals, name="f"):
    """Run `fn` on fresh staged inputs; returns (builder, outputs)."""
    with Builder(name) as builder:
        args = [builder.new_input(a) for a in in_avals]
        outs = fn(*args)
    return builder, outs


def is_staged(x) -> bool:
    return isinstance(x, Staged)


def canonical_aval(x) -> ShapedArray:
    """Aval of a jit argument: Python scalars become weakly typed 0-d arrays."""
    aval = aval_of(x)
    return ShapedArray(aval.shape, dtypes.canonicalize_dtype(aval.dtype), aval.weak_type)
