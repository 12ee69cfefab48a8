"""NaN-ignoring reductions of kiln.numpy: nansum, nanmean, nanvar, nanargmax, nancumsum, ...

As in JAX, NaNs are replaced by the reduction's identity before reducing (the `where` before
the arithmetic keeps gradients finite), and integer inputs take the plain reduction.
"""
from __future__ import annotations

import numpy as np

from kiln.numpy import math as m
from kiln.numpy import reductions as r
from kiln.numpy.core import asarray, cast
from kiln.numpy.core import where as _where  # the functions below have a `where` parameter
from kiln.runtime import dtypes


def _nan_reduction(a, reduction, identity, axis, keepdims, **kwargs):
    a = asarray(a)
    if not dtypes.is_inexact(a.dtype):
        return reduction(a, axis=axis, keepdims=keepdims, **kwargs)
    return reduction(_where(m.isnan(a), identity, a), axis=axis, keepdims=keepdims, **kwargs)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _nan_reduction(a, r.sum, 0, axis, keepdims, dtype=dtype, initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _nan_reduction(a, r.prod, 1, axis, keepdims, dtype=dtype, initial=initial, where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    a = asarray(a)
    if a.dtype == np.bool_ or a.dtype.kind in "iu":
        return r.mean(a, axis, dtype, keepdims=keepdims, where=where)
    dtype = dtypes.to_inexact_dtype(a.dtype) if dtype is None else dtypes.canonicalize_dtype(dtype)
    count = r.sum(m.logical_not(m.isnan(a)), axis, dtype=dtype, keepdims=keepdims, where=where)
    return m.true_divide(nansum(a, axis, dtype=dtype, keepdims=keepdims, where=where), count)


def _var_dtypes(a_dtype, dtype):
    """(computation dtype, result dtype), as JAX's var: complex inputs give real variances."""
    if dtype is not None:
        dtype = dtypes.canonicalize_dtype(dtype)
        if dtype.kind != "c" and a_dtype.kind == "c":
            raise ValueError("jax.numpy.var does not yet support real dtype parameters when computing "
                             "the variance of an array of complex values.")
        computation = dtype
    elif not dtypes.is_inexact(a_dtype):
        dtype = computation = dtypes.to_inexact_dtype(a_dtype)
    else:
        dtype, computation = np.array(0, a_dtype).real.dtype, a_dtype
    if computation == np.float16:  # summed in float32, as JAX does
        computation = np.dtype(np.float32)
    return computation, np.dtype(dtype)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
    a = asarray(a)
    computation, dtype = _var_dtypes(a.dtype, dtype)
    a = cast(a, computation)
    if mean is None:
        mean = nanmean(a, axis, dtype=computation, keepdims=True, where=where)
    else:
        mean = cast(asarray(mean), computation)
    nan = m.isnan(a)
    centered = _where(nan, 0, m.subtract(a, mean))
    if dtypes.is_complex(centered.dtype):
        squares = m.real(m.multiply(centered, m.conj(centered)))
    else:
        squares = m.square(centered)
    count = m.subtract(r.sum(m.logical_not(nan), axis, keepdims=keepdims, where=where), ddof)
    empty = m.less_equal(count, 0)
    total = _where(empty, np.nan, r.sum(squares, axis, keepdims=keepdims, where=where))
    result = m.true_divide(total, cast(_where(empty, 1, count), total.dtype))
    return cast(result, dtype)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, mean=None):
    return m.sqrt(nanvar(a, axis, dtype, ddof=ddof, keepdims=keepdims, where=where, mean=mean))


def _nanarg(arg, fill, a, axis, keepdims):
    a = asarray(a)
    keepdims = bool(keepdims)
    if not dtypes.is_inexact(a.dtype):
        return arg(a, axis, keepdims=keepdims)
    nan = m.isnan(a)
    found = arg(_where(nan, fill, a), axis, keepdims=keepdims)
    return _where(r.all(nan, axis, keepdims=keepdims), -1, found)


def nanargmax(a, axis=None, out=None, keepdims=None):
    return _nanarg(r.argmax, -np.inf, a, axis, keepdims)


def nanargmin(a, axis=None, out=None, keepdims=None):
    return _nanarg(r.argmin, np.inf, a, axis, keepdims)


def _nan_cumulative(cumulative, identity, a, axis, dtype):
    a = asarray(a)
    if dtypes.is_inexact(a.dtype):
        a = _where(m.isnan(a), cast(identity, a.dtype, a.weak_type), a)
    return cumulative(a, axis, dtype)


def nancumsum(a, axis=None, dtype=None, out=None):
    return _nan_cumulative(r.cumsum, 0, a, axis, dtype)


def nancumprod(a, axis=None, dtype=None, out=None):
    return _nan_cumulative(r.cumprod, 1, a, axis, dtype)
