"""float32 log, log1p, exp, tanh, expm1, logistic, rsqrt, pow, erf, erfc, lgamma and digamma as
XLA:CPU computes them, bit for bit, in NumPy (float64 in `xla_math64`, the functions JAX
decomposes into these in `xla_composite`).

JAX's CPU backend does not call a C library for most of these: XLA emits its own instruction
sequences (found by dumping the LLVM IR and machine code of small jitted functions with
`XLA_FLAGS=--xla_dump_to=DIR`), and LLVM compiles them with `-ffp-contract=fast`, so a
multiply whose result feeds an add becomes one fused multiply-add. Reproducing JAX's floats to
the last bit therefore means the same operations with the same fusions:

- log: Eigen's `plog_float` (Cephes' range reduction x = 2**e * m, m in [sqrt(1/2), sqrt(2)),
  and a degree-8 polynomial evaluated as three interleaved Horner chains), every mul+add fused;
- log1p: for |x| < sqrt(2) - 1 a rational approximation, x + (-x**2/2 + x**3 * P(x)/Q(x));
  above, log(1 + x) by the log above;
- exp: Cephes' reduction by ln 2 in two parts, n = floor(x * log2(e) + 1/2), a degree-5
  polynomial, and 2**n from its exponent bits;
- tanh: Eigen's rational approximation, x P(x**2) / Q(x**2) by fused Horner steps; expm1:
  e**x - 1, or tanh(x/2) (e**x + 1) below |x| = 1/2; logistic: 1 / (1 + e**-x);
- rsqrt: the CPU's `rsqrtss` estimate refined by one Newton step,
  fma(y * -0.5, fma(x * y, y, -1), y). The estimate's table differs between CPU makers and
  generations, so the estimate is taken from this CPU (a small llvmlite kernel); on other
  architectures 1/sqrt(x) stands in;
- pow: a call of the C library's powf (not SIMD), so the host's powf is called here too
  (`kiln.lax.host_libm`, as for sin, cos, tan, atan, atan2 and cbrt, which XLA calls);
- erf: Eigen's rational approximation x P(x**2) / Q(x**2) by fused Horner steps, +-1 from a
  saturation point that depends on how XLA emits it (`erf32`);
- erfc: Cephes' erfcf, 1 - x P(x**2) below 1 and exp(-x**2) / |x| times a polynomial in 1 / x**2
  above, with the exp above;
- lgamma and digamma: Lanczos' approximation (g = 7, nine terms), log and log1p as above, and
  Euler's reflection below 1/2, by calls of the C library's sinf and cosf (here through the
  same kind of llvmlite kernel as powf).

XLA runs an elementwise loop as a vectorized body and a scalar loop for what is left over.
LLVM fuses both alike, except in lgamma's reflection, where the scalar loop fuses the log of
sin(pi r) the other way round (e ln2_lo + y m**3 rounded once, where the vector body rounds
e ln2_lo first). The elements XLA leaves to its scalar loop (a single element; otherwise the
last n mod 8 of each of the parallel parts it splits a loop into, and all of an odd-length
array from about 1500 elements on) can therefore differ from `lgamma32`, the vector body's,
by an ulp: in about 4e-5 of the arguments below 1/2. (The scalar loop of asinh and acosh
differs from the vector body too: `xla_composite`.)

A standalone exp or log over a 1-d array of fewer than 16 elements is the exception: XLA
splits it into a vector of 8 and a remainder, and a remainder of 3, 5, 6 or 7 elements is a
vector that LLVM computes by calls of the C library's expf or logf. kiln does not reproduce
that: its rules cannot tell a standalone operation from one that JAX fuses with others (as in
its jitted samplers), where XLA's own sequence runs.

Where XLA:CPU's results are subnormal or its operands are, it flushes them to zero (the
MXCSR's FTZ and DAZ bits are set while XLA runs). kiln does not flush: subnormal operands and
results are computed as IEEE arithmetic gives them, and only there can these functions differ
from JAX's (log and log1p of a subnormal, exp below -87.3).

`fma32` is an exactly rounded float32 fused multiply-add: the product of two float32 values is
exact in float64, the sum is rounded once to float64 with its exact error kept (Knuth's
TwoSum), and where that rounding would make the float32 rounding a double rounding (a float64
sum exactly halfway between two float32 values) the sum is nudged towards the error first.
"""
from __future__ import annotations

import numpy as np

from kiln.lax.host_libm import libm, rsqrtss

F32 = np.float32
_TINY = F32(np.finfo(F32).tiny)


def bits32(h: int) -> np.float32:
    """The float32 with bit pattern `h`."""
    return np.array([h], np.uint32).view(F32)[0]


def horner32(v, coefficients):
    """The polynomial with `coefficients` (highest first) at v, every step one fused
    multiply-add, as XLA's sequences evaluate them."""
    acc = np.full(np.shape(v), coefficients[0], F32)
    for c in coefficients[1:]:
        acc = fma32(v, acc, c)
    return acc


def fma32(a, b, c):
    """a * b + c on float32 values with one rounding."""
    a, b, c = (np.asarray(v, F32).astype(np.float64) for v in (a, b, c))
    with np.errstate(all="ignore"):
        p = a * b
        s = p + c
        bb = s - p
        err = (p - (s - bb)) + (c - bb)
        halfway = ((s.view(np.int64) & 0x1FFFFFFF) == 0x10000000) & (err != 0) & np.isfinite(s)
        if halfway.any():
            s = np.where(halfway, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)
        return s.astype(F32)


def _f32(x):
    return np.asarray(x, F32)


# ---------------------------------------------------------------------------- log

# Cephes' logf polynomial (the constants as XLA emits them, by bit pattern), highest first.
LOG_POLY = tuple(bits32(h) for h in (0x3D9021BB, 0xBDEBD1B8, 0x3DEF251A, 0xBDFE5D4F, 0x3E11E9BF,
                                     0xBE2AAE50, 0x3E4CCEAC, 0xBE7FFFFC, 0x3EAAAAAA))
LN2_HI, LN2_LO = bits32(0x3F318000), bits32(0xB95E8083)  # 0.693359375, -2.12194440e-4
SQRT_HALF = bits32(0x3F3504F3)


def log32(x):
    x = _f32(x)
    with np.errstate(all="ignore"):
        # subnormals (flushed to zero by XLA) are scaled into the normal range first
        sub = (x > 0) & (x < _TINY)
        xs = np.where(sub, x * F32(2 ** 23), np.where(x >= _TINY, x, _TINY)).astype(F32)
        bits = xs.view(np.int32)
        e = (((bits >> 23) - 127).astype(F32) + F32(1)).astype(F32)
        m = ((bits & np.int32(-2139095041)) | np.int32(0x3F000000)).view(F32)  # [0.5, 1)
        low = m < SQRT_HALF
        e = (e - np.where(low, F32(1), F32(0)) - np.where(sub, F32(23), F32(0))).astype(F32)
        m = ((m - F32(1)) + np.where(low, m, F32(0))).astype(F32)
        m2 = (m * m).astype(F32)
        m3 = (m2 * m).astype(F32)
        p = LOG_POLY
        y0 = fma32(fma32(m, p[0], p[1]), m, p[2])
        y1 = fma32(fma32(m, p[3], p[4]), m, p[5])
        y2 = fma32(fma32(m, p[6], p[7]), m, p[8])
        y = fma32(fma32(y0, m3, y1), m3, y2)
        y = fma32(y, m3, (e * LN2_LO).astype(F32))
        out = fma32(e, LN2_HI, (fma32(F32(-0.5), m2, m) + y).astype(F32))
        out = np.where(x == F32(np.inf), x, out)
        out = np.where(x == 0, F32(-np.inf), out)
        return np.where((x < 0) | np.isnan(x), F32(np.nan), out).astype(F32)


# ---------------------------------------------------------------------------- log1p

LOG1P_SMALL = bits32(0x3ED413CD)  # sqrt(2) - 1
LOG1P_NUM = (F32(4.527e-05),) + tuple(bits32(h) for h in (0x3EFF40C5, 0x40D284FA, 0x41EF4B9C, 0x4273CC76,
                                                          0x426473AD, 0x41A05101))
LOG1P_DEN = (F32(1),) + tuple(bits32(h) for h in (0x417101AD, 0x42A6185B, 0x435DC32D, 0x439A8CA3,
                                                  0x43586D8A, 0x42707982))


def log1p32(x, one_plus_x=None, square_shared=False):
    """log1p as XLA computes it. `one_plus_x`: 1 + x as the caller's code rounds it, where XLA
    fuses the product that makes x into that add (erf_inv's 1 - t*t is fma(t, -t, 1)).
    `square_shared`: x**2 * -1/2 is shared with a log1p of -x in the same loop (atanh), so
    LLVM fuses the other product, x**3 P/Q, into their sum."""
    x = _f32(x)
    with np.errstate(all="ignore"):
        big = log32((x + F32(1)).astype(F32) if one_plus_x is None else one_plus_x)
        num = np.full(x.shape, LOG1P_NUM[0], F32)
        den = np.full(x.shape, LOG1P_DEN[0], F32)
        for n, d in zip(LOG1P_NUM[1:], LOG1P_DEN[1:]):
            num, den = fma32(num, x, n), fma32(den, x, d)
        x2 = (x * x).astype(F32)
        x3 = (x * x2).astype(F32)
        ratio = (num / den).astype(F32)
        if square_shared:
            tail = fma32(x3, ratio, (x2 * F32(-0.5)).astype(F32))
        else:
            tail = fma32(x2, F32(-0.5), (x3 * ratio).astype(F32))
        small = (x + tail).astype(F32)
        return np.where(np.abs(x) < LOG1P_SMALL, small, big).astype(F32)


# ---------------------------------------------------------------------------- exp

EXP_POLY = tuple(bits32(h) for h in (0x39506967, 0x3AB743CE, 0x3C088908, 0x3D2AA9C1, 0x3E2AAAAA, 0x3F000000))
LOG2E = bits32(0x3FB8AA3B)
EXP_HI, EXP_LO = F32(88.8), F32(-104.0)


def exp32(x):
    x = _f32(x)
    with np.errstate(all="ignore"):
        # XLA clamps to [-87.8, 88.8] and n to [-127, 127]; below -87.3 its results are
        # subnormal and flushed. Here n goes down to -150 and 2**n is applied in two factors,
        # so that subnormal results are right; the normal range is unchanged.
        xc = np.clip(x, EXP_LO, EXP_HI).astype(F32)
        n = np.floor(fma32(xc, LOG2E, F32(0.5))).astype(F32)
        n = np.maximum(n, F32(-150)).astype(F32)
        n = np.minimum(n, F32(127)).astype(F32)
        r = fma32(-LN2_HI, n, xc)
        r = fma32(-LN2_LO, n, r)
        p = horner32(r, EXP_POLY)
        y = (fma32(p, (r * r).astype(F32), r) + F32(1)).astype(F32)
        k = np.nan_to_num(n).astype(np.int32)
        half = k >> 1
        y = (y * ((half + 127) << 23).view(F32)).astype(F32)
        y = (y * ((k - half + 127) << 23).view(F32)).astype(F32)
        y = np.where(x < F32(-103.972084), F32(0), y)
        return np.where(np.isnan(x), x, y).astype(F32)


def exp_parts32(x):
    """(y, s) with XLA's exp(x) = y * s as XLA emits it inside a fusion (expm1, logistic):
    x clamped to [-87.8, 88.8], n to [-127, 127], s = 2**n from exponent bits (0 for
    n = -127). The callers add to or multiply y * s, and LLVM fuses some of those."""
    x = _f32(x)
    with np.errstate(all="ignore"):
        xc = np.clip(x, F32(-87.8), EXP_HI).astype(F32)
        n = np.clip(np.floor(fma32(xc, LOG2E, F32(0.5))), F32(-127), F32(127)).astype(F32)
        r = fma32(-LN2_HI, n, xc)
        r = fma32(-LN2_LO, n, r)
        p = horner32(r, EXP_POLY)
        y = (fma32(p, (r * r).astype(F32), r) + F32(1)).astype(F32)
        k = np.nan_to_num(n).astype(np.int32)
        return y, ((k + 127) << 23).view(F32)


# ---------------------------------------------------------------------------- tanh, expm1, logistic

# XLA's tanh (Eigen's): x clamped to +-7.998811, the odd rational x P(x**2) / Q(x**2) by fused
# Horner steps; x itself below 0.0004, +-1 from 20 on.
TANH_CLAMP = bits32(0x40FFF644)
TANH_P = tuple(bits32(h) for h in (0xA59F25C0, 0x2A61337E, 0xAEBD37FF, 0x335C0041, 0x3779434A,
                                   0x3A270DED, 0x3BA059DC))
TANH_Q = tuple(bits32(h) for h in (0x35A0D3D8, 0x38F895D6, 0x3B14AA05, 0x3BA059DD))


def tanh32(x):
    x = _f32(x)
    with np.errstate(all="ignore"):
        xc = np.clip(x, -TANH_CLAMP, TANH_CLAMP).astype(F32)
        x2 = (xc * xc).astype(F32)
        out = ((xc * horner32(x2, TANH_P)).astype(F32) / horner32(x2, TANH_Q)).astype(F32)
        a = np.abs(x)
        out = np.where(a < F32(0.0004), x, out)
        return np.where(a >= F32(20), np.copysign(F32(1), x), out).astype(F32)


def expm1_32(x):
    """XLA's expm1: e**x - 1 above |x| = 1/2, below tanh(x/2) (e**x + 1); x itself where x/2
    is 0, or subnormal, which XLA flushes to 0 (e**x = y * 2**n is rounded before both uses)."""
    x = _f32(x)
    with np.errstate(all="ignore"):
        y, s = exp_parts32(x)
        e = (y * s).astype(F32)
        half = (x * F32(0.5)).astype(F32)
        small = (tanh32(half) * (e + F32(1)).astype(F32)).astype(F32)
        out = np.where(np.abs(x) > F32(0.5), (e - F32(1)).astype(F32), small)
        return np.where(np.abs(half) < _TINY, x, out).astype(F32)


def logistic32(x):
    """XLA's logistic, 1 / (1 + e**-x), the exp's last product fused into the add."""
    x = _f32(x)
    with np.errstate(all="ignore"):
        y, s = exp_parts32(-x)
        return (F32(1) / fma32(y, s, F32(1))).astype(F32)


# ---------------------------------------------------------------------------- erf, erfc

# XLA's erf is the odd rational function x P(x**2) / Q(x**2), both polynomials by fused Horner
# steps, and +-1 from a saturation point on. XLA:CPU has two copies that differ only there: its
# vectorized `xla.erf` intrinsic saturates at 3.8325067, the expansion of its fusion emitters
# at 3.7439211 (erfinv(1 - 2**-23)). Eagerly JAX takes the intrinsic for an erf over more than
# one element, the expansion for a single element; an erf fused with other operations (as in
# JAX's jitted samplers) always takes the expansion.
ERF_SATURATE = bits32(0x407547CB)  # 3.8325067
ERF_SATURATE_FUSED = bits32(0x406F9C68)  # 3.7439211
ERF_P = tuple(bits32(h) for h in (0x39702D51, 0x3B5F5DA2, 0x3D50B6EB, 0x3E3DA740, 0x3F906EBA))
ERF_Q = tuple(bits32(h) for h in (0xB3FD3906, 0x37C588DF, 0x3A856D28, 0x3C6687D4, 0x3DE34C21,
                                  0x3EFEB44A)) + (F32(1),)


def erf_saturation(size: int) -> np.float32:
    """Where eager JAX's erf over `size` elements saturates (see above)."""
    return ERF_SATURATE_FUSED if size == 1 else ERF_SATURATE


def erf32(x, saturate=ERF_SATURATE):
    x = _f32(x)
    with np.errstate(all="ignore"):
        x2 = (x * x).astype(F32)
        out = ((x * horner32(x2, ERF_P)).astype(F32) / horner32(x2, ERF_Q)).astype(F32)
        return np.where(np.abs(x) >= saturate, np.copysign(F32(1), x), out).astype(F32)


# XLA's erfc (Cephes' erfcf): below |x| = 1, 1 - x P(x**2) (the erf polynomial of Cephes' erff);
# above, exp(-x**2) / |x| times a polynomial in 1 / x**2, one on [1, 2) and one from 2 on,
# reflected as 2 - that below 0, and 0 once x**2 > 88.72 (where exp(-x**2) underflows).
ERFC_SMALL = tuple(bits32(h) for h in (0x38A4B519, 0xBA51FB80, 0x3BAA02D9, 0xBCDBFC87, 0x3DE7167C,
                                       0xBEC0939F, 0x3F906EBA))
ERFC_MID = tuple(bits32(h) for h in (0x3CBE9CF4, 0xBE0E0868, 0x3EBCCBD0, 0xBF151CF8, 0x3F1EF9E3,
                                     0xBEFD28C0, 0x3EAE5471, 0xBE8C5880, 0x3F1056E6))
ERFC_LARGE = tuple(bits32(h) for h in (0xC127A483, 0x414FA29C, 0xC0EFDB4A, 0x403AF1FA, 0xBF81F436,
                                       0x3ED7FC3E, 0xBE906C5D, 0x3F106EB9))
ERFC_UNDERFLOW = bits32(0x42B17218)  # 88.72284


def erfc32(x):
    x = _f32(x)
    with np.errstate(all="ignore"):
        x2 = (x * x).astype(F32)
        r = (F32(1) / x2).astype(F32)
        a = np.abs(x)
        tail = np.where(a < F32(2), horner32(r, ERFC_MID), horner32(r, ERFC_LARGE))
        z = ((exp32(-x2) * (F32(1) / a).astype(F32)).astype(F32) * tail).astype(F32)
        z = np.where(x2 > ERFC_UNDERFLOW, F32(0), z)
        z = np.where(x < 0, (F32(2) - z).astype(F32), z)
        small = fma32(-x, horner32(x2, ERFC_SMALL), F32(1))
        return np.where(a < F32(1), small, z).astype(F32)


# ---------------------------------------------------------------------------- lgamma, digamma

# Lanczos' approximation with g = 7 and nine coefficients (the first rounds to 1 in float32),
# evaluated at z = x - 1, or at z = -x with Euler's reflection below 1/2.
LANCZOS = tuple(bits32(h) for h in (0x4429214E, 0xC49D6474, 0x4440D4B3, 0xC3309D73, 0x41481E14,
                                    0xBE0DE595, 0x3727828A, 0x3421AA84))
LANCZOS_G = F32(7)
INV_G_HALF = bits32(0x3E088889)  # 1 / 7.5
LOG_G_HALF = bits32(0x4000F42C)  # log(7.5)
LOG_SQRT_2PI = bits32(0x3F6B3F8E)
LOG_PI = bits32(0x3F928682)
PI = bits32(0x40490FDB)


def lgamma32(x):
    """log|Gamma(x)|: log(S(z)) + (z + 1/2 - t / log t) log t + log(sqrt(2 pi)) with t = z + 7.5
    and log t = log(7.5) + log1p(z / 7.5) (z / 7.5 as a product), S the Lanczos sum; below 1/2,
    log(pi) - log(sin(pi r)) - that, r the distance of |x| to the nearest integer, sin the C
    library's sinf (XLA calls it)."""
    x = _f32(x)
    with np.errstate(all="ignore"):
        reflect = x < F32(0.5)
        z = np.where(reflect, -x, (x - F32(1)).astype(F32)).astype(F32)
        s = (F32(1) + (LANCZOS[0] / (z + F32(1)).astype(F32)).astype(F32)).astype(F32)
        for i, c in enumerate(LANCZOS[1:], start=2):
            s = (s + (c / (z + F32(i)).astype(F32)).astype(F32)).astype(F32)
        t = (z + (LANCZOS_G + F32(0.5))).astype(F32)
        log_t = (log1p32((z * INV_G_HALF).astype(F32)) + LOG_G_HALF).astype(F32)
        w = ((z + F32(0.5)).astype(F32) - (t / log_t).astype(F32)).astype(F32)
        log_y = (fma32(log_t, w, LOG_SQRT_2PI) + log32(s)).astype(F32)

        a = np.abs(x)
        frac = (a - np.floor(a)).astype(F32)
        frac = np.where(frac > F32(0.5), (F32(1) - frac).astype(F32), frac)
        log_sin = log32(sin32((PI * frac).astype(F32)))
        reflection = np.where(np.isfinite(log_sin), ((LOG_PI - log_sin).astype(F32) - log_y).astype(F32), -log_sin)
        out = np.where(reflect, reflection, log_y)
        return np.where(a == F32(np.inf), F32(np.inf), out).astype(F32)


def digamma32(x):
    """psi(x): log t + S'(z) / S(z) - 7 / t with S as in `lgamma32` and S' its derivative's sum
    (from 0, the terms subtracted in order); below 1/2, minus pi / tan(pi r) with
    r = x + |floor(x + 1/2)|, as pi cos(pi r) / sin(pi r) by the C library's cosf and sinf.
    NaN at 0 and the negative integers."""
    x = _f32(x)
    with np.errstate(all="ignore"):
        reflect = x < F32(0.5)
        z = np.where(reflect, -x, (x - F32(1)).astype(F32)).astype(F32)
        num = np.zeros(x.shape, F32)
        den = np.ones(x.shape, F32)
        for i, c in enumerate(LANCZOS, start=1):
            zi = (z + F32(i)).astype(F32)
            num = (num - (c / (zi * zi).astype(F32)).astype(F32)).astype(F32)
            den = (den + (c / zi).astype(F32)).astype(F32)
        t = (z + (LANCZOS_G + F32(0.5))).astype(F32)
        log_t = (log1p32((z * INV_G_HALF).astype(F32)) + LOG_G_HALF).astype(F32)
        y = ((log_t + (num / den).astype(F32)).astype(F32) - (LANCZOS_G / t).astype(F32)).astype(F32)

        r = (x + np.abs(np.floor((x + F32(0.5)).astype(F32)))).astype(F32)
        pi_r = (PI * r).astype(F32)
        cot = ((PI * cos32(pi_r)).astype(F32) / sin32(pi_r)).astype(F32)
        out = np.where(reflect, (y - cot).astype(F32), y)
        return np.where((x <= 0) & (np.trunc(x) == x), F32(np.nan), out).astype(F32)


def sin32(x):
    """The C library's sinf, elementwise (what XLA:CPU calls for a float32 sin)."""
    return libm("sin", _f32(x))


def cos32(x):
    """The C library's cosf, elementwise."""
    return libm("cos", _f32(x))


def erf64(x):
    """The C library's float64 erf, elementwise: XLA:CPU calls it for a float64 erf (SciPy's
    erf, used off x86-64, can be 2 ulp away)."""
    return libm("erf", np.asarray(x, np.float64))


# ---------------------------------------------------------------------------- rsqrt

def rsqrt32(x):
    x = _f32(x)
    with np.errstate(all="ignore"):
        y = rsqrt_estimate(x)
        refined = fma32((y * F32(-0.5)).astype(F32), fma32((x * y).astype(F32), y, F32(-1)), y)
        # XLA keeps the estimate itself for 0, subnormals, infinities and negative numbers
        normal = (x >= _TINY) & (x < F32(np.inf))
        return np.where(normal | np.isnan(x), refined, y).astype(F32)


def rsqrt_estimate(x):
    """The CPU's `rsqrtss` of each element (1/sqrt(x) correctly rounded off x86)."""
    return rsqrtss(_f32(x))


# ---------------------------------------------------------------------------- pow

def pow32(x, y):
    """The C library's powf, elementwise (NumPy's float32 power may be its own SIMD code)."""
    return libm("pow", _f32(x), _f32(y))


# XLA's float64 erf_inv (Giles): polynomials in w = -log1p(-x*x) on w < 6.25, w < 16 and
# above, highest coefficient first (the LLVM backend's and kiln.random.xla_f64's).
ERF_INV64_6_25 = (
    -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
    1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
    6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
    2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
    1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
    4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
    0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
    0.24015818242558961693, 1.6536545626831027356)
ERF_INV64_16 = (
    2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
    1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
    2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
    6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
    0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
    -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
    3.0838856104922207635)
ERF_INV64_LARGE = (
    -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
    -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
    2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
    -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
    7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
    1.0103004648645343977, 4.8499064014085844221)
