"""The left-skewed Gumbel distribution: standard sf exp(-exp(z)), the mirror image of gumbel_r."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.stats._util import LocScale


def _ppf(q):
    return knp.where((q > 0) & (q < 1), knp.log(-knp.log1p(-q)), knp.nan)


logpdf, pdf, cdf, logcdf, sf, logsf, ppf = LocScale(
    __name__, positive_scale=True, logpdf=lambda z: z - knp.exp(z), logsf=lambda z: -knp.exp(z),
    logcdf=lambda z: knp.log(-knp.expm1(-knp.exp(z))), ppf=_ppf, first_arg={"ppf": "p"},
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf")
