"""Array creation of kiln.numpy: zeros, ones, full, arange, linspace, eye, ..."""
from __future__ import annotations

import operator

import numpy as np

from kiln import lax
from kiln.numpy.core import asarray, broadcast_to, cast, promote, reshape_to
from kiln.primitives import aval_of
from kiln.runtime import dtypes
from kiln.runtime.array import Array


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"Shapes must be sequences of integers, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise TypeError(f"broadcast_in_dim shape must have every element be nonnegative, got {shape}.")
    return shape


def _dtype(dtype, default=None):
    if dtype is None:
        return dtypes.default_float_dtype() if default is None else default
    return dtypes.canonicalize_dtype(dtype)


def full(shape, fill_value, dtype=None, *, device=None):
    """Without a dtype the result is typed like the fill value (weakly for a Python scalar)."""
    return broadcast_to(asarray(fill_value, dtype), _shape(shape))


def zeros(shape, dtype=None, *, device=None):
    return full(shape, 0, _dtype(dtype))


def ones(shape, dtype=None, *, device=None):
    return full(shape, 1, _dtype(dtype))


def empty(shape, dtype=None, *, device=None):
    return zeros(shape, dtype)


def _like(a, fill_value, dtype, shape):
    """full_like: `a`'s shape and dtype unless given; weakly typed only when `a` is and no
    dtype is given (the fill value's type does not matter), as in JAX."""
    aval = aval_of(a)
    shape = aval.shape if shape is None else _shape(shape)
    if dtype is None:
        return broadcast_to(cast(fill_value, aval.dtype, aval.weak_type), shape)
    return full(shape, fill_value, _dtype(dtype))


def zeros_like(a, dtype=None, shape=None, *, device=None):
    return _like(a, 0, dtype, shape)


def ones_like(a, dtype=None, shape=None, *, device=None):
    return _like(a, 1, dtype, shape)


def empty_like(a, dtype=None, shape=None, *, device=None):
    return zeros_like(a, dtype, shape)


def full_like(a, fill_value, dtype=None, shape=None, *, device=None):
    return _like(a, fill_value, dtype, shape)


def arange(start, stop=None, step=None, dtype=None, *, device=None):
    for v in (start, stop, step):
        if v is not None and not isinstance(v, (int, float, np.number, Array)):
            raise TypeError("kiln.numpy.arange needs static (Python or concrete) bounds; "
                            f"got {type(v).__name__}. Use kiln.lax.iota inside compiled functions")
    if stop is None and step is None:
        start, stop = 0, start
    step = 1 if step is None else step
    values = [v.item() if isinstance(v, Array) else v for v in (start, stop, step)]
    if dtype is None:
        dtype = dtypes.result_type(*values)
    dtype = dtypes.canonicalize_dtype(dtype)
    n = len(range(0, int(np.ceil((values[1] - values[0]) / values[2])))) if values[2] else 0
    if n <= 0:
        return zeros((0,), dtype)
    ramp = lax.iota(dtype if dtype.kind in "iu" else dtypes.default_int_dtype(), n)
    if dtype.kind in "iu" and values[0] == 0 and values[2] == 1:
        return ramp
    ramp = cast(ramp, dtype)
    return ramp * np.asarray(values[2], dtype) + np.asarray(values[0], dtype)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = promote(asarray(start), asarray(stop))
    out_dtype = _dtype(dtype, dtypes.to_inexact_dtype(aval_of(start).dtype))
    compute = dtypes.to_inexact_dtype(out_dtype)
    start, stop = cast(start, compute), cast(stop, compute)
    div = (num - 1) if endpoint else num
    shape = tuple(np.broadcast_shapes(start.shape, stop.shape))
    bshape = (num,) + (1,) * len(shape)
    start_b = reshape_to(broadcast_to(start, shape), (1,) + shape)
    stop_b = reshape_to(broadcast_to(stop, shape), (1,) + shape)
    step = (stop_b - start_b) / div if div > 0 else stop_b * np.nan
    if num == 0:
        out = zeros((0,) + shape, compute)
    elif div > 0:
        # as JAX interpolates: start (1 - t) + stop t at t = i / div, then stop itself at the end
        real = np.finfo(compute).dtype
        t = cast(cast(lax.iota(dtypes.default_int_dtype(), div), real) / np.asarray(div, real), compute)
        t = reshape_to(t, (div,) + (1,) * len(shape))
        out = start_b * (1 - t) + stop_b * t
        if endpoint:
            out = lax.concatenate([out, stop_b], 0)
    else:
        out = broadcast_to(start_b, bshape)
    if axis != 0:
        from kiln.numpy.shapes import moveaxis
        out = moveaxis(out, 0, axis)
    out = cast(_floor_if_int(out, out_dtype), out_dtype)
    if retstep:
        return out, reshape_to(step, shape) if div > 0 else step
    return out


def _floor_if_int(x, dtype):
    from kiln.numpy.math import floor
    return floor(x) if np.dtype(dtype).kind in "iu" else x


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    from kiln.numpy.math import power
    return cast(power(base, linspace(start, stop, num, endpoint, axis=axis)), _dtype(dtype))


def eye(N, M=None, k=0, dtype=None, *, device=None):
    M = N if M is None else M
    dtype = _dtype(dtype)
    rows = lax.broadcasted_iota(dtypes.default_int_dtype(), (N, M), 0)
    cols = lax.broadcasted_iota(dtypes.default_int_dtype(), (N, M), 1)
    return cast(lax.eq(rows + k, cols), dtype)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    M = N if M is None else M
    rows = lax.broadcasted_iota(dtypes.default_int_dtype(), (N, M), 0)
    cols = lax.broadcasted_iota(dtypes.default_int_dtype(), (N, M), 1)
    return cast(lax.ge(rows + k, cols), _dtype(dtype))


def meshgrid(*xi, indexing="xy", sparse=False, copy=True):
    arrays = [reshape_to(asarray(x), (asarray(x).size,)) for x in xi]
    n = len(arrays)
    shape = [a.shape[0] for a in arrays]
    if indexing == "xy" and n > 1:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, a in enumerate(arrays):
        axis = (1 - i if i < 2 else i) if indexing == "xy" and n > 1 else i
        s = [1] * n
        s[axis] = a.shape[0]
        a = reshape_to(a, s)
        out.append(a if sparse else broadcast_to(a, shape))
    return out


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    num, axis = operator.index(num), operator.index(axis)
    if dtype is None:
        dtype = dtypes.to_inexact_dtype(dtypes.result_type(start, stop))
    else:
        dtype = dtypes.canonicalize_dtype(dtype)
    compute = dtypes.to_inexact_dtype(dtype)
    start, stop = cast(asarray(start), compute), cast(asarray(stop), compute)
    from kiln.numpy.math import log10, sign
    s = sign(start)
    out = s * logspace(log10(start / s), log10(stop / s), num, endpoint=endpoint, base=10.0, dtype=compute)
    if axis != 0:
        from kiln.numpy.core import canonical_axis
        from kiln.numpy.shapes import moveaxis
        out = moveaxis(out, 0, canonical_axis(axis, out.ndim))
    return cast(out, dtype)
