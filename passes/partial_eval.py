"""Partial evaluation: split a JVP program into its primal part and its linear part.

Given a program whose last `n_tangents` inputs are tangents, every equation that depends on a
tangent is *linear*; the rest is *known*. `split_linear` returns

- `known(*primals) -> (*primal_outs, *residuals)`: the known equations;
- `linear(*residuals, *tangents) -> tangent_outs`: the linear equations, reading the known
  values they need (residuals) as inputs.

`linearize` is the pair; transposing `linear` gives reverse mode.
"""
from __future__ import annotations

from dataclasses import dataclass

from kiln.ir import Literal, Program, Var

name = "partial-eval"


@dataclass(frozen=True)
class Split:
    known: Program
    linear: Program
    n_residuals: int


def split_linear(program: Program, n_primal_outs: int, n_tangents: int) -> Split:
    n_primals = len(program.inputs) - n_tangents
    linear_vars = set(program.inputs[n_primals:])
    known_eqns, linear_eqns = [], []
    for eqn in program.eqns:
        if any(isinstance(a, Var) and a in linear_vars for a in eqn.inputs):
            linear_eqns.append(eqn)
            linear_vars.update(eqn.outputs)
        else:
            known_eqns.append(eqn)

    const_vars = {v for v, _ in program.consts}
    residuals: list[Var] = []
    seen = set()

    def need(atom):
        if isinstance(atom, Var) and atom not in linear_vars and atom not in const_vars and atom not in seen:
            seen.add(atom)
            residuals.append(atom)

    for eqn in linear_eqns:
        for a in eqn.inputs:
            need(a)
    tangent_outs = program.outputs[n_primal_outs:]
    for a in tangent_outs:
        need(a)

    primal_outs = program.outputs[:n_primal_outs]
    for out in primal_outs:
        if isinstance(out, Var) and out in linear_vars:
            eqn = next(e for e in linear_eqns if out in e.outputs)
            where = f" (staged at {eqn.loc})" if eqn.loc else ""
            raise NotImplementedError(
                f"kiln: reverse-mode differentiation through `{eqn.prim}`{where} is not supported: its primal "
                "results depend on tangents (its jvp rule must emit the primal computation separately, as "
                "cond, scan and while do); use forward mode (jvp, jacfwd)")
    known = Program(program.inputs[:n_primals], tuple(known_eqns), tuple(primal_outs) + tuple(residuals),
                    program.consts)
    linear = Program(tuple(residuals) + tuple(program.inputs[n_primals:]), tuple(linear_eqns),
                     tuple(tangent_outs), program.consts)
    return Split(known, linear, len(residuals))
