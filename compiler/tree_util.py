"""``kiln.tree_util``: pytree utilities under the names of ``jax.tree_util``."""
from kiln.runtime.pytree import *  # noqa: F401,F403
from kiln.runtime.pytree import __all__  # noqa: F401
