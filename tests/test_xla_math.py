"""The elementwise transcendentals against real JAX, bit for bit, float32 and float64, on both
backends, jitted and eager.

kiln computes them as XLA:CPU does: its own instruction sequences (`kiln.lax.xla_math`,
`xla_math64`, `xla_composite`; the LLVM backend emits the same instructions, `mathlib`,
`mathlib_xla`, `mathlib_composite`, `special`) or calls of the C library where XLA makes them.
The sweeps are deterministic: float32 every 4099th bit pattern, float64 seeded samples of
several scales and bit patterns, and runs of consecutive floats around the points where the
algorithms switch branches, clamp or overflow. XLA flushes subnormal operands and results to
zero and kiln does not, so those are left out. Each sweep's length is a multiple of 4096, so
that XLA runs every element through its vectorized loop (its scalar remainder loop fuses some
functions differently: `kiln.lax.xla_math.lgamma32`).
"""
from __future__ import annotations

import numpy as np
import pytest

import kiln
import kiln.lax as lax
from kiln.lax import xla_math

jax = pytest.importorskip("jax")

F32, F64 = np.float32, np.float64
BACKENDS = ["reference", "llvm"]
NAMES32 = ["erf", "erfc", "lgamma", "digamma", "erf_inv", "exp", "log", "log1p", "expm1", "tanh",
           "logistic", "sin", "cos", "tan", "atan", "sinh", "cosh", "exp2", "asinh", "acosh", "atanh",
           "asin", "acos", "cbrt"]
NAMES64 = ["erf", "erfc", "lgamma", "digamma", "erf_inv", "exp", "log", "log1p", "expm1", "tanh", "logistic", "sin", "cos", "tan",
           "atan", "sinh", "cosh", "exp2", "asinh", "acosh", "atanh", "asin", "acos", "cbrt"]
FUNCTIONS = {name: (getattr(lax, name), getattr(jax.lax, name)) for name in NAMES32}
# branch points (erf's two saturation points, the Lanczos functions' reflection, tanh's small
# and saturated ranges, expm1's and sinh's switch, sin's and cos's reductions and fallback,
# log1p's and asinh's, acosh's large ranges), clamps and overflows, poles and zeros
SWITCHES = {
    F32: [0.0, 0.5, 1.0, 2.0, 3.0, -0.5, -2.5, -7.0, 7.5, 9.4, 100.0, 1e4, 4e-4, 20.0, 7.998811,
          0.41421357, 0.75, np.pi / 4, np.pi / 2, 2 ** -12, 120.0, 87.8, 88.8, 88.72, 126.0, 128.0,
          2.0 ** 64, 2.0 ** 127, float(xla_math.ERF_SATURATE), float(xla_math.ERF_SATURATE_FUSED)],
    F64: [0.0, 0.5, 1.0, 2.0, 4e-4, 20.0, 17.71, 0.41421356237309503, 6.25, 16.0, np.pi / 2,
          708.39, 709.78, 1022.0, 1024.0, 2.0 ** 512, 2.0 ** 1023, 1 - 1e-10],
}
EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, 2.0, -1.0, -2.0, -30.0, 1e-30, -1e-30, 3e38, -3e38]


def _runs(dtype, points, k):
    """k consecutive floats either side of each point, both signs."""
    utype = np.uint32 if dtype == F32 else np.uint64
    out = []
    for v in points:
        for s in (v, -v):
            start = int(np.array([s], dtype).view(utype)[0])
            lo = max(start - k, 0)
            out.append(np.arange(lo, start + k, dtype=np.uint64).astype(utype).view(dtype))
    return out


def _sweep(dtype):
    if dtype == F32:
        parts = [np.arange(0, 2 ** 32, 4099, dtype=np.uint64).astype(np.uint32).view(F32)]
        parts += _runs(F32, SWITCHES[F32], 2000)
    else:
        rng = np.random.default_rng(0)
        parts = [rng.normal(0, 3, 100_000), rng.uniform(-1, 1, 50_000), rng.uniform(-800, 800, 50_000),
                 np.exp(rng.uniform(-700, 700, 50_000)) * rng.choice([-1, 1], 50_000),
                 rng.integers(0, 2 ** 64, 50_000, dtype=np.uint64).view(F64)]
        parts += _runs(F64, SWITCHES[F64], 500)
    x = np.concatenate([*parts, np.array(EDGES, dtype)]).astype(dtype)
    return np.concatenate([x, np.ones(-x.size % 4096, dtype)])


X = {F32: _sweep(F32), F64: _sweep(F64)}


def assert_bits_equal(x, got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    tiny = np.finfo(got.dtype).tiny
    subnormal = [(np.abs(v) < tiny) & (v != 0) for v in (np.asarray(x, got.dtype), got, want)]
    itype = np.uint32 if got.dtype == F32 else np.uint64
    same = (got.view(itype) == want.view(itype)) | (np.isnan(got) & np.isnan(want))
    bad = ~same & ~(subnormal[0] | subnormal[1] | subnormal[2])
    assert not bad.any(), f"{bad.sum()} of {got.size} differ: x={x[bad][:5]}, kiln {got[bad][:5]}, jax {want[bad][:5]}"


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES32)
def test_float32_sweep_matches_jax(name, backend):
    kfn, jfn = FUNCTIONS[name]
    assert_bits_equal(X[F32], kiln.jit(kfn, backend=backend)(X[F32]), jfn(X[F32]))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES64)
def test_float64_sweep_matches_jax(name, backend, x64):
    kfn, jfn = FUNCTIONS[name]
    assert_bits_equal(X[F64], kiln.jit(kfn, backend=backend)(X[F64]), jfn(X[F64]))


@pytest.mark.parametrize("name", ["erf", "erfc", "lgamma", "digamma"])
def test_numpy_versions_match_jax(name):
    """`kiln.lax.xla_math` itself, called directly (the reference backend's float32 rule)."""
    fn = {"erf": xla_math.erf32, "erfc": xla_math.erfc32, "lgamma": xla_math.lgamma32,
          "digamma": xla_math.digamma32}[name]
    assert_bits_equal(X[F32], fn(X[F32]), FUNCTIONS[name][1](X[F32]))


@pytest.mark.parametrize("dtype", [F32, F64])
def test_eager_small_arrays(dtype, x64):
    """Eager calls on one, eight and seventeen elements: XLA's loops for so few elements, and
    kiln's eager rules. (JAX's standalone float32 exp and log over 3, 5, 6 or 7 elements call
    the C library: `xla_math`.)"""
    x = np.concatenate([np.linspace(-9.7, 9.7, 40), np.linspace(-0.99, 0.99, 40), [0.3, 1e-3, 150.0]]).astype(dtype)
    for name in NAMES32 if dtype == F32 else NAMES64:
        if name == "atan":  # XLA emits its own atan for small arrays: not reproduced yet
            continue
        kfn, jfn = FUNCTIONS[name]
        for n in (1, 8, 17):
            for start in range(0, x.size - n, 9):
                v = x[start:start + n]
                assert_bits_equal(v, kfn(v), jfn(v))


@pytest.mark.parametrize("name", ["erf", "erfc", "lgamma", "digamma", "tanh", "sin", "exp", "cbrt"])
def test_eager_float16_and_vmap(name):
    kfn, jfn = FUNCTIONS[name]
    x = np.linspace(-9.7, 9.7, 60, dtype=F32).reshape(3, 20)
    assert_bits_equal(x, kfn(x), jfn(x))
    assert_bits_equal(x, kiln.vmap(kfn)(x), jax.vmap(jfn)(x))
    h = x.astype(np.float16)
    np.testing.assert_array_equal(np.asarray(kfn(h)), np.asarray(jfn(h)))


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


@pytest.mark.parametrize("name", ["lgamma", "digamma", "sin", "cos", "tan", "cbrt"])
def test_constant_operands_on_llvm(name):
    """A literal operand is evaluated at compile time by `xla_math`: left to LLVM, its constant
    folder would compute the C library's float32 functions with the host's double ones."""
    kfn, jfn = FUNCTIONS[name]
    # with these LLVM's folding would differ from JAX in one of lgamma, digamma
    values = np.array([-6.15659, -3.0793042, -7.253073, -3.555972, -2.262571, -9.382797, 0.3, 1e5], F32)
    got = [np.asarray(kiln.jit(lambda x: x + kfn(v), backend="llvm")(F32(0))) for v in values]
    assert_bits_equal(values, np.array(got, F32), jfn(values))


@pytest.mark.parametrize("backend", BACKENDS)
def test_atan2_is_the_c_librarys(backend, x64):
    rng = np.random.default_rng(1)
    for dtype in (F32, F64):
        y, x = rng.normal(0, 3, (2, 50_000)).astype(dtype)
        y[:6], x[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0], [-0.0, 0.0, np.inf, -2.0, 1.0, np.nan]
        assert_bits_equal(y, kiln.jit(lax.atan2, backend=backend)(y, x), jax.lax.atan2(y, x))
