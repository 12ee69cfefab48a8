"""The IR printer: deterministic text in the format of `jax.make_jaxpr`.

    { lambda c:f32[3]; a:f32[3,4] b:f32[4]. let
        d:f32[3,4] = add a 1.0:f32[]
      in (d,) }

Names are given in order of appearance (a, b, ..., z, ba, bb, ...); constants come before
the `;`. Sub-programs in params print nested and indented. With `locs=True` each equation
ends with its user source location.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import Literal, Program, Var, short_dtype

_WIDTH = 80


def _name(i: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        s = letters[i % 26] + s
        i //= 26
        if i == 0:
            return s


class _Names:
    def __init__(self):
        self.names: dict[Var, str] = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            return f"{_literal(v.value)}:{v.aval.str_short()}"
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = _name(len(self.names))
        return name

    def binder(self, v: Var) -> str:
        return f"{self(v)}:{v.aval.str_short()}"


def _literal(value) -> str:
    value = np.asarray(value)[()]
    if isinstance(value, np.floating):
        return str(value) if np.isfinite(value) else repr(float(value))
    return repr(value.item())


def _param(name, value, names, indent) -> str:
    if isinstance(value, Program):
        return _program(value, names, indent + 2).lstrip()
    if isinstance(value, tuple) and value and all(isinstance(v, Program) for v in value):
        return "(\n" + "\n".join(" " * (indent + 2) + _program(p, names, indent + 2).lstrip()
                                 for p in value) + "\n" + " " * indent + ")"
    if name == "dimension_numbers":
        return repr(_lists(value))
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    return repr(value)


def _lists(value):
    """dimension_numbers print with the innermost tuples as lists, as JAX prints them."""
    return tuple(tuple(list(axes) for axes in pair) for pair in value)


def _eqn(eqn, names, indent, locs) -> str:
    outs = " ".join(names.binder(v) for v in eqn.outputs)
    ins = " ".join(names(a) for a in eqn.inputs)
    params = [(k, v) for k, v in eqn.params.items()]
    loc = f"  # {eqn.loc}" if locs and eqn.loc is not None else ""
    pad = " " * indent
    if not params:
        return f"{pad}{outs} = {eqn.prim.name} {ins}".rstrip() + loc
    rendered = [f"{k}={_param(k, v, names, indent + 2)}" for k, v in params]
    one_line = f"{pad}{outs} = {eqn.prim.name}[{' '.join(rendered)}] {ins}".rstrip()
    if len(one_line) <= _WIDTH and "\n" not in one_line:
        return one_line + loc
    body = "\n".join(f"{pad}  {r}" for r in rendered)
    return f"{pad}{outs} = {eqn.prim.name}[\n{body}\n{pad}] {ins}".rstrip() + loc


def _program(program: Program, names: _Names, indent: int, locs: bool = False) -> str:
    pad = " " * indent
    consts = " ".join(names.binder(v) for v, _ in program.consts)
    inputs = " ".join(names.binder(v) for v in program.inputs)
    lines = [f"{pad}{{ lambda {consts}; {inputs}. let"]
    lines += [_eqn(e, names, indent + 4, locs) for e in program.eqns]
    outs = ", ".join(names(v) for v in program.outputs)
    lines.append(f"{pad}  in ({outs}{',' if len(program.outputs) == 1 else ''}) }}")
    return "\n".join(lines)


def pp_program(program: Program, locs: bool = False) -> str:
    return _program(program, _Names(), 0, locs)
