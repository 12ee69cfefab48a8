"""Common-subexpression elimination: an equation that repeats an earlier one is dropped.

Two equations are the same when they apply the same primitive, with equal params, to the same
inputs (the same variables, or literals of equal value and type). kiln's primitives are pure,
so the second one's outputs can be replaced by the first one's.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from kiln.ir import Eqn, Literal, Program
from kiln.primitives import effectful

name = "cse"


def _atom_key(atom):
    if isinstance(atom, Literal):
        return ("lit", np.asarray(atom.value).item(), atom.aval)
    return ("var", id(atom))


def _key(eqn: Eqn, subst):
    if eqn.prim in effectful:  # two prints print twice
        return None
    try:
        params = tuple(sorted(eqn.params.items()))
        key = (eqn.prim, tuple(_atom_key(subst.get(a, a)) for a in eqn.inputs), params)
        hash(key)
        return key
    except TypeError:  # unhashable params: leave the equation alone
        return None


def run(program: Program) -> Program:
    subst, seen, eqns = {}, {}, []
    for eqn in program.eqns:
        inputs = tuple(subst.get(a, a) if not isinstance(a, Literal) else a for a in eqn.inputs)
        key = _key(eqn, subst)
        if key is not None and key in seen:
            subst.update(zip(eqn.outputs, seen[key].outputs))
            continue
        new = replace(eqn, inputs=inputs) if inputs != eqn.inputs else eqn
        if key is not None:
            seen[key] = new
        eqns.append(new)
    outputs = tuple(subst.get(v, v) if not isinstance(v, Literal) else v for v in program.outputs)
    return replace(program, eqns=tuple(eqns), outputs=outputs)
