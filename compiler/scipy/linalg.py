"""kiln.scipy.linalg: jax.scipy.linalg's factorizations and solves, on `kiln.lax.linalg`.

SciPy's conventions, as JAX keeps them: `cholesky` gives the upper factor unless `lower`,
`lu` gives (p, l, u) with a = p @ l @ u, `lu_factor` LAPACK's (lu, pivots), `eigh` the
eigenvalues first. `check_finite` and `overwrite_*` are accepted and ignored (arrays are
immutable, as in JAX).
"""
from __future__ import annotations

import kiln.numpy as knp
from kiln.lax import linalg as lax_linalg
from kiln.numpy.core import promote_inexact
from kiln.numpy.linalg import det, inv, lu_solve as _lu_solve, svd  # noqa: F401  (jax.scipy.linalg names)

__all__ = ["cho_factor", "cho_solve", "cholesky", "det", "eigh", "inv", "lu", "lu_factor", "lu_solve", "qr",
           "solve", "solve_triangular", "svd"]

_TRANS = {0: (False, False), "N": (False, False), 1: (True, False), "T": (True, False), 2: (True, True),
          "C": (True, True)}


def _inexact(*arrays):
    return promote_inexact(*(knp.asarray(a) for a in arrays))


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor: upper (a = U^H U) unless `lower` (a = L L^H)."""
    a, = _inexact(a)
    factor = lax_linalg.cholesky(a if lower else knp.conj(knp.matrix_transpose(a)), symmetrize_input=False)
    return factor if lower else knp.conj(knp.matrix_transpose(factor))


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """(c, lower): the factor and which triangle holds it, for `cho_solve`."""
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """x with a x = b, given a's `cho_factor`."""
    c, lower = c_and_lower
    c, b = _inexact(c, b)
    vector = b.ndim == c.ndim - 1
    x = b[..., None] if vector else b
    x = lax_linalg.triangular_solve(c, x, left_side=True, lower=lower, transpose_a=not lower, conjugate_a=not lower)
    x = lax_linalg.triangular_solve(c, x, left_side=True, lower=lower, transpose_a=lower, conjugate_a=lower)
    return x[..., 0] if vector else x


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, debug=None,
                     check_finite=True):
    """x with op(a) x = b for triangular a; trans 0 / 'N', 1 / 'T' or 2 / 'C' picks op."""
    if trans not in _TRANS:
        raise ValueError(f"Invalid 'trans' value {trans!r}")
    transpose_a, conjugate_a = _TRANS[trans]
    a, b = _inexact(a, b)
    vector = b.ndim == a.ndim - 1
    x = lax_linalg.triangular_solve(a, b[..., None] if vector else b, left_side=True, lower=lower,
                                    transpose_a=transpose_a, conjugate_a=conjugate_a, unit_diagonal=unit_diagonal)
    return x[..., 0] if vector else x


def lu(a, permute_l=False, overwrite_a=False, check_finite=True):
    """(p, l, u) with a = p @ l @ u, or (p @ l, u) with `permute_l`."""
    a, = _inexact(a)
    factors, _, permutation = lax_linalg.lu(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    p = knp.real((permutation[..., None, :] == knp.arange(m)[:, None]).astype(a.dtype))
    l = knp.tril(factors[..., :, :k], -1) + knp.eye(m, k, dtype=a.dtype)
    u = knp.triu(factors[..., :k, :])
    return (knp.matmul(p, l), u) if permute_l else (p, l, u)


def lu_factor(a, overwrite_a=False, check_finite=True):
    """LAPACK's (lu, pivots): l below the diagonal, u on and above, row i swapped with pivots[i]."""
    a, = _inexact(a)
    factors, pivots, _ = lax_linalg.lu(a)
    return factors, pivots


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """x with op(a) x = b, given a's `lu_factor`."""
    if trans not in _TRANS:
        raise ValueError(f"Invalid 'trans' value {trans!r}")
    factors, pivots = lu_and_piv
    factors, b = _inexact(factors, b)
    permutation = lax_linalg.lu_pivots_to_permutation(pivots, factors.shape[-2])
    vector = b.ndim == 1
    x = _lu_solve(factors, permutation, b[:, None] if vector else b, trans={0: 0, "N": 0, 1: 1, "T": 1}.get(trans, 2))
    return x[:, 0] if vector else x


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, debug=False, check_finite=True,
          assume_a="gen"):
    """x with a x = b; by Cholesky for assume_a='pos', by LU otherwise."""
    if assume_a not in ("gen", "sym", "her", "pos"):
        raise ValueError(f"Expected assume_a to be one of 'gen', 'sym', 'her', 'pos', got {assume_a!r}")
    if assume_a == "pos":
        return cho_solve(cho_factor(a, lower=lower), b)
    return knp.linalg.solve(a, b)


def eigh(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, type=1,
         check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    """Eigenvalues (ascending) and eigenvectors of a Hermitian matrix: (w, v), or w alone."""
    if b is not None or subset_by_index is not None or subset_by_value is not None:
        raise NotImplementedError("kiln.scipy.linalg.eigh: generalized problems (b) and subsets are not supported")
    a, = _inexact(a)
    v, w = lax_linalg.eigh(a, lower=lower, symmetrize_input=False)
    return w if eigvals_only else (w, v)


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """SciPy's qr: (q, r) for mode 'full' or 'economic', (r,) for 'r'."""
    if pivoting:
        raise NotImplementedError("kiln.scipy.linalg.qr: pivoting is not supported")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"Unsupported QR decomposition mode '{mode}'")
    a, = _inexact(a)
    q, r = lax_linalg.qr(a, full_matrices=mode != "economic")
    return (r,) if mode == "r" else (q, r)
