"""The multivariate normal distribution N(mean, cov) over the last axis of x.

With cov = L L^T (Cholesky), log N = -|L^-1 (x - mean)|^2 / 2 - n/2 log(2 pi) - sum log diag L.
A scalar mean is the one-dimensional case; a scalar cov is cov times the identity."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.lax import linalg as lax_linalg
from kiln.numpy.core import promote_inexact

_LOG_TWO_PI = float(np.log(2 * np.pi))


def logpdf(x, mean, cov, allow_singular=None):
    if allow_singular is not None:
        raise NotImplementedError("allow_singular argument of multivariate_normal.logpdf")
    x, mean, cov = promote_inexact(x, mean, cov)
    d = x - mean
    if mean.ndim == 0:
        return -0.5 * (d * d / cov + _LOG_TWO_PI + knp.log(cov))
    n = mean.shape[-1]
    if cov.ndim == 0:
        return -0.5 * (knp.sum(d * d, axis=-1) / cov + n * (_LOG_TWO_PI + knp.log(cov)))
    if cov.ndim < 2 or cov.shape[-2:] != (n, n):
        raise ValueError("multivariate_normal.logpdf got incompatible shapes")
    chol = lax_linalg.cholesky(cov)
    batch = knp.broadcast_shapes(chol.shape[:-2], d.shape[:-1])
    white = lax_linalg.triangular_solve(knp.broadcast_to(chol, batch + (n, n)),
                                        knp.broadcast_to(d, batch + (n,))[..., None],
                                        left_side=True, lower=True)[..., 0]
    log_det_half = knp.sum(knp.log(knp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * knp.sum(white * white, axis=-1) - 0.5 * n * _LOG_TWO_PI - log_det_half


def pdf(x, mean, cov):
    return knp.exp(logpdf(x, mean, cov))
