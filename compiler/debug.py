"""kiln.debug: printing and callbacks from inside compiled code, as `jax.debug`."""
from kiln.callbacks import debug_callback as callback
from kiln.callbacks import debug_print as print  # noqa: A001  (jax.debug.print)

__all__ = ["callback", "print"]
