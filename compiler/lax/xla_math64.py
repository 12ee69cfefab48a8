"""float64 exp, expm1, tanh, logistic, log1p, erfc, lgamma, digamma and erf_inv as XLA:CPU
computes them, bit for bit, in NumPy (the float32 functions and the method are in
`kiln.lax.xla_math`).

XLA emits its own instruction sequences for these (its log, sin, cos, tan, atan, atan2 and cbrt
are the C library's), compiled with `-ffp-contract=fast`:

- exp: Cephes' exp: x clamped to [EXP_LO, EXP_HI], n = floor(x log2(e) + 1/2), g = x - n ln2
  in two fused steps, e**g = 1 + 2 g P(g**2) / (Q(g**2) - g P(g**2)) (a Pade form), scaled by
  2**b three times and 2**(n - 3b) once (b = n >> 2, n within +-2099); 0 below EXP_LO, inf
  above EXP_HI. Inside a fusion the last product may fuse into what follows (logistic).
- tanh: the odd rational x P(x**2) / Q(x**2) of degree 19 over 18, x clamped to +-17.7,
  +-1 from |x| = 20 on; unlike float32's, no branch for small |x|.
- expm1, logistic: float32's formulas (`xla_math.expm1_32`, `logistic32`) with these.
- log1p: Cephes' x - x**2/2 + x**3 P(x)/Q(x) below sqrt(2) - 1 (Q started as x * 0 + 1 and
  P as x * 0 + P0, unfused), above log(1 + x) by the C library's log.
- erfc: Cephes' ndtr.c rational functions (below);
- lgamma, digamma: float32's Lanczos approximation in float64 (below), with the C library's
  log, sin and cos;
- erf_inv: Giles' polynomials in w = -log1p(-x**2) (`xla_math.ERF_INV64_*`).

`fma64` is an exactly rounded float64 fused multiply-add (Boldo and Melquiond's emulation by
rounding to odd); like `xla_math.fma32`, it is only used with finite operands whose product
is well inside the normal range.
"""
from __future__ import annotations

import numpy as np

from kiln.lax.host_libm import libm
from kiln.lax.xla_math import ERF_INV64_6_25, ERF_INV64_16, ERF_INV64_LARGE

F64 = np.float64
_TINY = np.finfo(F64).tiny


def bits64(h: int) -> np.float64:
    """The float64 with bit pattern `h`."""
    return np.array([h], np.uint64).view(F64)[0]


def _f64(x):
    return np.asarray(x, F64)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    """Veltkamp's split: hi + lo == a, each with at most 26 significant bits."""
    t = a * F64(134217729.0)  # 2**27 + 1
    hi = t - (t - a)
    return hi, a - hi


def fma64(a, b, c):
    """a * b + c on float64 values with one rounding: a * b = p + p_err exactly (Dekker), c + p
    = s + s_err exactly (Knuth), and s_err + p_err rounded to odd before the last addition."""
    a, b, c = np.broadcast_arrays(_f64(a), _f64(b), _f64(c))
    with np.errstate(all="ignore"):
        p = a * b
        ah, al = _split(a)
        bh, bl = _split(b)
        p_err = (((ah * bh - p) + ah * bl) + al * bh) + al * bl
        s, s_err = _two_sum(c, p)
        low, low_err = _two_sum(s_err, p_err)
        inexact_even = (low_err != 0) & ((low.view(np.int64) & 1) == 0)
        low = np.where(inexact_even, np.nextafter(low, np.where(low_err > 0, np.inf, -np.inf)), low)
        out = np.where(low == 0, s, s + low)  # s keeps the sign of an exact zero
        return np.where(np.isfinite(out), out, p + c)


def _horner(x, coefficients, fused=True):
    acc = np.full(np.shape(x), coefficients[0], F64)
    for c in coefficients[1:]:
        acc = fma64(acc, x, c) if fused else acc * x + c
    return acc


# ---------------------------------------------------------------------------- exp

EXP_HI, EXP_LO = bits64(0x40862E42FEFA39EF), bits64(0xC086232BDD7ABCD2)  # 709.78, -708.40
LOG2E = bits64(0x3FF71547652B82FE)
LN2_HI, LN2_LO = bits64(0x3FE62E4000000000), bits64(0x3EB7F7D1CF79ABCA)  # n * LN2_HI is exact
EXP_P = (bits64(0x3F2089CDD5E44BE8), bits64(0x3F9F06D10CCA2C7E), 1.0)
EXP_Q = (bits64(0x3EC92EB6BC365FA0), bits64(0x3F64AE39B508B6C0), bits64(0x3FCD17099887E074), 2.0)


def _pow2(k):
    return ((k.astype(np.int64) + 1023) << 52).view(F64)


def exp_parts64(x):
    """(y, s) with XLA's exp(x) = y * s, s the last power of two (see above); y holds the
    other three. Selects for x below EXP_LO and above EXP_HI are the caller's."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        xc = np.clip(x, EXP_LO, EXP_HI)
        n = np.floor(fma64(xc, LOG2E, 0.5))
        g = fma64(-n, LN2_LO, fma64(-n, LN2_HI, xc))
        gg = g * g
        p = fma64(fma64(gg, EXP_P[0], EXP_P[1]), gg, EXP_P[2]) * g
        q = _horner(gg, EXP_Q)
        y = fma64(p / (q - p), 2.0, 1.0)
        k = np.clip(np.nan_to_num(n), -2099, 2099).astype(np.int64)
        b = k >> 2
        y = y * _pow2(b) * _pow2(b) * _pow2(b)
        return np.where(np.isnan(x), x, y), _pow2(k - 3 * b)


def exp_limits(x, out, below, above):
    out = np.where(x < EXP_LO, below, out)
    return np.where(x > EXP_HI, above, out)


def exp64(x):
    x = _f64(x)
    y, s = exp_parts64(x)
    with np.errstate(all="ignore"):
        return exp_limits(x, y * s, 0.0, np.inf)


# ---------------------------------------------------------------------------- tanh, expm1, logistic

TANH_CLAMP = bits64(0x4031B6D58F246197)  # 17.714
TANH_P = tuple(bits64(h) for h in (0x3B3F9F82E5D782DF, 0x3C2C3C836C04B4C8, 0x3CEC3379F905E662,
                                   0x3D929AFF6C8EDD96, 0x3E2525A389DCE7C2, 0x3EA708819BE51CD9,
                                   0x3F18996F4026A7FA, 0x3F787F80B957ED00, 0x3FC36FBA9B450E5A)) + (1.0,)
TANH_Q = tuple(bits64(h) for h in (0x3BBE8630CF903250, 0x3C90AABCA9A5FEA0, 0x3D4232981AA2BBA8,
                                   0x3DDEE2F015EA8065, 0x3E681F1947C52304, 0x3EE26C82AB46D140,
                                   0x3F4B2E7C4D488C04, 0x3FA1998830265B50, 0x3FDF0D32A2F7DC79)) + (1.0,)


def tanh64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        xc = np.clip(x, -TANH_CLAMP, TANH_CLAMP)
        x2 = xc * xc
        out = xc * _horner(x2, TANH_P) / _horner(x2, TANH_Q)
        return np.where(np.abs(x) >= 20, np.copysign(1.0, x), out)


def expm1_64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        y, s = exp_parts64(x)
        e = exp_limits(x, y * s, 0.0, np.inf)
        half = x * 0.5
        out = np.where(np.abs(x) > 0.5, e - 1.0, tanh64(half) * (e + 1.0))
        return np.where(np.abs(half) < _TINY, x, out)


def logistic64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        y, s = exp_parts64(-x)
        out = 1.0 / fma64(y, s, 1.0)
        return exp_limits(-x, out, 1.0, 0.0)


# ---------------------------------------------------------------------------- erfc

# JAX's float64 erfc (Cephes' ndtr.c): 1 - x P(x**2)/Q(x**2) below |x| = 1, above
# e**-x**2 P(|x|)/Q(|x|) on [1, 8) and beyond (Q monic), 0 where -x**2 < -709.78, 2 - that
# below 0; each mul + add a fused step.
ERFC_P_SMALL = (9.6049737398705162, 90.026019720384269, 2232.0053459468431, 7003.3251411280507,
                55592.301301039493)
ERFC_Q_SMALL = (33.561714164750313, 521.35794978015269, 4594.3238297098014, 22629.000061389095,
                49267.394260863592)
ERFC_P_MID = (2.4619698147353052e-10, 0.56418956483106886, 7.4632105644226989, 48.637197098568137,
              196.5208329560771, 526.44519499547732, 934.52852717195765, 1027.5518868951572,
              557.53533536939938)
ERFC_Q_MID = (13.228195115474499, 86.707214088598974, 354.93777888781989, 975.70850174320549,
              1823.9091668790973, 2246.3376081871097, 1656.6630919416134, 557.53534081772773)
ERFC_P_LARGE = (0.56418958354775506, 1.275366707599781, 5.0190504225118051, 6.160210979930536,
                7.4097426995044895, 2.9788666537210022)
ERFC_Q_LARGE = (2.2605286322011726, 9.3960352493800148, 12.048953980809666, 17.081445074756591,
                9.6089680906328585, 3.3690764510008151)


def _monic(x, coefficients):
    """Horner's rule with an implicit leading 1: (x + c0) x + c1 ..., fused from the second step."""
    acc = x + coefficients[0]
    for c in coefficients[1:]:
        acc = fma64(acc, x, c)
    return acc


def erfc64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        a = np.abs(x)
        x2 = x * x
        small = 1.0 - (x * _horner(x2, ERFC_P_SMALL)) / _monic(x2, ERFC_Q_SMALL)
        y, s = exp_parts64(-x2)
        e = exp_limits(-x2, y * s, 0.0, np.inf)
        mid = (e * _horner(a, ERFC_P_MID)) / _monic(a, ERFC_Q_MID)
        large = (e * _horner(a, ERFC_P_LARGE)) / _monic(a, ERFC_Q_LARGE)
        z = np.where(-x2 < -709.782712893384, 0.0, np.where(a < 8, mid, large))
        return np.where(a < 1, small, np.where(x < 0, 2.0 - z, z))


# ---------------------------------------------------------------------------- lgamma, digamma

# float32's Lanczos approximation (`xla_math.lgamma32`, `digamma32`) in float64: the leading
# coefficient first, then the eight terms' numerators
LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
           -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-06,
           1.5056327351493116e-07)
INV_G_HALF, LOG_G_HALF = 0.13333333333333333, 2.0149030205422647  # 1 / 7.5, log(7.5)
LOG_SQRT_2PI, LOG_PI = 0.91893853320467267, 1.1447298858494002


def _lanczos_z(x):
    return np.where(x < 0.5, -x, x + -1.0)


def _log_t(z):
    return log1p64(z * INV_G_HALF) + LOG_G_HALF


def lgamma64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        z = _lanczos_z(x)
        s = LANCZOS[1] / (z + 1.0) + LANCZOS[0]
        for i, c in enumerate(LANCZOS[2:], start=2):
            s = s + c / (z + i)
        log_t = _log_t(z)
        w = (z + 0.5) - (z + 7.5) / log_t
        log_y = fma64(w, log_t, LOG_SQRT_2PI) + libm("log", s)
        a = np.abs(x)
        frac = a - np.floor(a)
        frac = np.where(0.5 < frac, 1.0 - frac, frac)
        log_sin = libm("log", libm("sin", frac * np.pi))
        reflection = np.where(np.isfinite(log_sin), (LOG_PI - log_sin) - log_y, -log_sin)
        out = np.where(x < 0.5, reflection, log_y)
        return np.where(a == np.inf, np.inf, out)


def digamma64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        z = _lanczos_z(x)
        num = np.zeros_like(z)
        den = LANCZOS[1] / (z + 1.0) + LANCZOS[0]
        for i, c in enumerate(LANCZOS[1:], start=1):
            zi = z + i
            num = num - c / (zi * zi)
            if i > 1:
                den = den + c / zi
        y = (_log_t(z) + num / den) - 7.0 / (z + 7.5)
        pi_r = (x + np.abs(np.floor(x + 0.5))) * np.pi
        cot = (libm("cos", pi_r) * np.pi) / libm("sin", pi_r)
        out = np.where(x < 0.5, y - cot, y)
        return np.where((x <= 0) & (np.floor(x) == x), np.nan, out)


# ---------------------------------------------------------------------------- log1p, erf_inv

LOG1P_SMALL = bits64(0x3FDA827999FCEF32)  # sqrt(2) - 1
LOG1P_NUM = tuple(bits64(h) for h in (0x3F07BC0962B395CA, 0x3FDFE818A0FE1A83, 0x401A509F46F4FA53,
                                      0x403DE9738B8CB9C9, 0x404E798EB86C3351, 0x404C8E7597479A10,
                                      0x40340A202D99830A))
LOG1P_DEN = tuple(bits64(h) for h in (0x402E20359E903E37, 0x4054C30B52213498, 0x406BB86590FCFB56,
                                      0x407351945DC908A5, 0x406B0DB13E48E066, 0x404E0F304466448E))


def log1p64(x, log=None, square_shared=False):
    """`log`: the C library's float64 log by default; `square_shared` as in
    `xla_math.log1p32`."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        big = (log or _libm_log)(x + 1.0)
        zero = x * 0.0
        num = zero + LOG1P_NUM[0]
        for c in LOG1P_NUM[1:]:
            num = fma64(num, x, c)
        den = zero + 1.0
        for c in LOG1P_DEN:
            den = fma64(den, x, c)
        x2 = x * x
        x3, ratio = x * x2, num / den
        tail = fma64(x3, ratio, x2 * -0.5) if square_shared else fma64(x2, -0.5, x3 * ratio)
        return np.where(np.abs(x) < LOG1P_SMALL, x + tail, big)


def _libm_log(x):
    return libm("log", x)


def erf_inv64(x):
    x = _f64(x)
    with np.errstate(all="ignore"):
        w = -log1p64(x * -x)
        lt_6_25, lt_16 = w < 6.25, w < 16.0
        root = np.sqrt(w)
        out = np.where(lt_6_25, _horner(w - 3.125, ERF_INV64_6_25),
                       np.where(lt_16, _horner(root - 3.25, ERF_INV64_16),
                                _horner(root - 5.0, ERF_INV64_LARGE))) * x
        return np.where(np.abs(x) == 1, np.copysign(np.inf, x), out)
