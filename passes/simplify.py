"""Algebraic simplification: drop equations that compute nothing new.

Rewrites `x * 1`, `1 * x`, `x + 0`, `0 + x`, `x - 0`, `x / 1`, `--x`, and casts, reshapes,
transposes and broadcasts to what the value already is. A transpose that swaps the free
dimensions of a contraction used nowhere else becomes the contraction with its operands swapped
(vmap of `dot(matrix, x)` yields one), which writes the result in place of a copy. (stop_gradient stays: a program may
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


def _swapped_contraction(eqn, inputs, defs, uses):
    """`transpose(dot_general(a, b))` as `dot_general(b, a)`, where the permutation puts the rhs
    free dimensions before the lhs ones and the contraction has no other use; else None."""
    dot = defs.get(inputs[0])
    if dot is None or dot.prim.name != "dot_general" or uses[inputs[0]] != 1:
        return None
    lhs, rhs = dot.inputs
    (lc, rc), (lb, rb) = dot.params["dimension_numbers"]
    n_batch = len(lb)
    n_lhs_free = lhs.aval.ndim - len(lc) - n_batch
    n_rhs_free = rhs.aval.ndim - len(rc) - n_batch
    batch = list(range(n_batch))
    lhs_free = list(range(n_batch, n_batch + n_lhs_free))
    rhs_free = list(range(n_batch + n_lhs_free, n_batch + n_lhs_free + n_rhs_free))
    if list(eqn.params["permutation"]) != batch + rhs_free + lhs_free or not lhs_free or not rhs_free:
        return None
    params = dict(dot.params, dimension_numbers=((rc, lc), (rb, lb)))
    return replace(dot, inputs=(rhs, lhs), params=params, outputs=eqn.outputs)


def run(program: Program) -> Program:
    subst, constants, defs, eqns = {}, {}, {}, []
    uses: dict = {}
    for eqn in program.eqns:
        for a in eqn.inputs:
            if not isinstance(a, Literal):
                uses[a] = uses.get(a, 0) + 1
    for a in program.outputs:
        if not isinstance(a, Literal):
            uses[a] = uses.get(a, 0) + 1
    for eqn in program.eqns:
        inputs = tuple(a if isinstance(a, Literal) else subst.get(a, a) for a in eqn.inputs)
        if eqn.prim.name == "transpose":
            swapped = _swapped_contraction(eqn, inputs, defs, uses)
            if swapped is not None:
                defs[eqn.outputs[0]] = swapped
                eqns.append(swapped)  # the contraction it replaces is left to dead-code elimination
                continue
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
