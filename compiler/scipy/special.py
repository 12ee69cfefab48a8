"""kiln.scipy.special: logsumexp, gammaln, multigammaln, erf, ..."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
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


def xlogy(x, y):
    x, y = promote_inexact(x, y)
    return knp.where(x == 0, 0, x * knp.log(knp.where(x == 0, 1, y)))


def xlog1py(x, y):
    x, y = promote_inexact(x, y)
    return knp.where(x == 0, 0, x * knp.log1p(knp.where(x == 0, 0, y)))
