"""The Poisson distribution: mu**y exp(-mu) / y! for y = 0, 1, ..."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.special import entr, gammaincc, gammaln, xlogy
from kiln.scipy.stats._util import Shifted, inexact


def _logpmf(y, mu):
    out = xlogy(y, mu) - gammaln(y + 1) - mu
    return knp.where((y < 0) | (knp.round(y) != y), -knp.inf, out)


def _cdf(y, mu):
    # P(Y <= y) = Q(floor(y) + 1, mu), the regularized upper incomplete gamma function.
    return knp.where(y < 0, 0, gammaincc(knp.floor(y + 1), mu))


logpmf, pmf, cdf = Shifted(__name__, ("mu",), logpmf=_logpmf, cdf=_cdf).public("logpmf", "pmf", "cdf")

# Below this mean the entropy is summed term by term over 0 <= y < _TERMS (the terms past that
# underflow); above it, the asymptotic expansion is accurate to float64's precision.
_SUM_BELOW = 100.0
_TERMS = 256


def entropy(mu, loc=0):
    """-sum_y P(y) log P(y); loc shifts the support and does not change it."""
    mu, loc = inexact(mu, loc)
    small = mu < _SUM_BELOW
    mu_small = knp.where(small, mu, 1)
    y = knp.arange(_TERMS, dtype=mu.dtype).reshape((_TERMS,) + (1,) * mu.ndim)
    summed = knp.sum(entr(knp.exp(_logpmf(y, mu_small))), axis=0)
    mu_large = knp.where(small, _SUM_BELOW, mu)
    inv = 1 / mu_large
    # 1/2 log(2 pi e mu) - 1/(12 mu) - 1/(24 mu^2) - 19/(360 mu^3) + O(mu^-4)
    asymptotic = 0.5 * knp.log(2 * np.pi * np.e * mu_large) - inv * (1 / 12 + inv * (1 / 24 + inv * (19 / 360)))
    summed = knp.where(mu == 0, 0, summed)  # all mass at 0 (lgamma(1) is not exactly 0 in float32)
    return knp.where(small, summed, asymptotic)
