"""kiln.numpy.linalg: the parts of jax.numpy.linalg that kiln has primitives for (qr)."""
from __future__ import annotations

from typing import NamedTuple

from kiln.lax import linalg as lax_linalg
from kiln.numpy.core import asarray, promote_inexact
from kiln.numpy.shapes import diagonal as _diagonal

__all__ = ["QRResult", "diagonal", "qr"]


class QRResult(NamedTuple):
    Q: object
    R: object


def qr(a, mode="reduced"):
    """The QR decomposition of a (..., M, N): (Q, R), or R alone for mode "r"."""
    a, = promote_inexact(asarray(a))
    if mode == "raw":
        raise NotImplementedError("kiln.numpy.linalg.qr: mode='raw' (LAPACK's Householder form) is not supported")
    if mode in ("reduced", "r", "full"):
        full_matrices = False
    elif mode == "complete":
        full_matrices = True
    else:
        raise ValueError(f"Unsupported QR decomposition mode '{mode}'")
    q, r = lax_linalg.qr(a, full_matrices=full_matrices)
    return r if mode == "r" else QRResult(q, r)


def diagonal(x, /, *, offset=0):
    """The diagonals of the matrices in x (..., M, N), along the last axis."""
    return _diagonal(x, offset=offset, axis1=-2, axis2=-1)
