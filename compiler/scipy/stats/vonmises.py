"""The von Mises distribution: density exp(kappa cos x) / (2 pi I0(kappa))."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.special import i0e
from kiln.scipy.stats._util import inexact


def logpdf(x, kappa):
    x, kappa = inexact(x, kappa)
    # I0(kappa) = exp(kappa) i0e(kappa): the exponentials cancel into cos(x) - 1.
    out = kappa * (knp.cos(x) - 1) - knp.log(2 * np.pi * i0e(kappa))
    return knp.where(kappa > 0, out, knp.nan)


def pdf(x, kappa):
    return knp.exp(logpdf(x, kappa))
