"""jax.lax's conveniences over the primitives: dot, full, expand_dims, squeeze, index_in_dim,
top_k, sort_key_val, associative_scan, cumlogsumexp, reduce, ... Each is a composition of
primitives (as in JAX, where most are too), so every transform and backend handles it."""
from __future__ import annotations

import builtins
import operator

import numpy as np

from kiln.primitives import aval_of
from kiln.runtime import dtypes

__all__ = ["associative_scan", "batch_matmul", "broadcast_to_rank", "collapse", "cumlogsumexp", "dot", "expand_dims",
           "full", "full_like", "index_in_dim", "optimization_barrier", "reciprocal", "reduce", "slice_in_dim",
           "sort_key_val", "split", "squeeze", "top_k"]


def _lax():
    import kiln.lax as lax
    return lax


def _shape(x):
    return aval_of(x).shape


def dot(lhs, rhs, precision=None, preferred_element_type=None):
    """Vector/matrix products of 1-d and 2-d arrays (the last axis of lhs with the first of rhs)."""
    lax = _lax()
    if not 1 <= len(_shape(lhs)) <= 2 or not 1 <= len(_shape(rhs)) <= 2 or _shape(lhs)[-1] != _shape(rhs)[0]:
        raise TypeError(f"Incompatible shapes for dot: got {_shape(lhs)} and {_shape(rhs)}.")
    return lax.dot_general(lhs, rhs, (((len(_shape(lhs)) - 1,), (0,)), ((), ())),
                           preferred_element_type=preferred_element_type)


def batch_matmul(lhs, rhs, precision=None):
    """Matrix products over matching leading (batch) axes."""
    ndim = len(_shape(lhs))
    if ndim < 2 or ndim != len(_shape(rhs)):
        raise TypeError(f"batch_matmul needs arrays of one rank >= 2, got shapes {_shape(lhs)} and {_shape(rhs)}")
    batch = tuple(range(ndim - 2))
    return _lax().dot_general(lhs, rhs, (((ndim - 1,), (ndim - 2,)), (batch, batch)))


def full(shape, fill_value, dtype=None, *, sharding=None):
    """An array of `shape` filled with `fill_value` (a scalar), of `dtype` or the value's."""
    import kiln.numpy as knp
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if aval_of(fill_value).shape:
        raise TypeError(f"full must be called with scalar fill_value, got fill_value.shape "
                        f"{aval_of(fill_value).shape}.")
    value = knp.asarray(fill_value) if dtype is None else knp.asarray(fill_value, dtypes.canonicalize_dtype(dtype))
    return knp.broadcast_to(value, shape)


def full_like(x, fill_value, dtype=None, shape=None, sharding=None):
    """An array like x (its shape and dtype unless given) filled with `fill_value`."""
    aval = aval_of(x)
    return full(aval.shape if shape is None else shape, fill_value, aval.dtype if dtype is None else dtype)


def expand_dims(array, dimensions):
    """array with size-1 axes inserted at `dimensions` (positions in the result)."""
    shape = list(_shape(array))
    ndim = len(shape) + len(dimensions)
    for d in sorted(operator.index(d) % ndim for d in dimensions):
        shape.insert(d, 1)
    return _lax().reshape(array, tuple(shape))


def squeeze(array, dimensions):
    """array without its size-1 axes `dimensions`."""
    shape = _shape(array)
    dims = {operator.index(d) % builtins.max(len(shape), 1) for d in dimensions}
    for d in dims:
        if shape[d] != 1:
            raise ValueError(f"cannot select an axis to squeeze out which has size not equal to one, got "
                             f"shape={shape} and dimensions={tuple(dimensions)}")
    return _lax().reshape(array, tuple(n for i, n in enumerate(shape) if i not in dims))


def broadcast_to_rank(x, rank):
    """x with leading size-1 axes up to `rank`."""
    ndim = len(_shape(x))
    return x if ndim >= rank else _lax().reshape(x, (1,) * (rank - ndim) + _shape(x))


def collapse(operand, start_dimension, stop_dimension=None):
    """operand with axes [start, stop) merged into one."""
    shape = _shape(operand)
    stop = len(shape) if stop_dimension is None else stop_dimension
    size = int(np.prod(shape[start_dimension:stop], dtype=np.int64))
    return _lax().reshape(operand, shape[:start_dimension] + (size,) + shape[stop:])


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """operand[start:limit:stride] along `axis` (None bounds and negative ones as in Python)."""
    shape = _shape(operand)
    axis = operator.index(axis) % len(shape)
    start, limit, _ = builtins.slice(start_index, limit_index).indices(shape[axis])
    starts, limits, strides = [0] * len(shape), list(shape), [1] * len(shape)
    starts[axis], limits[axis], strides[axis] = start, builtins.max(start, limit), int(stride)
    return _lax().slice(operand, starts, limits, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """operand[index] along `axis` (a static index), keeping the axis with `keepdims`."""
    shape = _shape(operand)
    axis = operator.index(axis) % len(shape)
    index = operator.index(index)
    if not -shape[axis] <= index < shape[axis]:
        raise IndexError(f"index {index} is out of bounds for axis {axis} with size {shape[axis]}")
    index %= shape[axis]
    result = slice_in_dim(operand, index, index + 1, 1, axis)
    return result if keepdims else _lax().reshape(result, shape[:axis] + shape[axis + 1:])


def split(operand, sizes, axis=0):
    """operand cut along `axis` into pieces of the given sizes."""
    shape = _shape(operand)
    axis = operator.index(axis) % len(shape)
    sizes = [operator.index(s) for s in sizes]
    if sum(sizes) != shape[axis] or any(s < 0 for s in sizes):
        raise ValueError(f"Sum of sizes {sum(sizes)} must be equal to dimension {shape[axis]} of the operand "
                         f"shape {shape}")
    out, start = [], 0
    for size in sizes:
        out.append(slice_in_dim(operand, start, start + size, 1, axis))
        start += size
    return out


def reciprocal(x):
    return _lax().integer_pow(x, -1)


def optimization_barrier(operand):
    """The identity (kiln does not move computations across it either way)."""
    return operand


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """keys sorted along `dimension`, and values permuted alike."""
    k, v = _lax().sort((keys, values), dimension=dimension, is_stable=is_stable, num_keys=1)
    return k, v


def top_k(operand, k):
    """The k largest entries along the last axis, largest first, and their indices (equal
    values in index order; NaN counts as largest, as in XLA)."""
    lax = _lax()
    import kiln.numpy as knp
    shape = _shape(operand)
    k = operator.index(k)
    if not shape or not 0 <= k <= shape[-1]:
        raise ValueError(f"top_k: k={k} must be between 0 and the last axis' size, operand shape {shape}")
    index = lax.broadcasted_iota(np.int32, shape, len(shape) - 1)
    # ascending by (value, -index), so reversed: descending values, equal ones by index
    values, negated = lax.sort((operand, -index), dimension=len(shape) - 1, num_keys=2)
    values, indices = knp.flip(values, -1), -knp.flip(negated, -1)
    return values[..., :k], indices[..., :k]


def associative_scan(fn, elems, reverse=False, axis=0):
    """The inclusive scan of `elems` (a pytree of arrays) with the associative `fn`, in
    O(log n) rounds of elementwise work, as `jax.lax.associative_scan` (its odd/even
    recursion, so results match JAX's)."""
    lax = _lax()
    from kiln.tree_util import tree_flatten, tree_unflatten
    leaves, tree = tree_flatten(elems)
    if not leaves:
        return elems
    axis = operator.index(axis) % len(_shape(leaves[0]))
    n = _shape(leaves[0])[axis]
    if any(_shape(x)[axis] != n for x in leaves):
        raise ValueError("associative_scan: the arrays must have one size along the scanned axis")
    if reverse:
        leaves = [lax.rev(x, (axis,)) for x in leaves]

    def combine(a, b):
        out, _ = tree_flatten(fn(tree_unflatten(tree, a), tree_unflatten(tree, b)))
        return out

    def take(xs, start, stop=None, step=1):
        return [slice_in_dim(x, start, stop, step, axis) for x in xs]

    def interleave(a, b):
        # a[0], b[0], a[1], b[1], ... (a may be one longer)
        out = []
        for x, y in zip(a, b):
            na, nb = _shape(x)[axis], _shape(y)[axis]
            zero = np.zeros((), aval_of(x).dtype)
            pad_a = [(0, 0, 0)] * len(_shape(x))
            pad_b = [(0, 0, 0)] * len(_shape(y))
            pad_a[axis] = (0, 1 if na == nb else 0, 1)
            pad_b[axis] = (1, 0 if na == nb else 1, 1)
            combine_op = lax.bitwise_or if aval_of(x).dtype == np.bool_ else lax.add
            out.append(combine_op(lax.pad(x, zero, pad_a), lax.pad(y, zero, pad_b)))
        return out

    def scan(xs):
        size = _shape(xs[0])[axis]
        if size < 2:
            return xs
        pairs = combine(take(xs, 0, -1, 2), take(xs, 1, None, 2))
        odd = scan(pairs)
        if size % 2 == 0:
            even = combine(take(odd, 0, -1), take(xs, 2, None, 2))
        else:
            even = combine(odd, take(xs, 2, None, 2))
        even = [lax.concatenate([take([x], 0, 1)[0], e], axis) for x, e in zip(xs, even)]
        return interleave(even, odd)

    out = scan(leaves)
    if reverse:
        out = [lax.rev(x, (axis,)) for x in out]
    return tree_unflatten(tree, out)


def cumlogsumexp(operand, axis=0, reverse=False):
    """log(cumsum(exp(operand))) along `axis`, without overflow."""
    import kiln.numpy as knp
    return associative_scan(knp.logaddexp, operand, reverse=reverse, axis=axis)


# computation -> the reduction it makes, for `reduce`
def _monoids():
    lax = _lax()
    return {lax.add: lax.reduce_sum, lax.mul: lax.reduce_prod, lax.max: lax.reduce_max, lax.min: lax.reduce_min,
            lax.bitwise_and: lax.reduce_and, lax.bitwise_or: lax.reduce_or}


def reduce(operands, init_values, computation, dimensions):
    """Reduce `operands` over `dimensions` with `computation` from `init_values`, for one
    operand and the computations with a reduction primitive (lax.add, mul, max, min,
    bitwise_and, bitwise_or)."""
    lax = _lax()
    reducer = _monoids().get(computation)
    single = not isinstance(operands, (tuple, list))
    if reducer is None or not (single or len(operands) == 1):
        raise NotImplementedError("kiln.lax.reduce supports one operand and the computations lax.add, lax.mul, "
                                  "lax.max, lax.min, lax.bitwise_and and lax.bitwise_or")
    x, init = (operands, init_values) if single else (operands[0], init_values[0])
    out = computation(reducer(x, tuple(dimensions)), lax.convert_element_type(init, aval_of(x).dtype))
    return out if single else (out,)
