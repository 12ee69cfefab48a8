"""The generalized normal distribution: density beta exp(-|x|**beta) / (2 Gamma(1 / beta))."""
from __future__ import annotations


from kiln import numpy as knp
from kiln.scipy.special import gammainc, gammaln
from kiln.scipy.stats._util import inexact


def logpdf(x, beta):
    x, beta = inexact(x, beta)
    return knp.log(beta / 2) - gammaln(1 / beta) - knp.abs(x) ** beta


def pdf(x, beta):
    return knp.exp(logpdf(x, beta))


def cdf(x, beta):
    x, beta = inexact(x, beta)
    # Half the mass on each side; the regularized gamma function gives the part within |x|.
    return 0.5 + 0.5 * knp.sign(x) * gammainc(1 / beta, knp.abs(x) ** beta)


