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
    (x,) = promote_inexact(x)
    return bind(ew.logistic_p, x)


def log_sigmoid(x):
    return -softplus(-knp.asarray(x))


def softplus(x):
    (x,) = promote_inexact(x)
    return knp.logaddexp(x, 0)


def silu(x):
    (x,) = promote_inexact(x)
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
    (x,) = promote_inexact(x)
    shifted = x - knp.max(x, axis, keepdims=True)
    unnormalized = knp.exp(shifted)
    return unnormalized / knp.sum(unnormalized, axis, keepdims=True)


def log_softmax(x, axis=-1, where=None):
    (x,) = promote_inexact(x)
    shifted = x - knp.max(x, axis, keepdims=True)
    return shifted - knp.log(knp.sum(knp.exp(shifted), axis, keepdims=True))


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    x = knp.asarray(x)
    classes = knp.arange(num_classes)
    out = knp.expand_dims(x, axis) == knp.reshape(classes, [num_classes if i == (axis % (x.ndim + 1)) else 1
                                                           for i in range(x.ndim + 1)])
    return out.astype(knp.float32 if dtype is None else dtype)
