"""Samplers that are closed-form transforms of uniform or normal variates, as JAX writes them:
cauchy, rademacher, maxwell, double_sided_maxwell, weibull_min, pareto, rayleigh, wald,
triangular, lognormal, and orthogonal (the sign-corrected Q of a Gaussian matrix's QR
decomposition: Mezzadri, "How to generate random matrices from the classical compact
groups", 2007).
"""
from __future__ import annotations

import operator

import numpy as np

import kiln.lax as lax
import kiln.numpy as jnp
from kiln.lax import linalg as lax_linalg
from kiln.primitives import aval_of
from kiln.random import ynnpack
from kiln.random.core import (_canonical_shape, _exp, _exponential, _float_dtype, _fma, _log1p, _normal_real,
                              _sample_shape, _single, _split_data, _uniform, _wrap, bernoulli)
from kiln.runtime import dtypes

__all__ = ["cauchy", "rademacher", "maxwell", "double_sided_maxwell", "weibull_min", "pareto", "rayleigh",
           "wald", "triangular", "lognormal", "orthogonal"]


def _c(x, value):
    return np.asarray(value, dtype=aval_of(x).dtype)


def _param(x, dtype):
    return lax.convert_element_type(jnp.asarray(x), dtype)


def _shape_from(name, shape, *params):
    """`shape`, checked against the parameters' shapes, or their broadcast shape when None."""
    return _sample_shape(name, shape, *(aval_of(p).shape for p in params))


def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy variates: tan(pi (u - 1/2)) for u uniform in [eps, 1)."""
    data, _ = _single(key, "cauchy")
    dtype = _float_dtype(dtype, "cauchy")
    shape = _canonical_shape(shape)
    u = _uniform(data, shape, dtype, np.asarray(np.finfo(dtype).eps, dtype), np.asarray(1.0, dtype))
    return lax.tan(_c(u, np.pi) * (u - _c(u, 0.5)))


def rademacher(key, shape=(), dtype=None):
    """-1 or 1 with equal probability (integers by default)."""
    data, _ = _single(key, "rademacher")
    dtype = dtypes.default_int_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
    return _rademacher(data, _canonical_shape(shape), dtype)


def _rademacher(data, shape, dtype):
    b = bernoulli(_wrap(data, False), 0.5, shape).astype(dtype)
    return (2 * b - 1).astype(dtype)


def maxwell(key, shape=(), dtype=None):
    """Maxwell variates: the length of a standard normal vector in three dimensions."""
    data, _ = _single(key, "maxwell")
    dtype = _float_dtype(dtype, "maxwell")
    return _maxwell(data, _canonical_shape(shape), dtype)


def _maxwell(data, shape, dtype):
    return _norm3(_normal_real(data, tuple(shape) + (3,), dtype))


def _norm3_impl(z):
    if ynnpack.offloads_reduce(aval_of(z).shape):  # YNNPACK's sum of squares
        return lax.sqrt(ynnpack.sum_last(z, square=True))
    x, y, w = z[..., 0], z[..., 1], z[..., 2]
    # The squared norm as XLA's CPU reduction forms it (found by comparing with JAX): a square,
    # then two fused multiply-adds; float32 starts from the middle term, float64 from the first.
    dtype = np.dtype(aval_of(z).dtype)
    first, second = (y, x) if dtype == np.float32 else (x, y)
    return lax.sqrt(_fma(w, w, _fma(second, second, first * first, dtype), dtype))


_norm3 = ynnpack.by_whole_shape(_norm3_impl)


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """Maxwell variates with a random sign, scaled and shifted; shape is shape + the
    parameters' broadcast shape."""
    data, _ = _single(key, "double_sided_maxwell")
    dtype = _float_dtype(dtype, "double_sided_maxwell")
    shape = _canonical_shape(shape)
    params_shape = tuple(np.broadcast_shapes(aval_of(loc).shape, aval_of(scale).shape))
    shape = (tuple(shape) or params_shape) + params_shape
    keys = _split_data(data, (2,))
    magnitude = _maxwell(keys[0], shape, dtype)
    sign = _rademacher(keys[1], shape, dtype)
    scale = jnp.broadcast_to(_param(scale, dtype), shape)
    loc = jnp.broadcast_to(_param(loc, dtype), shape)
    return _signed_scale(sign, magnitude, scale, loc)


def _signed_scale_impl(sign, magnitude, scale, loc):
    if ynnpack.offloads_elementwise(aval_of(sign).shape):
        # in YNNPACK's fusion with the norm: a product of three, then the add
        return sign * magnitude * scale + loc
    return _fma(sign * magnitude, scale, loc, np.dtype(aval_of(sign).dtype))  # XLA fuses the add


_signed_scale = ynnpack.by_whole_shape(_signed_scale_impl)


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull variates: scale * (-log(1 - u)) ** (1 / concentration)."""
    data, _ = _single(key, "weibull_min")
    dtype = _float_dtype(dtype, "weibull_min")
    shape = _canonical_shape(shape)
    u = _uniform(data, shape, dtype, 0.0, 1.0)
    concentration, scale = _param(concentration, dtype), _param(scale, dtype)
    return jnp.power(-_log1p(-u), _c(u, 1) / concentration) * scale


def pareto(key, b, shape=None, dtype=None):
    """Pareto variates with shape parameter b: exp(E / b) for E standard exponential."""
    data, _ = _single(key, "pareto")
    dtype = _float_dtype(dtype, "pareto")
    shape = _shape_from("pareto", shape, b)
    b = _param(b, dtype)
    if aval_of(b).shape == ():  # XLA divides by a broadcast scalar as a product with its reciprocal
        return _exp(_exponential(data, shape, dtype) * (_c(b, 1) / b))
    return _exp(_exponential(data, shape, dtype) / b)


def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh variates: scale * sqrt(-2 log u)."""
    data, _ = _single(key, "rayleigh")
    dtype = _float_dtype(dtype, "rayleigh")
    shape = _shape_from("rayleigh", shape, scale)
    u = _uniform(data, shape, dtype, 0.0, 1.0)
    scale = jnp.broadcast_to(_param(scale, dtype), shape)
    return scale * lax.sqrt(lax.log(u) * _c(u, -2))


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian) variates with the given mean and unit shape."""
    data, _ = _single(key, "wald")
    dtype = _float_dtype(dtype, "wald")
    shape = _shape_from("wald", shape, mean)
    keys = _split_data(data, (2,))
    mean = jnp.broadcast_to(_param(mean, dtype), shape)
    v = _normal_real(keys[0], shape, dtype)
    z = _uniform(keys[1], shape, dtype, 0.0, 1.0)
    y = lax.integer_pow(v, 2)
    y_sq = lax.integer_pow(y, 2)
    mean_sq = lax.integer_pow(mean, 2)
    # With XLA's fused multiply-adds: the cancellation in x makes a rounding more or less visible.
    sqrt_term = lax.sqrt(_fma(_c(v, 4) * mean, y, mean_sq * y_sq, dtype))
    x = _fma(-(mean / _c(v, 2)), sqrt_term, mean + mean_sq * y / _c(v, 2), dtype)
    return lax.select(z <= mean / (mean + x), x, mean_sq / x)


def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular variates on [left, right] with the given mode, by inverting the CDF."""
    data, _ = _single(key, "triangular")
    dtype = _float_dtype(dtype, "triangular")
    shape = _shape_from("triangular", shape, left, mode, right)
    left, mode, right = (jnp.broadcast_to(_param(x, dtype), shape) for x in (left, mode, right))
    fc = (mode - left) / (right - left)
    u = _uniform(data, shape, dtype, 0.0, 1.0)
    out1 = left + lax.sqrt(u * (right - left) * (mode - left))
    out2 = right - lax.sqrt((_c(u, 1) - u) * (right - left) * (right - mode))
    return lax.select(u < fc, out1, out2)


def lognormal(key, sigma=np.float32(1), shape=None, dtype=None):
    """exp(sigma * N) for N standard normal."""
    data, _ = _single(key, "lognormal")
    dtype = _float_dtype(dtype, "lognormal")
    shape = _shape_from("lognormal", shape, sigma)
    sigma = _param(sigma, dtype)
    if aval_of(sigma).shape == ():
        return _exp(_normal_real(data, shape, dtype, scale=sigma))
    return _exp(_normal_real(data, shape, dtype) * sigma)


def orthogonal(key, n, shape=(), dtype=None, m=None):
    """A matrix (..., n, m) uniform on the orthogonal group (semi-orthogonal when n != m)."""
    data, _ = _single(key, "orthogonal")
    dtype = _float_dtype(dtype, "orthogonal")
    shape = _canonical_shape(shape)
    n = _concrete_index(n, "n")
    m = n if m is None else _concrete_index(m, "m")
    z = _normal_real(data, (*shape, max(n, m), min(n, m)), dtype)
    q, r = lax_linalg.qr(z, full_matrices=False)
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    x = q * jnp.expand_dims(jnp.sign(d), -2)
    return jnp.swapaxes(x, -1, -2) if n < m else x


def _concrete_index(value, what):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"orthogonal: {what} must be a concrete integer, got {value!r}") from None
    if value < 0:
        raise ValueError(f"orthogonal: {what} must be non-negative, got {value}")
    return value
