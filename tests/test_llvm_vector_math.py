"""The LLVM backend's transcendentals: the same bits as the reference backend (the oracle, which
computes them as XLA:CPU does; against JAX in test_xla_math.py), vectorized code, and the
C library in the fallback run of a kernel.

Sweeps: float32 every 4099th bit pattern, float64 seeded random bit patterns, uniform sweeps of
each function's interesting domain, and edges (±0, ±inf, NaN, subnormals, overflow and
underflow boundaries, branch points, with their neighbouring floats). Both backends keep
subnormals (XLA flushes them), so here they are compared too.
"""
from __future__ import annotations

import re
import zlib

import numpy as np
import pytest

import kiln
import kiln.lax as lax
import kiln.numpy as knp
from kiln.backends.llvm.engine import Executable

F32, F64 = np.float32, np.float64
LN_MAX = {F32: 88.72283935546875, F64: 709.782712893384}


def _rng(*key):
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def bit_patterns(dtype, n=600_000):
    """Floats of every sign and exponent, NaN and inf among them."""
    if dtype == F32:
        return np.arange(0, 2**32, 4099, dtype=np.uint64).astype(np.uint32).view(F32)
    return _rng("bits").integers(0, 2**64, n, dtype=np.uint64, endpoint=False).view(F64)


@np.errstate(over="ignore")
def near(dtype, *points, k=3):
    """Each point and its k neighbouring floats either side, both signs."""
    out = []
    for p in np.asarray(points, dtype):
        for direction in (np.inf, -np.inf):
            q = p
            for _ in range(k):
                q = np.nextafter(q, dtype(direction))
                out.append(q)
        out.append(p)
    out = np.array(out, dtype)
    return np.concatenate([out, -out])


def edges(dtype):
    info = np.finfo(dtype)
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 0.5, 2.0, info.tiny, info.smallest_subnormal,
              info.max, info.tiny / 3, info.eps, info.eps / 4, 1e-30]
    neighbours = near(dtype, info.tiny, info.smallest_subnormal * 3, info.max)
    return np.concatenate([np.array(values, dtype), neighbours])


def _exp_edges(dtype):
    lo = -745.1332191019411 if dtype == F64 else -103.97208
    sub = np.log(np.finfo(dtype).tiny).astype(dtype)
    return near(dtype, LN_MAX[dtype], lo, sub, 0.5, 87.8, 88.8, 708.39, 709.78, 1e-8, 20.0, 17.71)


def _trig_edges(dtype):
    return near(dtype, np.pi / 4, 0.75, np.pi / 2, np.pi, 120.0, 2.0 ** -12, 1e5, 1e-9, 2.0 ** 19)


def _inverse_edges(dtype):
    return near(dtype, 0.41421356, 0.5, 1.0, 2.0, 2.0 ** 64, 2.0 ** 127, 2.0 ** 512, np.sqrt(np.finfo(dtype).max))


# name: (kiln function, uniform domains, edges)
FUNCTIONS = {
    "exp": (knp.exp, [(-750, 720)], _exp_edges),
    "expm1": (knp.expm1, [(-1, 1), (-40, 720)], _exp_edges),
    "exp2": (knp.exp2, [(-1, 1), (-1080, 1030)], _exp_edges),
    "tanh": (knp.tanh, [(-1, 1), (-25, 25)], _exp_edges),
    "logistic": (lax.logistic, [(-1, 1), (-800, 800)], _exp_edges),
    "sinh": (knp.sinh, [(-1.5, 1.5), (-720, 720)], _exp_edges),
    "cosh": (knp.cosh, [(-1.5, 1.5), (-720, 720)], _exp_edges),
    "log": (knp.log, [(0, 3), (0, 1e30)], _inverse_edges),
    "log1p": (knp.log1p, [(-1, 1), (-1, 1e10)], _inverse_edges),
    "sin": (knp.sin, [(-4, 4), (-200, 200)], _trig_edges),
    "cos": (knp.cos, [(-4, 4), (-200, 200)], _trig_edges),
    "tan": (knp.tan, [(-4, 4), (-1e6, 1e6)], _trig_edges),
    "atan": (knp.arctan, [(-3, 3), (-1e6, 1e6)], _inverse_edges),
    "cbrt": (knp.cbrt, [(-10, 10), (-1e300, 1e300)], _inverse_edges),
    "asinh": (knp.arcsinh, [(-3, 3), (-1e10, 1e10)], _inverse_edges),
    "acosh": (knp.arccosh, [(0.5, 3), (1, 1e10)], _inverse_edges),
    "atanh": (knp.arctanh, [(-1.1, 1.1), (-1e-4, 1e-4)], _inverse_edges),
    "asin": (knp.arcsin, [(-1.1, 1.1)], _inverse_edges),
    "acos": (knp.arccos, [(-1.1, 1.1)], _inverse_edges),
    "erf_inv": (lax.erf_inv, [(-1, 1)], _inverse_edges),
}


@np.errstate(over="ignore")
def sweep(name, dtype):
    _, domains, edge_fn = FUNCTIONS[name]
    rng = _rng(name, np.dtype(dtype).name)
    parts = [bit_patterns(dtype), edges(dtype), edge_fn(dtype)]
    parts += [rng.uniform(lo, hi, 200_000).astype(dtype) for lo, hi in domains]
    return np.concatenate(parts).astype(dtype)


def assert_same_bits(got, want, x, name):
    got, want = np.asarray(got), np.asarray(want)
    itype = np.uint32 if got.dtype == F32 else np.uint64
    bad = (got.view(itype) != want.view(itype)) & ~(np.isnan(got) & np.isnan(want))
    assert not bad.any(), f"{name}: {bad.sum()} differ, x={x[bad][:4]}: {got[bad][:4]} vs {want[bad][:4]}"


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_llvm_is_the_references_bits(name, dtype, x64):
    fn = FUNCTIONS[name][0]
    x = sweep(name, dtype)
    got = kiln.jit(lambda a: fn(a), backend="llvm")(x)
    want = kiln.jit(lambda a: fn(a), backend="reference")(x)
    assert_same_bits(got, want, x, name)


def test_atan2_is_the_references_bits(x64):
    for dtype in (F32, F64):
        info = np.finfo(dtype)
        corners = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, info.tiny, -info.max,
                            info.smallest_subnormal, 3.0], dtype)
        cy, cx = (a.ravel() for a in np.meshgrid(corners, corners))
        rng = _rng("atan2", np.dtype(dtype).name)
        normal = rng.standard_normal((2, 300_000)).astype(dtype)
        y = np.concatenate([bit_patterns(dtype)[:300_000], normal[0], cy])
        x = np.concatenate([bit_patterns(dtype)[::-1][:300_000], normal[1], cx])
        got, want = (kiln.jit(lambda a, b: knp.arctan2(a, b), backend=b)(y, x) for b in ("llvm", "reference"))
        assert_same_bits(got, want, np.stack([y, x], 1), "atan2")


# ---------------------------------------------------------------------------- sin, cos fallback

@pytest.mark.parametrize("name", ["sin", "cos"])
def test_float32_sin_cos_beyond_120_fall_back_to_the_c_library(name):
    """Below 120 glibc's sinf and cosf run vectorized; one larger element (or inf, NaN) runs
    the whole kernel again calling them."""
    fn = FUNCTIONS[name][0]
    x = np.array([0.5, -3.0, 119.9, 120.0, 1e22, -3e38, np.inf, np.nan, 7.0], F32)
    for part in (x[:3], x[:4], x):
        got = kiln.jit(lambda a: (fn(a), fn(a[:2] * 2)), backend="llvm")(part)
        want = kiln.jit(lambda a: (fn(a), fn(a[:2] * 2)), backend="reference")(part)
        for g, w in zip(got, want):
            assert_same_bits(g, w, part, name)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_fallback_raised_by_one_thread_of_a_split_kernel(threads, monkeypatch):
    monkeypatch.setenv("KILN_NUM_THREADS", threads)
    x = _rng("split").uniform(-100, 100, (600, 500)).astype(F32)
    x[511, 3] = 3e30  # in the second thread's half
    f = lambda a: (knp.sin(a) + knp.tan(a) * 2, knp.cos(a[:50]))
    got, want = kiln.jit(f, backend="llvm")(x), kiln.jit(f, backend="reference")(x)
    for g, w in zip(got, want):
        assert_same_bits(g, w, x, "sin + 2 tan, cos")


def test_float16_goes_through_float32():
    x = np.arange(2**16, dtype=np.uint16).view(np.float16)
    for fn in (lax.expm1, lax.sinh, lax.atan, lax.cbrt, lax.sin, lax.tanh):
        got, want = (np.asarray(kiln.jit(lambda a: fn(a), backend=b)(x)) for b in ("llvm", "reference"))
        np.testing.assert_array_equal(got, want)


# ---------------------------------------------------------------------------- generated code

LIBM = re.compile(r"call [^@\n]*@(?!llvm\.(fabs|fmuladd|fma|floor|copysign|sqrt|minnum|maximum|minimum|smax|smin|"
                  r"is\.fpclass)\.)[\w.]+")
# XLA's sequences; float64 log, log1p (and what uses them) and the C library's functions call it
VECTOR = {F32: ["exp", "expm1", "exp2", "tanh", "logistic", "sinh", "cosh", "log", "log1p", "asinh",
                "acosh", "atanh", "erf_inv"],
          F64: ["exp", "expm1", "exp2", "tanh", "logistic", "sinh", "cosh"]}


@pytest.mark.parametrize("dtype", [F32, F64])
def test_optimised_ir_is_vectorized_without_libm_calls(dtype, x64):
    """XLA's sequences are widened by LLVM's vectorizer and call nothing but instruction-like
    intrinsics; float32 sin and cos call the C library in their fallback loop only."""
    width = "<8 x float>" if dtype == F32 else "<4 x double>"
    x = np.ones(4096, dtype)
    for name in VECTOR[dtype]:
        text = str(Executable(kiln.make_ir(FUNCTIONS[name][0])(x), name).module)
        assert not LIBM.search(text), f"{name}: {LIBM.search(text).group(0)}"
        assert width in text or "x double>" in text, f"{name} did not vectorize"
    if dtype == F32:
        for name in ("sin", "cos"):
            text = str(Executable(kiln.make_ir(FUNCTIONS[name][0])(x), name).module)
            assert re.search(r"= fmul <4 x double>", text), f"{name}: no vector polynomial"
            libm = {m.group(0).split("@")[1] for m in LIBM.finditer(text)}
            assert libm <= {f"{name}f"}, libm
