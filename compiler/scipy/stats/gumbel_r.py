"""The right-skewed Gumbel distribution: standard cdf exp(-exp(-z))."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.stats._util import LocScale


def _logsf(z):
    from kiln import nn  # kiln.nn imports kiln.scipy
    return nn.log1mexp(knp.exp(-z))


def _ppf(q):
    return knp.where((q > 0) & (q < 1), -knp.log(-knp.log(q)), knp.nan)


logpdf, pdf, cdf, logcdf, sf, logsf, ppf = LocScale(
    __name__, positive_scale=True, logpdf=lambda z: -(z + knp.exp(-z)), logcdf=lambda z: -knp.exp(-z),
    sf=lambda z: -knp.expm1(-knp.exp(-z)), logsf=_logsf, ppf=_ppf, first_arg={"ppf": "p"},
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf")
