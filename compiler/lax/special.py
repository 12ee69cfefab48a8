"""Special functions of jax.lax built from kiln.lax operations: igamma, igammac, igamma_grad_a,
random_gamma_grad, betainc, polygamma, zeta, bessel_i0e, bessel_i1e.

JAX lowers these to XLA decompositions (jax/_src/lax/special.py, and StableHLO's CHLO
decompositions for zeta, polygamma and bessel_i1e). Each function here is the same algorithm,
operation for operation, written with `kiln.lax` (series and continued fractions as
`while_loop`s over the whole array, as XLA runs them), so no backend needs a lowering of its own
and the values follow JAX's. Derivatives are JAX's rules, given by `custom_jvp`.

Operands: floating point of one dtype (a Python scalar takes the other operand's), rank-0
operands broadcast; float16 and bfloat16 are computed in float32, as XLA does.
"""
from __future__ import annotations

import functools

import numpy as np

import kiln.lax as lax
from kiln.custom_derivatives import custom_jvp
from kiln.primitives import aval_of
from kiln.runtime import dtypes

__all__ = ["igamma", "igammac", "igamma_grad_a", "random_gamma_grad", "betainc", "polygamma", "zeta",
           "bessel_i0e", "bessel_i1e"]


# ---------------------------------------------------------------------------- operands

def _prepare(name, *args):
    """Operands of one float dtype and one shape; the dtype and weakness of the result."""
    arrays = [a for a in args if not isinstance(a, (bool, int, float))]
    if not arrays:
        dtype, weak = np.dtype(dtypes.default_float_dtype()), True
    else:
        avals = [aval_of(a) for a in arrays]
        kinds = {a.dtype for a in avals}
        if len(kinds) > 1:
            raise TypeError(f"kiln.lax.{name} needs operands of one dtype, got "
                            + ", ".join(a.str_short() for a in avals))
        dtype, weak = np.dtype(avals[0].dtype), all(a.weak_type for a in avals)
    if dtype.kind != "f":
        raise TypeError(f"kiln.lax.{name} does not accept dtype {dtype.name}; it takes float values")
    shapes = {aval_of(a).shape for a in arrays} - {()}
    if len(shapes) > 1:
        raise TypeError(f"kiln.lax.{name} needs operands of one shape (or rank 0), got {sorted(shapes)}")
    shape = shapes.pop() if shapes else ()
    compute = np.dtype(np.float32) if dtype.itemsize < 4 else dtype

    def cast(a):
        if isinstance(a, (bool, int, float)):
            a = np.asarray(a, dtype)
        a = lax.convert_element_type(a, compute) if aval_of(a).dtype != compute else a
        return lax.broadcast_in_dim(a, shape, ()) if aval_of(a).shape != shape else a
    return [cast(a) for a in args], dtype, weak


def _finish(out, dtype, weak):
    if aval_of(out).dtype != dtype or weak:
        out = lax.convert_element_type(out, dtype, weak_type=weak)
    return out


def _elementwise(name):
    """Wrap `impl(*operands)` (operands of one float32/float64 dtype and shape) as kiln.lax.name."""
    def wrap(impl):
        @functools.wraps(impl)
        def fn(*args):
            operands, dtype, weak = _prepare(name, *args)
            with np.errstate(all="ignore"):  # eagerly, NaN and inf are results, not warnings
                return _finish(impl(*operands), dtype, weak)
        fn.__name__ = name
        return fn
    return wrap


def _c(x, value):
    """`value` as a rank-0 constant of x's dtype."""
    return np.asarray(value, aval_of(x).dtype)


def _full(x, value):
    return lax.broadcast_in_dim(_c(x, value), aval_of(x).shape, ())


def _finfo(x):
    return np.finfo(aval_of(x).dtype)


def _any(pred):
    return lax.reduce_or(pred, tuple(range(len(aval_of(pred).shape))))


def _isnan(x):
    return lax.ne(x, x)


def _or(*preds):
    return functools.reduce(lax.bitwise_or, preds)


# ---------------------------------------------------------------------------- incomplete gamma
_VALUE, _DERIVATIVE, _SAMPLE_DERIVATIVE = "value", "derivative", "sample_derivative"


def _igamma_series(ax, x, a, enabled, mode):
    """P(a, x) (or a derivative of it) by its power series, for x <= max(1, a)."""
    eps = _c(a, _finfo(a).eps)

    def body(vals):
        enabled, r, c, ans, x, dc_da, dans_da = vals
        r = r + _c(r, 1)
        dc_da = dc_da * (x / r) - (c * x) / (r * r)
        dans_da = dans_da + dc_da
        c = c * (x / r)
        ans = ans + c
        if mode == _VALUE:
            go_on = enabled & lax.gt(c / ans, eps)
        else:
            go_on = enabled & lax.gt(lax.abs(dc_da / dans_da), eps)
        keep = lambda new, old: lax.select(enabled, new, old)
        return (go_on, keep(r, vals[1]), keep(c, vals[2]), keep(ans, vals[3]), keep(x, vals[4]),
                keep(dc_da, vals[5]), keep(dans_da, vals[6]))

    init = (enabled, a, _full(a, 1), _full(a, 1), x, _full(a, 0), _full(a, 0))
    vals = lax.while_loop(lambda v: _any(v[0]), body, init)
    ans, dans_da = vals[3], vals[6]
    if mode == _VALUE:
        return (ans * ax) / a
    dlogax_da = lax.log(x) - lax.digamma(a + _c(a, 1))
    if mode == _DERIVATIVE:
        return ax * (ans * dlogax_da + dans_da) / a
    return -(dans_da + ans * dlogax_da) * x / a


def _igammac_continued_fraction(ax, x, a, enabled, mode):
    """Q(a, x) (or a derivative of it) by its continued fraction, for x > max(1, a)."""
    eps = _c(x, _finfo(x).eps)

    def body(vals):
        (enabled, ans, t, y, z, c, pkm1, qkm1, pkm2, qkm2,
         dpkm2_da, dqkm2_da, dpkm1_da, dqkm1_da, dans_da) = vals
        c = c + _c(c, 1)
        y = y + _c(y, 1)
        z = z + _c(z, 2)
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        qk_is_nonzero = lax.ne(qk, _c(qk, 0))
        r = pk / qk
        t = lax.select(qk_is_nonzero, lax.abs((ans - r) / r), _full(r, 1))
        ans = lax.select(qk_is_nonzero, r, ans)
        dpk_da = dpkm1_da * z - pkm1 - dpkm2_da * yc + pkm2 * c
        dqk_da = dqkm1_da * z - qkm1 - dqkm2_da * yc + qkm2 * c
        dans_da_new = lax.select(qk_is_nonzero, (dpk_da - ans * dqk_da) / qk, dans_da)
        grad_conditional = lax.select(qk_is_nonzero, lax.abs(dans_da_new - dans_da), _full(dans_da, 1))
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        dpkm2_da, dqkm2_da, dpkm1_da, dqkm1_da = dpkm1_da, dqkm1_da, dpk_da, dqk_da
        rescale = lax.gt(lax.abs(pk), _c(pk, 1) / eps)
        scaled = lambda v: lax.select(rescale, v * eps, v)
        pkm2, pkm1, qkm2, qkm1 = scaled(pkm2), scaled(pkm1), scaled(qkm2), scaled(qkm1)
        dpkm2_da, dqkm2_da = scaled(dpkm2_da), scaled(dqkm2_da)
        dpkm1_da, dqkm1_da = scaled(dpkm1_da), scaled(dqkm1_da)
        if mode == _VALUE:
            go_on = enabled & lax.gt(t, eps)
        else:
            go_on = enabled & lax.gt(grad_conditional, eps)
        keep = lambda new, old: lax.select(enabled, new, old)
        return (go_on, keep(ans, vals[1]), keep(t, vals[2]), keep(y, vals[3]), keep(z, vals[4]), c,
                keep(pkm1, vals[6]), keep(qkm1, vals[7]), keep(pkm2, vals[8]), keep(qkm2, vals[9]),
                keep(dpkm2_da, vals[10]), keep(dqkm2_da, vals[11]), keep(dpkm1_da, vals[12]),
                keep(dqkm1_da, vals[13]), keep(dans_da_new, vals[14]))

    y = _c(a, 1) - a
    z = x + y + _c(x, 1)
    pkm1 = x + _c(x, 1)
    qkm1 = z * x
    ans = pkm1 / qkm1
    dqkm1_da = -x
    dans_da = (_full(x, 0) - ans * dqkm1_da) / qkm1
    count = np.zeros((), aval_of(x).dtype)  # one iteration count for all elements, as in XLA
    init = (enabled, ans, _full(x, 1), y, z, count, pkm1, qkm1, _full(x, 1), x,
            _full(x, 0), _full(x, 0), _full(x, 0), dqkm1_da, dans_da)
    vals = lax.while_loop(lambda v: lax.lt(v[5], _c(v[5], 2000)) & _any(v[0]), body, init)
    ans = vals[1]
    if mode == _VALUE:
        return ans * ax
    dans_da = vals[14]
    dlogax_da = lax.log(x) - lax.digamma(a)
    if mode == _DERIVATIVE:
        return ax * (ans * dlogax_da + dans_da)
    return -(dans_da + ans * dlogax_da) * x


def _fused_multiply_add(a, b, c):
    """a * b + c rounded once (nearly: Dekker's product and Knuth's sum), as XLA:CPU contracts
    it into an FMA. It matters in log(ax), where the sum cancels against lgamma(a)."""
    split = _c(a, 4097.0 if aval_of(a).dtype == np.float32 else 134217729.0)

    def halves(v):
        t = split * v
        hi = t - (t - v)
        return hi, v - hi

    p = a * b
    (a_hi, a_lo), (b_hi, b_lo) = halves(a), halves(b)
    product_error = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    s = p + c
    bb = s - p
    sum_error = (p - (s - bb)) + (c - bb)
    fused = s + (product_error + sum_error)
    return lax.select(lax.is_finite(fused), fused, s)  # the splits overflow near the top of the range


def _log_ax(a, x):
    """log(x**a e**-x / Gamma(a)), and whether it underflows."""
    ax = _fused_multiply_add(a, lax.log(x), -x) - lax.lgamma(a)
    return ax, lax.lt(ax, _c(ax, -np.log(_finfo(ax).max)))


def _igamma_value(a, x):
    zero = _c(a, 0)
    is_nan = _isnan(a) | _isnan(x)
    x_is_infinity = lax.eq(x, _c(x, np.inf))
    x_is_zero = lax.eq(x, zero)
    domain_error = _or(lax.lt(x, zero), lax.lt(a, zero), lax.eq(a, zero) & x_is_zero, is_nan)
    use_igammac = lax.ge(x, _c(x, 1)) & lax.gt(x, a)
    ax, underflow = _log_ax(a, x)
    ax = lax.exp(ax)
    enabled = ~_or(x_is_zero, domain_error, underflow, x_is_infinity)
    output = lax.select(
        use_igammac,
        _c(a, 1) - _igammac_continued_fraction(ax, x, a, enabled & use_igammac, _VALUE),
        _igamma_series(ax, x, a, enabled & ~use_igammac, _VALUE))
    output = lax.select(x_is_zero, _full(a, 0), output)
    output = lax.select(x_is_infinity, _full(a, 1), output)
    return lax.select(domain_error, _full(a, np.nan), output)


def _igammac_value(a, x):
    zero = _c(a, 0)
    is_nan = _isnan(a) | _isnan(x)
    a_is_zero = lax.eq(a, zero)
    x_is_zero = lax.eq(x, zero)
    x_is_infinity = lax.eq(x, _c(x, np.inf))
    domain_error = _or(lax.lt(x, zero), lax.lt(a, zero), a_is_zero & x_is_zero, is_nan)
    use_igamma = lax.lt(x, _c(x, 1)) | lax.lt(x, a)
    ax, underflow = _log_ax(a, x)
    enabled = ~_or(domain_error, underflow, x_is_infinity, a_is_zero)
    ax = lax.exp(ax)
    igamma_call = _igamma_series(ax, x, a, enabled & use_igamma, _VALUE)
    igammac_call = _igammac_continued_fraction(ax, x, a, enabled & ~use_igamma, _VALUE)
    output = lax.select(use_igamma, _c(a, 1) - igamma_call, igammac_call)
    output = lax.select(x_is_infinity | a_is_zero, _full(output, 0), output)
    return lax.select(domain_error, _full(a, np.nan), output)


def _igamma_derivative(a, x, mode):
    zero = _c(a, 0)
    is_nan = _isnan(a) | _isnan(x)
    x_is_zero = lax.eq(x, zero)
    domain_error = lax.lt(x, zero) | lax.le(a, zero)
    use_igammac = lax.gt(x, _c(x, 1)) & lax.gt(x, a)
    ax, underflow = _log_ax(a, x)
    ax = lax.exp(ax)
    enabled = ~_or(x_is_zero, domain_error, underflow, is_nan)
    output = lax.select(use_igammac,
                        -_igammac_continued_fraction(ax, x, a, enabled & use_igammac, mode),
                        _igamma_series(ax, x, a, enabled & ~use_igammac, mode))
    output = lax.select(x_is_zero, _full(output, 0), output)
    return lax.select(domain_error | is_nan, _full(a, np.nan), output)


def _igamma_gradx(a, x):
    return lax.exp(-x + (a - _c(a, 1)) * lax.log(x) - lax.lgamma(a))


@custom_jvp
def _igamma(a, x):
    return _igamma_value(a, x)


@_igamma.defjvp
def _igamma_jvp(primals, tangents):
    (a, x), (a_dot, x_dot) = primals, tangents
    return _igamma(a, x), a_dot * _igamma_grad_a(a, x) + x_dot * _igamma_gradx(a, x)


@custom_jvp
def _igammac(a, x):
    return _igammac_value(a, x)


@_igammac.defjvp
def _igammac_jvp(primals, tangents):
    (a, x), (a_dot, x_dot) = primals, tangents
    return _igammac(a, x), -(a_dot * _igamma_grad_a(a, x) + x_dot * _igamma_gradx(a, x))


def _igamma_grad_a(a, x):
    return _igamma_derivative(a, x, _DERIVATIVE)


@_elementwise("igamma")
def igamma(a, x):
    """The regularized lower incomplete gamma function P(a, x)."""
    return _igamma(a, x)


@_elementwise("igammac")
def igammac(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _igammac(a, x)


@_elementwise("igamma_grad_a")
def igamma_grad_a(a, x):
    """d P(a, x) / d a."""
    return _igamma_grad_a(a, x)


@_elementwise("random_gamma_grad")
def random_gamma_grad(a, x):
    """d x / d a for a sample x of Gamma(a, 1) with its uniform fixed."""
    return _igamma_derivative(a, x, _SAMPLE_DERIVATIVE)


# ---------------------------------------------------------------------------- incomplete beta

def _lentz(num_iterations, small, threshold, numerator, denominator, inputs):
    """The continued fraction b0 + a1/(b1 + a2/(b2 + ...)) by the modified Lentz algorithm,
    until every element has converged (XLA's LentzThompsonBarnettAlgorithm)."""
    def cond(values):
        iteration, unconverged = values[0], values[1]
        return lax.lt(iteration, np.int32(num_iterations)) & unconverged

    def body(values):
        iteration, _, c, d, h = values
        partial_numerator = numerator(iteration, *inputs)
        partial_denominator = denominator(iteration, *inputs)
        small_c = _c(c, small)
        c = partial_denominator + partial_numerator / c
        c = lax.select(lax.lt(lax.abs(c), small_c), _full(c, small), c)
        d = partial_denominator + partial_numerator * d
        d = lax.select(lax.lt(lax.abs(d), small_c), _full(d, small), d)
        d = _c(d, 1) / d
        delta = c * d
        h = h * delta
        unconverged = _any(lax.ge(lax.abs(delta - _c(delta, 1)), _c(delta, threshold)))
        return iteration + np.int32(1), unconverged, c, d, h

    partial_denominator = denominator(np.int32(0), *inputs)
    h = lax.select(lax.lt(lax.abs(partial_denominator), _c(partial_denominator, small)),
                   _full(partial_denominator, small), partial_denominator)
    values = (np.int32(1), np.bool_(True), h, _full(h, 0), h)
    return lax.while_loop(cond, body, values)[4]


def _betainc_numerator(iteration, a, b, x):
    """The partial numerators of http://dlmf.nist.gov/8.17.E23 (the first one is 1)."""
    shape = aval_of(a).shape
    iteration = lax.broadcast_in_dim(iteration, shape, ())
    iteration_is_even = lax.eq(lax.rem(iteration, np.int32(2)), np.int32(0))
    iteration_is_one = lax.eq(iteration, np.int32(1))
    m = lax.div(iteration - np.int32(1), np.int32(2))  # iteration >= 1: truncation is floor
    m_is_zero = lax.eq(m, np.int32(0))
    m = lax.convert_element_type(m, aval_of(a).dtype)
    one, two = _c(a, 1), _c(a, 2)
    # With a near zero and m == 0, this form avoids inaccuracies under FTZ/DAZ.
    zero_numerator = -(a + b) * x / (a + one)
    even_numerator = lax.select(m_is_zero, zero_numerator,
                                -(a + m) * (a + b + m) * x / ((a + two * m) * (a + two * m + one)))
    odd_numerator = m * (b - m) * x / ((a + two * m - one) * (a + two * m))
    numerator = lax.select(iteration_is_even, even_numerator, odd_numerator)
    return lax.select(iteration_is_one, _full(x, 1), numerator)


def _betainc_denominator(iteration, a, b, x):
    shape = aval_of(x).shape
    is_zero = lax.broadcast_in_dim(lax.eq(iteration, np.int32(0)), shape, ())
    return lax.select(is_zero, _full(x, 0), _full(x, 1))


def _betainc_value(a, b, x):
    dtype = aval_of(a).dtype
    zero, one, inf = _c(a, 0), _c(a, 1), _c(a, np.inf)
    a_is_zero = lax.eq(a, zero) | lax.eq(b, inf)
    b_is_zero = lax.eq(b, zero) | lax.eq(a, inf)
    x_is_zero, x_is_one = lax.eq(x, zero), lax.eq(x, one)
    is_nan = _or(_isnan(a), _isnan(b), _isnan(x))
    result_is_zero = (b_is_zero & ~x_is_one) | (a_is_zero & x_is_zero)
    result_is_one = (a_is_zero & ~x_is_zero) | (b_is_zero & x_is_one)
    result_is_nan = _or(lax.lt(a, zero), lax.lt(b, zero), lax.lt(x, zero), lax.gt(x, one),
                        a_is_zero & b_is_zero, is_nan)
    # The fraction converges rapidly for x < (a + 1) / (a + b + 2) (http://dlmf.nist.gov/8.17.E23);
    # elsewhere use I_x(a, b) = 1 - I_(1-x)(b, a) (http://dlmf.nist.gov/8.17.E4).
    converges_rapidly = lax.lt(x, (a + one) / (a + b + _c(b, 2)))
    a, b = lax.select(converges_rapidly, a, b), lax.select(converges_rapidly, b, a)
    x = lax.select(converges_rapidly, x, one - x)
    eps = np.finfo(dtype).eps / 2
    fraction = _lentz(200 if dtype == np.float32 else 600, eps, eps, _betainc_numerator,
                      _betainc_denominator, (a, b, x))
    # For very small a, a * Gamma(a) = Gamma(a + 1) -> 1 avoids dividing by zero.
    very_small = _c(a, np.finfo(dtype).tiny * 2)
    lbeta_small_a = lax.lgamma(b) - lax.lgamma(a + b)
    lbeta = lax.lgamma(a) + lbeta_small_a
    factor = lax.select(lax.lt(a, very_small),
                        lax.exp(lax.log1p(-x) * b - lbeta_small_a),
                        lax.exp(lax.log(x) * a + lax.log1p(-x) * b - lbeta) / a)
    result = fraction * factor
    result = lax.select(converges_rapidly, result, one - result)
    result = lax.select(result_is_zero, _full(a, 0), result)
    result = lax.select(result_is_one, _full(a, 1), result)
    return lax.select(result_is_nan, _full(a, np.nan), result)


@custom_jvp
def _betainc(a, b, x):
    return _betainc_value(a, b, x)


@_betainc.defjvp
def _betainc_jvp(primals, tangents):
    # JAX differentiates betainc in x only; the tangents of a and b are dropped.
    (a, b, x), (_, _, x_dot) = primals, tangents
    lbeta = lax.lgamma(a) + lax.lgamma(b) - lax.lgamma(a + b)
    partial_x = lax.exp((b - _c(b, 1)) * lax.log1p(-x) + (a - _c(a, 1)) * lax.log(x) - lbeta)
    return _betainc(a, b, x), partial_x * x_dot


@_elementwise("betainc")
def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b)."""
    return _betainc(a, b, x)


# ---------------------------------------------------------------------------- zeta, polygamma
_ZETA_COEFFS = (-7.1661652561756670113e18, 1.8152105401943546773e17, -4.5979787224074726105e15,
                1.1646782814350067249e14, -2.950130727918164224e12, 7.47242496e10,
                -1.8924375803183791606e9, 47900160.0, -1209600.0, 30240.0, -720.0, 12.0)


def _zeta_value(x, q):
    """Hurwitz's zeta(x, q): 9 terms of the sum, then Euler-Maclaurin with 12 terms (XLA's
    decomposition, Horner's rule where Cephes sums naively)."""
    one, zero = _c(x, 1), _c(x, 0)
    neg_x = -x
    a = q
    initial_sum = lax.pow(q, neg_x)
    for _ in range(9):
        a = a + one
        initial_sum = initial_sum + lax.pow(a, neg_x)
    a = a + one
    neg_power = lax.pow(a, neg_x)
    s = initial_sum + neg_power * a / (x - one)
    a_inverse_square = one / (a * a)
    horner_sum = _full(x, 0)
    for i in range(11):
        factor = (x + _c(x, 22 - 2 * i)) * (x + _c(x, 21 - 2 * i))
        horner_sum = factor * (a_inverse_square * (horner_sum + _c(x, 1 / _ZETA_COEFFS[i])))
    s = s + neg_power * (_c(x, 0.5) + x / a * (_c(x, 1 / _ZETA_COEFFS[11]) + horner_sum))
    # The sum alone where the correction is below the smallest subnormal: XLA:CPU flushes the
    # subnormal threshold to zero, and so does this.
    threshold = lax.abs(initial_sum) * _c(x, _finfo(x).smallest_subnormal)
    threshold = lax.select(lax.lt(threshold, _c(x, _finfo(x).smallest_normal)), _full(x, 0), threshold)
    output = lax.select(lax.lt(lax.abs(neg_power), threshold), initial_sum, s)
    nan, inf = _full(x, np.nan), _full(x, np.inf)
    output = lax.select(lax.lt(x, one), nan, output)  # undefined for x < 1
    q_le_zero = lax.le(q, zero)
    x_is_int = lax.eq(x, lax.floor(x))
    output = lax.select(q_le_zero & ~x_is_int, nan, output)  # q <= 0 needs an integer x
    # Poles at integer q <= 0: +inf for even integer x, else undefined.
    at_pole = q_le_zero & lax.eq(q, lax.floor(q))
    x_is_even_int = x_is_int & lax.eq(lax.rem(x, _c(x, 2)), zero)
    output = lax.select(at_pole, lax.select(x_is_even_int, inf, nan), output)
    return lax.select(lax.eq(x, one), inf, output)  # the harmonic series diverges


@_elementwise("zeta")
def zeta(x, q):
    """The Hurwitz zeta function sum_k (q + k) ** -x."""
    return _zeta_value(x, q)


def _polygamma_value(m, x):
    one, two, zero = _c(x, 1), _c(x, 2), _c(x, 0)
    sign = two * lax.rem(m, two) - one
    m_plus_one = m + one
    result = sign * lax.exp(lax.lgamma(m_plus_one)) * _zeta_value(m_plus_one, x)
    result = lax.select(lax.eq(m, zero), lax.digamma(x), result)
    non_natural = lax.ne(m, lax.floor(m)) | lax.lt(m, zero)
    return lax.select(non_natural, _full(x, np.nan), result)


@custom_jvp
def _polygamma(m, x):
    return _polygamma_value(m, x)


@_polygamma.defjvp
def _polygamma_jvp(primals, tangents):
    # JAX differentiates polygamma in x only.
    (m, x), (_, x_dot) = primals, tangents
    return _polygamma(m, x), _polygamma(m + _c(m, 1), x) * x_dot


@_elementwise("polygamma")
def polygamma(m, x):
    """The m-th derivative of digamma, psi^(m)(x)."""
    return _polygamma(m, x)


# ---------------------------------------------------------------------------- Bessel functions
# Cephes's Chebyshev coefficients for exp(-|x|) I0(x) and exp(-|x|) I1(x), on [0, 8] (A) and
# (8, inf) (B), in float32 and float64.
_I0E_A32 = (-1.30002500998624804212E-8, 6.04699502254191894932E-8, -2.67079385394061173391E-7,
            1.11738753912010371815E-6, -4.41673835845875056359E-6, 1.64484480707288970893E-5,
            -5.75419501008210370398E-5, 1.88502885095841655729E-4, -5.76375574538582365885E-4,
            1.63947561694133579842E-3, -4.32430999505057594430E-3, 1.05464603945949983183E-2,
            -2.37374148058994688156E-2, 4.93052842396707084878E-2, -9.49010970480476444210E-2,
            1.71620901522208775349E-1, -3.04682672343198398683E-1, 6.76795274409476084995E-1)
_I0E_B32 = (3.39623202570838634515E-9, 2.26666899049817806459E-8, 2.04891858946906374183E-7,
            2.89137052083475648297E-6, 6.88975834691682398426E-5, 3.36911647825569408990E-3,
            8.04490411014108831608E-1)
_I0E_A64 = (-4.41534164647933937950E-18, 3.33079451882223809783E-17, -2.43127984654795469359E-16,
            1.71539128555513303061E-15, -1.16853328779934516808E-14, 7.67618549860493561688E-14,
            -4.85644678311192946090E-13, 2.95505266312963983461E-12, -1.72682629144155570723E-11,
            9.67580903537323691224E-11, -5.18979560163526290666E-10, 2.65982372468238665035E-9) + _I0E_A32
_I0E_B64 = (-7.23318048787475395456E-18, -4.83050448594418207126E-18, 4.46562142029675999901E-17,
            3.46122286769746109310E-17, -2.82762398051658348494E-16, -3.42548561967721913462E-16,
            1.77256013305652638360E-15, 3.81168066935262242075E-15, -9.55484669882830764870E-15,
            -4.15056934728722208663E-14, 1.54008621752140982691E-14, 3.85277838274214270114E-13,
            7.18012445138366623367E-13, -1.79417853150680611778E-12, -1.32158118404477131188E-11,
            -3.14991652796324136454E-11, 1.18891471078464383424E-11, 4.94060238822496958910E-10) + _I0E_B32
_I1E_A32 = (9.38153738649577178388E-9, -4.44505912879632808065E-8, 2.00329475355213526229E-7,
            -8.56872026469545474066E-7, 3.47025130813767847674E-6, -1.32731636560394358279E-5,
            4.78156510755005422638E-5, -1.61760815825896745588E-4, 5.12285956168575772895E-4,
            -1.51357245063125314899E-3, 4.15642294431288815669E-3, -1.05640848946261981558E-2,
            2.47264490306265168283E-2, -5.29459812080949914269E-2, 1.02643658689847095384E-1,
            -1.76416518357834055153E-1, 2.52587186443633654823E-1)
_I1E_B32 = (-3.83538038596423702205E-9, -2.63146884688951950684E-8, -2.51223623787020892529E-7,
            -3.88256480887769039346E-6, -1.10588938762623716291E-4, -9.76109749136146840777E-3,
            7.78576235018280120474E-1)
_I1E_A64 = (2.77791411276104639959E-18, -2.11142121435816608115E-17, 1.55363195773620046921E-16,
            -1.10559694773538630805E-15, 7.60068429473540693410E-15, -5.04218550472791168711E-14,
            3.22379336594557470981E-13, -1.98397439776494371520E-12, 1.17361862988909016308E-11,
            -6.66348972350202774223E-11, 3.62559028155211703701E-10, -1.88724975172282928790E-9) + _I1E_A32
_I1E_B64 = (7.51729631084210481353E-18, 4.41434832307170791151E-18, -4.65030536848935832153E-17,
            -3.20952592199342395980E-17, 2.96262899764595013876E-16, 3.30820231092092828324E-16,
            -1.88035477551078244854E-15, -3.81440307243700780478E-15, 1.04202769841288027642E-14,
            4.27244001671195135429E-14, -2.10154184277266431302E-14, -4.08355111109219731823E-13,
            -7.19855177624590851209E-13, 2.03562854414708950722E-12, 1.41258074366137813316E-11,
            3.25260358301548823856E-11, -1.89749581235054123450E-11, -5.58974346219658380687E-10) + _I1E_B32


def _chebyshev(x, coefficients):
    b0, b1, b2 = _full(x, 0), _full(x, 0), _full(x, 0)
    for c in coefficients:
        b2, b1 = b1, b0
        b0 = x * b1 - b2 + _c(x, c)
    return _c(x, 0.5) * (b0 - b2)


def _bessel_parts(x, coeffs_a, coeffs_b):
    """The Chebyshev series on [0, 8] and on (8, inf) at |x|."""
    z = lax.abs(x)
    small = _chebyshev(_c(x, 0.5) * z - _c(x, 2), coeffs_a)
    large = _chebyshev(_c(x, 32) / z - _c(x, 2), coeffs_b) / lax.sqrt(z)
    return z, small, large


def _i0e_value(x):
    wide = aval_of(x).dtype == np.float64
    z, small, large = _bessel_parts(x, _I0E_A64 if wide else _I0E_A32, _I0E_B64 if wide else _I0E_B32)
    return lax.select(lax.le(z, _c(z, 8)), small, large)


def _i1e_value(x):
    wide = aval_of(x).dtype == np.float64
    z, small, large = _bessel_parts(x, _I1E_A64 if wide else _I1E_A32, _I1E_B64 if wide else _I1E_B32)
    return lax.sign(x) * lax.select(lax.le(z, _c(z, 8)), z * small, large)


@custom_jvp
def _i0e(x):
    return _i0e_value(x)


@_i0e.defjvp
def _i0e_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    y = _i0e(x)
    return y, x_dot * (_i1e(x) - lax.sign(x) * y)


@custom_jvp
def _i1e(x):
    return _i1e_value(x)


@_i1e.defjvp
def _i1e_jvp(primals, tangents):
    (x,), (x_dot,) = primals, tangents
    y = _i1e(x)
    eps = _c(x, _finfo(x).eps)
    not_tiny = lax.gt(lax.abs(x), eps)
    safe_x = lax.select(not_tiny, x, _full(x, eps))
    dy_dx = _i0e(safe_x) - y * (lax.sign(safe_x) + _c(x, 1) / safe_x)
    return y, x_dot * lax.select(not_tiny, dy_dx, _full(x, 0.5))


@_elementwise("bessel_i0e")
def bessel_i0e(x):
    """exp(-|x|) I0(x), the exponentially scaled modified Bessel function of order 0."""
    return _i0e(x)


@_elementwise("bessel_i1e")
def bessel_i1e(x):
    """exp(-|x|) I1(x), the exponentially scaled modified Bessel function of order 1."""
    return _i1e(x)
