"""Evaluating a program by binding its equations again: `inline(program, args)`.

With no builder active this runs the program eagerly (each primitive's NumPy
implementation); while staging it copies the equations into the current builder, keeping
their original source locations. Every transform in passes/ is an interpreter of this shape:
an environment from variables to values, `read` and `write`.
"""
from __future__ import annotations

from kiln.ir import Literal, literal_value, Program
from kiln.primitives import bind
from kiln.staging import located


def inline(program: Program, args) -> list:
    env = {}

    def read(atom):
        return literal_value(atom) if isinstance(atom, Literal) else env[atom]

    for var, value in program.consts:
        env[var] = value
    if len(args) != len(program.inputs):
        raise TypeError(f"kiln: program takes {len(program.inputs)} inputs, got {len(args)}")
    env.update(zip(program.inputs, args))
    for eqn in program.eqns:
        with located(eqn.loc):
            outs = bind(eqn.prim, *map(read, eqn.inputs), **eqn.params)
        env.update(zip(eqn.outputs, outs if eqn.prim.multiple_results else [outs]))
    return [read(v) for v in program.outputs]
