"""Calls back into Python from compiled code: `kiln.debug.print`, `kiln.debug.callback` and
`kiln.pure_callback`, as in JAX.

Two primitives carry them:
- `debug_callback(*operands, callback)`: no results; the call is its effect, so it is never
  dropped as dead code nor merged with an equal call (`primitives.effectful`). Under jvp it
  sees the primal values; under vmap it is called once per batch element, in order (JAX's
  rule); it has no transpose (nothing linear reaches it).
- `pure_callback(*operands, callback, results, vmap_method)`: results of the declared shapes
  and dtypes, computed by the Python function. Pure: unused results drop it. Not
  differentiable (as in JAX: wrap it in a custom_jvp); under vmap, `vmap_method` says how
  ("sequential": a `lax.map` over the batch; "expand_dims" / "broadcast_all": one call with
  the batch as a leading axis of every operand, unbatched ones given a size-1 axis or
  broadcast).

The Python functions are kept in a table and the equations name them by number, so programs
stay printable and the reference backend can write them as source. The LLVM backend calls
them through `host_call.py`. Operands reach the functions as NumPy arrays.
"""
from __future__ import annotations

import itertools
import sys
from typing import Any, Callable

import numpy as np

from kiln.ir import ShapedArray
from kiln.primitives import (aval_of, bind, effectful, impl_rules, jvp_rules, primitive, shape_rules,
                             vmap_rules)
from kiln.tree_util import tree_flatten, tree_unflatten

__all__ = ["ShapeDtypeStruct", "debug_callback", "debug_print", "pure_callback"]

_functions: dict[int, Callable] = {}
_ids = itertools.count()


class ShapeDtypeStruct:
    """A shape and dtype standing for an array (results of `pure_callback`, `eval_shape`)."""
    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape, dtype, *, weak_type=False, sharding=None):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = bool(weak_type)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __eq__(self, other):
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype, self.weak_type) == \
            (other.shape, other.dtype, other.weak_type)

    def __hash__(self):
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self):
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{weak})"


def _is_array(x) -> bool:
    from kiln.staging import is_staged
    return is_staged(x) or isinstance(x, (np.ndarray, np.generic)) or hasattr(x, "_value")


def _split(args, kwargs):
    """The array leaves of (args, kwargs), and a function rebuilding them (as NumPy values)
    from those leaves' values, the other leaves kept as they are."""
    leaves, tree = tree_flatten((args, kwargs))
    is_operand = [_is_array(leaf) for leaf in leaves]
    operands = [leaf for leaf, op in zip(leaves, is_operand) if op]

    def rebuild(values):
        values = iter(values)
        # 0-d values as NumPy scalars, which format as their dtype does (as jax.Array does)
        return tree_unflatten(tree, [np.asarray(next(values))[()] if op else leaf for leaf, op in zip(leaves, is_operand)])
    return operands, rebuild


def _eager(operands) -> bool:
    from kiln.staging import current_builder, is_staged
    return current_builder() is None and not any(is_staged(x) for x in operands)


# ---------------------------------------------------------------------------- debug_callback

debug_callback_p = primitive("debug_callback", multiple_results=True)
effectful.add(debug_callback_p)


def _debug_impl(*operands, callback):
    _functions[callback](*operands)
    return []


def _debug_vmap(args, dims, *, callback):
    from kiln import lax
    size = next(aval_of(x).shape[d] for x, d in zip(args, dims) if d is not None)
    for i in range(size):
        bind(debug_callback_p, *[x if d is None else lax.index_in_dim(x, i, d, keepdims=False)
                                 for x, d in zip(args, dims)], callback=callback)
    return [], []


def _debug_jvp(primals, tangents, *, callback):
    bind(debug_callback_p, *primals, callback=callback)
    return [], []


shape_rules[debug_callback_p] = lambda *avals, callback: []
impl_rules[debug_callback_p] = _debug_impl
vmap_rules[debug_callback_p] = _debug_vmap
jvp_rules[debug_callback_p] = _debug_jvp


def debug_callback(callback: Callable[..., Any], *args, ordered: bool = False, **kwargs) -> None:
    """Call `callback(*args, **kwargs)` with the concrete values when the code runs (eagerly
    at once; inside compiled code, each time it runs), as `jax.debug.callback`. Calls happen in
    program order whether or not `ordered`."""
    operands, rebuild = _split(args, kwargs)

    def call(*values):
        a, k = rebuild(values)
        callback(*a, **k)
    if _eager(operands):
        call(*(np.asarray(getattr(x, "_value", x)) for x in operands))
        return
    ident = next(_ids)
    _functions[ident] = call
    bind(debug_callback_p, *operands, callback=ident)


def debug_print(fmt: str, *args, ordered: bool = False, **kwargs) -> None:
    """Print `fmt.format(*args, **kwargs)` with the values the code computes, as
    `jax.debug.print` (NumPy's print options of the time of the call)."""
    options = np.get_printoptions()

    def write(*a, **k):
        with np.printoptions(**options):
            sys.stdout.write(fmt.format(*a, **k) + "\n")
    debug_callback(write, *args, ordered=ordered, **kwargs)


# ---------------------------------------------------------------------------- pure_callback

pure_callback_p = primitive("pure_callback", multiple_results=True)


def _pure_shape(*avals, callback, results, vmap_method):
    return [ShapedArray(tuple(shape), np.dtype(dtype), False) for shape, dtype in results]


def _pure_impl(*operands, callback, results, vmap_method):
    out = _functions[callback](*operands)
    if len(out) != len(results):
        raise TypeError(f"pure_callback: the callback returned {len(out)} arrays where {len(results)} were declared")
    values = []
    for value, (shape, dtype) in zip(out, results):
        value = np.asarray(value)
        if value.shape != tuple(shape) or value.dtype != np.dtype(dtype):
            raise TypeError(f"pure_callback: the callback returned {value.dtype.name}{list(value.shape)} where "
                            f"{np.dtype(dtype).name}{list(shape)} was declared (result_shape_dtypes)")
        values.append(value)
    return values


def _pure_vmap(args, dims, *, callback, results, vmap_method):
    from kiln import lax
    from kiln.passes.vmap import move_to_front
    size = next(aval_of(x).shape[d] for x, d in zip(args, dims) if d is not None)
    if vmap_method == "sequential":
        batched = [move_to_front(x, d) for x, d in zip(args, dims) if d is not None]

        def one(xs):
            xs = iter(xs)
            return bind(pure_callback_p, *[x if d is None else next(xs) for x, d in zip(args, dims)],
                        callback=callback, results=results, vmap_method=vmap_method)
        outs = lax.map(one, batched)
        return list(outs), [0] * len(results)
    if vmap_method in ("expand_dims", "broadcast_all"):
        import kiln.numpy as knp
        operands = []
        for x, d in zip(args, dims):
            if d is not None:
                operands.append(move_to_front(x, d))
            elif vmap_method == "expand_dims":
                operands.append(knp.expand_dims(x, 0))
            else:
                operands.append(knp.broadcast_to(x, (size, *aval_of(x).shape)))
        batched_results = tuple(((size, *shape), dtype) for shape, dtype in results)
        outs = bind(pure_callback_p, *operands, callback=callback, results=batched_results, vmap_method=vmap_method)
        return list(outs), [0] * len(results)
    raise NotImplementedError(
        "vmap of a pure_callback needs its vmap_method: 'sequential', 'expand_dims' or 'broadcast_all' "
        "(as in JAX)")


def _pure_jvp(primals, tangents, **params):
    if any(t is not None for t in tangents):
        raise ValueError("Pure callbacks do not support JVP. Please use `kiln.custom_jvp` to use callbacks "
                         "while taking gradients.")
    return list(bind(pure_callback_p, *primals, **params)), [None] * len(params["results"])


shape_rules[pure_callback_p] = _pure_shape
impl_rules[pure_callback_p] = _pure_impl
vmap_rules[pure_callback_p] = _pure_vmap
jvp_rules[pure_callback_p] = _pure_jvp


def pure_callback(callback: Callable[..., Any], result_shape_dtypes, *args, sharding=None, vmap_method=None,
                  **kwargs):
    """Call the Python function `callback(*args, **kwargs)` (NumPy arrays in and out) for
    results shaped like `result_shape_dtypes` (a pytree of objects with .shape and .dtype), as
    `jax.pure_callback`. kiln may drop the call when its results are unused."""
    if vmap_method not in (None, "sequential", "expand_dims", "broadcast_all", "legacy_vectorized"):
        raise ValueError(f"pure_callback: unknown vmap_method {vmap_method!r}")
    if vmap_method == "legacy_vectorized":
        vmap_method = "expand_dims"
    result_leaves, result_tree = tree_flatten(result_shape_dtypes)
    results = tuple((tuple(int(d) for d in r.shape), np.dtype(r.dtype)) for r in result_leaves)
    operands, rebuild = _split(args, kwargs)

    def call(*values):
        a, k = rebuild(values)
        out_leaves, out_tree = tree_flatten(callback(*a, **k))
        if out_tree != result_tree:
            raise TypeError(f"pure_callback: the callback returned a {out_tree} where result_shape_dtypes "
                            f"declared {result_tree}")
        return out_leaves
    ident = next(_ids)
    _functions[ident] = call
    outs = bind(pure_callback_p, *operands, callback=ident, results=results, vmap_method=vmap_method)
    if _eager(operands):
        del _functions[ident]
    return tree_unflatten(result_tree, list(outs))
