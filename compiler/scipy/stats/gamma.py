"""The gamma distribution with shape a: standard density z**(a - 1) exp(-z) / Gamma(a), z >= 0."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import gammainc, gammaincc, gammaln, xlogy
from kiln.scipy.stats._util import LocScale


def log_density(z, a):
    """The log density on the support, z >= 0."""
    return xlogy(a - 1, z) - z - gammaln(a)


def standard_logpdf(z, a):
    inside = z >= 0  # (so -inf at a NaN z, as JAX's)
    z = knp.where(inside, z, 1)  # a finite stand-in outside, so that gradients stay finite
    return knp.where(inside, log_density(z, a), -knp.inf)


def standard_cdf(z, a):
    return gammainc(a, knp.maximum(z, 0))


def standard_sf(z, a):
    return knp.where(z < 0, 1, gammaincc(a, z))


logpdf, pdf, cdf, logcdf, sf, logsf = LocScale(
    __name__, ("a",), logpdf=standard_logpdf, cdf=standard_cdf, sf=standard_sf,
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
