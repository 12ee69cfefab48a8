"""The threefry2x32 primitive: the counter-based block cipher behind kiln.random.

`threefry2x32(k0, k1, x0, x1) -> (y0, y1)` encrypts the 64-bit counters (x0, x1) under the
key (k0, k1) with Threefry-2x32 (20 rounds; Salmon et al., "Parallel random numbers: as easy
as 1, 2, 3", SC 2011). All four operands are uint32 and, as for the elementwise primitives,
have one shape except that rank-0 operands broadcast; the two results have that shape.

Rules, all registered in the block below:
- shape: uint32 operands of one shape (or rank 0) -> two uint32 arrays of that shape;
- impl: vectorised NumPy uint32 arithmetic (wrapping adds, rotations, xors), evaluated in
  cache-sized chunks so that the twenty rounds stay in cache for large counts;
- vmap: elementwise (every operand batched at axis 0, rank-0 unbatched operands broadcast);
- jvp: keys and bits are integers, so no tangent flows: the output tangents are zero (None).
"""
from __future__ import annotations

import numpy as np

from kiln.ir import ShapedArray
from kiln.primitives import bind, impl_rules, jvp_rules, primitive, shape_rules, vmap_rules

threefry2x32_p = primitive("threefry2x32", multiple_results=True)

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = np.uint32(0x1BD11BDA)
_CHUNK = 1 << 14


def _threefry2x32_shape(k0, k1, x0, x1):
    avals = (k0, k1, x0, x1)
    for a in avals:
        if a.dtype != np.uint32:
            raise TypeError("kiln.lax.threefry2x32 takes uint32 operands, got "
                            + ", ".join(v.str_short() for v in avals))
    shapes = {a.shape for a in avals if a.shape != ()}
    if len(shapes) > 1:
        raise TypeError("kiln.lax.threefry2x32 needs operands of one shape (or rank 0), got "
                        + ", ".join(v.str_short() for v in avals))
    shape = shapes.pop() if shapes else ()
    out = ShapedArray(shape, np.dtype(np.uint32), False)
    return [out, out]


def _rounds(ks, x0, x1):
    """The 20 rounds on 1-d uint32 chunks x0, x1 (modified in place); ks: 3 key words, each a
    scalar or an array of the chunk's length."""
    tmp = np.empty_like(x0)
    x0 += ks[0]
    x1 += ks[1]
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 += x1
            np.left_shift(x1, np.uint32(r), out=tmp)
            x1 >>= np.uint32(32 - r)
            x1 |= tmp
            x1 ^= x0
        x0 += ks[(i + 1) % 3]
        x1 += ks[(i + 2) % 3]
        x1 += np.uint32(i + 1)


def threefry2x32_numpy(k0, k1, x0, x1):
    """Threefry-2x32 on NumPy uint32 values (broadcast together); returns (y0, y1)."""
    k0, k1, x0, x1 = (np.asarray(v, dtype=np.uint32) for v in (k0, k1, x0, x1))
    shape = np.broadcast_shapes(k0.shape, k1.shape, x0.shape, x1.shape)
    n = int(np.prod(shape, dtype=np.int64))
    y0 = np.array(np.broadcast_to(x0, shape), dtype=np.uint32).reshape(-1)
    y1 = np.array(np.broadcast_to(x1, shape), dtype=np.uint32).reshape(-1)
    scalar_keys = k0.shape == () and k1.shape == ()
    if scalar_keys:
        ks = (k0[()], k1[()], k0[()] ^ k1[()] ^ _PARITY)
    else:
        fk0 = np.broadcast_to(k0, shape).reshape(-1)
        fk1 = np.broadcast_to(k1, shape).reshape(-1)
    with np.errstate(over="ignore"):
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            if not scalar_keys:
                a, b = fk0[start:stop], fk1[start:stop]
                ks = (a, b, a ^ b ^ _PARITY)
            _rounds(ks, y0[start:stop], y1[start:stop])
    return y0.reshape(shape), y1.reshape(shape)


def _threefry2x32_impl(k0, k1, x0, x1):
    return list(threefry2x32_numpy(k0, k1, x0, x1))


def _threefry2x32_jvp(primals, tangents):
    return list(bind(threefry2x32_p, *primals)), [None, None]


def _threefry2x32_vmap(args, dims):
    from kiln.passes.vmap import elementwise_rule
    return elementwise_rule(threefry2x32_p)(args, dims)


shape_rules[threefry2x32_p] = _threefry2x32_shape
impl_rules[threefry2x32_p] = _threefry2x32_impl
jvp_rules[threefry2x32_p] = _threefry2x32_jvp
vmap_rules[threefry2x32_p] = _threefry2x32_vmap


def threefry2x32(k0, k1, x0, x1):
    """Threefry-2x32 of counters (x0, x1) under key (k0, k1), all uint32: a pair (y0, y1)."""
    return bind(threefry2x32_p, k0, k1, x0, x1)


# ---------------------------------------------------------------------------- erf_inv for samplers
# random.normal and random.truncated_normal map uniforms through erf_inv. To draw the values
# JAX draws, this is XLA's float32 algorithm (Giles, "Approximating the erfinv function",
# GPU Computing Gems 2010): a degree-8 polynomial in w = -log1p(-x*x), evaluated, as XLA's CPU
# compiler does, with fused multiply-adds (LLVM fuses a multiply into an add only where the
# product has no other use), and XLA's own log1p (`kiln.lax.xla_math`).
# float64 (and other dtypes) use SciPy's erfinv.
from kiln.lax import xla_math  # noqa: E402
from kiln.primitives import aval_of as _aval_of  # noqa: E402

random_erf_inv_p = primitive("random_erf_inv")

_W_SMALL = np.array([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                     -0.00125372503, -0.00417768164, 0.246640727, 1.50140941], np.float32)
_W_LARGE = np.array([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                     -0.0076224613, 0.00943887047, 1.00167406, 2.83297682], np.float32)


_fma32 = xla_math.fma32


def erf_inv_numpy(x):
    x = np.asarray(x)
    if x.dtype != np.float32:
        import scipy.special as sp
        return np.asarray(sp.erfinv(x)).astype(x.dtype)
    with np.errstate(all="ignore"):
        # -(x * x) has several uses, so LLVM does not fuse it into log1p's 1 + (-(x * x))
        w = -xla_math.log1p32(-(x * x))
        small = w < np.float32(5)
        w = np.where(small, w - np.float32(2.5), np.sqrt(w) - np.float32(3)).astype(np.float32)
        p = np.where(small, _W_SMALL[0], _W_LARGE[0]).astype(np.float32)
        for i in range(1, 9):
            p = _fma32(p, w, np.where(small, _W_SMALL[i], _W_LARGE[i]))
        out = (p * x).astype(np.float32)
        return np.where(np.abs(x) == np.float32(1), x * np.finfo(np.float32).max, out).astype(np.float32)


def _random_erf_inv_shape(x):
    if np.dtype(x.dtype).kind != "f":
        raise TypeError(f"kiln: erf_inv takes floating values, got {x.str_short()}")
    return [x]


def _random_erf_inv_jvp(primals, tangents):
    from kiln.lax.elementwise import exp_p, mul_p
    (x,), (t,) = primals, tangents
    y = bind(random_erf_inv_p, x)
    dtype = _aval_of(x).dtype
    coef = bind(mul_p, np.asarray(np.sqrt(np.pi) / 2, dtype), bind(exp_p, bind(mul_p, y, y)))
    return [y], [None if t is None else bind(mul_p, t, coef)]


def _random_erf_inv_vmap(args, dims):
    from kiln.passes.vmap import elementwise_rule
    return elementwise_rule(random_erf_inv_p)(args, dims)


shape_rules[random_erf_inv_p] = _random_erf_inv_shape
impl_rules[random_erf_inv_p] = lambda x: [erf_inv_numpy(x)]
jvp_rules[random_erf_inv_p] = _random_erf_inv_jvp
vmap_rules[random_erf_inv_p] = _random_erf_inv_vmap
