"""Index construction of kiln.numpy: indices, ix_, unravel/ravel of multi-indices, the
diagonal and triangle index helpers, argwhere, fill_diagonal, and the index objects
mgrid, ogrid, r_, c_, s_, index_exp (as JAX's, from static slices)."""
from __future__ import annotations

import operator

import numpy as np

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy.core import array, asarray, broadcast_to, cast, reshape_to, where
from kiln.numpy.indexing import nonzero
from kiln.runtime import dtypes


def _static_int(v, what):
    from kiln.staging import Staged
    if isinstance(v, Staged):
        from kiln.errors import ConcretizationTypeError
        from kiln.staging import user_location
        raise ConcretizationTypeError(f"the {what} must be static (concrete), not an array value being "
                                      "compiled", user_location())
    return operator.index(v)


def indices(dimensions, dtype=None, sparse=False):
    dtype = dtypes.canonicalize_dtype(int if dtype is None else dtype)
    dimensions = tuple(_static_int(d, "dimensions argument of jnp.indices") for d in dimensions)
    n = len(dimensions)
    output = []
    for i, d in enumerate(dimensions):
        shape = (1,) * i + (d,) + (1,) * (n - i - 1) if sparse else dimensions
        output.append(lax.broadcast_in_dim(lax.iota(dtype, d), shape, (i,)))
    if sparse:
        return tuple(output)
    from kiln.numpy.shapes import stack
    return stack(output, 0) if output else array([], dtype=dtype)


def ix_(*args):
    args = [asarray(a) for a in args]
    out = []
    for i, a in enumerate(args):
        if a.ndim != 1:
            raise ValueError(f"Arguments to jax.numpy.ix_ must be 1-dimensional, got shape {a.shape}")
        if a.dtype == np.bool_:
            raise NotImplementedError("Boolean arguments to jax.numpy.ix_ are not implemented")
        shape = [1] * len(args)
        shape[i] = a.shape[0]
        if a.size == 0:  # NumPy gives empty index arrays an integer type
            out.append(broadcast_to(np.zeros((), np.intp).astype(dtypes.default_int_dtype()), shape))
        else:
            out.append(lax.broadcast_in_dim(a, shape, (i,)))
    return tuple(out)


def unravel_index(indices, shape):
    indices = asarray(indices)
    try:
        shape = list(shape)
    except TypeError:
        shape = [shape]
    if any(np.ndim(s) != 0 for s in shape):
        raise ValueError("unravel_index: shape should be a scalar or 1D sequence.")
    out = [0] * len(shape)
    for i, s in reversed(list(enumerate(shape))):
        indices, out[i] = m.divmod(indices, s)
    beyond = m.greater(indices, 0)
    before = asarray(False) if indices.dtype.kind == "u" else m.less(indices, -1)
    return tuple(where(beyond, s - 1, where(before, 0, i)) for s, i in zip(shape, out))


def ravel_multi_index(multi_index, dims, mode="raise", order="C", *, dtype=None):
    if len(multi_index) != len(dims):
        raise ValueError(f"len(multi_index)={len(multi_index)} != len(dims)={len(dims)}")
    dims = tuple(_static_int(d, "`dims` argument of ravel_multi_index()") for d in dims)
    multi_index = [asarray(i) for i in multi_index]
    dtype = dtypes.result_type(int, *multi_index) if dtype is None else dtypes.canonicalize_dtype(dtype)
    if dtype.kind not in "iu":
        raise ValueError(f"dtype={dtype} is not an integer type.")
    if int(np.prod(dims, dtype=np.int64)) - 1 > np.iinfo(dtype).max:
        raise ValueError(f"jnp.ravel_multi_index: dtype={dtype} not large enough to hold flattened index "
                         f"for dims={dims}.")
    for i in multi_index:
        if mode == "raise":
            _static_int_array(i)
        if i.dtype.kind not in "iu":
            raise TypeError("only int indices permitted")
    if mode == "raise":
        if any(np.any((np.asarray(i) < 0) | (np.asarray(i) >= d)) for i, d in zip(multi_index, dims)):
            raise ValueError("invalid entry in coordinates array")
    elif mode == "clip":
        multi_index = [m.clip(i, 0, d - 1) for i, d in zip(multi_index, dims)]
    elif mode == "wrap":
        multi_index = [m.remainder(i, d) for i, d in zip(multi_index, dims)]
    elif mode != "ignore":
        raise ValueError(f"invalid mode={mode!r}. Expected 'raise', 'wrap', 'clip', or 'ignore'.")
    if order == "F":
        strides = np.cumprod((1,) + dims[:-1])
    elif order == "C":
        strides = np.cumprod((1,) + dims[1:][::-1])[::-1]
    else:
        raise ValueError(f"invalid order={order!r}. Expected 'C' or 'F'")
    result = array(0, dtype=dtype)
    for i, s in zip(multi_index, strides):
        result = m.add(result, m.multiply(cast(i, dtype), int(s)))
    return result


def _static_int_array(i):
    from kiln.staging import Staged
    if isinstance(i, Staged):
        from kiln.errors import ConcretizationTypeError
        from kiln.staging import user_location
        raise ConcretizationTypeError("ravel_multi_index with mode='raise' needs concrete indices; "
                                      "use mode='wrap' or mode='clip' inside compiled functions", user_location())


def diag_indices(n, ndim=2):
    n = _static_int(n, "'n' argument of jnp.diag_indices()")
    ndim = _static_int(ndim, "'ndim' argument of jnp.diag_indices()")
    if n < 0:
        raise ValueError(f"n argument to diag_indices must be nonnegative, got {n}")
    if ndim < 0:
        raise ValueError(f"ndim argument to diag_indices must be nonnegative, got {ndim}")
    dtype = dtypes.default_int_dtype() if n <= np.iinfo(np.int32).max else np.dtype(np.int64)
    return (lax.iota(dtype, n),) * ndim


def diag_indices_from(arr):
    arr = asarray(arr)
    if arr.ndim < 2:
        raise ValueError("input array must be at least 2-d")
    if len(set(arr.shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return diag_indices(arr.shape[0], arr.ndim)


def _triangle_size(n, m_, k):
    """The number of (i, j) with 0 <= i < n, 0 <= j < m_ and j - i >= k."""
    return int(sum(max(0, m_ - max(i + k, 0)) for i in range(n)))


def triu_indices(n, k=0, m=None):
    from kiln.numpy.creation import ones
    from kiln.numpy.shapes import triu
    n, k = _static_int(n, "n argument of jnp.triu_indices"), _static_int(k, "k argument of jnp.triu_indices")
    m_ = n if m is None else _static_int(m, "m argument of jnp.triu_indices")
    return nonzero(triu(ones((n, m_)), k), size=_triangle_size(n, m_, k))


def tril_indices(n, k=0, m=None):
    from kiln.numpy.creation import ones
    from kiln.numpy.shapes import tril
    n, k = _static_int(n, "n argument of jnp.tril_indices"), _static_int(k, "k argument of jnp.tril_indices")
    m_ = n if m is None else _static_int(m, "m argument of jnp.tril_indices")
    return nonzero(tril(ones((n, m_)), k), size=_triangle_size(m_, n, -k))


def _shape_2d(arr, name):
    shape = arr.shape if hasattr(arr, "shape") else asarray(arr).shape
    if len(shape) != 2:
        raise ValueError("Only 2-D inputs are accepted")
    return shape


def triu_indices_from(arr, k=0):
    n, m_ = _shape_2d(arr, "triu_indices_from")
    return triu_indices(n, k=k, m=m_)


def tril_indices_from(arr, k=0):
    n, m_ = _shape_2d(arr, "tril_indices_from")
    return tril_indices(n, k=k, m=m_)


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    if inplace:
        raise NotImplementedError("JAX arrays are immutable, must use inplace=False")
    if wrap:
        raise NotImplementedError("wrap=True is not implemented, must use wrap=False")
    a, val = asarray(a), asarray(val)
    if a.ndim < 2:
        raise ValueError("array must be at least 2-d")
    if a.ndim > 2 and not all(d == a.shape[0] for d in a.shape[1:]):
        raise ValueError("All dimensions of input must be of equal length")
    n = min(a.shape)
    if val.ndim != 0:
        from kiln.numpy.shapes import ravel, tile
        val = ravel(val)
        if val.size < n:
            val = tile(val, int(np.ceil(n / val.size)))
        val = val[:n] if val.size > n else val
    return a.at[diag_indices(n, a.ndim)].set(val)


def argwhere(a, *, size=None, fill_value=None):
    from kiln.numpy.shapes import atleast_1d, transpose, vstack
    a = asarray(a)
    result = transpose(vstack(nonzero(atleast_1d(a), size=size, fill_value=fill_value)))
    if a.ndim == 0:
        return reshape_to(result[:0], (result.shape[0], 0))
    return reshape_to(result, (result.shape[0], a.ndim))


def flatnonzero(a, *, size=None, fill_value=None):
    a = asarray(a)
    return nonzero(reshape_to(a, (a.size,)), size=size, fill_value=fill_value)[0]


# ---------------------------------------------------------------------------- index objects

def _grid_from_slice(s: slice, op_name: str):
    from kiln.numpy.creation import arange, linspace
    start = s.start or 0
    step = s.step or 1
    if np.iscomplex(step):
        return linspace(start, s.stop, int(abs(step)))
    return arange(start, s.stop, step)


class _Mgrid:
    def __getitem__(self, key):
        from kiln.numpy.core import promote
        from kiln.numpy.creation import arange, meshgrid
        from kiln.numpy.shapes import stack
        if isinstance(key, slice):
            return _grid_from_slice(key, "mgrid")
        grids = promote(*(_grid_from_slice(k, "mgrid") for k in key)) if key else []
        grids = [cast(g, g.dtype) for g in grids]
        out = meshgrid(*grids, indexing="ij", sparse=False)
        return stack(out, 0) if out else arange(0)


class _Ogrid:
    def __getitem__(self, key):
        from kiln.numpy.core import promote
        from kiln.numpy.creation import meshgrid
        if isinstance(key, slice):
            return _grid_from_slice(key, "ogrid")
        grids = [cast(g, g.dtype) for g in promote(*(_grid_from_slice(k, "ogrid") for k in key))]
        return meshgrid(*grids, indexing="ij", sparse=True)


class _AxisConcat:
    axis: int
    ndmin: int
    trans1d: int
    op_name: str

    def __getitem__(self, key):
        from kiln.numpy.shapes import concatenate, expand_dims, transpose
        key = key if isinstance(key, tuple) else (key,)
        params = [self.axis, self.ndmin, self.trans1d, -1]
        directive = key[0]
        if isinstance(directive, str):
            key = key[1:]
            if directive == "r":
                params[-1] = 0
            elif directive == "c":
                params[-1] = 1
            else:
                vec = directive.split(",")
                vec = vec + params[len(vec):] if len(vec) < 4 else vec[:3] + [params[-1]]
                try:
                    params = [int(v) for v in vec]
                except ValueError as err:
                    raise ValueError(f"could not understand directive {directive!r}") from err
        axis, ndmin, trans1d, matrix = params
        output = []
        for item in key:
            if isinstance(item, slice):
                item, item_ndim = _grid_from_slice(item, self.op_name), 0
            elif isinstance(item, str):
                raise ValueError("string directive must be placed at the beginning")
            else:
                item = array(item)
                item_ndim = item.ndim
            item = array(item, ndmin=ndmin)
            if trans1d != -1 and ndmin - item_ndim > 0:
                order = tuple(range(ndmin))
                shifts = ndmin - abs(ndmin + trans1d + 1) % ndmin
                item = transpose(item, order[shifts:] + order[:shifts])
            output.append(item)
        result = concatenate(output, axis=axis)
        if matrix != -1 and result.ndim == 1:
            result = expand_dims(result, matrix)
        return result

    def __len__(self):
        return 0


class RClass(_AxisConcat):
    axis, ndmin, trans1d, op_name = 0, 1, -1, "r_"


class CClass(_AxisConcat):
    axis, ndmin, trans1d, op_name = -1, 2, 0, "c_"


mgrid, ogrid, r_, c_ = _Mgrid(), _Ogrid(), RClass(), CClass()
s_, index_exp = np.s_, np.index_exp
