"""Operators and methods shared by kiln.Array and staged values.

Installed once on both classes, so `x + 1`, `x.sum(axis=0)` and `x.at[i].set(v)` mean the
same eagerly and while compiling.
"""
from __future__ import annotations

from kiln.numpy import contractions as c
from kiln.numpy import math as m
from kiln.numpy import reductions as r
from kiln.numpy import shapes as s
from kiln.numpy import sorting
from kiln.numpy.core import astype
from kiln.numpy.indexing import _IndexUpdateHelper, getitem


def _swap(fn):
    return lambda self, other: fn(other, self)


def _reshape(self, *shape, order="C"):
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = shape[0]
    return s.reshape(self, shape, order)


def _transpose(self, *axes):
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
        axes = axes[0]
    return s.transpose(self, axes or None)


def _builtin_round(self, ndigits=None):
    """`round(x)`: like round() of a Python float, no ndigits gives an integer (array), as JAX."""
    return m.round(self, ndigits) if ndigits is not None else astype(m.round(self), int)


_OPERATORS = {
    "__add__": m.add, "__radd__": _swap(m.add),
    "__sub__": m.subtract, "__rsub__": _swap(m.subtract),
    "__mul__": m.multiply, "__rmul__": _swap(m.multiply),
    "__truediv__": m.true_divide, "__rtruediv__": _swap(m.true_divide),
    "__floordiv__": m.floor_divide, "__rfloordiv__": _swap(m.floor_divide),
    "__mod__": m.remainder, "__rmod__": _swap(m.remainder),
    "__divmod__": m.divmod, "__rdivmod__": _swap(m.divmod),
    "__pow__": m.power, "__rpow__": _swap(m.power),
    "__matmul__": c.matmul, "__rmatmul__": _swap(c.matmul),
    "__and__": m.bitwise_and, "__rand__": _swap(m.bitwise_and),
    "__or__": m.bitwise_or, "__ror__": _swap(m.bitwise_or),
    "__xor__": m.bitwise_xor, "__rxor__": _swap(m.bitwise_xor),
    "__lshift__": m.left_shift, "__rlshift__": _swap(m.left_shift),
    "__rshift__": m.right_shift, "__rrshift__": _swap(m.right_shift),
    "__eq__": m.equal, "__ne__": m.not_equal,
    "__lt__": m.less, "__le__": m.less_equal, "__gt__": m.greater, "__ge__": m.greater_equal,
    "__neg__": m.negative, "__pos__": m.positive, "__abs__": m.abs, "__invert__": m.invert,
    "__round__": lambda self, ndigits=None: _builtin_round(self, ndigits),
    "__getitem__": getitem,
}

_METHODS = {
    "sum": r.sum, "prod": r.prod, "mean": r.mean, "max": r.max, "min": r.min, "std": r.std,
    "var": r.var, "argmax": r.argmax, "argmin": r.argmin, "any": r.any, "all": r.all,
    "cumsum": r.cumsum, "cumprod": r.cumprod, "ptp": r.ptp,
    "reshape": _reshape, "transpose": _transpose, "ravel": s.ravel, "flatten": s.ravel,
    "squeeze": s.squeeze, "swapaxes": s.swapaxes, "repeat": s.repeat, "take": s.take,
    "diagonal": s.diagonal, "trace": s.trace,
    "astype": astype, "round": m.round, "clip": m.clip, "conj": m.conj, "conjugate": m.conj,
    "dot": c.dot, "sort": sorting.sort, "argsort": sorting.argsort,
}

_PROPERTIES = {
    "T": lambda self: s.transpose(self),
    "mT": lambda self: s.matrix_transpose(self),
    "real": lambda self: m.real(self),
    "imag": lambda self: m.imag(self),
    "at": lambda self: _IndexUpdateHelper(self),
}


def install(cls) -> None:
    for name, fn in {**_OPERATORS, **_METHODS}.items():
        setattr(cls, name, fn)
    for name, fn in _PROPERTIES.items():
        setattr(cls, name, property(fn))
