"""Integration and covariance of kiln.numpy: trapezoid, cov, corrcoef (JAX's definitions)."""
from __future__ import annotations

import numpy as np

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy.core import asarray, broadcast_shapes, cast, promote_inexact, reshape_to
from kiln.numpy.shapes import atleast_2d, concatenate, moveaxis, squeeze, transpose
from kiln.runtime import dtypes


def trapezoid(y, x=None, dx=1.0, axis=-1):
    from kiln.numpy.editing import diff
    if x is None:
        (y,) = promote_inexact(asarray(y))
        dx = asarray(dx)
        if dx.ndim > 0:
            dx = moveaxis(reshape_to(dx, (1,) * (y.ndim - dx.ndim) + dx.shape), axis, -1)
    else:
        y, x = promote_inexact(asarray(y), asarray(x))
        dx = diff(x) if x.ndim == 1 else moveaxis(diff(x, axis=axis), axis, -1)
    y = moveaxis(y, axis, -1)
    if dx.ndim == 0 or dx.shape[-1] == 1:
        dx = dx if dx.ndim == 0 else dx[..., 0]
        return m.multiply(dx, m.subtract(y.sum(-1), m.multiply(0.5, m.add(y[..., 0], y[..., -1]))))
    return m.multiply(0.5, m.multiply(dx, m.add(y[..., 1:], y[..., :-1])).sum(-1))


def cov(m_, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, dtype=None):
    from kiln.numpy.contractions import dot
    from kiln.numpy.creation import full
    from kiln.numpy.reductions import average, sum
    if y is not None:
        m_, y = promote_inexact(asarray(m_), asarray(y))
        # as JAX's promote_args: shapes must broadcast, lower ranks get leading unit axes
        rank = len(broadcast_shapes(m_.shape, y.shape))
        m_, y = [reshape_to(a, (1,) * (rank - a.ndim) + a.shape) for a in (m_, y)]
        if y.ndim > 2:
            raise ValueError("y has more than 2 dimensions")
    else:
        (m_,) = promote_inexact(asarray(m_))
    # promote_args_inexact makes the arguments strongly typed arrays (not weak scalars)
    m_ = cast(m_, m_.dtype)
    if m_.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    if dtype is not None and not dtypes.is_inexact(dtypes.canonicalize_dtype(dtype)):
        raise ValueError(f"cov: dtype must be a subclass of float or complex; got dtype={dtype}")
    X = atleast_2d(m_)
    if not rowvar and m_.ndim != 1:
        X = transpose(X)
    if X.shape[0] == 0:
        return reshape_to(asarray(np.zeros((0,), dtypes.default_float_dtype())), (0, 0))
    if y is not None:
        y = atleast_2d(cast(y, y.dtype))
        if not rowvar and y.shape[0] != 1:
            y = transpose(y)
        X = concatenate([X, y], axis=0)
    if X.shape[1] == 0:
        return full(() if X.shape[0] == 1 else (X.shape[0],) * 2, np.nan, dtype=X.dtype)
    if ddof is None:
        ddof = 1 if bias == 0 else 0
    w = None
    if fweights is not None:
        fweights = asarray(fweights)
        if fweights.ndim > 1:
            raise RuntimeError("cannot handle multidimensional fweights")
        if fweights.shape[0] != X.shape[1]:
            raise RuntimeError("incompatible numbers of samples and fweights")
        if fweights.dtype.kind not in "iu":
            raise TypeError("fweights must be integer.")
        w = m.abs(fweights)
    if aweights is not None:
        aweights = asarray(aweights)
        if aweights.ndim > 1:
            raise RuntimeError("cannot handle multidimensional aweights")
        if aweights.shape[0] != X.shape[1]:
            raise RuntimeError("incompatible numbers of samples and aweights")
        aweights = m.abs(aweights)
        w = aweights if w is None else m.multiply(w, aweights)
    if dtype is not None:
        X = X.astype(dtype)
        w = w.astype(dtype) if w is not None else w
    avg, w_sum = average(X, axis=1, weights=w, returned=True)
    w_sum = w_sum[0]
    if w is None:
        f = X.shape[1] - ddof
    elif ddof == 0:
        f = w_sum
    elif aweights is None:
        f = m.subtract(w_sum, ddof)
    else:
        f = m.subtract(w_sum, m.true_divide(m.multiply(ddof, sum(m.multiply(w, aweights))), w_sum))
    X = m.subtract(X, avg[:, None])
    X_T = transpose(X) if w is None else transpose(m.multiply(X, reshape_to(w, (1,) * (X.ndim - 1) + w.shape)))
    return squeeze(m.true_divide(dot(X, m.conj(X_T)), f))


def corrcoef(x, y=None, rowvar=True, dtype=None):
    from kiln.numpy.stacking import diag
    if dtype is not None and not dtypes.is_inexact(dtypes.canonicalize_dtype(dtype)):
        raise ValueError(f"corrcoef: dtype must be a subclass of float or complex; got dtype={dtype}")
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return m.true_divide(c, c)
    stddev = cast(m.sqrt(m.real(diag(c))), c.dtype)
    c = m.true_divide(m.true_divide(c, stddev[:, None]), stddev[None, :])
    real = m.clip(m.real(c), -1, 1)
    if c.dtype.kind == "c":
        return lax.complex(real, m.clip(m.imag(c), -1, 1))
    return real
