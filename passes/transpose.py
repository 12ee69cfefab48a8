"""Transposition: a linear program -> the program of its transpose (reverse mode).

`transpose_program(linear, n_residuals)` takes the linear part of a JVP (inputs: residuals,
then tangents) and returns a program `(*residuals, *output_cotangents) -> input_cotangents`,
one cotangent per tangent input.

Contract of `transpose_rules[p](cts, *inputs, **params) -> list`: `cts` are the output
cotangents (None for a symbolic zero); an input that is a linear variable arrives as
`UndefinedPrimal(aval)`, the others as their values. The rule returns one cotangent per
input (None where the input is not linear or its cotangent is zero).
"""
from __future__ import annotations

from dataclasses import dataclass

from kiln.ir import Literal, literal_value, Program, ShapedArray, Var
from kiln.passes.jvp import instantiate, rule_for
from kiln.primitives import transpose_rules
from kiln.staging import Builder, located

name = "transpose"


@dataclass(frozen=True)
class UndefinedPrimal:
    aval: ShapedArray


def is_linear(x) -> bool:
    return isinstance(x, UndefinedPrimal)


def transpose_program(linear: Program, n_residuals: int) -> Program:
    with Builder("transpose") as b:
        residuals = [b.new_input(v.aval) for v in linear.inputs[:n_residuals]]
        cts_out = [b.new_input(v.aval) for v in linear.outputs]
        cts_in = backward_pass(linear, residuals, cts_out)
        cts_in = [instantiate(ct, v.aval) for ct, v in zip(cts_in, linear.inputs[n_residuals:])]
    return b.build(cts_in)


def backward_pass(linear: Program, residuals, cts_out):
    known = {}
    for var, value in linear.consts:
        known[var] = value
    known.update(zip(linear.inputs, residuals))
    ct_env: dict[Var, object] = {}

    def add_ct(var, ct):
        if ct is None or isinstance(var, Literal) or var in known:
            return
        prev = ct_env.get(var)
        ct_env[var] = ct if prev is None else prev + ct

    def read(a):
        if isinstance(a, Literal):
            return literal_value(a)
        return known[a] if a in known else UndefinedPrimal(a.aval)

    for var, ct in zip(linear.outputs, cts_out):
        add_ct(var, ct)
    for eqn in reversed(linear.eqns):
        cts = [ct_env.pop(v, None) for v in eqn.outputs]
        if all(ct is None for ct in cts):
            continue
        # Cotangents are summed inside the location too: the adds belong to this user line.
        with located(eqn.loc):
            ct_ins = rule_for(transpose_rules, eqn)(cts if eqn.prim.multiple_results else cts[0],
                                                    *map(read, eqn.inputs), **eqn.params)
            for a, ct in zip(eqn.inputs, ct_ins):
                add_ct(a, ct)
    return [ct_env.get(v) for v in linear.inputs[len(residuals):]]
