"""The binomial distribution: C(n, y) p**y (1 - p)**(n - y) for y in 0..n."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import gammaln, xlog1py, xlogy
from kiln.scipy.stats._util import Shifted


def _logpmf(y, n, p):
    log_choose = gammaln(n + 1) - (gammaln(y + 1) + gammaln(n - y + 1))
    log_powers = xlogy(y, p) + xlog1py(n - y, -p)
    # The powers vanish only at the degenerate ends (y = 0 with p = 0, y = n with p = 1, n = 0),
    # where the binomial coefficient is exactly 1: keep lgamma's rounding out of it.
    degenerate = (log_powers == 0) | ((y == 0) & (n == 0))
    out = knp.where(degenerate, 0, log_choose + log_powers)
    return knp.where((y >= 0) & (y < n + 1), out, -knp.inf)


logpmf, pmf = Shifted(__name__, ("n", "p"), logpmf=_logpmf).public("logpmf", "pmf")
