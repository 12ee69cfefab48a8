"""kiln.nn: activation functions with JAX's names (jax.nn)."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.custom_derivatives import custom_jvp
from kiln.lax import elementwise as ew
from kiln.numpy.core import promote_inexact
from kiln.primitives import bind
from kiln.scipy.special import logsumexp  # noqa: F401


@custom_jvp
def relu(x):
    x = knp.asarray(x)
    return knp.maximum(x, 0)


# as JAX: the derivative is 0 at the kink (max's rule would split it, 0.5)
relu.defjvps(lambda g, ans, x: knp.where(x > 0, g, knp.zeros_like(g)))


@custom_jvp
def relu6(x):
    return knp.minimum(knp.maximum(x, 0), 6.0)


relu6.defjvps(lambda g, ans, x: knp.where((x > 0) & (x < 6), g, knp.zeros_like(g)))


def sigmoid(x):
    # No promotion: like JAX's lax.logistic, integer inputs are a TypeError.
    return bind(ew.logistic_p, knp.asarray(x))


def log_sigmoid(x):
    return -softplus(-knp.asarray(x))


def softplus(x):
    (x,) = promote_inexact(x)
    return knp.logaddexp(x, 0)


def silu(x):
    x = knp.asarray(x)
    return x * sigmoid(x)


swish = silu


def gelu(x, approximate: bool = True):
    """x Phi(x), by the tanh approximation or exactly with erf (JAX's operation order)."""
    (x,) = promote_inexact(x)
    if approximate:
        c = np.sqrt(2 / np.pi).astype(x.dtype)
        return x * (0.5 * (1 + knp.tanh(c * (x + 0.044715 * x ** 3))))
    return x * (bind(ew.erf_p, x / np.sqrt(2).astype(x.dtype)) + 1) / 2


def elu(x, alpha=1.0):
    (x,) = promote_inexact(x)
    return knp.where(x > 0, x, alpha * knp.expm1(knp.where(x > 0, 0, x)))


def leaky_relu(x, negative_slope=0.01):
    (x,) = promote_inexact(x)
    return knp.where(x >= 0, x, negative_slope * x)


def softmax(x, axis=-1, where=None):
    """exp(x) / sum(exp(x)) along `axis`; entries outside `where` are left out and give 0."""
    (x,) = promote_inexact(x)
    unnormalized = knp.exp(_shifted(x, axis, where))
    out = unnormalized / knp.sum(unnormalized, axis, where=where, keepdims=True)
    return out if where is None else knp.where(where, out, 0)


def log_softmax(x, axis=-1, where=None):
    """x - logsumexp(x) along `axis`; entries outside `where` are left out and give -inf."""
    (x,) = promote_inexact(x)
    shifted = _shifted(x, axis, where)
    out = shifted - knp.log(knp.sum(knp.exp(shifted), axis, where=where, keepdims=True))
    return out if where is None else knp.where(where, out, -np.inf)


def _shifted(x, axis, where):
    """x minus its maximum along `axis` (masked entries become -inf). The shift cancels out
    of both softmaxes, so it carries no gradient; -inf as the initial maximum makes empty
    and all-masked rows work."""
    from kiln.lax import stop_gradient
    top = knp.max(x, axis, where=where, initial=-np.inf, keepdims=True)
    x = x if where is None else knp.where(where, x, -np.inf)
    return x - stop_gradient(top)


def selu(x):
    return 1.0507009873554804934193349852946 * elu(x, 1.6732632423543772848170429916717)


def celu(x, alpha=1.0):
    return knp.maximum(x, 0.0) + alpha * knp.expm1(knp.minimum(x, 0.0) / alpha)


def glu(x, axis=-1):
    """The first half of x along `axis` gated by the sigmoid of the second half."""
    x = knp.asarray(x)
    if x.shape[axis] % 2:
        raise ValueError("axis size must be divisible by 2")
    a, b = knp.split(x, 2, axis)
    return a * sigmoid(b)


def hard_sigmoid(x):
    return relu6(x + 3.0) / 6.0


def hard_silu(x):
    x = knp.asarray(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x):
    x = knp.asarray(x)
    return knp.where(x > 1, 1, knp.where(x < -1, -1, x))


def soft_sign(x):
    x = knp.asarray(x)
    return x / (knp.abs(x) + 1)


def squareplus(x, b=4):
    x = knp.asarray(x)
    return (x + knp.sqrt(knp.square(x) + b)) / 2


def sparse_plus(x):
    x = knp.asarray(x)
    return knp.where(x <= -1.0, 0.0, knp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def sparse_sigmoid(x):
    return 0.5 * knp.clip(knp.asarray(x) + 1.0, 0.0, 2.0)


def mish(x):
    x = knp.asarray(x)
    return x * knp.tanh(softplus(x))


def tanh(x):
    return knp.tanh(x)


def identity(x):
    return knp.asarray(x)


@custom_jvp
def log1mexp(x):
    """log(1 - exp(-x)) for x >= 0, without cancellation."""
    x = knp.asarray(x)
    return knp.where(x < np.log(2.0), knp.log(-knp.expm1(-x)), knp.log1p(-knp.exp(-x)))


log1mexp.defjvps(lambda g, ans, x: g / knp.expm1(x))


def logmeanexp(x, axis=None, where=None, keepdims=False):
    """log(mean(exp(x))) over `axis`: logsumexp minus the log of the count."""
    lse = logsumexp(x, axis=axis, where=where, keepdims=keepdims)
    ones = knp.ones_like(knp.asarray(x), dtype=lse.dtype)
    count = knp.sum(ones, axis=axis, where=where, keepdims=keepdims)
    return lse - knp.log(count)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *, algorithm="fast"):
    """(x - mean) / sqrt(variance + epsilon) over `axis` (JAX's "fast" variance by default)."""
    if mean is None:
        mean = knp.mean(x, axis, keepdims=True, where=where)
    if variance is None:
        if algorithm == "stable":
            variance = knp.mean(knp.square(knp.subtract(x, mean)), axis, keepdims=True, where=where)
        elif algorithm == "fast":
            variance = knp.clip(knp.mean(knp.square(x), axis, keepdims=True, where=where) - knp.square(mean), 0)
        else:
            raise ValueError(f"Unknown algorithm '{algorithm}'. Expected 'fast' or 'stable'.")
    from kiln.lax import rsqrt
    return knp.subtract(x, mean) * rsqrt(variance + epsilon)


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None, is_causal=False,
                          query_seq_lengths=None, key_value_seq_lengths=None, local_window_size=None,
                          implementation=None, return_residual=False):
    """Scaled dot-product attention over (batch, length, heads, head size) arrays, with
    grouped query heads, bias, boolean mask, causal and local-window masks and sequence
    lengths: JAX's "xla" implementation."""
    if implementation not in (None, "xla"):
        raise ValueError(f"kiln.nn.dot_product_attention: only the 'xla' implementation exists, got "
                         f"{implementation!r}")
    out_shape = knp.shape(query)
    query, key, value = (_at_least_4d(t) for t in (query, key, value))
    bias = None if bias is None else _at_least_4d(bias)
    mask = None if mask is None else _at_least_4d(mask)
    if isinstance(local_window_size, int):
        local_window_size = (local_window_size, local_window_size)
    b, s, k, h = key.shape
    _check_attention_operand(value, (b, s, k, h), key.dtype, "value")
    _check_attention_operand(query, (b, -1, -1, h), key.dtype, "query")
    _check_attention_operand(mask, (-1,) * 4, np.dtype(bool), "mask")
    _check_attention_operand(bias, (-1,) * 4, None, "bias")
    for name, lengths in (("query_seq_lengths", query_seq_lengths), ("key_value_seq_lengths", key_value_seq_lengths)):
        _check_attention_operand(None if lengths is None else knp.asarray(lengths), (b,), np.dtype(np.int32), name)
    if query.shape[-2] % k:
        raise ValueError(f"The number of query heads must be a multiple of key/value heads, but got "
                         f"{query.shape[-2]} vs {k}")
    scale = 1.0 / np.sqrt(h) if scale is None else scale
    t, n = query.shape[1], query.shape[2]
    g = n // k
    # grouped query heads: (B, T, K, G, H), the group axis vmapped over
    query = knp.reshape(query, (b, t, k, g, h))

    def grouped(x):
        if x is None:
            return None
        if x.shape[1] == 1:
            return knp.broadcast_to(x[:, :, None], (x.shape[0], 1, g, x.shape[2], x.shape[3]))
        return knp.reshape(x, (x.shape[0], k, g, x.shape[2], x.shape[3]))
    from kiln.batching import vmap
    q_len = None if query_seq_lengths is None else knp.asarray(query_seq_lengths)
    kv_len = None if key_value_seq_lengths is None else knp.asarray(key_value_seq_lengths)
    core = vmap(lambda q, bias_g, mask_g: _attention_core(q, key, value, bias_g, mask_g, is_causal, scale, q_len,
                                                          kv_len, local_window_size, return_residual),
                in_axes=(3, None if bias is None else 2, None if mask is None else 2), out_axes=3)
    out = core(query, grouped(bias), grouped(mask))
    if return_residual:
        encoded, residual = out
        return knp.reshape(encoded, out_shape), knp.reshape(residual, out_shape[:-1])
    return knp.reshape(out, out_shape)


def _at_least_4d(x):
    x = knp.asarray(x)
    return knp.reshape(x, (1,) * (4 - x.ndim) + x.shape) if x.ndim < 4 else x


def _check_attention_operand(x, shape, dtype, name):
    if x is None:
        return
    if x.ndim != len(shape):
        raise ValueError(f"{name} ndim should be {len(shape)}, but got {x.ndim}")
    if dtype is not None and x.dtype != dtype:
        raise ValueError(f"{name} dtype should be {dtype}, but got {x.dtype}")
    if any(want != -1 and got != want for got, want in zip(x.shape, shape)):
        raise ValueError(f"{name} shape should be {list(shape)}: but got {x.shape}")


def _attention_core(query, key, value, bias, mask, is_causal, scale, q_len, kv_len, window, return_residual):
    logits_dtype = knp.promote_types(query.dtype, np.float32)
    logits = knp.einsum("BTNH,BSNH->BNTS", query, key, preferred_element_type=logits_dtype)
    logits = logits * knp.asarray(scale, logits.dtype)
    if bias is not None:
        logits = (logits + bias).astype(logits.dtype)
    t, s = logits.shape[2], logits.shape[3]
    keep = None

    def both(a, b):
        return b if a is None else knp.logical_and(a, b)
    if mask is not None:
        keep = both(keep, mask)
    if is_causal:
        keep = both(keep, knp.tril(knp.ones((t, s), dtype=bool))[None, None])
    if window is not None:
        q_pos, k_pos = knp.arange(t)[:, None], knp.arange(s)[None, :]
        keep = both(keep, ((q_pos <= k_pos + window[0]) & (q_pos >= k_pos - window[1]))[None, None])
    if q_len is not None or kv_len is not None:
        rows = True if q_len is None else knp.arange(t)[None, :, None] < q_len[:, None, None]
        cols = True if kv_len is None else knp.arange(s)[None, None, :] < kv_len[:, None, None]
        keep = both(keep, knp.logical_and(rows, cols)[:, None])
    if keep is not None:
        # JAX's large negative number: finite in float32 even for float64 logits
        large_negative = -0.7 * min(float(np.finfo(logits.dtype).max), float(np.finfo(np.float32).max))
        logits = knp.where(keep, logits, knp.asarray(large_negative, logits.dtype))
    logits = logits.astype(np.float32)
    probs = softmax(logits, axis=-1).astype(key.dtype)
    encoded = knp.einsum("BNTS,BSNH->BTNH", probs, value)
    if q_len is not None:
        encoded = encoded * (knp.arange(encoded.shape[1])[None, :] < q_len[:, None])[:, :, None, None].astype(
            encoded.dtype)
    if return_residual:
        from kiln.lax import stop_gradient
        residual = knp.transpose(logsumexp(logits, axis=-1).astype(key.dtype), (0, 2, 1))
        return encoded, stop_gradient(residual)
    return encoded


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    x = knp.asarray(x)
    classes = knp.arange(num_classes)
    out = knp.expand_dims(x, axis) == knp.reshape(classes, [num_classes if i == (axis % (x.ndim + 1)) else 1
                                                           for i in range(x.ndim + 1)])
    return out.astype(knp.float32 if dtype is None else dtype)
