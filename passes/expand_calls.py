"""Inline call primitives (custom_jvp_call, custom_vjp_call, checkpoint_call, ...).

They exist so that differentiation can see a function's custom rule; backends only need the
body. Each call primitive registers an expansion in `kiln.custom_derivatives.expand_rules`.
"""
from __future__ import annotations

from kiln.ir import Literal, Program, literal_value, sub_programs
from kiln.primitives import bind
from kiln.staging import Builder, located

name = "expand-calls"


def _has_calls(program: Program, expand_rules) -> bool:
    return any(eqn.prim in expand_rules or any(_has_calls(p, expand_rules) for p in sub_programs(eqn))
               for eqn in program.eqns)


def _expanded_params(params: dict) -> dict:
    """Sub-programs (branches, loop bodies) expanded too: backends only see bodies."""
    out = {}
    for key, value in params.items():
        if isinstance(value, Program):
            value = run(value)
        elif isinstance(value, tuple) and value and all(isinstance(p, Program) for p in value):
            value = tuple(run(p) for p in value)
        out[key] = value
    return out


def run(program: Program) -> Program:
    from kiln.custom_derivatives import expand_rules
    if not _has_calls(program, expand_rules):
        return program
    with Builder("expand") as b:
        env = {v: b.new_input(v.aval) for v in program.inputs}
        env.update(program.consts)

        def read(a):
            return literal_value(a) if isinstance(a, Literal) else env[a]

        for eqn in program.eqns:
            ins = [read(a) for a in eqn.inputs]
            with located(eqn.loc):
                if eqn.prim in expand_rules:
                    outs = expand_rules[eqn.prim](*ins, **eqn.params)
                else:
                    outs = bind(eqn.prim, *ins, **_expanded_params(eqn.params))
                    outs = outs if eqn.prim.multiple_results else [outs]
            env.update(zip(eqn.outputs, outs))
        result = b.build([read(v) for v in program.outputs])
    return run(result)  # the inlined bodies may hold calls of their own
