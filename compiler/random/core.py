"""kiln.random's keys and basic samplers (uniform, normal, integers, shuffles, ...); see
kiln.random's docstring for how keys are represented and how close floats are to JAX's."""
from __future__ import annotations

import math
import operator

import numpy as np

import kiln.lax as lax
import kiln.numpy as jnp
from kiln.lax.elementwise import fma, libm_p
from kiln.lax import xla_math
from kiln.lax.prng import random_erf_inv_p, threefry2x32
from kiln.primitives import aval_of, bind
from kiln.random import xla_dot, xla_f64
from kiln.runtime import dtypes
from kiln.runtime.array import Array
from kiln.runtime.config import config
from kiln.runtime.prng import PRNGKeyArray, key_dtype

__all__ = [
    "PRNGKey", "key", "key_data", "key_impl", "wrap_key_data", "split", "fold_in", "clone", "bits",
    "uniform", "normal", "randint", "bernoulli", "categorical", "choice", "permutation",
    "truncated_normal", "exponential", "gumbel", "laplace", "logistic", "multivariate_normal",
]

_UINT = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: np.dtype(np.uint32), 64: np.dtype(np.uint64)}


# ---------------------------------------------------------------------------- keys

def _is_concrete(x) -> bool:
    return isinstance(x, (Array, np.ndarray, np.generic, int, float, bool))


def _unwrap(key, name: str):
    """(uint32 key data with a trailing axis of 2, whether the key was typed)."""
    if isinstance(key, PRNGKeyArray):
        return Array(key._value), True
    if isinstance(key, (list, tuple, np.ndarray)):
        key = jnp.asarray(key)
    aval = aval_of(key)
    if aval.dtype != np.uint32 or len(aval.shape) < 1 or aval.shape[-1] != 2:
        raise TypeError(f"JAX encountered invalid PRNG key data: expected key_data.dtype = uint32 and "
                        f"a trailing dimension of 2 in {name}; got {aval.str_short()}")
    return key, False


def _single(key, name: str):
    data, typed = _unwrap(key, name)
    shape = aval_of(data).shape
    if shape != (2,):
        raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                         f"{shape[:-1]} != (). Use jax.vmap for batching.")
    return data, typed


def _wrap(data, typed):
    if typed and isinstance(data, Array):
        return PRNGKeyArray(np.asarray(data))
    return data


def _words(data):
    return data[0], data[1]


def _seed_words(seed):
    """The two key words of an integer seed, as JAX's threefry_seed computes them."""
    if isinstance(seed, (bool, np.bool_)) or (hasattr(seed, "dtype") and np.dtype(aval_of(seed).dtype).kind == "b"):
        raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
    if isinstance(seed, int):
        value = np.int64(seed)
        if not config.x64_enabled:
            value = value.astype(np.int32)
        seed = value
    if isinstance(seed, (np.ndarray, np.generic)) or isinstance(seed, Array):
        arr = np.asarray(seed)
        if arr.shape != ():
            raise TypeError(f"PRNG key seed must be a scalar; got {seed!r}.")
        if arr.dtype.kind not in "iu":
            raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
        if arr.dtype.itemsize < 8 or not config.x64_enabled:
            arr = arr.astype(dtypes.canonicalize_dtype(arr.dtype))
        wide = arr.astype(np.uint64) if arr.dtype.itemsize == 8 else None
        hi = np.uint32(int(wide) >> 32) if wide is not None else np.uint32(0)
        lo = arr.astype(np.uint32) if arr.dtype.itemsize <= 4 else np.uint32(int(wide) & 0xFFFFFFFF)
        return Array(np.array([hi, lo], dtype=np.uint32))
    aval = aval_of(seed)
    if aval.shape != ():
        raise TypeError(f"PRNG key seed must be a scalar; got {aval.str_short()}.")
    if np.dtype(aval.dtype).kind not in "iu":
        raise TypeError(f"PRNG key seed must be an integer; got {aval.str_short()}")
    lo = lax.convert_element_type(seed, np.uint32)
    if np.dtype(aval.dtype).itemsize == 8:
        hi = lax.convert_element_type(lax.convert_element_type(seed, np.uint64) >> np.uint64(32), np.uint32)
    else:
        hi = jnp.zeros((), np.uint32)
    return jnp.stack([hi, lo])


def key(seed, *, impl=None):
    """A typed key array (dtype key<fry>) from an integer seed."""
    _check_impl(impl)
    data = _seed_words(seed)
    return _wrap(data, True)


def PRNGKey(seed, *, impl=None):
    """A raw key: uint32[2] key data from an integer seed."""
    _check_impl(impl)
    return _seed_words(seed)


def _check_impl(impl):
    if impl not in (None, "threefry2x32", key_dtype):
        raise ValueError(f"kiln.random supports only the threefry2x32 PRNG implementation, got {impl!r}")


def key_data(keys):
    """The uint32 data (trailing axis of 2) of typed keys; raw keys are returned as they are."""
    data, _ = _unwrap(keys, "key_data")
    return data


def key_impl(keys):
    _unwrap(keys, "key_impl")
    return "fry"


def wrap_key_data(key_bits_array, *, impl=None, dtype=None):
    """Typed keys from uint32 key data with a trailing axis of 2."""
    _check_impl(impl)
    _check_impl(dtype)
    if isinstance(key_bits_array, PRNGKeyArray):
        raise TypeError("wrap_key_data takes raw key data, got a typed key array")
    data = jnp.asarray(key_bits_array)
    aval = aval_of(data)
    if aval.dtype != np.uint32 or not aval.shape or aval.shape[-1] != 2:
        raise TypeError(f"wrap_key_data expects uint32 key data with a trailing dimension of 2, got "
                        f"{aval.str_short()}")
    return _wrap(data, True)


def clone(key):
    return key


def _canonical_shape(shape, name="shape"):
    if isinstance(shape, (int, np.integer)) or (isinstance(shape, Array) and shape.ndim == 0):
        shape = (operator.index(shape),)
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"Shapes must be 1D sequences of concrete values of integer type, got {shape!r}.") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"kiln.random: {name} must have non-negative dimensions, got {shape}")
    return shape


def _iota_2x32(shape):
    """(hi, lo) uint32 words of each element's 64-bit row-major index in `shape`."""
    size = math.prod(shape)
    if size >= 2 ** 32:
        raise NotImplementedError("kiln.random: arrays of 2**32 elements or more")
    lo = lax.iota(np.uint32, size).reshape(shape)
    hi = jnp.zeros(shape, np.uint32)
    return hi, lo


def _split_data(data, shape):
    k0, k1 = _words(data)
    hi, lo = _iota_2x32(shape)
    y0, y1 = threefry2x32(k0, k1, hi, lo)
    return jnp.stack([y0, y1], axis=len(shape))


def split(key, num=2):
    """`num` new keys (an int or a shape) from one key."""
    data, typed = _single(key, "split")
    shape = _canonical_shape(num, "num")
    return _wrap(_split_data(data, shape), typed)


def _fold_in_data(data, d):
    k0, k1 = _words(data)
    d = lax.convert_element_type(jnp.asarray(d) if not isinstance(d, int) else np.uint32(d & 0xFFFFFFFF)
                                 if d >= 0 else np.uint32(d % 2 ** 32), np.uint32)
    y0, y1 = threefry2x32(k0, k1, np.uint32(0), d)
    return jnp.stack([y0, y1])


def fold_in(key, data):
    """A new key from a key and an integer (folded in as uint32)."""
    kd, typed = _single(key, "fold_in")
    if isinstance(data, int) and not 0 <= data < 2 ** 32:
        raise OverflowError(f"Python integer {data} out of bounds for uint32")
    return _wrap(_fold_in_data(kd, data), typed)


def _random_bits(data, bit_width, shape):
    k0, k1 = _words(data)
    hi, lo = _iota_2x32(shape)
    y0, y1 = threefry2x32(k0, k1, hi, lo)
    if bit_width == 64:
        u64 = np.dtype(np.uint64)
        return ((lax.convert_element_type(y0, u64) << np.uint64(32))
                | lax.convert_element_type(y1, u64))
    bits = lax.bitwise_xor(y0, y1)
    if bit_width != 32:
        bits = lax.convert_element_type(bits, _UINT[bit_width])
    return bits


def bits(key, shape=(), dtype=None):
    """Uniform random bits as unsigned integers."""
    data, _ = _single(key, "bits")
    dtype = dtypes.default_uint_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
    if dtype.kind != "u":
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got {dtype}")
    shape = _canonical_shape(shape)
    return _random_bits(data, dtype.itemsize * 8, shape)


# ---------------------------------------------------------------------------- floats

def _float_dtype(dtype, name, allow_complex=False):
    dtype = dtypes.default_float_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
    if dtype.kind != "f" and not (allow_complex and dtype.kind == "c"):
        raise ValueError(f"dtype argument to `{name}` must be a float dtype, got {dtype}")
    return dtype


def _exact_scale(minval, maxval, dtype) -> bool:
    """Whether floats * (maxval - minval) is exact for floats in [0, 1) with `nmant` bits:
    true when both bounds are concrete scalars whose difference is a power of two."""
    try:
        lo = np.asarray(minval, dtype=dtype)
        hi = np.asarray(maxval, dtype=dtype)
    except Exception:
        return False
    if lo.shape != () or hi.shape != ():
        return False
    with np.errstate(all="ignore"):
        span = (hi - lo).astype(dtype)
    if not np.isfinite(span) or span <= 0:
        return False
    mantissa, _ = np.frexp(span)
    return mantissa == 0.5


def _fma(a, b, c, dtype):
    """a * b + c with one rounding, as XLA's CPU compiler fuses a multiply into an add."""
    if dtype in (np.float32, np.float64):
        return fma(a, b, c, dtype)
    return a * b + c


def _uniform(data, shape, dtype, minval, maxval):
    finfo = np.finfo(dtype)
    nbits, nmant = finfo.bits, finfo.nmant
    rng_bits = 8 if nmant < 8 else nbits
    raw = _random_bits(data, rng_bits, shape)
    uint = _UINT[nbits]
    if rng_bits != nbits:
        raw = lax.convert_element_type(raw, uint)
    mant = raw >> np.asarray(rng_bits - nmant, uint)
    # bitcast(mant | bits(1.0)) - 1.0 == mant * 2**-nmant exactly.
    floats = lax.convert_element_type(mant, dtype) * np.asarray(2.0 ** -nmant, dtype)
    exact = _exact_scale(minval, maxval, dtype)
    lo = lax.convert_element_type(jnp.asarray(minval), dtype)
    hi = lax.convert_element_type(jnp.asarray(maxval), dtype)
    if exact:
        out = floats * (hi - lo) + lo
    else:
        out = _fma(floats, hi - lo, lo, dtype)
    out = jnp.maximum(lo, out)
    return jnp.broadcast_to(out, shape)


def uniform(key, shape=(), dtype=None, minval=0., maxval=1.):
    """Uniform floats in [minval, maxval)."""
    data, _ = _single(key, "uniform")
    dtype = _float_dtype(dtype, "uniform")
    shape = _canonical_shape(shape)
    _check_shape("uniform", shape, np.shape(minval), np.shape(maxval))
    return _uniform(data, shape, dtype, minval, maxval)


def _check_shape(name, shape, *param_shapes):
    if param_shapes:
        try:
            full = np.broadcast_shapes(shape, *param_shapes)
        except ValueError:
            full = None
        if full != tuple(shape):
            raise ValueError(f"{name} parameter shapes must be broadcast-compatible with shape argument, "
                             f"and the result of broadcasting the shapes must equal the shape argument, "
                             f"but got result {full} for shape argument {tuple(shape)}.")


def _sample_shape(name, shape, *param_shapes):
    """`shape` checked against the parameters' shapes, or their broadcast shape when None."""
    if shape is None:
        return tuple(np.broadcast_shapes(*param_shapes)) if param_shapes else ()
    shape = _canonical_shape(shape)
    _check_shape(name, shape, *param_shapes)
    return shape


def _erf_inv(x):
    if aval_of(x).dtype == np.float64:
        return xla_f64.erf_inv(x)
    return bind(random_erf_inv_p, x)


def _exp(x):
    """exp as XLA:CPU computes it: float32 by lax.exp, float64 by `xla_f64.exp`."""
    return xla_f64.exp(x) if aval_of(x).dtype == np.float64 else lax.exp(x)


# XLA:CPU's loop emitter runs a float32 fusion of one axis and fewer than 16 elements as
# 8-wide vectors and one remainder vector. Where an exp or a log is alone in its fusion, XLA's
# own approximation replaces LLVM's intrinsic at widths 8, 4, 2 and 1 only: on a remainder of
# 3, 5, 6 or 7 lanes LLVM calls the C library's expf or logf. (Results of two or more axes,
# and an exp or log fused with further operations, are XLA's at every width.)
_LIBM_REMAINDERS = frozenset({3, 5, 6, 7, 11, 13, 14, 15})


def _log_alone(x):
    """lax.log of x where XLA:CPU computes it alone in a fusion: for float32 arrays of one axis
    and a size in `_LIBM_REMAINDERS`, the C library's logf from element 8 on (on every element
    below 8)."""
    shape = aval_of(x).shape
    if aval_of(x).dtype != np.float32 or len(shape) != 1 or shape[0] not in _LIBM_REMAINDERS:
        return lax.log(x)
    head = 8 if shape[0] > 8 else 0
    tail = bind(libm_p, x[head:], fn="log")
    return jnp.concatenate([lax.log(x[:head]), tail]) if head else tail


def _log1p(x):
    """log1p as XLA:CPU computes it: float32 by lax.log1p, float64 by `xla_f64.log1p`."""
    return xla_f64.log1p(x) if aval_of(x).dtype == np.float64 else lax.log1p(x)


def _normal_real(data, shape, dtype, scale=None):
    """Standard normal variates; times `scale`, a rank-0 value, as XLA forms that product: it
    multiplies the two scalars first, erf_inv(u) * (scale * sqrt(2))."""
    lo = np.nextafter(np.asarray(-1.0, dtype), np.asarray(0.0, dtype))
    u = _uniform(data, shape, dtype, lo, np.asarray(1.0, dtype))
    sqrt2 = np.asarray(np.sqrt(2), dtype)
    return (sqrt2 if scale is None else scale * sqrt2) * _erf_inv(u)


def normal(key, shape=(), dtype=None):
    """Standard normal floats (or complex values)."""
    data, _ = _single(key, "normal")
    dtype = _float_dtype(dtype, "normal", allow_complex=True)
    shape = _canonical_shape(shape)
    if dtype.kind == "c":
        real = np.finfo(dtype).dtype
        kr = _split_data(data, (2,))
        re = _normal_real(kr[0], shape, real).astype(dtype)
        im = _normal_real(kr[1], shape, real).astype(dtype)
        return (re + 1j * im) / np.asarray(np.sqrt(2), dtype)
    return _normal_real(data, shape, dtype)


def _erf_fused(x):
    """erf as XLA computes it fused with other operations: in float32 it saturates at
    3.7439211 however many elements there are (`kiln.lax.xla_math.erf32`)."""
    if aval_of(x).dtype != np.float32:
        return lax.erf(x)
    saturate = np.asarray(xla_math.ERF_SATURATE_FUSED, np.float32)
    return lax.select(lax.abs(x) >= saturate, lax.sign(x), lax.erf(x))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Normal floats truncated to (lower, upper)."""
    data, _ = _single(key, "truncated_normal")
    dtype = _float_dtype(dtype, "truncated_normal")
    shape = _sample_shape("truncated_normal", shape, np.shape(lower), np.shape(upper))
    sqrt2 = np.asarray(np.sqrt(2), dtype)
    lower = lax.convert_element_type(jnp.asarray(lower), dtype)
    upper = lax.convert_element_type(jnp.asarray(upper), dtype)
    # As XLA compiles JAX's jitted sampler: x / sqrt(2) as x * (1 / sqrt(2)), and erf fused
    # with that product.
    inv_sqrt2 = np.asarray(1 / np.sqrt(2), dtype)
    a = _erf_fused(lower * inv_sqrt2)
    b = _erf_fused(upper * inv_sqrt2)
    u = _uniform(data, shape, dtype, a, b)
    out = sqrt2 * _erf_inv(u)
    return jnp.clip(out,
                    lax.nextafter(lax.stop_gradient(lower), np.asarray(np.inf, dtype)),
                    lax.nextafter(lax.stop_gradient(upper), np.asarray(-np.inf, dtype)))


def exponential(key, shape=(), dtype=None):
    data, _ = _single(key, "exponential")
    dtype = _float_dtype(dtype, "exponential")
    shape = _canonical_shape(shape)
    return _exponential(data, shape, dtype)


def _exponential(data, shape, dtype, log1p=None):
    """-log1p(-u) for u uniform in [0, 1); `log1p`: another log1p than XLA's."""
    u = _uniform(data, shape, dtype, 0.0, 1.0)
    return -(log1p or _log1p)(-u)


def gumbel(key, shape=(), dtype=None, mode=None):
    data, _ = _single(key, "gumbel")
    dtype = _float_dtype(dtype, "gumbel")
    shape = _canonical_shape(shape)
    if mode not in (None, "low", "high"):
        raise ValueError(f"Must provide valid mode for gumbel got: {mode}")
    return _gumbel(data, shape, dtype, mode or "low")


def _gumbel(data, shape, dtype, mode):
    info = np.finfo(dtype)
    if mode == "high":
        u = _uniform(data, (2,) + tuple(shape), dtype, 0.0, 1.0)
        high, low = u[0], u[1]
        x = jnp.where(high >= 0.5, high, high + np.asarray(2.0 ** -info.nmant, dtype) * low
                      + np.asarray(info.tiny, dtype))
        return -jnp.log(-_log1p(-x))
    u = _uniform(data, shape, dtype, np.asarray(info.tiny, dtype), np.asarray(1.0, dtype))
    return -jnp.log(-jnp.log(u))


def laplace(key, shape=(), dtype=None):
    data, _ = _single(key, "laplace")
    dtype = _float_dtype(dtype, "laplace")
    shape = _canonical_shape(shape)
    lo = np.asarray(-1.0 + np.finfo(dtype).epsneg, dtype)
    u = _uniform(data, shape, dtype, lo, np.asarray(1.0, dtype))
    return jnp.sign(u) * _log1p(-jnp.abs(u))


def logistic(key, shape=(), dtype=None):
    data, _ = _single(key, "logistic")
    dtype = _float_dtype(dtype, "logistic")
    shape = _canonical_shape(shape)
    x = _uniform(data, shape, dtype, np.asarray(np.finfo(dtype).tiny, dtype), np.asarray(1.0, dtype))
    return jnp.log(x) - _log1p(-x)


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Booleans that are True with probability p."""
    if mode not in ("high", "low"):
        raise ValueError(f"got mode={mode!r}, expected 'high' or 'low'")
    data, _ = _single(key, "bernoulli")
    dtype = aval_of(p).dtype if not isinstance(p, float) else dtypes.default_float_dtype()
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got {dtype}.")
    dtype = dtypes.canonicalize_dtype(dtype)
    p = lax.convert_element_type(jnp.asarray(p), dtype)
    shape = _sample_shape("bernoulli", shape, aval_of(p).shape)
    if mode == "high":
        u = _uniform(data, (2,) + tuple(shape), dtype, 0.0, 1.0)
        u1, u2 = u[0], u[1] * np.asarray(2.0 ** -np.finfo(dtype).nmant, dtype)
        return u2 < p - u1
    return _uniform(data, shape, dtype, 0.0, 1.0) < p


# ---------------------------------------------------------------------------- integers

def _clip_to(val, dtype):
    """val converted to the integer dtype, clipped (not wrapped) to its range."""
    vd = np.dtype(aval_of(val).dtype)
    lo = max(np.iinfo(dtype).min, np.iinfo(vd).min)
    hi = min(np.iinfo(dtype).max, np.iinfo(vd).max)
    return lax.convert_element_type(jnp.clip(val, np.asarray(lo, vd), np.asarray(hi, vd)), dtype)


def randint(key, shape, minval, maxval, dtype=None):
    """Uniform integers in [minval, maxval)."""
    data, _ = _single(key, "randint")
    dtype = dtypes.default_int_dtype() if dtype is None else dtypes.canonicalize_dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"randint only accepts integer dtypes, got {dtype}")
    shape = _canonical_shape(shape)
    _check_shape("randint", shape, np.shape(minval), np.shape(maxval))
    info = np.iinfo(dtype)
    if info.bits < 32:  # as JAX: sampled in int32 (the bounds clipped to dtype), then converted
        lo = jnp.clip(jnp.asarray(minval).astype(np.int32), int(info.min), int(info.max))
        hi = jnp.clip(jnp.asarray(maxval).astype(np.int32), int(info.min), int(info.max) + 1)
        return _randint(data, shape, lo, hi, np.dtype(np.int32)).astype(dtype)
    return _randint(data, shape, minval, maxval, dtype)


def _randint(data, shape, minval, maxval, dtype):
    minval = jnp.asarray(minval)
    maxval = jnp.asarray(maxval)
    if np.dtype(aval_of(minval).dtype).kind not in "iu":
        minval = minval.astype(int)
    if np.dtype(aval_of(maxval).dtype).kind not in "iu":
        maxval = maxval.astype(int)
    mvd = np.dtype(aval_of(maxval).dtype)
    top = _clip_to(jnp.asarray(np.iinfo(dtype).max, dtype), mvd)
    maxval_out_of_range = maxval > top
    minval = _clip_to(minval, dtype)
    maxval = _clip_to(maxval, dtype)
    nbits = np.iinfo(dtype).bits
    keys = _split_data(data, (2,))
    higher = _random_bits(keys[0], nbits, shape)
    lower = _random_bits(keys[1], nbits, shape)
    unsigned = _UINT[nbits]
    span = lax.convert_element_type(maxval - minval, unsigned)
    span = jnp.where(maxval <= minval, np.asarray(1, unsigned), span)
    span = jnp.where(maxval_out_of_range & (maxval > minval), span + np.asarray(1, unsigned), span)
    multiplier = lax.rem(jnp.full_like(span, 2 ** (nbits // 2) % (2 ** nbits)), span)
    multiplier = lax.rem(multiplier * multiplier, span)
    offset = lax.rem(higher, jnp.broadcast_to(span, shape)) * multiplier + lax.rem(lower, jnp.broadcast_to(span, shape))
    offset = lax.rem(offset, jnp.broadcast_to(span, shape))
    return jnp.broadcast_to(minval + lax.convert_element_type(offset, dtype), shape)


def _shuffle(data, x, axis):
    size = math.prod(aval_of(x).shape)
    rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        keys = _split_data(data, (2,))
        data, sub = keys[0], keys[1]
        sort_keys = _random_bits(sub, 32, aval_of(x).shape)
        _, x = lax.sort((sort_keys, x), dimension=axis, is_stable=True, num_keys=1)
    return x


def permutation(key, x, axis=0, independent=False):
    """A random permutation of x along axis (of arange(x) for an integer x)."""
    data, _ = _single(key, "permutation")
    if isinstance(x, (int, np.integer)) or (_is_concrete(x) and np.ndim(x) == 0):
        n = operator.index(x)
        return _shuffle(data, jnp.arange(n), 0)
    x = jnp.asarray(x)
    ndim = len(aval_of(x).shape)
    if ndim == 0:
        raise TypeError("x must be an integer or at least 1-dimensional")
    axis = axis % ndim
    if independent or ndim == 1:
        return _shuffle(data, x, axis)
    ind = _shuffle(data, jnp.arange(aval_of(x).shape[axis]), 0)
    return jnp.take(x, ind, axis=axis)


def _top_k_indices(g, k):
    """Indices of the k largest entries along the last axis (ties: lower index first)."""
    n = aval_of(g).shape[-1]
    idx = jnp.broadcast_to(lax.iota(np.int32, n), aval_of(g).shape)
    _, order = lax.sort((-g, idx), dimension=len(aval_of(g).shape) - 1, is_stable=True, num_keys=1)
    return order[..., :k]


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Random samples from a (or arange(a)), with or without replacement, optionally weighted."""
    data, _ = _single(key, "choice")
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape argument of jax.random.choice must be a sequence, got {shape}")
    shape = _canonical_shape(shape)
    arr = jnp.asarray(a)
    arr_shape = aval_of(arr).shape
    if len(arr_shape) == 0:
        n_inputs = operator.index(a if isinstance(a, int) else int(np.asarray(a)))
    else:
        axis = axis % len(arr_shape)
        n_inputs = arr_shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return jnp.zeros(shape, dtype=aval_of(arr).dtype)
    if n_inputs <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(f"Cannot take a larger sample (size {n_draws}) than population (size {n_inputs}) "
                         f"when 'replace=False'")
    key_like = _wrap(data, False)
    if p is None:
        if replace:
            ind = randint(key_like, shape, 0, n_inputs)
            result = ind if len(arr_shape) == 0 else jnp.take(arr, ind, axis=axis)
        else:
            perm = permutation(key_like, n_inputs if len(arr_shape) == 0 else arr, axis)
            slices = (slice(None),) * (axis if len(arr_shape) else 0) + (slice(n_draws),)
            result = perm[slices]
    else:
        p_arr = jnp.asarray(p)
        if np.dtype(aval_of(p_arr).dtype).kind != "f":
            p_arr = p_arr.astype(dtypes.default_float_dtype())
        if aval_of(p_arr).shape != (n_inputs,):
            raise ValueError("p must be None or a 1D vector with the same size as a.shape[axis]. "
                             f"p has shape {aval_of(p_arr).shape} and a.shape[axis] is {n_inputs}.")
        pdt = np.dtype(aval_of(p_arr).dtype)
        if replace:
            p_cuml = jnp.cumsum(p_arr)
            r = p_cuml[-1] * (1 - _uniform(data, shape, pdt, 0.0, 1.0))
            ind = jnp.sum(p_cuml < r[..., None], axis=-1).astype(dtypes.default_int_dtype())
        else:
            g = _gumbel(data, (n_inputs,), pdt, mode or "low") + jnp.log(p_arr)
            ind = _top_k_indices(g, n_draws).astype(dtypes.default_int_dtype())
        result = ind if len(arr_shape) == 0 else jnp.take(arr, ind, axis=axis)
    out_shape = shape if len(arr_shape) == 0 else arr_shape[:axis] + tuple(shape) + arr_shape[axis + 1:]
    return result.reshape(out_shape)


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Samples from categorical distributions given by unnormalised log probabilities."""
    data, _ = _single(key, "categorical")
    logits = jnp.asarray(logits)
    lshape = aval_of(logits).shape
    ndim = len(lshape)
    axis = axis % ndim
    batch_shape = tuple(np.delete(np.array(lshape, dtype=np.int64), axis).tolist())
    shape = _sample_shape("categorical", shape, batch_shape)
    prefix = shape[:len(shape) - len(batch_shape)]
    dtype = np.dtype(aval_of(logits).dtype)
    if replace:
        neg_axis = axis - ndim
        logits_shape = list(shape[len(shape) - len(batch_shape):])
        logits_shape.insert(neg_axis % ndim, lshape[axis])
        g = _gumbel(data, (*prefix, *logits_shape), dtype, mode or "low")
        expanded = logits.reshape((1,) * len(prefix) + lshape)
        return jnp.argmax(g + expanded, axis=neg_axis)
    logits = logits + _gumbel(data, lshape, dtype, mode or "low")
    k = math.prod(prefix)
    if k > lshape[axis]:
        raise ValueError(f"Number of samples without replacement ({k}) cannot exceed number of "
                         f"categories ({lshape[axis]}).")
    ind = _top_k_indices(jnp.moveaxis(logits, axis, -1), k).astype(dtypes.default_int_dtype())
    return jnp.moveaxis(ind, -1, 0).reshape(shape)


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Multivariate normal samples (mean + factor @ z with z standard normal)."""
    if method not in ("svd", "eigh", "cholesky"):
        raise ValueError("method must be one of {'svd', 'eigh', 'cholesky'}")
    data, _ = _single(key, "multivariate_normal")
    mean = jnp.asarray(mean)
    cov = jnp.asarray(cov)
    dt = dtypes.result_type(mean, cov)
    if np.dtype(dt).kind != "f":
        dt = dtypes.default_float_dtype()
    dtype = np.dtype(dt) if dtype is None else _float_dtype(dtype, "multivariate_normal")
    mshape, cshape = aval_of(mean).shape, aval_of(cov).shape
    n = mshape[-1]
    if shape is None:
        shape = np.broadcast_shapes(mshape[:-1], cshape[:-2])
    else:
        shape = _canonical_shape(shape)
    if not isinstance(cov, Array):
        raise NotImplementedError("kiln.random.multivariate_normal needs a concrete covariance")
    factor = jnp.asarray(_covariance_factor(np.asarray(cov, dtype=dt), method).astype(dtype))
    z = _normal_real(data, tuple(shape) + (n,), dtype)
    # factor @ z as XLA sums it for the dot's rows (those of the whole batch under vmap)
    return mean.astype(dtype) + xla_dot.factor_times(factor, z)


def _covariance_factor(c, method):
    """The factor JAX takes of a concrete covariance, from the LAPACK routines jaxlib calls
    (SciPy's: potrf, syevd and gesdd), after the same symmetrization; NaN where potrf fails."""
    import scipy.linalg.lapack as lapack
    if c.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f"kiln.random.multivariate_normal: covariance of dtype {c.dtype}")
    routine = lambda name: getattr(lapack, ("s" if c.dtype == np.float32 else "d") + name)
    if method != "svd":
        c = (c + np.swapaxes(c, -1, -2)) / np.asarray(2, c.dtype)
    factor = np.empty_like(c)
    for index in np.ndindex(c.shape[:-2]):
        a = c[index]
        if method == "cholesky":
            lower, info = routine("potrf")(a, lower=1)
            factor[index] = np.tril(lower) if info == 0 else np.nan
        elif method == "eigh":
            w, v, _ = routine("syevd")(a, compute_v=1, lower=1)
            factor[index] = v * np.sqrt(w)[None, :]
        else:
            u, s, _, _ = routine("gesdd")(a, compute_uv=1, full_matrices=1)
            factor[index] = u * np.sqrt(s)[None, :]
    return factor
