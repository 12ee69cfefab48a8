"""The normal distribution: pdf, logpdf, cdf, logcdf, ppf (jax.scipy.stats.norm)."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.numpy.core import promote_inexact
from kiln.scipy import special

_LOG_SQRT_2PI = float(0.5 * np.log(2 * np.pi))  # a Python float: keeps weak inputs weak


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_inexact(x, loc, scale)
    z = (x - loc) / scale
    return -0.5 * z * z - knp.log(scale) - _LOG_SQRT_2PI


def pdf(x, loc=0, scale=1):
    return knp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    x, loc, scale = promote_inexact(x, loc, scale)
    return 0.5 * special.erfc(-(x - loc) / (scale * np.sqrt(2)))


def logcdf(x, loc=0, scale=1):
    return knp.log(cdf(x, loc, scale))


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote_inexact(q, loc, scale)
    return loc + scale * np.sqrt(2) * special.erfinv(2 * q - 1)


def sf(x, loc=0, scale=1):
    return cdf(-knp.asarray(x), -knp.asarray(loc), scale)
