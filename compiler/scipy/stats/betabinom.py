"""The beta-binomial distribution: C(n, y) B(y + a, n - y + b) / B(a, b) for y in 0..n."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import betaln
from kiln.scipy.stats._util import inexact


def logpmf(k, n, a, b, loc=0):
    k, n, a, b, loc = inexact(k, n, a, b, loc)
    y = knp.floor(k) - loc  # (k is rounded down before the shift)
    # C(n, y) = 1 / ((n + 1) B(n - y + 1, y + 1))
    log_choose = -(knp.log1p(n) + betaln(n - y + 1, y + 1))
    out = log_choose + betaln(y + a, n - y + b) - betaln(a, b)
    out = knp.where((y == 0) & (n == 0), 0, out)
    out = knp.where((y < 0) | (y > n) | (y + a <= 0), -knp.inf, out)
    return knp.where((n >= 0) & (a > 0) & (b > 0), out, knp.nan)


def pmf(k, n, a, b, loc=0):
    return knp.exp(logpmf(k, n, a, b, loc))
