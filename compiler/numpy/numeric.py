"""Elementwise odds and ends of kiln.numpy, as JAX defines them: angle, fabs, modf, logaddexp2,
gcd, lcm, the complex/real predicates, copy, array_equiv and the array-API bitwise names."""
from __future__ import annotations

import numpy as np

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy.core import asarray, broadcast_arrays, cast, promote, promote_inexact, where
from kiln.runtime import dtypes


def angle(z, deg=False):
    z = asarray(z)
    re, im = m.real(z), m.imag(z)
    if not dtypes.is_inexact(re.dtype) or (z.dtype.kind == "f" and z.ndim == 0):
        dtype = dtypes.default_float_dtype()
        re, im = cast(re, dtype), cast(im, dtype)
    out = m.arctan2(im, re)
    return m.degrees(out) if deg else out


def fabs(x, /):
    x = asarray(x)
    if x.dtype.kind == "c":
        raise TypeError("ufunc 'fabs' does not support complex dtypes")
    return m.abs(*promote_inexact(x))


def modf(x, /, out=None):
    (x,) = promote_inexact(asarray(x))
    whole = where(m.greater_equal(x, 0), m.floor(x), m.ceil(x))
    return m.subtract(x, whole), whole


def logaddexp2(x1, x2, /):
    x1, x2 = promote_inexact(x1, x2)
    if x1.dtype.kind == "c":
        raise NotImplementedError("kiln.numpy.logaddexp2 of complex values is not implemented")
    big = m.maximum(x1, x2)
    delta = m.subtract(x1, x2)
    out = m.add(big, m.multiply(cast(1 / np.log(2), big.dtype, big.weak_type),
                                m.log1p(m.exp2(m.negative(m.abs(delta))))))
    return where(m.isnan(delta), m.add(x1, x2), out)


def gcd(x1, x2):
    x1, x2 = promote(asarray(x1), asarray(x2))
    if x1.dtype.kind not in "iu":
        raise ValueError("Arguments to jax.numpy.gcd must be integers.")
    x1, x2 = broadcast_arrays(x1, x2)

    def cond(xs):
        from kiln.numpy.reductions import any
        return any(m.not_equal(xs[1], 0))

    def body(xs):
        a, b = xs
        nonzero = m.not_equal(b, 0)
        a, b = where(nonzero, b, a), where(nonzero, lax.rem(a, where(nonzero, b, 1)), cast(0, b.dtype, b.weak_type))
        swap = m.less(a, b)
        return where(swap, b, a), where(swap, a, b)
    out, _ = lax.while_loop(cond, body, (m.abs(x1), m.abs(x2)))
    return out


def lcm(x1, x2):
    x1, x2 = promote(asarray(x1), asarray(x2))
    x1, x2 = m.abs(x1), m.abs(x2)
    if x1.dtype.kind not in "iu":
        raise ValueError("Arguments to jax.numpy.lcm must be integers.")
    d = gcd(x1, x2)
    zero = m.equal(d, 0)
    return where(zero, cast(0, d.dtype, d.weak_type), m.multiply(x1, m.floor_divide(x2, where(zero, 1, d))))


def iscomplex(x):
    i = m.imag(asarray(x))
    return m.not_equal(i, cast(0, i.dtype))


def isreal(x):
    i = m.imag(asarray(x))
    return m.equal(i, cast(0, i.dtype))


def iscomplexobj(x):
    if x is None:
        return False
    try:
        dtype = x.dtype
    except AttributeError:
        dtype = dtypes.result_type(x)
    return np.dtype(dtype).kind == "c"


def isrealobj(x):
    return not iscomplexobj(x)


def copy(a, order=None):
    from kiln.numpy.core import array
    return array(a, copy=True)


def array_equiv(a1, a2):
    from kiln.numpy.reductions import all
    a1, a2 = asarray(a1), asarray(a2)
    try:  # as JAX: a clash of equal ranks is equal()'s TypeError, not False
        eq = m.equal(a1, a2)
    except ValueError:
        return asarray(False)
    return all(eq)


def bitwise_invert(x, /):
    return m.invert(x)


def bitwise_left_shift(x, y, /):
    return m.left_shift(x, y)


def bitwise_right_shift(x, y, /):
    return m.right_shift(x, y)


__all__ = ["angle", "fabs", "modf", "logaddexp2", "gcd", "lcm", "iscomplex", "isreal", "iscomplexobj",
           "isrealobj", "copy", "array_equiv", "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift"]
