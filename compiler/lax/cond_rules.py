"""The cond primitive: `branches[index](*operands)`, with branches as sub-programs.

Its jvp rule emits the primal cond (known) and a *tangent* cond whose branches recompute what
they need of the primal (`n_tangents`: the last operands are tangents), so partial evaluation
needs no residuals from inside a branch. Transposing a tangent cond gives a cond of backward
branches, each rematerialising its primal part. A batched index runs every branch and selects
lane by lane.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import Program
from kiln.lax.subprograms import (as_callable, backward_program, batched_body, check_same, front_all,
                                  program_avals, select_n_prim, share_extras)
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules, vmap_rules

cond_p = primitive("cond", multiple_results=True)


def _cond_shape(index, *operands, branches, n_tangents=0):
    if index.shape != () or index.dtype.kind not in "iu":
        raise TypeError(f"cond: the branch index must be an integer scalar, got {index.str_short()}")
    for br in branches[1:]:
        check_same("cond branches' outputs", program_avals(branches[0]), program_avals(br))
    return [a.update(weak_type=all(br.outputs[i].aval.weak_type for br in branches))
            for i, a in enumerate(program_avals(branches[0]))]


def _cond_impl(index, *operands, branches, n_tangents=0):
    i = int(np.clip(index, 0, len(branches) - 1))
    return as_callable(branches[i])(*operands)


def _tangent_programs(programs, flags, n_out):
    """For each program, the program (*inputs, *tangents) -> tangent outputs."""
    from kiln.passes.jvp import jvp_program
    out = []
    for p in programs:
        jp = jvp_program(p, flags)
        out.append(Program(jp.inputs, jp.eqns, jp.outputs[n_out:], jp.consts))
    return out


def _cond_jvp(primals, tangents, *, branches, n_tangents=0):
    from kiln.passes.jvp import instantiate
    index, *ops = primals
    outs = bind(cond_p, index, *ops, branches=branches, n_tangents=n_tangents)
    flags = tuple(t is not None for t in tangents[1:])
    if not any(flags):
        return outs, [None] * len(outs)
    t_branches = tuple(_tangent_programs(branches, flags, len(outs)))
    ts = [t for t in tangents[1:] if t is not None]
    # n_tangents=k: the last k operands are tangents (known zeros among them included).
    t_outs = bind(cond_p, index, *ops, *ts, branches=t_branches, n_tangents=len(ts))
    return outs, [instantiate(t, aval_of(o)) for t, o in zip(t_outs, outs)]


def _cond_transpose(cts, index, *operands, branches, n_tangents=0):
    from kiln.passes.jvp import instantiate
    from kiln.passes.transpose import is_linear
    if is_linear(index):
        raise NotImplementedError("kiln: transpose of cond with respect to its index")
    n_primal = len(operands) - n_tangents
    primals = list(operands[:n_primal])
    if any(is_linear(x) for x in primals):
        raise NotImplementedError("kiln: transpose of a cond with respect to a non-tangent operand")
    cts = [instantiate(ct, v.aval) for ct, v in zip(cts, branches[0].outputs)]
    backward = tuple(backward_program(br, n_primal) for br in branches)
    ct_ins = bind(cond_p, index, *primals, *cts, branches=backward, n_tangents=len(cts))
    return [None] * (1 + n_primal) + [ct if is_linear(x) else None for ct, x in zip(ct_ins, operands[n_primal:])]


shape_rules[cond_p] = _cond_shape
impl_rules[cond_p] = _cond_impl
jvp_rules[cond_p] = _cond_jvp
transpose_rules[cond_p] = _cond_transpose


def _cond_batch(args, dims, *, branches, n_tangents=0):
    from kiln.passes.vmap import batch_size, with_batch
    size = batch_size(args, dims)
    args, dims = front_all(args, dims)
    index, *ops = args
    n_out = len(branches[0].outputs)
    if dims[0] is not None:
        # A batched predicate: run every branch, then select lane by lane.
        from kiln.passes.vmap import vmap_eval
        results = [vmap_eval(br, ops, dims[1:]) for br in branches]
        outs = []
        for k in range(n_out):
            cases = [with_batch(r[0][k], r[1][k], size) for r in results]
            which = with_batch(index, 0, size, aval_of(cases[0]).shape[1:])
            outs.append(bind(select_n_prim(), which, *cases))
        return outs, [0] * n_out
    # Batched operands only: one cond of batched branches (all outputs batched alike).
    staged = [batched_body(br, dims[1:], size, f"branch{k}", force_out=[True] * n_out)
              for k, br in enumerate(branches)]
    programs, all_extras = share_extras(staged)
    outs = bind(cond_p, index, *all_extras, *ops, branches=tuple(programs), n_tangents=n_tangents)
    return outs, [0] * n_out


vmap_rules[cond_p] = _cond_batch
