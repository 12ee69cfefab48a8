"""kiln.scipy: the parts of SciPy that JAX provides (special functions, stats)."""
from kiln.scipy import special, stats  # noqa: F401
