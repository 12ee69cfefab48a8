"""kiln's IR: typed SSA programs made of generic equations.

A `Program` is `(inputs, eqns, outputs, consts)`. Every equation is one generic record
`Eqn(prim, inputs, params, outputs, loc)`: there is no class per operation. Primitives are
names; what a primitive means lives in rule tables keyed by it (see `kiln.primitives`).
Structured control flow keeps sub-programs inside `params`.

Every value has an abstract value (`aval`): a static shape and a dtype, plus JAX's
`weak_type` flag for values that came from Python scalars. A dimension is an int, or, in a
program generalised over dimensions declared dynamic (`kiln.jit(f, dynamic_dims=...)`), a
`DimExpr`: a polynomial in named sizes with integer coefficients, such as `n` or `2*n - 1`.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np


class DimExpr:
    """A symbolic size: a polynomial in named sizes with integer coefficients.

    Sums and products with ints and other DimExprs stay symbolic; a result with no symbol left
    is a plain int (`dim`). Anything that would need its value (comparisons with `<`, `bool`,
    `int`, `range`, NumPy) raises TypeError, so code that only works on known sizes fails loudly
    instead of guessing; `==` is structural (a DimExpr never equals an int).
    """
    __slots__ = ("terms", "_hash")

    def __init__(self, terms):
        # ((monomial, coefficient), ...), monomial a sorted tuple of names, () the constant
        self.terms = tuple(sorted((m, c) for m, c in terms if c))
        self._hash = hash(self.terms)

    @staticmethod
    def symbol(name: str) -> "DimExpr":
        return DimExpr([((name,), 1)])

    @property
    def symbols(self) -> frozenset:
        return frozenset(s for m, _ in self.terms for s in m)

    def evaluate(self, sizes: dict) -> int:
        return sum(c * math.prod(sizes[s] for s in m) for m, c in self.terms)

    def _combine(self, other, sign=1):
        other = _operand(other)
        if other is NotImplemented:
            return NotImplemented
        total = dict(self.terms)
        for m, c in (other.terms if isinstance(other, DimExpr) else [((), other)]):
            total[m] = total.get(m, 0) + sign * c
        return dim(total.items())

    def __add__(self, other):
        return self._combine(other)

    __radd__ = __add__

    def __sub__(self, other):
        return self._combine(other, -1)

    def __rsub__(self, other):
        return (-self)._combine(other)

    def __neg__(self):
        return DimExpr([(m, -c) for m, c in self.terms])

    def __mul__(self, other):
        other = _operand(other)
        if other is NotImplemented:
            return NotImplemented
        terms = other.terms if isinstance(other, DimExpr) else [((), other)]
        total = {}
        for m1, c1 in self.terms:
            for m2, c2 in terms:
                m = tuple(sorted(m1 + m2))
                total[m] = total.get(m, 0) + c1 * c2
        return dim(total.items())

    __rmul__ = __mul__

    def __eq__(self, other):
        return isinstance(other, DimExpr) and other.terms == self.terms

    def __hash__(self):
        return self._hash

    def _unknown(self, *_):
        raise TypeError(f"the size {self} is only known when the function is called "
                        "(a dimension declared dynamic)")

    __lt__ = __le__ = __gt__ = __ge__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _unknown
    __truediv__ = __rtruediv__ = __bool__ = __index__ = __int__ = __float__ = _unknown

    def __str__(self):
        parts = []
        for m, c in sorted(self.terms, key=lambda t: (-len(t[0]), t[0])):
            name = "*".join(m)
            text = (name if c == 1 else f"-{name}" if c == -1 else f"{c}*{name}") if m else str(c)
            parts.append(text)
        return " + ".join(parts).replace("+ -", "- ")

    __repr__ = __str__


def _operand(x):
    """An int or DimExpr to combine with, or NotImplemented."""
    if isinstance(x, DimExpr):
        return x
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return int(x)
    return NotImplemented


def dim(terms):
    """A DimExpr from ((monomial, coefficient), ...), or an int when it has no symbol."""
    expr = DimExpr(terms)
    if all(not m for m, _ in expr.terms):
        return sum(c for _, c in expr.terms)
    return expr


Dim = Union[int, DimExpr]


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
        return math.prod(self.shape)

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
