"""Linear-algebra primitives (`kiln.lax.linalg`, as `jax.lax.linalg`).

Each primitive factors or solves a stack of matrices, shape (..., m, n): the leading axes are
batch axes, which is also how vmap batches them (the batch axis moved to the front). The
reference implementations call the LAPACK and BLAS routines jaxlib calls on CPU (SciPy's
build of them, which jaxlib itself binds), matrix by matrix:

| primitive          | routine             | results                                            |
|--------------------|---------------------|----------------------------------------------------|
| `qr`               | geqrf, orgqr/ungqr  | q (..., m, k or m), r (..., k or m, n)             |
| `cholesky`         | potrf (lower)       | l (..., n, n), NaN where the matrix is not positive definite |
| `triangular_solve` | trsm                | x with op(a) x = b (left side) or x op(a) = b      |
| `lu`               | getrf               | lu (..., m, n), pivots (..., k), permutation (..., m), int32 |
| `eigh`             | syevd/heevd         | v (..., n, n), w (..., n) ascending, real           |
| `svd`              | gesdd               | s (..., k) real, and u, vt when `compute_uv`        |

(k = min(m, n).) A factorization that fails (a NaN input, no convergence) gives NaN results,
as in JAX. The derivative rules are JAX's (and the papers it cites): cholesky by Murray's
forward rule, lu by solving with the factors, eigh and svd by the usual perturbation formulas
(the svd's for the thin factors only, as in JAX), triangular_solve linear in b (transposed by
solving with op(a) transposed). qr has none yet.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
from scipy.linalg import blas, lapack

from kiln.ir import ShapedArray
from kiln.primitives import (aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules,
                             vmap_rules)

__all__ = ["cholesky", "eigh", "lu", "lu_pivots_to_permutation", "qr", "svd", "triangular_solve"]


def _matrices(name, x, square=False):
    """Check x is a stack of (square) float or complex matrices."""
    if np.dtype(x.dtype).kind not in "fc" or len(x.shape) < 2:
        raise TypeError(f"kiln.lax.linalg.{name} takes a float or complex array of rank >= 2, got {x.str_short()}")
    if np.dtype(x.dtype).itemsize < 4:
        raise TypeError(f"kiln.lax.linalg.{name}: LAPACK has no {np.dtype(x.dtype).name} routines; "
                        "convert to float32 first")
    if square and x.shape[-1] != x.shape[-2]:
        raise ValueError(f"kiln.lax.linalg.{name} needs square matrices, got {x.str_short()}")


def _real(dtype):
    return np.finfo(dtype).dtype


def _batched(prim, multiple):
    """The vmap rule of a primitive whose leading axes are batch axes."""
    def rule(args, dims, **params):
        from kiln.passes.vmap import move_to_front, with_batch
        size = next(aval_of(x).shape[d] for x, d in zip(args, dims) if d is not None)
        args = [with_batch(x, d, size) if d is None else move_to_front(x, d) for x, d in zip(args, dims)]
        out = bind(prim, *args, **params)
        out = list(out) if multiple else [out]
        return out, [0] * len(out)
    return rule


def _register(prim, shape, impl, jvp=None):
    shape_rules[prim] = shape
    impl_rules[prim] = impl
    vmap_rules[prim] = _batched(prim, prim.multiple_results)
    if jvp is not None:
        jvp_rules[prim] = jvp


# Matrix helpers for the derivative rules (on staged or concrete values alike).

def _np():
    import kiln.numpy as knp
    return knp


def _mm(a, b):
    return _np().matmul(a, b)


def _H(x):
    knp = _np()
    x = knp.swapaxes(x, -1, -2)
    return knp.conj(x) if np.dtype(aval_of(x).dtype).kind == "c" else x


def _T(x):
    return _np().swapaxes(x, -1, -2)


def _eye_like(x):
    shape = aval_of(x).shape
    return _np().eye(shape[-2], shape[-1], dtype=aval_of(x).dtype)


def _add(a, b):
    return b if a is None else a if b is None else a + b


# ---------------------------------------------------------------------------- qr

qr_p = primitive("qr", multiple_results=True)


def _qr_shape(x, *, full_matrices):
    _matrices("qr", x)
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


_register(qr_p, _qr_shape, _qr_impl)


def qr(x, *, full_matrices=True):
    """The QR decomposition of x (batched over leading axes): a pair (q, r)."""
    return tuple(bind(qr_p, x, full_matrices=bool(full_matrices)))


# ---------------------------------------------------------------------------- cholesky

cholesky_p = primitive("cholesky")


def _cholesky_shape(x):
    _matrices("cholesky", x, square=True)
    return [ShapedArray(x.shape, x.dtype, False)]


def _cholesky_impl(x):
    out = np.full(x.shape, np.nan, x.dtype)
    potrf = lapack.get_lapack_funcs("potrf", dtype=x.dtype)
    for index in np.ndindex(*x.shape[:-2]):
        if x.shape[-1] == 0:
            continue
        factor, info = potrf(x[index], lower=1, clean=1)
        if info == 0:
            out[index] = factor
    return [out]


def _cholesky_jvp(primals, tangents):
    # Murray (arXiv:1602.07527): l' = l phi(l^-1 x' l^-H), phi the lower triangle with the
    # diagonal halved
    (x,), (tx,) = primals, tangents
    knp = _np()
    l = bind(cholesky_p, x)
    if tx is None:
        return [l], [None]
    tmp = triangular_solve(l, tx, left_side=False, lower=True, transpose_a=True, conjugate_a=True)
    inner = triangular_solve(l, tmp, left_side=True, lower=True)
    phi = knp.tril(inner) / (1 + _eye_like(inner))
    return [l], [_mm(l, phi)]


_register(cholesky_p, _cholesky_shape, _cholesky_impl, _cholesky_jvp)


def symmetrize(x):
    """(x + x^H) / 2."""
    return (x + _H(x)) / 2


def cholesky(x, *, symmetrize_input=True):
    """The lower Cholesky factor of each matrix (NaN on and below the diagonal where it is not
    positive definite)."""
    knp = _np()
    x = knp.asarray(x)
    return knp.tril(bind(cholesky_p, symmetrize(x) if symmetrize_input else x))


# ---------------------------------------------------------------------------- triangular_solve

triangular_solve_p = primitive("triangular_solve")
_SOLVE_FLAGS = ("left_side", "lower", "transpose_a", "conjugate_a", "unit_diagonal")


def _triangular_solve_shape(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    _matrices("triangular_solve", a, square=True)
    if a.dtype != b.dtype or len(b.shape) != len(a.shape) or a.shape[:-2] != b.shape[:-2]:
        raise TypeError(f"kiln.lax.linalg.triangular_solve needs a and b of one dtype and batch shape, got "
                        f"{a.str_short()} and {b.str_short()}")
    if b.shape[-2 if left_side else -1] != a.shape[-1]:
        raise TypeError(f"kiln.lax.linalg.triangular_solve: a {a.str_short()} does not fit b {b.str_short()} "
                        f"(left_side={left_side})")
    return [ShapedArray(b.shape, b.dtype, False)]


def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    out = np.empty(b.shape, b.dtype)
    if b.size == 0:
        return [out]
    trsm = blas.get_blas_funcs("trsm", dtype=b.dtype)
    if conjugate_a and not transpose_a:
        a = np.conj(a)
    trans = (2 if conjugate_a and np.dtype(a.dtype).kind == "c" else 1) if transpose_a else 0
    for index in np.ndindex(*b.shape[:-2]):
        out[index] = trsm(1.0, a[index], b[index], side=0 if left_side else 1, lower=int(lower), trans_a=trans,
                          diag=int(unit_diagonal))
    return [out]


def _triangular_solve_jvp(primals, tangents, **flags):
    (a, b), (ta, tb) = primals, tangents
    knp = _np()
    x = bind(triangular_solve_p, a, b, **flags)
    out = None if tb is None else bind(triangular_solve_p, a, tb, **flags)
    if ta is not None:
        # x' = -op(a)^-1 op(a') x (left side) or -x op(a') op(a)^-1, with a' masked as a is read
        k = 1 if flags["unit_diagonal"] else 0
        ta = knp.tril(ta, -k) if flags["lower"] else knp.triu(ta, k)
        ta = _T(ta) if flags["transpose_a"] else ta
        ta = knp.conj(ta) if flags["conjugate_a"] else ta
        product = _mm(ta, x) if flags["left_side"] else _mm(x, ta)
        out = _add(out, -bind(triangular_solve_p, a, product, **flags))
    return [x], [out]


def _triangular_solve_transpose(ct, a, b, **flags):
    if ct is None:
        return [None, None]
    flipped = dict(flags, transpose_a=not flags["transpose_a"])
    return [None, bind(triangular_solve_p, a, ct, **flipped)]


_register(triangular_solve_p, _triangular_solve_shape, _triangular_solve_impl, _triangular_solve_jvp)
transpose_rules[triangular_solve_p] = _triangular_solve_transpose


def triangular_solve(a, b, *, left_side=False, lower=False, transpose_a=False, conjugate_a=False,
                     unit_diagonal=False):
    """x with op(a) @ x = b (left_side) or x @ op(a) = b, for triangular a; op transposes and
    conjugates a as asked."""
    flags = dict(left_side=left_side, lower=lower, transpose_a=transpose_a, conjugate_a=conjugate_a,
                 unit_diagonal=unit_diagonal)
    return bind(triangular_solve_p, a, b, **{k: bool(v) for k, v in flags.items()})


# ---------------------------------------------------------------------------- lu

lu_p = primitive("lu", multiple_results=True)


def _lu_shape(x):
    _matrices("lu", x)
    *batch, m, n = x.shape
    return [ShapedArray(x.shape, x.dtype, False), ShapedArray((*batch, min(m, n)), np.dtype(np.int32), False),
            ShapedArray((*batch, m), np.dtype(np.int32), False)]


def _lu_impl(x):
    *batch, m, n = x.shape
    k = min(m, n)
    lu = np.array(x)
    pivots = np.zeros((*batch, k), np.int32)
    permutation = np.broadcast_to(np.arange(m, dtype=np.int32), (*batch, m)).copy()
    getrf = lapack.get_lapack_funcs("getrf", dtype=x.dtype)
    for index in np.ndindex(*batch):
        if k == 0:
            continue
        lu[index], piv, _ = getrf(x[index])  # a singular matrix (info > 0) still factors
        pivots[index] = piv
        perm = permutation[index]
        for i, p in enumerate(piv):
            perm[i], perm[p] = perm[p], perm[i]
    return [lu, pivots, permutation]


def _lu_jvp(primals, tangents):
    # a = p l u, so l^-1 p^T a' u^-1 = l^-1 l' + u' u^-1: its strictly lower part gives l', the
    # rest u' (JAX's rule, with l and u padded to square)
    (x,), (tx,) = primals, tangents
    knp = _np()
    lu, pivots, permutation = bind(lu_p, x)
    if tx is None:
        return [lu, pivots, permutation], [None, None, None]
    *batch, m, n = aval_of(x).shape
    k = min(m, n)
    dtype = aval_of(x).dtype
    permuted = knp.take_along_axis(tx, knp.expand_dims(permutation, -1), axis=-2)
    l = knp.tril(lu[..., :, :k], -1)
    if m > k:
        l = knp.concatenate([l, knp.zeros((*batch, m, m - k), dtype)], axis=-1)
    l = l + knp.eye(m, dtype=dtype)
    u = knp.triu(lu[..., :k, :])
    if n > k:
        u = knp.concatenate([u, knp.zeros((*batch, n - k, n), dtype)], axis=-2)
        u = u + _tail_eye(n, k, dtype)
    la = triangular_solve(l, permuted, left_side=True, lower=True, unit_diagonal=True)
    lau = triangular_solve(u, la, left_side=False, lower=False)
    l_dot = _mm(l, knp.tril(lau, -1))
    u_dot = _mm(knp.triu(lau), u)
    return [lu, pivots, permutation], [l_dot + u_dot, None, None]


def _tail_eye(n, k, dtype):
    """An n x n matrix with ones on the diagonal from row k on."""
    return np.diag((np.arange(n) >= k).astype(dtype))


_register(lu_p, _lu_shape, _lu_impl, _lu_jvp)


def lu(x):
    """The LU decomposition with partial pivoting, p a = l u: (lu, pivots, permutation), lu
    holding l below the diagonal (unit diagonal implied) and u on and above it."""
    return tuple(bind(lu_p, x))


def lu_pivots_to_permutation(pivots, permutation_size):
    """The permutation of `permutation_size` rows that LAPACK's swaps (row i with pivots[i], in
    order) make, as `lu`'s third result."""
    knp = _np()
    pivots = knp.asarray(pivots)
    rows = knp.arange(permutation_size, dtype=pivots.dtype)
    perm = knp.broadcast_to(rows, pivots.shape[:-1] + (permutation_size,))
    for i in range(pivots.shape[-1]):
        j = pivots[..., i:i + 1]
        at_i, at_j = perm[..., i:i + 1], knp.take_along_axis(perm, j, axis=-1)
        perm = knp.where(rows == i, at_j, perm)
        perm = knp.where(rows == j, at_i, perm)
    return perm


# ---------------------------------------------------------------------------- eigh

eigh_p = primitive("eigh", multiple_results=True)


def _eigh_shape(x, *, lower):
    _matrices("eigh", x, square=True)
    return [ShapedArray(x.shape, x.dtype, False), ShapedArray(x.shape[:-1], _real(x.dtype), False)]


def _eigh_impl(x, *, lower):
    n = x.shape[-1]
    v = np.full(x.shape, np.nan, x.dtype)
    w = np.full(x.shape[:-1], np.nan, _real(x.dtype))
    syevd = lapack.get_lapack_funcs("heevd" if np.dtype(x.dtype).kind == "c" else "syevd", dtype=x.dtype)
    for index in np.ndindex(*x.shape[:-2]):
        if n == 0:
            continue
        values, vectors, info = syevd(x[index], compute_v=1, lower=int(lower))
        if info == 0:
            v[index], w[index] = vectors, values
    return [v, w]


def _eigh_jvp(primals, tangents, *, lower):
    # w' = diag(v^H x' v), v' = v (F * v^H x' v) with F[i, j] = 1 / (w[j] - w[i]) off the diagonal
    (x,), (tx,) = primals, tangents
    knp = _np()
    v, w = bind(eigh_p, x, lower=lower)
    if tx is None:
        return [v, w], [None, None]
    eye = knp.eye(aval_of(x).shape[-1], dtype=aval_of(w).dtype)
    f = 1 / (eye + w[..., None, :] - w[..., :, None]) - eye
    vxv = _mm(_mm(_H(v), tx), v)
    dv = _mm(v, f.astype(aval_of(x).dtype) * vxv)
    dw = knp.real(knp.diagonal(vxv, axis1=-2, axis2=-1))
    return [v, w], [dv, dw]


_register(eigh_p, _eigh_shape, _eigh_impl, _eigh_jvp)


def eigh(x, *, lower=True, symmetrize_input=True, sort_eigenvalues=True):
    """Eigenvectors and eigenvalues of Hermitian matrices: (v, w), w ascending (LAPACK's order,
    so `sort_eigenvalues` changes nothing)."""
    x = _np().asarray(x)
    v, w = bind(eigh_p, symmetrize(x) if symmetrize_input else x, lower=bool(lower))
    return v, w


# ---------------------------------------------------------------------------- svd

svd_p = primitive("svd", multiple_results=True)


def _svd_shape(x, *, full_matrices, compute_uv):
    _matrices("svd", x)
    *batch, m, n = x.shape
    k = min(m, n)
    s = ShapedArray((*batch, k), _real(x.dtype), False)
    if not compute_uv:
        return [s]
    u_cols, vt_rows = (m, n) if full_matrices else (k, k)
    return [s, ShapedArray((*batch, m, u_cols), x.dtype, False), ShapedArray((*batch, vt_rows, n), x.dtype, False)]


def _svd_impl(x, *, full_matrices, compute_uv):
    outs = [np.full(a.shape, np.nan, a.dtype)
            for a in _svd_shape(ShapedArray(x.shape, x.dtype), full_matrices=full_matrices, compute_uv=compute_uv)]
    *batch, m, n = x.shape
    gesdd = lapack.get_lapack_funcs("gesdd", dtype=x.dtype)
    for index in np.ndindex(*batch):
        if min(m, n) == 0:  # no singular values: u and vt are identities
            for out in outs[1:]:
                out[index] = np.eye(*out.shape[-2:], dtype=out.dtype)
            continue
        u, s, vt, info = gesdd(x[index], compute_uv=int(compute_uv), full_matrices=int(full_matrices))
        if info == 0:
            for out, value in zip(outs, (s, u, vt)):
                out[index] = value
    return outs


def _svd_jvp(primals, tangents, *, full_matrices, compute_uv):
    (x,), (tx,) = primals, tangents
    knp = _np()
    if compute_uv and full_matrices:
        raise NotImplementedError("kiln: the derivative of svd with full_matrices=True is not defined "
                                  "(as in JAX); use full_matrices=False")
    s, u, vt = bind(svd_p, x, full_matrices=False, compute_uv=True)
    outs = [s, u, vt] if compute_uv else [s]
    if tx is None:
        return outs, [None] * len(outs)
    dtype = aval_of(x).dtype
    ut, v = _H(u), _H(vt)
    ds_mat = _mm(_mm(ut, tx), v)
    ds = knp.real(knp.diagonal(ds_mat, axis1=-2, axis2=-1))
    if not compute_uv:
        return outs, [ds]
    s_row = s[..., None, :]
    s_col = s[..., :, None]
    eye = knp.eye(aval_of(s).shape[-1], dtype=aval_of(s).dtype)
    f = 1 / ((s_row + s_col) * (s_row - s_col) + eye) - eye
    s_zero = (s == 0).astype(aval_of(s).dtype)
    s_inv = 1 / (s + s_zero) - s_zero
    dss = s_row.astype(dtype) * ds_mat
    sds = s_col.astype(dtype) * ds_mat
    du_dv_diag = 0.5 * (ds_mat - _H(ds_mat)) * (s_inv[..., None] * eye).astype(dtype)
    f = f.astype(dtype)
    du = _mm(u, f * (dss + _H(dss)) + du_dv_diag)
    dv = _mm(v, f * (sds + _H(sds)))
    m, n = aval_of(x).shape[-2:]
    if m > n:
        dxv = _mm(tx, v)
        du = du + (dxv - _mm(u, _mm(ut, dxv))) / s_row.astype(dtype)
    if n > m:
        dxu = _mm(_H(tx), u)
        dv = dv + (dxu - _mm(v, _mm(vt, dxu))) / s_row.astype(dtype)
    return outs, [ds, du, _H(dv)]


_register(svd_p, _svd_shape, _svd_impl, _svd_jvp)


def svd(x, *, full_matrices=True, compute_uv=True):
    """The singular value decomposition: (u, s, vh), or s alone without `compute_uv`."""
    outs = bind(svd_p, x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    if not compute_uv:
        return outs[0]
    s, u, vt = outs
    return u, s, vt
