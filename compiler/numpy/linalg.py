"""kiln.numpy.linalg: jax.numpy.linalg on the factorizations of `kiln.lax.linalg`.

The functions follow JAX's definitions (and so its results): determinants from the LU
factorization (2x2 and 3x3 by their formulas), solves by LU with triangular solves, inverses
as solves, norms, pseudo-inverses, ranks and least squares from the SVD. Matrices are stacked
along leading axes. Not here yet: eig and eigvals (non-Hermitian eigenproblems), tensorinv
and tensorsolve.
"""
from __future__ import annotations

import builtins
import operator
from typing import NamedTuple

import numpy as np

from kiln.custom_derivatives import custom_jvp
from kiln.lax import linalg as lax_linalg
from kiln.numpy import contractions, reductions
from kiln.numpy import math as ufuncs
from kiln.numpy.contractions import matmul, outer, tensordot, vecdot  # noqa: F401  (jnp.linalg names)
from kiln.numpy.core import asarray, broadcast_to, promote_inexact, where
from kiln.numpy.creation import arange, eye, zeros
from kiln.numpy.shapes import diagonal as _diagonal
from kiln.numpy.shapes import expand_dims, matrix_transpose, moveaxis, take_along_axis  # noqa: F401

__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "cond", "cross", "det", "diagonal",
           "eigh", "eigvalsh", "inv", "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank",
           "matrix_transpose", "multi_dot", "norm", "outer", "pinv", "qr", "slogdet", "solve", "svd", "svdvals",
           "tensordot", "trace", "vecdot", "vector_norm"]


class QRResult(NamedTuple):
    Q: object
    R: object


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


def _inexact(a):
    a, = promote_inexact(asarray(a))
    return a


def _stack_of_matrices(name, a, square=False):
    if a.ndim < 2:
        raise ValueError(f"kiln.numpy.linalg.{name} takes arrays of matrices (ndim >= 2), got shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"kiln.numpy.linalg.{name} takes square matrices, got shape {a.shape}")


def _H(x):
    return ufuncs.conj(matrix_transpose(x)) if np.dtype(x.dtype).kind == "c" else matrix_transpose(x)


# ---------------------------------------------------------------------------- factorizations

def qr(a, mode="reduced"):
    """The QR decomposition of a (..., M, N): (Q, R), or R alone for mode "r"."""
    a = _inexact(a)
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


def cholesky(a, *, upper=False, symmetrize_input=True):
    """The Cholesky factor of each Hermitian positive definite matrix: lower (a = L L^H), or
    upper with `upper` (NaN where a matrix is not positive definite)."""
    a = _inexact(a)
    _stack_of_matrices("cholesky", a, square=True)
    factor = lax_linalg.cholesky(a, symmetrize_input=symmetrize_input)
    return _H(factor) if upper else factor


def eigh(a, UPLO=None, symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors of Hermitian matrices."""
    a = _inexact(a)
    _stack_of_matrices("eigh", a, square=True)
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"UPLO must be 'L' or 'U', got {UPLO!r}")
    v, w = lax_linalg.eigh(a, lower=UPLO != "U", symmetrize_input=symmetrize_input)
    return EighResult(w, v)


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """The singular value decomposition: (U, S, Vh) with a = U diag(S) Vh, or S alone."""
    a = _inexact(a)
    _stack_of_matrices("svd", a)
    if compute_uv:
        return SVDResult(*lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=True))
    return lax_linalg.svd(a, full_matrices=full_matrices, compute_uv=False)


def svdvals(x):
    return svd(x, compute_uv=False)


# ---------------------------------------------------------------------------- determinants

def _slogdet_lu(a):
    lu, pivots, _ = lax_linalg.lu(a)
    diag = _diagonal(lu, axis1=-2, axis2=-1)
    is_zero = reductions.any(diag == 0, axis=-1)
    parity = reductions.count_nonzero(pivots != arange(a.shape[-1]), axis=-1)
    if np.dtype(a.dtype).kind == "c":
        sign = reductions.prod(diag / ufuncs.abs(diag).astype(diag.dtype), axis=-1)
    else:
        sign = asarray(1, a.dtype)
        parity = parity + reductions.count_nonzero(diag < 0, axis=-1)
    sign = where(is_zero, asarray(0, a.dtype), sign * (-2 * (parity % 2) + 1).astype(a.dtype))
    logdet = where(is_zero, asarray(-np.inf, a.dtype),
                   reductions.sum(ufuncs.log(ufuncs.abs(diag)).astype(a.dtype), axis=-1))
    return sign, ufuncs.real(logdet)


@custom_jvp
def _slogdet(a):
    return _slogdet_lu(a)


@_slogdet.defjvp
def _slogdet_jvp(primals, tangents):
    (a,), (ta,) = primals, tangents
    sign, logdet = _slogdet(a)
    log_dot = trace(solve(a, ta))
    if np.dtype(a.dtype).kind == "c":
        sign_dot = (log_dot - ufuncs.real(log_dot).astype(log_dot.dtype)) * sign
        log_dot = ufuncs.real(log_dot)
    else:
        sign_dot = sign * 0
    return (sign, logdet), (sign_dot, log_dot)


def slogdet(a, *, method=None):
    """(sign, log|det|) of each square matrix, from its LU factorization."""
    a = _inexact(a)
    _stack_of_matrices("slogdet", a, square=True)
    if method not in (None, "lu"):
        raise ValueError(f"kiln.numpy.linalg.slogdet: method {method!r} is not supported (only 'lu')")
    return SlogdetResult(*_slogdet(a))


def _det_formula(a):
    n = a.shape[-1]
    e = lambda i, j: a[..., i, j]
    if n == 2:
        return e(0, 0) * e(1, 1) - e(0, 1) * e(1, 0)
    return (e(0, 0) * e(1, 1) * e(2, 2) + e(0, 1) * e(1, 2) * e(2, 0) + e(0, 2) * e(1, 0) * e(2, 1)
            - e(0, 2) * e(1, 1) * e(2, 0) - e(0, 0) * e(1, 2) * e(2, 1) - e(0, 1) * e(1, 0) * e(2, 2))


@custom_jvp
def _det(a):
    if a.shape[-1] in (2, 3):
        return _det_formula(a)
    sign, logdet = _slogdet(a)
    return sign * ufuncs.exp(logdet).astype(sign.dtype)


@_det.defjvp
def _det_jvp(primals, tangents):
    # d det(a) = det(a) tr(a^-1 a'): infinite for a singular a (JAX solves by cofactors there)
    (a,), (ta,) = primals, tangents
    y = _det(a)
    return y, y * trace(solve(a, ta))


def det(a):
    """The determinant of each square matrix."""
    a = _inexact(a)
    _stack_of_matrices("det", a, square=True)
    return _det(a)


# ---------------------------------------------------------------------------- solves

def _broadcast_batch(*arrays):
    """Matrices with their leading (batch) axes broadcast together."""
    from kiln.numpy.core import broadcast_shapes
    batch = broadcast_shapes(*(x.shape[:-2] for x in arrays))
    return [broadcast_to(x, batch + x.shape[-2:]) for x in arrays]


def lu_solve(lu, permutation, b, trans=0):
    """x with a x = b (trans 0), a^T x = b (1) or a^H x = b (2), given a's `lax.linalg.lu`
    factors; b is (..., m, k)."""
    lu, b = _broadcast_batch(lu, b)
    permutation = broadcast_to(permutation, lu.shape[:-1])
    if trans == 0:
        x = take_along_axis(b, expand_dims(permutation, -1), axis=-2)
        x = lax_linalg.triangular_solve(lu, x, left_side=True, lower=True, unit_diagonal=True)
        return lax_linalg.triangular_solve(lu, x, left_side=True, lower=False)
    conjugate = trans == 2
    x = lax_linalg.triangular_solve(lu, b, left_side=True, lower=False, transpose_a=True, conjugate_a=conjugate)
    x = lax_linalg.triangular_solve(lu, x, left_side=True, lower=True, unit_diagonal=True, transpose_a=True,
                                    conjugate_a=conjugate)
    return take_along_axis(x, expand_dims(_inverse_permutation(permutation), -1), axis=-2)


def _inverse_permutation(permutation):
    from kiln.numpy.sorting import argsort
    return argsort(permutation, axis=-1).astype(permutation.dtype)


def solve(a, b):
    """x with a @ x = b: b a vector (...,) if 1-d, else matrices (..., m, k)."""
    a, b = promote_inexact(asarray(a), asarray(b))
    _stack_of_matrices("solve", a, square=True)
    if b.ndim == 1:
        if b.shape[0] != a.shape[-1]:
            raise ValueError(f"kiln.numpy.linalg.solve: a {a.shape} does not fit b {b.shape}")
        return solve(a, b[:, None])[..., 0]
    if b.shape[-2] != a.shape[-1]:
        raise ValueError(f"kiln.numpy.linalg.solve: a {a.shape} does not fit b {b.shape}")
    lu, _, permutation = lax_linalg.lu(a)
    return lu_solve(lu, permutation, b)


def inv(a):
    """The inverse of each square matrix (by solving a x = I)."""
    a = _inexact(a)
    _stack_of_matrices("inv", a, square=True)
    return solve(a, broadcast_to(eye(a.shape[-1], dtype=a.dtype), a.shape))


def matrix_power(a, n):
    """a raised to the integer power n by repeated squaring (n < 0: of the inverse)."""
    a = asarray(a)
    _stack_of_matrices("matrix_power", a, square=True)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError(f"kiln.numpy.linalg.matrix_power: exponent must be an integer, got {n!r}") from e
    if n == 0:
        return broadcast_to(eye(a.shape[-1], dtype=a.dtype), a.shape)
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else matmul(result, a)
        n >>= 1
        if n:
            a = matmul(a, a)
    return result


def pinv(a, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse, dropping singular values <= rtol * the largest."""
    a = _inexact(a)
    _stack_of_matrices("pinv", a)
    arr = ufuncs.conj(a)
    if rtol is None:
        rtol = 10.0 * builtins.max(a.shape[-2:]) * np.finfo(a.dtype).eps
    rtol = asarray(rtol)
    u, s, vh = lax_linalg.svd(arr, full_matrices=False)
    rtol = rtol.reshape(rtol.shape + (1,) * (s.ndim - rtol.ndim))
    s = where(s > rtol * s[..., 0:1], s, np.inf).astype(u.dtype)
    return matmul(matrix_transpose(vh), matrix_transpose(u) / s[..., None]).astype(arr.dtype)


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """The least-squares solution of a @ x = b: (x, residuals, rank, singular values)."""
    a, b = promote_inexact(asarray(a), asarray(b))
    if a.ndim != 2 or b.ndim not in (1, 2) or a.shape[0] != b.shape[0]:
        raise ValueError(f"kiln.numpy.linalg.lstsq: a (M, N) and b (M,) or (M, K), got {a.shape} and {b.shape}")
    vector = b.ndim == 1
    if vector:
        b = b[:, None]
    m, n = a.shape
    eps = np.finfo(a.dtype).eps
    rcond = eps * builtins.max(m, n) if rcond is None else where(asarray(rcond) < 0, eps, rcond)
    u, s, vt = lax_linalg.svd(a, full_matrices=False)
    mask = s >= asarray(rcond, s.dtype) * s[0] if s.shape[0] else s > 0
    rank = reductions.sum(mask)
    safe = where(mask, s, 1).astype(a.dtype)
    s_inv = where(mask, 1 / safe, 0)[:, None]
    x = matmul(_H(vt), s_inv * matmul(_H(u), b))
    if numpy_resid and (rank < n or m <= n):
        resid = zeros((0,), s.dtype)
    else:
        resid = norm(b - matmul(a, x), axis=0) ** 2
    return x.ravel() if vector else x, resid, rank, s


# ---------------------------------------------------------------------------- norms

def _abs_sum(x, axis, keepdims):
    return reductions.sum(ufuncs.abs(x), axis=axis, keepdims=keepdims)


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms (over one axis, or all of a 1-d array) and matrix norms (over two axes)."""
    x = _inexact(x)
    if axis is None:
        if ord is None:
            return ufuncs.sqrt(reductions.sum(ufuncs.real(x * ufuncs.conj(x)), keepdims=keepdims))
        if x.ndim not in (1, 2):
            raise ValueError("kiln.numpy.linalg.norm: give `axis` for an ord of arrays of ndim other than 1 or 2")
        axis = tuple(range(x.ndim))
    elif isinstance(axis, int):
        axis = (axis,)
    axis = tuple(a % x.ndim for a in axis)
    if len(axis) == 1:
        return vector_norm(x, axis=axis, keepdims=keepdims, ord=2 if ord is None else ord)
    if len(axis) == 2:
        return _matrix_norm(x, axis, keepdims, "fro" if ord is None else ord)
    raise ValueError(f"kiln.numpy.linalg.norm: axis must name one or two axes, got {axis}")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """The p-norm of x over `axis` (all of x when None)."""
    x = _inexact(x)
    if ord is None or ord == 2:
        return ufuncs.sqrt(reductions.sum(ufuncs.real(x * ufuncs.conj(x)), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return reductions.max(ufuncs.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return reductions.min(ufuncs.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return reductions.sum(x != 0, axis=axis, keepdims=keepdims).astype(ufuncs.real(x).dtype)
    if ord == 1:
        return _abs_sum(x, axis, keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid order '{ord}' for vector norm.")
    p = asarray(ord, ufuncs.real(x).dtype)
    return reductions.sum(ufuncs.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def _matrix_norm(x, axis, keepdims, ord):
    row, col = axis
    if ord == "fro":
        return ufuncs.sqrt(reductions.sum(ufuncs.real(x * ufuncs.conj(x)), axis=axis, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        inner, outer_axis = (row, col) if ord in (1, -1) else (col, row)
        reduce = reductions.max if ord in (1, np.inf) else reductions.min
        sums = _abs_sum(x, inner, keepdims=True)
        out = reduce(sums, axis=outer_axis, keepdims=True)
        return out if keepdims else out.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axis))
    if ord in (2, -2, "nuc"):
        y = moveaxis(x, (row, col), (-2, -1))
        s = svd(y, compute_uv=False)
        out = reductions.max(s, axis=-1) if ord == 2 else reductions.min(s, axis=-1) if ord == -2 else \
            reductions.sum(s, axis=-1)
        if keepdims:
            out = expand_dims(expand_dims(out, builtins.min(axis)), builtins.max(axis))
        return out
    raise ValueError(f"Invalid order '{ord}' for matrix norm.")


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    x = _inexact(x)
    _stack_of_matrices("matrix_norm", x)
    return _matrix_norm(x, (x.ndim - 2, x.ndim - 1), keepdims, ord)


def matrix_rank(M, rtol=None, *, tol=None):
    """The number of singular values above rtol times the largest (default: eps * max(M, N))."""
    M = _inexact(M)
    if M.ndim < 2:
        return reductions.any(M != 0).astype(np.int32)
    s = svd(M, compute_uv=False)
    largest = reductions.max(s, axis=-1, keepdims=True)
    if tol is not None:
        cutoff = asarray(tol)
    elif rtol is None:
        cutoff = largest * builtins.max(M.shape[-2:]) * np.finfo(s.dtype).eps
    else:
        cutoff = largest * asarray(rtol)[..., None]
    return reductions.sum(s > cutoff, axis=-1)


def cond(x, p=None):
    """The condition number: the ratio of extreme singular values (p None or 2), or
    norm(x, p) * norm(inv(x), p)."""
    x = _inexact(x)
    _stack_of_matrices("cond", x)
    if p in (None, 2, -2):
        s = svd(x, compute_uv=False)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    r = norm(x, ord=p, axis=(-2, -1)) * norm(inv(x), ord=p, axis=(-2, -1))
    # singular matrices: infinite, as in NumPy
    return where(ufuncs.isnan(r) & ~reductions.any(ufuncs.isnan(x), axis=(-2, -1)), np.inf, r)


# ---------------------------------------------------------------------------- products

def diagonal(x, /, *, offset=0):
    """The diagonals of the matrices in x (..., M, N), along the last axis."""
    return _diagonal(x, offset=offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset=0, dtype=None):
    """The sum of each matrix's diagonal (the last two axes)."""
    return reductions.sum(diagonal(x, offset=offset), axis=-1, dtype=dtype)


def multi_dot(arrays, *, precision=None):
    """The product of a chain of matrices (the first may be a vector, and the last)."""
    arrays = [asarray(a) for a in arrays]
    if len(arrays) < 2:
        raise ValueError(f"kiln.numpy.linalg.multi_dot needs at least two arrays, got {len(arrays)}")
    out = arrays[0]
    for a in arrays[1:]:
        out = contractions.dot(out, a)
    return out


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-vectors along `axis`."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(f"kiln.numpy.linalg.cross needs vectors of size 3 along axis {axis}, "
                         f"got shapes {x1.shape} and {x2.shape}")
    from kiln.numpy.shapes import stack
    a, b = moveaxis(x1, axis, -1), moveaxis(x2, axis, -1)
    parts = [a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
             a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
             a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]]
    return moveaxis(stack(parts, axis=-1), -1, axis)
