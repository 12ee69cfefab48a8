"""The exponential distribution: standard density exp(-z) on z >= 0."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.stats._util import LocScale


def _logsf(z):
    # log P(Z > z): -z on the support, 0 to its left.
    return knp.where(z < 0, 0, -z)


def _cdf(z):
    return knp.where(z < 0, 0, -knp.expm1(-z))


def _ppf(q):
    inside = (q >= 0) & (q <= 1)
    return knp.where(inside, -knp.log1p(-q), knp.nan)


logpdf, pdf, cdf, logcdf, sf, logsf, ppf = LocScale(
    __name__, logpdf=lambda z: knp.where(z < 0, -knp.inf, -z), logsf=_logsf, cdf=_cdf,
    logcdf=lambda z: knp.log1p(-knp.exp(_logsf(z))), ppf=_ppf,
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf")
