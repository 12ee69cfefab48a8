"""kiln.lax: the primitives, with JAX's `jax.lax` signatures.

Each primitive is defined, with its rules, in one of the modules below; this module only
exposes them as functions. Binary operations accept Python scalars next to arrays (they take
the array's dtype, as weakly typed values do in JAX); otherwise operands must agree in dtype.
"""
from __future__ import annotations

import builtins as _builtins  # `max`, `min`, `abs` and `round` below are kiln.lax's

import numpy as _np

from kiln.lax.elementwise import *  # noqa: F401,F403  (the *_p primitives)
from kiln.lax.elementwise import convert_element_type
from kiln.lax import elementwise as _ew
from kiln.lax.indexing import gather_p, scatter_p  # noqa: F401
from kiln.lax.control_flow import cond, cond_p, fori_loop, map, scan, scan_p, switch, while_loop, while_p  # noqa: F401
from kiln.lax.reductions import *  # noqa: F401,F403
from kiln.lax import reductions as _red
from kiln.lax.structural import *  # noqa: F401,F403
from kiln.lax.parallel import all_gather, axis_index, pmax, pmean, pmin, psum  # noqa: F401
from kiln.lax.fft import FftType, fft  # noqa: F401
from kiln.lax.composite import *  # noqa: F401,F403  (dot, full, top_k, associative_scan, ...)
from kiln.lax.special import *  # noqa: F401,F403  (igamma, betainc, zeta, bessel_i0e, ...)
from kiln.lax.convolution import (ConvDimensionNumbers, conv, conv_dimension_numbers, conv_general_dilated,  # noqa: F401
                                  conv_transpose, conv_with_general_padding, padtype_to_pads, reduce_window)
from kiln.lax import structural as _st
from kiln.primitives import aval_of as _aval_of, bind as _bind
from kiln.runtime import dtypes as _dtypes
from kiln.runtime.array import Array as _Array


def _unary_fn(p):
    def fn(x):
        return _bind(p, x)
    fn.__name__ = p.name
    return fn


def _scalar_like(x, other):
    """A Python scalar next to an array takes the array's dtype, weakly typed (as in JAX)."""
    scalars = (bool, int, float, _builtins.complex)  # `complex` is kiln.lax.complex below
    if isinstance(x, scalars) and not isinstance(other, scalars):
        return _Array(_np.asarray(x, dtype=_aval_of(other).dtype), weak_type=True)
    return x


def _binary_fn(p):
    def fn(x, y):
        return _bind(p, _scalar_like(x, y), _scalar_like(y, x))
    fn.__name__ = p.name
    return fn


for _name in ("neg sign floor ceil is_finite exp exp2 log log1p expm1 tanh logistic sin cos tan "
              "asin acos atan sinh cosh asinh acosh atanh sqrt rsqrt cbrt abs erf erfc erf_inv "
              "lgamma digamma real imag conj").split():
    globals()[_name] = _unary_fn(getattr(_ew, f"{_name}_p"))
for _name in "add sub mul div rem pow max min atan2 nextafter eq ne lt le gt ge shift_left".split():
    globals()[_name] = _binary_fn(getattr(_ew, f"{_name}_p"))
complex = _binary_fn(_ew.complex_p)  # x + i y, as jax.lax.complex
bitwise_not = _unary_fn(_ew.not_p)
bitwise_and = _binary_fn(_ew.and_p)
bitwise_or = _binary_fn(_ew.or_p)
bitwise_xor = _binary_fn(_ew.xor_p)
shift_right_arithmetic = _binary_fn(_ew.shift_right_p)


def round(x, rounding_method=0):
    """rounding_method 0 rounds half away from zero, 1 rounds half to even (as JAX)."""
    return _bind(_ew.round_away_p if rounding_method == 0 else _ew.round_even_p, x)


def integer_pow(x, y: int):
    return _bind(_ew.integer_pow_p, x, y=int(y))


def square(x):
    return integer_pow(x, 2)


def select_n(which, *cases):
    return _bind(_ew.select_n_p, which, *cases)


def select(pred, on_true, on_false):
    return _bind(_ew.select_n_p, pred, on_false, on_true)


def clamp(min, x, max):
    return _bind(_ew.clamp_p, _scalar_like(min, x), x, _scalar_like(max, x))


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    return _bind(_st.broadcast_in_dim_p, operand, shape=tuple(int(d) for d in shape),
                broadcast_dimensions=tuple(int(d) for d in broadcast_dimensions))


def broadcast(operand, sizes):
    ndim = len(_aval_of(operand).shape)
    return broadcast_in_dim(operand, tuple(sizes) + _aval_of(operand).shape,
                            tuple(range(len(sizes), len(sizes) + ndim)))


def reshape(operand, new_sizes, dimensions=None):
    if dimensions is not None:
        operand = transpose(operand, dimensions)
    return _bind(_st.reshape_p, operand, new_sizes=tuple(int(d) for d in new_sizes))


def transpose(operand, permutation):
    return _bind(_st.transpose_p, operand, permutation=tuple(int(p) for p in permutation))


def rev(operand, dimensions):
    return _bind(_st.rev_p, operand, dimensions=tuple(int(d) for d in dimensions))


def slice(operand, start_indices, limit_indices, strides=None):
    strides = tuple(strides) if strides is not None else (1,) * len(start_indices)
    return _bind(_st.slice_p, operand, start_indices=tuple(_builtins.map(int, start_indices)),
                limit_indices=tuple(_builtins.map(int, limit_indices)), strides=tuple(_builtins.map(int, strides)))


def pad(operand, padding_value, padding_config):
    return _bind(_st.pad_p, operand, _scalar_like(padding_value, operand),
                padding_config=tuple(tuple(_builtins.map(int, c)) for c in padding_config))


def concatenate(operands, dimension):
    return _bind(_st.concatenate_p, *operands, dimension=int(dimension))


def iota(dtype, size):
    return _bind(_st.iota_p, dtype=_dtypes.canonicalize_dtype(dtype), shape=(int(size),), dimension=0)


def broadcasted_iota(dtype, shape, dimension):
    return _bind(_st.iota_p, dtype=_dtypes.canonicalize_dtype(dtype), shape=tuple(_builtins.map(int, shape)),
                dimension=int(dimension))


def _index_scalar(i):
    return _np.asarray(i, dtype=_dtypes.default_int_dtype()) if isinstance(i, (int, _np.integer)) else i


def _dynamic_slice_indices(operand, start_indices, allow_negative_indices):
    """JAX's normalisation: a negative start counts from the end (`i + dim`); the primitive then
    clamps the window into the array. Static starts are normalised here, array ones by a select."""
    shape = _aval_of(operand).shape
    start_indices = list(start_indices)
    if len(start_indices) != len(shape):
        raise ValueError(f"Length of slice indices must match number of operand dimensions "
                         f"({len(start_indices)} vs {shape})")
    allow = [allow_negative_indices] * len(shape) if isinstance(allow_negative_indices, bool) \
        else list(allow_negative_indices)
    result = []
    for i, d, negative_ok in zip(start_indices, shape, allow):
        if isinstance(i, (bool, int, _np.integer)):
            if i < 0 and not negative_ok:
                raise ValueError(f"Index {i} is out of bounds for dimension {d} if allow_negative_indices=False")
            dtype = i.dtype if isinstance(i, _np.integer) else _dtypes.default_int_dtype()
            result.append(_np.asarray(i + d if i < 0 else i, dtype=dtype))
            continue
        dtype = _aval_of(i).dtype
        if not negative_ok or dtype.kind == "u":
            result.append(i)
            continue
        result.append(select(lt(i, 0), add(i, _np.asarray(d, dtype)), i))
    return result


def dynamic_slice(operand, start_indices, slice_sizes, *, allow_negative_indices=True):
    starts = _dynamic_slice_indices(operand, start_indices, allow_negative_indices)
    return _bind(_st.dynamic_slice_p, operand, *starts, slice_sizes=tuple(_builtins.map(int, slice_sizes)))


def dynamic_update_slice(operand, update, start_indices, *, allow_negative_indices=True):
    starts = _dynamic_slice_indices(operand, start_indices, allow_negative_indices)
    return _bind(_st.dynamic_update_slice_p, operand, update, *starts)


def _zero_like_index(i):
    return _np.zeros((), _aval_of(i).dtype) if not isinstance(i, (bool, int)) else 0


def _only_axis(ndim, axis, value):
    flags = [False] * ndim
    flags[axis] = value
    return flags


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0, *, allow_negative_indices=True):
    shape = _aval_of(operand).shape
    axis = int(axis) % _builtins.max(len(shape), 1)
    starts = [_zero_like_index(start_index)] * len(shape)
    starts[axis] = start_index
    sizes = list(shape)
    sizes[axis] = int(slice_size)
    return dynamic_slice(operand, starts, sizes,
                         allow_negative_indices=_only_axis(len(shape), axis, allow_negative_indices))


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True, *, allow_negative_indices=True):
    result = dynamic_slice_in_dim(operand, index, 1, axis, allow_negative_indices=allow_negative_indices)
    if keepdims:
        return result
    shape = _aval_of(result).shape
    axis = int(axis) % len(shape)
    return reshape(result, shape[:axis] + shape[axis + 1:])


def dynamic_update_slice_in_dim(operand, update, start_index, axis, *, allow_negative_indices=True):
    ndim = len(_aval_of(operand).shape)
    axis = int(axis) % _builtins.max(ndim, 1)
    starts = [_zero_like_index(start_index)] * ndim
    starts[axis] = start_index
    return dynamic_update_slice(operand, update, starts,
                                allow_negative_indices=_only_axis(ndim, axis, allow_negative_indices))


def dynamic_update_index_in_dim(operand, update, index, axis, *, allow_negative_indices=True):
    ndim = len(_aval_of(operand).shape)
    axis = int(axis) % _builtins.max(ndim, 1)
    u_shape = _aval_of(update).shape
    if len(u_shape) != ndim:
        if len(u_shape) + 1 != ndim:
            raise TypeError(f"dynamic_update_index_in_dim: update of rank {len(u_shape)} for an operand "
                            f"of rank {ndim}")
        update = reshape(update, u_shape[:axis] + (1,) + u_shape[axis:])
    return dynamic_update_slice_in_dim(operand, update, index, axis,
                                       allow_negative_indices=allow_negative_indices)


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    dn = ((tuple(_builtins.map(int, lc)), tuple(_builtins.map(int, rc))), (tuple(_builtins.map(int, lb)), tuple(_builtins.map(int, rb))))
    pet = None if preferred_element_type is None else _dtypes.canonicalize_dtype(preferred_element_type)
    return _bind(_red.dot_general_p, lhs, rhs, dimension_numbers=dn, preferred_element_type=pet)


def _reducer(p):
    def fn(operand, axes):
        return _bind(p, operand, axes=tuple(int(a) for a in axes))
    fn.__name__ = p.name
    return fn


reduce_sum = _reducer(_red.reduce_sum_p)
reduce_prod = _reducer(_red.reduce_prod_p)
reduce_max = _reducer(_red.reduce_max_p)
reduce_min = _reducer(_red.reduce_min_p)
reduce_and = _reducer(_red.reduce_and_p)
reduce_or = _reducer(_red.reduce_or_p)


def argmax(operand, axis, index_dtype):
    return _bind(_red.argmax_p, operand, axis=int(axis), index_dtype=_dtypes.canonicalize_dtype(index_dtype))


def argmin(operand, axis, index_dtype):
    return _bind(_red.argmin_p, operand, axis=int(axis), index_dtype=_dtypes.canonicalize_dtype(index_dtype))


def cumsum(operand, axis=0, reverse=False):
    return _bind(_red.cumsum_p, operand, axis=int(axis), reverse=bool(reverse))


def cumprod(operand, axis=0, reverse=False):
    return _bind(_red.cumprod_p, operand, axis=int(axis), reverse=bool(reverse))


def cummax(operand, axis=0, reverse=False):
    return _bind(_red.cummax_p, operand, axis=int(axis), reverse=bool(reverse))


def cummin(operand, axis=0, reverse=False):
    return _bind(_red.cummin_p, operand, axis=int(axis), reverse=bool(reverse))


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    operands = tuple(operand) if isinstance(operand, (tuple, list)) else (operand,)
    ndim = len(_aval_of(operands[0]).shape)
    outs = _bind(_red.sort_p, *operands, dimension=int(dimension) % _builtins.max(ndim, 1),
                is_stable=bool(is_stable), num_keys=int(num_keys))
    return tuple(outs) if isinstance(operand, (tuple, list)) else outs[0]


def stop_gradient(x):
    """The identity, with a zero derivative (applied to every leaf of a pytree)."""
    from kiln.runtime.pytree import tree_map
    return tree_map(lambda leaf: _bind(_ew.stop_gradient_p, leaf), x)
