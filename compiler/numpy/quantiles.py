"""Order statistics of kiln.numpy: quantile, percentile, median and their NaN-ignoring forms.

As JAX computes them: sort along the axis, then interpolate between the two neighbouring
order statistics of the fractional rank `q * (n - 1)` (n counts the non-NaN values in the
nan* forms; otherwise a NaN anywhere in a slice makes its result NaN).
"""
from __future__ import annotations

import numpy as np

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy import reductions as r
from kiln.numpy.core import asarray, canonical_axes, canonical_axis, cast, promote_inexact, reshape_to, where
from kiln.numpy.shapes import expand_dims, moveaxis, take_along_axis, transpose
from kiln.runtime import dtypes

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(a, q, axis, method, keepdims, squash_nans, weights=None):
    if method not in _METHODS + ("inverted_cdf",):
        raise ValueError("method can only be 'linear', 'lower', 'higher', 'midpoint', 'nearest' or "
                         "'inverted_cdf'")
    if weights is not None or method == "inverted_cdf":
        raise NotImplementedError("kiln.numpy.quantile does not support weights or method='inverted_cdf' yet")
    (a,) = promote_inexact(a)
    q = asarray(q)
    if dtypes.is_complex(a.dtype):
        raise ValueError("quantile does not support complex input, as the operation is poorly defined.")
    if q.ndim > 1:
        raise ValueError(f"q must be have rank <= 1, got shape {q.shape}")
    keep_shape = None
    if axis is None:
        keep_shape = (1,) * a.ndim if keepdims else None
        a, axis = reshape_to(a, (a.size,)), 0
    elif isinstance(axis, (tuple, list)):
        axes = canonical_axes(tuple(axis), a.ndim)
        keep_shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape))
        rest = [i for i in range(a.ndim) if i not in axes]
        a = transpose(a, rest + sorted(axes))
        a = reshape_to(a, tuple(a.shape[:len(rest)]) + (int(np.prod(a.shape[len(rest):], dtype=np.int64)),))
        axis = a.ndim - 1
    else:
        axis = canonical_axis(axis, a.ndim)
    if not keepdims:
        keep_shape = None

    # The sorted values along the last axis; `rest` is the shape of one result per q.
    if squash_nans:
        a = lax.sort(moveaxis(where(m.isnan(a), np.nan, a), axis, -1), dimension=a.ndim - 1)
        n = r.sum(m.logical_not(m.isnan(a)), axis=-1, dtype=q.dtype)
    else:
        a = moveaxis(where(r.any(m.isnan(a), axis=axis, keepdims=True), np.nan, a), axis, -1)
        a = lax.sort(a, dimension=a.ndim - 1)
        n = cast(a.shape[-1], q.dtype)
    rest = a.shape[:-1]
    q_b = reshape_to(q, q.shape + (1,) * len(rest))
    rank = m.multiply(q_b, m.subtract(n, 1))
    low, high = m.floor(rank), m.ceil(rank)
    high_weight = m.subtract(rank, low)
    low_weight = m.subtract(1, high_weight)
    low = cast(m.clip(low, 0, m.subtract(n, 1)), dtypes.default_int_dtype())
    high = cast(m.clip(high, 0, m.subtract(n, 1)), dtypes.default_int_dtype())
    values = reshape_to(a, (1,) * q.ndim + a.shape)
    index_shape = q.shape + rest + (1,)
    from kiln.numpy.core import broadcast_to
    low_value = take_along_axis(values, broadcast_to(low, index_shape[:-1])[..., None], axis=-1)[..., 0]
    high_value = take_along_axis(values, broadcast_to(high, index_shape[:-1])[..., None], axis=-1)[..., 0]

    if method == "linear":
        result = m.add(m.multiply(cast(low_value, q.dtype), low_weight),
                       m.multiply(cast(high_value, q.dtype), high_weight))
    elif method == "lower":
        result = low_value
    elif method == "higher":
        result = high_value
    elif method == "nearest":
        result = where(m.less_equal(high_weight, 0.5), low_value, high_value)
    else:
        result = m.multiply(m.add(low_value, high_value), cast(0.5, low_value.dtype))
    if keepdims:
        result = expand_dims(result, q.ndim + axis) if keep_shape is None else \
            reshape_to(result, q.shape + keep_shape)
    return cast(result, a.dtype)


def _check_out(name, out, overwrite_input):
    if overwrite_input or out is not None:
        raise ValueError(f"jax.numpy.{name} does not support overwrite_input=True or out != None")


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
             weights=None):
    _check_out("quantile", out, overwrite_input)
    return _quantile(asarray(a), q, axis, method, keepdims, False, weights)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                weights=None):
    _check_out("nanquantile", out, overwrite_input)
    return _quantile(asarray(a), q, axis, method, keepdims, True, weights)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
               weights=None):
    (q,) = promote_inexact(q)
    return quantile(a, m.true_divide(q, 100), axis, out, overwrite_input, method, keepdims, weights=weights)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                  weights=None):
    (q,) = promote_inexact(q)
    return nanquantile(a, m.true_divide(q, 100), axis, out, overwrite_input, method, keepdims, weights=weights)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return quantile(a, 0.5, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims,
                    method="midpoint")


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return nanquantile(a, 0.5, axis=axis, out=out, overwrite_input=overwrite_input, keepdims=keepdims,
                       method="midpoint")
