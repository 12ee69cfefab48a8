"""kiln.scipy.stats: jax.scipy.stats's distributions and summaries, with its names and signatures.

Most distributions are written once in standardized form and turned into public functions by
the families in _util.py (location-scale, or shifted for the discrete ones)."""
from kiln.scipy.stats import (bernoulli, beta, betabinom, binom, cauchy, chi2, dirichlet, expon,  # noqa: F401
                              gamma, gennorm, geom, gumbel_l, gumbel_r, laplace, logistic, multinomial,
                              multivariate_normal, nbinom, norm, pareto, poisson, t, truncnorm, uniform,
                              vonmises, wrapcauchy)
from kiln.scipy.stats._core import mode, rankdata, sem  # noqa: F401
