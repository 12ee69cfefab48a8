"""The verifier: SSA form and types of a program, and of every program nested in it.

Checks that every variable is defined once before it is used, that each equation's outputs
have the types its primitive's shape rule gives for its inputs, and that outputs are
defined. Runs after the frontend and, in tests, after every pass.
"""
from __future__ import annotations

from kiln.errors import format_location
from kiln.ir import Literal, Program, sub_programs
from kiln.primitives import shape_rules

name = "verify"


class VerificationError(AssertionError):
    pass


def verify(program: Program, after: str = "the frontend") -> None:
    _check(program, after, set())


def run(program: Program) -> Program:
    verify(program)
    return program


def _fail(after, message, eqn=None):
    where = f"\n  at {format_location(eqn.loc)}" if eqn is not None and eqn.loc else ""
    raise VerificationError(f"kiln: invalid IR after {after}: {message}{where}")


def _check(program: Program, after: str, outer: set) -> None:
    defined = set()

    def define(v, eqn=None):
        if v in defined:
            _fail(after, f"variable {v} is defined twice", eqn)
        defined.add(v)

    for v, value in program.consts:
        define(v)
        if tuple(value.shape) != v.aval.shape or value.dtype != v.aval.dtype:
            _fail(after, f"constant of shape {value.shape} {value.dtype} bound to {v.aval.str_short()}")
    for v in program.inputs:
        define(v)
    for eqn in program.eqns:
        for a in eqn.inputs:
            if not isinstance(a, Literal) and a not in defined:
                _fail(after, f"{eqn.prim} uses a variable before it is defined", eqn)
        for sub in sub_programs(eqn):
            _check(sub, after, set())
        try:
            expected = shape_rules[eqn.prim](*(a.aval for a in eqn.inputs), **eqn.params)
        except (TypeError, ValueError) as e:
            _fail(after, f"{eqn.prim} has ill-typed operands: {e}", eqn)
        got = [v.aval for v in eqn.outputs]
        if list(expected) != got:
            _fail(after, f"{eqn.prim} outputs {got} but its shape rule gives {list(expected)}", eqn)
        for v in eqn.outputs:
            define(v, eqn)
    for v in program.outputs:
        if not isinstance(v, Literal) and v not in defined:
            _fail(after, "an output of the program is not defined")
