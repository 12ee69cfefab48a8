"""The negative binomial distribution: y failures before the n-th success,
Gamma(y + n) / (Gamma(n) y!) p**n (1 - p)**y."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import gammaln, xlog1py, xlogy
from kiln.scipy.stats._util import Shifted


def _logpmf(y, n, p):
    log_choose = gammaln(y + n) - gammaln(n) - gammaln(y + 1)
    out = log_choose + xlogy(n, p) + xlog1py(y, -p)
    return knp.where(y < 0, -knp.inf, out)


logpmf, pmf = Shifted(__name__, ("n", "p"), logpmf=_logpmf).public("logpmf", "pmf")
