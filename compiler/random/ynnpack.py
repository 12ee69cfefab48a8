"""What XLA:CPU computes where it hands work to YNNPACK, built from kiln.lax operations (so
both backends, jit, vmap and grad get it), for the samplers that reduce or contract.

Where XLA hands work over (jaxlib 0.10.2, default flags)
--------------------------------------------------------
XLA:CPU's library rewriter (`xla/backends/cpu/transforms/ynn_matcher.h`, `ynn_support.cc` in
openxla/xla) makes a YNNPACK fusion of

- every reduce (sum, max, min) whose input has at least 4096 elements, dimensions of size 1
  already simplified away (`offloads_reduce`: 1024 rows of 4 terms, 1366 rows of 3), grown
  over the elementwise operations next to it that YNNPACK supports (add, subtract, multiply,
  divide, max, min, pow, exp, log, log1p, sqrt, negate, ...; not select or compare) whose
  result or an operand has at least 4096 elements (`offloads_elementwise`): dirichlet's fusion
  starts at the gamma sampler's final logs, ball's takes in its exponential from 4096 rows,
  double_sided_maxwell's its scaling from 4096 values;
- every dot with no dimension of 1 and one of 8 or more (`offloads_dot`).

The subgraph runs one YNNPACK kernel per operation, after YNNPACK's rewrites
(`ynnpack/subgraph/fusion.cc`); those seen to matter here: sum(x * x) becomes one
sum-of-squares kernel, multiply(multiply(a, b), c) one kernel (before add(multiply, c) could
become a fused multiply-add: double_sided_maxwell's scaling is a product, then an add);
x * (1 / s) stays a product with the reciprocal (the rewrite to x / s does not see through
XLA's broadcast). pow is the C library's powf, as in XLA's own code.

Found by dumping XLA's optimized HLO (`XLA_FLAGS=--xla_dump_to=DIR`: fusions of kind
`__ynn_fusion`), reading google/XNNPACK's `ynnpack/` (a later snapshot than jaxlib's), and
comparing candidates with JAX on 10**4 to 10**5 inputs per case until none differed.

What YNNPACK computes on x86 with AVX2 and FMA3 (no AVX-512)
------------------------------------------------------------
- exp (`ynnpack/base/simd/target_independent.inc`): x clamped to [lo, hi] (+-88.03/88.72 in
  float32, -709.09/709.78 in float64), b = round(x log2 e) by adding and subtracting
  1.5 * 2**mantissa_bits, r = x - b ln2 in two fused steps (ln2 in two parts),
  expm1(r) = r + r**2 P(r) (P of degree 6, float64 10), 2**b from exponent bits (0 at the
  bottom exponent, inf past the top), the result fma(2**b, expm1(r), 2**b); subnormal results
  flushed to zero (XLA runs with FTZ).
- log: y = 2**e m with m in (sqrt(1/2), sqrt(2)], r = m - 1, log(1 + r) = r + r**2 P(r) / Q(r)
  (P, Q of degree 2 and 2; float64 5 and 6), then fma(e, ln2, that).
- log1p: the log of y = 1 + x, with r = x itself where y's exponent is 0.
- Polynomials, highest coefficient first, as two Horner chains in r**2 (the even and the odd
  coefficients) joined by one last fused step, every step fused.
- Sum over the innermost axis (the `k1` kernel, `ynnpack/kernels/reduce/sum.h`; AVX, not FMA):
  64 bytes of lanes (16 float32, 8 float64), element i in lane i mod lanes. Each block of
  4 * lanes elements is summed lane-wise into a fresh vector, which is added into an
  accumulator; a tree of accumulators (every 16 and every 256 lanes' worth of blocks, the top
  level Kahan-compensated) collects them; the lanes are then halved (lane j + lane j + lanes/2,
  ...) down to one. sum(x * x) squares each element first (rounded, no fma).
- float32 dot (`matvec`): the AVX2+FMA3 kernel YNNPACK picks by the output width n, with
  k tiles of 2 or 1 (`dot_k2`). float64: one fused chain in order.

Other CPUs run other kernels (AVX-512 with 512-bit tiles, ARM NEON/SVE: other lane counts,
other dot kernels), so these functions reproduce JAX only where `reproduces_host()`; elsewhere
they are the closest kiln knows, within a few ulp.

The choice is made from static shapes. XLA makes it for the whole batch under vmap, so the
code that decides is a `by_whole_shape` function: a custom_vmap function whose batching rule
is the function itself on the batched operands.
"""
from __future__ import annotations

import functools
import math

import numpy as np

import kiln.lax as lax
import kiln.numpy as jnp
from kiln.primitives import aval_of
from kiln.random import xla_f64

# XLA hands a reduce to YNNPACK when its input has at least this many elements.
MIN_ELEMENTS = 4096


def offloads_reduce(shape) -> bool:
    """Whether XLA:CPU hands a reduce over an array of this (static) shape to YNNPACK."""
    return math.prod(shape) >= MIN_ELEMENTS


def offloads_elementwise(shape) -> bool:
    """Whether an elementwise operation next to an offloaded reduce joins YNNPACK's fusion:
    when its result (or an operand) has at least `MIN_ELEMENTS` elements."""
    return math.prod(shape) >= MIN_ELEMENTS


def by_whole_shape(fn, shared=()):
    """fn as a custom_vmap function whose batching rule calls it again on the batched operands
    (batch axis first; unbatched ones broadcast, except positions in `shared`, which must stay
    unbatched): for code that decides by its operands' whole shape, as XLA does by the batch's.
    fn must work on operands with extra leading axes, example by example."""
    from kiln.custom_batching import custom_vmap
    fn = custom_vmap(fn)

    @fn.def_vmap
    def rule(axis_size, in_batched, *args):
        if any(in_batched[i] for i in shared):
            raise NotImplementedError(f"kiln.random: vmap over a parameter of {fn.__name__} that must be "
                                      "the same for every example")
        args = [a if b or i in shared else jnp.broadcast_to(a, (axis_size,) + aval_of(a).shape)
                for i, (a, b) in enumerate(zip(args, in_batched))]
        return fn(*args), True
    return fn


# ---------------------------------------------------------------------------- the host

@functools.lru_cache(maxsize=None)
def host_features() -> frozenset:
    """The host CPU's feature flags: Linux's /proc/cpuinfo, else LLVM's view of the host."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    try:
        import llvmlite.binding as llvm
        features = llvm.get_host_cpu_features()
    except Exception:
        return frozenset()
    return frozenset(name for name, on in features.items() if on)


def reproduces_host() -> bool:
    """Whether this module computes what the host's YNNPACK does: an x86 CPU with AVX2 and FMA3
    and without AVX-512, whose kernels are the ones reproduced here. On AVX-512 CPUs YNNPACK
    runs 512-bit kernels (other summation orders, other dot tiles), on ARM its NEON or SVE
    ones; results there are within a few ulp of these. Tests compare exactly where this is
    true and with a tight tolerance elsewhere."""
    flags = host_features()
    return {"avx2", "fma"} <= flags and "avx512f" not in flags


# ---------------------------------------------------------------------------- arithmetic

def _c(x, value):
    return np.asarray(value, aval_of(x).dtype)


def _fma(a, b, c):
    """a * b + c with one rounding, in the dtype of c."""
    from kiln.random.core import _fma
    return _fma(a, b, c, np.dtype(aval_of(c).dtype))


def _polys(polys, x, x2):
    """YNNPACK's evaluation of each polynomial (highest coefficient first): two Horner chains
    in x**2, of the even and the odd positions, joined by a last fused step. In float64 the
    chains run side by side in one scan (`xla_f64._horner`: one step's code, compiled once;
    unrolled, the emulated fused multiply-adds take the LLVM backend long to compile)."""
    chains = [c for p in polys for c in (p[0::2], p[1::2])]
    if aval_of(x).dtype == np.float64:
        length = max(len(c) for c in chains)  # leading zeros: fma(0, x2, c) == c
        ys = xla_f64._horner(x2, *[(0.0,) * (length - len(c)) + tuple(c) for c in chains])
    else:
        ys = []
        for chain in chains:
            y = jnp.full_like(x, chain[0])
            for c in chain[1:]:
                y = _fma(x2, y, _c(x, c))
            ys.append(y)
    out = []
    for p, y0, y1 in zip(polys, ys[0::2], ys[1::2]):
        out.append(_fma(x, y1, y0) if len(p) % 2 else _fma(x, y0, y1))
    return out


def _steps(x):
    """The powers of two that make up any exponent of x's dtype, largest first."""
    top = 512 if aval_of(x).dtype == np.float64 else 64
    return [2 ** i for i in range(top.bit_length() - 1, -1, -1)]


def _pow2(b):
    """2**b for integral b in the normal range of b's dtype, exactly: a product of powers of two."""
    out = jnp.ones_like(b)
    rest = b
    for k in _steps(b):
        up, down = rest >= _c(b, k), rest <= _c(b, -k)
        factor = lax.select(up, jnp.full_like(b, 2.0 ** k), lax.select(down, jnp.full_like(b, 2.0 ** -k),
                                                                       jnp.ones_like(b)))
        out = out * factor
        rest = rest - lax.select(up, jnp.full_like(b, k), lax.select(down, jnp.full_like(b, -k), jnp.zeros_like(b)))
    return out


def _frexp(x):
    """(e, m) with x = 2**e m, m in [1, 2), for positive normal x (exactly)."""
    e, m = jnp.zeros_like(x), x
    for k in _steps(x):
        big = m >= _c(x, 2.0 ** k)
        m = lax.select(big, m * _c(x, 2.0 ** -k), m)
        e = e + lax.select(big, jnp.full_like(x, k), jnp.zeros_like(x))
    for k in _steps(x):
        small = m < _c(x, 2.0 ** (1 - k))
        m = lax.select(small, m * _c(x, 2.0 ** k), m)
        e = e - lax.select(small, jnp.full_like(x, k), jnp.zeros_like(x))
    return e, m


def _tiny(x):
    return _c(x, np.finfo(aval_of(x).dtype).tiny)


# ---------------------------------------------------------------------------- exp

class _Exp:
    """The constants of YNNPACK's exp in one dtype: x is clamped to [lo, hi], expm1 on
    [-ln2 / 2, ln2 / 2] is r + r**2 P(r)."""

    def __init__(self, p, lo, hi, ln2_hi, ln2_lo, mantissa_bits, max_exponent):
        self.p, self.lo, self.hi, self.ln2_hi, self.ln2_lo = p, lo, hi, ln2_hi, ln2_lo
        self.magic = 1.5 * 2.0 ** mantissa_bits
        self.max_exponent = max_exponent


EXP = {
    np.dtype(np.float32): _Exp((-4.9866619520e-05, 2.2773783712e-04, 1.4132461511e-03, 8.3242934197e-03,
                                4.1665628552e-02, 1.6666725278e-01, 4.9999994040e-01),
                               -88.02969360351562, 88.72283935546875, 6.9314575195e-01, 1.4286067653e-06, 23, 127),
    np.dtype(np.float64): _Exp((2.119890244143296032e-09, 2.521079371356939368e-08, 2.755585399809175769e-07,
                                2.755675838881680360e-06, 2.480158976814372031e-05, 1.984127071808468106e-04,
                                1.388888888680978647e-03, 8.333333332743943569e-03, 4.166666666668113195e-02,
                                1.666666666666796748e-01, 4.999999999999995559e-01),
                               -709.0895657128241, 709.782712893384, 6.93147180369123816490e-01,
                               1.90821492927058770002e-10, 52, 1023),
}
LOG2E = 1.4426950408889634


def exp(x):
    k = EXP[np.dtype(aval_of(x).dtype)]
    xc = lax.min(lax.max(x, _c(x, k.lo)), _c(x, k.hi))
    # round(x log2 e) (no derivative: exp's comes through r)
    b = lax.stop_gradient((xc * _c(x, LOG2E) + _c(x, k.magic)) - _c(x, k.magic))
    r = _fma(b, _c(x, -k.ln2_hi), xc)
    r = _fma(b, _c(x, -k.ln2_lo), r)
    r2 = r * r
    (p,) = _polys([k.p], r, r2)
    expm1_r = _fma(r2, p, r)
    scale = _pow2(lax.max(b, _c(x, 1 - k.max_exponent)))
    y = _fma(scale, expm1_r, scale)
    y = lax.select(lax.abs(y) < _tiny(x), jnp.zeros_like(x), y)  # flushed to zero
    # 2**b from exponent bits: 0 at the bottom of the range, inf at the top
    y = lax.select(b <= _c(x, -k.max_exponent), jnp.zeros_like(x), y)
    y = lax.select(b > _c(x, k.max_exponent), jnp.full_like(x, np.inf), y)
    return lax.select(x != x, x, y)


# ---------------------------------------------------------------------------- log, log1p

LOG_PQ = {
    np.dtype(np.float32): ((-5.2293352783e-03, -3.3127889037e-01, -4.9999964237e-01),
                           (3.9658042789e-01, 1.3292170763e+00, 1.0)),
    np.dtype(np.float64): ((-2.956046447212538203e-03, -6.691314126082094360e-02, -4.289980732181625789e-01,
                            -1.110965361416291097e+00, -1.242991301338429500e+00, -4.999999999999990008e-01),
                           (3.009181610003072455e-03, 7.942469932969810353e-02, 6.369060590899747742e-01,
                            2.230802780023532605e+00, 3.823696902394678077e+00, 3.152649269343555716e+00, 1.0)),
}
LN2 = 6.93147180559945309e-01
SQRT2 = 1.41421356237309504880


def _log_parts(y):
    """(e, r): y = 2**e (1 + r), r in [sqrt(1/2) - 1, sqrt(2) - 1], for positive normal y."""
    e, m = _frexp(y)
    large = m > _c(y, SQRT2)
    e = lax.select(large, e + _c(y, 1), e)
    m = lax.select(large, m * _c(y, 0.5), m)
    return e, m - _c(y, 1)


def _log_finish(e, r, y):
    p, q = LOG_PQ[np.dtype(aval_of(y).dtype)]
    r2 = r * r
    p_r, q_r = _polys([p, q], r, r2)
    log_r = _fma(r2, p_r / q_r, r)
    out = _fma(e, _c(y, LN2), log_r)
    out = lax.select(y == _c(y, np.inf), y, out)
    out = lax.select(y < _tiny(y), jnp.full_like(y, -np.inf), out)  # 0 and (flushed) subnormals
    return lax.select((y < _c(y, 0)) | (y != y), jnp.full_like(y, np.nan), out)


def log(x):
    e, r = _log_parts(lax.max(x, _tiny(x)))
    return _log_finish(e, r, x)


def log1p(x):
    y = x + _c(x, 1)
    e, r = _log_parts(lax.max(y, _tiny(x)))
    r = lax.select(e == _c(x, 0), x, r)
    return _log_finish(e, r, y)


# ---------------------------------------------------------------------------- sums

def sum_last(x, square=False):
    """The sum over the last axis as YNNPACK's k1 kernel forms it (of x * x with `square`):
    64 bytes of lanes (16 float32, 8 float64)."""
    dtype = aval_of(x).dtype
    lanes = 64 // np.dtype(dtype).itemsize
    shape = aval_of(x).shape
    k = shape[-1]
    if square:
        x = x * x
    block = 4 * lanes
    blocks = -(-k // block)
    if blocks * block != k:
        x = jnp.concatenate([x, jnp.zeros(shape[:-1] + (blocks * block - k,), dtype)], axis=-1)
    x = x.reshape(shape[:-1] + (blocks, 4, lanes))
    # each block: a fresh vector of 4 lane-wise adds
    local = x[..., 0, :]
    for c in range(1, 4):
        local = local + x[..., c, :]
    acc0, acc1, acc2, error = (jnp.zeros(shape[:-1] + (lanes,), dtype) for _ in range(4))

    def kahan(a, acc, error):
        y = a - error
        t = acc + y
        error = (t - acc) - y
        return t, lax.select(lax.is_finite(error), error, jnp.zeros_like(error))

    # whole blocks, taken 4 at a time while 4 remain; the clock counts lanes
    full, clock, i = k // block, 0, 0
    while i < full:
        count = 4 if full - i >= 4 else 1
        for j in range(i, i + count):
            acc0 = acc0 + local[..., j, :]
        i += count
        clock += lanes * count
        if clock % 16 == 0:
            acc1, acc0 = acc1 + acc0, jnp.zeros_like(acc0)
            if clock % 256 == 0:
                acc2, error = kahan(acc1, acc2, error)
                acc1 = jnp.zeros_like(acc1)
    if i < blocks:
        acc0 = acc0 + local[..., i, :]
    acc2, _ = kahan(acc1 + acc0, acc2, error)
    while aval_of(acc2).shape[-1] > 1:  # halving, down to one lane
        half = aval_of(acc2).shape[-1] // 2
        acc2 = acc2[..., :half] + acc2[..., half:]
    return acc2[..., 0]


# ---------------------------------------------------------------------------- dots

def offloads_dot(rows: int, n: int) -> bool:
    """Whether XLA:CPU hands the dot of a (rows, n) matrix with an (n, n) one to YNNPACK: no
    dimension of 1, and one of them 8 or more."""
    return rows > 1 and n > 1 and max(rows, n) >= 8


def dot_k2(n: int) -> bool:
    """Whether YNNPACK's float32 dot with n output columns (here also n terms) runs its
    AVX2+FMA3 kernel with k tiles of 2 (n mod 16 in 1..8) rather than the one that fuses
    every product into the sum in order: YNNPACK picks its tile by n (found by comparing)."""
    return (n - 1) % 16 < 8


def matvec(factor, z):
    """factor @ z over the last axes (z[..., j] times factor[i, j] summed over j) as YNNPACK's
    float32 dot kernel on this CPU sums it: with k tiles of 2 (`dot_k2`), the even and the odd
    terms in two fused chains, added at the end (and a last odd term added after that);
    otherwise one fused chain in order."""
    n = aval_of(z).shape[-1]
    term = lambda j, acc: _fma(z[..., None, j], factor[..., :, j], acc)
    if not dot_k2(n):
        total = z[..., None, 0] * factor[..., :, 0]
        for j in range(1, n):
            total = term(j, total)
        return total
    even = z[..., None, 0] * factor[..., :, 0]
    odd = z[..., None, 1] * factor[..., :, 1] if n > 1 else None
    for j in range(2, n - n % 2):
        if j % 2:
            odd = term(j, odd)
        else:
            even = term(j, even)
    total = even if odd is None else even + odd
    if n % 2 and n > 1:
        total = z[..., None, n - 1] * factor[..., :, n - 1] + total
    return total
