"""kiln.random's gamma family, counting samplers, closed-form samplers and orthogonal against
real JAX 0.10.2, plus statistics.

Every sampler is compared with JAX over several keys, shapes and dtypes, eagerly, under
kiln.jit and under kiln.vmap over keys. Integer results (poisson, geometric, rademacher,
binomial's integral floats) must be identical, and so must every float variate (kiln computes
XLA's own log, log1p, exp, rsqrt, pow and tan, and its float64 exp, log1p and erf_inv). The
tolerance (TOL) is left for YNNPACK's cases on CPUs whose kernels kiln does not reproduce.

From 4096 elements on, XLA:CPU hands a reduce (with the elementwise operations of 4096 elements
or more around it, log and exp included) to YNNPACK, which computes it its own way: dirichlet
with 4 categories from 1024 rows, ball and maxwell (3 terms a row) from 1366 rows, the scaling
of double_sided_maxwell from 4096. kiln computes what YNNPACK computes on this host's kind of
CPU (`kiln.random.ynnpack`); `test_samplers_ynnpack` checks both sides of each threshold.
"""
import functools
import math

import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln import random
from kiln.random import ynnpack

jax = pytest.importorskip("jax")
jr = jax.random
jnp = jax.numpy

SEEDS = [0, 1, 42, 2 ** 31 - 1]
SHAPES = [(), (7,), (3, 5), (1000,)]
ALPHA = np.array([0.3, 1.0, 2.5, 9.0], np.float32)


# name -> fn(module, key, shape, dtype): the same call for kiln.random and jax.random.
CASES = {
    "gamma": lambda m, k, s, d: m.gamma(k, 2.5, s, d),
    "gamma_small_a": lambda m, k, s, d: m.gamma(k, 0.2, s, d),
    "gamma_array_a": lambda m, k, s, d: m.gamma(k, ALPHA, s + (4,), d),
    "loggamma": lambda m, k, s, d: m.loggamma(k, 0.3, s, d),
    "beta": lambda m, k, s, d: m.beta(k, 0.5, 2.0, s, d),
    "dirichlet": lambda m, k, s, d: m.dirichlet(k, ALPHA, s, d),
    "chisquare": lambda m, k, s, d: m.chisquare(k, 3.0, s, d),
    "f": lambda m, k, s, d: m.f(k, 5.0, 10.0, s, d),
    "t": lambda m, k, s, d: m.t(k, 5.0, s, d),
    "generalized_normal": lambda m, k, s, d: m.generalized_normal(k, 1.5, s, d),
    "ball": lambda m, k, s, d: m.ball(k, 3, 2, s, d),
    "cauchy": lambda m, k, s, d: m.cauchy(k, s, d),
    "maxwell": lambda m, k, s, d: m.maxwell(k, s, d),
    # a scale that is not a power of two: XLA fuses sign * maxwell * scale + loc
    "double_sided_maxwell": lambda m, k, s, d: m.double_sided_maxwell(k, 0.3, 1.7, s, d),
    "weibull_min": lambda m, k, s, d: m.weibull_min(k, 2.0, 1.5, s, d),
    "pareto": lambda m, k, s, d: m.pareto(k, 3.0, s, d),
    "rayleigh": lambda m, k, s, d: m.rayleigh(k, 2.0, s, d),
    "wald": lambda m, k, s, d: m.wald(k, 1.5, s, d),
    "triangular": lambda m, k, s, d: m.triangular(k, -1.0, 0.5, 2.0, s, d),
    "lognormal": lambda m, k, s, d: m.lognormal(k, 0.7, s, d),
    "orthogonal": lambda m, k, s, d: m.orthogonal(k, 3, s, d),
    "orthogonal_wide": lambda m, k, s, d: m.orthogonal(k, 2, s, d, m=4),
    "binomial": lambda m, k, s, d: m.binomial(k, 40.0, 0.3, s, d),
    "binomial_mixed": lambda m, k, s, d: m.binomial(k, np.array([3.0, 60.0, 500.0]), np.array([0.5, 0.8, 0.1]),
                                                    s + (3,), d),
    "poisson": lambda m, k, s, d: m.poisson(k, 3.0, s),
    "poisson_rejection": lambda m, k, s, d: m.poisson(k, 60.0, s),
    "poisson_array_small": lambda m, k, s, d: m.poisson(k, np.array([0.0, 0.5, 9.5], np.float32), s + (3,)),
    "poisson_array_large": lambda m, k, s, d: m.poisson(k, np.array([10.0, 150.0], np.float32), s + (2,)),
    # lam >= 1e3 and lam < 10 next to it: the acceptance test turns on the last bits of lgamma
    "poisson_array_huge": lambda m, k, s, d: m.poisson(k, np.array([1e3, 1e5, 0.5], np.float32), s + (3,)),
    "poisson_huge": lambda m, k, s, d: m.poisson(k, 3e4, s),
    # erf is XLA's, of the bounds times 1 / sqrt(2) (XLA's rewrite of the division), saturating
    # where XLA's erf fused with that product does
    "truncated_normal": lambda m, k, s, d: m.truncated_normal(k, -1.3, 2.1, s, d),
    # erf(-5.3 / sqrt(2)) lies between XLA's two saturation points of erf
    "truncated_normal_tail": lambda m, k, s, d: m.truncated_normal(k, -5.3, 0.4, s, d),
    "geometric": lambda m, k, s, d: m.geometric(k, 0.2, s),
    "rademacher": lambda m, k, s, d: m.rademacher(k, s),
}
EXACT = {"binomial", "binomial_mixed", "poisson", "poisson_rejection", "poisson_array_small", "poisson_array_large",
         "poisson_array_huge", "poisson_huge", "geometric", "rademacher"}
# Identical to JAX's floats in float32: kiln computes log, log1p, exp, rsqrt and pow as XLA:CPU
# does (kiln.lax.xla_math) and forms products and sums as XLA fuses and reassociates them.
EXACT_F32 = {"gamma", "gamma_small_a", "gamma_array_a", "loggamma", "beta", "chisquare", "t", "generalized_normal",
             "weibull_min", "pareto", "rayleigh", "wald", "triangular", "lognormal", "dirichlet", "f", "ball",
             "maxwell", "double_sided_maxwell", "orthogonal", "orthogonal_wide", "truncated_normal",
             "truncated_normal_tail", "cauchy"}
# Identical in float64 too: XLA's float64 log, pow, sqrt, tan and erf are the C library's, as
# kiln's are, and its exp, log1p and erf_inv are computed as XLA does (`kiln.random.xla_f64`).
EXACT_F64 = EXACT_F32
# (rtol, atol) for float32 and float64; measured worst cases are about a third of these.
TOL = {"float32": (2e-6, 1e-6), "float64": (1e-13, 1e-13)}


def _compare(name, got, want, dtype):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    if name in EXACT or name in {"float32": EXACT_F32, "float64": EXACT_F64}[dtype]:
        np.testing.assert_array_equal(got, want)
    else:
        rtol, atol = TOL[dtype]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@functools.lru_cache(maxsize=None)
def _jax_reference(name, shape, dtype, seed, batched):
    """JAX's values, computed once per session: typed and raw keys draw the same values, and
    the eager and jit checks compare with the same call."""
    jfn = lambda k: CASES[name](jr, k, shape, dtype)
    if batched:
        return np.asarray(jax.vmap(jfn)(jr.split(jr.key(seed), 3)))
    return np.asarray(jfn(jr.key(seed)))


def _check(name, shape, dtype, seed, mode):
    kfn = lambda k: CASES[name](random, k, shape, dtype)
    if mode == "eager":
        got = kfn(random.key(seed))
    elif mode == "raw":
        got = kfn(random.PRNGKey(seed))
    elif mode == "jit":
        got = kiln.jit(kfn)(random.key(seed))
    else:
        got = kiln.vmap(kfn)(random.split(random.key(seed), 3))
    want = _jax_reference(name, shape, dtype, seed, mode == "vmap")
    _compare(name, got, want, dtype)


# Each sampler is checked eagerly over every shape with one of the seeds (they rotate over the
# samplers, so every seed is used), and under jit and vmap; the gamma and poisson families,
# whose loops branch per element, with every seed. (All seeds for all samplers take ~15
# minutes on two cores, mostly JAX compiling a while loop per shape.)
LOOPING = {"gamma", "gamma_small_a", "poisson", "poisson_rejection", "beta"}
EAGER = [(name, seed) for i, name in enumerate(CASES)
         for seed in (SEEDS if name in LOOPING else [SEEDS[i % len(SEEDS)]])]


@pytest.mark.parametrize("name, seed", EAGER)
def test_samplers_eager(name, seed):
    for shape in SHAPES:
        _check(name, shape, "float32", seed, "eager")


TRANSFORMED = [(name, mode, shape) for name in CASES
               for mode, shape in [("jit", (3, 5)), ("vmap", (3, 5)), ("vmap", ()), ("raw", (7,))]
               if mode == "jit" or name in LOOPING or (mode == "vmap" and shape == (3, 5))]


@pytest.mark.parametrize("name, mode, shape", TRANSFORMED)
def test_samplers_transformed(name, mode, shape):
    _check(name, shape, "float32", 42, mode)


@pytest.mark.parametrize("name", list(CASES))
def test_samplers_float64(x64, name):
    _check(name, (200,), "float64", 7, "eager")
    _check(name, (3, 5), "float64", 1, "jit")


# ---------------------------------------------------------------------------- YNNPACK

ALPHA_40 = np.linspace(0.2, 5.0, 40).astype(np.float32)
YNNPACK_CASES = {
    "dirichlet": lambda m, k, s, d: m.dirichlet(k, ALPHA, s, d),
    "ball": lambda m, k, s, d: m.ball(k, 3, 2, s, d),
    "maxwell": lambda m, k, s, d: m.maxwell(k, s, d),
    "double_sided_maxwell": CASES["double_sided_maxwell"],
    # rows of more than 32 terms: XLA's tree of windows of 32 below 4096 elements, YNNPACK's
    # 16 lanes above
    "dirichlet_40": lambda m, k, s, d: m.dirichlet(k, ALPHA_40, s, d),
    "ball_40": lambda m, k, s, d: m.ball(k, 40, 1.5, s, d),
}
# Each sampler on both sides of the thresholds where XLA hands its work to YNNPACK: the reduce
# (4096 elements: 1024 rows of 4, 1366 rows of 3) and, for the elementwise operations next to
# it, their own 4096 elements (ball's exponential and double_sided_maxwell's scaling, by
# `test_samplers_ynnpack_transformed` for ball).
YNNPACK_SHAPES = {
    "dirichlet": [(1023,), (1024,)],
    "ball": [(1365,), (1366,)],
    "maxwell": [(1365,), (1366,)],
    "double_sided_maxwell": [(1366,), (4095,), (4096,)],
    "dirichlet_40": [(60,), (110,)],
    "ball_40": [(60,)],
}


@functools.lru_cache(maxsize=None)
def _jax_ynnpack(name, shape, dtype, seed, batched):
    jfn = lambda k: YNNPACK_CASES[name](jr, k, shape, dtype)
    if batched:
        return np.asarray(jax.vmap(jfn)(jr.split(jr.key(seed), 3)))
    return np.asarray(jfn(jr.key(seed)))


def _check_ynnpack(name, shape, dtype, seed, mode):
    """Identical where kiln knows the host's YNNPACK kernels (`ynnpack.reproduces_host`);
    elsewhere (AVX-512, ARM: other lane counts) within the float tolerance."""
    kfn = lambda k: YNNPACK_CASES[name](random, k, shape, dtype)
    if mode == "eager":
        got = kfn(random.key(seed))
    elif mode == "jit":
        got = kiln.jit(kfn)(random.key(seed))
    else:
        got = kiln.vmap(kfn)(random.split(random.key(seed), 3))
    want = _jax_ynnpack(name, shape, dtype, seed, mode == "vmap")
    got = np.asarray(got)
    assert got.shape == want.shape and got.dtype == want.dtype
    if ynnpack.reproduces_host():
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=TOL[dtype][0], atol=TOL[dtype][1])


@pytest.mark.parametrize("name, shape", [(n, s) for n, shapes in YNNPACK_SHAPES.items() for s in shapes])
def test_samplers_ynnpack(name, shape):
    _check_ynnpack(name, shape, "float32", 3, "eager")


# Under vmap XLA decides for the whole batch: 3 examples of these shapes cross the thresholds
# that one example does not (`ynnpack.by_whole_shape`), and nested vmaps count every example.
@pytest.mark.parametrize("name, shape", [("dirichlet", (400,)), ("ball", (700,)), ("ball", (2000,)),
                                         ("maxwell", (500,)), ("double_sided_maxwell", (2000,))])
def test_samplers_ynnpack_vmap_crosses_threshold(name, shape):
    _check_ynnpack(name, shape, "float32", 4, "vmap")


def test_samplers_ynnpack_nested_vmap():
    fn = lambda m, k: m.dirichlet(k, ALPHA, (400,))
    got = kiln.vmap(kiln.vmap(lambda k: fn(random, k)))(random.split(random.key(1), (2, 3)))
    want = jax.vmap(jax.vmap(lambda k: fn(jr, k)))(jr.split(jr.key(1), (2, 3)))
    if ynnpack.reproduces_host():
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=TOL["float32"][0], atol=TOL["float32"][1])


# Large arrays, and 2-D ones, under the transforms.
@pytest.mark.parametrize("name, mode, shape", [
    ("dirichlet", "jit", (40, 130)), ("ball", "jit", (40, 130)), ("maxwell", "jit", (5000,)),
    ("maxwell", "vmap", (40, 130)), ("double_sided_maxwell", "jit", (40, 130)),
    ("double_sided_maxwell", "vmap", (5000,))])
def test_samplers_ynnpack_transformed(name, mode, shape):
    _check_ynnpack(name, shape, "float32", 11, mode)


def test_samplers_ynnpack_float64(x64):
    """YNNPACK's float64 exp, log and sum (8 lanes)."""
    _check_ynnpack("dirichlet", (1024,), "float64", 5, "eager")


def test_default_shapes_and_dtypes():
    a = np.array([[1.0, 2.0, 3.0]], np.float32)
    for got, want in [(random.gamma(random.key(0), a), jr.gamma(jr.key(0), a)),
                      (random.beta(random.key(0), a, 2.0), jr.beta(jr.key(0), a, 2.0)),
                      (random.dirichlet(random.key(0), a), jr.dirichlet(jr.key(0), a)),
                      (random.poisson(random.key(0), a), jr.poisson(jr.key(0), a)),
                      (random.t(random.key(0), a), jr.t(jr.key(0), a)),
                      (random.binomial(random.key(0), 10, a / 4), jr.binomial(jr.key(0), 10, a / 4)),
                      (random.geometric(random.key(0), a / 4), jr.geometric(jr.key(0), a / 4))]:
        assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_array_equal(got, want)
    assert random.poisson(random.key(0), 2.0, (3,), "int16").dtype == np.int16
    assert random.rademacher(random.key(0), (3,), "float32").dtype == np.float32


@pytest.mark.parametrize("categories, shape", [(3, (5,)), (5, (1,)), (7, (2,)), (5, ())])
def test_dirichlet_few_variates(categories, shape):
    """Fewer than 16 log-gamma variates in more than one row: XLA computes log(V) alone, and
    a one-axis fusion's remainder vector of 3, 5, 6 or 7 lanes calls the C library's logf
    (`kiln.random.core._log_alone`); one row fuses it (XLA's log)."""
    alpha = np.linspace(0.5, 4.0, categories).astype(np.float32)
    jitted = kiln.jit(lambda k: random.dirichlet(k, alpha, shape))
    for seed in range(4):
        want = jr.dirichlet(jr.key(seed), alpha, shape)
        np.testing.assert_array_equal(random.dirichlet(random.key(seed), alpha, shape), want)
        if seed < 2:
            np.testing.assert_array_equal(jitted(random.key(seed)), want)
    batched = kiln.vmap(lambda k: random.dirichlet(k, alpha, shape))(random.split(random.key(9), 3))
    np.testing.assert_array_equal(batched, jax.vmap(lambda k: jr.dirichlet(k, alpha, shape))(jr.split(jr.key(9), 3)))


@pytest.mark.parametrize("lam", [np.array([0.1, 2.0, 9.99], np.float32), np.array([10.0, 33.0, 250.0], np.float32),
                                 np.array([0.5, 12.0, 1e3], np.float32), np.array([4.0, 1e4, 1e6], np.float32)])
def test_poisson_exact_over_many_keys(lam):
    """Knuth's and the rejection sampler's integers are JAX's, for any lam.

    Large lam and arrays mixing lam < 10 with lam >= 10 included: as in JAX, the rejection loop
    then also runs the lam < 10 lanes, at lam = 1e5, where its float32 acceptance test is
    decided by the last bits of lgamma (kiln's is XLA's, `kiln.lax.xla_math.lgamma32`), and a
    lane keeps the last value it accepted before every lane has accepted."""
    for seed in range(12):
        np.testing.assert_array_equal(random.poisson(random.key(seed), lam, (40, 3)),
                                      jr.poisson(jr.key(seed), lam, (40, 3)))


def test_poisson_mixed_moments():
    lam = np.array([0.5, 4.0, 12.0, 150.0], np.float32)
    x = np.asarray(random.poisson(random.key(8), lam, (20000, 4)), np.float64)
    assert (np.abs(x.mean(0) - lam) < 5 * np.sqrt(lam / 20000)).all(), x.mean(0)
    np.testing.assert_allclose(x.var(0), lam, rtol=0.1)


# ---------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("name", ["gamma", "loggamma"])
@pytest.mark.parametrize("a", [0.3, 1.0, 2.5, 30.0])
def test_gamma_grad(name, a):
    def kf(a, k):
        return knp.sum(getattr(random, name)(k, a, (20,)))

    def jf(a, k):
        return jnp.sum(getattr(jr, name)(k, a, (20,)))
    want = jax.grad(jf)(np.float32(a), jr.key(3))
    np.testing.assert_allclose(kiln.grad(kf)(np.float32(a), random.key(3)), want, rtol=2e-5)
    np.testing.assert_allclose(kiln.jit(kiln.grad(kf))(np.float32(a), random.key(3)), want, rtol=2e-5)


def test_gamma_jacobian_and_beta_grad():
    a = np.array([0.2, 0.9, 1.5, 4.0, 12.0], np.float32)
    got = kiln.jacfwd(lambda a: random.gamma(random.key(5), a))(a)
    want = jax.jacfwd(lambda a: jr.gamma(jr.key(5), a))(a)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    got = kiln.grad(lambda a: knp.sum(random.beta(random.key(1), a, 2.0, (20,))))(np.float32(0.7))
    want = jax.grad(lambda a: jnp.sum(jr.beta(jr.key(1), a, 2.0, (20,))))(np.float32(0.7))
    np.testing.assert_allclose(got, want, rtol=2e-5)


def test_random_gamma_grad_is_the_implicit_derivative():
    """dx/da = -(dP/da) / (dP/dx) at fixed P(a, x) (the regularised incomplete gamma function),
    checked with SciPy's gammainc and a central difference in a; not the pathwise derivative
    of the rejection sampler, which is another (equally unbiased) estimator."""
    import scipy.special as sp
    a = np.array([0.3, 0.9, 2.5, 2.5, 7.0, 40.0])
    x = np.array([0.05, 1.7, 0.8, 6.0, 7.5, 35.0])
    h = 1e-6
    dp_da = (sp.gammainc(a + h, x) - sp.gammainc(a - h, x)) / (2 * h)
    dp_dx = np.exp((a - 1) * np.log(x) - x - sp.gammaln(a))
    with_x64 = kiln.config.x64_enabled
    kiln.config.update("jax_enable_x64", True)
    try:
        got = np.asarray(random.random_gamma_grad(a, x))
    finally:
        kiln.config.update("jax_enable_x64", with_x64)
    np.testing.assert_allclose(got, -dp_da / dp_dx, rtol=1e-6)


# ---------------------------------------------------------------------------- statistics

N = 20000
_g = math.gamma


@pytest.mark.parametrize("name, draw, mean, var", [
    ("gamma", lambda k: random.gamma(k, 2.5, (N,)), 2.5, 2.5),
    ("gamma_small", lambda k: random.gamma(k, 0.3, (N,)), 0.3, 0.3),
    ("exp_loggamma", lambda k: knp.exp(random.loggamma(k, 0.6, (N,))), 0.6, 0.6),
    ("beta", lambda k: random.beta(k, 2.0, 3.0, (N,)), 0.4, 6 / (25 * 6)),
    ("dirichlet_0", lambda k: random.dirichlet(k, np.array([1.0, 2.0, 3.0]), (N,))[:, 0], 1 / 6, (5 / 36) / 7),
    ("chisquare", lambda k: random.chisquare(k, 4.0, (N,)), 4.0, 8.0),
    ("f", lambda k: random.f(k, 6.0, 20.0, (N,)), 20 / 18, 2 * 400 * 24 / (6 * 18 ** 2 * 16)),
    ("t", lambda k: random.t(k, 10.0, (N,)), 0.0, 10 / 8),
    ("generalized_normal", lambda k: random.generalized_normal(k, 1.0, (N,)), 0.0, 2.0),
    ("maxwell", lambda k: random.maxwell(k, (N,)), 2 * math.sqrt(2 / math.pi), (3 * math.pi - 8) / math.pi),
    ("double_sided_maxwell", lambda k: random.double_sided_maxwell(k, 1.0, 2.0, (N,)), 1.0, 12.0),
    ("weibull_min", lambda k: random.weibull_min(k, 2.0, 1.5, (N,)), 2 * _g(1 + 1 / 1.5),
     4 * (_g(1 + 2 / 1.5) - _g(1 + 1 / 1.5) ** 2)),
    ("pareto", lambda k: random.pareto(k, 5.0, (N,)), 1.25, 5 / (16 * 3)),
    ("rayleigh", lambda k: random.rayleigh(k, 2.0, (N,)), 2 * math.sqrt(math.pi / 2), (4 - math.pi) / 2 * 4),
    ("wald", lambda k: random.wald(k, 1.5, (N,)), 1.5, 1.5 ** 3),
    ("triangular", lambda k: random.triangular(k, -1.0, 0.5, 2.0, (N,)), 0.5, (1 + 0.25 + 4 + 0.5 + 2 - 1) / 18),
    ("lognormal", lambda k: random.lognormal(k, 0.5, (N,)), math.exp(0.125), (math.exp(0.25) - 1) * math.exp(0.25)),
    ("rademacher", lambda k: random.rademacher(k, (N,)), 0.0, 1.0),
    ("poisson_knuth", lambda k: random.poisson(k, 3.0, (N,)), 3.0, 3.0),
    ("poisson_rejection", lambda k: random.poisson(k, 80.0, (N,)), 80.0, 80.0),
    ("binomial_inversion", lambda k: random.binomial(k, 20.0, 0.2, (N,)), 4.0, 3.2),
    ("binomial_btrs", lambda k: random.binomial(k, 200.0, 0.7, (N,)), 140.0, 42.0),
    ("geometric", lambda k: random.geometric(k, 0.25, (N,)), 4.0, 12.0),
])
def test_moments(name, draw, mean, var):
    x = np.asarray(draw(random.key(2024)), np.float64)
    assert abs(x.mean() - mean) < 5 * math.sqrt(var / N), (x.mean(), mean)
    assert abs(x.var() / var - 1) < 0.1, (x.var(), var)


def test_cauchy_quartiles():
    x = np.asarray(random.cauchy(random.key(3), (N,)))
    np.testing.assert_allclose(np.percentile(x, [25, 50, 75]), [-1.0, 0.0, 1.0], atol=0.05)


def test_ball_and_orthogonal_geometry():
    x = np.asarray(random.ball(random.key(4), 3, 2, (N,)), np.float64)
    r = np.linalg.norm(x, axis=-1)
    assert r.max() <= 1 and abs((r ** 3).mean() - 0.5) < 5 * math.sqrt(1 / 12 / N)
    q = np.asarray(random.orthogonal(random.key(5), 4, (2000,)), np.float64)
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(4), q.shape), atol=1e-5)
    # Haar measure: every entry has mean 0 and variance 1/n.
    assert np.abs(q.mean(0)).max() < 5 * math.sqrt(0.25 / 2000)
    np.testing.assert_allclose(q.var(0), 0.25, atol=0.04)
    w = np.asarray(random.orthogonal(random.key(6), 2, (), m=5), np.float64)
    assert w.shape == (2, 5)
    np.testing.assert_allclose(w @ w.T, np.eye(2), atol=1e-6)


# ---------------------------------------------------------------------------- qr

@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (4, 6, 6), (2, 3, 7, 4), (0, 3), (3, 0)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_matches_jax(shape, mode):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got, want = knp.linalg.qr(x, mode=mode), jnp.linalg.qr(x, mode=mode)
    for g, w in zip(*((got, want) if mode != "r" else ((got,), (want,)))):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_qr_jit_vmap_and_errors():
    x = np.random.default_rng(1).standard_normal((5, 4, 3)).astype(np.float32)
    q, r = kiln.jit(lambda x: knp.linalg.qr(x))(x)
    want_q, want_r = jnp.linalg.qr(x)
    np.testing.assert_array_equal(q, want_q)
    np.testing.assert_array_equal(r, want_r)
    q, r = kiln.vmap(knp.linalg.qr, in_axes=2, out_axes=0)(np.moveaxis(x, 0, 2).copy())
    np.testing.assert_array_equal(q, want_q)
    i = np.asarray(knp.linalg.qr(np.eye(3, dtype=np.int32)).Q)
    assert i.dtype == np.float32
    with pytest.raises(TypeError, match="rank >= 2"):
        knp.linalg.qr(np.ones(3, np.float32))
    with pytest.raises(ValueError, match="Unsupported"):
        knp.linalg.qr(x, mode="bogus")
    with pytest.raises(NotImplementedError, match="qr"):
        kiln.grad(lambda x: knp.sum(knp.linalg.qr(x)[1]))(x[0])


# ---------------------------------------------------------------------------- errors

def test_errors():
    k = random.key(0)
    with pytest.raises(ValueError, match="non-negative"):
        random.gamma(k, 1.0, (-2,))
    with pytest.raises(ValueError, match="non-negative"):
        random.poisson(k, 1.0, (3, -1))
    with pytest.raises(ValueError, match="float dtype"):
        random.gamma(k, 1.0, (3,), "int32")
    with pytest.raises(ValueError, match="int dtype"):
        random.poisson(k, 1.0, (3,), "float32")
    with pytest.raises(ValueError, match="int dtype"):
        random.geometric(k, 0.5, (3,), "float32")
    with pytest.raises(ValueError, match="broadcast-compatible"):
        random.gamma(k, np.ones(3, np.float32), (4,))
    with pytest.raises(ValueError, match="broadcast-compatible"):
        random.beta(k, np.ones(2), 1.0, (3,))
    with pytest.raises(ValueError, match="alpha.ndim >= 1"):
        random.dirichlet(k, 1.0)
    with pytest.raises(ValueError, match="single key"):
        random.gamma(random.split(k, 2), 1.0)
    with pytest.raises(TypeError, match="concrete integer"):
        random.orthogonal(k, 2.5)
    with pytest.raises(TypeError):
        random.poisson(np.zeros(3, np.float32), 1.0)
