"""The normal distribution truncated to the standardized interval [a, b]."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.special import log_ndtr, ndtr
from kiln.scipy.stats import norm
from kiln.scipy.stats._util import LocScale


def _log_sub_exp(big, small):
    """log(exp(big) - exp(small)) for big >= small."""
    return big + knp.log1p(-knp.exp(small - big))


def _log_mass(lo, hi):
    """log(Phi(hi) - Phi(lo)), the standard normal mass of [lo, hi], without cancellation.

    In a tail, subtract log-cdfs (mirrored into the left tail, where log_ndtr is accurate); an
    interval around 0 holds most of the mass: log1p of minus the two tails."""
    right_tail = lo > 0
    left = knp.where(right_tail, -hi, lo)
    right = knp.where(right_tail, -lo, hi)
    tail = _log_sub_exp(log_ndtr(right), log_ndtr(left))
    middle = knp.log1p(-ndtr(lo) - ndtr(-hi))
    return knp.where((hi <= 0) | right_tail, tail, middle)


def _logpdf(z, a, b):
    out = norm.logpdf(z) - _log_mass(a, b)
    out = knp.where((z < a) | (z > b), -knp.inf, out)
    return knp.where(a < b, out, knp.nan)


def _logcdf(z, a, b):
    z, a, b = knp.broadcast_arrays(z, a, b)
    total = _log_mass(a, b)
    below = _log_mass(a, z) - total
    above = _log_mass(z, b) - total
    # Near 1 the cdf is better as 1 - sf. A NaN z meets no condition and gives 0, as in JAX.
    out = knp.where(z > a, below, 0)
    out = knp.where(below > -0.1, knp.log1p(-knp.exp(above)), out)
    out = knp.where(z <= a, -knp.inf, out)
    out = knp.where(z >= b, 0, out)
    return knp.where(a < b, out, knp.nan)


logpdf, pdf, cdf, logcdf, sf, logsf = LocScale(
    __name__, ("a", "b"), logpdf=_logpdf, logcdf=_logcdf,
    logsf=lambda z, a, b: _logcdf(-z, -b, -a),  # the mirror image
).public("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
