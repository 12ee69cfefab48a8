"""The LLVM backend's float16, float64 lgamma/digamma/erfc/erf_inv and qr against the reference
backend (the oracle).

float16 is computed as NumPy computes it (each operation in float32, rounded to float16), so
arithmetic, comparisons, conversions, reductions and contractions match the reference bit for
bit, and the transcendentals to an ulp. float64 lgamma, digamma, erfc and erf_inv are XLA's
sequences on both backends (against JAX in test_xla_math.py). qr calls the LAPACK routines
the reference calls, so its factors are the reference's bits.
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import kiln
import kiln.lax as lax
import kiln.numpy as knp
from kiln.backends.llvm import plan
from kiln.primitives import bind, registry

from compare_helpers import ulps

RNG = np.random.default_rng(0)
F16 = np.float16
ALL_F16 = np.arange(2**16, dtype=np.uint16).view(F16)  # every float16, inf and NaN included


def both(fn, *args):
    ref = kiln.jit(fn, backend="reference")(*args)
    got = kiln.jit(fn, backend="llvm")(*args)
    return got, ref


def assert_close(got, ref, max_ulp=0):
    for g, r in zip(kiln.tree_util.tree_leaves(got), kiln.tree_util.tree_leaves(ref)):
        g, r = np.asarray(g), np.asarray(r)
        if g.dtype.kind == "f" and g.size:
            err = ulps(g, r)
            assert err.max() <= max_ulp, f"{err.max()} ulp: {g[err > max_ulp][:5]} vs {r[err > max_ulp][:5]}"
        else:
            np.testing.assert_array_equal(g, r)


def sample16(shape=(37, 29)):
    return (RNG.standard_normal(shape) * 3).astype(F16)


# ---------------------------------------------------------------------------- float16

@pytest.mark.parametrize("fn", [lax.add, lax.sub, lax.mul, lax.div, lax.rem, lax.max, lax.min,
                                lax.eq, lax.ne, lax.lt, lax.ge, lax.nextafter])
def test_float16_arithmetic_is_the_references_bits(fn):
    x, y = sample16(), sample16()
    y[0, :4] = [0, -0.0, np.inf, np.nan]
    assert_close(*both(lambda a, b: fn(a, b), x, y))
    # every float16 against every other (reversed), subnormals, infinities and NaNs included
    assert_close(*both(lambda a, b: fn(a, b), ALL_F16, ALL_F16[::-1].copy()))


def test_float16_nextafter_at_zeros_and_infinities():
    x = np.array([0, -0.0, 0, 1, np.inf, -np.inf, 65504, -1, 6e-8], F16)
    y = np.array([-1, 1, 0, 1, 0, 0, np.inf, 0, 0], F16)
    assert_close(*both(lambda a, b: lax.nextafter(a, b), x, y))


EXACT16 = [lax.neg, lax.abs, lax.sign, lax.floor, lax.ceil, lax.round, lax.sqrt, lax.is_finite,
           lambda a: lax.round(a, 1)]
APPROX16 = [lax.exp, lax.log, lax.tanh, lax.sin, lax.cos, lax.rsqrt, lax.expm1, lax.log1p,
            lax.logistic, lax.erf, lax.erfc, lax.exp2, lax.atan, lax.sinh, lax.cbrt, lax.tan,
            lax.lgamma, lax.digamma, lax.erf_inv]


@pytest.mark.parametrize("fn", EXACT16 + APPROX16)
def test_float16_unary_on_every_value(fn):
    x = np.clip(ALL_F16, -1, 1) if fn is lax.erf_inv else ALL_F16
    assert_close(*both(lambda a: fn(a), x), max_ulp=0 if fn in EXACT16 else 1)


def test_round_half_away_from_zero_never_rounds_twice():
    """The reference rounds |x| + 1/2 no more (0.49999997 + 0.5 is 1 in float32)."""
    x = np.array([0.49999997, -0.49999997, 8388609, -8388609, 2.5, -2.5, 0.5, 1.5, np.inf, np.nan], np.float32)
    got, ref = both(lambda a: lax.round(a), x)
    np.testing.assert_array_equal(np.asarray(ref), [0, -0.0, 8388609, -8388609, 3, -3, 1, 2, np.inf, np.nan])
    assert_close(got, ref)


def test_float16_select_clamp_and_integer_powers():
    x = sample16()
    assert_close(*both(lambda a: (knp.where(a > 0, a, 0.5), lax.clamp(F16(-1), a, F16(1)),
                                  lax.integer_pow(a, 3), a * 2 + 1), x))
    assert_close(*both(lambda a: lax.integer_pow(a, -2), x), max_ulp=1)  # the reference rounds twice


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int8, np.int32, np.int64, np.uint8,
                                   np.uint16, np.uint64, np.bool_])
def test_float16_conversions_both_ways(dtype, x64):
    assert_close(*both(lambda a: lax.convert_element_type(a, dtype), ALL_F16))
    if dtype == np.bool_:
        values = RNG.random(1000) < 0.5
    elif np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        values = RNG.integers(max(info.min, -70000), min(info.max, 70000), 10000).astype(dtype)
    else:  # halfway cases and their neighbours, overflow, underflow, NaN
        wide = ALL_F16[np.isfinite(ALL_F16)].astype(np.float64)
        with np.errstate(over="ignore"):
            halfway = wide + np.spacing(wide.astype(F16)).astype(np.float64) / 2
        values = np.concatenate([halfway, np.nextafter(halfway, np.inf), np.nextafter(halfway, -np.inf),
                                 RNG.standard_normal(10000) * 1000, [65519.99, 65520, 1e300, 2**-25,
                                                                     2**-26, np.nan, -np.inf]])
        with np.errstate(over="ignore"):
            values = values.astype(dtype)
    assert_close(*both(lambda a: lax.convert_element_type(a, F16), values))


def test_float16_reductions_accumulate_as_the_reference():
    x = sample16((300, 40))
    assert_close(*both(lambda a: (a.sum(0), a.sum(1), a.sum(), a[:8].prod(0), a.max(1), a.min(0),
                                  knp.argmax(a, 0), knp.argmin(a, 1)), x))


def test_float16_cumulative_ops_round_every_step():
    x = sample16((50, 30))
    assert_close(*both(lambda a: (knp.cumsum(a, 0), knp.cumprod(a[:6], 1), lax.cummax(a, 1),
                                  lax.cumsum(a, 1, reverse=True)), x))


def test_float16_dot_general_sums_in_float32_in_order():
    a, b, v = sample16((37, 300)), sample16((300, 21)), sample16((300,))
    batch = sample16((3, 5, 40))
    assert_close(*both(lambda p, q, w, c: (p @ q, w @ q, p @ w, knp.einsum("bij,bkj->bik", c, c)), a, b, v, batch))
    assert_close(*both(lambda p, q: lax.dot_general(p, q, (((1,), (0,)), ((), ())),
                                                    preferred_element_type=np.float32), a, b))


def test_float16_in_control_flow_and_grad():
    x = sample16((16,))
    assert_close(*both(lambda a: lax.fori_loop(0, 5, lambda i, c: c * F16(0.5) + a, a), x))
    assert_close(*both(kiln.grad(lambda a: (knp.sin(a) * a).sum()), x), max_ulp=1)


# ---------------------------------------------------------------------------- lgamma, digamma, erf_inv

def _sweep(lo, hi, n=20_000):
    # a generator of its own: the points do not depend on which tests ran before
    return np.random.default_rng(abs(hash((lo, hi))) % 2**32).uniform(lo, hi, n)


LGAMMA_EDGES = [0.0, -0.0, 1.0, 2.0, -1.0, -2.0, -35.0, np.inf, -np.inf, np.nan, 1e-310, 5e-324,
                -1e-300, 2.5e305, 2.6e305, -0.5, -1.5, 13.0, 12.999999, 1000.0, 1e8, 1e300, -1e300]
DIGAMMA_EDGES = [0.0, -0.0, 1.0, 10.0, 11.0, -1.0, -2.0, 0.5, -0.5, np.inf, -np.inf, np.nan, 1e-310,
                 -1e-310, 1e17, 1e300, -0.504083008264455409, 1.4616321449683622, -1e15 - 0.5]


@pytest.mark.parametrize("name,fn,ref,edges,domains", [
    ("lgamma", lax.lgamma, sp.gammaln, LGAMMA_EDGES,
     [(-40, -34), (-34, -1), (-1, 0), (0, 3), (3, 13), (13, 1000), (1000, 1e9)]),
    ("digamma", lax.digamma, sp.digamma, DIGAMMA_EDGES, [(-40, -1), (-1, 0), (0, 3), (3, 13), (13, 1e6)]),
    ("erfc", lax.erfc, sp.erfc, [0.0, -0.0, 1.0, -1.0, 8.0, -8.0, 26.6, 27.3, np.inf, -np.inf, np.nan],
     [(-1, 1), (-8, 8), (-30, 30)]),
])
def test_float64_special_functions_are_the_references_bits(name, fn, ref, edges, domains, x64):
    """XLA's float64 sequences on both backends (against JAX in test_xla_math.py), near SciPy's."""
    x = np.concatenate([*(_sweep(lo, hi) for lo, hi in domains), np.exp(_sweep(-700, 700)), edges])
    got, want = both(lambda a: fn(a), x)
    np.testing.assert_array_equal(got, want)
    with np.errstate(all="ignore"):
        exact = ref(x)
        close = np.isfinite(exact) & (np.abs(x) < 1e6) & ~((x < 0) & (np.abs(x - np.round(x)) < 1e-3))
    np.testing.assert_allclose(np.asarray(got)[close], exact[close], rtol=1e-9, atol=1e-9)


def test_erf_inv_float64_is_the_references_bits(x64):
    tail = 1 - np.exp(_sweep(-37, 0))
    x = np.concatenate([_sweep(-1, 1, 100_000), tail, -tail, _sweep(-1e-3, 1e-3),
                        [0.0, -0.0, 1.0, -1.0, 1.5, -2.0, np.nan, 5e-324, 1e-300, np.inf]])
    got, ref = both(lambda a: lax.erf_inv(a), x)
    np.testing.assert_array_equal(got, ref)
    inner = np.abs(x) < 0.99  # XLA's 1 - x*x cancels near +-1
    np.testing.assert_allclose(np.asarray(got)[inner], sp.erfinv(x[inner]), rtol=1e-13)


def test_gradients_through_lgamma_and_digamma(x64):
    x = RNG.uniform(0.1, 8, 50)
    got, ref = both(kiln.grad(lambda a: (lax.lgamma(a) + lax.digamma(a) * 2).sum()), x)
    assert_close(got, ref, max_ulp=16)


# ---------------------------------------------------------------------------- qr

@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 3, 6, 4), (1, 1), (7, 0), (0, 3),
                                   (3, 0, 2), (60, 40), (40, 70)])
@pytest.mark.parametrize("full_matrices", [True, False])
def test_qr_is_the_references_lapack_result(dtype, shape, full_matrices, x64):
    x = RNG.standard_normal(shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * RNG.standard_normal(shape).astype(dtype)
    got, ref = both(lambda a: lax.linalg.qr(a * 2, full_matrices=full_matrices), x)
    assert_close(got, ref)  # the same LAPACK calls: the same bits
    q, r = (np.asarray(v) for v in got)
    if x.size:
        tol = 1e-4 if dtype in (np.float32, np.complex64) else 1e-12
        np.testing.assert_allclose(q @ r, x * 2, atol=tol * 10, rtol=tol)
        eye = np.eye(q.shape[-1], dtype=dtype)
        np.testing.assert_allclose(np.swapaxes(q, -1, -2).conj() @ q, np.broadcast_to(eye, q.shape[:-2] + eye.shape),
                                   atol=tol)
        np.testing.assert_array_equal(np.tril(r, -1), 0)


def test_qr_under_vmap_and_with_nan():
    x = RNG.standard_normal((4, 6, 3)).astype(np.float32)
    x[1, 2, 1] = np.nan
    assert_close(*both(kiln.vmap(lambda a: lax.linalg.qr(a, full_matrices=False)), x))


# ---------------------------------------------------------------------------- fma

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fma_rounds_once(request, dtype):
    """kiln's fma primitive (llvm.fma) against the exact NumPy emulations, where a * b and c
    cancel (so a multiply and an add rounded apart differ almost everywhere)."""
    if dtype == "float64":
        request.getfixturevalue("x64")
    from kiln.lax import xla_math, xla_math64
    rng = np.random.default_rng(3)
    a, b, c = (rng.standard_normal(10000).astype(dtype) for _ in range(3))
    c = (c * np.asarray(1e-6, dtype) - a * b).astype(dtype)
    want = xla_math.fma32(a, b, c) if dtype == "float32" else xla_math64.fma64(a, b, c)
    fma = lambda a, b, c: bind(registry["fma"], a, b, c)
    np.testing.assert_array_equal(kiln.jit(fma)(a, b, c), want)
    np.testing.assert_array_equal(fma(a, b, c), want)
    assert np.mean((a * b + c).astype(dtype) != want) > 0.9


# ---------------------------------------------------------------------------- coverage

def test_every_primitive_lowers_but_collectives_and_calls():
    """What the LLVM backend does not lower: the collectives (vmap removes them) and the call
    primitives (expand-calls inlines them before any backend; custom_lin only lives in linear
    programs that are transposed, as linearizing a custom_vjp function raises, as in JAX)."""
    from kiln.custom_derivatives import expand_rules
    collectives = {"psum", "pmax", "pmin", "axis_index", "all_gather"}
    calls = {p.name for p in expand_rules} | {"custom_lin"}
    # primitives that other test modules register to test error paths are not kiln's
    kilns = {name for name, p in registry.items() if not name.startswith("test_")}
    left = kilns - plan.SUPPORTED - collectives - calls
    assert not left, sorted(left)
