"""Collectives over named axes: psum, pmean, pmax, pmin, axis_index, all_gather (jax.lax's).

`kiln.vmap(f, axis_name='i')` and `kiln.pmap(f, axis_name='i')` bind the name while `f` is
staged (`bound_axis`), so that `psum(x, 'i')` inside knows the axis and its size; outside any
binding the name is unbound and, as in JAX, a NameError says so. A collective stages one
equation naming its axes; the batching interpreter of the vmap that binds the name (the
*current* axis, `passes/vmap.py`) replaces it by the reduction over the batch dimension.

Rules, in one block per primitive:
- shape: the operand's type (axis_index: int32[]; all_gather: stacked by the axes' sizes);
  every name must be bound.
- impl: only reached outside any binding vmap: NameError("unbound axis name: ...").
- `collective_rules[p](args, dims, current, size, **params) -> (outs, out_dims)` (batching,
  see `passes/vmap.py`): when the equation names the current vmap's axis, the rule reduces
  over that batch dimension (an unbatched operand is the same on every lane: psum multiplies
  by the size) and binds the primitive again over the remaining names; when `current` is
  None the operand is batched along another map's axis and the same collective runs per lane.
- jvp / transpose: psum is linear; its transpose is psum again (JAX treats psum as psum +
  pbroadcast, so grad inside a vmap sums the cotangents of every lane). pmax, pmin and
  axis_index have no derivative rules, as in JAX.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from kiln.ir import ShapedArray
from kiln.passes.vmap import collective_rules
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules
from kiln.runtime.pytree import tree_flatten, tree_unflatten

# ---------------------------------------------------------------------------- the axis env
_bound: list[tuple[object, int]] = []  # (name, size) of every vmap/pmap being staged, outermost first


@contextlib.contextmanager
def bound_axis(name, size: int):
    """Bind `name` to an axis of `size` while a vmap/pmap stages and batches its function."""
    _bound.append((name, int(size)))
    try:
        yield
    finally:
        _bound.pop()


def current_axis():
    """(name, size) of the innermost vmap/pmap being staged or batched (name None: unnamed)."""
    return _bound[-1] if _bound else None


def axis_size(name) -> int:
    for bound_name, size in reversed(_bound):
        if bound_name == name and name is not None:
            return size
    raise NameError(f"unbound axis name: {name}")


def _names(axis_name) -> tuple:
    return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


def _check_bound(axes):
    for name in axes:
        axis_size(name)


def _unbound(*args, axes=None, axis_name=None, **params):
    names = axes if axes is not None else (axis_name,)
    raise NameError(f"unbound axis name: {names[0]}")


def _is_static(leaf) -> bool:
    from kiln.staging import Staged
    return isinstance(leaf, (bool, int, float, complex, np.ndarray, np.generic)) and not isinstance(leaf, Staged)


def _rest(axes, name):
    return tuple(a for a in axes if a != name)


# ---------------------------------------------------------------------------- psum, pmax, pmin
psum_p = primitive("psum")
pmax_p = primitive("pmax")
pmin_p = primitive("pmin")


def _same_shape(x, *, axes):
    _check_bound(axes)
    return [ShapedArray(x.shape, x.dtype, x.weak_type)]


def _reducer_collective(prim, reduce, if_unbatched):
    def rule(args, dims, current, size, *, axes):
        (x,), (d,) = args, dims
        if current is None:  # batched along another map's axis: per lane
            return [bind(prim, x, axes=axes)], [d]
        out = if_unbatched(x, size) if d is None else reduce(x, (d,))
        rest = _rest(axes, current)
        return [bind(prim, out, axes=rest) if rest else out], [None]
    return rule


def _psum_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    return [bind(psum_p, x, axes=axes)], [None if t is None else bind(psum_p, t, axes=axes)]


def _psum_transpose(ct, x, *, axes):
    return [None if ct is None else bind(psum_p, ct, axes=axes)]


def _times_size(x, size):
    from kiln import lax
    return lax.mul(x, np.asarray(size, aval_of(x).dtype))


def _reduce_sum(x, axes):
    from kiln import lax
    return lax.reduce_sum(x, axes)


def _reduce_max(x, axes):
    from kiln import lax
    return lax.reduce_max(x, axes)


def _reduce_min(x, axes):
    from kiln import lax
    return lax.reduce_min(x, axes)


for _p in (psum_p, pmax_p, pmin_p):
    shape_rules[_p] = _same_shape
    impl_rules[_p] = _unbound
collective_rules[psum_p] = _reducer_collective(psum_p, _reduce_sum, _times_size)
collective_rules[pmax_p] = _reducer_collective(pmax_p, _reduce_max, lambda x, size: x)
collective_rules[pmin_p] = _reducer_collective(pmin_p, _reduce_min, lambda x, size: x)
jvp_rules[psum_p] = _psum_jvp
transpose_rules[psum_p] = _psum_transpose


# ---------------------------------------------------------------------------- axis_index
axis_index_p = primitive("axis_index")


def _axis_index_shape(*, axis_name):
    _check_bound((axis_name,))
    return [ShapedArray((), np.dtype(np.int32), False)]


def _axis_index_collective(args, dims, current, size, *, axis_name):
    from kiln import lax
    return [lax.iota(np.int32, size)], [0]


shape_rules[axis_index_p] = _axis_index_shape
impl_rules[axis_index_p] = _unbound
collective_rules[axis_index_p] = _axis_index_collective


# ---------------------------------------------------------------------------- all_gather
all_gather_p = primitive("all_gather")


def _all_gather_shape(x, *, axes, axis, tiled):
    _check_bound(axes)
    n = math.prod(axis_size(a) for a in axes)
    shape = list(x.shape)
    if tiled:
        shape[axis] *= n
    else:
        shape.insert(axis, n)
    return [ShapedArray(tuple(shape), x.dtype, x.weak_type)]


def _all_gather_collective(args, dims, current, size, *, axes, axis, tiled):
    from kiln.passes.vmap import move_to_front, with_batch
    from kiln import lax
    if current is None:  # batched along another map's axis: per lane
        x = move_to_front(args[0], dims[0])
        return [bind(all_gather_p, x, axes=axes, axis=axis + 1, tiled=tiled)], [0]
    if axes != (current,):
        raise NotImplementedError("kiln: all_gather over several axis names is not implemented yet")
    (x,), (d,) = args, dims
    x = with_batch(x, d, size)  # lanes at axis 0: every lane sees them all
    shape = aval_of(x).shape
    perm = tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, len(shape)))
    out = lax.transpose(x, perm)
    if tiled:
        out_shape = aval_of(out).shape
        out = lax.reshape(out, out_shape[:axis] + (out_shape[axis] * out_shape[axis + 1],) + out_shape[axis + 2:])
    return [out], [None]


shape_rules[all_gather_p] = _all_gather_shape
impl_rules[all_gather_p] = _unbound
collective_rules[all_gather_p] = _all_gather_collective


# ---------------------------------------------------------------------------- the API
def psum(x, axis_name, *, axis_index_groups=None):
    """The sum of `x` over the lanes of the named axis (or axes), on every lane."""
    axes = _check_groups(axis_name, axis_index_groups)
    leaves, tree = tree_flatten(x)
    if all(_is_static(leaf) for leaf in leaves):  # the same on every lane: known now, as in JAX
        size = math.prod(axis_size(a) for a in axes)
        return tree_unflatten(tree, [np.asarray(leaf) * size if isinstance(leaf, (np.ndarray, np.generic))
                                     else leaf * size for leaf in leaves])
    return tree_unflatten(tree, [bind(psum_p, leaf, axes=axes) for leaf in leaves])


def pmean(x, axis_name, *, axis_index_groups=None):
    axes = _check_groups(axis_name, axis_index_groups)
    n = math.prod(axis_size(a) for a in axes)
    from kiln.runtime.pytree import tree_map
    return tree_map(lambda v: v / n, psum(x, axes))


def pmax(x, axis_name, *, axis_index_groups=None):
    axes = _check_groups(axis_name, axis_index_groups)
    leaves, tree = tree_flatten(x)
    return tree_unflatten(tree, [bind(pmax_p, leaf, axes=axes) for leaf in leaves])


def pmin(x, axis_name, *, axis_index_groups=None):
    axes = _check_groups(axis_name, axis_index_groups)
    leaves, tree = tree_flatten(x)
    return tree_unflatten(tree, [bind(pmin_p, leaf, axes=axes) for leaf in leaves])


def axis_index(axis_name):
    """This lane's index along the named axis (int32)."""
    if isinstance(axis_name, (tuple, list)):
        raise NotImplementedError("kiln: axis_index of several axis names is not implemented yet")
    axis_size(axis_name)
    return bind(axis_index_p, axis_name=axis_name)


def all_gather(x, axis_name, *, axis_index_groups=None, axis=0, tiled=False):
    """Every lane's `x`, stacked along a new axis `axis` (concatenated along it when tiled)."""
    axes = _check_groups(axis_name, axis_index_groups)
    leaves, tree = tree_flatten(x)
    out = []
    for leaf in leaves:
        ndim = len(aval_of(leaf).shape)
        a = int(axis) % (ndim + (0 if tiled else 1)) if ndim or not tiled else 0
        out.append(bind(all_gather_p, leaf, axes=axes, axis=a, tiled=bool(tiled)))
    return tree_unflatten(tree, out)


def _check_groups(axis_name, axis_index_groups):
    if axis_index_groups is not None:
        raise NotImplementedError("kiln: axis_index_groups is not supported")
    axes = _names(axis_name)
    _check_bound(axes)
    return axes
