"""vmap and pmap with JAX's API, as an IR interpretation.

`vmap(f)` stages `f` on one example (the mapped axes removed) and evaluates the program with
`passes/vmap.py`'s batching interpreter on the real, batched arguments: inlined while staging,
compiled through kiln.jit when called eagerly, like the other transforms.

Axis specifications follow JAX: `in_axes` is an int, None, or a tuple (a list is read as a
tuple) with one entry per positional argument, each a pytree prefix of its argument whose
leaves are ints (negative ones count from the end) or None; `out_axes` likewise for the
output. Keyword arguments are always mapped over their leading axis, as in JAX.
"""
from __future__ import annotations

import functools

from kiln.driver import float0_zeros, is_float0
from kiln.ir import ShapedArray
from kiln.primitives import aval_of
from kiln.runtime.pytree import tree_flatten, tree_structure, tree_unflatten


def _check_spec_leaves(spec, what):
    leaves, _ = tree_flatten(spec, is_leaf=lambda x: x is None)
    for leaf in leaves:
        if leaf is not None and (isinstance(leaf, bool) or not isinstance(leaf, int)):
            raise TypeError(f"vmap {what} must be an int, None, or (nested) container with those types "
                            f"as leaves, but got {spec!r}.")


def _broadcast_prefix(spec, tree, what):
    """One axis spec per leaf of `tree`, from a spec that is a prefix of `tree`'s structure."""
    if spec is None or (isinstance(spec, int) and not isinstance(spec, bool)):
        return [spec] * len(tree_flatten(tree)[0])
    _check_spec_leaves(spec, what)
    spec_leaves, spec_tree = tree_flatten(spec, is_leaf=lambda x: x is None)
    try:
        subtrees = spec_tree.flatten_up_to(tree)
    except ValueError as e:
        raise ValueError(f"vmap {what} specification must be a tree prefix of the corresponding value, "
                         f"got specification {spec!r} for value tree {tree_structure(tree)}.\n{e}") from None
    return [a for a, sub in zip(spec_leaves, subtrees) for _ in tree_flatten(sub)[0]]


def _canonical_axis(axis, aval, what):
    if axis is None:
        return None
    ndim = len(aval.shape)
    if not -ndim <= axis < ndim:
        raise ValueError(f"vmap was requested to map its argument along axis {axis}, which implies that "
                         f"its rank should be at least {axis + 1 if axis >= 0 else -axis}, but is only "
                         f"{ndim} (its shape is {tuple(aval.shape)}; {what})")
    return axis % ndim


def _leaf_names(args, kwargs):
    """A readable name for each argument leaf, for error messages: `args[1][0]`, `kwargs['b']`."""
    names = []
    for i, a in enumerate(args):
        n = len(tree_flatten(a)[0])
        names += [f"args[{i}]"] if n == 1 else [f"args[{i}] (leaf {k})" for k in range(n)]
    for key in sorted(kwargs):
        n = len(tree_flatten(kwargs[key])[0])
        names += [f"kwargs[{key!r}]"] if n == 1 else [f"kwargs[{key!r}] (leaf {k})" for k in range(n)]
    return names


def _in_axes_per_arg(in_axes, n_args):
    axes = tuple(in_axes) if isinstance(in_axes, list) else in_axes
    if isinstance(axes, tuple):
        if len(axes) != n_args:
            raise ValueError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding to "
                             f"the positional arguments passed to the function, but got len(in_axes)="
                             f"{len(axes)}, len(args)={n_args}")
        return axes
    if axes is not None and (isinstance(axes, bool) or not isinstance(axes, int)):
        raise TypeError(f"vmap in_axes must be an int, None, or a tuple of entries corresponding to the "
                        f"positional arguments passed to the function, but got {in_axes!r}.")
    return (axes,) * n_args


def _mapped_size(avals, axes, names, axis_size):
    sizes = {v.shape[a] for v, a in zip(avals, axes) if a is not None}
    if axis_size is not None:
        sizes.add(axis_size)
    if not sizes:
        raise ValueError("vmap must have at least one non-None value in in_axes or axis_size must be "
                         "specified")
    if len(sizes) > 1:
        lines = [f"  * the `axis_size` argument was {axis_size}"] if axis_size is not None else []
        lines += [f"  * one axis had size {v.shape[a]}: axis {a} of argument {n} of type {v.str_short()}"
                  for v, a, n in zip(avals, axes, names) if a is not None]
        raise ValueError("vmap got inconsistent sizes for array axes to be mapped:\n" + ";\n".join(lines))
    return sizes.pop()


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
    if not callable(fun):
        raise TypeError(f"vmap requires a callable, got {fun!r}")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    _check_spec_leaves(in_axes, "in_axes")
    _check_spec_leaves(out_axes, "out_axes")

    # Not functools.wraps: the jit that compiles `staged` must see (*args, **kwargs) as they
    # were passed, since keyword arguments are mapped differently from positional ones.
    def staged(*args, **kwargs):
        from kiln.ad import Staging
        from kiln.passes.vmap import vmap_eval
        leaves, in_tree = tree_flatten((tuple(args), kwargs))
        leaf_axes = _broadcast_prefix(_in_axes_per_arg(in_axes, len(args)), tuple(args), "in_axes")
        leaf_axes += [0] * (len(leaves) - len(leaf_axes))  # keyword arguments: axis 0
        avals = [aval_of(x) for x in leaves]
        leaf_axes = [_canonical_axis(a, v, "in_axes") for a, v in zip(leaf_axes, avals)]
        size = _mapped_size(avals, leaf_axes, _leaf_names(args, kwargs), axis_size)
        example = [v if a is None else ShapedArray(v.shape[:a] + v.shape[a + 1:], v.dtype, v.weak_type)
                   for v, a in zip(avals, leaf_axes)]
        ex_args, ex_kwargs = tree_unflatten(in_tree, example)
        from kiln.lax.parallel import bound_axis
        with bound_axis(axis_name, size):  # collectives over `axis_name` reduce over this batch
            staging = Staging(fun, ex_args, ex_kwargs, name=getattr(fun, "__name__", "f"))
            outs, out_dims = vmap_eval(staging.program, list(leaves) + staging.captures,
                                       leaf_axes + [None] * len(staging.captures))
        if any(s is not None for s in staging.float0_outputs):  # the same for every example
            mapped = iter(zip(outs, out_dims))
            outs, out_dims = zip(*[next(mapped) if s is None else (float0_zeros(s), None)
                                   for s in staging.float0_outputs])
        dims_out = _broadcast_prefix(out_axes, tree_unflatten(staging.out_tree, outs), "out_axes")
        results = [_place(x, d, want, size) for x, d, want in zip(outs, out_dims, dims_out)]
        return tree_unflatten(staging.out_tree, results)

    staged.__name__ = getattr(fun, "__name__", "f")
    staged.__qualname__ = getattr(fun, "__qualname__", staged.__name__)
    from kiln.ad import _Compiled
    return _Compiled(fun, staged, "vmap")


def _place(x, d, want, size):
    """An output batched at `d` (None: the same for every example) moved to axis `want`."""
    from kiln.passes.vmap import move_to_front, with_batch
    if want is None:
        if d is not None:
            raise ValueError(f"at vmap out_axes, got axis spec None but output was batched on axis {d}")
        return x
    if is_float0(x):
        if not -x.ndim - 1 <= want <= x.ndim:
            raise ValueError(f"vmap out_axes: axis {want} is out of bounds for array of dimension {x.ndim + 1}")
        want %= x.ndim + 1
        return float0_zeros(x.shape[:want] + (size,) + x.shape[want:])
    x = with_batch(x, d, size)
    ndim = len(aval_of(x).shape)
    if not -ndim <= want < ndim:
        raise ValueError(f"vmap out_axes: axis {want} is out of bounds for array of dimension {ndim}")
    want %= ndim
    if want == 0:
        return x
    import kiln.numpy as knp
    return knp.moveaxis(move_to_front(x, 0), 0, want)


def pmap(fun, axis_name=None, *, in_axes=0, out_axes=0, static_broadcasted_argnums=(), devices=None,
         backend=None, axis_size=None, donate_argnums=()):
    """pmap over the available devices. kiln has one CPU device: the mapped axis must have the
    device count's size, and the map runs as a vmap on that device; collectives over
    `axis_name` (psum, axis_index, ...) reduce over the mapped axis as under vmap."""
    static = (static_broadcasted_argnums,) if isinstance(static_broadcasted_argnums, int) \
        else tuple(static_broadcasted_argnums)
    mapped = vmap(fun, in_axes=in_axes, out_axes=out_axes, axis_name=axis_name)

    @functools.wraps(fun)
    def run(*args, **kwargs):
        from kiln.runtime.devices import devices as all_devices
        n = len(all_devices())
        fixed = {s % len(args) for s in static} if args else set()
        keep = [i for i in range(len(args)) if i not in fixed]
        dynamic = tuple(args[i] for i in keep)
        axes = _in_axes_per_arg(in_axes, len(args))
        axes = tuple(axes[i] for i in keep)
        leaves = tree_flatten(dynamic)[0] + tree_flatten(kwargs)[0]
        leaf_axes = _broadcast_prefix(axes, dynamic, "in_axes") + [0] * len(tree_flatten(kwargs)[0])
        sizes = {aval_of(x).shape[_canonical_axis(a, aval_of(x), "in_axes")]
                 for x, a in zip(leaves, leaf_axes) if a is not None}
        if any(s > n for s in sizes):
            raise ValueError(f"compiling computation that requires {max(sizes)} logical devices, but only "
                             f"{n} XLA devices are available (num_replicas={max(sizes)}); kiln runs pmap "
                             f"on its {n} CPU device(s), so the mapped axis must have size {n}")
        if not fixed:
            return mapped(*args, **kwargs)
        from kiln.frontend.operators import staging_target

        def with_static(*dyn, **kw):  # the static arguments are Python values, bound as they are
            full = list(args)
            for i, value in zip(keep, dyn):
                full[i] = value
            return staging_target(fun)(*full, **kw)
        with_static.__name__ = getattr(fun, "__name__", "f")
        return vmap(with_static, in_axes=axes, out_axes=out_axes, axis_name=axis_name)(*dynamic, **kwargs)
    return run
