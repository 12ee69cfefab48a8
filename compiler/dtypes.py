"""kiln.dtypes: JAX's `jax.dtypes` names, from kiln.runtime.dtypes.

`float0` is the dtype of the (co)tangents of integer and bool values: `grad(f, allow_int=True)`
and `vjp` return `np.zeros(shape, float0)` for them, and `jvp` takes such tangents.
"""
from kiln.runtime.dtypes import (  # noqa: F401
    canonicalize_dtype, finfo, float0, iinfo, is_weakly_typed, issubdtype, promote_types, result_type)
