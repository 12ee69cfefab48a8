"""complex64 and complex128 in the LLVM backend, against the reference backend (the oracle).

Elementwise rules follow the reference's NumPy loops operation for operation and call the same
C library functions, so they must match bit for bit, signed zeros and inf/NaN components
included, on random values and on every pair of special parts. Sums, products and
contractions accumulate in another order (and complex64 in complex128), so they are compared
to a tolerance scaled by the magnitudes summed.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import kiln
import kiln.lax as lax
import kiln.numpy as knp

RNG = np.random.default_rng(0)
COMPLEX = ("complex64", "complex128")


@pytest.fixture(autouse=True)
def x64():
    """complex128 needs x64 (without it kiln computes in complex64)."""
    previous = kiln.config.read("jax_enable_x64")
    kiln.config.update("jax_enable_x64", True)
    yield
    kiln.config.update("jax_enable_x64", previous)


def both(fn, *args):
    ref = kiln.jit(fn, backend="reference")(*args)
    got = kiln.jit(fn, backend="llvm")(*args)
    return kiln.tree_util.tree_leaves(got), kiln.tree_util.tree_leaves(ref)


def _parts(a):
    a = np.asarray(a)
    return np.stack([a.real, a.imag], -1) if a.dtype.kind == "c" else a


def assert_same(fn, *args):
    """Bit for bit: equal values with equal signs of zero, NaN where the reference has NaN."""
    got, ref = both(fn, *args)
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        g, r = np.asarray(g), np.asarray(r)
        assert g.dtype == r.dtype and g.shape == r.shape
        if g.dtype.kind not in "fc":
            np.testing.assert_array_equal(g, r)
            continue
        gp, rp = _parts(g), _parts(r)
        ok = ((gp == rp) & (np.signbit(gp) == np.signbit(rp))) | (np.isnan(gp) & np.isnan(rp))
        if not ok.all():
            bad = np.nonzero(~ok.reshape(g.shape + (-1,) if g.dtype.kind == "c" else g.shape))[:g.ndim]
            where = tuple(i[:4] for i in bad)
            raise AssertionError(f"{g[where]} vs reference {r[where]}" +
                                 (f" at {args[0][where]}" if np.shape(args[0]) == g.shape else ""))


def assert_close(fn, *args, scale=None, rtol=8):
    """Within `rtol` ulp of the magnitudes summed (`scale`, per output), parts compared apart."""
    got, ref = both(fn, *args)
    for g, r, s in zip(got, ref, scale or [None] * len(got)):
        g, r = np.asarray(g), np.asarray(r)
        assert g.dtype == r.dtype and g.shape == r.shape
        eps = np.finfo(g.dtype).eps
        bound = rtol * eps * (np.abs(r) if s is None else np.asarray(s)) + np.finfo(g.dtype).tiny
        for gp, rp in ((g.real, r.real), (g.imag, r.imag)):
            ok = (np.abs(gp - rp) <= bound) | (np.isnan(gp) & np.isnan(rp)) | (gp == rp)
            assert ok.all(), f"{gp[~ok][:4]} vs reference {rp[~ok][:4]}"


def sample(dtype, shape=(6, 7), scale=3.0):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return ((RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)) * scale).astype(dtype)
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def specials(dtype):
    """Every complex number whose parts are special (zeros, inf, NaN, huge, tiny) or plain."""
    part = np.finfo(dtype)
    values = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, np.inf, -np.inf, np.nan, float(part.max),
              -float(part.max) / 3, float(part.tiny), float(part.smallest_subnormal), 30.0, -700.0]
    out = np.empty(len(values) ** 2, dtype)
    out.real, out.imag = zip(*itertools.product(values, values))
    return out


def pairs(x, y):
    """Every (x[i], y[j]), as two flat arrays."""
    return np.repeat(x, len(y)), np.tile(y, len(x))


# ---------------------------------------------------------------------------- elementwise

UNARY = {
    "neg": lax.neg, "conj": lax.conj, "real": lax.real, "imag": lax.imag, "abs": lax.abs,
    "sign": lax.sign, "exp": lax.exp, "exp2": lax.exp2, "log": lax.log, "log1p": lax.log1p,
    "expm1": lax.expm1, "sqrt": lax.sqrt, "rsqrt": lax.rsqrt, "sin": lax.sin, "cos": lax.cos,
    "tan": lax.tan, "sinh": lax.sinh, "cosh": lax.cosh, "tanh": lax.tanh, "asin": lax.asin,
    "acos": lax.acos, "atan": lax.atan, "asinh": lax.asinh, "acosh": lax.acosh,
    "atanh": lax.atanh, "logistic": lax.logistic, "stop_gradient": lax.stop_gradient,
}


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", UNARY)
def test_unary(name, dtype):
    fn = UNARY[name]
    assert_same(lambda a: fn(a), sample(dtype))
    assert_same(lambda a: fn(a), sample(dtype, (50,), scale=0.01))
    assert_same(lambda a: fn(a), specials(dtype))


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("y", [-3, -1, 0, 1, 2, 3, 5, 7, 99, 100, 130])
def test_integer_pow(y, dtype):
    assert_same(lambda a: lax.integer_pow(a, y), sample(dtype, scale=0.5))
    assert_same(lambda a: lax.integer_pow(a, y), specials(dtype))


BINARY = {"add": lax.add, "sub": lax.sub, "mul": lax.mul, "div": lax.div, "pow": lax.pow,
          "eq": lax.eq, "ne": lax.ne, "max": lax.max, "min": lax.min}


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", BINARY)
def test_binary(name, dtype):
    fn = BINARY[name]
    x, y = sample(dtype), sample(dtype)
    assert_same(lambda a, b: fn(a, b), x, y)
    assert_same(lambda a, b: fn(a, b), x, x)
    assert_same(lambda a, b: fn(a, b[2, 3]), x, y)  # a rank-0 operand
    assert_same(lambda a, b: fn(a, b), *pairs(specials(dtype), specials(dtype)))


@pytest.mark.parametrize("dtype", COMPLEX)
def test_pow_integer_and_special_exponents(dtype):
    x = sample(dtype, (40,), scale=0.7)
    exponents = np.array([0, 1, 2, 3, 4, -1, -2, -7, 99, -99, 100, 2.5, 0.5 + 1j, 1j, -0.0,
                          3 - 0.0j, np.nan, np.inf, 1e10, -1e10], dtype)
    assert_same(lambda a, b: lax.pow(a, b), *pairs(x, exponents))
    zeros = np.array([0, -0.0, complex(0, -0.0), complex(-0.0, -0.0)], dtype)
    assert_same(lambda a, b: lax.pow(a, b), *pairs(zeros, exponents))


@pytest.mark.parametrize("dtype", COMPLEX)
def test_complex_from_parts_and_select(dtype):
    part = np.finfo(dtype).dtype
    x, y = sample(part), sample(part)
    x[0, :4] = [np.inf, -0.0, np.nan, -np.inf]
    assert_same(lambda a, b: lax.complex(a, b), x, y)
    assert_same(lambda a, b: lax.complex(a, b[1, 1]), x, y)
    z, w = sample(dtype), sample(dtype)
    assert_same(lambda p, a, b: lax.select(p, a, b), x > 0, z, w)
    assert_same(lambda a, b: knp.where(a.real > b.imag, a * 2j, b + 1), z, w)


@pytest.mark.parametrize("dtype", COMPLEX)
def test_clamp_and_iota(dtype):
    x = sample(dtype)
    x[0, :2] = [complex(np.nan, 0), complex(-1, 2)]
    lo, hi = np.array(-1 + 1j, dtype), np.array(1 - 0.5j, dtype)
    assert_same(lambda a, l, h: lax.clamp(l, a, h), x, lo, hi)
    assert_same(lambda a: a + lax.iota(dtype, 7), x)


CONVERSIONS = ["float32", "float64", "int32", "uint8", "int64", "bool", "complex64", "complex128"]


@pytest.mark.parametrize("dtype", COMPLEX)
def test_convert_element_type(dtype):
    z = np.concatenate([sample(dtype, (30,), scale=100.0), specials(dtype)])
    for target in CONVERSIONS:
        assert_same(lambda a: lax.convert_element_type(a, target), z)
    for source in CONVERSIONS[:-2]:
        x = sample(source, (30,), scale=100.0) if source != "bool" else RNG.random(30) < 0.5
        assert_same(lambda a: lax.convert_element_type(a, dtype), x)


# ---------------------------------------------------------------------------- index maps

@pytest.mark.parametrize("dtype", COMPLEX)
def test_index_maps(dtype):
    x, y = sample(dtype, (4, 5)), sample(dtype, (3, 5))
    assert_same(lambda a: (a.T * 2, a[None, :, :] + a[:, None, :1], a[::-2, 1:4], lax.rev(a, (1,)),
                           a.reshape(5, 4) + 1j, knp.concatenate([a, a * 1j], 1)), x)
    assert_same(lambda a, b: knp.concatenate([a, b], 0) - 1, x, y)
    assert_same(lambda a: lax.pad(a, complex(np.nan, -0.0), [(1, 2, 1), (0, 1, 0)]), x)
    assert_same(lambda a, i: (lax.dynamic_slice(a, (i, 1), (2, 3)),
                              lax.dynamic_update_slice(a, a[:2, :2] * 3, (i, i))), x, np.int32(2))
    assert_same(lambda a, s: a.at[1].set(s), x, complex(-0.0, np.inf))


@pytest.mark.parametrize("dtype", COMPLEX)
def test_gather_and_scatter(dtype):
    x, u = sample(dtype, (6, 5)), sample(dtype, (4, 5))
    i = np.array([0, -1, 7, 2], np.int32)
    assert_same(lambda a, k: (a[k], a[k, 2], a[1:, k[:2]]), x, i)
    assert_same(lambda a, k: a.at[k].get(mode="fill", fill_value=complex(1, np.nan)), x, i)
    j = np.array([1, 1, 3, 0], np.int32)
    assert_same(lambda a, k, v: (a.at[k].set(v), a.at[k].add(v), a.at[k].multiply(v)), x, j, u)


# ---------------------------------------------------------------------------- accumulations

@pytest.mark.parametrize("dtype", COMPLEX)
def test_reductions(dtype):
    x = sample(dtype, (9, 31))
    size = np.abs(x)
    assert_close(lambda a: (a.sum(), a.sum(0), a.sum(1)), x,
                 scale=[size.sum(), size.sum(0), size.sum(1)])
    x = sample(dtype, (5, 9), scale=0.5) + 1
    assert_close(lambda a: (a.prod(0), a.prod(1)), x, rtol=32)
    assert_same(lambda a: (-a).sum(), np.array([-0.0 + 0j, 0j], dtype))


@pytest.mark.parametrize("dtype", COMPLEX)
def test_cumulative_and_extremes(dtype):
    x = sample(dtype, (5, 8))
    x[1, 3] = complex(np.nan, 1)
    x[2, 5] = complex(2, np.nan)
    x[3, :] = x[3, 0]  # ties
    assert_same(lambda a: (lax.cumsum(a, 1), lax.cumsum(a, 0, reverse=True), lax.cumprod(a / 3, 1)), x)
    assert_same(lambda a: (knp.argmax(a, 1), knp.argmin(a, 0), lax.cummax(a, 1), lax.cummin(a, 0)), x)
    assert_same(lambda a: (lax.reduce_max(a, (1,)), lax.reduce_min(a, (0,))), x)


@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("shapes,dims", [
    (((3, 4), (4, 5)), (((1,), (0,)), ((), ()))),             # loops
    (((40, 50), (50, 30)), (((1,), (0,)), ((), ()))),         # BLAS
    (((50, 40), (30, 50)), (((0,), (1,)), ((), ()))),         # BLAS, both transposed
    (((2, 20, 30), (2, 30, 25)), (((2,), (1,)), ((0,), (0,)))),  # batched BLAS
    (((5, 3, 4), (4, 5, 2)), (((2,), (0,)), ((0,), (1,)))),   # batch not leading: loops
])
def test_dot_general(shapes, dims, dtype):
    x, y = sample(dtype, shapes[0]), sample(dtype, shapes[1])
    fn = lambda a, b: lax.dot_general(a, b, dims)
    scale = lax.dot_general(np.abs(x), np.abs(y), dims)
    assert_close(fn, x, y, scale=[np.asarray(scale)])


@pytest.mark.parametrize("dtype", COMPLEX)
def test_sort(dtype):
    x = sample(dtype, (3, 12)).round()
    x[0, :6] = [complex(np.nan, 1), complex(1, np.nan), complex(np.nan, np.nan), complex(1, 0),
                complex(1, -1), complex(-0.0, 2)]
    x[1, :4] = [complex(0, 1), complex(-0.0, 1), complex(0, 1), complex(0, -np.inf)]
    i = np.tile(np.arange(12, dtype=np.int32), (3, 1))
    assert_same(lambda a: knp.sort(a, axis=1), x)
    assert_same(lambda a, k: lax.sort((a, k), dimension=1, num_keys=1), x, i)
    assert_same(lambda a, k: lax.sort((k % 3, a), dimension=1, num_keys=2), x, i)


# ---------------------------------------------------------------------------- control flow

@pytest.mark.parametrize("dtype", COMPLEX)
def test_control_flow_carries(dtype):
    z = sample(dtype, (4,))

    def f(a):
        b = lax.cond(a[0].real > 0, lambda v: v * 1j, lambda v: v - 1, a)
        c = lax.while_loop(lambda s: knp.abs(s[0]).sum() < 100, lambda s: (s[0] * (1 + 0.5j), s[1] + 1), (b, 0))
        d, ys = lax.scan(lambda carry, x: (carry * x + 1, carry.conj()), c[0][0], a)
        e = lax.fori_loop(0, 3, lambda k, v: v * v / knp.abs(v), a)
        return b, c, d, ys, e
    assert_same(f, z)


def test_grad_of_a_real_function_of_complex_values():
    z = sample("complex64", (5,))
    fn = kiln.grad(lambda a: knp.sum(knp.abs(knp.exp(a) * a + 1j) ** 2))
    got = kiln.jit(fn, backend="llvm")(z)
    ref = kiln.jit(fn, backend="reference")(z)
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), rtol=2e-6)


def test_complex_multiply_vectorizes(monkeypatch, capsys):
    monkeypatch.setenv("KILN_DUMP", "opt")
    x = sample("complex64", (1000,))
    assert_same(lambda a, b: a * b + a, x, x)
    assert "x float>" in capsys.readouterr().err
