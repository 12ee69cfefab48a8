"""The machinery every kiln.numpy function uses: conversion, promotion, broadcasting.

kiln.numpy functions are written once, on top of kiln.lax. On concrete arrays they run
eagerly (each primitive's NumPy implementation); while a function is being compiled the same
code stages IR. Python scalars stay weakly typed, as in JAX: `x * 2.0` keeps x's dtype.
"""
from __future__ import annotations

import operator

import numpy as np

from kiln import lax
from kiln.primitives import aval_of, bind
from kiln.runtime import dtypes
from kiln.runtime.array import Array
from kiln.staging import Staged

_PY_SCALARS = (bool, int, float, complex)


def is_array(x) -> bool:
    return isinstance(x, (Array, Staged))


def shape(x) -> tuple[int, ...]:
    return aval_of(x).shape if not isinstance(x, (list, tuple)) else np.shape(x)


def ndim(x) -> int:
    return len(shape(x))


def size(x, axis=None) -> int:
    s = shape(x)
    return int(np.prod(s, dtype=np.int64)) if axis is None else s[axis]


# ---------------------------------------------------------------------------- conversion

def _weak_scalar(x, dtype=None) -> Array:
    d, weak = dtypes.dtype_and_weak(x)
    if dtype is not None:
        d, weak = dtypes.canonicalize_dtype(dtype), False
    return Array(np.asarray(x, dtype=d), weak)


def _flatten_nested(x):
    """Leaves of a nested list/tuple and whether any leaf is an array value."""
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _flatten_nested(item)]
    return [x]


def asarray(x, dtype=None, copy=None, order=None) -> Array | Staged:
    """`jnp.asarray`: kiln arrays pass through (cast if `dtype` is given)."""
    if isinstance(x, (Array, Staged)):
        return x if dtype is None else astype(x, dtype)
    if isinstance(x, _PY_SCALARS):
        return _weak_scalar(x, dtype)
    if isinstance(x, (list, tuple)):
        leaves = _flatten_nested(x)
        if any(is_array(leaf) for leaf in leaves):
            out = _stack_nested(x, dtype)
            return cast(out, out.dtype)  # a list makes a strongly typed array, as in JAX
    if hasattr(x, "__jax_array__"):
        return asarray(x.__jax_array__(), dtype)
    value = np.asarray(x)
    if value.dtype == object:
        raise TypeError(f"kiln arrays cannot hold Python objects (got {type(x).__name__} "
                        "that converts to an object array)")
    if value.dtype.kind in "SUVMm":
        raise TypeError(f"kiln arrays hold numbers, not {value.dtype} values ({type(x).__name__})")
    if dtype is None:
        if isinstance(x, (list, tuple)) and value.size and not isinstance(x, np.ndarray):
            # A list of Python scalars is typed like the scalars (strongly, as JAX does).
            dtype_, _ = dtypes.result_type(*_flatten_nested(x), return_weak_type_flag=True)
            target = dtype_
        elif isinstance(x, (list, tuple)):
            target = dtypes.default_float_dtype()
        else:
            target = dtypes.canonicalize_dtype(value.dtype)
    else:
        target = dtypes.canonicalize_dtype(dtype)
    return Array(np.array(value, dtype=target))


def array(x, dtype=None, copy=True, order="K", ndmin=0):
    out = asarray(x, dtype)
    if ndmin > out.ndim:
        out = reshape_to(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


def _stack_nested(x, dtype):
    if isinstance(x, (list, tuple)):
        items = [_stack_nested(item, dtype) for item in x]
        if not items:
            return asarray(np.zeros((0,)), dtype)
        items = promote(*items)
        shapes = [i.shape for i in items]
        if len(set(shapes)) > 1:  # a TypeError, as JAX's concatenate raises
            raise TypeError(f"cannot make an array of a list of arrays of different shapes: {shapes}")
        return lax.concatenate([reshape_to(i, (1,) + i.shape) for i in items], 0)
    return asarray(x, dtype)


def astype(x, dtype, copy=False):
    x = asarray(x)
    target = dtypes.canonicalize_dtype(dtype)
    if x.dtype == target and not x.weak_type:
        return x
    return lax.convert_element_type(x, target)


# ---------------------------------------------------------------------------- promotion

def promote(*args):
    """Convert operands to arrays of their common JAX dtype (weak if all are weak)."""
    dtype, weak = dtypes.result_type(*args, return_weak_type_flag=True)
    return [cast(a, dtype, weak) for a in args]


def cast(x, dtype, weak=False):
    if isinstance(x, _PY_SCALARS):
        return Array(np.asarray(x, dtype=dtype), weak)
    x = asarray(x)
    if x.dtype == dtype and x.weak_type == weak:
        return x
    return lax.convert_element_type(x, dtype, weak_type=weak)


def promote_inexact(*args):
    """Promote, then move integer/bool results to the default float type (as jnp.sqrt does)."""
    dtype, weak = dtypes.result_type(*args, return_weak_type_flag=True)
    dtype = dtypes.to_inexact_dtype(dtype)
    return [cast(a, dtype, weak) for a in args]


# ---------------------------------------------------------------------------- broadcasting

def broadcast_shapes(*shapes) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(s) for s in shapes]}") from None


def broadcast_to(x, shape):
    x = asarray(x)
    shape = tuple(int(d) for d in shape)
    if x.shape == shape:
        return x
    if len(shape) < x.ndim or any(d not in (1, s) for d, s in zip(x.shape[::-1], shape[::-1])):
        raise ValueError(f"cannot broadcast array of shape {x.shape} to shape {shape}")
    lead = len(shape) - x.ndim
    return lax.broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


def broadcast_arrays(*args):
    args = [asarray(a) for a in args]
    target = broadcast_shapes(*(a.shape for a in args))
    return [broadcast_to(a, target) for a in args]


def elementwise_operands(name, *args):
    """Broadcast operands to one shape, leaving rank-0 ones (primitives broadcast those)."""
    shapes = [tuple(a.shape) for a in args]
    if len({len(s) for s in shapes}) == 1:
        try:
            target = np.broadcast_shapes(*shapes)
        except ValueError:  # JAX's ufuncs report clashing shapes of equal rank so
            raise TypeError(f"{name} got incompatible shapes for broadcasting: "
                            + ", ".join(map(str, shapes)) + ".") from None
    else:
        target = broadcast_shapes(*shapes)
    return [a if a.shape in ((), target) else broadcast_to(a, target) for a in args]


def reshape_to(x, new_shape):
    return lax.reshape(x, tuple(int(d) for d in new_shape))


# ---------------------------------------------------------------------------- elementwise

def unary(p, name=None, *, inexact=False):
    def fn(x, /):
        (x,) = promote_inexact(x) if inexact else promote(x)
        return bind(p, x)
    fn.__name__ = name or p.name
    return fn


def binary(p, name=None, *, inexact=False):
    name = name or p.name

    def fn(x, y, /):
        x, y = promote_inexact(x, y) if inexact else promote(x, y)
        x, y = elementwise_operands(name, x, y)
        return bind(p, x, y)
    fn.__name__ = name
    return fn


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    if x is None and y is None:
        from kiln.numpy.indexing import nonzero
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("jnp.where takes either one argument or three")
    condition = cast(condition, np.dtype(np.bool_)) if aval_of(condition).dtype != np.bool_ else asarray(condition)
    x, y = promote(x, y)
    broadcast_shapes(condition.shape, x.shape, y.shape)  # raises JAX's ValueError on a clash
    condition, x, y = elementwise_operands("where", condition, x, y)
    return lax.select_n(condition, y, x)


def full_like_shape(value, shape, dtype=None):
    """A `shape` array filled with `value` (staged as one broadcast)."""
    value = asarray(value, dtype)
    return broadcast_to(value, shape)


def canonical_axis(axis: int, ndim: int) -> int:
    axis = operator.index(axis)
    if not -ndim <= axis < ndim:
        # NumPy's AxisError is both a ValueError and an IndexError; JAX raises either,
        # depending on the function.
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def canonical_axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(canonical_axis(int(a), ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"repeated axis in {axis}")
        return axes
    return (canonical_axis(int(axis), ndim),)
