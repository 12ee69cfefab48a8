"""The geometric distribution: the first success at trial y = 1, 2, ...: (1 - p)**(y - 1) p."""
from __future__ import annotations

from kiln import numpy as knp
from kiln.scipy.special import xlog1py
from kiln.scipy.stats._util import Shifted


def _logpmf(y, p):
    return knp.where(y <= 0, -knp.inf, xlog1py(y - 1, -p) + knp.log(p))


logpmf, pmf = Shifted(__name__, ("p",), logpmf=_logpmf).public("logpmf", "pmf")
