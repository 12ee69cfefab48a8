"""The beta distribution: standard density z**(a - 1) (1 - z)**(b - 1) / B(a, b) on [0, 1]."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import betainc, betaln, xlog1py, xlogy
from kiln.scipy.stats._util import LocScale


def _logpdf(z, a, b):
    density = xlogy(a - 1, z) + xlog1py(b - 1, -z) - betaln(a, b)
    density = knp.where((z < 0) | (z > 1), -knp.inf, density)
    return knp.where((a > 0) & (b > 0), density, knp.nan)


def _clip01(z):
    return knp.minimum(knp.maximum(z, 0), 1)


logpdf, pdf, cdf, logcdf, sf, logsf = LocScale(
    __name__, ("a", "b"), logpdf=_logpdf,
    cdf=lambda z, a, b: betainc(a, b, _clip01(z)),
    sf=lambda z, a, b: betainc(b, a, 1 - _clip01(z)),  # by the symmetry I_x(a, b) = 1 - I_(1-x)(b, a)
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
