"""kiln.scipy.special: jax.scipy.special's functions, with JAX's algorithms (so that values agree
with JAX's to a few ulps): logsumexp, gammaln, erf, ndtr, gammainc, betainc, zeta, i0e, ...

The incomplete gamma and beta functions, zeta, polygamma and the Bessel functions are
kiln.lax's (compiler/lax/special.py); the rest is composed here from kiln.lax and kiln.numpy
operations, with JAX's custom derivatives where JAX has them."""
from __future__ import annotations

import functools

import numpy as np

from kiln import lax
from kiln import numpy as knp
from kiln.custom_derivatives import custom_jvp
from kiln.lax import elementwise as ew
from kiln.numpy.core import promote_inexact
from kiln.primitives import bind


def _unary(p):
    def fn(x):
        (x,) = promote_inexact(x)
        return bind(p, x)
    fn.__name__ = p.name
    return fn


erf = _unary(ew.erf_p)
erfc = _unary(ew.erfc_p)
erfinv = _unary(ew.erf_inv_p)
gammaln = _unary(ew.lgamma_p)
digamma = _unary(ew.digamma_p)
expit = _unary(ew.logistic_p)


def logit(x):
    (x,) = promote_inexact(x)
    return knp.log(x / (1 - x))


def multigammaln(a, d):
    (a,) = promote_inexact(a)
    d = int(d)
    constant = 0.25 * d * (d - 1) * np.log(np.pi)
    terms = knp.stack([gammaln(a - 0.5 * j) for j in range(d)], axis=-1) if d else knp.zeros(a.shape + (0,), a.dtype)
    return knp.sum(terms, axis=-1) + np.asarray(constant, a.dtype)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    from kiln.lax import stop_gradient
    if b is not None:
        a, b = promote_inexact(a, b)
    else:
        (a,) = promote_inexact(a)
    # The shift by the maximum cancels out of the value, so it carries no gradient: without
    # stop_gradient, reverse mode would differentiate reduce_max for nothing.
    top = knp.max(a, axis, where=where, initial=-np.inf, keepdims=True)  # -inf: empty works
    top = stop_gradient(knp.where(knp.isfinite(top), top, 0))
    exps = knp.exp(a - top)
    if b is not None:
        exps = exps * b
    total = knp.sum(exps, axis, where=where, keepdims=True)
    signed = b is not None or return_sign  # only weights can make the sum negative
    out = knp.log(knp.abs(total) if signed else total) + top
    sign = knp.sign(total) if signed else None
    if not keepdims:
        axes = tuple(range(a.ndim)) if axis is None else axis
        out = knp.squeeze(out, axes)
        sign = knp.squeeze(sign, axes) if signed else None
    return (out, sign) if return_sign else out


@custom_jvp
def xlogy(x, y):
    """x log y, 0 where x == 0 (NaN in y still propagates, as in SciPy)."""
    x, y = promote_inexact(x, y)
    return knp.where((x == 0) & ~knp.isnan(y), knp.zeros_like(x), x * lax.log(y))


@custom_jvp
def xlog1py(x, y):
    """x log(1 + y), 0 where x == 0 (NaN in y still propagates, as in SciPy)."""
    x, y = promote_inexact(x, y)
    return knp.where((x == 0) & ~knp.isnan(y), knp.zeros_like(x), x * lax.log1p(y))


# d(x log u) = log(u) dx + x / u du, with u = y or 1 + y.
@xlogy.defjvp
def _xlogy_jvp(primals, tangents):
    x, y = promote_inexact(*primals)
    x_dot, y_dot = tangents
    return xlogy(x, y), (lax.log(y) * x_dot + (x / y) * y_dot).astype(x.dtype)


@xlog1py.defjvp
def _xlog1py_jvp(primals, tangents):
    x, y = promote_inexact(*primals)
    x_dot, y_dot = tangents
    return xlog1py(x, y), (lax.log1p(y) * x_dot + (x / (y + 1)) * y_dot).astype(x.dtype)


# ---------------------------------------------------------------------------- helpers

def _promote_real(name, *args):
    """promote_inexact, refusing complex values as JAX's real-only functions do."""
    args = promote_inexact(*args)
    if args and np.dtype(args[0].dtype).kind == "c":
        raise ValueError(f"{name} does not support complex-valued inputs.")
    return args


def _float_only(name, x):
    """JAX's ndtr, ndtri, log_ndtr and spence take float32 and float64 arrays only."""
    x = knp.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"x.dtype={x.dtype} is not supported, see docstring for supported types.")
    return x


# ---------------------------------------------------------------------------- softmax

def softmax(x, /, *, axis=None):
    from kiln import nn
    return nn.softmax(x, axis=axis)


def log_softmax(x, /, *, axis=None):
    from kiln import nn
    return nn.log_softmax(x, axis=axis)


# ---------------------------------------------------------------------------- normal distribution

def ndtr(x):
    """The standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2 (accurate in both tails)."""
    x = _float_only("ndtr", x)
    return _ndtr(x)


def _ndtr(x):
    return 0.5 * lax.erfc(x * -np.sqrt(0.5).astype(x.dtype))


# Cephes ndtri's rational approximations (coefficients highest degree first; each Q has an
# implicit leading 1). Central: x = sqrt(2 pi) (w + w^3 P(w^2) / Q(w^2)) with w = p - 1/2, for
# exp(-2) < p < 1 - exp(-2). Tails: with z = sqrt(-2 log p) and u = 1 / z, -x = z - log(z) / z
# - u P(u) / Q(u), one pair of polynomials for z < 8 and another beyond.
_CENTRAL = ((-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1,
             1.39312609387279679503E1, -1.23916583867381258016E0),
            (1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1,
             -2.25462687854119370527E2, 2.00260212380060660359E2, -8.20372256168333339912E1,
             1.59056225126211695515E1, -1.18331621121330003142E0))
_TAIL_NEAR = ((4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1,
               4.40805073893200834700E1, 1.46849561928858024014E1, 2.18663306850790267539E0,
               -1.40256079171354495875E-1, -3.50424626827848203418E-2, -8.57456785154685413611E-4),
              (1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1,
               1.50425385692907503408E1, 2.50464946208309415979E0, -1.42182922854787788574E-1,
               -3.80806407691578277194E-2, -9.33259480895457427372E-4))
_TAIL_FAR = ((3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0,
              1.33303460815807542389E0, 2.01485389549179081538E-1, 1.23716634817820021358E-2,
              3.01581553508235416007E-4, 2.65806974686737550832E-6, 6.23974539184983293730E-9),
             (6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0,
              2.16236993594496635890E-1, 1.34204006088543189037E-2, 3.28014464682127739104E-4,
              2.89247864745380683936E-6, 6.79019408009981274425E-9))


def _ratio(pq, t):
    """P(t) / Q(t) by Horner's rule, Q with its leading coefficient 1 left implicit."""
    num_coeffs, den_coeffs = pq
    num = knp.full_like(t, num_coeffs[0])
    for c in num_coeffs[1:]:
        num = num * t + c
    den = knp.ones_like(t)
    for c in den_coeffs:
        den = den * t + c
    return num / den


def ndtri(p):
    """The inverse of ndtr (Cephes's piecewise rational approximations)."""
    p = _float_only("ndtri", p)
    return _ndtri(p)


def _ndtri(p):
    typ = p.dtype.type
    edge = typ(np.exp(-2.0))
    upper = p > 1 - edge
    tail_p = knp.where(upper, 1 - p, p)
    tail_p = knp.where(tail_p == 0, typ(0.5), tail_p)  # keeps log() finite; the ends are set below
    w = p - typ(0.5)
    central = typ(np.sqrt(2 * np.pi)) * (w + w * (w * w) * _ratio(_CENTRAL, w * w))
    z = lax.sqrt(typ(-2.0) * lax.log(tail_p))
    u = 1 / z
    correction = knp.where(z < 8, _ratio(_TAIL_NEAR, u), _ratio(_TAIL_FAR, u)) * u
    tail = z - lax.log(z) / z - correction        # -x for the lower tail
    x = knp.where(tail_p > edge, central, knp.where(upper, tail, -tail))
    return knp.where(p == 0, -typ(np.inf), knp.where(p == 1, typ(np.inf), x))


# Where log(ndtr(x)) stops being accurate: below `_LOG_NDTR_LOW` ndtr underflows (the asymptotic
# series takes over), above `_LOG_NDTR_HIGH` it rounds to 1 (log1p(-q) = -q for tiny q = ndtr(-x)).
_LOG_NDTR_LOW = {np.dtype(np.float32): -10.0, np.dtype(np.float64): -20.0}
_LOG_NDTR_HIGH = {np.dtype(np.float32): 5.0, np.dtype(np.float64): 8.0}


def log_ndtr(x, series_order=3):
    """log(ndtr(x)), accurate far into both tails."""
    if not isinstance(series_order, int):
        raise TypeError("series_order must be a Python integer.")
    if not 0 <= series_order <= 30:
        raise ValueError(f"series_order must be in [0, 30], got {series_order}.")
    x = _float_only("log_ndtr", x)
    # Passed positionally: kiln's custom_jvp does not fill in defaults of nondiff arguments.
    return _log_ndtr(x, series_order)


def _mills_series(t, order):
    """1 + sum_{n=1..order} (-1)^n (2n - 1)!! t^n, Horner's rule in t = 1 / x^2."""
    coeffs, double_factorial = [1.0], 1.0
    for n in range(1, order + 1):
        double_factorial *= 2 * n - 1
        coeffs.append((-1) ** n * double_factorial)
    acc = knp.zeros_like(t)
    for c in reversed(coeffs[1:]):
        acc = (acc + c) * t
    return 1 + acc


@functools.partial(custom_jvp, nondiff_argnums=(1,))
def _log_ndtr(x, series_order):
    low = np.asarray(_LOG_NDTR_LOW[x.dtype], x.dtype)
    high = np.asarray(_LOG_NDTR_HIGH[x.dtype], x.dtype)
    # Each branch sees an argument clamped into its own range, so that the others stay finite
    # (and their zero cotangents zero).
    right = -_ndtr(-knp.maximum(x, high))
    middle = lax.log(_ndtr(knp.minimum(knp.maximum(x, low), high)))
    # Phi(x) ~ phi(x) / -x * (1 - 1/x^2 + 3/x^4 - ...) as x -> -inf.
    x_left = knp.minimum(x, low)
    left = (-0.5 * x_left * x_left - lax.log(-x_left) - 0.5 * float(np.log(2 * np.pi))
            + lax.log(_mills_series(1 / (x_left * x_left), series_order)))
    return knp.where(x > high, right, knp.where(x > low, middle, left))


@_log_ndtr.defjvp
def _log_ndtr_jvp(series_order, primals, tangents):
    (x,), (x_dot,) = primals, tangents
    out = _log_ndtr(x, series_order)
    # d log Phi = phi / Phi dx, as exp(log phi - log Phi) so that both may underflow.
    log_phi = -0.5 * x * x - 0.5 * float(np.log(2 * np.pi))
    return out, x_dot * lax.exp(log_phi - out)


# ---------------------------------------------------------------------------- gamma and beta

def gammasgn(x):
    """The sign of Gamma(x): NaN at poles, -1 on negative intervals (odd floor) and at -0."""
    (x,) = _promote_real("gammasgn", x)
    floor_x = lax.floor(x)
    x_negative = x < 0
    nan_case = (x_negative & (x == floor_x)) | knp.isnan(x)
    minus_case = (x_negative & (floor_x % 2 != 0)) | ((x == 0) & knp.signbit(x))
    typ = x.dtype.type
    return knp.where(nan_case, typ(np.nan), knp.where(minus_case, typ(-1.0), typ(1.0)))


def loggamma(x):
    """log Gamma(x) for real x > 0 (NaN elsewhere, as JAX)."""
    (x,) = promote_inexact(x)
    if np.dtype(x.dtype).kind == "c":
        raise NotImplementedError("kiln.scipy.special.loggamma of complex values")
    return knp.where(x > 0, lax.lgamma(x), np.nan)


def gamma(x):
    (x,) = _promote_real("gamma", x)
    return gammasgn(x) * lax.exp(lax.lgamma(x))


# Stirling's series: lgamma(x) = (x - 1/2) log x - x + log(2 pi) / 2 + sum_k c_k / x^(2k - 1),
# with c_k = B_2k / (2k (2k - 1)); six terms are exact to double precision for x >= 8.
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)


def _stirling_tail(x):
    inv_sq = 1 / (x * x)
    acc = knp.zeros_like(x)
    for c in reversed(_STIRLING):
        acc = acc * inv_sq + c
    return acc / x


def _lgamma_ratio(a, b):
    """lgamma(b) - lgamma(a + b) for b >= 8, without the cancellation of subtracting them.

    From Stirling's formula for both: a - a log b - (a + b - 1/2) log1p(a / b) + the difference of
    the series' tails."""
    spread = (a + b - 0.5) * lax.log1p(a / b)
    shift = a * (lax.log(b) - 1)
    return (_stirling_tail(b) - _stirling_tail(a + b)) - (spread + shift)


def betaln(a, b):
    """log |B(a, b)| = lgamma(a) + lgamma(b) - lgamma(a + b), accurate for large arguments."""
    a, b = promote_inexact(a, b)
    small, big = knp.minimum(a, b), knp.maximum(a, b)
    direct = lax.lgamma(small) + (lax.lgamma(big) - lax.lgamma(small + big))
    big_safe = knp.maximum(big, 8)  # keeps the unused branch finite below 8
    return knp.where(big < 8, direct, lax.lgamma(small) + _lgamma_ratio(small, big_safe))


def beta(a, b):
    a, b = _promote_real("beta", a, b)
    sign = gammasgn(a) * gammasgn(b) * gammasgn(a + b)
    return sign * lax.exp(betaln(a, b))


def betainc(a, b, x):
    a, b, x = _promote_real("betainc", a, b, x)
    return lax.betainc(a, b, x)


def gammainc(a, x):
    a, x = promote_inexact(a, x)
    return lax.igamma(a, x)


def gammaincc(a, x):
    a, x = promote_inexact(a, x)
    return lax.igammac(a, x)


def factorial(n, exact=False):
    if exact:
        raise NotImplementedError("factorial with exact=True")
    (n,) = promote_inexact(n)
    return knp.where(n < 0, 0, lax.exp(lax.lgamma(n + 1)))


def comb(N, k, *, repetition=False):
    """The binomial coefficient N! / (k! (N - k)!) through lgamma; 0 unless 0 <= k <= N.

    With repetition, the number of multisets of size k from N kinds: comb(N + k - 1, k)."""
    N, k = promote_inexact(N, k)
    if repetition:
        empty = (k == 0) & (N >= 0)  # one way to choose nothing, even from nothing
        return knp.where(empty, 1.0, comb(N + k - 1, k))
    valid = (k >= 0) & (k <= N)
    n_ok, k_ok = knp.where(valid, N, 0.0), knp.where(valid, k, 0.0)
    log_value = gammaln(n_ok + 1) - gammaln(k_ok + 1) - gammaln(n_ok + 1 - k_ok)
    return knp.where(valid, lax.exp(log_value), 0.0)


@custom_jvp
def poch(z, m):
    """The rising factorial Gamma(z + m) / Gamma(z)."""
    z, m = _promote_real("poch", z, m)
    return knp.where(m == 0.0, knp.array(1, dtype=z.dtype), gamma(z + m) / gamma(z))


@poch.defjvp
def _poch_jvp(primals, tangents):
    (z, m), (z_dot, m_dot) = primals, tangents
    out = poch(z, m)
    z, m = promote_inexact(z, m)
    return out, (digamma(z + m) - digamma(z)) * out * z_dot + digamma(z + m) * out * m_dot


# ---------------------------------------------------------------------------- zeta, polygamma

def zeta(x, q=None):
    """The Hurwitz zeta function sum_k (q + k) ** -x."""
    if q is None:
        raise NotImplementedError("Riemann zeta function not implemented; pass q != None to compute "
                                  "the Hurwitz Zeta function.")
    x, q = promote_inexact(x, q)
    return lax.zeta(x, q)


def polygamma(n, x):
    """psi^(n)(x), the n-th derivative of digamma; n must be of an integer dtype."""
    n_dtype = knp.asarray(n).dtype if not isinstance(n, int) else np.dtype(int)
    if np.dtype(n_dtype).kind not in "iu":
        raise ValueError(f"Argument `n` to polygamma must be of integer type. Got dtype {np.dtype(n_dtype)}.")
    n, x = _promote_real("polygamma", n, x)
    return lax.polygamma(n, x)


# ---------------------------------------------------------------------------- Bessel functions

def i0e(x):
    (x,) = promote_inexact(x)
    return lax.bessel_i0e(x)


def i0(x):
    (x,) = promote_inexact(x)
    return lax.exp(lax.abs(x)) * lax.bessel_i0e(x)


def i1e(x):
    (x,) = promote_inexact(x)
    return lax.bessel_i1e(x)


def i1(x):
    (x,) = promote_inexact(x)
    return lax.exp(lax.abs(x)) * lax.bessel_i1e(x)


# ---------------------------------------------------------------------------- entropies

@custom_jvp
def _x_log_x(x):
    return xlogy(x, x)


@_x_log_x.defjvp
def _x_log_x_jvp(primals, tangents):
    # d(x log x) = (1 + log x) dx; a jvp of its own, as xlogy's would add x / x = NaN at 0.
    (x,), (x_dot,) = primals, tangents
    return _x_log_x(x), (1 + lax.log(x)) * x_dot


def entr(x):
    """-x log x for x >= 0, -inf below."""
    (x,) = _promote_real("entr", x)
    return knp.where(x < 0, -np.inf, -_x_log_x(x))


def rel_entr(p, q):
    """p log(p / q) for p, q > 0; 0 for p == 0 <= q; inf elsewhere."""
    p, q = _promote_real("rel_entr", p, q)
    both_gt_zero = (p > 0) & (q > 0)
    one_zero = (p == 0) & (q >= 0)
    safe_p = knp.where(both_gt_zero, p, 1)
    safe_q = knp.where(both_gt_zero, q, 1)
    log_val = _x_log_x(safe_p) - xlogy(safe_p, safe_q)
    return knp.where(both_gt_zero, log_val, knp.where(one_zero, 0, np.inf))


def kl_div(p, q):
    p, q = _promote_real("kl_div", p, q)
    return rel_entr(p, q) - p + q


def _power_transform(log_x, lmbda):
    """(x**lmbda - 1) / lmbda = expm1(lmbda log x) / lmbda, and its limit log x at lmbda = 0."""
    zero = lmbda == 0
    nonzero_lmbda = knp.where(zero, knp.ones_like(lmbda), lmbda)
    return knp.where(zero, log_x, knp.expm1(nonzero_lmbda * log_x) / nonzero_lmbda)


def boxcox(x, lmbda):
    x, lmbda = promote_inexact(x, lmbda)
    return _power_transform(knp.log(x), lmbda)


def boxcox1p(x, lmbda):
    x, lmbda = promote_inexact(x, lmbda)
    return _power_transform(knp.log1p(x), lmbda)
