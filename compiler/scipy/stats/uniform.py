"""The uniform distribution on [loc, loc + scale]."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.stats._util import LocScale


def _logpdf(z):
    return knp.where((z < 0) | (z > 1), -knp.inf, 0)


def _cdf(z):
    # A NaN z falls in no case and gives 0, as in JAX.
    return knp.where((z >= 0) & (z <= 1), z, knp.where(z > 1, 1, 0))


def _ppf(q):
    return knp.where((q >= 0) & (q <= 1), q, knp.nan)


logpdf, pdf, cdf, ppf = LocScale(
    __name__, logpdf=_logpdf, cdf=_cdf, ppf=_ppf,
).public("logpdf", "pdf", "cdf", "ppf")
