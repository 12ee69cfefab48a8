"""Primitives and their rule tables.

A primitive is a name. Everything kiln knows about it lives in one dict per transform,
keyed by the primitive:

- `shape_rules[p](*in_avals, **params) -> list[ShapedArray]`: the output types. Must raise
  TypeError/ValueError with a clear message on bad input.
- `impl_rules[p](*np_values, **params) -> list[np.ndarray]`: the NumPy reference
  implementation. Eager kiln.numpy and the reference backend both run it.
- `jvp_rules`, `transpose_rules`, `vmap_rules`, `llvm_lowerings`, `hlo_lowerings`: filled in by
  the passes and backends that need them.

Each primitive registers all of its rules in one block beside its definition (see
`kiln.lax`). A lookup of a missing rule raises `MissingRuleError` naming the primitive and
the transform.

`bind(p, *args, **params)` applies a primitive: on concrete values it runs the impl rule
(eager mode); while a function is being staged it appends an equation to the innermost
`Builder` instead.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import ShapedArray
from kiln.runtime import dtypes


class Primitive:
    __slots__ = ("name", "multiple_results")

    def __init__(self, name: str, multiple_results: bool = False):
        self.name = name
        self.multiple_results = multiple_results

    def __repr__(self) -> str:
        return self.name

    def bind(self, *args, **params):
        return bind(self, *args, **params)


class MissingRuleError(NotImplementedError):
    pass


class RuleTable(dict):
    """A dict keyed by primitive whose missing entries fail with a clear message."""

    def __init__(self, transform: str):
        super().__init__()
        self.transform = transform

    def __missing__(self, prim):
        raise MissingRuleError(f"kiln: primitive '{prim}' has no {self.transform} rule")


shape_rules = RuleTable("shape")
impl_rules = RuleTable("reference implementation")
jvp_rules = RuleTable("jvp (forward-mode differentiation)")
transpose_rules = RuleTable("transpose (reverse-mode differentiation)")
vmap_rules = RuleTable("vmap (batching)")
llvm_lowerings = RuleTable("LLVM lowering")
hlo_lowerings = RuleTable("StableHLO lowering")

registry: dict[str, Primitive] = {}
# Primitives whose equations are effects (calls back into Python: `kiln.debug.print`): kept by
# dead-code elimination and never merged by CSE. Every other primitive is pure.
effectful: set[Primitive] = set()


def primitive(name: str, multiple_results: bool = False) -> Primitive:
    if name in registry:
        raise ValueError(f"kiln: primitive '{name}' is defined twice")
    p = registry[name] = Primitive(name, multiple_results)
    return p


# ---------------------------------------------------------------------------- values

def public_names(namespace: dict) -> list:
    """A module's `__all__`: the primitives and the public functions and classes it defines,
    not the modules and names it imports (so `from module import *` exports its API only)."""
    module = namespace["__name__"]
    return [name for name, value in namespace.items() if not name.startswith("_") and (
        isinstance(value, Primitive) or getattr(value, "__module__", None) == module)]


def aval_of(x) -> ShapedArray:
    """The abstract value of anything an operation accepts: arrays, staged values, scalars."""
    aval = getattr(x, "aval", None)
    if aval is not None:
        return aval
    dtype, weak = dtypes.dtype_and_weak(x)
    return ShapedArray(tuple(np.shape(x)), dtype, weak)


def concrete_value(x) -> np.ndarray:
    """A NumPy value for a concrete operand (kiln.Array, NumPy array or Python scalar)."""
    value = getattr(x, "_value", None)
    if value is not None:
        return value
    dtype, _ = dtypes.dtype_and_weak(x)
    return np.asarray(x, dtype=dtype)


# ---------------------------------------------------------------------------- bind

def bind(prim: Primitive, *args, **params):
    from kiln.staging import current_builder
    builder = current_builder()
    if builder is not None:
        outs = builder.emit(prim, args, params)
    else:
        outs = apply_eagerly(prim, args, params)
    return outs if prim.multiple_results else outs[0]


def apply_eagerly(prim: Primitive, args, params) -> list:
    from kiln.runtime.array import Array
    out_avals = shape_rules[prim](*map(aval_of, args), **params)
    values = impl_rules[prim](*map(concrete_value, args), **params)
    return [Array(_owned(np.asarray(v, dtype=a.dtype).reshape(a.shape)), a.weak_type)
            for v, a in zip(values, out_avals)]


def _owned(value: np.ndarray) -> np.ndarray:
    """A buffer of the result's own: NumPy may return views (broadcasts, reshapes of an
    input); an Array owns its memory, and an impossible size fails here, at once."""
    if value.flags.owndata and value.flags.c_contiguous:
        return value
    return np.array(value, order="C")
