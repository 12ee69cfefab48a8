"""Dead-code elimination: drop equations none of whose outputs are used.

An equation is live if an output of the program or of a live equation depends on it, or if
its primitive is effectful (a debug callback). Unused constants are dropped too.
"""
from __future__ import annotations

from dataclasses import replace

from kiln.ir import Literal, Program
from kiln.primitives import effectful

name = "dce"


def run(program: Program) -> Program:
    live = {v for v in program.outputs if not isinstance(v, Literal)}
    kept = []
    for eqn in reversed(program.eqns):
        if eqn.prim in effectful or any(v in live for v in eqn.outputs):
            kept.append(eqn)
            live.update(a for a in eqn.inputs if not isinstance(a, Literal))
    consts = tuple((v, c) for v, c in program.consts if v in live)
    return replace(program, eqns=tuple(reversed(kept)), consts=consts)
