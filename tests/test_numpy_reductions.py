"""kiln.numpy's reductions, cumulative reductions, contractions and sorting against real JAX.

Reductions over every axis spelling (None, int, negative, tuple) with keepdims, on float,
int and bool inputs, 0-d and empty arrays; contractions including batched and broadcast
ones and mixed dtypes; sort/argsort with NaNs and ties. See test_numpy_harness.
"""
import numpy as onp

from test_numpy_harness import bools, case, floats, ints, table_test

X = floats(3, 4)
X3 = floats(2, 3, 4)
cases = []

# ---------------------------------------------------------------------------- reductions

REDUCTIONS = {
    "sum": lambda np, x, **k: np.sum(x, **k), "mean": lambda np, x, **k: np.mean(x, **k),
    "prod": lambda np, x, **k: np.prod(x, **k), "max": lambda np, x, **k: np.max(x, **k),
    "min": lambda np, x, **k: np.min(x, **k), "std": lambda np, x, **k: np.std(x, **k),
    "var": lambda np, x, **k: np.var(x, **k), "any": lambda np, x, **k: np.any(x, **k),
    "all": lambda np, x, **k: np.all(x, **k),
}
AXES = {"all": {}, "ax0": {"axis": 0}, "ax-1": {"axis": -1}, "ax01": {"axis": (0, 2)},
        "keep": {"axis": 1, "keepdims": True}, "keepall": {"keepdims": True}}
for name, fn in REDUCTIONS.items():
    for axes_name, kw in AXES.items():
        cases.append(case(f"{name}-{axes_name}", lambda np, x, fn=fn, kw=kw: fn(np, x, **kw), X3))
    cases += [
        case(f"{name}-0d", lambda np, x, fn=fn: fn(np, x), onp.float64(1.5)),
        case(f"{name}-pyfloat", lambda np, fn=fn: fn(np, 2.5)),
        case(f"{name}-int", lambda np, x, fn=fn: fn(np, x, axis=0), ints(3, 4)),
        case(f"{name}-int8", lambda np, x, fn=fn: fn(np, x), onp.array([1, 2, 3], onp.int8)),
        case(f"{name}-uint8", lambda np, x, fn=fn: fn(np, x), onp.array([1, 2, 3], onp.uint8)),
        case(f"{name}-bool", lambda np, x, fn=fn: fn(np, x, axis=1), bools(3, 4)),
        case(f"{name}-empty-axis", lambda np, x, fn=fn: fn(np, x, axis=0), onp.zeros((0, 3))),
        case(f"{name}-empty-all", lambda np, x, fn=fn: fn(np, x), onp.zeros((2, 0))),
        case(f"{name}-bad-axis", lambda np, x, fn=fn: fn(np, x, axis=2), X),
        case(f"{name}-nan", lambda np, x, fn=fn: fn(np, x, axis=0), onp.array([[1.0, onp.nan], [2.0, 3.0]])),
    ]
cases += [
    case("sum-dtype", lambda np, x: np.sum(x, dtype=np.int8), ints(5)),
    case("sum-float-dtype", lambda np, x: np.sum(x, axis=0, dtype=np.float32), ints(3, 2)),
    case("mean-int-dtype", lambda np, x: np.mean(x, dtype=np.float32), ints(4)),
    case("sum-method", lambda np, x: x.sum(axis=1, keepdims=True), X),
    case("mean-method", lambda np, x: x.mean(0), X),
    case("max-method", lambda np, x: x.max(axis=-1), X),
    case("sum-where", lambda np, x, m: np.sum(x, axis=0, where=m), X, bools(3, 4)),
    case("sum-initial", lambda np, x: np.sum(x, initial=10.0), X),
    case("max-initial-empty", lambda np, x: np.max(x, axis=0, initial=-1.0), onp.zeros((0, 2))),
    case("std-ddof", lambda np, x: np.std(x, axis=0, ddof=1), X),
    case("var-ddof", lambda np, x: np.var(x, ddof=1), X),
    case("var-int-all", lambda np, x: np.var(x), ints(6)),
    case("mean-keepdims-tuple", lambda np, x: np.mean(x, axis=(-1, 0), keepdims=True), X3),
    case("duplicate-axis", lambda np, x: np.sum(x, axis=(0, 0)), X),
]

# argmax/argmin: ties pick the first, NaN wins (as in NumPy)
for name, fn in {"argmax": lambda np, x, **k: np.argmax(x, **k),
                 "argmin": lambda np, x, **k: np.argmin(x, **k)}.items():
    cases += [
        case(f"{name}-all", lambda np, x, fn=fn: fn(np, x), X3),
        case(f"{name}-ax1", lambda np, x, fn=fn: fn(np, x, axis=1), X3),
        case(f"{name}-ax-1-keep", lambda np, x, fn=fn: fn(np, x, axis=-1, keepdims=True), X),
        case(f"{name}-keep-none", lambda np, x, fn=fn: fn(np, x, keepdims=True), X),
        case(f"{name}-ties", lambda np, x, fn=fn: fn(np, x), onp.array([1, 3, 3, 0, 0])),
        case(f"{name}-nan", lambda np, x, fn=fn: fn(np, x, axis=0), onp.array([[1.0, onp.nan], [onp.nan, 0.0], [2.0, 5.0]])),
        case(f"{name}-bool", lambda np, x, fn=fn: fn(np, x), onp.array([False, True, True])),
        case(f"{name}-0d", lambda np, x, fn=fn: fn(np, x), onp.float64(2.0)),
        case(f"{name}-empty", lambda np, x, fn=fn: fn(np, x), onp.zeros((0,))),
        case(f"{name}-empty-axis", lambda np, x, fn=fn: fn(np, x, axis=0), onp.zeros((0, 3))),
        case(f"{name}-method", lambda np, x, name=name: getattr(x, name)(axis=0), X),
    ]

# cumulative reductions
for name, fn in {"cumsum": lambda np, x, **k: np.cumsum(x, **k),
                 "cumprod": lambda np, x, **k: np.cumprod(x, **k)}.items():
    cases += [
        case(f"{name}-none", lambda np, x, fn=fn: fn(np, x), X),
        case(f"{name}-ax0", lambda np, x, fn=fn: fn(np, x, axis=0), X3),
        case(f"{name}-ax-1", lambda np, x, fn=fn: fn(np, x, axis=-1), X3),
        case(f"{name}-int", lambda np, x, fn=fn: fn(np, x, axis=1), ints(3, 4)),
        case(f"{name}-int8", lambda np, x, fn=fn: fn(np, x), onp.array([1, 2, 3], onp.int8)),
        case(f"{name}-bool", lambda np, x, fn=fn: fn(np, x), bools(5)),
        case(f"{name}-dtype", lambda np, x, fn=fn: fn(np, x, dtype=np.float32), ints(5)),
        case(f"{name}-0d", lambda np, x, fn=fn: fn(np, x), onp.float64(3.0)),
        case(f"{name}-empty", lambda np, x, fn=fn: fn(np, x, axis=1), onp.zeros((2, 0))),
        case(f"{name}-pyfloat", lambda np, fn=fn: fn(np, 1.5)),
        case(f"{name}-method", lambda np, x, name=name: getattr(x, name)(axis=0), X),
    ]

# ---------------------------------------------------------------------------- contractions

A, B = floats(3, 4), floats(4, 5)
V, W = floats(4), floats(4)
cases += [
    case("dot-vv", lambda np, a, b: np.dot(a, b), V, W),
    case("dot-mv", lambda np, a, b: np.dot(a, b), A, V),
    case("dot-vm", lambda np, a, b: np.dot(a, b), V, B),
    case("dot-mm", lambda np, a, b: np.dot(a, b), A, B),
    case("dot-3d-2d", lambda np, a, b: np.dot(a, b), X3, B),
    case("dot-3d-3d", lambda np, a, b: np.dot(a, b), X3, floats(2, 4, 3)),
    case("dot-scalar", lambda np, a, b: np.dot(a, b), onp.float64(2.0), A),
    case("dot-pyfloat", lambda np, a: np.dot(a, 2.0), A),
    case("dot-int", lambda np, a, b: np.dot(a, b), ints(3, 4), ints(4, 2)),
    case("dot-int-float", lambda np, a, b: np.dot(a, b), ints(3, 4), B),
    case("dot-bool", lambda np, a, b: np.dot(a, b), bools(2, 3), bools(3, 2)),
    case("dot-empty", lambda np, a, b: np.dot(a, b), onp.zeros((3, 0)), onp.zeros((0, 2))),
    case("dot-mismatch", lambda np, a, b: np.dot(a, b), A, A),
    case("dot-method", lambda np, a, b: a.dot(b), A, B),
    case("matmul-mm", lambda np, a, b: np.matmul(a, b), A, B),
    case("matmul-op", lambda np, a, b: a @ b, A, B),
    case("matmul-vv", lambda np, a, b: a @ b, V, W),
    case("matmul-mv", lambda np, a, b: a @ b, A, V),
    case("matmul-vm", lambda np, a, b: a @ b, V, B),
    case("matmul-batched", lambda np, a, b: a @ b, X3, B),
    case("matmul-batch-broadcast", lambda np, a, b: a @ b, floats(2, 1, 3, 4), floats(5, 4, 2)),
    case("matmul-batched-v", lambda np, a, b: a @ b, X3, V),
    case("matmul-v-batched", lambda np, a, b: a @ b, floats(3), X3),
    case("matmul-int", lambda np, a, b: a @ b, ints(2, 3), ints(3, 2)),
    case("matmul-int8-float", lambda np, a, b: a @ b, onp.ones((2, 3), onp.int8), floats(3, 2)),
    case("matmul-scalar", lambda np, a, b: np.matmul(a, b), onp.float64(2.0), A),
    case("matmul-mismatch", lambda np, a, b: a @ b, A, A),
    case("matmul-empty", lambda np, a, b: a @ b, onp.zeros((0, 3)), floats(3, 2)),
    case("outer", lambda np, a, b: np.outer(a, b), V, floats(3)),
    case("outer-2d", lambda np, a, b: np.outer(a, b), A, V),
    case("outer-int-float", lambda np, a, b: np.outer(a, b), ints(3), V),
    case("outer-0d", lambda np, a, b: np.outer(a, b), onp.float64(2.0), V),
    case("inner-vv", lambda np, a, b: np.inner(a, b), V, W),
    case("inner-mm", lambda np, a, b: np.inner(a, b), A, floats(2, 4)),
    case("inner-3d", lambda np, a, b: np.inner(a, b), X3, A),
    case("inner-scalar", lambda np, a: np.inner(a, 3.0), V),
    case("inner-int", lambda np, a, b: np.inner(a, b), ints(4), ints(4)),
    case("tensordot-2", lambda np, a, b: np.tensordot(a, b), X3, floats(3, 4, 2)),
    case("tensordot-1", lambda np, a, b: np.tensordot(a, b, axes=1), X3, B),
    case("tensordot-0", lambda np, a, b: np.tensordot(a, b, axes=0), V, floats(2)),
    case("tensordot-pairs", lambda np, a, b: np.tensordot(a, b, axes=([0, 2], [1, 0])), X3, floats(4, 2, 5)),
    case("tensordot-ints", lambda np, a, b: np.tensordot(a, b, axes=(1, 0)), A, B),
    case("tensordot-negative", lambda np, a, b: np.tensordot(a, b, axes=([-1], [0])), A, B),
    case("tensordot-int", lambda np, a, b: np.tensordot(a, b, axes=1), ints(2, 3), ints(3, 2)),
    case("tensordot-mismatch", lambda np, a, b: np.tensordot(a, b, axes=1), A, A),
]
EINSUM = {
    "ij,jk->ik": (A, B), "ij,jk": (A, B), "bij,bjk->bik": (X3, floats(2, 4, 3)), "ii->i": (floats(3, 3),),
    "ii": (floats(3, 3),), "i,i->": (V, W), "i,j->ij": (V, floats(2)), "ij->ji": (A,), "ij->": (A,),
    "...ij,...jk->...ik": (X3, B), "bij,jk": (X3, B), "ijk,ikl->jl": (X3, floats(2, 4, 5)),
    "ij,ij->i": (A, A), "i,ij,j->": (floats(3), A, V), "ij,kj->ik": (A, floats(2, 4)),
    "...i,...i": (X3, V), "ab,bc,cd->ad": (floats(2, 3), floats(3, 4), floats(4, 2)),
}
for spec, args in EINSUM.items():
    cases.append(case(f"einsum-{spec}", lambda np, *a, spec=spec: np.einsum(spec, *a), *args))
cases += [
    case("einsum-int", lambda np, a, b: np.einsum("ij,jk->ik", a, b), ints(2, 3), ints(3, 2)),
    case("einsum-int-float", lambda np, a, b: np.einsum("i,i", a, b), ints(4), V),
    case("einsum-broadcast-1", lambda np, a, b: np.einsum("ij,ij->ij", a, b), floats(3, 1), A),
]

# ---------------------------------------------------------------------------- sorting

S = onp.array([[3.0, 1.0, onp.nan, 2.0, 1.0], [0.5, -1.0, 4.0, onp.inf, -onp.inf]])
for name, fn in {"sort": lambda np, x, **k: np.sort(x, **k),
                 "argsort": lambda np, x, **k: np.argsort(x, **k)}.items():
    cases += [
        case(f"{name}-last", lambda np, x, fn=fn: fn(np, x), S),
        case(f"{name}-ax0", lambda np, x, fn=fn: fn(np, x, axis=0), S),
        case(f"{name}-none", lambda np, x, fn=fn: fn(np, x, axis=None), S),
        case(f"{name}-descending", lambda np, x, fn=fn: fn(np, x, descending=True), onp.array([3, 1, 2, 1, 3])),
        case(f"{name}-int-ties", lambda np, x, fn=fn: fn(np, x), onp.array([2, 1, 2, 0, 1, 2])),
        case(f"{name}-bool", lambda np, x, fn=fn: fn(np, x), bools(6)),
        case(f"{name}-3d", lambda np, x, fn=fn: fn(np, x, axis=1), X3),
        case(f"{name}-empty", lambda np, x, fn=fn: fn(np, x), onp.zeros((2, 0))),
        case(f"{name}-0d", lambda np, x, fn=fn: fn(np, x, axis=None), onp.float64(1.0)),
        case(f"{name}-0d-axis", lambda np, x, fn=fn: fn(np, x), onp.float64(1.0)),
        case(f"{name}-method", lambda np, x, name=name: getattr(x, name)(), S),
    ]

test_reductions = table_test(cases)
