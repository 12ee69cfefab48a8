"""Forward-mode differentiation: a program -> the program of its Jacobian-vector product.

`jvp_program(p, has_tangent)` returns a program taking `(*primals, *tangents)` — one tangent
per input flagged in `has_tangent` — and returning `(*primal_outs, *tangent_outs)`.

Contract of `jvp_rules[p](primals, tangents, **params) -> (primal_outs, tangent_outs)`: lists
of values; a tangent is `None` when it is a symbolic zero (rules may return None too). Rules
are written with kiln.lax / kiln.numpy, so they emit IR while this pass stages, and the
tangent part they emit is linear in the tangents (the reverse pass relies on that).
"""
from __future__ import annotations

import numpy as np

from kiln.errors import format_location
from kiln.ir import Eqn, Literal, literal_value, Program, ShapedArray
from kiln.primitives import MissingRuleError, bind, jvp_rules
from kiln.staging import Builder, located

name = "jvp"


def rule_for(table, eqn: Eqn):
    """`table[eqn.prim]`; a missing rule's error also names the user's line that needs it."""
    try:
        return table[eqn.prim]
    except MissingRuleError as e:
        raise MissingRuleError(f"{e}; it is needed to differentiate {format_location(eqn.loc)}") from None


def tangent_aval(aval: ShapedArray) -> ShapedArray:
    return aval


def zeros(aval: ShapedArray):
    from kiln import lax
    zero = lax.convert_element_type(np.zeros((), aval.dtype), aval.dtype, aval.weak_type)
    return lax.broadcast_in_dim(zero, aval.shape, ()) if aval.shape else zero


def instantiate(t, aval: ShapedArray):
    return zeros(aval) if t is None else t


def jvp_eval(program: Program, primals, tangents):
    """Evaluate `program` on primal values and (possibly None) tangents, emitting as it goes."""
    env, tenv = {}, {}

    def read(a):
        return literal_value(a) if isinstance(a, Literal) else env[a]

    def read_t(a):
        return None if isinstance(a, Literal) else tenv.get(a)

    for var, value in program.consts:
        env[var] = value
    env.update(zip(program.inputs, primals))
    tenv.update((v, t) for v, t in zip(program.inputs, tangents) if t is not None)
    for eqn in program.eqns:
        ins, ts = [read(a) for a in eqn.inputs], [read_t(a) for a in eqn.inputs]
        with located(eqn.loc):
            if all(t is None for t in ts):
                outs = bind(eqn.prim, *ins, **eqn.params)
                outs, touts = (outs if eqn.prim.multiple_results else [outs]), []
            else:
                outs, touts = rule_for(jvp_rules, eqn)(ins, ts, **eqn.params)
        env.update(zip(eqn.outputs, outs))
        tenv.update((v, t) for v, t in zip(eqn.outputs, touts) if t is not None)
    return [read(v) for v in program.outputs], [read_t(v) for v in program.outputs]


def jvp_program(program: Program, has_tangent) -> Program:
    with Builder("jvp") as b:
        primals = [b.new_input(v.aval) for v in program.inputs]
        tangents = [b.new_input(tangent_aval(v.aval)) if flag else None
                    for v, flag in zip(program.inputs, has_tangent)]
        outs, touts = jvp_eval(program, primals, tangents)
        touts = [instantiate(t, v.aval) for t, v in zip(touts, program.outputs)]
    return b.build(list(outs) + touts)
