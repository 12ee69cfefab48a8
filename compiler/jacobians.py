"""Jacobians and Hessians with JAX's API: `jacfwd`, `jacrev` (`jacobian`) and `hessian`.

As in JAX, both are one vmap over a standard basis, so a Jacobian's program has the size of
one derivative whatever the number of basis vectors: jacfwd pushes the basis of the
differentiated inputs (all their leaves flattened into one axis) through the JVP program
under `kiln.vmap`; jacrev pulls the basis of the outputs back through the transposed linear
part (`kiln.ad.VJP`) under `kiln.vmap`. The batched result is split into blocks of shape
out_shape + in_shape, laid out in the pytrees of the outputs and the differentiated arguments
as JAX lays them out, with JAX's dtypes: jacfwd's blocks have the output's type, jacrev's the
input's (integer inputs, with `allow_int`, get integer zeros). `hessian` is
`jacfwd(jacrev(f))`.
"""
from __future__ import annotations

import numpy as np

from kiln.ad import (VJP, Staging, _Compiled, _argnums, _cast_like, _check_argnums, _check_output_dtype_revderiv,
                     _diff_mask, _fixing, _main_and_aux, _name, _seed, _split_args)
from kiln.interpret import inline
from kiln.ir import ShapedArray
from kiln.passes import CLEANUP, run_passes
from kiln.passes.jvp import jvp_program
from kiln.runtime.pytree import tree_flatten, tree_structure, tree_unflatten


def _size(aval: ShapedArray) -> int:
    return int(np.prod(aval.shape, dtype=np.int64))


def _std_basis(avals):
    """The standard basis of the leaves `avals` flattened into one vector of size n: per leaf,
    an array of shape (n,) + its shape in its dtype (JAX's `_std_basis`)."""
    import kiln.numpy as knp
    n, offset, basis = sum(map(_size, avals)), 0, []
    for a in avals:
        rows = knp.eye(n, _size(a), k=-offset, dtype=a.dtype)  # row offset + i is leaf element i
        basis.append(_cast_like(knp.reshape(rows, (n,) + a.shape), a))
        offset += _size(a)
    return basis


def _blocks(flat, axis: int, avals):
    """`flat`, whose axis `axis` runs over the leaves `avals` flattened, split into one array per
    leaf, with that axis replaced by the leaf's shape."""
    from kiln import lax
    import kiln.numpy as knp
    shape = tuple(flat.shape)
    axis %= len(shape)
    out, offset = [], 0
    for a in avals:
        part = flat
        if len(avals) > 1:
            start, limit = [0] * len(shape), list(shape)
            start[axis], limit[axis] = offset, offset + _size(a)
            part = lax.slice(flat, start, limit)
        out.append(knp.reshape(part, shape[:axis] + a.shape + shape[axis + 1:]))
        offset += _size(a)
    return out


def _downcast(x, aval: ShapedArray):
    """`x` in the type of `aval`, keeping the real part where `aval` is real (JAX's
    `_possible_downcast`)."""
    from kiln import lax
    if x.dtype.kind == "c" and aval.dtype.kind != "c":
        x = lax.real(x)
    return _cast_like(x, aval)


def _zeros(shape, aval: ShapedArray):
    import kiln.numpy as knp
    return _cast_like(knp.zeros(shape, aval.dtype), aval)


def _jacobian_tree(blocks, main, staging: Staging, argnums):
    """blocks[m][j] (main output leaf m, input leaf j) as JAX lays out a Jacobian."""
    per_out, args = [], _split_args(staging, list(range(len(staging.leaves))))
    for row in blocks:
        it = iter(row)
        per_arg = [tree_unflatten(tree_structure(a), [next(it) for _ in tree_flatten(a)[0]]) for a in args]
        per_out.append(per_arg[0] if isinstance(argnums, int) else tuple(per_arg))
    return tree_unflatten(tree_structure(main), per_out)


def _jacobian_staging(fun, args, kwargs, argnums):
    _check_argnums(len(args), argnums)
    nums = _argnums(argnums)
    return Staging(_fixing(fun, args, nums, kwargs), tuple(args[i] for i in nums), name=_name(fun))


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    def staged(*args, **kwargs):
        from kiln.batching import vmap
        staging = _jacobian_staging(fun, args, kwargs, argnums)
        mask = _diff_mask(staging, range(len(staging.n_args)), "jacrev", holomorphic, allow_int)
        parts = VJP(staging.program, mask)
        outs, residuals = parts.forward(staging.values)
        main, aux, n_main = _main_and_aux(staging, outs, has_aux)
        out_avals = [v.aval for v in staging.program.outputs]
        for a in out_avals[:n_main]:
            _check_output_dtype_revderiv("jacrev", holomorphic, a)
        in_avals = [v.aval for v in staging.program.inputs[:len(staging.leaves)]]
        aux_seeds = [_seed(a, 0) for a in out_avals[n_main:]]
        n_out = sum(_size(a) for a in out_avals[:n_main])
        if n_out and any(mask):
            # One row of every block per basis cotangent: axis 0 runs over the output elements.
            cts = iter(vmap(lambda *basis: parts.pull(residuals, list(basis) + aux_seeds))(
                *_std_basis(out_avals[:n_main])))
        columns = []  # per input leaf: its block for each output leaf
        for a, m in zip(in_avals, mask):
            if m and n_out:
                rows = _blocks(next(cts), 0, out_avals[:n_main])
                columns.append([_downcast(r, a) for r in rows])
            else:
                columns.append([_zeros(o.shape + a.shape, a) for o in out_avals[:n_main]])
        blocks = [[col[m] for col in columns] for m in range(n_main)]
        jac = _jacobian_tree(blocks, main, staging, argnums)
        return (jac, aux) if has_aux else jac

    return _Compiled(fun, staged, "jacrev", _argnums(argnums))


jacobian = jacrev


def _check_input_dtype_jacfwd(holomorphic: bool, aval: ShapedArray) -> None:
    name = aval.dtype.name
    if holomorphic:
        if aval.dtype.kind != "c":
            raise TypeError(f"jacfwd with holomorphic=True requires inputs with complex dtype, but got {name}.")
    elif aval.dtype.kind != "f":
        raise TypeError(f"jacfwd requires real-valued inputs (input dtype that is a sub-dtype of np.floating), but "
                        f"got {name}. For holomorphic differentiation, pass holomorphic=True. For differentiation "
                        "of non-holomorphic functions involving complex inputs or integer inputs, use jax.jvp "
                        "directly.")


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    def staged(*args, **kwargs):
        from kiln.batching import vmap
        staging = _jacobian_staging(fun, args, kwargs, argnums)
        in_avals = [v.aval for v in staging.program.inputs[:len(staging.leaves)]]
        for a in in_avals:
            _check_input_dtype_jacfwd(holomorphic, a)
        out_avals = [v.aval for v in staging.program.outputs]
        main, _, n_main = _main_and_aux(staging, out_avals, has_aux)
        if holomorphic:
            for a in out_avals[:n_main]:
                if a.dtype.kind != "c":
                    raise TypeError("jacfwd with holomorphic=True requires outputs with complex dtype, but got "
                                    f"{a.dtype.name}.")
        n = len(out_avals)
        mask = [i < len(in_avals) for i in range(len(staging.program.inputs))]
        program = run_passes(jvp_program(staging.program, mask), CLEANUP)
        values = staging.values

        def push(*basis):
            results = inline(program, values + list(basis))
            return results[:n], results[n:n + n_main]

        if sum(map(_size, in_avals)):
            # The primal outputs do not depend on the basis: out_axes None. The tangents'
            # last axis runs over the input elements.
            outs, tangents = vmap(push, out_axes=(None, -1))(*_std_basis(in_avals))
            blocks = [[_downcast(b, o) for b in _blocks(t, -1, in_avals)] for t, o in zip(tangents, out_avals)]
        else:
            outs = inline(staging.program, values)
            blocks = [[_zeros(o.shape + a.shape, o) for a in in_avals] for o in out_avals[:n_main]]
        jac = _jacobian_tree(blocks, main, staging, argnums)
        if not has_aux:
            return jac
        _, aux, _ = _main_and_aux(staging, outs, has_aux)
        return jac, aux

    return _Compiled(fun, staged, "jacfwd", _argnums(argnums))


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    return jacfwd(jacrev(fun, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)
