"""Student's t distribution with df degrees of freedom."""
from __future__ import annotations

import numpy as np

from kiln import numpy as knp
from kiln.scipy.special import gammaln
from kiln.scipy.stats._util import LocScale


def _logpdf(z, df):
    # Gamma((df + 1) / 2) / (Gamma(df / 2) sqrt(df pi)) (1 + z**2 / df) ** -((df + 1) / 2)
    half_df_plus_half = df / 2 + 0.5
    log_norm = gammaln(half_df_plus_half) - gammaln(df / 2) - 0.5 * knp.log(np.pi * df)
    return log_norm - half_df_plus_half * knp.log1p(z * z / df)


logpdf, pdf = LocScale(__name__, ("df",), logpdf=_logpdf).public("logpdf", "pdf")
