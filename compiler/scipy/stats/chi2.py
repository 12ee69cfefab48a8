"""The chi-squared distribution with df degrees of freedom: gamma(df / 2) scaled by 2."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.stats import gamma
from kiln.scipy.stats._util import LocScale


def _logpdf(z, df):
    left = z < 0  # (a NaN z gives NaN here, as JAX's)
    z = knp.where(left, 1, z)
    return knp.where(left, -knp.inf, gamma.log_density(z / 2, df / 2) - float(np.log(2.0)))


logpdf, pdf, cdf, logcdf, sf, logsf = LocScale(
    __name__, ("df",), logpdf=_logpdf,
    cdf=lambda z, df: gamma.standard_cdf(z / 2, df / 2),
    sf=lambda z, df: gamma.standard_sf(z / 2, df / 2),
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
