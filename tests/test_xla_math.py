"""float32 erf, erfc, lgamma and digamma against real JAX, bit for bit, on both backends.

kiln computes them as XLA:CPU does (`kiln.lax.xla_math`; the LLVM backend emits the same
instructions, `kiln.backends.llvm.special`). The sweep is deterministic: every 4099th float32
bit pattern, and runs of consecutive floats around the points where the algorithms switch
branches. XLA flushes subnormal operands and results to zero and kiln does not, so those are
left out, as for exp and log.
"""
from __future__ import annotations

import numpy as np
import pytest

import kiln
import kiln.lax as lax
from kiln.lax import xla_math

jax = pytest.importorskip("jax")

F32 = np.float32
TINY = np.finfo(F32).tiny
BACKENDS = ["reference", "llvm"]
FUNCTIONS = {"erf": (lax.erf, jax.lax.erf), "erfc": (lax.erfc, jax.lax.erfc),
             "lgamma": (lax.lgamma, jax.lax.lgamma), "digamma": (lax.digamma, jax.lax.digamma)}
# erf's two saturation points, erfc's and the Lanczos functions' branch points, lgamma's zeros,
# and poles and reflections at the negative integers
SWITCHES = [0.0, 0.5, 1.0, 2.0, 3.0, -0.5, -1.0, -2.5, -7.0, 7.5, -7.5, 9.4, 100.0, 1e4,
            float(xla_math.ERF_SATURATE), float(xla_math.ERF_SATURATE_FUSED)]
EDGES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, 2.0, -1.0, -2.0, -30.0, 1e-30, -1e-30,
                  3e38, -3e38], F32)


def _sweep():
    every = np.arange(0, 2 ** 32, 4099, dtype=np.uint64).astype(np.uint32).view(F32)
    runs = []
    for v in SWITCHES:
        for s in (v, -v):
            start = np.array([s], F32).view(np.uint32)[0].astype(np.int64)
            runs.append(np.arange(start - 2000, start + 2000).astype(np.uint32).view(F32))
    x = np.concatenate([every, *runs, EDGES])
    # a length XLA splits into loops of whole vectors: elements left to its scalar remainder
    # loop take a differently fused log in lgamma's reflection (`kiln.lax.xla_math.lgamma32`)
    return np.concatenate([x, np.ones(-x.size % 4096, F32)])


X = _sweep()


def assert_bits_equal(x, got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype == F32 and got.shape == want.shape
    subnormal = [(np.abs(v) < TINY) & (v != 0) for v in (x, got, want)]
    same = (got.view(np.uint32) == want.view(np.uint32)) | (np.isnan(got) & np.isnan(want))
    bad = ~same & ~(subnormal[0] | subnormal[1] | subnormal[2])
    assert not bad.any(), f"{bad.sum()} of {x.size} differ: x={x[bad][:5]}, kiln {got[bad][:5]}, jax {want[bad][:5]}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_sweep_matches_jax(name, backend):
    kfn, jfn = FUNCTIONS[name]
    assert_bits_equal(X, kiln.jit(kfn, backend=backend)(X), jfn(X))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_numpy_versions_match_jax(name):
    """`kiln.lax.xla_math` itself, called directly (the reference backend's float32 rule)."""
    fn = {"erf": xla_math.erf32, "erfc": xla_math.erfc32, "lgamma": xla_math.lgamma32,
          "digamma": xla_math.digamma32}[name]
    assert_bits_equal(X, fn(X), FUNCTIONS[name][1](X))


@pytest.mark.parametrize("backend", BACKENDS)
def test_erf_saturates_where_eager_jax_does(backend):
    """Eagerly, JAX's erf over one element saturates at 3.7439211, over more at 3.8325067."""
    x = np.array([3.78, -3.8, 3.7439211, 3.7439208, 3.8325067, 3.8325064, 2.0], F32)
    f = kiln.jit(lax.erf, backend=backend)
    assert_bits_equal(x, f(x), jax.lax.erf(x))
    for v in x:
        assert_bits_equal(v, f(v), jax.lax.erf(v))
        assert_bits_equal(v, f(v.reshape(1, 1)), jax.lax.erf(v.reshape(1, 1)))
    assert np.asarray(f(F32(3.78))) == 1 and np.asarray(f(np.full(2, 3.78, F32)))[0] < 1
    dynamic = kiln.jit(lax.erf, dynamic_dims={"x": {0: "n"}}, backend=backend)  # one program
    for n in (1, 2, 9):
        xn = np.resize(x, n)
        assert_bits_equal(xn, dynamic(xn), jax.lax.erf(xn))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_eager_float16_and_vmap(name):
    kfn, jfn = FUNCTIONS[name]
    x = np.linspace(-9.7, 9.7, 60, dtype=F32).reshape(3, 20)
    assert_bits_equal(x, kfn(x), jfn(x))
    assert_bits_equal(x, kiln.vmap(kfn)(x), jax.vmap(jfn)(x))
    h = x.astype(np.float16)
    np.testing.assert_array_equal(np.asarray(kfn(h)), np.asarray(jfn(h)))


@pytest.mark.parametrize("name", ["lgamma", "digamma"])
def test_constant_operands_on_llvm(name):
    """A literal operand is evaluated at compile time by `xla_math`: left to LLVM, its constant
    folder would compute the reflection's sinf with the host's double sin."""
    kfn, jfn = FUNCTIONS[name]
    # with these LLVM's folding would differ from JAX in one of lgamma, digamma
    values = np.array([-6.15659, -3.0793042, -7.253073, -3.555972, -2.262571, -9.382797, 0.3], F32)
    got = [np.asarray(kiln.jit(lambda x: x + kfn(v), backend="llvm")(F32(0))) for v in values]
    assert_bits_equal(values, np.array(got, F32), jfn(values))


@pytest.mark.parametrize("backend", BACKENDS)
def test_float64_erf_is_the_c_librarys(x64, backend):
    """XLA:CPU calls the C library's erf for float64 (SciPy's is up to 2 ulp away)."""
    x = np.concatenate([np.random.default_rng(0).normal(0, 2, 100_000), [0.0, -0.0, np.inf, -np.inf, 6.0, -30.0]])
    want = np.asarray(jax.lax.erf(x))
    np.testing.assert_array_equal(kiln.jit(lax.erf, backend=backend)(x), want)
    np.testing.assert_array_equal(lax.erf(x), want)
