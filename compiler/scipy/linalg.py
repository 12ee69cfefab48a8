"""kiln.scipy.linalg: jax.scipy.linalg's factorizations and solves, on `kiln.lax.linalg`.

SciPy's conventions, as JAX keeps them: `cholesky` gives the upper factor unless `lower`,
`lu` gives (p, l, u) with a = p @ l @ u, `lu_factor` LAPACK's (lu, pivots), `eigh` the
eigenvalues first. `check_finite` and `overwrite_*` are accepted and ignored (arrays are
immutable, as in JAX).
"""
from __future__ import annotations

import numpy as np

import kiln.numpy as knp
from kiln.lax import linalg as lax_linalg
from kiln.numpy.core import promote_inexact
from kiln.numpy.linalg import det, inv, lu_solve as _lu_solve, svd  # noqa: F401  (jax.scipy.linalg names)

__all__ = ["block_diag", "cho_factor", "cho_solve", "cholesky", "circulant", "companion", "det", "dft", "eigh",
           "expm", "hankel", "hilbert", "inv", "lu", "lu_factor", "lu_solve", "polar", "qr", "solve",
           "solve_triangular", "svd", "toeplitz"]

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


# ---------------------------------------------------------------------------- expm
# Higham's scaling and squaring ("The scaling and squaring method for the matrix exponential
# revisited", 2005): the Pade approximant of degree m in {3, 5, 7, 9, 13} chosen by ||A||_1
# against his bounds theta_m, after scaling A by 2**-s so that ||A||_1 <= theta_max; the
# result squared s times.
_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0,
        90.0, 1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
         10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0),
}
# (degrees, the norm bound of each) in double and single precision
_THETA = {8: ((3, 5, 7, 9, 13), (1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
                                 2.097847961257068e0, 5.371920351148152e0)),
          4: ((3, 5, 7), (4.258730016922831e-1, 1.880152677804762e0, 3.925724783138660e0))}


def _pade(a, m):
    """(U, V): the odd and even parts of the degree-m Pade numerator, p(A) = V + U."""
    b = _PADE[m]
    eye = knp.eye(a.shape[-1], dtype=a.dtype)
    a2 = a @ a
    if m == 13:
        a4, a6 = a2 @ a2, a2 @ a2 @ a2
        u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
        return u, v
    powers = [eye, a2]
    while len(powers) <= m // 2:
        powers.append(powers[-1] @ a2)
    u = a @ sum(b[2 * k + 1] * powers[k] for k in range(m // 2 + 1))
    v = sum(b[2 * k] * powers[k] for k in range(m // 2 + 1))
    return u, v


def expm(A, *, upper_triangular=False, max_squarings=16):
    """The matrix exponential of each square matrix (NaN where more than `max_squarings`
    squarings would be needed)."""
    from kiln import lax
    a, = _inexact(A)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"expected A to be a (batched) square matrix, got shape {a.shape}")
    if a.ndim > 2:
        from kiln.batching import vmap
        fn = lambda m: expm(m, upper_triangular=upper_triangular, max_squarings=max_squarings)
        for _ in range(a.ndim - 2):
            fn = vmap(fn)
        return fn(a)
    degrees, thetas = _THETA[8 if np.dtype(a.dtype).itemsize in (8, 16) else 4]
    norm = knp.linalg.norm(a, 1)
    squarings = knp.maximum(0, knp.floor(knp.log2(norm / thetas[-1])))
    a = a / (2.0 ** squarings).astype(a.dtype)
    which = knp.sum(norm[None] > np.asarray(thetas[:-1], norm.dtype))   # the first bound above ||A||
    u, v = lax.switch(which, [lambda x, m=m: _pade(x, m) for m in degrees], a)
    p, q = v + u, v - u
    r = solve_triangular(q, p) if upper_triangular else knp.linalg.solve(q, p)

    def square(r, i):
        return knp.where(i < squarings, r @ r, r), None
    r, _ = lax.scan(square, r, knp.arange(max_squarings, dtype=squarings.dtype))
    return knp.where(squarings > max_squarings, np.nan, r)


# ---------------------------------------------------------------------------- special matrices

def block_diag(*arrs):
    """The block-diagonal matrix of the given matrices (scalars and vectors as 1-row blocks)."""
    if not arrs:
        return knp.zeros((1, 0))
    blocks = [knp.atleast_2d(knp.asarray(a)) for a in arrs]
    dtype = knp.result_type(*blocks)
    cols = sum(b.shape[1] for b in blocks)
    rows, start = [], 0
    for b in blocks:
        rows.append(knp.concatenate([knp.zeros((b.shape[0], start), dtype), b.astype(dtype),
                                     knp.zeros((b.shape[0], cols - start - b.shape[1]), dtype)], axis=1))
        start += b.shape[1]
    return knp.concatenate(rows, axis=0)


def toeplitz(c, r=None):
    """The Toeplitz matrix with first column c and first row r (r = conj(c) if omitted)."""
    c = knp.ravel(knp.asarray(c)) if np.ndim(c) <= 1 else knp.asarray(c)
    if r is None:
        r = knp.conj(c)
    r = knp.ravel(knp.asarray(r)) if np.ndim(r) <= 1 else knp.asarray(r)
    c, r = promote_inexact(c, r) if np.dtype(knp.result_type(c, r)).kind in "fc" else (c, r)
    dtype = knp.result_type(c, r)
    values = knp.concatenate([knp.flip(r[..., 1:], -1), c], axis=-1).astype(dtype)  # r reversed, then c
    i, j = np.indices((c.shape[-1], r.shape[-1]))
    return values[..., (r.shape[-1] - 1) + i - j]


def hankel(c, r=None):
    """The Hankel matrix with first column c and last row r (zeros below the anti-diagonal
    if r is omitted)."""
    c = knp.ravel(knp.asarray(c))
    r = knp.zeros_like(c) if r is None else knp.ravel(knp.asarray(r))
    values = knp.concatenate([c, r[1:].astype(knp.result_type(c, r))]).astype(knp.result_type(c, r))
    i, j = np.indices((c.shape[0], r.shape[0]))
    return values[i + j]


def circulant(c):
    """The circulant matrix whose first column is c."""
    c = knp.asarray(c)
    n = c.shape[-1]
    i, j = np.indices((n, n))
    return c[..., (i - j) % n]


def companion(a):
    """The companion matrix of the polynomial with coefficients a (highest first)."""
    a = knp.asarray(a)
    if a.ndim != 1 or a.shape[0] < 2:
        raise ValueError("Incorrect shape for `a`. `a` must be one-dimensional with at least two entries.")
    n = a.shape[0] - 1
    first = (-a[1:] / a[0]).astype(knp.result_type(a.dtype, float))
    shift = knp.eye(n - 1, n, dtype=first.dtype)
    return knp.concatenate([first[None], shift], axis=0)


def hilbert(n):
    """The n x n Hilbert matrix 1 / (i + j + 1)."""
    i = knp.arange(n, dtype=float)
    return 1.0 / (i[:, None] + i[None, :] + 1.0)


def dft(n, scale=None):
    """The n x n discrete Fourier transform matrix (scaled by 1/n or 1/sqrt(n) for scale
    "n" or "sqrtn")."""
    if scale not in (None, "n", "sqrtn"):
        raise ValueError(f"scale must be None, 'n' or 'sqrtn', not {scale!r}.")
    k = knp.arange(n)
    m = knp.exp((-2j * np.pi / n) * (k[:, None] * k[None, :] % max(n, 1)).astype(np.float32))
    return m if scale is None else m / (n if scale == "n" else np.sqrt(n))


def polar(a, side="right", *, method="qdwh", eps=None, max_iterations=None):
    """The polar decomposition a = u p (side "right") or p u ("left"), computed from the SVD
    whatever the method (JAX's default, QDWH iterations, converges to the same factors)."""
    if method not in ("qdwh", "svd"):
        raise ValueError(f"Unknown polar decomposition method {method}.")
    if side not in ("right", "left"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    a, = _inexact(a)
    w, s, vh = knp.linalg.svd(a, full_matrices=False)
    u = w @ vh
    if side == "right":
        p = (knp.conj(vh.T) * s) @ vh
    else:
        p = (w * s) @ knp.conj(w.T)
    return u, p
