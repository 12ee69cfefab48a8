"""Sub-programs of the control-flow primitives: staging them, and the pieces their rules share.

A sub-program takes its closed-over values first (constants and captured outer values, hoisted
into explicit operands by `stage_body`), so it never has constants of its own.
"""
from __future__ import annotations

import numpy as np

from kiln.interpret import inline
from kiln.ir import Program, ShapedArray, Var
from kiln.primitives import aval_of
from kiln.runtime.pytree import tree_flatten
from kiln.staging import Builder

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
        return lambda *args: [to_numpy(v) for v in inline(body, list(args))]
    return body


def to_numpy(v):
    return v._value if hasattr(v, "_value") else np.asarray(v)


def program_avals(program: Program, outputs=True):
    return [v.aval for v in (program.outputs if outputs else program.inputs)]


def check_same(what, avals_a, avals_b):
    if [a.strip_weak() for a in avals_a] != [b.strip_weak() for b in avals_b]:
        raise TypeError(f"{what} must have the same types; got "
                        f"{[a.str_short() for a in avals_a]} and {[b.str_short() for b in avals_b]}")


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


def carry_flags(body: Program, extra_flags, initial, x_flags=()):
    """Which carries have tangents: those that start with one or get one from the body
    (a fixed point: a carry that gains a tangent can give one to another)."""
    from kiln.passes.jvp import jvp_program
    flags = list(initial)
    n_out = len(body.outputs)
    n_extras = len(extra_flags)
    # integers carry no tangent, whatever the body does with them
    inexact = [np.issubdtype(v.aval.dtype, np.inexact) for v in body.inputs[n_extras:n_extras + len(flags)]]
    while True:
        jp = jvp_program(body, list(extra_flags) + flags + list(x_flags))
        gets = [f and not is_zero_output(jp, n_out + i) for i, f in enumerate(inexact)]
        new = [a or b for a, b in zip(flags, gets)]
        if new == flags:
            return flags
        flags = new


def is_zero_output(program: Program, i: int) -> bool:
    """Whether output i of a jvp program is an instantiated symbolic zero (no tangent)."""
    from kiln.ir import Literal
    out = program.outputs[i]
    if isinstance(out, Literal):
        return True
    producer = next((e for e in program.eqns if out in e.outputs), None)
    return (producer is not None and producer.prim.name in ("broadcast_in_dim", "convert_element_type")
            and all(isinstance(a, Literal) for a in producer.inputs))


def primal_part(body: Program, inputs, outputs) -> Program:
    """The equations of a tangent body that compute `outputs` (its primal outputs), on `inputs`."""
    needed = set(outputs)
    keep = []
    for eqn in reversed(body.eqns):
        if any(v in needed for v in eqn.outputs):
            keep.append(eqn)
            needed.update(a for a in eqn.inputs if isinstance(a, Var))
    return Program(tuple(inputs), tuple(reversed(keep)), tuple(outputs))


def dce(program: Program) -> Program:
    from kiln.passes import dce as dce_pass
    return dce_pass.run(program)


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


def front_all(args, dims):
    from kiln.passes.vmap import move_to_front
    return [move_to_front(x, d) for x, d in zip(args, dims)], [None if d is None else 0 for d in dims]


def select_n_prim():
    from kiln.lax.elementwise import select_n_p
    return select_n_p


def share_extras(staged):
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
