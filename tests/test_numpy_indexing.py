"""Indexing and functional updates against real JAX: `x[idx]` and `x.at[idx].op(v)`.

Basic indices (ints, slices with negative steps, None, Ellipsis), integer-array (fancy)
indices and their mixtures with basic ones, out-of-bounds behaviour (static indices raise,
array indices clamp on reads and are dropped on writes), boolean masks (eager only; a clear
error under jit, as in JAX). See test_numpy_harness.
"""
import numpy as onp
import pytest

import kiln
import kiln.numpy as knp
from test_numpy_harness import bools, case, floats, ints, table_test

X = floats(4, 5)
X3 = floats(3, 4, 5)
I = onp.array([2, 0, -1])
J = onp.array([1, 4, 3])
cases = []

# ---------------------------------------------------------------------------- basic indices

BASIC = {
    "int": lambda np, x: x[1], "negative-int": lambda np, x: x[-1], "int-int": lambda np, x: x[1, -2],
    "slice": lambda np, x: x[1:3], "slice-step": lambda np, x: x[::2], "reverse": lambda np, x: x[::-1],
    "negative-step": lambda np, x: x[-1:0:-2], "negative-step-2d": lambda np, x: x[:, 3::-2],
    "slice-out-of-range": lambda np, x: x[2:10], "empty-slice": lambda np, x: x[3:1],
    "empty-negative-step": lambda np, x: x[1:3:-1], "none": lambda np, x: x[None],
    "none-middle": lambda np, x: x[:, None, 1:], "ellipsis": lambda np, x: x[..., 1],
    "ellipsis-middle": lambda np, x: x[1, ..., 2], "ellipsis-alone": lambda np, x: x[...],
    "int-slice": lambda np, x: x[2, 1:4], "tuple-all": lambda np, x: x[1:, -3:, ::2],
    "ellipsis-none": lambda np, x: x[..., None], "empty-tuple": lambda np, x: x[()],
}
for name, fn in BASIC.items():
    cases.append(case(f"basic-{name}", fn, X3 if name in ("tuple-all", "ellipsis-middle") else X))
cases += [
    case("basic-0d-empty-tuple", lambda np, x: x[()], onp.float64(2.0)),
    case("basic-0d-ellipsis", lambda np, x: x[...], onp.float64(2.0)),
    case("basic-0d-none", lambda np, x: x[None], onp.float64(2.0)),
    case("basic-int-array-0d", lambda np, x: x[1], ints(4)),
    case("basic-bool-array", lambda np, x: x[1:], bools(4)),
    case("basic-empty", lambda np, x: x[0], onp.zeros((2, 0))),
    case("basic-weak", lambda np: np.asarray(2.0)[None]),
    case("error-too-many", lambda np, x: x[1, 2, 3], X),
    case("error-two-ellipses", lambda np, x: x[..., 1, ...], X3),
    case("error-float", lambda np, x: x[1.0], X),
    case("error-0d-int", lambda np, x: x[0], onp.float64(1.0)),
]

# ---------------------------------------------------------------------------- integer arrays

cases += [
    case("fancy-1", lambda np, x, i: x[i], X, I),
    case("fancy-2", lambda np, x, i, j: x[i, j], X, I, J),
    case("fancy-2d-index", lambda np, x, i: x[i], X, onp.array([[0, 1], [3, -2]])),
    case("fancy-broadcast", lambda np, x, i, j: x[i[:, None], j], X, I, J),
    case("fancy-list", lambda np, x: x[[0, 2, -1]], X),
    case("fancy-column", lambda np, x, i: x[:, i], X, J),
    case("fancy-slice-after", lambda np, x, i: x[i, 1:], X, I),
    case("fancy-int-mixed", lambda np, x, i: x[1, i], X, J),
    case("fancy-adjacent", lambda np, x, i, j: x[:, i, j], X3, I, J),
    case("fancy-separated", lambda np, x, i, j: x[i, :, j], X3, I, J),
    case("fancy-separated-int", lambda np, x, j: x[0, :, j], X3, J),
    case("fancy-none", lambda np, x, i: x[None, i], X, I),
    case("fancy-none-after", lambda np, x, i: x[i, None], X, I),
    case("fancy-ellipsis", lambda np, x, j: x[..., j], X3, J),
    case("fancy-0d-index", lambda np, x, i: x[i], X, onp.int64(2)),
    case("fancy-empty-index", lambda np, x, i: x[i], X, onp.zeros((0,), onp.int64)),
    case("fancy-out-of-bounds", lambda np, x, i: x[i], floats(4), onp.array([0, 7, -9])),
    case("fancy-uint8", lambda np, x, i: x[i], X, onp.array([3, 1], onp.uint8)),
    case("fancy-int-array", lambda np, x, i: x[i], ints(5), I),
    case("fancy-float-index", lambda np, x, i: x[i], X, onp.array([1.0])),
    case("fancy-3-arrays", lambda np, x, i, j: x[i, i, j], X3, I, J),
]

# ---------------------------------------------------------------------------- boolean masks

cases += [
    case("mask-1d", lambda np, x, m: x[m], floats(5), bools(5), eager_only=True),
    case("mask-2d", lambda np, x, m: x[m], X, bools(4, 5), eager_only=True),
    case("mask-rows", lambda np, x, m: x[m], X, onp.array([True, False, True, True]), eager_only=True),
    case("mask-columns", lambda np, x, m: x[:, m], X, bools(5), eager_only=True),
    case("mask-comparison", lambda np, x: x[x > 0], X, eager_only=True),
    case("mask-none-true", lambda np, x, m: x[m], floats(3), onp.zeros(3, bool), eager_only=True),
    case("mask-wrong-shape", lambda np, x, m: x[m], X, bools(3), eager_only=True),
    case("mask-at-set", lambda np, x, m: x.at[m].set(0.0), X, bools(4, 5), eager_only=True),
    case("mask-where-instead", lambda np, x: np.where(x > 0, x, 0.0), X),
]

# ---------------------------------------------------------------------------- .at updates

UPDATES = {
    "set": lambda np, x, v, idx: x.at[idx].set(v), "add": lambda np, x, v, idx: x.at[idx].add(v),
    "multiply": lambda np, x, v, idx: x.at[idx].multiply(v), "min": lambda np, x, v, idx: x.at[idx].min(v),
    "max": lambda np, x, v, idx: x.at[idx].max(v),
}
for name, op in UPDATES.items():
    cases += [
        case(f"at-{name}-int", lambda np, x, op=op: op(np, x, 9.0, 1), X),
        case(f"at-{name}-slice", lambda np, x, v, op=op: op(np, x, v, (slice(None), slice(1, 3))), X, floats(4, 2)),
        case(f"at-{name}-broadcast", lambda np, x, v, op=op: op(np, x, v, slice(1, None)), X, floats(5)),
        case(f"at-{name}-array", lambda np, x, v, i, op=op: op(np, x, v, i), X, floats(3, 5), I),
        case(f"at-{name}-duplicates", lambda np, x, i, op=op: op(np, x, 2.0, i), floats(4), onp.array([1, 1, 3, 1])),
        case(f"at-{name}-fancy-rows-cols", lambda np, x, v, i, j, op=op: op(np, x, v, (slice(None), i, j)),
             X3, floats(3, 3), I, J),
        case(f"at-{name}-out-of-bounds", lambda np, x, i, op=op: op(np, x, 5.0, i), floats(4), onp.array([0, 9, -9])),
        case(f"at-{name}-int-array-pyfloat", lambda np, x, op=op: op(np, x, 2.5, 0), ints(3)),
        case(f"at-{name}-weak", lambda np, op=op: op(np, np.zeros(3) + 1.0, 2, 1)),
        case(f"at-{name}-0d", lambda np, x, op=op: op(np, x, 3.0, ()), onp.float64(1.0)),
        case(f"at-{name}-ellipsis", lambda np, x, v, op=op: op(np, x, v, (Ellipsis, 0)), X3, floats(4)),
        case(f"at-{name}-negative-step", lambda np, x, v, op=op: op(np, x, v, slice(None, None, -2)), floats(5), floats(3)),
        case(f"at-{name}-bad-shape", lambda np, x, v, op=op: op(np, x, v, 0), X, floats(4)),
    ]
cases += [
    case("at-get", lambda np, x, i: x.at[i].get(), floats(4), onp.array([0, 7, -9])),
    case("at-get-fill", lambda np, x, i: x.at[i].get(mode="fill", fill_value=-1.0), floats(4), onp.array([0, 7, -9])),
    case("at-get-fill-nan", lambda np, x, i: x.at[i].get(mode="fill"), floats(4), onp.array([0, 7])),
    case("at-get-slice", lambda np, x: x.at[1:, ::2].get(), X),
    case("at-divide", lambda np, x: x.at[1].divide(2.0), X),
    case("at-power", lambda np, x: x.at[:, 0].power(2), X),
    case("at-apply", lambda np, x: x.at[0].apply(lambda v: v * 10), X),
    case("at-set-int-into-float", lambda np, x, v: x.at[0].set(v), X, ints(5)),
    case("at-set-float-into-int", lambda np, x, v: x.at[1:3].set(v), ints(4), floats(2)),
    case("at-set-chain", lambda np, x: x.at[0].set(1.0).at[1].add(2.0).at[-1].multiply(3.0), X),
    case("at-set-bool", lambda np, x: x.at[0].set(True), bools(3)),
]

test_indexing = table_test(cases)


# ---------------------------------------------------------------------------- kiln's own rules

# A static out-of-bounds index clamps reads and drops updates, as in JAX: see
# tests/test_array.py::test_at_out_of_bounds_like_jax.


def test_boolean_mask_under_jit_names_the_problem():
    x = knp.arange(6.0)
    with pytest.raises(IndexError, match="boolean indices must be concrete"):
        kiln.jit(lambda a: a[a > 2])(x)
    with pytest.raises(IndexError, match="boolean indices must be concrete"):
        kiln.jit(lambda a, m: a.at[m].set(0.0))(x, x > 2)
