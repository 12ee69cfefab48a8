"""The normal distribution: standard density exp(-z**2 / 2) / sqrt(2 pi)."""
from __future__ import annotations

import numpy as np

from kiln.scipy.special import log_ndtr, ndtr, ndtri
from kiln.scipy.stats._util import LocScale

_HALF_LOG_TWO_PI = 0.5 * float(np.log(2 * np.pi))


def _logpdf(z):
    return -0.5 * z * z - _HALF_LOG_TWO_PI


logpdf, pdf, cdf, logcdf, sf, logsf, ppf, isf = LocScale(
    __name__, logpdf=_logpdf, cdf=ndtr, logcdf=log_ndtr,
    sf=lambda z: ndtr(-z), logsf=lambda z: log_ndtr(-z), ppf=ndtri,
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")
