"""Linear-algebra primitives (`kiln.lax.linalg`, as `jax.lax.linalg`).

qr_p: `qr(x, full_matrices) -> (q, r)` of a float or complex array of shape (..., m, n), with
k = min(m, n): q is (..., m, k) and r is (..., k, n), or (..., m, m) and (..., m, n) when
`full_matrices`. r is upper triangular; q has orthonormal columns. Rules, all in the block
below:
- shape: a float or complex operand of rank >= 2 -> (q, r) of its dtype as above;
- impl: LAPACK's geqrf/orgqr through scipy.linalg.qr, matrix by matrix: the routines (and
  library) jaxlib calls on CPU, so the factors are JAX's bit for bit;
- vmap: the batch axis moved to the front, where it is one more leading (batch) axis;
- jvp: none yet (it needs a triangular solve): differentiating raises MissingRuleError.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from kiln.ir import ShapedArray
from kiln.primitives import bind, impl_rules, primitive, shape_rules, vmap_rules

qr_p = primitive("qr", multiple_results=True)


def _qr_shape(x, *, full_matrices):
    if np.dtype(x.dtype).kind not in "fc" or len(x.shape) < 2:
        raise TypeError(f"kiln.lax.linalg.qr takes a float or complex array of rank >= 2, got {x.str_short()}")
    *batch, m, n = x.shape
    k = m if full_matrices else min(m, n)
    return [ShapedArray((*batch, m, k), x.dtype, False), ShapedArray((*batch, k, n), x.dtype, False)]


def _qr_impl(x, *, full_matrices):
    *batch, m, n = x.shape
    k = m if full_matrices else min(m, n)
    q = np.zeros((*batch, m, k), x.dtype)
    r = np.zeros((*batch, k, n), x.dtype)
    mode = "full" if full_matrices else "economic"
    for index in np.ndindex(*batch):
        if m and n:
            q[index], r[index] = scipy.linalg.qr(x[index], mode=mode, check_finite=False)
        elif m:  # no columns: q is the identity's first k columns
            q[index] = np.eye(m, k, dtype=x.dtype)
    return [q, r]


def _qr_vmap(args, dims, *, full_matrices):
    from kiln.passes.vmap import move_to_front
    (x,), (d,) = args, dims
    return list(bind(qr_p, move_to_front(x, d), full_matrices=full_matrices)), [0, 0]


shape_rules[qr_p] = _qr_shape
impl_rules[qr_p] = _qr_impl
vmap_rules[qr_p] = _qr_vmap


def qr(x, *, full_matrices=True):
    """The QR decomposition of x (batched over leading axes): a pair (q, r)."""
    return tuple(bind(qr_p, x, full_matrices=bool(full_matrices)))
