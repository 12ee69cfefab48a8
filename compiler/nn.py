"""kiln.nn: activation functions with JAX's names (jax.nn)."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.lax import elementwise as ew
from kiln.numpy.core import promote_inexact
from kiln.primitives import bind
from kiln.scipy.special import logsumexp  # noqa: F401


def relu(x):
    x = knp.asarray(x)
    return knp.maximum(x, 0)


def relu6(x):
    return knp.minimum(knp.maximum(x, 0), 6)


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
    (x,) = promote_inexact(x)
    if approximate:
        c = np.sqrt(2 / np.pi).astype(x.dtype)
        return 0.5 * x * (1 + knp.tanh(c * (x + 0.044715 * (x * x * x))))
    return 0.5 * x * (1 + bind(ew.erf_p, x / np.sqrt(2).astype(x.dtype)))


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


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    x = knp.asarray(x)
    classes = knp.arange(num_classes)
    out = knp.expand_dims(x, axis) == knp.reshape(classes, [num_classes if i == (axis % (x.ndim + 1)) else 1
                                                           for i in range(x.ndim + 1)])
    return out.astype(knp.float32 if dtype is None else dtype)
