"""kiln.numpy's less common functions against real JAX: vectorize and friends, pad, diff,
the index helpers, NaN reductions, quantiles, searching, sets, sorting extras.

Values, dtypes, weak types and shapes are compared eagerly and under kiln.jit in both x64 modes
(see test_numpy_harness); gradients of the differentiable ones against jax.grad.
"""
import jax
import jax.numpy as jnp
import numpy as onp
import pytest

import kiln
import kiln.numpy as knp
from compare_helpers import same
from test_numpy_harness import References, bools, case, check, floats, ids, ints, table_test, x64_mode

X = floats(3, 4)
X3 = floats(2, 3, 4)
V = floats(6)
NANS = onp.array([[1.0, onp.nan, 3.0, 0.5], [onp.nan, onp.nan, onp.nan, onp.nan], [2.0, -1.0, onp.nan, 4.0]])
cases = []


def _mul_add(a, b):
    return a * b + 1


def _pairs(a, b):
    return a + b, a * b


def _outer_rows(a, b):
    return a[:, None] * b[None, :]


# ---------------------------------------------------------------------------- vectorize

cases += [
    case("vectorize-scalar", lambda np, x, y: np.vectorize(_mul_add)(x, y), X, V[:4]),
    case("vectorize-broadcast-1", lambda np, x, y: np.vectorize(_mul_add)(x, y), floats(3, 1), floats(1, 4)),
    case("vectorize-pyscalar", lambda np, x: np.vectorize(_mul_add)(x, 2.0), X),
    case("vectorize-sig-reduce", lambda np, x: np.vectorize(lambda v: (v * v).sum(), signature="(n)->()")(x), X3),
    case("vectorize-sig-outer", lambda np, x, y: np.vectorize(_outer_rows, signature="(n),(m)->(n,m)")(x, y),
         floats(2, 3), floats(4)),
    case("vectorize-two-outputs", lambda np, x, y: np.vectorize(_pairs)(x, y), X, X),
    case("vectorize-excluded", lambda np, x: np.vectorize(lambda a, k: a ** k, excluded={1})(x, 3), X),
    case("vectorize-bad-sig", lambda np, x: np.vectorize(lambda v: v, signature="(n)->")(x), X),
    case("vectorize-core-mismatch", lambda np, x, y: np.vectorize(_mul_add, signature="(n),(n)->(n)")(x, y),
         floats(3), floats(4)),
    case("apply_along_axis-0", lambda np, x: np.apply_along_axis(lambda v: v.sum() * v[0], 0, x), X3),
    case("apply_along_axis-last", lambda np, x: np.apply_along_axis(lambda v: v[::-1] * 2, -1, x), X3),
    case("apply_along_axis-args", lambda np, x: np.apply_along_axis(lambda v, s: v * s, 1, x, 3.0), X),
    case("apply_over_axes", lambda np, x: np.apply_over_axes(np.sum, x, [0, 2]), X3),
]

# ---------------------------------------------------------------------------- pad

for mode in ["constant", "edge", "reflect", "symmetric", "wrap", "linear_ramp", "maximum", "minimum",
             "mean", "median", "empty"]:
    cases += [
        case(f"pad-{mode}-pairs", lambda np, x, mode=mode: np.pad(x, ((1, 2), (3, 0)), mode=mode), X),
        case(f"pad-{mode}-int", lambda np, x, mode=mode: np.pad(x, 2, mode=mode), ints(3)),
    ]
cases += [
    case("pad-reflect-long", lambda np, x: np.pad(x, (7, 5), mode="reflect"), V[:3]),
    case("pad-symmetric-long", lambda np, x: np.pad(x, (7, 5), mode="symmetric"), V[:3]),
    case("pad-wrap-long", lambda np, x: np.pad(x, (7, 5), mode="wrap"), V[:3]),
    case("pad-reflect-odd", lambda np, x: np.pad(x, ((2, 3),), mode="reflect", reflect_type="odd"), X),
    case("pad-symmetric-odd", lambda np, x: np.pad(x, 2, mode="symmetric", reflect_type="odd"), X),
    case("pad-reflect-size1", lambda np, x: np.pad(x, 3, mode="reflect"), floats(1)),
    case("pad-constant-values", lambda np, x: np.pad(x, ((1, 2), (2, 1)), constant_values=((5, 6), (7, 8))), X),
    case("pad-constant-value", lambda np, x: np.pad(x, [1, 2], constant_values=-1.5), X3),
    case("pad-constant-array-value", lambda np, x, c: np.pad(x, 1, constant_values=c), X, floats()),
    case("pad-linear-ramp-end", lambda np, x: np.pad(x, (2, 3), mode="linear_ramp", end_values=(5, -2)), X),
    case("pad-mean-stat-length", lambda np, x: np.pad(x, 2, mode="mean", stat_length=2), X),
    case("pad-maximum-stat-length", lambda np, x: np.pad(x, ((1, 1), (2, 2)), mode="maximum",
                                                          stat_length=((1, 2), (3, 1))), X),
    case("pad-median-int-even", lambda np, x: np.pad(x, 2, mode="median"), ints(4)),
    case("pad-bool", lambda np, x: np.pad(x, 1), bools(2, 3)),
    case("pad-0d", lambda np, x: np.pad(x, 2), onp.float64(3.0)),
    case("pad-pyscalar", lambda np: np.pad(2.5, 1)),
    case("pad-zero-width", lambda np, x: np.pad(x, 0, mode="reflect"), X),
    case("pad-negative", lambda np, x: np.pad(x, -1), X),
    case("pad-bad-mode", lambda np, x: np.pad(x, 1, mode="nope"), X),
    case("pad-bad-kwarg", lambda np, x: np.pad(x, 1, mode="edge", constant_values=1), X),
    case("pad-bad-shape", lambda np, x: np.pad(x, ((1, 2, 3),)), X),
    case("pad-empty-axis-edge", lambda np, x: np.pad(x, 1, mode="edge"), onp.zeros((0, 2))),
    case("pad-callable", lambda np, x: np.pad(x, 2, mode=_pad_with),
         floats(2, 3)),
]


def _pad_with(vector, pad_width, iaxis, kwargs):
    return vector.at[:pad_width[0]].set(10.0).at[vector.shape[0] - pad_width[1]:].set(-10.0)


# ---------------------------------------------------------------------------- diff and friends

cases += [
    case("diff", lambda np, x: np.diff(x), X),
    case("diff-n2-axis0", lambda np, x: np.diff(x, n=2, axis=0), X3),
    case("diff-n0", lambda np, x: np.diff(x, n=0), X),
    case("diff-prepend-append", lambda np, x: np.diff(x, prepend=0.0, append=x[:, :2]), X),
    case("diff-int", lambda np, x: np.diff(x, 2), ints(6)),
    case("diff-bool", lambda np, x: np.diff(x), bools(6)),
    case("diff-too-many", lambda np, x: np.diff(x, n=8), V),
    case("diff-0d", lambda np, x: np.diff(x), onp.float64(1.0)),
    case("diff-negative", lambda np, x: np.diff(x, n=-1), V),
    case("ediff1d", lambda np, x: np.ediff1d(x), X),
    case("ediff1d-ends", lambda np, x: np.ediff1d(x, to_end=onp.array([1, 2]), to_begin=-1), ints(5)),
    case("ediff1d-empty", lambda np, x: np.ediff1d(x), onp.zeros((0,))),
    case("append-flat", lambda np, x, y: np.append(x, y), X, V),
    case("append-axis", lambda np, x, y: np.append(x, y, axis=0), X, floats(2, 4)),
    case("append-int-float", lambda np, x: np.append(x, 2.5), ints(3)),
    case("insert-scalar", lambda np, x: np.insert(x, 2, 7.0), V),
    case("insert-axis", lambda np, x: np.insert(x, 1, 9.0, axis=1), X),
    case("insert-axis-row", lambda np, x, r: np.insert(x, 3, r, axis=0), X, floats(4)),
    case("insert-many", lambda np, x: np.insert(x, onp.array([0, 2, 2, 6]), onp.array([1.0, 2.0, 3.0, 4.0])), V),
    case("insert-negative", lambda np, x: np.insert(x, -1, 0), ints(5)),
    case("insert-slice", lambda np, x: np.insert(x, slice(0, 4, 2), -1.0, axis=1), X),
    case("delete-int", lambda np, x: np.delete(x, 1, axis=1), X),
    case("delete-negative", lambda np, x: np.delete(x, -1), V),
    case("delete-array", lambda np, x, i: np.delete(x, i, axis=1), X, onp.array([0, 2, 2]), eager_only=True),
    case("delete-slice", lambda np, x: np.delete(x, slice(1, None, 2)), V),
    case("delete-mask", lambda np, x: np.delete(x, onp.array([True, False, True])), floats(3)),
    case("delete-unique", lambda np, x, i: np.delete(x, i, assume_unique_indices=True), V, onp.array([4, 1])),
    case("resize-grow", lambda np, x: np.resize(x, (3, 5)), V),
    case("resize-shrink", lambda np, x: np.resize(x, 5), X),
    case("resize-empty", lambda np, x: np.resize(x, (2, 2)), onp.zeros((0,))),
    case("trim_zeros", lambda np, x: np.trim_zeros(x), onp.array([0, 0, 1, 2, 0, 3, 0]), eager_only=True),
    case("trim_zeros-f", lambda np, x: np.trim_zeros(x, "f"), onp.array([0, 0, 1, 2, 0]), eager_only=True),
    case("trim_zeros-b", lambda np, x: np.trim_zeros(x, trim="b"), onp.array([0.0, 1.0, 0.0]), eager_only=True),
    case("trim_zeros-all-zero", lambda np, x: np.trim_zeros(x), onp.zeros(4), eager_only=True),
]

# ---------------------------------------------------------------------------- structure

cases += [
    case("diag-vector", lambda np, x: np.diag(x), floats(3)),
    case("diag-vector-k", lambda np, x: np.diag(x, k=2), floats(3)),
    case("diag-vector-negk", lambda np, x: np.diag(x, -1), ints(3)),
    case("diag-matrix", lambda np, x: np.diag(x), X),
    case("diag-matrix-k", lambda np, x: np.diag(x, 1), X),
    case("diag-3d", lambda np, x: np.diag(x), X3),
    case("diagflat", lambda np, x: np.diagflat(x), floats(2, 2)),
    case("diagflat-k", lambda np, x: np.diagflat(x, -2), ints(3)),
    case("rot90", lambda np, x: np.rot90(x), X),
    case("rot90-k2", lambda np, x: np.rot90(x, 2), X),
    case("rot90-k3-axes", lambda np, x: np.rot90(x, -1, axes=(2, 0)), X3),
    case("rot90-1d", lambda np, x: np.rot90(x), V),
    case("rot90-same-axes", lambda np, x: np.rot90(x, axes=(1, 1)), X),
    case("block-2x2", lambda np, a, b: np.block([[a, b], [b, a]]), floats(2, 2), floats(2, 2)),
    case("block-1d", lambda np, a, b: np.block([a, b, 1.0]), floats(2), floats(3)),
    case("block-mixed-rank", lambda np, a, b: np.block([[a], [b]]), floats(2, 3), floats(3)),
    case("block-array", lambda np, a: np.block(a), X),
    case("block-depth-mismatch", lambda np, a: np.block([a, [a]]), floats(2)),
    case("dstack", lambda np, a, b: np.dstack([a, b]), X, X),
    case("dstack-1d", lambda np, a, b: np.dstack((a, b)), floats(3), floats(3)),
    case("atleast_3d", lambda np, a, b, c: np.atleast_3d(a, b, c), onp.float64(1.0), floats(2), X),
    case("atleast_3d-one", lambda np, a: np.atleast_3d(a), X3),
    case("hsplit", lambda np, x: np.hsplit(x, 2), X),
    case("hsplit-1d", lambda np, x: np.hsplit(x, [1, 4]), V),
    case("vsplit", lambda np, x: np.vsplit(x, [1]), X),
    case("dsplit", lambda np, x: np.dsplit(x, 2), X3),
    case("vsplit-unequal", lambda np, x: np.vsplit(x, 2), X),
    case("unstack", lambda np, x: np.unstack(x), X),
    case("unstack-axis", lambda np, x: np.unstack(x, axis=-1), X3),
    case("geomspace", lambda np: np.geomspace(1.0, 1000.0, 4)),
    case("geomspace-negative", lambda np: np.geomspace(-1.0, -16.0, 5, endpoint=False)),
    case("geomspace-int-inputs", lambda np: np.geomspace(1, 256, 9, dtype=np.float32)),
    case("geomspace-array-axis", lambda np, a, b: np.geomspace(a, b, 3, axis=1), onp.array([1.0, 2.0]),
         onp.array([8.0, 32.0])),
]

# ---------------------------------------------------------------------------- index helpers

cases += [
    case("nonzero-size", lambda np, x: np.nonzero(x, size=5), ints(3, 4)),
    case("nonzero-size-fill", lambda np, x: np.nonzero(x > 0.5, size=8, fill_value=-1), X),
    case("nonzero-size-fill-tuple", lambda np, x: np.nonzero(x, size=6, fill_value=(7, 8)), bools(2, 3)),
    case("nonzero-eager", lambda np, x: np.nonzero(x), ints(3, 4), eager_only=True),
    case("nonzero-0d", lambda np, x: np.nonzero(x, size=1), onp.float64(1.0)),
    case("nonzero-empty", lambda np, x: np.nonzero(x, size=2), onp.zeros((0, 3))),
    case("where-one-arg-size", lambda np, x: np.where(x, size=3), ints(5)),
    case("argwhere-size", lambda np, x: np.argwhere(x > 0, size=6, fill_value=9), X),
    case("argwhere-eager", lambda np, x: np.argwhere(x), ints(2, 3), eager_only=True),
    case("argwhere-0d", lambda np, x: np.argwhere(x, size=1), onp.float64(2.0)),
    case("flatnonzero-size", lambda np, x: np.flatnonzero(x, size=4), ints(3, 2)),
    case("flatnonzero-eager", lambda np, x: np.flatnonzero(x), ints(3, 2), eager_only=True),
    case("indices", lambda np: np.indices((2, 3))),
    case("indices-sparse", lambda np: np.indices((2, 3, 1), sparse=True)),
    case("indices-dtype", lambda np: np.indices((3,), dtype=np.float32)),
    case("ix_", lambda np, a, b: np.ix_(a, b), onp.array([0, 2]), onp.array([1, 0, 3])),
    case("ix_-index", lambda np, x, a, b: x[np.ix_(a, b)], X, onp.array([0, 2]), onp.array([1, 0, 3])),
    case("unravel_index", lambda np, i: np.unravel_index(i, (3, 4)), onp.array([0, 5, 11, 12, -1, -13])),
    case("unravel_index-scalar", lambda np: np.unravel_index(7, (2, 5))),
    case("ravel_multi_index-clip", lambda np, i, j: np.ravel_multi_index((i, j), (3, 4), mode="clip"),
         onp.array([0, 2, 5]), onp.array([1, -3, 3])),
    case("ravel_multi_index-wrap-F", lambda np, i, j: np.ravel_multi_index((i, j), (3, 4), mode="wrap", order="F"),
         onp.array([0, 2, 5]), onp.array([1, -3, 3])),
    case("diag_indices", lambda np: np.diag_indices(3)),
    case("diag_indices-3", lambda np: np.diag_indices(2, ndim=3)),
    case("diag_indices_from", lambda np, x: np.diag_indices_from(x), floats(3, 3)),
    case("diag_indices_from-bad", lambda np, x: np.diag_indices_from(x), X),
    case("tril_indices", lambda np: np.tril_indices(4)),
    case("tril_indices-k-m", lambda np: np.tril_indices(3, k=1, m=5)),
    case("triu_indices", lambda np: np.triu_indices(4, -1)),
    case("triu_indices-m", lambda np: np.triu_indices(3, k=2, m=5)),
    case("tril_indices_from", lambda np, x: np.tril_indices_from(x, -1), X),
    case("triu_indices_from", lambda np, x: np.triu_indices_from(x, 1), X),
    case("triu_indices_from-1d", lambda np, x: np.triu_indices_from(x), V),
    case("fill_diagonal", lambda np, x: np.fill_diagonal(x, 5.0, inplace=False), X),
    case("fill_diagonal-vector", lambda np, x, v: np.fill_diagonal(x, v, inplace=False), floats(4, 4), floats(2)),
    case("fill_diagonal-3d", lambda np, x: np.fill_diagonal(x, -1, inplace=False), ints(2, 2, 2)),
    case("fill_diagonal-inplace", lambda np, x: np.fill_diagonal(x, 1.0), X),
]

# ---------------------------------------------------------------------------- NaN reductions

NAN_REDUCTIONS = ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanargmax",
                  "nanargmin"]
for name in NAN_REDUCTIONS:
    cases += [
        case(f"{name}-all", lambda np, x, name=name: getattr(np, name)(x), NANS),
        case(f"{name}-ax1", lambda np, x, name=name: getattr(np, name)(x, axis=1), NANS),
        case(f"{name}-ax0-keep", lambda np, x, name=name: getattr(np, name)(x, axis=0, keepdims=True), NANS),
        case(f"{name}-int", lambda np, x, name=name: getattr(np, name)(x, axis=0), ints(3, 4)),
    ]
cases += [
    case("nansum-dtype-where", lambda np, x, w: np.nansum(x, axis=1, where=w), NANS, bools(3, 4)),
    case("nansum-initial", lambda np, x: np.nansum(x, initial=2.0), NANS),
    case("nanmean-where", lambda np, x, w: np.nanmean(x, axis=0, where=w), NANS, bools(3, 4)),
    case("nanvar-ddof", lambda np, x: np.nanvar(x, axis=1, ddof=1), NANS),
    case("nanstd-ddof-all", lambda np, x: np.nanstd(x, ddof=2), NANS),
    case("nanmean-bool", lambda np, x: np.nanmean(x), bools(4)),
    case("nancumsum", lambda np, x: np.nancumsum(x), NANS),
    case("nancumsum-axis", lambda np, x: np.nancumsum(x, axis=1), NANS),
    case("nancumprod", lambda np, x: np.nancumprod(x, axis=0), NANS),
    case("nancumsum-int", lambda np, x: np.nancumsum(x), ints(5)),
    case("nancumprod-dtype", lambda np, x: np.nancumprod(x, dtype=np.float32), ints(4)),
]

# ---------------------------------------------------------------------------- quantiles

Q = onp.array([0.0, 0.1, 0.5, 0.75, 1.0])
for method in ["linear", "lower", "higher", "midpoint", "nearest"]:
    cases += [
        case(f"quantile-{method}", lambda np, x, q, method=method: np.quantile(x, q, axis=1, method=method), X, Q),
        case(f"nanquantile-{method}", lambda np, x, method=method: np.nanquantile(x, 0.4, axis=1, method=method),
             NANS),
        case(f"percentile-{method}", lambda np, x, method=method: np.percentile(x, 30, method=method), X3),
    ]
cases += [
    case("median", lambda np, x: np.median(x), X3),
    case("median-axis", lambda np, x: np.median(x, axis=1), X3),
    case("median-keepdims", lambda np, x: np.median(x, axis=-1, keepdims=True), X3),
    case("median-tuple-axis", lambda np, x: np.median(x, axis=(0, 2), keepdims=True), X3),
    case("median-tuple-axis-nokeep", lambda np, x: np.median(x, axis=(2, 0)), X3),
    case("median-int", lambda np, x: np.median(x), ints(5)),
    case("median-nan", lambda np, x: np.median(x, axis=1), NANS),
    case("median-keepdims-none", lambda np, x: np.median(x, keepdims=True), X),
    case("nanmedian", lambda np, x: np.nanmedian(x, axis=1), NANS),
    case("nanmedian-all", lambda np, x: np.nanmedian(x), NANS),
    case("nanpercentile", lambda np, x, q: np.nanpercentile(x, q, axis=0, keepdims=True), NANS, Q * 100),
    case("quantile-pyscalar-q", lambda np, x: np.quantile(x, 0.3), V),
    case("quantile-keepdims-q", lambda np, x, q: np.quantile(x, q, axis=0, keepdims=True), X, Q),
    case("quantile-bad-method", lambda np, x: np.quantile(x, 0.5, method="spline"), V),
    case("quantile-2d-q", lambda np, x: np.quantile(x, onp.ones((2, 2)) / 2), V),
    case("quantile-overwrite", lambda np, x: np.quantile(x, 0.5, overwrite_input=True), V),
]

# ---------------------------------------------------------------------------- searching

SORTED = onp.array([-1.0, 0.0, 0.0, 1.5, 2.0, 2.0, 2.0, 7.0])
QUERY = onp.array([[-3.0, 0.0, 2.0], [2.5, 7.0, 9.0]])
cases += [
    case("searchsorted-left", lambda np, a, v: np.searchsorted(a, v), SORTED, QUERY),
    case("searchsorted-right", lambda np, a, v: np.searchsorted(a, v, side="right"), SORTED, QUERY),
    case("searchsorted-compare-all", lambda np, a, v: np.searchsorted(a, v, side="right", method="compare_all"),
         SORTED, QUERY),
    case("searchsorted-scalar", lambda np, a: np.searchsorted(a, 1.0), SORTED),
    case("searchsorted-int-float", lambda np, a, v: np.searchsorted(a, v), onp.array([1, 3, 5, 7]), QUERY),
    case("searchsorted-sorter", lambda np, a, s, v: np.searchsorted(a, v, sorter=s),
         onp.array([3.0, 1.0, 2.0]), onp.array([1, 2, 0]), onp.array([0.5, 2.5, 3.0])),
    case("searchsorted-nan", lambda np, a, v: np.searchsorted(a, v), onp.array([0.0, 1.0, onp.nan]),
         onp.array([onp.nan, 0.5, onp.inf])),
    case("searchsorted-empty", lambda np, a, v: np.searchsorted(a, v), onp.zeros((0,)), QUERY),
    case("searchsorted-one", lambda np, a, v: np.searchsorted(a, v, side="right"), onp.array([1.0]), QUERY),
    case("searchsorted-2d", lambda np, a, v: np.searchsorted(a, v), X, V),
    case("digitize", lambda np, x, b: np.digitize(x, b), QUERY, onp.array([0.0, 2.0, 5.0])),
    case("digitize-right", lambda np, x, b: np.digitize(x, b, right=True), QUERY, onp.array([0.0, 2.0, 5.0])),
    case("digitize-decreasing", lambda np, x, b: np.digitize(x, b), QUERY, onp.array([5.0, 2.0, 0.0])),
    case("digitize-empty", lambda np, x, b: np.digitize(x, b), QUERY, onp.zeros((0,))),
    case("interp", lambda np, x, xp, fp: np.interp(x, xp, fp), QUERY, onp.array([-1.0, 0.0, 2.0, 5.0]),
         onp.array([3.0, 1.0, -2.0, 4.0])),
    case("interp-left-right", lambda np, x, xp, fp: np.interp(x, xp, fp, left=-9.0, right=9.0), QUERY,
         onp.array([-1.0, 0.0, 2.0, 5.0]), onp.array([3.0, 1.0, -2.0, 4.0])),
    case("interp-extrapolate", lambda np, x, xp, fp: np.interp(x, xp, fp, left="extrapolate", right="extrapolate"),
         QUERY, onp.array([-1.0, 0.0, 2.0, 5.0]), onp.array([3.0, 1.0, -2.0, 4.0])),
    case("interp-period", lambda np, x, xp, fp: np.interp(x, xp, fp, period=4.0), QUERY,
         onp.array([3.0, 0.0, 1.0, 2.0]), onp.array([3.0, 1.0, -2.0, 4.0])),
    case("interp-int", lambda np, x, xp, fp: np.interp(x, xp, fp), onp.array([0, 1, 2]), onp.array([0, 2]),
         onp.array([1, 5])),
    case("interp-repeated-xp", lambda np, x, xp, fp: np.interp(x, xp, fp), onp.array([0.5, 1.0, 1.5]),
         onp.array([0.0, 1.0, 1.0, 2.0]), onp.array([0.0, 1.0, 3.0, 4.0])),
    case("interp-bad", lambda np, x, xp, fp: np.interp(x, xp, fp), V, X, X),
    case("bincount", lambda np, x: np.bincount(x, length=8), onp.array([0, 1, 1, 3, 2, 1, 7])),
    case("bincount-weights", lambda np, x, w: np.bincount(x, w, length=5), onp.array([0, 1, 1, 3, 9]), floats(5)),
    case("bincount-minlength", lambda np, x: np.bincount(x, minlength=6), onp.array([0, 1, 1, 3]), eager_only=True),
    case("bincount-eager", lambda np, x: np.bincount(x), onp.array([0, 1, 1, 3]), eager_only=True),
    case("bincount-bool", lambda np, x: np.bincount(x, length=3), onp.array([True, False, True])),
    case("bincount-float", lambda np, x: np.bincount(x, length=3), V),
    case("histogram", lambda np, x: np.histogram(x, bins=4), X),
    case("histogram-range", lambda np, x: np.histogram(x, bins=3, range=(-1.0, 1.0)), X),
    case("histogram-edges", lambda np, x, e: np.histogram(x, bins=e), X, onp.array([-2.0, -0.5, 0.0, 2.0])),
    case("histogram-weights-density", lambda np, x, w: np.histogram(x, bins=5, weights=w, density=True), X,
         floats(3, 4, lo=0.0)),
    case("histogram-int", lambda np, x: np.histogram(x, bins=3), ints(10)),
    case("histogram-constant", lambda np, x: np.histogram(x, bins=2), onp.ones(3)),
    case("histogram_bin_edges", lambda np, x: np.histogram_bin_edges(x, 5), X),
    case("select", lambda np, x: np.select([x < -1, x > 1], [x * 10, x * 100], default=-5.0), X),
    case("select-int-default", lambda np, x: np.select([x < 0], [x]), ints(6)),
    case("select-broadcast", lambda np, x, c: np.select([c, ~c], [x, 2.0]), X, bools(4)),
    case("select-mismatch", lambda np, x: np.select([x < 0], [x, x]), X),
]

# ---------------------------------------------------------------------------- sorting and sets

TIES = onp.array([3, 1, 2, 3, 1, 1, 5, 2])
cases += [
    case("lexsort", lambda np, a, b: np.lexsort((a, b)), TIES, onp.array([1, 1, 0, 0, 1, 0, 1, 0])),
    case("lexsort-axis0", lambda np, a, b: np.lexsort([a, b], axis=0), ints(4, 3), ints(4, 3)),
    case("lexsort-array", lambda np, k: np.lexsort(k), ints(3, 5)),
    case("lexsort-0d", lambda np, a: np.lexsort([a]), onp.float64(1.0)),
    case("partition", lambda np, x: np.partition(x, 3), TIES),
    case("partition-axis", lambda np, x: np.partition(x, -2, axis=0), X),
    case("partition-float", lambda np, x: np.partition(x, 1), X3),
    case("argpartition", lambda np, x: np.argpartition(x, 2), floats(7)),
    case("argpartition-axis", lambda np, x: np.argpartition(x, 1, axis=0), X),
    case("sort_complex", lambda np, x: np.sort_complex(x), floats(5)),
    case("sort_complex-int", lambda np, x: np.sort_complex(x), TIES),
    case("isin", lambda np, x, t: np.isin(x, t), ints(3, 4), onp.array([1, 3, 9])),
    case("isin-invert", lambda np, x, t: np.isin(x, t, invert=True), ints(3, 4), onp.array([[1, 3], [0, 2]])),
    case("isin-float-int", lambda np, x, t: np.isin(x, t), onp.array([1.0, 1.5, 2.0]), onp.array([1, 2])),
    case("isin-empty", lambda np, x, t: np.isin(x, t), ints(3), onp.zeros((0,), onp.int64)),
    case("unique", lambda np, x: np.unique(x), TIES, eager_only=True),
    case("unique-all-returns", lambda np, x: np.unique(x, return_index=True, return_inverse=True, return_counts=True),
         ints(3, 4), eager_only=True),
    case("unique-nan", lambda np, x: np.unique(x), onp.array([1.0, onp.nan, 0.0, onp.nan, 1.0]), eager_only=True),
    case("unique-nan-unequal", lambda np, x: np.unique(x, equal_nan=False), onp.array([1.0, onp.nan, onp.nan]),
         eager_only=True),
    case("unique-axis", lambda np, x: np.unique(x, axis=0, return_counts=True),
         onp.array([[1, 2], [0, 5], [1, 2], [0, 1]]), eager_only=True),
    case("unique-size", lambda np, x: np.unique(x, size=6), TIES),
    case("unique-size-fill", lambda np, x: np.unique(x, size=7, fill_value=-1, return_index=True,
                                                     return_inverse=True, return_counts=True), TIES),
    case("unique-size-small", lambda np, x: np.unique(x, size=2, return_counts=True), TIES),
    case("unique-size-axis", lambda np, x: np.unique(x, axis=1, size=3, fill_value=0),
         onp.array([[1, 0, 1, 2], [3, 4, 3, 0]])),
    case("unique-empty-size", lambda np, x: np.unique(x, size=2), onp.zeros((0,))),
    case("unique_values", lambda np, x: np.unique_values(x), TIES, eager_only=True),
    case("unique_values-size", lambda np, x: np.unique_values(x, size=5), TIES),
    case("unique_counts", lambda np, x: np.unique_counts(x, size=5, fill_value=0), TIES),
    case("unique_inverse", lambda np, x: np.unique_inverse(x, size=5), ints(2, 4)),
    case("unique_all", lambda np, x: np.unique_all(x, size=5), TIES),
    case("unique_all-eager", lambda np, x: np.unique_all(x), TIES, eager_only=True),
]

# ---------------------------------------------------------------------------- index objects (static)

cases += [
    case("mgrid", lambda np: np.mgrid[0:3, 1:5:2]),
    case("mgrid-complex-step", lambda np: np.mgrid[0:1:5j]),
    case("mgrid-float", lambda np: np.mgrid[0:1:0.25, 0:2]),
    case("ogrid", lambda np: np.ogrid[0:3, 0:2]),
    case("r_", lambda np, x: np.r_[x, 0:3, 7.0], floats(2)),
    case("r_-directive", lambda np, x: np.r_["0,2", x, x], floats(3)),
    case("r_-matrix", lambda np, x: np.r_["r", x, x], floats(2)),
    case("c_", lambda np, x, y: np.c_[x, y], floats(3), floats(3)),
    case("c_-2d", lambda np, x: np.c_[x, x], X),
    case("s_-index", lambda np, x: x[np.s_[1:, ::2]], X),
    case("index_exp", lambda np, x: x[np.index_exp[::-1]], V),
]

# Index and count results change dtype with x64, as do the float computations: those cases run
# in both modes; the others (most of the table) only with x64 off, to keep the file fast.
BOTH_MODES = ("nonzero", "argwhere", "flatnonzero", "searchsorted", "digitize", "bincount", "unique",
              "lexsort", "argpartition", "indices", "diag_indices", "tril_indices", "triu_indices",
              "ravel_multi", "unravel", "quantile-linear", "median-int", "nanmean", "nanvar-ddof",
              "nanargmax", "histogram-int", "geomspace", "interp-int", "pad-mean-int", "pad-constant-value",
              "diff-int", "insert-many", "sort_complex", "select-int", "vectorize-pyscalar", "nancumprod-dtype")
wide = [c for c in cases if c.id.startswith(BOTH_MODES)]
narrow = [c for c in cases if not c.id.startswith(BOTH_MODES)]
test_coverage = table_test(wide)
_narrow_references = References(narrow)


@pytest.mark.parametrize("c", narrow, ids=ids(narrow))
def test_coverage_x32(c):
    with x64_mode(False):
        check(c, _narrow_references, False)


# ---------------------------------------------------------------------------- gradients

def _f32(*shape):
    return onp.asarray(floats(*shape), onp.float32)


GRADS = {
    "pad-reflect": (lambda np, x: np.sum(np.pad(x, ((1, 2), (2, 1)), mode="reflect") ** 2), _f32(3, 4)),
    "pad-linear-ramp": (lambda np, x: np.sum(np.sin(np.pad(x, 2, mode="linear_ramp", end_values=1.0))), _f32(3, 4)),
    "pad-mean-edge": (lambda np, x: np.sum(np.pad(x, 1, mode="mean") * np.pad(x, 1, mode="edge")), _f32(3, 4)),
    "diff": (lambda np, x: np.sum(np.diff(x, n=2, axis=0, prepend=1.0) ** 2), _f32(4, 3)),
    "nanmean": (lambda np, x: np.nanmean(np.where(x > 1.5, np.nan, x) ** 2), _f32(3, 4)),
    "nanvar": (lambda np, x: np.nanvar(np.where(x > 1.5, np.nan, x), axis=1).sum(), _f32(3, 4)),
    "median": (lambda np, x: np.median(x ** 3, axis=0).sum(), _f32(5, 2)),
    "quantile": (lambda np, x: np.quantile(x, np.asarray([0.2, 0.7])).sum(), _f32(7)),
    "interp": (lambda np, x: np.interp(x, np.asarray([-1.0, 0.0, 1.0]), np.asarray([2.0, -1.0, 3.0])).sum(),
               _f32(5)),
    "interp-fp": (lambda np, fp: np.interp(np.asarray([-0.5, 0.25, 2.0]), np.asarray([-1.0, 0.0, 1.0]), fp).sum(),
                  _f32(3)),
    "vectorize": (lambda np, x: np.vectorize(lambda v: (v ** 2).sum(), signature="(n)->()")(x).sum(), _f32(3, 4)),
    "diag": (lambda np, x: np.sum(np.diag(x) @ np.diag(np.diag(x))), _f32(3, 3)),
    "insert-delete": (lambda np, x: np.sum(np.insert(np.delete(x, 1), 0, x[2]) ** 2), _f32(5)),
    "select": (lambda np, x: np.select([x < 0, x > 1], [x ** 2, np.sin(x)], default=x).sum(), _f32(6)),
    "histogram-weights": (lambda np, w: np.histogram(np.asarray([0.1, 0.5, 0.9, 0.3]), bins=2, range=(0, 1),
                                                     weights=w)[0][0], _f32(4)),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients(name):
    fn, x = GRADS[name]
    with x64_mode(False):
        want = jax.grad(lambda x: fn(jnp, x))(x)
        got_eager = kiln.grad(lambda x: fn(knp, x))(knp.asarray(x))
        got_jit = kiln.jit(kiln.grad(lambda x: fn(knp, x)))(knp.asarray(x))
        same(got_eager, want, rtol=1e-4)
        same(got_jit, want, rtol=1e-4)


# ---------------------------------------------------------------------------- statistics

_stat_cases = [
    case("trapezoid", lambda np, y: np.trapezoid(y), X),
    case("trapezoid-dx", lambda np, y: np.trapezoid(y, dx=0.5, axis=0), X),
    case("trapezoid-x", lambda np, y, x: np.trapezoid(y, x), X, onp.array([0.0, 0.5, 2.0, 2.5])),
    case("trapezoid-x-2d", lambda np, y, x: np.trapezoid(y, x, axis=0), X, floats(3, 4)),
    case("trapezoid-int", lambda np, y: np.trapezoid(y), ints(5)),
    case("trapezoid-dx-array", lambda np, y, d: np.trapezoid(y, dx=d), X, floats(3)),
    case("cov", lambda np, x: np.cov(x), X),
    case("cov-rowvar", lambda np, x: np.cov(x, rowvar=False), X),
    case("cov-y", lambda np, x, y: np.cov(x, y), floats(5), floats(5)),
    case("cov-bias-ddof", lambda np, x: np.cov(x, bias=True), X),
    case("cov-ddof", lambda np, x: np.cov(x, ddof=0), X),
    case("cov-weights", lambda np, x, f, a: np.cov(x, fweights=f, aweights=a), X, onp.array([1, 2, 1, 3]),
         floats(4, lo=0.1)),
    case("cov-fweights-float", lambda np, x, f: np.cov(x, fweights=f), X, floats(4)),
    case("cov-int", lambda np, x: np.cov(x), ints(2, 5)),
    case("cov-1d", lambda np, x: np.cov(x), floats(5)),
    case("cov-complex", lambda np, x, y: np.cov(x + 1j * y), X, X[::-1]),
    case("cov-3d", lambda np, x: np.cov(x), X3),
    case("corrcoef", lambda np, x: np.corrcoef(x), X),
    case("corrcoef-y", lambda np, x, y: np.corrcoef(x, y, rowvar=False), floats(5, 2), floats(5)),
    case("corrcoef-1d", lambda np, x: np.corrcoef(x), floats(5)),
]
test_statistics = table_test(_stat_cases)


@pytest.mark.parametrize("name", ["trapezoid", "cov", "corrcoef"])
def test_statistics_gradients(name):
    fn = {"trapezoid": lambda np, y: np.trapezoid(np.sin(y), np.asarray([0.0, 0.5, 2.0, 2.5])).sum(),
          "cov": lambda np, x: (np.cov(x) ** 2).sum(),
          "corrcoef": lambda np, x: np.corrcoef(x)[0, 1]}[name]
    x = _f32(3, 4)
    with x64_mode(False):
        same(kiln.grad(lambda x: fn(knp, x))(knp.asarray(x)), jax.grad(lambda x: fn(jnp, x))(x), rtol=1e-4)


# ---------------------------------------------------------------------------- elementwise extras, polynomials

C = floats(4) + 1j * floats(4)
_misc_cases = [
    case("angle", lambda np, z: np.angle(z), C),
    case("angle-deg", lambda np, z: np.angle(z, deg=True), C),
    case("angle-real", lambda np, x: np.angle(x), floats(4)),
    case("angle-int", lambda np, x: np.angle(x), ints(4)),
    case("angle-0d", lambda np, x: np.angle(x), onp.float64(-1.0)),
    case("angle-pyscalar", lambda np: np.angle(-2.0)),
    case("fabs", lambda np, x: np.fabs(x), floats(4)),
    case("fabs-int", lambda np, x: np.fabs(x), ints(4)),
    case("fabs-complex", lambda np, z: np.fabs(z), C),
    case("modf", lambda np, x: np.modf(x), floats(5) * 3),
    case("modf-int", lambda np, x: np.modf(x), ints(4)),
    case("logaddexp2", lambda np, x, y: np.logaddexp2(x, y), floats(5), floats(5)),
    case("logaddexp2-special", lambda np, x, y: np.logaddexp2(x, y),
         onp.array([onp.inf, -onp.inf, onp.nan, 1.0, -onp.inf]), onp.array([onp.inf, -onp.inf, 1.0, onp.inf, 2.0])),
    case("logaddexp2-int", lambda np, x: np.logaddexp2(x, 1), ints(4)),
    case("gcd", lambda np, x, y: np.gcd(x, y), onp.array([12, -18, 0, 7, 0]), onp.array([8, 24, 5, 0, 0])),
    case("gcd-broadcast", lambda np, x: np.gcd(x, 6), onp.array([[4, 9], [-12, 5]])),
    case("gcd-float", lambda np, x: np.gcd(x, x), floats(3)),
    case("lcm", lambda np, x, y: np.lcm(x, y), onp.array([4, -6, 0, 7]), onp.array([6, 4, 3, -7])),
    case("iscomplex", lambda np, z: np.iscomplex(z), onp.array([1 + 0j, 1 + 1j, 0j])),
    case("isreal", lambda np, z: np.isreal(z), onp.array([1 + 0j, 1 + 1j, 0j])),
    case("isreal-float", lambda np, x: np.isreal(x), floats(3)),
    case("copy", lambda np, x: np.copy(x), X),
    case("array_equiv", lambda np, x, y: np.array_equiv(x, y), onp.array([[1, 2], [1, 2]]), onp.array([1, 2])),
    case("array_equiv-false", lambda np, x, y: np.array_equiv(x, y), onp.array([1, 2]), onp.array([1, 3])),
    case("array_equiv-shapes", lambda np, x, y: np.array_equiv(x, y), onp.array([1, 2]), onp.array([1, 2, 3])),
    case("bitwise_invert", lambda np, x: np.bitwise_invert(x), ints(4)),
    case("bitwise_left_shift", lambda np, x: np.bitwise_left_shift(x, 2), onp.array([1, 3, 5])),
    case("bitwise_right_shift", lambda np, x, y: np.bitwise_right_shift(x, y), onp.array([16, -8, 5]),
         onp.array([1, 2, 0])),
    case("dtype-aliases", lambda np, x: (x.astype(np.single), x.astype(np.double), x.astype(np.csingle),
                                         x.astype(np.cdouble), x.astype(np.bool), abs(x).astype(np.uint)), ints(3)),
    case("polyval", lambda np, p, x: np.polyval(p, x), floats(4), X),
    case("polyval-int", lambda np, p, x: np.polyval(p, x), ints(3), ints(4)),
    case("polyval-pyscalar", lambda np, p: np.polyval(p, 2.0), floats(3)),
    case("polyadd", lambda np, a, b: np.polyadd(a, b), floats(3), floats(5)),
    case("polyadd-int", lambda np, a, b: np.polyadd(a, b), ints(4), ints(2)),
    case("polysub", lambda np, a, b: np.polysub(a, b), floats(5), floats(2)),
    case("polyder", lambda np, p: np.polyder(p), floats(5)),
    case("polyder-m", lambda np, p: np.polyder(p, 3), ints(5)),
    case("polyder-m0", lambda np, p: np.polyder(p, 0), ints(3)),
    case("polyint", lambda np, p: np.polyint(p), floats(4)),
    case("polyint-m-k", lambda np, p: np.polyint(p, 2, k=onp.array([1.0, 2.0])), floats(3)),
    case("polyint-k-scalar", lambda np, p: np.polyint(p, 3, k=2), ints(3)),
    case("vander", lambda np, x: np.vander(x), floats(4)),
    case("vander-N-increasing", lambda np, x: np.vander(x, 3, increasing=True), ints(4)),
    case("vander-2d", lambda np, x: np.vander(x), X),
]
test_misc = table_test(_misc_cases)


def test_misc_static():
    assert knp.iscomplexobj(knp.asarray(C)) and not knp.iscomplexobj(X) and not knp.iscomplexobj(None)
    assert knp.isrealobj(X) and not knp.isrealobj(1j)
    assert knp.bool is jnp.bool or knp.dtype(knp.bool) == jnp.dtype(jnp.bool)
    for name in ["single", "double", "csingle", "cdouble", "uint"]:
        assert knp.dtype(getattr(knp, name)) == jnp.dtype(getattr(jnp, name))
    with x64_mode(False):
        p = _f32(4)
        grad = lambda np: (lambda p: np.polyval(p, np.asarray([0.5, -1.5])).sum())  # noqa: E731
        same(kiln.grad(grad(knp))(knp.asarray(p)), jax.grad(grad(jnp))(p))
        same(kiln.grad(lambda x: knp.logaddexp2(x, 1.0).sum())(knp.asarray(p)),
             jax.grad(lambda x: jnp.logaddexp2(x, 1.0).sum())(p))
