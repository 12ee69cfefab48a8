"""The logistic distribution: standard cdf expit(z), density 1 / (2 cosh(z / 2))**2."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import expit, logit
from kiln.scipy.stats._util import LocScale


def _logpdf(z):
    # log(1 / (e**(z/2) + e**(-z/2))**2), with logaddexp so that large |z| cannot overflow.
    return -2 * knp.logaddexp(z / 2, -z / 2)


logpdf, pdf, cdf, sf, ppf, isf = LocScale(
    __name__, logpdf=_logpdf, cdf=expit, sf=lambda z: expit(-z), ppf=logit, isf=lambda q: -logit(q),
    first_arg={"ppf": "x", "isf": "x"},
).public("logpdf", "pdf", "cdf", "sf", "ppf", "isf")
