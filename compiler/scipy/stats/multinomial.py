"""The multinomial distribution: n! prod_i p_i**x_i / x_i! over counts x (last axis) summing to n."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.numpy.core import promote_inexact
from kiln.runtime import dtypes
from kiln.scipy.special import gammaln, xlogy


def logpmf(x, n, p):
    (p,) = promote_inexact(p)
    x, n = knp.asarray(x), knp.asarray(n)
    if dtypes.result_type(x, n).kind not in "iu":
        raise ValueError(f"x and n must be of integer type; got x.dtype={x.dtype}, n.dtype={n.dtype}")
    x, n = x.astype(p.dtype), n.astype(p.dtype)
    out = gammaln(n + 1) + knp.sum(xlogy(x, p) - gammaln(x + 1), axis=-1)
    return knp.where(knp.sum(x, axis=-1) == n, out, -knp.inf)


def pmf(x, n, p):
    return knp.exp(logpmf(x, n, p))
