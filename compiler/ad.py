"""Automatic differentiation with JAX's API, as passes over kiln's IR.

Every transform here stages the user's function into a program (`stage_inner`), transforms
the program (`passes/jvp.py`, `passes/partial_eval.py`, `passes/transpose.py`) and evaluates
the result with `inline`: eagerly when nothing is being staged, or by copying the equations
into the enclosing builder when called inside `jit` or another transform. Because the result
is IR again, transforms nest in any order (`grad(grad(f))`, `jit(grad(jit(f)))`, ...).

Functions returned by `grad`, `value_and_grad`, `jacfwd`, `jacrev` and `hessian` are compiled
through `kiln.jit` (one specialisation per argument shapes) when called eagerly.
"""
from __future__ import annotations

import functools

import numpy as np

from kiln.driver import abstractify
from kiln.interpret import inline
from kiln.ir import ShapedArray
from kiln.passes import CLEANUP, run_passes
from kiln.passes.jvp import jvp_program
from kiln.passes.partial_eval import split_linear
from kiln.passes.transpose import transpose_program
from kiln.runtime.array import Array
from kiln.runtime.pytree import tree_flatten, tree_structure, tree_unflatten
from kiln.staging import Builder, Staged, current_builder


# ---------------------------------------------------------------------------- staging

class Staging:
    """A function staged on flat arguments: program inputs are the leaves, then captures."""

    def __init__(self, fun, args, kwargs=None, name="f"):
        kwargs = kwargs or {}
        from kiln.frontend.operators import staging_target
        leaves, self.in_tree = tree_flatten((tuple(args), kwargs))
        avals = [leaf.aval if isinstance(leaf, Staged) else _aval_of(leaf, f"an argument of {name}")
                 for leaf in leaves]
        with Builder(name) as b:
            staged = [b.new_input(a) for a in avals]
            a, k = tree_unflatten(self.in_tree, staged)
            out = staging_target(fun)(*a, **k)
            out_leaves, self.out_tree = tree_flatten(out)
            self.program = b.build(out_leaves)
        self.leaves = leaves
        self.captures = [outer for outer, _ in b.captures]
        self.n_args = [len(tree_flatten(x)[0]) for x in args]

    @property
    def values(self) -> list:
        return list(self.leaves) + self.captures

    def arg_leaf_range(self, i: int) -> range:
        start = sum(self.n_args[:i])
        return range(start, start + self.n_args[i])


def _aval_of(x, what: str) -> ShapedArray:
    if isinstance(x, ShapedArray):  # staging on an abstract example (vmap)
        return x
    if isinstance(x, (Staged, Array)):
        return x.aval
    try:
        return abstractify(x)
    except TypeError as e:
        raise TypeError(f"{what} {e}") from None


def _diff_mask(staging: Staging, argnums, who: str) -> list[bool]:
    mask = [False] * len(staging.program.inputs)
    for i in argnums:
        if not -len(staging.n_args) <= i < len(staging.n_args):
            raise ValueError(f"{who}: argnums {i} is out of bounds for {len(staging.n_args)} positional arguments")
        for j in staging.arg_leaf_range(i % len(staging.n_args)):
            aval = staging.program.inputs[j].aval
            if aval.dtype.kind not in "fc":
                raise TypeError(
                    f"{who} requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
                    f"np.inexact), but got {aval.dtype.name}. If you want to use Boolean- or integer-valued "
                    "inputs, use vjp or set allow_int to True.")
            mask[j] = True
    return mask


def _seed(aval: ShapedArray, value: float):
    return Array(np.full(aval.shape, value, aval.dtype), aval.weak_type)


def _cast_like(x, aval: ShapedArray):
    from kiln.numpy.core import cast
    return cast(x, aval.dtype, aval.weak_type)


# ---------------------------------------------------------------------------- reverse mode

class VJP:
    """The known part and the transposed linear part of `program`'s derivative."""

    def __init__(self, program, diff_mask):
        jvp = jvp_program(program, diff_mask)
        n_out = len(program.outputs)
        split = split_linear(jvp, n_out, sum(diff_mask))
        self.known = run_passes(split.known, CLEANUP)
        self.backward = run_passes(transpose_program(split.linear, split.n_residuals), CLEANUP)
        self.n_out = n_out
        self.diff_mask = diff_mask

    def forward(self, values):
        outs = inline(self.known, values)
        return outs[:self.n_out], outs[self.n_out:]

    def pull(self, residuals, cts):
        return inline(self.backward, list(residuals) + list(cts))


def vjp(fun, *primals, has_aux=False):
    staging = Staging(fun, primals, name=getattr(fun, "__name__", "f"))
    mask = [i < len(staging.leaves) for i in range(len(staging.program.inputs))]
    parts = VJP(staging.program, mask)
    outs, residuals = parts.forward(staging.values)
    out = tree_unflatten(staging.out_tree, outs)
    out_avals = [v.aval for v in staging.program.outputs]
    if has_aux:
        out, aux = out
        n_main = len(tree_flatten(out)[0])
    else:
        n_main = len(outs)
    main_tree = tree_structure(out)

    def vjp_fn(ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != main_tree:
            raise ValueError(f"vjp: cotangent structure {ct_tree} does not match the output's {main_tree}")
        seeds = [_cast_like(c, a) for c, a in zip(ct_leaves, out_avals)]
        seeds += [_seed(a, 0) for a in out_avals[n_main:]]
        cts = parts.pull(residuals, seeds)
        cts = [_cast_like(c, v.aval) for c, v in zip(cts, staging.program.inputs)]
        return tuple(_split_args(staging, cts))

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _split_args(staging: Staging, leaf_values) -> list:
    args_tree = tree_flatten(tree_unflatten(staging.in_tree, list(range(len(staging.leaves))))[0])[1]
    args = tree_unflatten(args_tree, list(leaf_values[:sum(staging.n_args)]))
    return list(args)


class _Compiled:
    """A transformed function: inlined while staging, compiled through kiln.jit otherwise."""

    def __init__(self, fun, staged_call, name):
        functools.update_wrapper(self, fun)
        self.__name__ = f"{name}_{getattr(fun, '__name__', 'f')}"
        self._staged_call = staged_call
        self._jit = None

    def __call__(self, *args, **kwargs):
        if current_builder() is not None:
            return self._staged_call(*args, **kwargs)
        if self._jit is None:
            from kiln.api import JitFunction
            self._jit = JitFunction(self._staged_call)
            self._jit.__name__ = self.__name__
        return self._jit(*args, **kwargs)


def _argnums(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    nums = _argnums(argnums)

    @functools.wraps(fun)
    def staged(*args, **kwargs):
        staging = Staging(fun, args, kwargs, getattr(fun, "__name__", "f"))
        mask = _diff_mask(staging, nums, "grad")
        outs_avals = [v.aval for v in staging.program.outputs]
        if has_aux:
            if not isinstance(tree_unflatten(staging.out_tree, list(range(len(outs_avals)))), tuple):
                raise TypeError("grad with has_aux=True needs the function to return a pair (output, aux)")
        main = outs_avals[0]
        n_main = len(tree_flatten(tree_unflatten(staging.out_tree, list(range(len(outs_avals))))[0])[0]) \
            if has_aux else len(outs_avals)
        if n_main != 1 or main.shape != ():
            shape = main.shape if n_main == 1 else "a pytree"
            raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: {shape}")
        if main.dtype.kind not in "fc":
            raise TypeError(f"grad requires real- or complex-valued outputs (output dtype that is a sub-dtype "
                            f"of np.inexact), but got {main.dtype.name}")
        parts = VJP(staging.program, mask)
        outs, residuals = parts.forward(staging.values)
        seeds = [_seed(main, 1.0)] + [_seed(a, 0) for a in outs_avals[1:]]
        cts = parts.pull(residuals, seeds)
        diff_vars = [v for v, m in zip(staging.program.inputs, mask) if m]
        cts = iter(_cast_like(c, v.aval) for c, v in zip(cts, diff_vars))
        grads = []
        for i in nums:
            block = staging.arg_leaf_range(i % len(staging.n_args))
            arg_tree = tree_structure(args[i])
            grads.append(tree_unflatten(arg_tree, [next(cts) for _ in block]))
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        out = tree_unflatten(staging.out_tree, outs)
        if has_aux:
            return (out[0], out[1]), g
        return out, g

    return _Compiled(fun, staged, "value_and_grad")


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def staged(*args, **kwargs):
        value, g = vg._staged_call(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return _Compiled(fun, staged, "grad")


# ---------------------------------------------------------------------------- forward mode

def jvp(fun, primals, tangents, has_aux=False):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples or lists of arguments")
    if tree_structure(tuple(primals)) != tree_structure(tuple(tangents)):
        raise TypeError(f"jvp: primal and tangent arguments must have the same tree structure; got "
                        f"{tree_structure(tuple(primals))} and {tree_structure(tuple(tangents))}")
    staging = Staging(fun, primals, name=getattr(fun, "__name__", "f"))
    mask = [i < len(staging.leaves) for i in range(len(staging.program.inputs))]
    program = run_passes(jvp_program(staging.program, mask), CLEANUP)
    t_leaves = tree_flatten(tuple(tangents))[0]
    for t, v in zip(t_leaves, staging.program.inputs):
        t_aval = t.aval if isinstance(t, (Staged, Array)) else _aval_of(t, "a tangent")
        if t_aval.shape != v.aval.shape:
            raise ValueError(f"jvp: tangent of shape {t_aval.shape} for a primal of shape {v.aval.shape}")
    t_leaves = [_cast_like(t, v.aval) for t, v in zip(t_leaves, staging.program.inputs)]
    results = inline(program, staging.values + t_leaves)
    n = len(staging.program.outputs)
    out = tree_unflatten(staging.out_tree, results[:n])
    t_out = tree_unflatten(staging.out_tree, results[n:])
    if has_aux:
        return out[0], t_out[0], out[1]
    return out, t_out


def linearize(fun, *primals):
    out, f_jvp = _linearize(fun, primals)
    return out, f_jvp


def _linearize(fun, primals):
    staging = Staging(fun, primals, name=getattr(fun, "__name__", "f"))
    mask = [i < len(staging.leaves) for i in range(len(staging.program.inputs))]
    program = jvp_program(staging.program, mask)
    n = len(staging.program.outputs)
    split = split_linear(program, n, sum(mask))
    known = run_passes(split.known, CLEANUP)
    linear = run_passes(split.linear, CLEANUP)
    outs = inline(known, staging.values)
    residuals = outs[n:]
    in_tree = tree_structure(tuple(primals))

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tuple(tangents))
        if t_tree != in_tree:
            raise TypeError(f"linearize: tangents structure {t_tree} does not match primals {in_tree}")
        t_leaves = [_cast_like(t, v.aval) for t, v in zip(t_leaves, staging.program.inputs)]
        return tree_unflatten(staging.out_tree, inline(linear, residuals + t_leaves))

    return tree_unflatten(staging.out_tree, outs[:n]), f_jvp


# ---------------------------------------------------------------------------- Jacobians

def _std_basis(aval: ShapedArray):
    n = int(np.prod(aval.shape, dtype=np.int64))
    eye = np.eye(n, dtype=aval.dtype)
    return [Array(row.reshape(aval.shape)) for row in eye]


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    nums = _argnums(argnums)

    @functools.wraps(fun)
    def staged(*args):
        import kiln.numpy as knp
        diff = tuple(args[i] for i in nums)

        def partial_fun(*d):
            full = list(args)
            for i, x in zip(nums, d):
                full[i] = x
            from kiln.frontend.operators import staging_target
            return staging_target(fun)(*full)

        out, pullback = vjp(partial_fun, *diff)
        out_leaves, out_tree = tree_flatten(out)
        per_out = []
        for y in out_leaves:
            aval = y.aval if isinstance(y, (Staged, Array)) else _aval_of(y, "an output")
            rows = []
            for e in _std_basis(aval):
                seeds = [e if z is y else _seed(z.aval if hasattr(z, "aval") else _aval_of(z, "an output"), 0)
                         for z in out_leaves]
                rows.append(pullback(tree_unflatten(out_tree, seeds)))
            per_arg = []
            for k, x in enumerate(diff):
                x_leaves, x_tree = tree_flatten(x)
                leaves = []
                for j, xl in enumerate(x_leaves):
                    stacked = knp.stack([tree_flatten(r[k])[0][j] for r in rows]) if rows else \
                        knp.zeros((0,) + knp.shape(xl))
                    leaves.append(knp.reshape(stacked, aval.shape + knp.shape(xl)))
                per_arg.append(tree_unflatten(x_tree, leaves))
            per_out.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
        return tree_unflatten(out_tree, per_out)

    return _Compiled(fun, staged, "jacrev")


jacobian = jacrev


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    nums = _argnums(argnums)

    @functools.wraps(fun)
    def staged(*args):
        import kiln.numpy as knp
        diff = tuple(args[i] for i in nums)

        def partial_fun(*d):
            full = list(args)
            for i, x in zip(nums, d):
                full[i] = x
            from kiln.frontend.operators import staging_target
            return staging_target(fun)(*full)

        per_arg = []
        out_tree = None
        for k, x in enumerate(diff):
            x_leaves, x_tree = tree_flatten(x)
            per_leaf = []
            for j, xl in enumerate(x_leaves):
                aval = xl.aval if isinstance(xl, (Staged, Array)) else _aval_of(xl, "an argument")
                columns = []
                for e in _std_basis(aval):
                    tangents = []
                    for kk, xx in enumerate(diff):
                        leaves_t = [e if (kk == k and jj == j) else
                                    _seed(l.aval if hasattr(l, "aval") else _aval_of(l, "an argument"), 0)
                                    for jj, l in enumerate(tree_flatten(xx)[0])]
                        tangents.append(tree_unflatten(tree_flatten(xx)[1], leaves_t))
                    _, t_out = jvp(partial_fun, diff, tuple(tangents))
                    t_leaves, out_tree = tree_flatten(t_out)
                    columns.append(t_leaves)
                outs = []
                for m, t in enumerate(columns[0] if columns else []):
                    stacked = knp.stack([c[m] for c in columns], axis=-1)
                    outs.append(knp.reshape(stacked, knp.shape(t) + aval.shape))
                per_leaf.append(outs)
            per_arg.append((x_tree, per_leaf))
        n_out = len(per_arg[0][1][0]) if per_arg and per_arg[0][1] else 0
        results = []
        for m in range(n_out):
            per = [tree_unflatten(x_tree, [leaf_outs[m] for leaf_outs in per_leaf]) for x_tree, per_leaf in per_arg]
            results.append(per[0] if isinstance(argnums, int) else tuple(per))
        return tree_unflatten(out_tree, results)

    return _Compiled(fun, staged, "jacfwd")


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    return jacfwd(jacrev(fun, argnums), argnums)
