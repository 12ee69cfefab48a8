"""The Laplace distribution: standard density exp(-|z|) / 2."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.stats._util import LocScale


def _cdf(z):
    # Each side in the form that does not cancel: exp(z) / 2 left of 0, 1 - exp(-z) / 2 right.
    return knp.where(z <= 0, 0.5 * knp.exp(z), 1 - 0.5 * knp.exp(-z))


logpdf, pdf, cdf = LocScale(
    __name__, logpdf=lambda z: -knp.abs(z) - float(np.log(2.0)), cdf=_cdf,
).public("logpdf", "pdf", "cdf")
