"""Jacobians and Hessians with JAX's API: `jacfwd`, `jacrev` (`jacobian`) and `hessian`.

Each call stages the function once (`kiln.ad.Staging`). jacrev pulls back one basis cotangent
per output element through the reverse-mode parts (`kiln.ad.VJP`); jacfwd pushes one basis
tangent per input element through a JVP program built once per input leaf. The rows or
columns are stacked into blocks of shape out_shape + in_shape, laid out in the pytrees of the
outputs and the differentiated arguments as JAX lays them out. `hessian` is
`jacfwd(jacrev(f))`, as in JAX.
"""
from __future__ import annotations

import numpy as np

from kiln.ad import (VJP, Staging, _Compiled, _argnums, _cast_like, _check_argnums, _check_real_outputs, _diff_mask,
                     _fixing, _main_and_aux, _name, _seed, _split_args)
from kiln.interpret import inline
from kiln.ir import ShapedArray
from kiln.passes import CLEANUP, run_passes
from kiln.passes.jvp import jvp_program
from kiln.runtime.array import Array
from kiln.runtime.pytree import tree_flatten, tree_structure, tree_unflatten


def _std_basis(aval: ShapedArray):
    n = int(np.prod(aval.shape, dtype=np.int64))
    return [Array(row.reshape(aval.shape), aval.weak_type) for row in np.eye(n, dtype=aval.dtype)]


def _block(vectors, out_aval: ShapedArray, in_aval: ShapedArray, axis: int):
    """Stack per-element derivatives (rows: axis 0, columns: axis -1) into one Jacobian block."""
    import kiln.numpy as knp
    shape = out_aval.shape + in_aval.shape
    if not vectors:
        return knp.zeros(shape, in_aval.dtype)
    return knp.reshape(knp.stack(vectors, axis=axis), shape)


def _jacobian_tree(blocks, main, staging: Staging, argnums):
    """blocks[m][j] (main output leaf m, input leaf j) as JAX lays out a Jacobian."""
    per_out, args = [], _split_args(staging, list(range(len(staging.leaves))))
    for row in blocks:
        it = iter(row)
        per_arg = [tree_unflatten(tree_structure(a), [next(it) for _ in tree_flatten(a)[0]]) for a in args]
        per_out.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
    return tree_unflatten(tree_structure(main), per_out)


def _jacobian_staging(fun, args, kwargs, argnums, who):
    _check_argnums(len(args), argnums)
    nums = _argnums(argnums)
    staging = Staging(_fixing(fun, args, nums, kwargs), tuple(args[i] for i in nums), name=_name(fun))
    return staging, _diff_mask(staging, range(len(nums)), who)


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    def staged(*args, **kwargs):
        staging, mask = _jacobian_staging(fun, args, kwargs, argnums, "jacrev")
        parts = VJP(staging.program, mask)
        outs, residuals = parts.forward(staging.values)
        main, aux, n_main = _main_and_aux(staging, outs, has_aux)
        out_avals = [v.aval for v in staging.program.outputs]
        _check_real_outputs(out_avals[:n_main], "jacrev")
        in_avals = [v.aval for v, m in zip(staging.program.inputs, mask) if m]
        blocks = []
        for m in range(n_main):
            rows = [parts.pull(residuals, [e if k == m else _seed(a, 0) for k, a in enumerate(out_avals)])
                    for e in _std_basis(out_avals[m])]
            blocks.append([_block([_cast_like(r[j], a) for r in rows], out_avals[m], a, 0)
                           for j, a in enumerate(in_avals)])
        jac = _jacobian_tree(blocks, main, staging, argnums)
        return (jac, aux) if has_aux else jac

    return _Compiled(fun, staged, "jacrev", _argnums(argnums))


jacobian = jacrev


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    def staged(*args, **kwargs):
        staging, mask = _jacobian_staging(fun, args, kwargs, argnums, "jacfwd")
        out_avals = [v.aval for v in staging.program.outputs]
        main, _, n_main = _main_and_aux(staging, out_avals, has_aux)
        n = len(out_avals)
        columns = []  # per input leaf: the tangent outputs for each basis vector
        for j, (v, m) in enumerate(zip(staging.program.inputs, mask)):
            if m:
                program = run_passes(jvp_program(staging.program, [k == j for k in range(len(mask))]), CLEANUP)
                columns.append((v.aval, [inline(program, staging.values + [e])[n:] for e in _std_basis(v.aval)]))
        blocks = [[_block([c[m] for c in cols], out_avals[m], aval, -1) for aval, cols in columns]
                  for m in range(n_main)]
        jac = _jacobian_tree(blocks, main, staging, argnums)
        if not has_aux:
            return jac
        _, aux, _ = _main_and_aux(staging, inline(staging.program, staging.values), has_aux)
        return jac, aux

    return _Compiled(fun, staged, "jacfwd", _argnums(argnums))


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    return jacfwd(jacrev(fun, argnums, has_aux), argnums, has_aux)
