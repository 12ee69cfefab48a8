"""vmap and pmap with JAX's API, as an IR interpretation.

`vmap(f)` stages `f` on one example (the mapped axes removed) and evaluates the program with
`passes/vmap.py`'s batching interpreter on the real, batched arguments: inlined while staging,
compiled through kiln.jit when called eagerly, like the other transforms.
"""
from __future__ import annotations

import functools

from kiln.ir import ShapedArray
from kiln.primitives import aval_of
from kiln.runtime.pytree import tree_flatten, tree_structure, tree_unflatten


def _broadcast_prefix(spec, tree, what):
    """One axis spec per leaf of `tree`, from a spec that is a prefix of `tree`'s structure."""
    if spec is None or isinstance(spec, int):
        return [spec] * len(tree_flatten(tree)[0])
    spec_leaves, spec_tree = tree_flatten(spec, is_leaf=lambda x: x is None)
    if spec_tree == tree_structure(tree, is_leaf=lambda x: x is None):
        return spec_leaves if tree_flatten(tree)[0] or spec_leaves else []
    if isinstance(spec, (tuple, list)) and isinstance(tree, (tuple, list)) and len(spec) == len(tree):
        return [a for s, t in zip(spec, tree) for a in _broadcast_prefix(s, t, what)]
    if isinstance(spec, dict) and isinstance(tree, dict) and spec.keys() == tree.keys():
        return [a for k in sorted(tree) for a in _broadcast_prefix(spec[k], tree[k], what)]
    raise ValueError(f"vmap {what} specification must be a tree prefix of the corresponding value, got "
                     f"specification {spec!r} for value tree {tree_structure(tree)}")


def _canonical_axis(axis, ndim, what):
    if axis is None:
        return None
    if not -ndim <= axis < ndim:
        raise ValueError(f"vmap was requested to map its argument along axis {axis}, which implies that "
                         f"its rank should be at least {axis + 1 if axis >= 0 else -axis}, but is only "
                         f"{ndim} ({what})")
    return axis % ndim


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
    if not callable(fun):
        raise TypeError(f"vmap requires a callable, got {fun!r}")

    @functools.wraps(fun)
    def staged(*args):
        from kiln.ad import Staging
        from kiln.passes.vmap import move_to_front, with_batch, vmap_eval
        axes = in_axes
        if isinstance(axes, list):
            axes = tuple(axes)
        if isinstance(axes, tuple) and len(axes) != len(args):
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding to "
                             f"the positional arguments passed to the function, but got len(in_axes)="
                             f"{len(axes)}, len(args)={len(args)}")
        leaves, _ = tree_flatten(tuple(args))
        leaf_axes = _broadcast_prefix(axes if isinstance(axes, tuple) else (axes,) * len(args),
                                      tuple(args), "in_axes")
        avals = [aval_of(x) for x in leaves]
        leaf_axes = [_canonical_axis(a, len(v.shape), "in_axes") for a, v in zip(leaf_axes, avals)]
        sizes = {v.shape[a] for v, a in zip(avals, leaf_axes) if a is not None}
        if axis_size is not None:
            sizes.add(axis_size)
        if not sizes:
            raise ValueError("vmap must have at least one non-None value in in_axes (or axis_size)")
        if len(sizes) > 1:
            raise ValueError(f"vmap got inconsistent sizes for the array axes to be mapped: {sorted(sizes)}")
        size = sizes.pop()
        example = [v if a is None else ShapedArray(v.shape[:a] + v.shape[a + 1:], v.dtype, v.weak_type)
                   for v, a in zip(avals, leaf_axes)]
        arg_tree = tree_structure(tuple(args))
        staging = Staging(fun, tree_unflatten(arg_tree, example), name=getattr(fun, "__name__", "f"))
        outs, out_dims = vmap_eval(staging.program, list(leaves) + staging.captures,
                                   leaf_axes + [None] * len(staging.captures))
        out = tree_unflatten(staging.out_tree, outs)
        dims_out = _broadcast_prefix(out_axes, out, "out_axes")
        results = []
        for x, d, want in zip(outs, out_dims, dims_out):
            if want is None:
                if d is not None:
                    raise ValueError("vmap has mapped output but out_axes is None")
                results.append(x)
                continue
            x = with_batch(x, d, size)
            ndim = len(aval_of(x).shape)
            want = _canonical_axis(want, ndim, "out_axes")
            results.append(x if want == 0 else _move(move_to_front(x, 0), 0, want))
        return tree_unflatten(staging.out_tree, results)

    from kiln.ad import _Compiled
    return _Compiled(fun, staged, "vmap")


def _move(x, source, destination):
    import kiln.numpy as knp
    return knp.moveaxis(x, source, destination)


def pmap(fun, axis_name=None, *, in_axes=0, out_axes=0, static_broadcasted_argnums=(), devices=None,
         backend=None, axis_size=None, donate_argnums=()):
    """pmap over the available devices. kiln has one CPU device: the mapped axis must have the
    device count's size, and the map runs as a vmap on that device."""
    mapped = vmap(fun, in_axes=in_axes, out_axes=out_axes)

    @functools.wraps(fun)
    def run(*args):
        from kiln.runtime.devices import devices as all_devices
        n = len(all_devices())
        leaves = [x for x, a in zip(tree_flatten(args)[0], _broadcast_prefix(in_axes if isinstance(in_axes, tuple)
                                                                              else (in_axes,) * len(args),
                                                                              tuple(args), "in_axes"))
                  if a is not None]
        sizes = {aval_of(x).shape[0] for x in leaves}
        if any(s > n for s in sizes):
            raise ValueError(f"compiling computation that requires {max(sizes)} logical devices, but only "
                             f"{n} XLA devices are available (num_replicas={max(sizes)})")
        return mapped(*args)
    return run
