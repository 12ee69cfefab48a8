"""The Cauchy distribution: standard density 1 / (pi (1 + z**2))."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.stats._util import LocScale


def _cdf(z):
    return 0.5 + knp.arctan(z) / np.pi


logpdf, pdf, cdf, logcdf, sf, logsf, ppf, isf = LocScale(
    __name__, logpdf=lambda z: -float(np.log(np.pi)) - knp.log1p(z * z), cdf=_cdf, sf=lambda z: _cdf(-z),
    ppf=lambda q: knp.tan(np.pi * q - np.pi / 2), isf=lambda q: knp.tan(np.pi / 2 - np.pi * q),
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")
