"""kiln.scipy.stats: distributions with jax.scipy.stats's names."""
from kiln.scipy.stats import norm  # noqa: F401
