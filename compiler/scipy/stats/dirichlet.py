"""The Dirichlet distribution: prod_i x_i**(alpha_i - 1) / B(alpha) on the simplex.

x holds the components along axis 0; with one component fewer than alpha, the last one is
1 minus their sum."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.numpy.core import promote_inexact
from kiln.scipy.special import gammaln, xlogy


def logpdf(x, alpha):
    x, alpha = promote_inexact(x, alpha)
    if alpha.ndim != 1:
        raise ValueError(f"`alpha` must be one-dimensional; got alpha.shape={alpha.shape}")
    k = alpha.shape[0]
    if x.shape[0] == k - 1:
        x = knp.concatenate([x, 1 - knp.sum(x, axis=0, keepdims=True)], axis=0)
    elif x.shape[0] != k:
        raise ValueError("`x` must have either the same number of entries as `alpha` "
                         f"or one entry fewer; got x.shape={x.shape}, alpha.shape={alpha.shape}")
    alpha_col = alpha.reshape((k,) + (1,) * (x.ndim - 1))
    log_beta = knp.sum(gammaln(alpha)) - gammaln(knp.sum(alpha))
    out = knp.sum(xlogy(alpha_col - 1, x), axis=0) - log_beta
    on_simplex = knp.all(x > 0, axis=0) & (knp.abs(knp.sum(x, axis=0) - 1) < 1e-6)
    return knp.where(on_simplex, out, -knp.inf)


def pdf(x, alpha):
    return knp.exp(logpdf(x, alpha))
