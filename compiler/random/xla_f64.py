"""float64 exp, log1p and erf_inv as XLA:CPU computes them, built from kiln.lax operations, so
that the float64 samplers draw JAX's bits on every backend.

XLA:CPU does not call the C library for these three in float64 (its log, pow, sqrt and tan
are the C library's, as kiln's are): it emits its own instruction sequences, found by dumping
the LLVM IR and machine code of small jitted functions (`XLA_FLAGS=--xla_dump_to=DIR`), and
LLVM fuses each multiply whose only use is an add into one fused multiply-add:

- exp: Cephes' exp. x is clamped to [LO, HI], n = floor(x log2(e) + 1/2), g = x - n ln2 in
  two parts, exp(g) = 1 + 2 g P(g^2) / (Q(g^2) - g P(g^2)) (a Pade form), scaled by 2**n;
  0 below LO, inf above HI.
- log1p: for |x| < sqrt(2) - 1 Cephes' rational form x - x^2/2 + x^3 P(x)/Q(x), above it
  log(1 + x) with the C library's log (XLA's float32 log1p with float64 coefficients).
- erf_inv: Giles' polynomials ("Approximating the erfinv function", 2010) in
  w = -log1p(-x^2), on w < 6.25, w < 16 and above (XLA's ErfInv64).

The fused multiply-adds are kiln's fma primitive (one rounding). The polynomials are
evaluated by scans over their coefficients (one step's code, compiled once); they were needed
when the fma was emulated in some 30 operations, and still keep the programs small.

Derivatives are those of the approximations (within a few ulp of JAX's, which differentiates
the exact functions). No custom_jvp, so that the functions can run inside loops on every
backend.
"""
from __future__ import annotations

import numpy as np

import kiln.lax as lax
import kiln.numpy as jnp
from kiln.lax.xla_math import ERF_INV64_6_25 as ERF_INV_6_25
from kiln.lax.xla_math import ERF_INV64_16 as ERF_INV_16
from kiln.lax.xla_math import ERF_INV64_LARGE as ERF_INV_LARGE
from kiln.lax import elementwise
from kiln.primitives import aval_of

F64 = np.float64
_INF = np.asarray(np.inf, F64)


def _c(value):
    return np.asarray(value, F64)


def _bits(h: int):
    return np.array([h], np.uint64).view(F64)[0]


# ---------------------------------------------------------------------------- fma

def fma(a, b, c):
    """a * b + c with one rounding: kiln's fma primitive (llvm.fma; on the reference backend
    NumPy's exact emulation, `kiln.lax.xla_math64.fma64`)."""
    return elementwise.fma(a, b, c, F64)


def _horner(x, *polynomials):
    """Horner's rule with a fused multiply-add per step, highest coefficient first, for each
    polynomial (of equal degree), evaluated side by side in one stacked array. The steps are
    a scan over the coefficients: one step's code, compiled once."""
    n = len(polynomials)
    xs = jnp.broadcast_to(x, (n,) + aval_of(x).shape)
    table = np.asarray(polynomials, F64).T.reshape((-1, n) + (1,) * len(aval_of(x).shape))
    acc, _ = lax.scan(lambda acc, c: (fma(acc, xs, c), None),
                      jnp.broadcast_to(table[0], aval_of(xs).shape), table[1:])
    return tuple(acc[i] for i in range(n))


# ---------------------------------------------------------------------------- exp

EXP_HI, EXP_LO = _bits(0x40862E42FEFA39EF), _bits(0xC086232BDD7ABCD2)  # 709.78, -708.40
LOG2E = _bits(0x3FF71547652B82FE)
LN2_HI, LN2_LO = _bits(0x3FE62E4000000000), _bits(0x3EB7F7D1CF79ABCA)  # n * LN2_HI is exact
EXP_P = (_bits(0x3F2089CDD5E44BE8), _bits(0x3F9F06D10CCA2C7E), 1.0)
EXP_Q = (_bits(0x3EC92EB6BC365FA0), _bits(0x3F64AE39B508B6C0), _bits(0x3FCD17099887E074), 2.0)


def exp(x):
    xc = lax.max(lax.min(x, EXP_HI), EXP_LO)
    n = lax.floor(fma(xc, LOG2E, _c(0.5)))
    g = fma(-n, LN2_LO, xc - n * LN2_HI)
    gg = g * g
    p, q = _horner(gg, (0.0,) + EXP_P, EXP_Q)  # fma(0, gg, c) == c
    p = p * g
    y = p / (q - p) * _c(2) + _c(1)
    # 2**n in two factors: n reaches 1024 just below HI
    half = lax.floor(n * _c(0.5))
    y = y * lax.pow(_c(2), half) * lax.pow(_c(2), n - half)
    y = lax.select(x < EXP_LO, jnp.full_like(x, 0.0), y)
    y = lax.select(x > EXP_HI, jnp.full_like(x, np.inf), y)
    return lax.select(x != x, x, y)


# ---------------------------------------------------------------------------- log1p

LOG1P_SMALL = _bits(0x3FDA827999FCEF32)  # sqrt(2) - 1
LOG1P_NUM = tuple(_bits(h) for h in (0x3F07BC0962B395CA, 0x3FDFE818A0FE1A83, 0x401A509F46F4FA53, 0x403DE9738B8CB9C9,
                                     0x404E798EB86C3351, 0x404C8E7597479A10, 0x40340A202D99830A))
LOG1P_DEN = (1.0,) + tuple(_bits(h) for h in (0x402E20359E903E37, 0x4054C30B52213498, 0x406BB86590FCFB56,
                                              0x407351945DC908A5, 0x406B0DB13E48E066, 0x404E0F304466448E))


def log1p(x):
    big = lax.log(x + _c(1))
    x2 = x * x
    num, den = _horner(x, LOG1P_NUM, LOG1P_DEN)
    ratio = num / den
    # XLA's fma(x2, -0.5, x^3 * ratio): x2 * -0.5 is exact, so it is a plain add
    small = x + (x2 * _c(-0.5) + (x * x2) * ratio)
    return lax.select(lax.abs(x) < LOG1P_SMALL, small, big)


# ---------------------------------------------------------------------------- erf_inv

# one row per Horner step: the coefficient on each branch (0 where its polynomial has ended)
_ERF_INV_TABLE = np.array([(ERF_INV_6_25[i], ERF_INV_16[i] if i < 19 else 0.0, ERF_INV_LARGE[i] if i < 17 else 0.0)
                           for i in range(23)], F64)


def erf_inv(x):
    # -x * x has other uses than log1p's 1 + y, so XLA does not fuse it there
    w = -log1p(x * -x)
    lt_6_25, lt_16 = w < _c(6.25), w < _c(16)

    def branch(c_6_25, c_16, c_large):  # the value for the branch each element is on
        return lax.select(lt_6_25, jnp.full_like(x, c_6_25),
                          lax.select(lt_16, jnp.full_like(x, c_16), jnp.full_like(x, c_large)))

    w = lax.select(lt_6_25, w - _c(3.125), lax.sqrt(w) - branch(0.0, 3.25, 5.0))

    def step(p, row_and_index):
        # one Horner chain for the three polynomials; the shorter ones (w >= 6.25, w >= 16)
        # stop early, as in XLA's loop
        row, i = row_and_index
        active = lt_6_25 | (lt_16 & (i < 19)) | (i < 17)
        return lax.select(active, fma(p, w, branch(row[0], row[1], row[2])), p), None

    p, _ = lax.scan(step, branch(*_ERF_INV_TABLE[0]), (_ERF_INV_TABLE[1:], np.arange(1, 23, dtype=np.int32)))
    infinity = lax.select(x > _c(0), jnp.full_like(x, np.inf), jnp.full_like(x, -np.inf))
    return lax.select(lax.abs(x) == _c(1), infinity, p * x)
