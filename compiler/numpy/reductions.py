"""Reductions of kiln.numpy: sum, mean, max, argmax, std, cumsum, ... with axis/keepdims."""
from __future__ import annotations

import builtins

import numpy as np

from kiln import lax
from kiln.lax.reductions import highest_value, lowest_value
from kiln.numpy.core import asarray, canonical_axes, canonical_axis, cast, promote, reshape_to, where
from kiln.numpy.core import where as where_  # for functions with a `where` parameter
from kiln.numpy import math as m
from kiln.runtime import dtypes


def _keep(out, x_shape, axes, keepdims):
    if not keepdims:
        return out
    return reshape_to(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))


def _sum_dtype(x_dtype, dtype):
    if dtype is not None:
        return dtypes.canonicalize_dtype(dtype)
    # NumPy and JAX sum small integers and bools in the default integer type.
    if x_dtype == np.bool_ or (x_dtype.kind == "i" and x_dtype.itemsize < dtypes.default_int_dtype().itemsize):
        return dtypes.default_int_dtype()
    if x_dtype.kind == "u" and x_dtype.itemsize < dtypes.default_uint_dtype().itemsize:
        return dtypes.default_uint_dtype()
    return x_dtype


def _reduce(p_fn, x, axis, keepdims, dtype=None, promote_small=True, initial=None, where_=None,
            identity=None, combine=None):
    x = asarray(x)
    axes = canonical_axes(axis, x.ndim)
    target = _sum_dtype(x.dtype, dtype) if promote_small else x.dtype
    x = cast(x, target)  # reductions return strongly typed arrays, as in JAX
    if where_ is not None:
        x = where(where_, x, identity)
    out = p_fn(x, axes)
    if initial is not None:
        out = combine(out, cast(initial, out.dtype))
    return _keep(out, x.shape, axes, keepdims)


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _reduce(lax.reduce_sum, a, axis, keepdims, dtype, initial=initial, where_=where, identity=0,
                   combine=m.add)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _reduce(lax.reduce_prod, a, axis, keepdims, dtype, initial=initial, where_=where, identity=1,
                   combine=m.multiply)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    a = asarray(a)
    _check_nonempty(a, axis, "maximum", initial)
    return _reduce(lax.reduce_max, a, axis, keepdims, promote_small=False, initial=initial, where_=where,
                   identity=lowest_value(a.dtype), combine=m.maximum)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    a = asarray(a)
    _check_nonempty(a, axis, "minimum", initial)
    return _reduce(lax.reduce_min, a, axis, keepdims, promote_small=False, initial=initial, where_=where,
                   identity=highest_value(a.dtype), combine=m.minimum)


amax, amin = max, min


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _nan_reduction(max, lowest_value, a, axis, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _nan_reduction(min, highest_value, a, axis, keepdims, initial, where)


def _nan_reduction(reduction, identity, a, axis, keepdims, initial, where):
    """JAX's: NaNs replaced by the identity; NaN where every value is NaN, unless `initial`."""
    a = asarray(a)
    if not dtypes.is_inexact(a.dtype):
        return reduction(a, axis, keepdims=keepdims, initial=initial, where=where)
    nan = m.isnan(a)
    out = reduction(where_(nan, identity(a.dtype), a), axis, keepdims=keepdims, initial=initial, where=where)
    if initial is not None:
        return out
    return where_(all(nan, axis, keepdims=keepdims), np.asarray(np.nan, a.dtype), out)


def _check_nonempty(a, axis, what, initial):
    if initial is None and builtins.any(a.shape[i] == 0 for i in canonical_axes(axis, a.ndim)):
        raise ValueError(f"zero-size array to reduction operation {what} which has no identity")


def all(a, axis=None, out=None, keepdims=False, *, where=None):
    return _reduce(lax.reduce_and, m._as_bool(a), axis, keepdims, promote_small=False, where_=where, identity=True)


def any(a, axis=None, out=None, keepdims=False, *, where=None):
    return _reduce(lax.reduce_or, m._as_bool(a), axis, keepdims, promote_small=False, where_=where, identity=False)


def _count(a, axes):
    return int(np.prod([a.shape[i] for i in axes], dtype=np.int64))


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    a = asarray(a)
    axes = canonical_axes(axis, a.ndim)
    target = dtypes.to_inexact_dtype(a.dtype if dtype is None else dtypes.canonicalize_dtype(dtype))
    a = cast(a, target)
    if where is not None:
        count = sum(where_mask_like(a, where, target), axis, keepdims=keepdims)
        return m.true_divide(sum(a, axis, keepdims=keepdims, where=where), count)
    return m.true_divide(sum(a, axis, keepdims=keepdims), _count(a, axes))


def where_mask_like(a, mask, dtype):
    """`mask` broadcast to `a`'s shape, as 0/1 values of `dtype`."""
    from kiln.numpy.core import broadcast_to
    return cast(broadcast_to(mask, a.shape), dtype)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    if correction is not None:
        ddof = correction
    a = asarray(a)
    axes = canonical_axes(axis, a.ndim)
    a = cast(a, dtypes.to_inexact_dtype(a.dtype))
    centered = m.subtract(a, mean(a, axis, keepdims=True))
    if dtypes.is_complex(a.dtype):
        squares = m.real(m.multiply(centered, m.conj(centered)))
    else:
        squares = m.multiply(centered, centered)
    return m.true_divide(sum(squares, axis, keepdims=keepdims), _count(a, axes) - ddof)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, correction=None):
    return m.sqrt(var(a, axis, dtype, out, ddof, keepdims, where=where, correction=correction))


def _arg(p_fn, a, axis, keepdims, what):
    a = asarray(a)
    if axis is None:
        if a.size == 0:
            raise ValueError(f"attempt to get {what} of an empty sequence")
        flat = reshape_to(a, (a.size,))
        out = p_fn(flat, 0, dtypes.default_int_dtype())
        return reshape_to(out, (1,) * a.ndim) if keepdims else out
    ax = canonical_axis(axis, a.ndim)
    out = p_fn(a, ax, dtypes.default_int_dtype())
    return _keep(out, a.shape, (ax,), keepdims)


def argmax(a, axis=None, out=None, keepdims=False):
    return _arg(lax.argmax, a, axis, keepdims, "argmax")


def argmin(a, axis=None, out=None, keepdims=False):
    return _arg(lax.argmin, a, axis, keepdims, "argmin")


def _cumulative(p_fn, a, axis, dtype):
    a = asarray(a)
    if axis is None or a.ndim == 0:
        a = reshape_to(a, (a.size,))
    axis = canonical_axis(0 if axis is None else axis, a.ndim)
    # Unlike sum, JAX accumulates small integers in their own type; only bools are promoted.
    if dtype is None:
        result = dtypes.default_int_dtype() if a.dtype == np.bool_ else a.dtype
        return p_fn(cast(a, result), axis)
    result = dtypes.canonicalize_dtype(dtype)
    if result == np.bool_:  # accumulate 0/1 counts, then test them
        return m.not_equal(p_fn(cast(m.not_equal(a, 0), dtypes.default_int_dtype()), axis), 0)
    return p_fn(cast(a, result), axis)


def cumsum(a, axis=None, dtype=None, out=None):
    return _cumulative(lax.cumsum, a, axis, dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    return _cumulative(lax.cumprod, a, axis, dtype)


cumulative_sum = cumsum
cumulative_prod = cumprod


def ptp(a, axis=None, out=None, keepdims=False):
    return m.subtract(max(a, axis, keepdims=keepdims), min(a, axis, keepdims=keepdims))


def count_nonzero(a, axis=None, keepdims=False):
    return sum(m.not_equal(a, 0), axis, keepdims=keepdims)


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        count = asarray(a).size // builtins.max(avg.size, 1)
        return (avg, m.add(m.zeros_like_value(avg), count)) if returned else avg
    a, w = promote(a, weights)
    if w.shape != a.shape:  # 1-d weights along `axis`
        ax = canonical_axis(axis, a.ndim)
        w = reshape_to(w, tuple(w.shape[0] if i == ax else 1 for i in range(a.ndim)))
    total = sum(m.multiply(a, w), axis, keepdims=keepdims)
    wsum = sum(m.add(m.zeros_like_value(a), w), axis, keepdims=keepdims)
    avg = m.true_divide(total, wsum)
    return (avg, wsum) if returned else avg
