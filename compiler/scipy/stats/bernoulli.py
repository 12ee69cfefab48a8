"""The Bernoulli distribution: P(1) = p, P(0) = 1 - p."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import xlog1py, xlogy
from kiln.scipy.stats._util import Shifted, inexact


def _logpmf(y, p):
    out = xlogy(y, p) + xlog1py(1 - y, -p)
    return knp.where((y < 0) | (y > 1), -knp.inf, out)


logpmf, pmf = Shifted(__name__, ("p",), logpmf=_logpmf).public("logpmf", "pmf")


def _invalid(p, *values):
    bad = knp.isnan(p) | (p < 0) | (p > 1)
    for v in values:
        bad = bad | knp.isnan(v)
    return bad


def cdf(k, p):
    k, p = inexact(k, p)
    steps = knp.where(k < 0, 0, knp.where(k < 1, 1 - p, 1))
    return knp.where(_invalid(p, k), knp.nan, steps)


def ppf(q, p):
    q, p = inexact(q, p)
    out = knp.where(q <= 1 - p, knp.zeros_like(q), knp.ones_like(q))
    return knp.where(_invalid(p, q) | (q < 0) | (q > 1), knp.nan, out)
