"""kiln.random against real JAX 0.10.2 (default config: jax_threefry_partitionable=True).

Every sampler is compared with JAX over several keys, shapes and dtypes, eagerly, under
kiln.jit and under kiln.vmap over keys. Integers, keys and the floats of uniform, normal,
exponential, gumbel, laplace, logistic and multivariate_normal must be bit-identical, in
float32 and float64: kiln computes log, log1p, exp and erf_inv as XLA:CPU does
(`kiln.lax.xla_math` for float32, `kiln.random.xla_f64` for float64). Where a test allows a
difference in units in the last place (ulp), its comment says why.
"""
import math

import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln import random
from kiln.random import ynnpack

jax = pytest.importorskip("jax")
jr = jax.random

SEEDS = [0, 1, 42, 2 ** 31 - 1]
SHAPES = [(), (7,), (3, 5), (1000,)]


def assert_identical(actual, expected):
    """Same dtype and the same values, bit for bit (NaNs in the same places)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    np.testing.assert_array_equal(actual, expected)
    assert actual.dtype == expected.dtype


# ---------------------------------------------------------------------------- keys

def test_key_array_shape_methods():
    ks, js = random.split(random.key(1), 6), jr.split(jr.key(1), 6)
    for f in [lambda a: a.reshape((2, 3)), lambda a: a.reshape(3, 2), lambda a: a.reshape((2, -1)).T,
              lambda a: a.reshape((1, 6, 1)).squeeze(), lambda a: a.reshape((1, 6, 1)).squeeze(-1),
              lambda a: a.reshape((2, 3)).ravel(), lambda a: a.reshape((2, 3)).swapaxes(0, 1),
              lambda a: a.reshape((2, 3)).transpose(1, 0)]:
        assert repr(f(ks)) == repr(f(js))
    with pytest.raises(ValueError):
        ks.reshape((4, 2))


@pytest.mark.parametrize("seed", SEEDS + [-1, 2 ** 32 + 5])
def test_key_and_prngkey(seed):
    np.testing.assert_array_equal(random.key_data(random.key(seed)), jr.key_data(jr.key(seed)))
    np.testing.assert_array_equal(random.PRNGKey(seed), jr.PRNGKey(seed))
    assert random.PRNGKey(seed).dtype == np.uint32


@pytest.mark.parametrize("seed", [0, -1, 2 ** 32 + 5, 2 ** 40 + 3])
def test_key_x64(x64, seed):
    np.testing.assert_array_equal(random.PRNGKey(seed), jr.PRNGKey(seed))


def test_key_printing_and_array_protocol():
    k = random.key(43)
    assert str(k) == "Array((), dtype=key<fry>) overlaying:\n[ 0 43]"
    assert repr(k) == repr(jr.key(43))
    ks = random.split(random.key(0), 3)
    assert repr(ks) == repr(jr.split(jr.key(0), 3))
    assert ks.shape == (3,) and len(ks) == 3 and k.shape == () and k.ndim == 0
    assert str(k.dtype) == "key<fry>"
    a, *rest = random.split(random.key(0), 4)
    assert len(rest) == 3 and a.shape == ()
    np.testing.assert_array_equal(random.key_data(ks[1]), jr.key_data(jr.split(jr.key(0), 3)[1]))
    w = random.wrap_key_data(random.key_data(ks))
    assert repr(w) == repr(ks)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num", [2, 3, (2, 3), 1, 0])
def test_split(seed, num):
    expected = jr.key_data(jr.split(jr.key(seed), num))
    np.testing.assert_array_equal(random.key_data(random.split(random.key(seed), num)), expected)
    np.testing.assert_array_equal(random.split(random.PRNGKey(seed), num), expected)
    np.testing.assert_array_equal(kiln.jit(lambda k: random.split(k, num))(random.key(seed)), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("data", [0, 7, 2 ** 32 - 1])
def test_fold_in(seed, data):
    expected = jr.key_data(jr.fold_in(jr.key(seed), data))
    np.testing.assert_array_equal(random.key_data(random.fold_in(random.key(seed), data)), expected)
    np.testing.assert_array_equal(random.fold_in(random.PRNGKey(seed), data), expected)
    got = kiln.jit(lambda k, d: random.fold_in(k, d))(random.key(seed), np.uint32(data))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32"])
def test_bits(seed, shape, dtype):
    assert_identical(random.bits(random.key(seed), shape, dtype), jr.bits(jr.key(seed), shape, dtype))


def test_bits_uint64(x64):
    assert_identical(random.bits(random.key(3), (9,), "uint64"), jr.bits(jr.key(3), (9,), "uint64"))


# ---------------------------------------------------------------------------- samplers

# name -> (kiln call, jax call)
def _pair(name, *args, **kwargs):
    return (lambda k: getattr(random, name)(k, *args, **kwargs),
            lambda k: getattr(jr, name)(k, *args, **kwargs))


def _float_cases(shape, dtype):
    return {
        "uniform": _pair("uniform", shape, dtype),
        "uniform_range": _pair("uniform", shape, dtype, -2.5, 3.0),
        "normal": _pair("normal", shape, dtype),
        "exponential": _pair("exponential", shape, dtype),
        "gumbel": _pair("gumbel", shape, dtype),
        "laplace": _pair("laplace", shape, dtype),
        "logistic": _pair("logistic", shape, dtype),
    }


FLOAT_NAMES = list(_float_cases((), "float32"))


def _check(name, shape, dtype, seed, mode):
    kfn, jfn = _float_cases(shape, dtype)[name]
    if mode == "eager":
        got, want = kfn(random.key(seed)), jfn(jr.key(seed))
    elif mode == "jit":
        got, want = kiln.jit(kfn)(random.key(seed)), jfn(jr.key(seed))
    elif mode == "raw":
        got, want = kfn(random.PRNGKey(seed)), jfn(jr.PRNGKey(seed))
    else:
        got = kiln.vmap(kfn)(random.split(random.key(seed), 3))
        want = jax.vmap(jfn)(jr.split(jr.key(seed), 3))
    assert np.asarray(got).dtype == np.dtype(dtype)
    assert_identical(got, want)


@pytest.mark.parametrize("name", FLOAT_NAMES)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
def test_float_samplers_eager(name, seed, shape):
    _check(name, shape, "float32", seed, "eager")


@pytest.mark.parametrize("name", FLOAT_NAMES)
@pytest.mark.parametrize("mode", ["jit", "vmap", "raw"])
@pytest.mark.parametrize("shape", [(), (3, 5), (1000,)])
def test_float_samplers_transformed(name, mode, shape):
    _check(name, shape, "float32", 42, mode)


@pytest.mark.parametrize("name", FLOAT_NAMES)
@pytest.mark.parametrize("seed", SEEDS[:2])
def test_float_samplers_float64(x64, name, seed):
    _check(name, (1000,), "float64", seed, "eager")
    _check(name, (3, 5), "float64", seed, "jit")
    _check(name, (3, 5), "float64", seed, "vmap")


@pytest.mark.parametrize("seed", SEEDS)
def test_uniform_array_bounds(seed):
    lo, hi = np.array([-1.0, 0.5, 2.0], np.float32), np.array([1.0, 0.75, 10.0], np.float32)
    assert_identical(random.uniform(random.key(seed), (4, 3), minval=lo, maxval=hi),
                 jr.uniform(jr.key(seed), (4, 3), minval=lo, maxval=hi))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("bounds", [(0, 10), (-5, 5), (0, 1), (3, 3), (-2 ** 31, 2 ** 31 - 1), (0, 1000003)])
def test_randint(seed, shape, bounds):
    assert_identical(random.randint(random.key(seed), shape, *bounds), jr.randint(jr.key(seed), shape, *bounds))


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint32"])
def test_randint_dtypes(dtype):
    assert_identical(random.randint(random.key(5), (50,), 0, 100, dtype), jr.randint(jr.key(5), (50,), 0, 100, dtype))


def test_randint_x64(x64):
    assert_identical(random.randint(random.key(5), (50,), -2 ** 40, 2 ** 41), jr.randint(jr.key(5), (50,), -2 ** 40, 2 ** 41))


def test_randint_jit_vmap():
    f = lambda k: random.randint(k, (7,), 0, 100)
    g = lambda k: jr.randint(k, (7,), 0, 100)
    assert_identical(kiln.jit(f)(random.key(9)), g(jr.key(9)))
    assert_identical(kiln.vmap(f)(random.split(random.key(9), 4)), jax.vmap(g)(jr.split(jr.key(9), 4)))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [0.5, 0.1, np.array([0.2, 0.9, 0.5], np.float32)])
def test_bernoulli(seed, p):
    shape = (4, 3)
    assert_identical(random.bernoulli(random.key(seed), p, shape), jr.bernoulli(jr.key(seed), p, shape))
    assert_identical(random.bernoulli(random.key(seed), p, shape, mode="high"),
                 jr.bernoulli(jr.key(seed), p, shape, mode="high"))


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical(seed):
    logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]], np.float32))
    for kwargs in [{}, {"axis": 0}, {"shape": (5, 2)}, {"shape": (3, 2), "replace": False}]:
        assert_identical(random.categorical(random.key(seed), logits, **kwargs),
                     jr.categorical(jr.key(seed), logits, **kwargs))


@pytest.mark.parametrize("seed", SEEDS)
def test_choice(seed):
    a = np.arange(10, 20)
    p = np.array([0.05, 0.05, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], np.float32)
    cases = [(10, (5,), {}), (a, (3, 2), {}), (a, (6,), {"replace": False}), (10, (4,), {"replace": False}),
             (a, (8,), {"p": p}), (a, (5,), {"p": p, "replace": False}),
             (np.arange(12).reshape(3, 4), (2,), {"axis": 1})]
    for arr, shape, kw in cases:
        assert_identical(random.choice(random.key(seed), arr, shape, **kw), jr.choice(jr.key(seed), arr, shape, **kw))


@pytest.mark.parametrize("seed", SEEDS)
def test_permutation(seed):
    x = np.arange(24).reshape(4, 6)
    assert_identical(random.permutation(random.key(seed), 10), jr.permutation(jr.key(seed), 10))
    assert_identical(random.permutation(random.key(seed), 1000), jr.permutation(jr.key(seed), 1000))
    assert_identical(random.permutation(random.key(seed), x), jr.permutation(jr.key(seed), x))
    assert_identical(random.permutation(random.key(seed), x, axis=1), jr.permutation(jr.key(seed), x, axis=1))
    assert_identical(random.permutation(random.key(seed), x, 1, True), jr.permutation(jr.key(seed), x, 1, True))


@pytest.mark.parametrize("seed", SEEDS)
def test_truncated_normal(seed):
    for lo, hi, shape in [(-1.0, 1.0, (1000,)), (0.5, 3.0, (7,)), (-2.0, 2.0, ())]:
        assert_identical(random.truncated_normal(random.key(seed), lo, hi, shape),
                     jr.truncated_normal(jr.key(seed), lo, hi, shape))


MVN_2 = (np.array([1.0, -1.0]), np.array([[2.0, 0.5], [0.5, 1.0]]))
MVN_3 = (np.array([1.0, -1.0, 0.5]), np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 3.0]]))
MVN_5 = (np.zeros(5), np.eye(5) + 0.3)


def _mvn_check(mean, cov, dtype, method, shape, exact=True):
    mean, cov = mean.astype(dtype), cov.astype(dtype)
    kfn = lambda k: random.multivariate_normal(k, mean, cov, shape, dtype, method)
    jfn = lambda k: jr.multivariate_normal(k, mean, cov, shape, dtype, method)
    close = lambda got, want: np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    compare = assert_identical if exact else close
    for seed in (0, 7):
        want = jfn(jr.key(seed))
        compare(kfn(random.key(seed)), want)
        compare(kiln.jit(kfn)(random.key(seed)), want)
    # under vmap JAX's dot has the rows of all keys, and so has kiln's (`ynnpack.by_whole_shape`)
    compare(kiln.vmap(kfn)(random.split(random.key(3), 3)), jax.vmap(jfn)(jr.split(jr.key(3), 3)))


@pytest.mark.parametrize("method", ["cholesky", "svd", "eigh"])
@pytest.mark.parametrize("params", [MVN_2, MVN_3], ids=["n2", "n3"])
@pytest.mark.parametrize("shape", [(2,), (5,), (1000,)])
def test_multivariate_normal(method, params, shape):
    """The factor is the LAPACK routine's that jaxlib calls (potrf, syevd, gesdd), and
    factor @ z is summed as XLA's dot (few rows) or YNNPACK's (8 rows or more) sums it."""
    _mvn_check(*params, "float32", method, shape)


def _spd(n):
    a = np.random.default_rng(n).standard_normal((n, n))
    return np.zeros(n), a @ a.T + np.eye(n)


@pytest.mark.parametrize("params", [MVN_5, _spd(4), _spd(8), _spd(9), _spd(17), _spd(24), _spd(25)],
                         ids=["n5", "n4", "n8", "n9", "n17", "n24", "n25"])
@pytest.mark.parametrize("shape", [(1,), (200,)])
def test_multivariate_normal_float32_ynnpack(params, shape):
    """From 8 rows YNNPACK's float32 dot, whose AVX2+FMA3 kernel depends on n: k tiles of 2
    (the even and the odd products in two fused chains) for n mod 16 in 1..8, one fused chain
    otherwise (`kiln.random.ynnpack.matvec`); one row is XLA's own dot (`kiln.random.xla_dot`).
    Identical where kiln knows the host's kernels."""
    _mvn_check(*params, "float32", "cholesky", shape, exact=ynnpack.reproduces_host())


@pytest.mark.parametrize("dtype, n", [("float32", 5), ("float32", 9), ("float32", 12), ("float64", 4),
                                      ("float64", 5), ("float64", 12)])
def test_multivariate_normal_dot_orders(request, dtype, n):
    """Row counts to 9 and YNNPACK's irregular float64 ones (9 to 12, 17, 18 rows with n <= 4),
    with the full factors of eigh (no zeros to hide a wrong order): XLA's own dot sums in lanes
    per output for one row, in even and odd chains (float32) or in order (float64) for 2 to 7
    rows, and decides by the batch's rows under vmap (`kiln.random.xla_dot`)."""
    if dtype == "float64":
        request.getfixturevalue("x64")
    mean, cov = (a.astype(dtype) for a in _spd(n))
    compare = assert_identical if ynnpack.reproduces_host() else \
        (lambda got, want: np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6))
    for rows in [1, 2, 3, 4, 5, 6, 7, 9, 17]:
        kfn = lambda k: random.multivariate_normal(k, mean, cov, (rows,), dtype, "eigh")
        jfn = lambda k: jr.multivariate_normal(k, mean, cov, (rows,), dtype, "eigh")
        compare(kfn(random.key(rows)), jfn(jr.key(rows)))
        # 3 to 9 rows in the batch (float64 fewer: its fused multiply-adds are slow to compile)
        if rows in ((1, 2, 3) if dtype == "float32" else (2,) if n in (5, 7) else ()):
            compare(kiln.vmap(kfn)(random.split(random.key(5), 3)), jax.vmap(jfn)(jr.split(jr.key(5), 3)))


@pytest.mark.parametrize("method", ["cholesky", "svd", "eigh"])
@pytest.mark.parametrize("params", [MVN_2, MVN_3, MVN_5], ids=["n2", "n3", "n5"])
def test_multivariate_normal_float64(x64, method, params):
    _mvn_check(*params, "float64", method, (50,))


def test_grad_through_sampler():
    def loss(x, k):
        return knp.sum(x * random.normal(k, (3,)))

    def jloss(x, k):
        return jax.numpy.sum(x * jr.normal(k, (3,)))
    np.testing.assert_allclose(kiln.grad(loss)(1.5, random.key(0)), jax.grad(jloss)(1.5, jr.key(0)), rtol=1e-6)


def test_jit_returns_raw_keys_and_wrap_key_data():
    out = kiln.jit(lambda k: random.split(k, 3))(random.key(7))
    assert out.shape == (3, 2) and out.dtype == np.uint32
    assert repr(random.wrap_key_data(out)) == repr(jr.split(jr.key(7), 3))


def test_errors():
    with pytest.raises(TypeError):
        random.normal(np.zeros(3, np.float32))
    with pytest.raises(ValueError):
        random.normal(random.split(random.key(0), 2))
    with pytest.raises(ValueError):
        random.bits(random.key(0), (2,), "int32")
