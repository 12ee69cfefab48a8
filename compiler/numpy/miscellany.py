"""The rest of jax.numpy's functions that are compositions of others: cross, matvec, vecmat,
rollaxis, unwrap, the window functions, polymul, polyfit, compress, extract, piecewise,
gradient, fromfunction, the functional put / put_along_axis / place, and NumPy's dtype and
print-option helpers."""
from __future__ import annotations

import operator

import numpy as np

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy.core import asarray, broadcast_arrays, promote, promote_inexact, where

__all__ = ["bartlett", "blackman", "can_cast", "compress", "cross", "extract", "fromfunction", "get_printoptions",
           "gradient", "hamming", "hanning", "isdtype", "iterable", "matvec", "piecewise", "place", "polyfit",
           "polymul", "printoptions", "put", "put_along_axis", "rollaxis", "set_printoptions", "unwrap", "vecmat"]

# NumPy's own: they act on dtypes and print settings, not on arrays
can_cast = np.can_cast
iterable = np.iterable
get_printoptions = np.get_printoptions
set_printoptions = np.set_printoptions
printoptions = np.printoptions


def isdtype(dtype, kind):
    """Whether `dtype` is of `kind` (a dtype, or "bool", "signed integer", "unsigned integer",
    "integral", "real floating", "complex floating", "numeric", or a tuple of those)."""
    return np.isdtype(np.dtype(dtype), kind)


# ---------------------------------------------------------------------------- products

def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 2- or 3-vectors along the given axes (2-vectors have z = 0; two
    2-vectors give the z component alone)."""
    from kiln.numpy.shapes import moveaxis, stack
    a, b = promote(asarray(a), asarray(b))
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("Dimension must be either 2 or 3 for cross product")
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return m.subtract(m.multiply(a[..., 0], b[..., 1]), m.multiply(a[..., 1], b[..., 0]))
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    a2 = a[..., 2] if a.shape[-1] == 3 else m.multiply(a0, 0)
    b2 = b[..., 2] if b.shape[-1] == 3 else m.multiply(b0, 0)
    parts = [m.subtract(m.multiply(a1, b2), m.multiply(a2, b1)), m.subtract(m.multiply(a2, b0), m.multiply(a0, b2)),
             m.subtract(m.multiply(a0, b1), m.multiply(a1, b0))]
    return moveaxis(stack(broadcast_arrays(*parts), axis=-1), -1, axisc)


def matvec(x1, x2, /):
    """Matrix-vector products over the trailing axes: (..., m, n) and (..., n) -> (..., m)."""
    from kiln.numpy.contractions import matmul
    return matmul(x1, asarray(x2)[..., None])[..., 0]


def vecmat(x1, x2, /):
    """Vector-matrix products, the vector conjugated: (..., m) and (..., m, n) -> (..., n)."""
    from kiln.numpy.contractions import matmul
    return matmul(m.conj(asarray(x1))[..., None, :], x2)[..., 0, :]


def rollaxis(a, axis, start=0):
    """`a` with `axis` moved to before position `start` (NumPy's older moveaxis)."""
    from kiln.numpy.shapes import moveaxis
    a = asarray(a)
    n = a.ndim
    axis = operator.index(axis)
    start = operator.index(start)
    if not -n <= axis < n:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {n}")
    if not -n <= start <= n:
        raise ValueError(f"start={start} must satisfy {-n} <= start <= {n}")
    axis %= n
    start = start + n if start < 0 else start
    if axis < start:
        start -= 1
    return moveaxis(a, axis, start)


# ---------------------------------------------------------------------------- signals

def unwrap(p, discont=None, axis=-1, period=2 * np.pi):
    """p with jumps larger than discont (default period / 2) along `axis` undone by adding
    multiples of `period`."""
    from kiln.numpy.editing import diff
    from kiln.numpy.reductions import cumsum
    from kiln.numpy.shapes import concatenate, moveaxis
    p, = promote_inexact(asarray(p))
    period = asarray(period, p.dtype)
    discont = period / 2 if discont is None else asarray(discont, p.dtype)
    x = moveaxis(p, axis, -1)
    d = diff(x, axis=-1)
    half = period / 2
    dd = m.subtract(m.mod(m.add(d, half), period), half)
    dd = where((dd == -half) & (d > 0), half, dd)
    correction = where(m.absolute(d) < discont, 0, m.subtract(dd, d))
    out = concatenate([x[..., :1], m.add(x[..., 1:], cumsum(correction, axis=-1))], axis=-1)
    return moveaxis(out, -1, axis)


def _window(M, values):
    from kiln.runtime import dtypes
    M = operator.index(M)
    if M <= 1:
        return asarray(np.ones(max(M, 0)), dtypes.default_float_dtype())
    from kiln.numpy.creation import arange
    n = arange(M, dtype=dtypes.default_float_dtype())
    return values(n, M)


def bartlett(M):
    return _window(M, lambda n, M: 1 - m.absolute(2 * n - M + 1) / (M - 1))


def blackman(M):
    return _window(M, lambda n, M: 0.42 - 0.5 * m.cos(2 * np.pi * n / (M - 1)) + 0.08 * m.cos(4 * np.pi * n / (M - 1)))


def hamming(M):
    return _window(M, lambda n, M: 0.54 - 0.46 * m.cos(2 * np.pi * n / (M - 1)))


def hanning(M):
    return _window(M, lambda n, M: 0.5 - 0.5 * m.cos(2 * np.pi * n / (M - 1)))


# ---------------------------------------------------------------------------- polynomials

def polymul(a1, a2, *, trim_leading_zeros=False):
    """The product of two polynomials (coefficients highest power first)."""
    from kiln.numpy.contractions import convolve
    from kiln.numpy.editing import trim_zeros
    a1, a2 = promote_inexact(asarray(a1), asarray(a2))
    if trim_leading_zeros and (a1.ndim, a2.ndim) == (1, 1):
        a1, a2 = trim_zeros(a1, "f"), trim_zeros(a2, "f")
    if a1.shape[0] == 0:
        a1 = asarray([0], a1.dtype)
    if a2.shape[0] == 0:
        a2 = asarray([0], a2.dtype)
    return convolve(a1, a2, mode="full")


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """The least-squares polynomial of degree `deg` through (x, y), highest power first."""
    from kiln.numpy.linalg import inv, lstsq
    from kiln.numpy.polynomial import vander
    from kiln.numpy.reductions import sum as asum
    x, y = promote_inexact(asarray(x), asarray(y))
    deg = operator.index(deg)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1 or x.shape[0] == 0 or y.ndim not in (1, 2) or x.shape[0] != y.shape[0]:
        raise TypeError("expected 1D x and 1D or 2D y of the same length")
    order = deg + 1
    rcond = x.shape[0] * np.finfo(x.dtype).eps if rcond is None else rcond
    lhs, rhs = vander(x, order), y
    if w is not None:
        w, = promote_inexact(asarray(w))
        lhs = m.multiply(lhs, w[:, None])
        rhs = m.multiply(rhs, w if rhs.ndim == 1 else w[:, None])
    scale = m.sqrt(asum(m.multiply(lhs, lhs), axis=0))
    lhs = m.true_divide(lhs, scale)
    c, resids, rank, s = lstsq(lhs, rhs, rcond)
    c = m.true_divide(c.T, scale).T
    if full:
        return c, resids, rank, s, asarray(rcond, x.dtype)
    if cov:
        vbase = inv(lhs.T @ lhs) / m.outer(scale, scale)
        fac = resids / (x.shape[0] - order) if cov != "unscaled" else 1
        if y.ndim == 1:
            return c, m.multiply(vbase, fac)
        return c, m.multiply(vbase[:, :, None], fac)
    return c


# ---------------------------------------------------------------------------- selection

def compress(condition, a, axis=None, *, size=None, fill_value=0, out=None):
    """The slices of `a` along `axis` (all of a, flattened, if None) where `condition` holds;
    under jit a static `size` pads with `fill_value` or truncates."""
    from kiln.numpy.indexing import nonzero
    from kiln.numpy.shapes import moveaxis, ravel
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.compress is not supported.")
    condition, a = asarray(condition), asarray(a)
    if condition.ndim != 1:
        raise ValueError("condition must be a 1D array")
    if axis is None:
        a, axis = ravel(a), 0
    a = moveaxis(a, axis, 0)
    condition = condition.astype(bool)
    if condition.shape[0] > a.shape[0]:
        if size is None and bool(np.any(np.asarray(condition[a.shape[0]:]))):
            raise ValueError("condition contains entries that are out of bounds")
        condition = condition[:a.shape[0]]
    elif condition.shape[0] < a.shape[0]:
        from kiln.numpy.shapes import concatenate
        from kiln.numpy.creation import zeros
        condition = concatenate([condition, zeros(a.shape[0] - condition.shape[0], bool)])
    index, = nonzero(condition, size=size, fill_value=a.shape[0] if size is not None else None)
    if size is None:
        return moveaxis(a[index], 0, axis)
    valid = index < a.shape[0]
    picked = a[m.minimum(index, a.shape[0] - 1)]
    valid = valid.reshape(valid.shape + (1,) * (a.ndim - 1))
    return moveaxis(where(valid, picked, asarray(fill_value, a.dtype)), 0, axis)


def extract(condition, arr, *, size=None, fill_value=0):
    """The entries of arr (flattened) where condition (flattened) holds."""
    from kiln.numpy.shapes import ravel
    return compress(ravel(asarray(condition)), ravel(asarray(arr)), size=size, fill_value=fill_value)


def piecewise(x, condlist, funclist, *args, **kw):
    """funclist[i](x) where condlist[i] holds (later conditions win), the extra function (if
    one more than the conditions) elsewhere, 0 where none holds; constants stand for functions
    returning them."""
    from kiln.numpy.core import broadcast_to
    x = asarray(x)
    conds = [asarray(c).astype(bool) for c in (condlist if isinstance(condlist, (list, tuple)) else
                                                [condlist] if np.ndim(condlist) == x.ndim else list(condlist))]
    if len(funclist) not in (len(conds), len(conds) + 1):
        raise ValueError(f"with {len(conds)} condition(s), either {len(conds)} or {len(conds) + 1} functions are "
                         f"expected; got {len(funclist)}")
    if len(funclist) == len(conds) + 1:
        otherwise = funclist[-1]
    else:
        otherwise = 0

    def value(f):
        out = f(x, *args, **kw) if callable(f) else f
        return broadcast_to(asarray(out, x.dtype), x.shape)
    result = value(otherwise)
    for cond, f in zip(conds, funclist[:len(conds)]):
        result = where(cond, value(f), result)
    return result


def gradient(f, *varargs, axis=None, edge_order=None):
    """Central differences inside, one-sided at the edges, along each axis (or `axis`), for
    unit spacing or the given scalar spacings or coordinate arrays."""
    from kiln.numpy.shapes import concatenate
    f, = promote_inexact(asarray(f))
    if edge_order is not None and edge_order != 1:
        raise NotImplementedError("The 'edge_order' argument to jnp.gradient is not supported.")
    axes = tuple(range(f.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    axes = tuple(a % f.ndim for a in axes)
    if not varargs:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("Invalid number of spacing arguments")

    def along(a, spacing):
        n = f.shape[a]
        if n < 2:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least 2 elements are required.")

        def cut(lo, hi):
            return lax.slice_in_dim(f, lo, hi, axis=a)
        if np.ndim(spacing) == 0:
            h = asarray(spacing, f.dtype)
            inner = m.true_divide(m.subtract(cut(2, None), cut(0, -2)), 2 * h)
            first = m.true_divide(m.subtract(cut(1, 2), cut(0, 1)), h)
            last = m.true_divide(m.subtract(cut(n - 1, n), cut(n - 2, n - 1)), h)
        else:
            coords = asarray(spacing, f.dtype)
            if coords.ndim != 1 or coords.shape[0] != n:
                raise ValueError("Spacing arrays must be 1D with the axis' length")
            dx = m.subtract(coords[1:], coords[:-1])
            shape = [1] * f.ndim
            shape[a] = n - 2
            h1, h2 = dx[:-1].reshape(shape), dx[1:].reshape(shape)
            inner = (m.multiply(h1 ** 2, cut(2, None)) - m.multiply(h2 ** 2, cut(0, -2))
                     + m.multiply(h2 ** 2 - h1 ** 2, cut(1, -1))) / (h1 * h2 * (h1 + h2))
            first = m.true_divide(m.subtract(cut(1, 2), cut(0, 1)), dx[0])
            last = m.true_divide(m.subtract(cut(n - 1, n), cut(n - 2, n - 1)), dx[-1])
        return concatenate([first, inner, last], axis=a)
    grads = [along(a, s) for a, s in zip(axes, spacings)]
    return grads[0] if len(grads) == 1 else grads


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """function applied to index arrays of `shape` (coordinates of each element), as
    `jax.numpy.fromfunction` (through vmap over each axis' coordinates)."""
    import functools
    from kiln.batching import vmap
    from kiln.numpy.creation import arange
    shape = tuple(operator.index(d) for d in shape)
    fn = functools.partial(function, **kwargs) if kwargs else function
    for i in range(len(shape)):
        fn = vmap(fn, in_axes=tuple(0 if j == i else None for j in range(len(shape))), out_axes=i)
    return fn(*(arange(d, dtype=dtype) for d in shape))


def _functional(name, inplace):
    if inplace:
        raise ValueError(f"jax.numpy.{name} cannot modify arrays in-place, because JAX (and kiln) arrays are "
                         f"immutable. Pass inplace=False to instead return an updated array.")


def put(a, ind, v, mode=None, *, inplace=True):
    """a (flattened, then reshaped back) with v written at the indices ind; needs
    inplace=False, as in JAX."""
    from kiln.numpy.shapes import ravel
    _functional("put", inplace)
    a = asarray(a)
    ind, v = ravel(asarray(ind)), ravel(asarray(v))
    if ind.shape[0] == 0 or v.shape[0] == 0:
        return a
    if mode not in (None, "fill", "clip", "wrap"):
        raise ValueError(f"mode should be one of 'wrap' or 'clip'; got {mode=}")
    if mode == "wrap":
        ind = m.mod(ind, a.size)
    elif mode == "clip":
        ind = m.clip(ind, 0, a.size - 1)
    from kiln.numpy.shapes import tile
    reps = -(-ind.shape[0] // v.shape[0])
    v = tile(v, reps)[:ind.shape[0]] if v.shape[0] != ind.shape[0] else v
    return ravel(a).at[ind].set(v.astype(a.dtype), mode=None if mode in ("clip", "wrap") else "drop").reshape(a.shape)


def put_along_axis(arr, indices, values, axis, inplace=True, *, mode=None):
    """arr with values written at `indices` along `axis` (take_along_axis's inverse); needs
    inplace=False, as in JAX."""
    from kiln.numpy.shapes import ravel
    _functional("put_along_axis", inplace)
    arr, indices = asarray(arr), asarray(indices)
    if axis is None:
        arr2, axis = ravel(arr), 0
        indices = ravel(indices)
    else:
        arr2 = arr
    axis = operator.index(axis) % arr2.ndim
    if indices.ndim != arr2.ndim:
        raise ValueError("indices and arr must have the same number of dimensions")
    from kiln.numpy.core import broadcast_to
    from kiln.numpy.creation import arange
    shape = tuple(max(a, i) if k != axis else i for k, (a, i) in enumerate(zip(arr2.shape, indices.shape)))
    indices = broadcast_to(indices, shape)
    index = tuple(indices if k == axis else arange(d).reshape([d if j == k else 1 for j in range(arr2.ndim)])
                  for k, d in enumerate(shape))
    values = broadcast_to(asarray(values, arr2.dtype), shape)
    out = arr2.at[index].set(values, mode=mode)
    return out.reshape(arr.shape)


def place(arr, mask, vals, *, inplace=True):
    """arr with its entries where mask holds replaced by vals, in order (vals repeated as
    needed); eager only (the count depends on the mask), and needs inplace=False."""
    from kiln.numpy.shapes import ravel
    _functional("place", inplace)
    arr, mask, vals = asarray(arr), asarray(mask).astype(bool), ravel(asarray(vals))
    flat_mask = ravel(mask)
    from kiln.numpy.reductions import cumsum
    position = m.subtract(cumsum(flat_mask.astype(np.int32)), 1)
    if vals.shape[0] == 0:
        return arr
    fill = vals[m.mod(m.maximum(position, 0), vals.shape[0])].astype(arr.dtype)
    return where(flat_mask, fill, ravel(arr)).reshape(arr.shape)
