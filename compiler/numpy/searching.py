"""Searching and binning of kiln.numpy: searchsorted, digitize, interp, bincount, histogram,
select (JAX's definitions).

searchsorted is a binary search unrolled over the bits of the sorted axis' length (each step a
gather and a compare, batched over every query), comparing in the total order sort uses: NaNs
after every number.
"""
from __future__ import annotations

import operator

import numpy as np

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy.core import (asarray, broadcast_arrays, cast, promote, promote_inexact, reshape_to,
                             where)
from kiln.runtime import dtypes
from kiln.staging import Staged


def _total_less(x, y, or_equal):
    """x < y (or <=) with NaNs ordered after everything, as lax.sort orders them."""
    less = m.less_equal(x, y) if or_equal else m.less(x, y)
    if not dtypes.is_inexact(x.dtype):
        return less
    x_nan, y_nan = m.isnan(x), m.isnan(y)
    after = m.logical_and(y_nan, m.logical_not(x_nan))
    if or_equal:
        after = m.logical_or(after, m.logical_and(x_nan, y_nan))
    return m.logical_or(less, after)


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    a, v = asarray(a), asarray(v)
    if a.ndim != 1:
        raise ValueError("a should be 1-dimensional")
    if side not in ("left", "right"):
        raise ValueError(f"{side!r} is an invalid value for keyword 'side'. Expected one of ['left', 'right']")
    if method not in ("scan", "scan_unrolled", "compare_all", "sort"):
        raise ValueError(f"method={method!r} not recognized; expected one of 'scan', 'scan_unrolled', "
                         "'compare_all', 'sort'")
    a, v = promote(a, v)
    if sorter is not None:
        a = a[asarray(sorter)]
    n = a.shape[0]
    dtype = np.dtype(np.int64) if n > np.iinfo(np.int32).max else np.dtype(np.int32)
    or_equal = side == "right"
    if n == 0:
        from kiln.numpy.creation import zeros
        return zeros(v.shape, dtype)
    if method == "compare_all":
        from kiln.numpy.reductions import sum
        below = _total_less(reshape_to(a, (1,) * v.ndim + (n,)), reshape_to(v, v.shape + (1,)), or_equal)
        return sum(below, axis=-1, dtype=dtype)
    from kiln.numpy.creation import full
    lo, hi = full(v.shape, 0, dtype), full(v.shape, n, dtype)
    for _ in range(n.bit_length()):
        active = m.less(lo, hi)
        mid = m.floor_divide(m.add(lo, hi), 2)
        right = m.logical_and(active, _total_less(a[m.minimum(mid, n - 1)], v, or_equal))
        left = m.logical_and(active, m.logical_not(right))
        lo, hi = where(right, m.add(mid, 1), lo), where(left, mid, hi)
    return lo


def digitize(x, bins, right=False, *, method=None):
    x, bins = asarray(x), asarray(bins)
    if isinstance(right, Staged):
        raise TypeError("the right argument of jnp.digitize() must be static")
    right = bool(right)
    if bins.ndim != 1:
        raise ValueError(f"digitize: bins must be a 1-dimensional array; got bins={bins}")
    if bins.shape[0] == 0:
        from kiln.numpy.creation import zeros
        return zeros(x.shape, np.int32)
    side = "left" if right else "right"
    kw = {} if method is None else {"method": method}
    increasing = m.greater_equal(bins[-1], bins[0])
    return where(increasing, searchsorted(bins, x, side=side, **kw),
                 bins.shape[0] - searchsorted(bins[::-1], x, side=side, **kw))


def interp(x, xp, fp, left=None, right=None, period=None):
    from kiln.numpy.shapes import concatenate
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    if xp.shape != fp.shape or xp.ndim != 1:
        raise ValueError("xp and fp must be one-dimensional arrays of equal size")
    x, xp = promote_inexact(x, xp)
    (fp,) = promote_inexact(fp)
    extrapolate = []
    for name, value in (("left", left), ("right", right)):
        if isinstance(value, str) and value != "extrapolate":
            raise ValueError(f"the only valid string value of `{name}` is 'extrapolate', but got: {value!r}")
        extrapolate.append(isinstance(value, str))
    if dtypes.is_complex(x.dtype):
        raise ValueError("jnp.interp: complex x values not supported.")
    if period is not None:
        if np.ndim(period) != 0:
            raise ValueError(f"period must be a scalar; got {period}")
        period = m.abs(period)
        x, xp = m.remainder(x, period), m.remainder(xp, period)
        xp, fp = lax.sort((xp, fp), dimension=0, num_keys=1)
        xp = concatenate([m.subtract(xp[-1:], period), xp, m.add(xp[:1], period)])
        fp = concatenate([fp[-1:], fp, fp[:1]])
    i = m.clip(searchsorted(xp, x, side="right"), 1, xp.shape[0] - 1)
    df = m.subtract(fp[i], fp[i - 1])
    dx = m.subtract(xp[i], xp[i - 1])
    delta = m.subtract(x, xp[i - 1])
    epsilon = np.spacing(np.finfo(xp.dtype).eps)
    flat = m.less_equal(m.abs(dx), epsilon)  # no NaN gradients where xp repeats
    f = where(flat, fp[i - 1], m.add(fp[i - 1], m.multiply(m.true_divide(delta, where(flat, 1, dx)), df)))
    if not extrapolate[0] and period is None:
        f = where(m.less(x, xp[0]), fp[0] if left is None else left, f)
    if not extrapolate[1] and period is None:
        f = where(m.greater(x, xp[-1]), fp[-1] if right is None else right, f)
    return f


def bincount(x, weights=None, minlength=0, *, length=None):
    from kiln.numpy.creation import zeros
    x = asarray(x)
    if x.dtype == np.bool_:
        x = cast(x, np.dtype(np.int32))
    if x.dtype.kind not in "iu":
        raise TypeError(f"x argument to bincount must have an integer type; got {x.dtype}")
    if x.ndim != 1:
        raise ValueError("only 1-dimensional input supported.")
    minlength = operator.index(minlength)
    if length is None:
        if isinstance(x, Staged):
            from kiln.errors import ConcretizationTypeError
            from kiln.staging import user_location
            raise ConcretizationTypeError("The error occurred because of argument 'x' of jnp.bincount. To "
                                          "avoid this error, pass a static `length` argument.", user_location())
        value = np.asarray(x)
        length = max(minlength, value.size and int(max(0, value.max())) + 1)
    else:
        length = operator.index(length)
    if weights is None:
        weights = np.array(1, dtype=dtypes.default_int_dtype())
    elif asarray(weights).shape != x.shape:
        raise ValueError(f"type of weights must match type of x. Got shapes {x.shape} and "
                         f"{asarray(weights).shape}")
    weights = asarray(weights)
    return zeros(length, weights.dtype).at[m.clip(x, 0)].add(weights)


def histogram_bin_edges(a, bins=10, range=None, weights=None):
    from kiln.numpy.creation import linspace
    from kiln.numpy.reductions import max, min
    if isinstance(bins, str):
        raise NotImplementedError("string values for `bins` not implemented.")
    a = asarray(a)
    dtype = dtypes.to_inexact_dtype(a.dtype)
    if np.ndim(bins) == 1:
        return asarray(bins, dtype=dtype)
    bins = operator.index(bins)
    lo, hi = (min(a), max(a)) if range is None else range
    lo, hi = cast(asarray(lo), dtype), cast(asarray(hi), dtype)
    if np.shape(lo) != () or np.shape(hi) != ():
        raise ValueError(f"`range` must be either None or a sequence of scalars, got {range}")
    same = m.equal(lo, hi)
    lo, hi = where(same, m.subtract(lo, 0.5), lo), where(same, m.add(hi, 0.5), hi)
    return linspace(lo, hi, bins + 1, dtype=dtype)


def histogram(a, bins=10, range=None, weights=None, density=None):
    from kiln.numpy.creation import ones_like, zeros
    from kiln.numpy.editing import diff
    from kiln.numpy.reductions import sum
    if weights is None:
        (a,) = promote_inexact(asarray(a))
        weights = ones_like(a)
    else:
        a, weights = asarray(a), asarray(weights)
        if a.shape != weights.shape:
            raise ValueError("weights should have the same shape as a.")
        a, weights = promote_inexact(a, weights)
    edges = histogram_bin_edges(a, bins, range, weights)
    n = edges.shape[0]
    index = searchsorted(edges, a, side="right")
    index = where(m.equal(a, edges[-1]), n - 1, index)
    counts = zeros(n, weights.dtype).at[index].add(weights)[1:]
    if density:
        counts = m.true_divide(m.true_divide(counts, diff(edges)), sum(counts))
    return counts, edges


def select(condlist, choicelist, default=0):
    from kiln.numpy.reductions import argmax
    from kiln.numpy.shapes import stack
    if len(condlist) != len(choicelist):
        raise ValueError("condlist must have length equal to choicelist "
                         f"({len(condlist)} vs {len(choicelist)})")
    if len(condlist) == 0:
        raise ValueError("condlist must be non-empty")
    choices = promote(asarray(default), *[asarray(c) for c in choicelist])
    conditions = stack(broadcast_arrays(False, *[asarray(c) for c in condlist]))
    index = argmax(cast(conditions, np.dtype(np.bool_)), axis=0)
    return lax.select_n(*broadcast_arrays(index, *choices))
