"""Structured control flow: cond, while and scan primitives holding sub-programs.

Sub-programs take their closed-over values first (constants and captured outer values,
hoisted into explicit operands by `stage_body`), so they never have constants of their own.

Differentiation keeps each construct structured. The jvp rule of `cond` and `scan` emits two
equations: the primal construct (known) and a *tangent* construct that recomputes what it needs
of the primal inside (so partial evaluation needs no residuals from inside a branch or an
iteration). Transposing a tangent construct rematerialises the primal part of each branch or
step and runs its backward pass: `cond` transposes to a cond of backward branches, `scan` to a
forward scan that records the carries followed by a reverse scan of backward steps. `while`
has forward mode only: its trip count is data dependent, and reverse mode needs a tape.
"""
from __future__ import annotations

import numpy as np

from kiln.interpret import inline
from kiln.ir import Program, ShapedArray, Var
from kiln.primitives import (aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules,
                             transpose_rules)
from kiln.runtime.pytree import tree_flatten, tree_unflatten
from kiln.staging import Builder

# ---------------------------------------------------------------------------- staging bodies


def stage_body(fun, in_avals, name):
    """Stage `fun` on values of `in_avals`: (program, extra operand values, output tree).

    The program's inputs are `(*extras, *declared)`: hoisted constants and captured outer
    values first.
    """
    from kiln.frontend.operators import staging_target
    with Builder(name) as b:
        args = [b.new_input(a) for a in in_avals]
        out_leaves, out_tree = tree_flatten(staging_target(fun)(*args))
        program = b.build(out_leaves)
    declared = program.inputs[:len(in_avals)]
    captured = program.inputs[len(in_avals):]
    consts = [v for v, _ in program.consts]
    extras = [value for _, value in program.consts] + [outer for outer, _ in b.captures]
    closed = Program(tuple(consts) + tuple(captured) + tuple(declared), program.eqns, program.outputs)
    return closed, extras, out_tree


def with_inputs(program: Program, before=(), after=()) -> Program:
    """The same program taking unused extra inputs of the given avals around its own."""
    new_before = tuple(Var(a) for a in before)
    new_after = tuple(Var(a) for a in after)
    return Program(new_before + program.inputs + new_after, program.eqns, program.outputs)


def as_callable(body):
    """Sub-programs reach impl rules as Programs (eager) or as generated functions (backend)."""
    if isinstance(body, Program):
        return lambda *args: [_np(v) for v in inline(body, list(args))]
    return body


def _np(v):
    return v._value if hasattr(v, "_value") else np.asarray(v)


def _avals(program: Program, outputs=True):
    return [v.aval for v in (program.outputs if outputs else program.inputs)]


def _check_same(what, avals_a, avals_b):
    if [a.strip_weak() for a in avals_a] != [b.strip_weak() for b in avals_b]:
        raise TypeError(f"{what} must have the same types; got "
                        f"{[a.str_short() for a in avals_a]} and {[b.str_short() for b in avals_b]}")


# ---------------------------------------------------------------------------- cond
cond_p = primitive("cond", multiple_results=True)


def _cond_shape(index, *operands, branches, n_tangents=0):
    if index.shape != () or index.dtype.kind not in "iu":
        raise TypeError(f"cond: the branch index must be an integer scalar, got {index.str_short()}")
    for br in branches[1:]:
        _check_same("cond branches' outputs", _avals(branches[0]), _avals(br))
    return [a.update(weak_type=all(br.outputs[i].aval.weak_type for br in branches))
            for i, a in enumerate(_avals(branches[0]))]


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


def backward_program(program: Program, n_primal: int) -> Program:
    """(*primals, *cts) -> cts of the tangent inputs, for a tangent program
    (*primals, *tangents) -> tangent outputs: recompute, then transpose."""
    from kiln.passes.jvp import instantiate
    from kiln.passes.partial_eval import split_linear
    from kiln.passes.transpose import backward_pass
    n_tangents = len(program.inputs) - n_primal
    split = split_linear(program, 0, n_tangents)
    with Builder("backward") as b:
        primals = [b.new_input(v.aval) for v in program.inputs[:n_primal]]
        cts = [b.new_input(v.aval) for v in program.outputs]
        residuals = inline(split.known, primals)
        ct_ins = backward_pass(split.linear, residuals, cts)
        ct_ins = [instantiate(c, v.aval) for c, v in zip(ct_ins, program.inputs[n_primal:])]
    result = b.build(ct_ins)
    assert not b.captures
    return result


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


# ---------------------------------------------------------------------------- while
while_p = primitive("while", multiple_results=True)


def _while_shape(*operands, cond, body, n_cond_extras, n_body_extras):
    carry = operands[n_cond_extras + n_body_extras:]
    _check_same("while_loop's body output and carry", [v.aval for v in body.outputs], list(carry))
    pred = cond.outputs[0].aval
    if pred.shape != () or pred.dtype != np.bool_:
        raise TypeError(f"while_loop: cond_fun must return a boolean scalar, got {pred.str_short()}")
    return list(carry)


def _while_impl(*operands, cond, body, n_cond_extras, n_body_extras):
    cond_extras = list(operands[:n_cond_extras])
    body_extras = list(operands[n_cond_extras:n_cond_extras + n_body_extras])
    carry = list(operands[n_cond_extras + n_body_extras:])
    cond_fn, body_fn = as_callable(cond), as_callable(body)
    while bool(cond_fn(*cond_extras, *carry)[0]):
        carry = list(body_fn(*body_extras, *carry))
    return carry


def _carry_flags(body: Program, extra_flags, carry_flags, x_flags=()):
    """Which carries have tangents: those that start with one or get one from the body
    (a fixed point: a carry that gains a tangent can give one to another)."""
    from kiln.passes.jvp import jvp_program
    flags = list(carry_flags)
    n_out = len(body.outputs)
    while True:
        jp = jvp_program(body, list(extra_flags) + flags + list(x_flags))
        gets = [not _is_zero_output(jp, n_out + i) for i in range(len(flags))]
        new = [a or b for a, b in zip(flags, gets)]
        if new == flags:
            return flags
        flags = new


def _is_zero_output(program: Program, i: int) -> bool:
    """Whether output i of a jvp program is an instantiated symbolic zero (no tangent)."""
    from kiln.ir import Literal
    out = program.outputs[i]
    if isinstance(out, Literal):
        return True
    producer = next((e for e in program.eqns if out in e.outputs), None)
    return (producer is not None and producer.prim.name in ("broadcast_in_dim", "convert_element_type")
            and all(isinstance(a, Literal) for a in producer.inputs))


def _while_jvp(primals, tangents, *, cond, body, n_cond_extras, n_body_extras):
    from kiln.passes.jvp import instantiate, jvp_program
    n_extras = n_cond_extras + n_body_extras
    carry = primals[n_extras:]
    body_extra_flags = [t is not None for t in tangents[n_cond_extras:n_extras]]
    flags = _carry_flags(body, body_extra_flags, [t is not None for t in tangents[n_extras:]])
    if not any(flags) and not any(body_extra_flags):
        return bind(while_p, *primals, cond=cond, body=body, n_cond_extras=n_cond_extras,
                    n_body_extras=n_body_extras), [None] * len(carry)
    # The carry becomes (primal carry, tangents of flagged carries); body extras' tangents are
    # loop invariants, passed as extras too.
    jp = jvp_program(body, body_extra_flags + flags)
    n_be = n_body_extras
    n_c = len(carry)
    extra_ts = [t for t in tangents[n_cond_extras:n_extras] if t is not None]
    # jp inputs: body extras, carry, extra tangents, carry tangents -> outputs: carry, carry tangents
    jp_inputs = list(jp.inputs)
    be, c = jp_inputs[:n_be], jp_inputs[n_be:n_be + n_c]
    et = jp_inputs[n_be + n_c:n_be + n_c + len(extra_ts)]
    ct = jp_inputs[n_be + n_c + len(extra_ts):]
    carry_t_outs = [o for o, f in zip(jp.outputs[n_c:], flags) if f]
    new_body = Program(tuple(be + et + c + ct), jp.eqns, tuple(jp.outputs[:n_c]) + tuple(carry_t_outs),
                       jp.consts)
    new_cond = with_inputs(cond, after=[v.aval for v in ct])
    carry_ts = [instantiate(t, aval_of(x)) for t, x, f in zip(tangents[n_extras:], carry, flags) if f]
    outs = bind(while_p, *primals[:n_cond_extras], *primals[n_cond_extras:n_extras], *extra_ts,
                *carry, *carry_ts, cond=new_cond, body=new_body, n_cond_extras=n_cond_extras,
                n_body_extras=n_body_extras + len(extra_ts))
    t_iter = iter(outs[n_c:])
    return outs[:n_c], [next(t_iter) if f else None for f in flags]


def _while_transpose(cts, *operands, **params):
    raise NotImplementedError(
        "kiln: reverse-mode differentiation through a while loop is not supported yet (its trip "
        "count depends on the data, so the backward pass needs a tape of the carries); use "
        "forward mode (jvp, jacfwd), or a loop with a static trip count (fori_loop/scan)")


shape_rules[while_p] = _while_shape
impl_rules[while_p] = _while_impl
jvp_rules[while_p] = _while_jvp
transpose_rules[while_p] = _while_transpose


# ---------------------------------------------------------------------------- scan
scan_p = primitive("scan", multiple_results=True)


def _scan_shape(*operands, body, n_extras, n_carry, length, reverse, tangent_mask=None):
    carry = operands[n_extras:n_extras + n_carry]
    xs = operands[n_extras + n_carry:]
    for x in xs:
        if not x.shape or x.shape[0] != length:
            raise TypeError(f"scan: every xs leaf needs a leading axis of length {length}, got {x.str_short()}")
    outs = [v.aval for v in body.outputs]
    _check_same("scan's carry output and carry input", outs[:n_carry], list(carry))
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
    carry_flags = _carry_flags(body, extra_flags, [t is not None for t in tangents[n_extras:n_extras + n_carry]],
                               x_flags)
    flags = extra_flags + carry_flags + x_flags
    if not any(flags):
        return outs, [None] * len(outs)
    t_body, t_params = tangent_scan(body, flags, **params)
    ts = [instantiate(t, aval_of(x)) for t, x, f in zip(tangents, primals, flags) if f]
    t_outs = bind(scan_p, *t_params["operands"](primals, ts), body=t_body, **t_params["params"])
    n_primal_carry = n_carry
    t_outs = t_outs[n_primal_carry:]  # drop the recomputed primal carry
    carry_ts, ys_ts = t_outs[:sum(carry_flags)], t_outs[sum(carry_flags):]
    it = iter(carry_ts)
    carry_out_ts = [next(it) if f else None for f in carry_flags]
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
    step = _primal_part(body, b_pe + b_pc + b_px, n_pc)
    record = Program(step.inputs, step.eqns, step.outputs + tuple(b_pc))
    carries_before = bind(scan_p, *pe, *pc, *px, body=record, n_extras=len(pe), n_carry=n_pc,
                          length=length, reverse=reverse)[n_pc:]
    # One backward step: primals, then cotangents of the step's tangent outputs.
    tangent_step = _dce(Program(tuple(b_pe + b_pc + b_px) + tuple(sum(b_tangent, [])), body.eqns,
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
    tc_avals = [v.aval for v in b_tc]
    carry_cts = [instantiate(ct, a) for ct, a in zip(cts[n_pc:n_pc + len(b_tc)], tc_avals)]
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


def _primal_part(body: Program, inputs, n_pc):
    """The equations of a tangent body that compute the primal carry, on the given inputs."""
    needed = set(body.outputs[:n_pc])
    keep = []
    for eqn in reversed(body.eqns):
        if any(v in needed for v in eqn.outputs):
            keep.append(eqn)
            needed.update(a for a in eqn.inputs if isinstance(a, Var))
    return Program(tuple(inputs), tuple(reversed(keep)), tuple(body.outputs[:n_pc]))


def _dce(program: Program) -> Program:
    from kiln.passes import dce
    return dce.run(program)


shape_rules[scan_p] = _scan_shape
impl_rules[scan_p] = _scan_impl
jvp_rules[scan_p] = _scan_jvp
transpose_rules[scan_p] = _scan_transpose


# ---------------------------------------------------------------------------- the API (jax.lax)

def _staging() -> bool:
    from kiln.staging import Staged, current_builder
    return current_builder() is not None


def _leaf_avals(leaves):
    from kiln.ad import _aval_of
    return [_aval_of(x, "an operand") for x in leaves]


_NOT_GIVEN = object()


def switch(index, branches, *operands, operand=_NOT_GIVEN):
    """Apply `branches[index]` to the operands (index clamped to the valid range)."""
    from kiln.staging import Staged
    if operand is not _NOT_GIVEN:  # the old `operand=` form; None is a valid operand
        operands = (operand,)
    branches = list(branches)
    if not branches:
        raise ValueError("switch: empty branches sequence")
    if not isinstance(index, Staged):
        i = int(np.clip(int(index), 0, len(branches) - 1))
        return branches[i](*operands)
    import kiln.numpy as knp
    index = knp.clip(knp.asarray(index).astype(np.int32), 0, len(branches) - 1)
    return _switch(index, branches, operands)


def _switch(index, branches, operands):
    """One cond equation; `index` is an int32 scalar already in range."""
    leaves, tree = tree_flatten(tuple(operands))
    avals = _leaf_avals(leaves)
    staged = []
    for k, br in enumerate(branches):
        staged.append(stage_body(lambda *xs, br=br: br(*tree_unflatten(tree, list(xs))), avals, f"branch{k}"))
    out_tree = staged[0][2]
    for k, (_, _, t) in enumerate(staged[1:], start=1):
        if t != out_tree:
            raise TypeError(f"cond/switch branches must return the same structure: branch 0 gives "
                            f"{out_tree}, branch {k} gives {t}")
    programs, all_extras = _share_extras(staged)
    for p in programs[1:]:
        _check_same("cond/switch branches' outputs", _avals(programs[0]), _avals(p))
    outs = bind(cond_p, index, *all_extras, *leaves, branches=tuple(programs))
    return tree_unflatten(out_tree, outs)


def cond(pred, true_fun, false_fun, *operands, operand=_NOT_GIVEN):
    """`true_fun(*operands)` if pred else `false_fun(*operands)`; staged as one cond equation."""
    from kiln.staging import Staged
    if operand is not _NOT_GIVEN:  # the old `operand=` form; None is a valid operand
        operands = (operand,)
    if not isinstance(pred, Staged):
        return true_fun(*operands) if bool(pred) else false_fun(*operands)
    if pred.shape != ():
        raise TypeError(f"cond: pred must be a scalar, got {pred.aval.str_short()}")
    from kiln.lax.elementwise import convert_element_type
    flag = pred if pred.dtype == np.bool_ else pred != 0
    return _switch(convert_element_type(flag, np.int32), (false_fun, true_fun), operands)


def while_loop(cond_fun, body_fun, init_val):
    leaves, tree = tree_flatten(init_val)
    if not _staging():
        val = init_val
        while bool(cond_fun(val)):
            val = body_fun(val)
        return val
    import kiln.numpy as knp
    leaves = [knp.asarray(x) for x in leaves]
    avals = _leaf_avals(leaves)
    cond_prog, cond_extras, _ = stage_body(lambda *xs: cond_fun(tree_unflatten(tree, list(xs))), avals, "cond")
    body_prog, body_extras, body_tree = stage_body(lambda *xs: body_fun(tree_unflatten(tree, list(xs))),
                                                   avals, "body")
    if body_tree != tree:
        raise TypeError(f"while_loop: body_fun must return the carry's structure {tree}, got {body_tree}")
    _check_same("while_loop's carry and body_fun output", avals, _avals(body_prog))
    outs = bind(while_p, *cond_extras, *body_extras, *leaves, cond=cond_prog, body=body_prog,
                n_cond_extras=len(cond_extras), n_body_extras=len(body_extras))
    return tree_unflatten(tree, outs)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
    import kiln.numpy as knp
    carry_leaves, carry_tree = tree_flatten(init)
    x_leaves, x_tree = tree_flatten(xs)
    x_leaves = [knp.asarray(x) for x in x_leaves]
    lengths = {int(knp.shape(x)[0]) for x in x_leaves}
    if length is not None:
        lengths.add(int(length))
    if len(lengths) != 1:
        raise ValueError(f"scan got inconsistent lengths: {sorted(lengths)}" if lengths else
                         "scan needs `length` when xs is None")
    n = lengths.pop()
    carry_leaves = [knp.asarray(c) for c in carry_leaves]
    c_avals = _leaf_avals(carry_leaves)
    x_avals = [ShapedArray(a.shape[1:], a.dtype, a.weak_type) for a in _leaf_avals(x_leaves)]
    y_tree = []

    def step(*flat):
        carry = tree_unflatten(carry_tree, list(flat[:len(c_avals)]))
        x = tree_unflatten(x_tree, list(flat[len(c_avals):]))
        new_carry, y = f(carry, x)
        c_leaves, c_tree = tree_flatten(new_carry)
        if c_tree != carry_tree:
            raise TypeError(f"scan: the body must return a carry of structure {carry_tree}, got {c_tree}")
        y_leaves, t = tree_flatten(y)
        y_tree.append(t)
        return list(c_leaves) + list(y_leaves)

    body, extras, _ = stage_body(step, c_avals + x_avals, "scan_body")
    body_carry = [v.aval for v in body.outputs[:len(c_avals)]]
    # A weakly typed initial carry takes the body's strong type, as in JAX.
    carry_leaves = [x if a.weak_type == b.weak_type or not a.weak_type else knp.asarray(x).astype(b.dtype)
                    for x, a, b in zip(carry_leaves, c_avals, body_carry)]
    c_avals = _leaf_avals(carry_leaves)
    if [a.weak_type for a in c_avals] != [b.weak_type for b in body_carry]:
        body, extras, _ = stage_body(step, c_avals + x_avals, "scan_body")
    _check_same("scan's carry and the body's new carry", c_avals, [v.aval for v in body.outputs[:len(c_avals)]])
    outs = bind(scan_p, *extras, *carry_leaves, *x_leaves, body=body, n_extras=len(extras),
                n_carry=len(carry_leaves), length=n, reverse=bool(reverse))
    carry = tree_unflatten(carry_tree, outs[:len(carry_leaves)])
    ys = tree_unflatten(y_tree[-1], outs[len(carry_leaves):])
    return carry, ys


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """`for i in range(lower, upper): val = body_fun(i, val)`: a scan when the bounds are static
    (differentiable in reverse mode), a while loop otherwise."""
    from kiln.staging import Staged
    if not isinstance(lower, Staged) and not isinstance(upper, Staged):
        lower, upper = int(lower), int(upper)
        if not _staging():
            val = init_val
            for i in range(lower, upper):
                val = body_fun(i, val)
            return val
        import kiln.numpy as knp
        steps = knp.arange(lower, max(upper, lower), dtype=np.int32)
        if steps.shape[0] == 0:
            return init_val
        val, _ = scan(lambda v, i: (body_fun(i, v), None), init_val, steps)
        return val
    import kiln.numpy as knp
    i0 = knp.asarray(lower).astype(np.int32)
    _, val = while_loop(lambda c: c[0] < upper, lambda c: (c[0] + 1, body_fun(c[0], c[1])), (i0, init_val))
    return val


def map(f, xs, *, batch_size=None):
    _, ys = scan(lambda _, x: (None, f(x)), None, xs)
    return ys


# ---------------------------------------------------------------------------- batching
# Bodies are batched by staging a body that runs the batching interpreter on the original
# body; every batched value inside is kept at axis 0.

def batched_body(program: Program, dims, size: int, name: str, force_out=None):
    """`program` on operands batched at `dims` (0 or None): (program, extras, out dims).

    Outputs are batched at 0, or unbatched where nothing batched reaches them (unless
    `force_out[i]` asks for a batched output)."""
    from kiln.passes.vmap import vmap_eval, with_batch
    avals = [ShapedArray((size,) + v.aval.shape, v.aval.dtype, v.aval.weak_type) if d is not None else v.aval
             for v, d in zip(program.inputs, dims)]
    out_dims = []

    def body(*args):
        outs, ods = vmap_eval(program, list(args), list(dims))
        result = []
        for i, (o, d) in enumerate(zip(outs, ods)):
            if d is not None or (force_out is not None and force_out[i]):
                result.append(with_batch(o, d, size))
                out_dims.append(0)
            else:
                result.append(o)
                out_dims.append(None)
        return result

    closed, extras, _ = stage_body(body, avals, name)
    return closed, extras, out_dims


def _front_all(args, dims):
    from kiln.passes.vmap import move_to_front
    return [move_to_front(x, d) for x, d in zip(args, dims)], [None if d is None else 0 for d in dims]


def _cond_batch(args, dims, *, branches, n_tangents=0):
    from kiln.passes.vmap import batch_size, with_batch
    size = batch_size(args, dims)
    args, dims = _front_all(args, dims)
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
            outs.append(bind(_select_n_p(), which, *cases))
        return outs, [0] * n_out
    # Batched operands only: one cond of batched branches (all outputs batched alike).
    staged = [batched_body(br, dims[1:], size, f"branch{k}", force_out=[True] * n_out)
              for k, br in enumerate(branches)]
    programs, all_extras = _share_extras(staged)
    outs = bind(cond_p, index, *all_extras, *ops, branches=tuple(programs), n_tangents=n_tangents)
    return outs, [0] * n_out


def _select_n_p():
    from kiln.lax.elementwise import select_n_p
    return select_n_p


def _share_extras(staged):
    """Give every program all programs' extras (each distinct value once), then its operands."""
    extras, index = [], {}
    for _, own, _ in staged:
        for value in own:
            if id(value) not in index:
                index[id(value)] = len(extras)
                extras.append(value)
    programs = []
    for p, own, _ in staged:
        slots = [Var(aval_of(e)) for e in extras]
        for var, value in zip(p.inputs[:len(own)], own):
            slots[index[id(value)]] = var
        programs.append(Program(tuple(slots) + tuple(p.inputs[len(own):]), p.eqns, p.outputs))
    return programs, extras


def _while_batch(args, dims, *, cond, body, n_cond_extras, n_body_extras):
    from kiln.passes.vmap import batch_size, with_batch, vmap_eval
    size = batch_size(args, dims)
    args, dims = _front_all(args, dims)
    n_extras = n_cond_extras + n_body_extras
    cond_extras, body_extras = args[:n_cond_extras], args[n_cond_extras:n_extras]
    ce_dims, be_dims = dims[:n_cond_extras], dims[n_cond_extras:n_extras]
    # Every carry is batched: lanes finish at different steps.
    carry = [with_batch(x, d, size) for x, d in zip(args[n_extras:], dims[n_extras:])]
    carry_avals = [aval_of(c) for c in carry]

    def batched_pred(c_extras, carry_values):
        (pred,), (d,) = vmap_eval(cond, list(c_extras) + list(carry_values),
                                  list(ce_dims) + [0] * len(carry_values))
        return pred, d

    def new_cond(*vals):
        import kiln.numpy as knp
        pred, d = batched_pred(vals[:n_cond_extras], vals[n_extras:])  # skip the body's extras
        return knp.any(pred) if d is not None else pred

    def new_body(*vals):
        import kiln.numpy as knp
        c_extras = vals[:n_cond_extras]
        b_extras = vals[n_cond_extras:n_extras]
        current = vals[n_extras:]
        outs, ods = vmap_eval(body, list(b_extras) + list(current), list(be_dims) + [0] * len(current))
        outs = [with_batch(o, d, size) for o, d in zip(outs, ods)]
        pred, d = batched_pred(c_extras, current)
        if d is None:
            return outs
        # Lanes that are done keep their carry.
        return [knp.where(knp.reshape(pred, (size,) + (1,) * (len(aval_of(o).shape) - 1)), o, c)
                for o, c in zip(outs, current)]

    extra_avals = [aval_of(x) for x in list(cond_extras) + list(body_extras)]
    cond_prog, c_ex, _ = stage_body(lambda *v: new_cond(*v), extra_avals + carry_avals, "cond")
    body_prog, b_ex, _ = stage_body(lambda *v: new_body(*v), extra_avals + carry_avals, "body")
    # Each program takes its own extras, then (cond extras, body extras, carry), as staged.
    outs = bind(while_p, *c_ex, *cond_extras, *body_extras, *b_ex, *cond_extras, *body_extras, *carry,
                cond=cond_prog, body=body_prog, n_cond_extras=len(c_ex) + n_extras,
                n_body_extras=len(b_ex) + n_extras)
    return outs, [0] * len(outs)


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


from kiln.primitives import vmap_rules as _vmap_rules  # noqa: E402

_vmap_rules[cond_p] = _cond_batch
_vmap_rules[while_p] = _while_batch
_vmap_rules[scan_p] = _scan_batch
