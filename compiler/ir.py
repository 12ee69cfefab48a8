"""kiln's IR: typed SSA programs made of generic equations.

A `Program` is `(inputs, eqns, outputs, consts)`. Every equation is one generic record
`Eqn(prim, inputs, params, outputs, loc)`: there is no class per operation. Primitives are
names; what a primitive means lives in rule tables keyed by it (see `kiln.primitives`).
Structured control flow keeps sub-programs inside `params`.

Every value has an abstract value (`aval`): a static shape and a dtype, plus JAX's
`weak_type` flag for values that came from Python scalars. Dimensions are plain ints now;
`Dim` leaves the room for symbolic ones.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

Dim = int


@dataclass(frozen=True, slots=True)
class ShapedArray:
    shape: tuple[Dim, ...]
    dtype: np.dtype
    weak_type: bool = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def strip_weak(self) -> ShapedArray:
        return ShapedArray(self.shape, self.dtype, False) if self.weak_type else self

    def update(self, shape=None, dtype=None, weak_type=None) -> ShapedArray:
        return ShapedArray(
            self.shape if shape is None else tuple(shape),
            self.dtype if dtype is None else np.dtype(dtype),
            self.weak_type if weak_type is None else weak_type,
        )

    def str_short(self) -> str:
        return f"{short_dtype(self.dtype)}[{','.join(map(str, self.shape))}]"

    def __repr__(self) -> str:
        return f"ShapedArray({self.str_short()}{', weak_type=True' if self.weak_type else ''})"


_SHORT = {"float16": "f16", "float32": "f32", "float64": "f64", "int8": "i8", "int16": "i16",
          "int32": "i32", "int64": "i64", "uint8": "u8", "uint16": "u16", "uint32": "u32",
          "uint64": "u64", "bool": "bool", "complex64": "c64", "complex128": "c128"}


@functools.lru_cache(maxsize=None)  # dtypes are few; np.dtype(...).name is slow enough to show
def short_dtype(dtype) -> str:
    name = np.dtype(dtype).name
    return _SHORT.get(name, name)


@dataclass(frozen=True, slots=True)
class Loc:
    """Where an equation came from in the user's source (1-based line, 0-based column)."""
    file: str
    line: int
    col: int = 0
    function: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col + 1}"


@dataclass(frozen=True, slots=True, eq=False)
class Var:
    """An SSA value. Identity is the variable: two Vars are equal only if they are the same."""
    aval: ShapedArray

    def __repr__(self) -> str:
        return f"Var({self.aval.str_short()})"


@dataclass(frozen=True, slots=True, eq=False)
class Literal:
    """A scalar constant written inline in an equation (`1.0:f32[]`)."""
    value: Any  # a NumPy scalar of `aval.dtype`
    aval: ShapedArray

    def __repr__(self) -> str:
        return f"Literal({self.value!r})"


Atom = Union[Var, Literal]


def literal_value(lit: Literal):
    """A literal as a 0-d kiln.Array, keeping its weak type when an equation is bound again."""
    from kiln.runtime.array import Array
    return Array(np.array(lit.value, dtype=lit.aval.dtype), lit.aval.weak_type)


@dataclass(frozen=True, slots=True, eq=False)
class Eqn:
    prim: Any  # kiln.primitives.Primitive
    inputs: tuple[Atom, ...]
    params: dict[str, Any]
    outputs: tuple[Var, ...]
    loc: Loc | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Program:
    inputs: tuple[Var, ...]
    eqns: tuple[Eqn, ...]
    outputs: tuple[Atom, ...]
    # Array constants the program closes over: (var, value) pairs, values are NumPy arrays.
    consts: tuple[tuple[Var, np.ndarray], ...] = field(default=())

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.inputs]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.outputs]

    def __repr__(self) -> str:
        from kiln.printer import pp_program
        return pp_program(self)


def sub_programs(eqn: Eqn) -> list[Program]:
    """The programs an equation holds in its params (branches, loop bodies)."""
    found = []
    for value in eqn.params.values():
        if isinstance(value, Program):
            found.append(value)
        elif isinstance(value, tuple):
            found.extend(v for v in value if isinstance(v, Program))
    return found
