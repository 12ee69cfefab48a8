"""Polynomials of kiln.numpy (coefficients highest power first, as NumPy): polyval, polyadd,
polysub, polyder, polyint, vander (JAX's definitions; polyval is Horner's rule unrolled)."""
from __future__ import annotations

import operator

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy.core import asarray, broadcast_shapes, cast, promote, promote_inexact, reshape_to


def polyval(p, x, *, unroll=16):
    from kiln.numpy.creation import zeros
    p, x = promote(asarray(p), asarray(x))
    shape = broadcast_shapes(p.shape[1:], x.shape)
    y = zeros(shape, dtype=x.dtype)
    y = cast(y, x.dtype, x.weak_type)
    for i in range(p.shape[0]):
        y = m.add(m.multiply(y, x), p[i])
    return y


def polyadd(a1, a2):
    a1, a2 = promote(asarray(a1), asarray(a2))
    if a2.shape[0] <= a1.shape[0]:
        return a1.at[a1.shape[0] - a2.shape[0]:].add(a2)
    return a2.at[a2.shape[0] - a1.shape[0]:].add(a1)


def polysub(a1, a2):
    a1, a2 = promote(asarray(a1), asarray(a2))
    return polyadd(a1, m.negative(a2))


def polyder(p, m_=1):
    from kiln.numpy.creation import arange
    from kiln.numpy.reductions import prod
    m_ = operator.index(m_)
    (p,) = promote_inexact(asarray(p))
    if m_ < 0:
        raise ValueError("Order of derivative must be positive")
    if m_ == 0:
        return p
    coeff = prod(m.subtract(arange(m_, p.shape[0], dtype=p.dtype)[None], arange(m_, dtype=p.dtype)[:, None]), 0)
    return m.multiply(p[:max(p.shape[0] - m_, 0)], coeff[::-1])


def polyint(p, m_=1, k=None):
    from kiln.numpy.creation import arange, full
    from kiln.numpy.reductions import prod
    from kiln.numpy.shapes import atleast_1d, concatenate
    m_ = operator.index(m_)
    p, k = promote_inexact(asarray(p), asarray(0 if k is None else k))
    if m_ < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    k = atleast_1d(k)
    if k.shape[0] == 1:
        k = full((m_,), k[0])
    if k.shape != (m_,):
        raise ValueError("k must be a scalar or a rank-1 array of length 1 or m.")
    if m_ == 0:
        return p
    grid = m.subtract(arange(p.shape[0] + m_, dtype=p.dtype)[None], arange(m_, dtype=p.dtype)[:, None])
    coeff = prod(m.maximum(1, grid), 0)[::-1]
    return m.true_divide(concatenate([p, k]), coeff)


def vander(x, N=None, increasing=False):
    x = asarray(x)
    if x.ndim != 1:
        raise ValueError("x must be a one-dimensional array")
    N = x.shape[0] if N is None else operator.index(N)
    if N < 0:
        raise ValueError("N must be nonnegative")
    powers = lax.iota(x.dtype, N)
    if not increasing:
        powers = m.subtract(cast(N - 1, x.dtype), powers)
    return m.power(x[:, None], reshape_to(powers, (1, N)))


__all__ = ["polyval", "polyadd", "polysub", "polyder", "polyint", "vander"]
