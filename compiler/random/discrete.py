"""Counting samplers: poisson, binomial and geometric, as JAX draws them.

poisson and binomial run JAX's loops over the whole array at once, with one split of the key
per step, so every element sees the uniforms JAX's element sees:

- poisson (as TensorFlow and NumPy): Knuth's product of uniforms for lam < 10, Hörmann's
  transformed rejection ("The transformed rejection method for generating Poisson random
  variables", 1993) above; both loops run on the same key and the result is selected.
- binomial (as TensorFlow Probability): a sum of geometric variates where count * p <= 10,
  Hörmann's BTRS rejection above, with p > 1/2 sampled as count - Binomial(count, 1 - p).

The integer results are JAX's, bit for bit: the accept/reject and floor decisions use log,
log1p and lgamma as XLA:CPU computes them in float32 (`kiln.lax.xla_math`), which matters
because the rejection loop keeps, in each lane, the last value accepted before *every* lane
has accepted, and at lam = 1e5 float32's t = -lam + k log(lam) - lgamma(k + 1) is decided by
its last bits.
"""
from __future__ import annotations

import numpy as np

import kiln.lax as lax
import kiln.numpy as jnp
from kiln.primitives import aval_of
from kiln.random.core import (_canonical_shape, _float_dtype, _fma, _log1p, _sample_shape, _single, _split_data,
                              _uniform)
from kiln.runtime import dtypes

__all__ = ["poisson", "binomial", "geometric"]

_F32 = np.dtype(np.float32)


def _int_dtype(dtype, name):
    dtype = dtypes.default_int_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"dtype argument to `{name}` must be an int dtype, got {dtype}")
    return dtype


def _c(x, value):
    return np.asarray(value, dtype=aval_of(x).dtype)


# ---------------------------------------------------------------------------- poisson

def _poisson_knuth(data, lam, shape, dtype):
    """k such that the product of k + 1 uniforms first falls below exp(-lam)."""
    def body(carry):
        i, k, key, log_prod = carry
        keys = _split_data(key, (2,))
        k = lax.select(log_prod > -lam, k + _c(k, 1), k)
        u = _uniform(keys[1], shape, _F32, 0.0, 1.0)
        return i + np.int32(1), k, keys[0], log_prod + lax.log(u)

    def cond(carry):
        return jnp.any(carry[3] > -lam)

    init = (np.int32(0), jnp.zeros(shape, dtype), data, jnp.zeros(shape, _F32))
    k = lax.while_loop(cond, body, init)[1]
    return k - _c(k, 1)


def _poisson_rejection(data, lam, shape, dtype):
    """Hörmann's PTRS: k = floor((2a/u' + b) u + lam + 0.43), accepted by the squeeze or by
    log(v alpha / (a / u'^2 + b)) <= -lam + k log(lam) - lgamma(k + 1)."""
    # As XLA compiles JAX's expressions: b - 3.4 and b - 2 folded into one constant each, and
    # every product followed by a sum in one fused kernel contracted into an fma. k is a floor
    # and lam can be large, so one rounding more or less changes the count.
    log_lam = lax.log(lam)
    root = lax.sqrt(lam)
    fma = lambda x, y, z: _fma(x, _c(lam, y), _c(lam, z), _F32) if isinstance(y, float) else _fma(x, y, z, _F32)
    b = fma(root, 2.53, 0.931)
    a = fma(b, 0.02483, -0.059)
    inv_alpha = _c(lam, 1.1239) + _c(lam, 1.1328) / fma(root, 2.53, float(_F32.type(0.931) - _F32.type(3.4)))
    v_r = _c(lam, 0.9277) - _c(lam, 3.6224) / fma(root, 2.53, float(_F32.type(0.931) - _F32.type(2)))

    def body(carry):
        i, k_out, accepted, key = carry
        keys = _split_data(key, (3,))
        u = _uniform(keys[1], shape, _F32, 0.0, 1.0) - _c(lam, 0.5)
        v = _uniform(keys[2], shape, _F32, 0.0, 1.0)
        u_shifted = _c(lam, 0.5) - lax.abs(u)
        k = lax.floor(fma(a * _c(lam, 2) / u_shifted + b, u, lam) + _c(lam, 0.43))
        s = lax.log(v * inv_alpha / (a / (u_shifted * u_shifted) + b))
        t = fma(k, log_lam, -lam) - lax.lgamma(k + _c(k, 1))
        accept1 = (u_shifted >= _c(lam, 0.07)) & (v <= v_r)
        reject = (k < _c(k, 0)) | ((u_shifted < _c(lam, 0.013)) & (v > u_shifted))
        accept = accept1 | (~reject & (s <= t))
        return i + np.int32(1), lax.select(accept, k, k_out), accepted | accept, keys[0]

    init = (np.int32(0), jnp.full(shape, -1, _F32), jnp.zeros(shape, bool), data)
    k = lax.while_loop(lambda carry: jnp.any(~carry[2]), body, init)[1]
    return lax.convert_element_type(k, dtype)


def poisson(key, lam, shape=None, dtype=None):
    """Poisson(lam) counts (lam >= 0), as integers."""
    data, _ = _single(key, "poisson")
    dtype = _int_dtype(dtype, "poisson")
    shape = aval_of(lam).shape if shape is None else _canonical_shape(shape)
    lam = lax.convert_element_type(jnp.broadcast_to(jnp.asarray(lam), shape), _F32)
    use_knuth = (lam != lam) | (lam < _c(lam, 10))
    lam_knuth = lax.select(use_knuth, lam, jnp.zeros_like(lam))
    # Rejection's acceptance rate grows with lam: idle lanes run it at a large lam.
    lam_rejection = lax.select(use_knuth, jnp.full_like(lam, 1e5), lam)
    result = lax.select(use_knuth, _poisson_knuth(data, lam_knuth, shape, dtype),
                        _poisson_rejection(data, lam_rejection, shape, dtype))
    return lax.select(lam == _c(lam, 0), jnp.zeros_like(result), result)


# ---------------------------------------------------------------------------- binomial

_STIRLING_TAIL = [0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509,
                  0.0166446911898211, 0.0138761288230707, 0.0118967099458917, 0.0104112652619720,
                  0.00925546218271273, 0.00833056343336287]


def _stirling_approx_tail(k):
    """log(k!) minus its Stirling approximation: tabulated for k <= 9, a series above."""
    table = jnp.asarray(np.asarray(_STIRLING_TAIL, aval_of(k).dtype))
    use_table = k <= _c(k, 9)
    k_small = jnp.clip(k, _c(k, 0), _c(k, 9))
    kp1sq = (k_small + _c(k, 1)) * (k_small + _c(k, 1))
    approx = (_c(k, 1 / 12) - (_c(k, 1 / 360) - _c(k, 1 / 1260) / kp1sq) / kp1sq) / (k_small + _c(k, 1))
    index = lax.convert_element_type(lax.floor(k_small), np.int32)
    return lax.select(use_table, jnp.take(table, index), approx)


def _binomial_inversion(data, count, prob, shape):
    log1mp = _log1p(-prob)

    def body(carry):
        i, num_geom, geom_sum, key = carry
        keys = _split_data(key, (2,))
        subkey, key = keys[0], keys[1]
        num_geom_out = lax.select(geom_sum <= count, num_geom + _c(num_geom, 1), num_geom)
        u = _uniform(subkey, shape, aval_of(prob).dtype, 0.0, 1.0)
        geom = lax.ceil(lax.log(u) / log1mp)
        return i + np.int32(1), num_geom_out, geom_sum + geom, key

    init = (np.int32(0), jnp.zeros(shape, aval_of(prob).dtype), jnp.zeros(shape, aval_of(prob).dtype), data)
    k = lax.while_loop(lambda carry: jnp.any(carry[2] <= count), body, init)[1]
    return k - _c(k, 1)


def _btrs(data, count, prob, shape):
    one = _c(prob, 1)
    stddev = lax.sqrt(count * prob * (one - prob))
    b = _c(prob, 1.15) + _c(prob, 2.53) * stddev
    a = _c(prob, -0.0873) + _c(prob, 0.0248) * b + _c(prob, 0.01) * prob
    c = count * prob + _c(prob, 0.5)
    v_r = _c(prob, 0.92) - _c(prob, 4.2) / b
    r = prob / (one - prob)
    alpha = (_c(prob, 2.83) + _c(prob, 5.1) / b) * stddev
    m = lax.floor((count + one) * prob)
    half = _c(prob, 0.5)

    def body(carry):
        i, k_out, accepted, key = carry
        keys = _split_data(key, (3,))
        u = _uniform(keys[1], shape, aval_of(prob).dtype, 0.0, 1.0) - half
        v = _uniform(keys[2], shape, aval_of(prob).dtype, 0.0, 1.0)
        us = half - lax.abs(u)
        accept1 = (us >= _c(prob, 0.07)) & (v <= v_r)
        k = lax.floor((_c(prob, 2) * a / us + b) * u + c)
        reject = (k < _c(k, 0)) | (k > count)
        v = lax.log(v * alpha / (a / (us * us) + b))
        ub = ((m + half) * lax.log((m + one) / (r * (count - m + one)))
              + (count + one) * lax.log((count - m + one) / (count - k + one))
              + (k + half) * lax.log(r * (count - k + one) / (k + one))
              + _stirling_approx_tail(m) + _stirling_approx_tail(count - m)
              - _stirling_approx_tail(k) - _stirling_approx_tail(count - k))
        accept = accept1 | (~reject & (v <= ub))
        return i + np.int32(1), lax.select(accept, k, k_out), accepted | accept, keys[0]

    init = (np.int32(0), jnp.full(shape, -1, aval_of(prob).dtype), jnp.zeros(shape, bool), data)
    return lax.while_loop(lambda carry: jnp.any(~carry[2]), body, init)[1]


def binomial(key, n, p, shape=None, dtype=None):
    """Binomial(n, p) counts, as floats (nan for p outside [0, 1] or n < 0, inf for n = inf)."""
    data, _ = _single(key, "binomial")
    dtype = _float_dtype(dtype, "binomial")
    shape = _sample_shape("binomial", shape, aval_of(n).shape, aval_of(p).shape)
    prob = jnp.asarray(p)
    if np.dtype(aval_of(prob).dtype).kind != "f":
        prob = prob.astype(dtypes.default_float_dtype())
    pdt = aval_of(prob).dtype
    count = jnp.broadcast_to(lax.convert_element_type(jnp.asarray(n), pdt), shape)
    prob = jnp.broadcast_to(prob, shape)
    p_lt_half = prob < _c(prob, 0.5)
    q = lax.select(p_lt_half, prob, _c(prob, 1) - prob)
    count_nan_or_neg = (count != count) | (count < _c(count, 0))
    count_inf = lax.abs(count) == _c(count, np.inf)
    q_is_nan = q != q
    q_l_0 = q < _c(q, 0)
    q = lax.select(q_is_nan | q_l_0, jnp.full_like(q, 0.01), q)
    use_inversion = count_nan_or_neg | (count * q <= _c(q, 10))
    count = lax.floor(count)
    count_inv = lax.select(use_inversion, count, jnp.zeros_like(count))
    count_btrs = lax.select(use_inversion, jnp.full_like(count, 1e4), count)
    q_btrs = lax.select(use_inversion, jnp.full_like(q, 0.5), q)
    samples = lax.select(use_inversion, _binomial_inversion(data, count_inv, q, shape),
                         _btrs(data, count_btrs, q_btrs, shape)).astype(dtype)
    invalid = q_l_0 | q_is_nan | count_nan_or_neg
    samples = lax.select(invalid, jnp.full_like(samples, np.nan), samples)
    samples = lax.select(count_inf & ~invalid, jnp.full_like(samples, np.inf), samples)
    return lax.select(p_lt_half | count_nan_or_neg | q_is_nan | count_inf, samples,
                      count.astype(dtype) - samples)


# ---------------------------------------------------------------------------- geometric

def geometric(key, p, shape=None, dtype=None):
    """Geometric(p) counts >= 1: the number of trials up to the first success."""
    data, _ = _single(key, "geometric")
    dtype = _int_dtype(dtype, "geometric")
    shape = _sample_shape("geometric", shape, aval_of(p).shape)
    p = jnp.asarray(p)
    if np.dtype(aval_of(p).dtype).kind != "f":
        p = p.astype(dtypes.default_float_dtype())
    u = _uniform(data, shape, aval_of(p).dtype, 0.0, 1.0)
    u = lax.select(u == _c(u, 0), jnp.ones_like(u), u)  # as JAX: u = 0 maps to 1
    log_1mp = jnp.broadcast_to(_log1p(-p), shape)
    return lax.convert_element_type(lax.floor(lax.log(u) / log_1mp) + _c(u, 1), dtype)
