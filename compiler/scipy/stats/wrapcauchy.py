"""The wrapped Cauchy distribution on [0, 2 pi]: density (1 - c**2) / (2 pi (1 + c**2 - 2 c cos x))."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.stats._util import inexact


def logpdf(x, c):
    x, c = inexact(x, c)
    out = knp.log(1 - c * c) - float(np.log(2 * np.pi)) - knp.log(1 + c * c - 2 * c * knp.cos(x))
    out = knp.where((x >= 0) & (x <= 2 * np.pi), out, -knp.inf)
    return knp.where((c > 0) & (c < 1), out, knp.nan)


def pdf(x, c):
    return knp.exp(logpdf(x, c))
