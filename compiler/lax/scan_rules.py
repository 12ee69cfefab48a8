"""The scan primitive: a loop over the leading axis of its xs with a static trip count.

Its jvp rule emits the primal scan (known) and a *tangent* scan that recomputes the primal
carry as it goes (`tangent_mask` marks its tangent operands), so partial evaluation needs no
residuals from inside an iteration. Transposing a tangent scan records the primal carries with
a forward scan, then runs the backward steps in a reverse scan (each step rematerialised).
"""
from __future__ import annotations

import numpy as np

from kiln.interpret import inline
from kiln.ir import Program, ShapedArray
from kiln.lax.subprograms import (as_callable, backward_program, batched_body, carry_flags, check_same, dce,
                                  primal_part)
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules, vmap_rules
from kiln.staging import Builder

scan_p = primitive("scan", multiple_results=True)


def _scan_shape(*operands, body, n_extras, n_carry, length, reverse, tangent_mask=None):
    carry = operands[n_extras:n_extras + n_carry]
    xs = operands[n_extras + n_carry:]
    for x in xs:
        if not x.shape or x.shape[0] != length:
            raise TypeError(f"scan: every xs leaf needs a leading axis of length {length}, got {x.str_short()}")
    outs = [v.aval for v in body.outputs]
    check_same("scan's carry output and carry input", outs[:n_carry], list(carry))
    ys = [ShapedArray((length,) + a.shape, a.dtype, a.weak_type) for a in outs[n_carry:]]
    return [c.update(weak_type=c.weak_type and o.weak_type) for c, o in zip(carry, outs[:n_carry])] + ys


def _scan_impl(*operands, body, n_extras, n_carry, length, reverse, tangent_mask=None):
    fn = as_callable(body)
    extras = list(operands[:n_extras])
    carry = list(operands[n_extras:n_extras + n_carry])
    xs = operands[n_extras + n_carry:]
    ys = []
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        out = fn(*extras, *carry, *(x[i] for x in xs))
        carry, y = list(out[:n_carry]), out[n_carry:]
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:  # no steps: run the body once on zeros only to learn the shapes of ys
        probe = fn(*extras, *carry, *(np.zeros(x.shape[1:], x.dtype) for x in xs))[n_carry:]
        return carry + [np.zeros((0,) + np.shape(y), np.asarray(y).dtype) for y in probe]
    return carry + [np.stack([y[k] for y in ys]) for k in range(len(ys[0]))]


def _scan_jvp(primals, tangents, *, body, n_extras, n_carry, length, reverse, tangent_mask=None):
    from kiln.passes.jvp import instantiate
    params = dict(n_extras=n_extras, n_carry=n_carry, length=length, reverse=reverse)
    outs = bind(scan_p, *primals, body=body, **params)
    extra_flags = [t is not None for t in tangents[:n_extras]]
    x_flags = [t is not None for t in tangents[n_extras + n_carry:]]
    c_flags = carry_flags(body, extra_flags, [t is not None for t in tangents[n_extras:n_extras + n_carry]],
                               x_flags)
    flags = extra_flags + c_flags + x_flags
    if not any(flags):
        return outs, [None] * len(outs)
    t_body, t_params = tangent_scan(body, flags, **params)
    ts = [instantiate(t, aval_of(x)) for t, x, f in zip(tangents, primals, flags) if f]
    t_outs = bind(scan_p, *t_params["operands"](primals, ts), body=t_body, **t_params["params"])
    n_primal_carry = n_carry
    t_outs = t_outs[n_primal_carry:]  # drop the recomputed primal carry
    carry_ts, ys_ts = t_outs[:sum(c_flags)], t_outs[sum(c_flags):]
    it = iter(carry_ts)
    carry_out_ts = [next(it) if f else None for f in c_flags]
    return outs, carry_out_ts + list(ys_ts)


def tangent_scan(body, flags, *, n_extras, n_carry, length, reverse):
    """A scan computing (primal carry, flagged carry tangents) and ys tangents, recomputing the
    primal carry as it goes. Operand order: extras, extra tangents, carry, carry tangents, xs,
    xs tangents."""
    from kiln.passes.jvp import jvp_program
    jp = jvp_program(body, flags)
    n_in = len(body.inputs)
    ins = list(jp.inputs)
    primal_in, tangent_in = ins[:n_in], ins[n_in:]
    e_f, c_f, x_f = flags[:n_extras], flags[n_extras:n_extras + n_carry], flags[n_extras + n_carry:]
    t_iter = iter(tangent_in)
    e_t = [next(t_iter) for f in e_f if f]
    c_t = [next(t_iter) for f in c_f if f]
    x_t = [next(t_iter) for f in x_f if f]
    e, c, x = primal_in[:n_extras], primal_in[n_extras:n_extras + n_carry], primal_in[n_extras + n_carry:]
    n_out = len(body.outputs)
    carry_out, carry_t_out = jp.outputs[:n_carry], jp.outputs[n_out:n_out + n_carry]
    ys_t_out = jp.outputs[n_out + n_carry:]
    new_body = Program(tuple(e + e_t + c + c_t + x + x_t), jp.eqns,
                       tuple(carry_out) + tuple(o for o, f in zip(carry_t_out, c_f) if f) + tuple(ys_t_out),
                       jp.consts)

    def operands(primals, ts):
        t_iter = iter(ts)
        e_ts = [next(t_iter) for f in e_f if f]
        c_ts = [next(t_iter) for f in c_f if f]
        x_ts = [next(t_iter) for f in x_f if f]
        p = list(primals)
        return (p[:n_extras] + e_ts + p[n_extras:n_extras + n_carry] + c_ts + p[n_extras + n_carry:] + x_ts)

    mask = ((False,) * n_extras + (True,) * len(e_t) + (False,) * n_carry + (True,) * len(c_t)
            + (False,) * len(x) + (True,) * len(x_t))
    params = dict(n_extras=n_extras + len(e_t), n_carry=n_carry + len(c_t), length=length, reverse=reverse,
                  tangent_mask=mask)
    return new_body, {"operands": operands, "params": params}


def _scan_transpose(cts, *operands, body, n_extras, n_carry, length, reverse, tangent_mask=None):
    """Transpose a tangent scan: record the primal carries with a forward scan, then run the
    backward steps in the opposite order, summing the cotangents of loop invariants."""
    from kiln.passes.jvp import instantiate
    from kiln.passes.transpose import is_linear
    groups = (operands[:n_extras], operands[n_extras:n_extras + n_carry], operands[n_extras + n_carry:])
    if tangent_mask is None:
        raise NotImplementedError("kiln: transpose of a scan that is not the tangent of a scan")
    # Structural: which operands are tangents (a tangent may be a known zero here).
    lin = [list(tangent_mask[:n_extras]), list(tangent_mask[n_extras:n_extras + n_carry]),
           list(tangent_mask[n_extras + n_carry:])]
    for v, f in zip(operands, tangent_mask):
        if is_linear(v) and not f:
            raise NotImplementedError("kiln: transpose of a scan with respect to a primal operand")
    b_in = body.inputs
    b_groups = (b_in[:n_extras], b_in[n_extras:n_extras + n_carry], b_in[n_extras + n_carry:])
    primal = [[v for v, f in zip(g, fl) if not f] for g, fl in zip(groups, lin)]
    b_primal = [[v for v, f in zip(g, fl) if not f] for g, fl in zip(b_groups, lin)]
    b_tangent = [[v for v, f in zip(g, fl) if f] for g, fl in zip(b_groups, lin)]
    (pe, pc, px), (b_pe, b_pc, b_px) = primal, b_primal
    n_pc = len(pc)
    # Forward: the primal carry before each step, recorded as ys.
    step = primal_part(body, b_pe + b_pc + b_px, body.outputs[:n_pc])
    record = Program(step.inputs, step.eqns, step.outputs + tuple(b_pc))
    carries_before = bind(scan_p, *pe, *pc, *px, body=record, n_extras=len(pe), n_carry=n_pc,
                          length=length, reverse=reverse)[n_pc:]
    # One backward step: primals, then cotangents of the step's tangent outputs.
    tangent_step = dce(Program(tuple(b_pe + b_pc + b_px) + tuple(sum(b_tangent, [])), body.eqns,
                                tuple(body.outputs[n_pc:])))
    step_back = backward_program(tangent_step, len(b_pe) + n_pc + len(b_px))
    b_et, b_tc, b_tx = b_tangent
    with Builder("scan_backward") as b:
        e_in = [b.new_input(v.aval) for v in b_pe]
        ct_c = [b.new_input(v.aval) for v in b_tc]
        acc = [b.new_input(v.aval) for v in b_et]
        pc_in = [b.new_input(v.aval) for v in b_pc]
        px_in = [b.new_input(v.aval) for v in b_px]
        ct_y = [b.new_input(v.aval) for v in body.outputs[n_carry:]]
        step_cts = inline(step_back, e_in + pc_in + px_in + ct_c + ct_y)
        ct_et = step_cts[:len(b_et)]
        ct_tc = step_cts[len(b_et):len(b_et) + len(b_tc)]
        ct_tx = step_cts[len(b_et) + len(b_tc):]
        back = b.build(list(ct_tc) + [a + c for a, c in zip(acc, ct_et)] + list(ct_tx))
    assert not b.captures
    tcprogram_avals = [v.aval for v in b_tc]
    carry_cts = [instantiate(ct, a) for ct, a in zip(cts[n_pc:n_pc + len(b_tc)], tcprogram_avals)]
    ys_cts = [instantiate(ct, ShapedArray((length,) + v.aval.shape, v.aval.dtype, v.aval.weak_type))
              for ct, v in zip(cts[n_pc + len(b_tc):], body.outputs[n_carry:])]
    acc0 = [instantiate(None, v.aval) for v in b_et]
    outs = bind(scan_p, *pe, *carry_cts, *acc0, *carries_before, *px, *ys_cts, body=back,
                n_extras=len(pe), n_carry=len(b_tc) + len(b_et), length=length, reverse=not reverse)
    ct_tc_out, ct_et_out, ct_tx_out = (outs[:len(b_tc)], outs[len(b_tc):len(b_tc) + len(b_et)],
                                       outs[len(b_tc) + len(b_et):])
    results = []
    for group_lin, group_cts in zip(lin, (ct_et_out, ct_tc_out, ct_tx_out)):
        it = iter(group_cts)
        results += [next(it) if f else None for f in group_lin]
    return [ct if is_linear(v) else None for ct, v in zip(results, operands)]


shape_rules[scan_p] = _scan_shape
impl_rules[scan_p] = _scan_impl
jvp_rules[scan_p] = _scan_jvp
transpose_rules[scan_p] = _scan_transpose


def _scan_batch(args, dims, *, body, n_extras, n_carry, length, reverse, tangent_mask=None):
    from kiln.passes.vmap import batch_size, move_to_front, with_batch
    size = batch_size(args, dims)
    extras, carry, xs = args[:n_extras], args[n_extras:n_extras + n_carry], args[n_extras + n_carry:]
    e_dims, x_dims = dims[:n_extras], dims[n_extras + n_carry:]
    extras = [move_to_front(x, d) for x, d in zip(extras, e_dims)]
    e_dims = [None if d is None else 0 for d in e_dims]
    carry = [with_batch(x, d, size) for x, d in zip(carry, dims[n_extras:n_extras + n_carry])]
    # xs slice along axis 0, so their batch axis goes to 1 (0 inside the body).
    moved = []
    for x, d in zip(xs, x_dims):
        if d is None:
            moved.append(x)
        else:
            x = move_to_front(x, d)
            ndim = len(aval_of(x).shape)
            from kiln import lax
            moved.append(lax.transpose(x, (1, 0) + tuple(range(2, ndim))))
    n_ys = len(body.outputs) - n_carry
    b_dims = e_dims + [0] * n_carry + [None if d is None else 0 for d in x_dims]
    program, b_extras, out_dims = batched_body(body, b_dims, size, "scan_body",
                                               force_out=[True] * n_carry + [False] * n_ys)
    outs = bind(scan_p, *b_extras, *extras, *carry, *moved, body=program,
                n_extras=len(b_extras) + n_extras, n_carry=n_carry, length=length, reverse=reverse,
                **({"tangent_mask": (False,) * len(b_extras) + tuple(tangent_mask)} if tangent_mask else {}))
    ys_dims = [None if d is None else 1 for d in out_dims[n_carry:]]
    return outs, [0] * n_carry + ys_dims


vmap_rules[scan_p] = _scan_batch
