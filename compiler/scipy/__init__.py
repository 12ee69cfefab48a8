"""kiln.scipy: the parts of SciPy that JAX provides (special functions, stats, linalg)."""
from kiln.scipy import linalg, special, stats  # noqa: F401
