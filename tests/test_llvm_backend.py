"""The LLVM backend against the reference backend (the oracle), on every operation it lowers.

Integers and bools must match exactly; floats to a few ulp (the transcendental polynomials are
checked against float64 NumPy across the float range). The whole suite can also be run with
`KILN_BACKEND=llvm`; operations without a lowering then fail with UnsupportedError.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

import kiln
import kiln.lax as lax
import kiln.numpy as knp
from kiln.backends.llvm import UnsupportedError, compile_program
from kiln.backends.llvm.engine import Executable

RNG = np.random.default_rng(0)


def both(fn, *args, static_argnums=()):
    ref = kiln.jit(fn, backend="reference", static_argnums=static_argnums)(*args)
    got = kiln.jit(fn, backend="llvm", static_argnums=static_argnums)(*args)
    return got, ref


def assert_same(got, ref, ulps=0):
    got_leaves, ref_leaves = kiln.tree_util.tree_leaves(got), kiln.tree_util.tree_leaves(ref)
    assert len(got_leaves) == len(ref_leaves)
    for g, r in zip(got_leaves, ref_leaves):
        g, r = np.asarray(g), np.asarray(r)
        assert g.dtype == r.dtype and g.shape == r.shape
        if g.dtype.kind == "f" and ulps:
            with np.errstate(invalid="ignore"):  # inf - inf: judged by g == r
                tol = ulps * np.spacing(np.maximum(np.abs(r), np.finfo(r.dtype).tiny).astype(r.dtype))
                ok = (np.abs(g - r) <= tol) | (np.isnan(g) & np.isnan(r)) | (g == r)
            assert ok.all(), f"{g[~ok][:5]} vs {r[~ok][:5]}"
        else:
            np.testing.assert_array_equal(g, r)


def sample(dtype, shape=(5, 7)):
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return RNG.random(shape) < 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return RNG.integers(max(info.min, -100), min(info.max, 100), shape, endpoint=True).astype(dtype)
    return (RNG.standard_normal(shape) * 3).astype(dtype)


FLOATS, INTS = ("float32", "float64"), ("int8", "int32", "int64", "uint8", "uint32")

BINARY = [(lax.add, FLOATS + INTS), (lax.sub, FLOATS + INTS), (lax.mul, FLOATS + INTS),
          (lax.div, FLOATS + INTS), (lax.rem, FLOATS + INTS), (lax.max, FLOATS + INTS + ("bool",)),
          (lax.min, FLOATS + INTS + ("bool",)), (lax.eq, FLOATS + INTS), (lax.ne, FLOATS + INTS),
          (lax.lt, FLOATS + INTS), (lax.ge, FLOATS + INTS), (lax.bitwise_and, INTS + ("bool",)),
          (lax.bitwise_or, INTS + ("bool",)), (lax.bitwise_xor, INTS + ("bool",)),
          (lax.pow, FLOATS), (lax.atan2, FLOATS), (lax.nextafter, FLOATS)]


@pytest.mark.parametrize("fn,dtypes", BINARY, ids=[f.__name__ for f, _ in BINARY])
def test_binary(fn, dtypes):
    for dtype in dtypes:
        x, y = sample(dtype), sample(dtype)
        if fn is lax.pow:
            x = np.abs(x)
        got, ref = both(lambda a, b: fn(a, b), x, y)
        assert_same(got, ref, ulps=2)


UNARY = [(lax.neg, FLOATS + INTS[:3]), (lax.abs, FLOATS + INTS), (lax.sign, FLOATS + INTS),
         (lax.floor, FLOATS), (lax.ceil, FLOATS), (lax.round, FLOATS), (lax.is_finite, FLOATS),
         (lax.exp, FLOATS), (lax.log, FLOATS), (lax.tanh, FLOATS), (lax.sin, FLOATS), (lax.cos, FLOATS),
         (lax.sqrt, FLOATS), (lax.rsqrt, FLOATS), (lax.expm1, FLOATS), (lax.log1p, FLOATS),
         (lax.logistic, FLOATS), (lax.erf, FLOATS), (lax.bitwise_not, INTS + ("bool",)),
         (lax.exp2, FLOATS), (lax.atan, FLOATS), (lax.sinh, FLOATS), (lax.cbrt, FLOATS)]


@pytest.mark.parametrize("fn,dtypes", UNARY, ids=[f.__name__ for f, _ in UNARY])
def test_unary(fn, dtypes):
    for dtype in dtypes:
        x = sample(dtype)
        if fn in (lax.log, lax.sqrt, lax.rsqrt, lax.log1p):
            x = np.abs(x)
        got, ref = both(lambda a: fn(a), x)
        assert_same(got, ref, ulps=8 if fn is lax.tanh else 2)


def test_integer_edge_semantics():
    """Division by zero, INT_MIN / -1, shifts past the width, saturating float->int: defined
    as in the reference (and XLA), never LLVM's undefined behaviour."""
    i32 = np.iinfo(np.int32)
    x = np.array([7, -7, i32.min, i32.min, 5, 0], np.int32)
    y = np.array([0, 0, -1, 1, -1, 0], np.int32)
    assert_same(*both(lambda a, b: (lax.div(a, b), lax.rem(a, b)), x, y))
    u = np.array([1, 2, 3, 4], np.uint32)
    assert_same(*both(lambda a, b: (lax.div(a, b), lax.rem(a, b)), u, np.array([0, 1, 0, 3], np.uint32)))
    amounts = np.array([0, 1, 31, 32, 40, -1], np.int32)
    values = np.array([-8, 8, -1, 5, -5, 3], np.int32)
    assert_same(*both(lambda a, s: (lax.shift_left(a, s), lax.shift_right_arithmetic(a, s)), values, amounts))
    f = np.array([np.nan, np.inf, -np.inf, 3e9, -3e9, 2.7, -2.7, 255.9, 256.0], np.float32)
    for dtype in (np.int8, np.int32, np.uint8, np.uint32, np.int64, np.bool_, np.float64):
        assert_same(*both(lambda a, d=dtype: lax.convert_element_type(a, d), f))
    ints = np.array([-129, -1, 0, 1, 255, 70000], np.int64)
    for dtype in (np.int8, np.uint8, np.uint16, np.int32, np.float32, np.bool_):
        assert_same(*both(lambda a, d=dtype: lax.convert_element_type(a, d), ints))


def test_integer_pow_and_select_and_clamp():
    x = sample("float32")
    assert_same(*both(lambda a: (lax.integer_pow(a, 3), lax.integer_pow(a, -2), lax.integer_pow(a, 0)), x), ulps=2)
    n = sample("int32")
    assert_same(*both(lambda a: lax.integer_pow(a, 5), n))
    which = RNG.integers(0, 3, (5, 7)).astype(np.int32)
    assert_same(*both(lambda w, a, b: lax.select_n(w, a, b, a * 2), which, x, -x))
    assert_same(*both(lambda p, a, b: lax.select(p, a, b), x > 0, x, -x))
    assert_same(*both(lambda a: lax.clamp(-1.0, a, 1.0), np.array([np.nan, -3, 0.5, 4], np.float32)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "uint8", "bool"])
@pytest.mark.parametrize("axes", [(0,), (1,), (2,), (0, 2), (0, 1, 2), ()])
def test_reductions(dtype, axes):
    x = sample(dtype, (4, 5, 6))
    if dtype == "bool":
        fns = [lambda a: lax.reduce_and(a, axes), lambda a: lax.reduce_or(a, axes),
               lambda a: lax.reduce_max(a, axes)]
    else:
        fns = [lambda a: lax.reduce_sum(a, axes), lambda a: lax.reduce_max(a, axes),
               lambda a: lax.reduce_min(a, axes), lambda a: lax.reduce_prod(a * 0 + 1 if a.dtype.kind in "iu" else a, axes)]
    for fn in fns:
        got, ref = both(fn, x)
        if x.dtype.kind == "f":  # summation order differs: error relative to the terms' size
            eps = np.finfo(np.asarray(ref).dtype).eps
            np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=8 * eps,
                                       atol=8 * eps * float(np.abs(x).sum()))
        else:
            assert_same(got, ref)


def test_float32_sums_are_accurate():
    """float32 sums accumulate in float64: correctly rounded here, where NumPy's row-by-row
    float32 sum over axis 0 is off by ~1e-6 relative."""
    x = RNG.random((10000, 10)).astype(np.float32)
    exact = [x.astype(np.float64).sum(0), x.astype(np.float64).sum(), x.astype(np.float64).mean(1)]
    got = kiln.jit(lambda a: (knp.sum(a, axis=0), knp.sum(a), knp.mean(a, axis=1)), backend="llvm")(x)
    for g, e in zip(got, exact):
        np.testing.assert_allclose(np.asarray(g), e, rtol=np.finfo(np.float32).eps)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_argmax_argmin_with_nan_and_ties(axis):
    x = RNG.integers(0, 3, (4, 5, 6)).astype(np.float32)
    x[1, 2, 3] = np.nan
    assert_same(*both(lambda a: (knp.argmax(a, axis=axis), knp.argmin(a, axis=axis)), x))


def test_index_maps():
    x = sample("float32", (4, 6))
    assert_same(*both(lambda a: (a.T * 2, a[1:4:2, ::-1], a[None, :, :] + a[:, None, :1],
                                 knp.broadcast_to(a[:1], (3, 4, 6)), knp.arange(12.0).reshape(3, 4),
                                 knp.concatenate([a, a * 2, a[:, :1]], axis=1),
                                 knp.concatenate([a[:0], a], axis=0), a.reshape(6, 4) + 1), x))
    pads = ((1, -1, 0), (-2, 3, 2))
    assert_same(*both(lambda a: lax.pad(a, np.float32(-9), pads), x))
    assert_same(*both(lambda a: lax.pad(a, np.int32(0), ((0, 2, 0), (3, 1, 1))), sample("int32", (3, 4))))


def test_dynamic_slices_clamp():
    x = sample("float32", (5, 6))
    for i, j in [(0, 0), (2, 3), (4, 5), (-3, 1)]:
        got, ref = both(lambda a, s, t: (lax.dynamic_slice(a, (s, t), (2, 3)),
                                         lax.dynamic_update_slice(a, a[:2, :3] * 0 - 1, (s, t))),
                        x, np.int32(i), np.int32(j))
        assert_same(got, ref)


@pytest.mark.parametrize("shapes,dims", [
    (((64, 128), (128, 32)), (((1,), (0,)), ((), ()))),      # BLAS, plain
    (((128, 64), (128, 32)), (((0,), (0,)), ((), ()))),      # BLAS, lhs transposed
    (((64, 128), (32, 128)), (((1,), (1,)), ((), ()))),      # BLAS, rhs transposed
    (((3, 40, 50), (3, 50, 60)), (((2,), (1,)), ((0,), (0,)))),  # batched BLAS
    (((4, 5), (5, 3)), (((1,), (0,)), ((), ()))),            # small: loops
    (((6, 5, 4), (4, 6, 3)), (((2,), (0,)), ((0,), (1,)))),  # batch dims not leading: loops
    (((5,), (5,)), (((0,), (0,)), ((), ()))),                # inner product
    (((3,), (4,)), (((), ()), ((), ()))),                    # outer product
])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_dot_general(shapes, dims, dtype):
    a, b = sample(dtype, shapes[0]), sample(dtype, shapes[1])
    got, ref = both(lambda x, y: lax.dot_general(x, y, dims), a, b)
    if dtype == "int32":
        assert_same(got, ref)
    else:
        np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_sort_and_argsort_are_stable_with_nans_last(axis):
    x = RNG.integers(-3, 4, (7, 33)).astype(np.float32)
    x[2, 5] = x[0, 0] = np.nan
    x[1, 3], x[1, 4] = -0.0, 0.0
    assert_same(*both(lambda a: (knp.sort(a, axis=axis), knp.argsort(a, axis=axis),
                                 knp.sort(a.astype(np.int32), axis=axis)), x))
    keys = RNG.integers(0, 3, (2, 50)).astype(np.int32)
    assert_same(*both(lambda k: lax.sort((k[0], k[1], knp.arange(50)), num_keys=2), keys))
    assert_same(*both(lambda a: knp.sort(a), np.array([3.0], np.float32)))


def _rows_step(c, row):
    c = c + row
    return c * 0.5, c.sum()


def _count_up(x, n):
    total, i = 0.0, 0
    while i < n:  # a Python while on an array bound: a native while loop
        total = total + knp.sin(x[i]).sum()
        i += 1
    return total


CONTROL_FLOW = [
    ("cond", lambda x: lax.cond(x.sum() > 0, lambda v: v * 2, lambda v: v - 1, x)),
    ("switch", lambda x: lax.switch(lax.convert_element_type(x[0, 0] > 0, np.int32), [knp.sin, knp.cos], x)),
    ("while", lambda x: lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] * 1.5 + knp.roll(c[1], 1)),
                                       (0, x))),
    ("scan", lambda x: lax.scan(_rows_step, knp.zeros(x.shape[1]), x)),
    ("scan_reverse", lambda x: lax.scan(lambda c, r: (c + r, c * r), x[0], x, reverse=True)),
    ("fori", lambda x: lax.fori_loop(0, 3, lambda i, v: v * x + i, x)),
]


@pytest.mark.parametrize("name,fn", CONTROL_FLOW, ids=[c[0] for c in CONTROL_FLOW])
def test_control_flow(name, fn):
    for x in (sample("float32", (4, 3)), -np.abs(sample("float32", (4, 3)))):
        assert_same(*both(fn, x), ulps=2)


def test_python_while_and_grad_through_control_flow():
    x = sample("float32", (4, 3))
    assert_same(*both(_count_up, x, np.int32(3)), ulps=2)
    assert_same(*both(kiln.grad(lambda v: lax.scan(_rows_step, knp.zeros(3), v)[1].sum()), x), ulps=4)


def test_mlp_value_and_grad():
    def loss(p, x, y):
        h = knp.tanh(x @ p["w1"] + p["b1"])
        logits = h @ p["w2"] + p["b2"]
        return -knp.mean(knp.sum(kiln.nn.log_softmax(logits) * y, axis=-1))
    p = {"w1": sample("float32", (30, 20)) * 0.1, "b1": sample("float32", (20,)),
         "w2": sample("float32", (20, 10)) * 0.1, "b2": sample("float32", (10,))}
    x, y = sample("float32", (16, 30)), np.eye(10, dtype=np.float32)[RNG.integers(0, 10, 16)]
    got, ref = both(kiln.value_and_grad(loss), p, x, y)
    for g, r in zip(kiln.tree_util.tree_leaves(got), kiln.tree_util.tree_leaves(ref)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(r), rtol=2e-5, atol=1e-6)


def test_random_bits_are_identical():
    """threefry2x32 and XLA's erf_inv lowered natively give the reference's bits exactly."""
    for seed in (0, 42):
        key = kiln.random.key(seed)
        assert_same(*both(lambda k: (kiln.random.normal(k, (1001,)), kiln.random.uniform(k, (7, 3)),
                                     kiln.random.bits(k, (5,))), key))


@np.errstate(all="ignore")  # inf - inf and overflowing casts are judged by `same`
def _ulp_error(got, want):
    want32 = want.astype(np.float32)
    spacing = np.spacing(np.abs(want32)).astype(np.float64)
    err = np.abs(got.astype(np.float64) - want) / np.maximum(spacing, np.finfo(np.float32).smallest_subnormal)
    same = (got == want32) | (np.isnan(got) & np.isnan(want))
    return np.where(same, 0.0, err)


SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-38, 88.72, 88.73, -103.9,
                    -104.0, -87.3, 7.9, -7.9, 1e-4, 3.4e38], np.float32)


@pytest.mark.parametrize("name,fn,ref,domain,max_ulp", [
    # exp, log and log1p are XLA's own sequences (JAX's bits), as accurate as XLA's: exp within
    # 1 ulp but for x > 88.38, where XLA's clamp of n to 127 costs up to 6 ulp
    ("exp", knp.exp, np.exp, lambda: RNG.uniform(-110, 90, 200_000), 6.0),
    ("log", knp.log, np.log, lambda: np.abs(RNG.integers(0, 2**32, 200_000, dtype=np.uint64)
                                            .astype(np.uint32).view(np.float32)), 1.1),
    ("tanh", knp.tanh, np.tanh, lambda: np.concatenate([RNG.uniform(-10, 10, 200_000),
                                                        RNG.uniform(-1e-3, 1e-3, 10_000)]), 8.0),
    ("log1p", knp.log1p, np.log1p, lambda: np.concatenate([RNG.uniform(-1, 4, 100_000),
                                                           np.exp(RNG.uniform(-80, 80, 100_000))]), 2.5),
    # sin/cos: polynomials for |x| <= 4096; one larger element sends the kernel to libm
    ("sin", knp.sin, np.sin, lambda: RNG.uniform(-4096, 4096, 200_000), 1.0),
    ("cos", knp.cos, np.cos, lambda: RNG.uniform(-50, 50, 200_000), 1.0),
])
def test_float32_transcendentals_accuracy(name, fn, ref, domain, max_ulp):
    x = np.concatenate([domain().astype(np.float32), SPECIAL])
    got = np.asarray(kiln.jit(lambda a: fn(a), backend="llvm")(x))
    with np.errstate(all="ignore"):
        want = ref(x.astype(np.float64))
    err = _ulp_error(got, want)
    assert err.max() <= max_ulp, f"{name}: {err.max()} ulp at x={x[np.argmax(err)]}"
    assert np.array_equal(np.isnan(got), np.isnan(want))
    if name in ("exp", "log", "log1p"):  # the reference's bits, which are XLA's
        assert_same(got, np.asarray(fn(x)))


def test_float64_log1p_is_xlas(x64):
    """float64 log1p as XLA:CPU computes it (its rational approximation near 0, log(1 + x)
    beyond): the reference backend's bits, and within 2 ulp of NumPy except just above
    x = -(sqrt(2) - 1), where XLA's log(1 + x) loses up to 128 ulp (JAX's values there are
    the same)."""
    x = np.concatenate([RNG.uniform(-1, 3, 100_000), np.exp(RNG.uniform(-700, 700, 100_000)),
                        [0.0, -0.0, 5e-324, -1.0, -2.0, np.inf, -np.inf, np.nan, 1e-17]])
    got = np.asarray(kiln.jit(lambda a: knp.log1p(a), backend="llvm")(x))
    reference = np.asarray(kiln.jit(lambda a: knp.log1p(a), backend="reference")(x))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, reference)
    with np.errstate(all="ignore"):
        want = np.log1p(x)
    finite = np.isfinite(want) & ~((x > -0.42) & (x < -0.34))
    err = np.abs(got[finite] - want[finite]) / np.spacing(np.abs(want[finite]))
    assert err.max() <= 2.0
    np.testing.assert_array_equal(got[~np.isfinite(want)], want[~np.isfinite(want)])


def test_sin_cos_beyond_the_polynomial_range_fall_back_to_libm():
    x = np.array([0.5, 1e5, 3e38, -7e20], np.float32)
    got = kiln.jit(lambda a: (knp.sin(a), knp.cos(a)), backend="llvm")(x)
    np.testing.assert_allclose(np.asarray(got[0]), np.sin(x.astype(np.float64)), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.asarray(got[1]), np.cos(x.astype(np.float64)), rtol=1e-6, atol=1e-7)


def test_elementwise_chain_is_one_vectorized_kernel(capsys, monkeypatch):
    monkeypatch.setenv("KILN_DUMP", "plan,opt")
    f = kiln.jit(lambda x: knp.tanh(knp.sin(x) * knp.exp(-x)), backend="llvm")
    f(np.ones(1024, np.float32))
    err = capsys.readouterr().err
    assert err.count("kernel ") == 1 and "fusing [tanh, mul, sin, exp, neg]" in err
    assert "x float>" in err  # LLVM's loop vectorizer widened the loop


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_large_kernels_split_across_threads(threads, monkeypatch, capsys):
    """Kernels over >= 2**17 elements run on KILN_NUM_THREADS threads (pthreads from the
    generated code); every split gives the same result as the reference."""
    monkeypatch.setenv("KILN_NUM_THREADS", threads)
    monkeypatch.setenv("KILN_DUMP", "llvm")
    x = sample("float32", (1001, 300))
    x[5, 7] = 1e5  # outside sin's polynomial range: the fallback flag is raised by one thread
    got, ref = both(lambda a: (knp.sin(a) * 2, knp.exp(a / 8).sum(axis=1), a.T * a[:, 0], a[::2] + 1), x)
    assert_same(got, ref, ulps=2)
    assert ("kiln_parallel_for" in capsys.readouterr().err) == (threads != "1")


def test_object_code_is_relocatable_machine_code():
    program = kiln.make_ir(lambda x: knp.exp(x) @ x.T)(np.ones((70, 80), np.float32))
    code = Executable(program, "f").object_code()
    if sys.platform.startswith("linux"):
        assert code[:4] == b"\x7fELF"
    assert len(code) > 100


def test_unsupported_operation_names_the_primitive_and_line(monkeypatch):
    from kiln.backends.llvm import plan
    monkeypatch.setattr(plan, "SUPPORTED", plan.SUPPORTED - {"lgamma"})  # every primitive lowers
    with pytest.raises(UnsupportedError, match=r"`lgamma` \(staged at .*test_llvm_backend.py:\d+"):
        kiln.jit(lambda x: lax.lgamma(x), backend="llvm")(np.ones(3, np.float32))


def test_outputs_that_are_inputs_literals_or_repeated():
    x = sample("float32", (3,))
    got = kiln.jit(lambda a: (a, 2.0, a + 1, a + 1), backend="llvm")(x)
    np.testing.assert_array_equal(np.asarray(got[0]), x)
    assert float(got[1]) == 2.0
    np.testing.assert_array_equal(np.asarray(got[2]), x + 1)
    program = kiln.make_ir(lambda a: (a, a * 2))(x)
    outs = compile_program(program)(x)
    assert outs[0] is not x and np.array_equal(outs[1], x * 2)


def test_zero_sized_arrays():
    x = np.ones((0, 3), np.float32)
    assert_same(*both(lambda a: (a * 2, knp.sum(a, axis=0), knp.sum(a, axis=1), a.T @ a), x))
