"""kiln: a source-to-source compiler for numerical Python with JAX's API.

`kiln.jit` reads a function's source, stages it into kiln's typed IR, runs passes and
compiles it. The API mirrors JAX's names, so `import kiln as jax` runs JAX programs.
"""
from kiln.runtime.config import config
from kiln.runtime.array import Array
from kiln.runtime.devices import default_backend, device_count, devices, local_devices
from kiln.errors import CompileError
from kiln import numpy, lax, nn, scipy, sharding, tree, tree_util  # noqa: F401  (numpy installs array methods)
from kiln.api import (checkpoint_policies, clear_caches, closure_convert, ensure_compile_time_eval, eval_shape, jit,
                      linear_transpose, make_ir, make_jaxpr, named_call, named_scope, show, typeof)
from kiln.runtime.config import disable_jit
from kiln.callbacks import ShapeDtypeStruct, pure_callback
from kiln import debug, ops  # noqa: F401  (kiln.debug.print, kiln.ops.segment_sum, ...)
from kiln.batching import pmap, vmap
from kiln.custom_derivatives import checkpoint, custom_jvp, custom_vjp, remat
from kiln import custom_batching  # noqa: F401  (kiln.custom_batching.custom_vmap)
from kiln.ad import grad, hessian, jacfwd, jacobian, jacrev, jvp, linearize, value_and_grad, vjp
from kiln.placement import block_until_ready, device_get, device_put, local_device_count
from kiln import random  # noqa: F401  (kiln.random, issue #6)
from kiln import dtypes  # noqa: F401
from kiln.runtime.dtypes import float0

__version__ = "0.1.0"

__all__ = [
    "checkpoint", "custom_jvp", "dtypes", "float0", "custom_vjp", "remat", "pmap", "vmap", "grad", "hessian", "jacfwd", "jacobian", "jacrev", "jvp", "linearize", "value_and_grad", "vjp",
    "Array", "CompileError", "block_until_ready", "config", "default_backend", "device_count",
    "device_get", "device_put", "devices", "jit", "lax", "local_device_count", "local_devices",
    "make_ir", "make_jaxpr", "nn", "numpy", "random", "scipy", "sharding", "show", "tree", "tree_util",
    "ShapeDtypeStruct", "debug", "eval_shape", "pure_callback", "checkpoint_policies", "clear_caches",
    "closure_convert", "disable_jit", "ensure_compile_time_eval", "linear_transpose", "named_call", "named_scope",
    "typeof", "ops", "custom_batching",
]
