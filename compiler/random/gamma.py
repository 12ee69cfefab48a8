"""Gamma variates and the samplers built on them: gamma, loggamma, beta, dirichlet, chisquare,
f, t, generalized_normal and ball.

`gamma` is JAX's algorithm step for step, so it consumes the same bits: the key is split into
one key per element, and each element runs Marsaglia and Tsang's rejection loop ("A simple
method for generating gamma variables", 2000) on its own key, with JAX's key splitting inside
the loop; `kiln.vmap` runs the per-element loop over all elements at once (a batched while
loop, in which finished lanes keep their values). alpha < 1 is boosted to alpha + 1 and
multiplied by U**(1/alpha) (in log space for `loggamma`).

Derivative: d sample / d a is the implicit reparameterisation gradient
-(dP(a, x)/da) / (dP(a, x)/dx) of the regularised incomplete gamma function P, computed as JAX's
`lax.random_gamma_grad` does (a power series for x <= max(1, a), a continued fraction above).
"""
from __future__ import annotations

import functools
import math

import numpy as np

import kiln.lax as lax
import kiln.numpy as jnp
from kiln.batching import vmap
from kiln.custom_derivatives import custom_jvp
from kiln.primitives import aval_of
from kiln.random import ynnpack
from kiln.random.core import (_canonical_shape, _exp, _exponential, _float_dtype, _fma, _log1p, _normal_real,
                              _sample_shape, _single, _split_data, _uniform, _log_alone)
from kiln.random.derived import _rademacher, _shape_from
from kiln.runtime import dtypes

__all__ = ["gamma", "loggamma", "beta", "dirichlet", "chisquare", "f", "t", "generalized_normal", "ball",
           "random_gamma_grad"]


def _const(x, value):
    return np.asarray(value, dtype=aval_of(x).dtype)


# ---------------------------------------------------------------------------- one gamma variate

def _gamma_one(data, alpha, log_space):
    """One Gamma(alpha) variate from one key by Marsaglia-Tsang, as JAX's _gamma_one, in three
    factors (d, V, boost), or (d, V, log(boost)) in log space: the variate is d * V * boost
    (`_gamma_samples` forms it, or its log, over the whole batch)."""
    dtype = np.dtype(aval_of(alpha).dtype)
    one = _const(alpha, 1)
    boost_mask = alpha >= one
    alpha_orig = alpha
    alpha = lax.select(boost_mask, alpha, alpha + one)
    d = alpha - _const(alpha, 1 / 3)
    # XLA rewrites (1/3) / sqrt(d) as (1/3) * rsqrt(d), and fuses 1 + x * c into one fma.
    c = _const(alpha, 1 / 3) * lax.rsqrt(d)

    def accept_not_yet(state):
        _, X, V, U = state
        squeeze = U >= one - _const(alpha, 0.0331) * (X * X)
        log_test = lax.log(U) >= X * _const(alpha, 0.5) + d * ((one - V) + lax.log(V))
        return squeeze & log_test

    def next_x(state):
        key, _, _ = state
        keys = _split_data(key, (2,))
        x = _normal_real(keys[1], (), dtype)
        return keys[0], x, _fma(x, c, one, dtype)

    def propose(state):
        keys = _split_data(state[0], (3,))
        _, x, v = lax.while_loop(lambda s: s[2] <= _const(alpha, 0), next_x,
                                 (keys[1], jnp.zeros((), dtype), jnp.full((), -1, dtype)))
        U = _uniform(keys[2], (), dtype, 0.0, 1.0)
        return keys[0], x * x, v * v * v, U

    keys = _split_data(data, (2,))
    # The initial state makes accept_not_yet true: the body runs at least once.
    init = (keys[0], jnp.zeros((), dtype), jnp.ones((), dtype), jnp.full((), 2, dtype))
    _, _, V, _ = lax.while_loop(accept_not_yet, propose, init)
    if log_space:
        log_u = -_exponential(keys[1], (), dtype)
        return d, V, lax.select(boost_mask | (log_u == _const(alpha, 0)), jnp.zeros((), dtype),
                                log_u * (one / alpha_orig))
    u = one - _uniform(keys[1], (), dtype, 0.0, 1.0)
    return d, V, lax.select(boost_mask, jnp.ones((), dtype), _flush_subnormal(lax.pow(u, one / alpha_orig)))


def _flush_subnormal(x):
    """0 for subnormal x: XLA's CPU code runs with flush-to-zero, so JAX's tiny variates are 0."""
    tiny = _const(x, np.finfo(aval_of(x).dtype).tiny)
    return lax.select(lax.abs(x) < tiny, x * _const(x, 0), x)


@functools.lru_cache(maxsize=None)
def _gamma_samples(log_space, before_reduce):
    """One variate per key (keys of shape (size, 2), a of any shape with size elements).
    `before_reduce`: a reduce follows (dirichlet's softmax). Where there is more than one row,
    XLA then computes log(V) alone (`_log_alone`); from 4096 elements on it hands the final
    logs to YNNPACK: of the whole batch under vmap (`ynnpack.by_whole_shape`)."""
    def samples(keys, a):
        shape = aval_of(a).shape
        one = functools.partial(_gamma_one, log_space=log_space)
        d, V, boost = vmap(one)(keys.reshape((-1, 2)), a.reshape((math.prod(shape),)))
        if not log_space:
            out = _flush_subnormal(d * V * boost)
        elif before_reduce and ynnpack.offloads_reduce(shape):
            out = ynnpack.log(d) + ynnpack.log(V) + boost
        elif before_reduce and len(shape) > 1:
            out = lax.log(d) + _log_alone(V) + boost
        else:
            out = lax.log(d) + lax.log(V) + boost
        return out.reshape(shape)
    return ynnpack.by_whole_shape(samples)


def _random_gamma_impl(data, a, log_space, before_reduce):
    shape = aval_of(a).shape
    size = math.prod(shape)
    if size == 0:
        return jnp.zeros(shape, aval_of(a).dtype)
    return _gamma_samples(log_space, before_reduce)(_split_data(data, (size,)), a)


@functools.partial(custom_jvp, nondiff_argnums=(2, 3))
def _random_gamma(data, a, log_space, before_reduce):
    return _random_gamma_impl(data, a, log_space, before_reduce)


@_random_gamma.defjvp
def _random_gamma_jvp(log_space, before_reduce, primals, tangents):
    data, a = primals
    _, a_dot = tangents
    sample = _random_gamma(data, a, log_space, before_reduce)
    return sample, a_dot * lax.stop_gradient(_gamma_grad(sample, a, log_space))


def _gamma_grad(sample, a, log_space):
    if log_space:
        # d log(x) = dx / x, with x = exp(log x) kept away from 0.
        x = lax.exp(sample)
        x = lax.select(x == _const(x, 0), jnp.full_like(x, np.finfo(aval_of(x).dtype).tiny), x)
        return random_gamma_grad(a, x) / x
    return random_gamma_grad(a, sample)


def _gamma(key, a, shape, dtype, log_space, name):
    data, _ = _single(key, name)
    dtype = _float_dtype(dtype, name)
    shape = _sample_shape(name, shape, aval_of(a).shape)
    a = lax.convert_element_type(jnp.asarray(a), dtype)
    if aval_of(a).shape != tuple(shape):
        a = jnp.broadcast_to(a, shape)
    return _random_gamma(data, a, log_space, False)


def gamma(key, a, shape=None, dtype=None):
    """Gamma(a, 1) variates: density proportional to x**(a - 1) * exp(-x) on x > 0."""
    return _gamma(key, a, shape, dtype, False, "gamma")


def loggamma(key, a, shape=None, dtype=None):
    """The logs of Gamma(a, 1) variates, accurate where the variates underflow (a << 1)."""
    return _gamma(key, a, shape, dtype, True, "loggamma")


# ---------------------------------------------------------------------------- built on gamma

def beta(key, a, b, shape=None, dtype=None):
    """Beta(a, b) variates: Ga / (Ga + Gb) of two gamma variates, formed in log space."""
    data, _ = _single(key, "beta")
    dtype = _float_dtype(dtype, "beta")
    shape = _sample_shape("beta", shape, aval_of(a).shape, aval_of(b).shape)
    a = jnp.broadcast_to(lax.convert_element_type(jnp.asarray(a), dtype), shape)
    b = jnp.broadcast_to(lax.convert_element_type(jnp.asarray(b), dtype), shape)
    keys = _split_data(data, (2,))
    log_ga = _random_gamma(keys[0], a, True, False)
    log_gb = _random_gamma(keys[1], b, True, False)
    log_max = lax.max(log_ga, log_gb)
    ga = _exp(log_ga - log_max)
    gb = _exp(log_gb - log_max)
    return ga / (ga + gb)


def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet(alpha) variates along alpha's last axis: softmax of log-gamma variates."""
    data, _ = _single(key, "dirichlet")
    dtype = _float_dtype(dtype, "dirichlet")
    ashape = aval_of(alpha).shape
    if len(ashape) < 1:
        raise ValueError(f"dirichlet requires alpha.ndim >= 1, got alpha.ndim == {len(ashape)}")
    shape = _sample_shape("dirichlet", shape, ashape[:-1])
    alpha = lax.convert_element_type(jnp.asarray(alpha), dtype)
    full_shape = tuple(shape) + ashape[-1:]
    # XLA hands the softmax's reduces to YNNPACK with the elementwise operations around them,
    # the gamma sampler's final logs included
    log_g = _random_gamma(data, jnp.broadcast_to(alpha, full_shape), True, True)
    return _dirichlet_softmax(log_g)


def _dirichlet_softmax_impl(log_g):
    return _softmax_ynnpack(log_g) if ynnpack.offloads_reduce(aval_of(log_g).shape) else _softmax(log_g)


_dirichlet_softmax = ynnpack.by_whole_shape(_dirichlet_softmax_impl)


def _softmax(x):
    """As jax.nn.softmax, exp(x - max) / sum with the max not differentiated, in XLA:CPU's
    operation order: the division by the sum is a product with its reciprocal."""
    unnormalized = _exp(x - lax.stop_gradient(jnp.max(x, axis=-1, keepdims=True)))
    return unnormalized * (_const(x, 1) / _sum_last(unnormalized)[..., None])


def _softmax_ynnpack(x):
    """The softmax as YNNPACK computes it: its exp and its sum, then XLA's product with the
    reciprocal (YNNPACK's rewrite of x * (1 / s) as x / s does not see through the broadcast)."""
    unnormalized = ynnpack.exp(x - lax.stop_gradient(jnp.max(x, axis=-1, keepdims=True)))
    return unnormalized * (_const(x, 1) / ynnpack.sum_last(unnormalized))[..., None]


def _sum_last(x):
    """The sum over the last axis as XLA:CPU forms it: left to right for up to 32 terms; longer
    rows its tree-reduction rewrite cuts into windows of 32 (the row padded with zeros, half
    the padding in front), sums each window left to right and sums the window sums the same way."""
    n = aval_of(x).shape[-1]
    if n == 0:
        return jnp.sum(x, axis=-1)
    if n > 32:
        pad = -n % 32
        zeros = lambda k: jnp.zeros(aval_of(x).shape[:-1] + (k,), aval_of(x).dtype)
        x = jnp.concatenate([zeros(pad // 2), x, zeros(pad - pad // 2)], axis=-1)
        x = x.reshape(aval_of(x).shape[:-1] + ((n + pad) // 32, 32))
        return _sum_last(_sum_last(x))
    total = x[..., 0]
    for i in range(1, n):
        total = total + x[..., i]
    return total


def chisquare(key, df, shape=None, dtype=None):
    """Chi-squared variates with df degrees of freedom: 2 * Gamma(df / 2)."""
    data, _ = _single(key, "chisquare")
    dtype = _float_dtype(dtype, "chisquare")
    shape = _shape_from("chisquare", shape, df)
    return _chisquare(data, lax.convert_element_type(jnp.asarray(df), dtype), shape)


def _chisquare(data, df, shape):
    two = _const(df, 2)
    half_df = jnp.broadcast_to(df / two, shape)
    return _exp(_random_gamma(data, half_df, True, False)) * two


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F-distributed variates: (chi2(dfnum) / dfnum) / (chi2(dfden) / dfden)."""
    data, _ = _single(key, "f")
    dtype = _float_dtype(dtype, "f")
    shape = _shape_from("f", shape, dfnum, dfden)
    dfnum = lax.convert_element_type(jnp.asarray(dfnum), dtype)
    dfden = lax.convert_element_type(jnp.asarray(dfden), dtype)
    keys = _split_data(data, (2,))
    two = _const(dfnum, 2)
    g_num = _exp(_random_gamma(keys[1], jnp.broadcast_to(dfnum / two, shape), True, False))
    g_den = _exp(_random_gamma(keys[0], jnp.broadcast_to(dfden / two, shape), True, False))
    # XLA rewrites (a / b) / (c / d) as (a * d) / (b * c), and (g * 2) * d as g * (2 * d)
    return (g_num * (dfden * two)) / (g_den * (dfnum * two))


def t(key, df, shape=None, dtype=None):
    """Student's t variates with df degrees of freedom: N * sqrt(df / 2 / Gamma(df / 2))."""
    data, _ = _single(key, "t")
    dtype = _float_dtype(dtype, "t")
    shape = _shape_from("t", shape, df)
    df = lax.convert_element_type(jnp.asarray(df), dtype)
    keys = _split_data(data, (2,))
    n = _normal_real(keys[0], shape, dtype)
    half_df = df / _const(df, 2)
    g = _random_gamma(keys[1], jnp.broadcast_to(half_df, shape), False, False)
    return n * lax.sqrt(half_df / g)


def generalized_normal(key, p, shape=(), dtype=None):
    """Variates with density proportional to exp(-|x|**p)."""
    data, _ = _single(key, "generalized_normal")
    dtype = _float_dtype(dtype, "generalized_normal")
    shape = _canonical_shape(shape)
    return _generalized_normal(data, p, shape, dtype)


def _generalized_normal(data, p, shape, dtype):
    keys = _split_data(data, (2,))
    p = lax.convert_element_type(jnp.asarray(p), dtype)
    inv_p = _const(p, 1) / p
    g = _random_gamma(keys[0], jnp.broadcast_to(inv_p, shape), False, False)
    r = _rademacher(keys[1], shape, dtype)
    return r * lax.pow(g, jnp.broadcast_to(inv_p, shape))


def ball(key, d, p=2, shape=(), dtype=None):
    """Points uniform in the unit Lp ball of dimension d, shape (*shape, d)."""
    data, _ = _single(key, "ball")
    dtype = _float_dtype(dtype, "ball")
    shape = _canonical_shape(shape)
    d = _static_int(d, "ball", "d")
    keys = _split_data(data, (2,))
    g = _generalized_normal(keys[0], p, tuple(shape) + (d,), dtype)
    u = _uniform(keys[1], shape, dtype, 0.0, 1.0)
    p = jnp.broadcast_to(lax.convert_element_type(jnp.asarray(p), dtype), tuple(shape) + (d,))
    return _ball_scale(g, u, p)


def _ball_scale_impl(g, u, p):
    """g scaled into the ball by its norm and an exponential variate -log1p(-u). XLA hands the
    norm's reduce to YNNPACK from 4096 elements of g on, with the elementwise operations of
    4096 elements or more around it (so e's only when there are 4096 rows)."""
    ynn = ynnpack.offloads_reduce(aval_of(g).shape)
    e = -(ynnpack.log1p if ynn and ynnpack.offloads_elementwise(aval_of(u).shape) else _log1p)(-u)
    powered = lax.pow(jnp.abs(g), p)
    total = (ynnpack.sum_last(powered) if ynn else _sum_last(powered)) + e
    # XLA rewrites g / total**(1/p) as g * total**-(1/p)
    return g * lax.pow(total, -(_const(p, 1) / p[..., 0]))[..., None]


_ball_scale = ynnpack.by_whole_shape(_ball_scale_impl)


def _static_int(n, name, what):
    try:
        return int(n.__index__())
    except (AttributeError, TypeError):
        raise TypeError(f"{name}: {what} must be a concrete integer, got {n!r}") from None


# ---------------------------------------------------------------------------- the gradient

def _igamma_series_grad(x, a, enabled, eps):
    """dx/da of P(a, x) = const by the power series (x <= max(1, a)), as XLA's igamma."""
    one = _const(a, 1)

    def body(vals):
        enabled, r, c, ans, x, dc_da, dans_da = vals
        r_new = r + one
        dc_da_new = dc_da * (x / r_new) - (c * x) / (r_new * r_new)
        dans_da_new = dans_da + dc_da_new
        c_new = c * (x / r_new)
        ans_new = ans + c_new
        go_on = enabled & (lax.abs(dc_da_new / dans_da_new) > _const(a, eps))
        keep = lambda new, old: lax.select(enabled, new, old)
        return (go_on, keep(r_new, r), keep(c_new, c), keep(ans_new, ans), x,
                keep(dc_da_new, dc_da), keep(dans_da_new, dans_da))

    init = (enabled, a, jnp.full_like(a, 1), jnp.full_like(a, 1), x, jnp.full_like(a, 0), jnp.full_like(a, 0))
    _, _, _, ans, _, _, dans_da = lax.while_loop(lambda v: jnp.any(v[0]), body, init)
    dlogax_da = lax.log(x) - lax.digamma(a + one)
    return -(dans_da + ans * dlogax_da) * x / a


def _igammac_fraction_grad(x, a, enabled, eps):
    """dx/da of Q(a, x) = const by the continued fraction (x > max(1, a)), as XLA's igammac."""
    one = _const(a, 1)
    eps_c = _const(a, eps)

    def body(vals):
        (enabled, ans, t_, y, z, c, pkm1, qkm1, pkm2, qkm2,
         dpkm2_da, dqkm2_da, dpkm1_da, dqkm1_da, dans_da) = vals
        c_new = c + one
        y_new = y + one
        z_new = z + _const(a, 2)
        yc = y_new * c_new
        pk = pkm1 * z_new - pkm2 * yc
        qk = qkm1 * z_new - qkm2 * yc
        nonzero = qk != _const(a, 0)
        r = pk / qk
        t_new = lax.select(nonzero, lax.abs((ans - r) / r), jnp.full_like(r, 1))
        ans_new = lax.select(nonzero, r, ans)
        dpk_da = dpkm1_da * z_new - pkm1 - dpkm2_da * yc + pkm2 * c_new
        dqk_da = dqkm1_da * z_new - qkm1 - dqkm2_da * yc + qkm2 * c_new
        dans_da_new = lax.select(nonzero, (dpk_da - ans_new * dqk_da) / qk, dans_da)
        grad_change = lax.select(nonzero, lax.abs(dans_da_new - dans_da), jnp.full_like(dans_da, 1))
        rescale = lax.abs(pk) > one / eps_c
        scaled = lambda v: lax.select(rescale, v * eps_c, v)
        n_pkm2, n_pkm1, n_qkm2, n_qkm1 = scaled(pkm1), scaled(pk), scaled(qkm1), scaled(qk)
        n_dpkm2, n_dqkm2, n_dpkm1, n_dqkm1 = scaled(dpkm1_da), scaled(dqkm1_da), scaled(dpk_da), scaled(dqk_da)
        go_on = enabled & (grad_change > eps_c)
        keep = lambda new, old: lax.select(enabled, new, old)
        return (go_on, keep(ans_new, ans), keep(t_new, t_), keep(y_new, y), keep(z_new, z), c_new,
                keep(n_pkm1, pkm1), keep(n_qkm1, qkm1), keep(n_pkm2, pkm2), keep(n_qkm2, qkm2),
                keep(n_dpkm2, dpkm2_da), keep(n_dqkm2, dqkm2_da), keep(n_dpkm1, dpkm1_da),
                keep(n_dqkm1, dqkm1_da), keep(dans_da_new, dans_da))

    y = one - a
    z = x + y + one
    pkm1 = x + one
    qkm1 = z * x
    ans = pkm1 / qkm1
    dqkm1_da = -x
    dans_da = (jnp.zeros_like(x) - ans * dqkm1_da) / qkm1
    step = jnp.zeros((), aval_of(x).dtype)  # one iteration count for all elements, as in XLA
    init = (enabled, ans, jnp.full_like(x, 1), y, z, step, pkm1, qkm1, jnp.full_like(x, 1), x,
            jnp.zeros_like(x), jnp.zeros_like(x), jnp.zeros_like(x), dqkm1_da, dans_da)
    vals = lax.while_loop(lambda v: (v[5] < _const(a, 2000)) & jnp.any(v[0]), body, init)
    ans, dans_da = vals[1], vals[14]
    dlogax_da = lax.log(x) - lax.digamma(a)
    return (dans_da + ans * dlogax_da) * x


def random_gamma_grad(a, x):
    """d x / d a for x ~ Gamma(a, 1) with its uniform fixed (JAX's lax.random_gamma_grad)."""
    a, x = jnp.asarray(a), jnp.asarray(x)
    dtype = dtypes.result_type(a, x)
    if np.dtype(dtype).kind != "f":
        dtype = dtypes.default_float_dtype()
    shape = np.broadcast_shapes(aval_of(a).shape, aval_of(x).shape)
    a = jnp.broadcast_to(lax.convert_element_type(a, dtype), shape)
    x = jnp.broadcast_to(lax.convert_element_type(x, dtype), shape)
    eps = float(np.finfo(dtype).eps)
    zero = _const(a, 0)
    is_nan = (a != a) | (x != x)
    x_is_zero = x == zero
    domain_error = (x < zero) | (a <= zero)
    use_fraction = (x > _const(a, 1)) & (x > a)
    ax = a * lax.log(x) - x - lax.lgamma(a)
    underflow = ax < _const(a, -np.log(np.finfo(dtype).max))
    enabled = ~(x_is_zero | domain_error | underflow | is_nan)
    out = lax.select(use_fraction,
                     _igammac_fraction_grad(x, a, enabled & use_fraction, eps),
                     _igamma_series_grad(x, a, enabled & ~use_fraction, eps))
    out = lax.select(x_is_zero, jnp.zeros_like(out), out)
    return lax.select(domain_error | is_nan, jnp.full_like(out, np.nan), out)
