"""vectorize, apply_along_axis and apply_over_axes: kiln.vmap in NumPy's clothes, as in JAX.

`vectorize` maps the function over the broadcast (non-core) dimensions of its arguments with
one vmap per dimension, squeezing size-1 dimensions instead of mapping them (JAX's scheme, so
the function sees the same shapes and the results have the same types).
"""
from __future__ import annotations

import functools
import re

from kiln.batching import vmap
from kiln.numpy.core import asarray, broadcast_shapes, canonical_axis
from kiln.numpy.shapes import expand_dims, squeeze

_DIMENSION_NAME = r"\w+"
_CORE_DIMENSION_LIST = "(?:{0:}(?:,{0:})*)?".format(_DIMENSION_NAME)
_ARGUMENT = rf"\({_CORE_DIMENSION_LIST}\)"
_ARGUMENT_LIST = "{0:}(?:,{0:})*".format(_ARGUMENT)
_SIGNATURE = "^{0:}->{0:}$".format(_ARGUMENT_LIST)


def _user(f):
    """`f` converted when it is user code, as kiln.jit would call it."""
    from kiln.frontend.operators import staging_target
    return staging_target(f)


def _parse_signature(signature: str):
    if not re.match(_SIGNATURE, signature):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    return ([tuple(re.findall(_DIMENSION_NAME, arg)) for arg in re.findall(_ARGUMENT, arg_list)]
            for arg_list in signature.split("->"))


def _update_dim_sizes(dim_sizes, shape, core_dims, context, *, is_input):
    if is_input and len(shape) < len(core_dims):
        raise ValueError(f"input with shape {shape!r} does not have enough dimensions for all core "
                         f"dimensions {core_dims!r} {context}")
    if not is_input and len(shape) != len(core_dims):
        raise ValueError(f"output shape {shape!r} does not match core dimensions {core_dims!r} {context}")
    core_shape = shape[len(shape) - len(core_dims):] if core_dims else ()
    for dim, size in zip(core_dims, core_shape):
        if dim in dim_sizes and dim_sizes[dim] != size:
            raise ValueError(f"inconsistent size for core dimension {dim!r}: {size!r} vs "
                             f"{dim_sizes[dim]!r} {context}")
        dim_sizes.setdefault(dim, size)


def _checked_outputs(func, dim_sizes, output_core_dims, context):
    def checked(*args):
        out = func(*args)
        outs = out if isinstance(out, tuple) else (out,)
        if len(output_core_dims) > 1 and not isinstance(out, tuple):
            raise TypeError(f"output must be a tuple when multiple outputs are expected, got: {out!r}\n{context}")
        if len(outs) != len(output_core_dims):
            raise TypeError(f"wrong number of output arguments: expected {len(output_core_dims)!r}, "
                            f"got {len(outs)!r} {context}")
        sizes = dict(dim_sizes)
        for o, core_dims in zip(outs, output_core_dims):
            _update_dim_sizes(sizes, tuple(asarray(o).shape), core_dims, context, is_input=False)
        return out
    return checked


def _apply_excluded(func, excluded, args, kwargs):
    """`func` with the excluded arguments bound, and the remaining arguments."""
    if not excluded:
        return func, args, kwargs
    dynamic_args = [a for i, a in enumerate(args) if i not in excluded]
    dynamic_kwargs = {k: v for k, v in kwargs.items() if k not in excluded}
    static_args = [(i, args[i]) for i in sorted(e for e in excluded if isinstance(e, int)) if i < len(args)]
    static_kwargs = {k: v for k, v in kwargs.items() if k in excluded}

    def bound(*args, **kwargs):
        args = list(args)
        for i, a in static_args:
            args.insert(i, a)
        return func(*args, **kwargs, **static_kwargs)
    return bound, dynamic_args, dynamic_kwargs


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
    if any(not isinstance(e, (str, int)) for e in excluded):
        raise TypeError("jax.numpy.vectorize can only exclude integer or string arguments, "
                        f"but excluded={excluded!r}")
    if any(isinstance(e, int) and e < 0 for e in excluded):
        raise ValueError(f"excluded={excluded!r} contains negative numbers")

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        context = f"on vectorized function with excluded={excluded!r} and signature={signature!r}"
        func, args, kwargs = _apply_excluded(_user(pyfunc), excluded, args, kwargs)
        if signature is not None:
            input_core_dims, output_core_dims = _parse_signature(signature)
        else:
            input_core_dims, output_core_dims = [()] * len(args), None
        none_args = {i for i, a in enumerate(args) if a is None}
        if none_args:
            if any(input_core_dims[i] != () for i in none_args):
                raise ValueError(f"Cannot pass None at locations {none_args} with signature={signature!r}")
            func, args, _ = _apply_excluded(func, none_args, args, {})
            input_core_dims = [d for i, d in enumerate(input_core_dims) if i not in none_args]
        args = tuple(asarray(a) for a in args)
        if len(args) != len(input_core_dims):
            raise TypeError(f"wrong number of positional arguments: expected {len(input_core_dims)!r}, "
                            f"got {len(args)!r} {context}")
        dim_sizes = {}
        for a, core_dims in zip(args, input_core_dims):
            _update_dim_sizes(dim_sizes, a.shape, core_dims, context, is_input=True)
        noncore = [a.shape[:a.ndim - len(core)] for a, core in zip(args, input_core_dims)]
        broadcast_shape = broadcast_shapes(*noncore)
        if output_core_dims is not None:
            func = _checked_outputs(func, dim_sizes, output_core_dims, context)
        if kwargs:
            func = functools.partial(func, **kwargs)

        squeezed, rev_filled_shapes = [], []
        for a, shape in zip(args, noncore):
            rev_filled_shapes.append(((1,) * (len(broadcast_shape) - len(shape)) + shape)[::-1])
            squeezed.append(squeeze(a, tuple(i for i, d in enumerate(shape) if d == 1)))
        mapped, dims_to_expand = func, []
        for negdim, sizes in enumerate(zip(*rev_filled_shapes)):
            in_axes = tuple(None if d == 1 else 0 for d in sizes)
            if all(ax is None for ax in in_axes):
                dims_to_expand.append(len(broadcast_shape) - 1 - negdim)
            else:
                mapped = vmap(mapped, in_axes)
        result = mapped(*squeezed)
        if not dims_to_expand:
            return result
        if isinstance(result, tuple):
            return tuple(expand_dims(r, dims_to_expand) for r in result)
        return expand_dims(result, dims_to_expand)
    return wrapped


def apply_along_axis(func1d, axis: int, arr, *args, **kwargs):
    arr = asarray(arr)
    axis = canonical_axis(axis, arr.ndim)
    user = _user(func1d)

    def func(a):
        return user(a, *args, **kwargs)
    for i in range(1, arr.ndim - axis):
        func = vmap(func, in_axes=i, out_axes=-1)
    for _ in range(axis):
        func = vmap(func, in_axes=0, out_axes=0)
    return func(arr)


def apply_over_axes(func, a, axes):
    a = asarray(a)
    user = _user(func)
    for axis in axes:
        b = asarray(user(a, axis))
        if b.ndim == a.ndim:
            a = b
        elif b.ndim == a.ndim - 1:
            a = expand_dims(b, axis)
        else:
            raise ValueError("function is not returning an array of the correct shape")
    return a
