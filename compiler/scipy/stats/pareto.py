"""The Pareto distribution with shape b: standard sf z**-b on z >= 1."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.stats._util import LocScale


def _logpdf(z, b):
    return knp.where(z < 1, -knp.inf, knp.log(b) - (b + 1) * knp.log(z))


def _ppf(q, b):
    return knp.where((q >= 0) & (q <= 1), (1 - q) ** (-1 / b), knp.nan)


logpdf, pdf, cdf, logcdf, sf, logsf, ppf = LocScale(
    __name__, ("b",), logpdf=_logpdf,
    cdf=lambda z, b: knp.where(z < 1, 0, 1 - z ** -b),
    logcdf=lambda z, b: knp.where(z < 1, -knp.inf, knp.log1p(-(z ** -b))),
    logsf=lambda z, b: knp.where(z < 1, 0, -b * knp.log(z)), ppf=_ppf,
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf")
