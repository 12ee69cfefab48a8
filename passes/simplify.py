"""Algebraic simplification: drop equations that compute nothing new.

Rewrites `x * 1`, `1 * x`, `x + 0`, `0 + x`, `x - 0`, `x / 1`, `--x`, and casts, reshapes,
transposes and broadcasts to what the value already is. (stop_gradient stays: a program may
still be differentiated again.) A constant is a literal or a
broadcast of one (reverse mode seeds cotangents that way). A rewrite happens only when the
replacement has exactly the equation's output type, so weak types and dtypes are kept.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from kiln.ir import Literal, Program

name = "simplify"


def _constant(atom, constants):
    if isinstance(atom, Literal):
        return np.asarray(atom.value).item()
    return constants.get(atom)


def _replacement(eqn, inputs, constants, defs):
    prim, params = eqn.prim.name, eqn.params
    if prim == "mul":
        x, y = inputs
        if _constant(y, constants) == 1:
            return x
        if _constant(x, constants) == 1:
            return y
    elif prim == "add":
        x, y = inputs
        if _constant(y, constants) == 0:
            return x
        if _constant(x, constants) == 0:
            return y
    elif prim in ("sub",):
        if _constant(inputs[1], constants) == 0:
            return inputs[0]
    elif prim == "div":
        if _constant(inputs[1], constants) == 1:
            return inputs[0]
    elif prim == "neg":
        inner = defs.get(inputs[0])
        if inner is not None and inner.prim.name == "neg":
            return inner.inputs[0]
    elif prim in ("convert_element_type", "reshape", "broadcast_in_dim"):
        return inputs[0]  # kept only if the types match, checked by the caller
    elif prim == "transpose":
        if tuple(params["permutation"]) == tuple(range(len(params["permutation"]))):
            return inputs[0]
    elif prim == "integer_pow":
        if params["y"] == 1:
            return inputs[0]
    elif prim == "reduce_sum":
        if not params["axes"]:
            return inputs[0]
    return None


def run(program: Program) -> Program:
    subst, constants, defs, eqns = {}, {}, {}, []
    for eqn in program.eqns:
        inputs = tuple(a if isinstance(a, Literal) else subst.get(a, a) for a in eqn.inputs)
        if len(eqn.outputs) == 1:
            out = eqn.outputs[0]
            new = _replacement(eqn, inputs, constants, defs)
            if new is not None and new.aval == out.aval:
                subst[out] = new
                continue
            if eqn.prim.name in ("broadcast_in_dim", "reshape") and isinstance(inputs[0], Literal):
                constants[out] = np.asarray(inputs[0].value).item()
        new_eqn = replace(eqn, inputs=inputs) if inputs != eqn.inputs else eqn
        for v in eqn.outputs:
            defs[v] = new_eqn
        eqns.append(new_eqn)
    outputs = tuple(v if isinstance(v, Literal) else subst.get(v, v) for v in program.outputs)
    return replace(program, eqns=tuple(eqns), outputs=outputs)
