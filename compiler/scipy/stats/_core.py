"""jax.scipy.stats's summaries: mode, rankdata and sem."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kiln import numpy as knp
from kiln.runtime import dtypes
from kiln.scipy.stats._util import inexact


class ModeResult(NamedTuple):
    mode: object
    count: object


def _only_propagate(nan_policy, name):
    """JAX implements nan_policy='propagate' only (NaNs cannot be checked for while compiling)."""
    if nan_policy not in ("propagate", "omit", "raise"):
        raise ValueError(f"Illegal nan_policy value {nan_policy!r}; expected one of "
                         "{'propagate', 'omit', 'raise'}")
    if nan_policy != "propagate":
        raise NotImplementedError(f"{name}: nan_policy={nan_policy!r} is not implemented; check for NaNs "
                                  "outside of the function and use nan_policy='propagate'")


def mode(a, axis=0, nan_policy="propagate", keepdims=False):
    """The most common value along `axis` (the smallest of ties) and how often it occurs."""
    _only_propagate(nan_policy, "mode")
    x = knp.atleast_1d(knp.asarray(a))
    ndim = x.ndim
    if axis is None:
        x, axis = x.ravel(), 0
    axis = axis % x.ndim
    rows = knp.sort(knp.moveaxis(x, axis, -1), axis=-1)
    if rows.shape[-1] == 0:
        float_dtype = dtypes.default_float_dtype()
        modes, counts = knp.full(rows.shape[:-1], np.nan, float_dtype), knp.zeros(rows.shape[:-1], float_dtype)
    else:
        # In sorted order, the first position with the highest count holds the smallest mode.
        counts_all = knp.sum(rows[..., :, None] == rows[..., None, :], axis=-1)
        best = knp.argmax(counts_all, axis=-1)[..., None]
        modes = knp.take_along_axis(rows, best, axis=-1)[..., 0]
        counts = knp.take_along_axis(counts_all, best, axis=-1)[..., 0]
    if keepdims:
        where = (axis,) if x.ndim == ndim else tuple(range(ndim))
        modes, counts = knp.expand_dims(modes, where), knp.expand_dims(counts, where)
    return ModeResult(modes, counts)


def _rank_1d(a, method, out_dtype):
    order = knp.argsort(a, stable=True)
    ascending = a[order]
    positions = knp.arange(a.size)
    if method == "ordinal":
        ranked = positions + 1
    elif method == "dense":
        # 1 + the number of distinct smaller values: count where the sorted values step up.
        steps = knp.concatenate([knp.zeros(1, bool), ascending[1:] != ascending[:-1]])
        ranked = knp.cumsum(steps) + 1
    else:
        # Ties span [first, last] in sorted order: the positions of their first and last copies.
        first = knp.searchsorted(ascending, ascending, side="left") + 1
        last = knp.searchsorted(ascending, ascending, side="right")
        ranked = {"min": first, "max": last}.get(method, None)
        if ranked is None:
            ranked = (first + last).astype(out_dtype) / 2
    ranks = knp.zeros(a.size, out_dtype).at[order].set(knp.asarray(ranked).astype(out_dtype))
    return knp.where(knp.any(knp.isnan(a)), knp.nan, ranks)


def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
    """Ranks from 1; ties get their average, min, max, dense or ordinal (stable) rank."""
    _only_propagate(nan_policy, "rankdata")
    if method not in ("average", "min", "max", "dense", "ordinal"):
        raise ValueError(f"unknown method '{method}'")
    a = knp.asarray(a)
    out_dtype = dtypes.default_float_dtype()
    if axis is None:
        return _rank_1d(a.ravel(), method, out_dtype)
    rows = knp.moveaxis(a, axis, -1)
    flat = rows.reshape(-1, rows.shape[-1])
    ranked = knp.stack([_rank_1d(flat[i], method, out_dtype) for i in range(flat.shape[0])]) \
        if flat.shape[0] else flat.astype(out_dtype)
    return knp.moveaxis(ranked.reshape(rows.shape), -1, axis)


def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """The standard error of the mean along `axis`: std(ddof) / sqrt(n)."""
    (x,) = inexact(a)
    if nan_policy == "propagate":
        n = x.size if axis is None else x.shape[axis]
        return x.std(axis, ddof=ddof, keepdims=keepdims) / np.sqrt(n).astype(x.dtype)
    if nan_policy == "omit":
        n = knp.sum(~knp.isnan(x), axis, keepdims=keepdims)
        return knp.nanstd(x, axis, ddof=ddof, keepdims=keepdims) / knp.sqrt(n).astype(x.dtype)
    raise ValueError(f"{nan_policy} is not supported")
