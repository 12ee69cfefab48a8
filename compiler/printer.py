"""The IR printer: deterministic text in exactly the format of `jax.make_jaxpr`.

    { lambda a:f32[3]; b:f32[3,4]. let
        c:f32[3,4] = add b 1.0:f32[]
      in (c,) }

Names are given in order of appearance (a, b, ..., z, ba, bb, ...); constants come before
the `;`; params print sorted by name; sub-programs in params print nested. The layout is
JAX's: the program is built as a document of groups and breaks (Lindig's "strictly pretty"
printer, as in `jax._src.pretty_printer`), and a group is printed on one line when it fits
in 80 columns. With `locs=True` each equation is annotated with its user source location,
aligned in a column after the text as JAX aligns `source_info`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from kiln.ir import Literal, Program, Var

_WIDTH = 80


# ---------------------------------------------------------------------- documents

@dataclass(frozen=True, slots=True)
class _Text:
    text: str
    annotation: str | None = None


@dataclass(frozen=True, slots=True)
class _Break:
    text: str = " "  # printed in a flat group; a newline in a broken one


@dataclass(frozen=True, slots=True)
class _Nest:
    n: int
    child: object


@dataclass(frozen=True, slots=True)
class _Group:
    child: object


def _join(sep, docs) -> list:
    out = []
    for i, d in enumerate(docs):
        out += [sep, d] if i else [d]
    return out


def _children(doc):
    """Sub-documents: a list is a concatenation; nests and groups have one child."""
    return doc if isinstance(doc, list) else [doc.child] if isinstance(doc, (_Nest, _Group)) else []


def _fits(doc, width: int) -> bool:
    """Whether `doc` printed flat takes at most `width` columns."""
    agenda = [doc]
    while width >= 0 and agenda:
        d = agenda.pop()
        if isinstance(d, (_Text, _Break)):
            width -= len(d.text)
        else:
            agenda.extend(reversed(_children(d)))
    return width >= 0


def _sparse(doc) -> bool:
    """A group may print flat only if no break separates two of its annotations."""
    agenda, annotations, seen_break = [doc], 0, False
    while agenda:
        d = agenda.pop()
        if isinstance(d, _Text) and d.annotation is not None:
            if annotations and seen_break:
                return False
            annotations += 1
        elif isinstance(d, _Break):
            seen_break = True
        else:
            agenda.extend(reversed(_children(d)))
    return True


def _format(doc, width: int = _WIDTH, annotated: bool = False) -> str:
    lines = []  # (text, annotations)
    text, notes = "", []
    agenda = [(0, False, doc)]  # (indent, flat, doc)
    while agenda:
        indent, flat, d = agenda.pop()
        if isinstance(d, _Text):
            text += d.text
            if d.annotation is not None:
                notes.append(d.annotation)
        elif isinstance(d, _Break):
            if flat:
                text += d.text
            else:
                lines.append((text, notes))
                text, notes = " " * indent, []
        elif isinstance(d, _Nest):
            agenda.append((indent + d.n, flat, d.child))
        elif isinstance(d, _Group):
            fits = (not annotated or _sparse(d)) and _fits(d.child, width - len(text))
            agenda.append((indent, flat or fits, d.child))
        else:
            agenda.extend((indent, flat, c) for c in reversed(d))
    lines.append((text, notes))
    # Annotations line up one column after the longest line, as JAX's do.
    widest = max(len(t) for t, _ in lines)
    out = []
    for t, ns in lines:
        if not ns:
            out.append(t)
        for k, note in enumerate(ns):
            out.append(f"{(t if k == 0 else '').ljust(widest)} # {note}")
    return "\n".join(out)


# ---------------------------------------------------------------------- names

def var_name(i: int) -> str:
    """The i-th name: a, b, ..., z, ba, bb, ... (JAX's sequence)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        s = letters[i % 26] + s
        i //= 26
        if i == 0:
            return s


_name = var_name  # the reference backend names its variables the same way


class Names:
    """Names of variables, given in order of appearance; share one to name several texts alike."""

    def __init__(self):
        self.names: dict[Var, str] = {}

    def __call__(self, v) -> str:
        if isinstance(v, Literal):
            value = np.asarray(v.value)
            text = str(value.item()) if value.shape == () else "[...]"
            return f"{text}:{v.aval.str_short()}"
        name = self.names.get(v)
        if name is None:
            name = self.names[v] = var_name(len(self.names))
        return name


# ---------------------------------------------------------------------- programs

def _vars(vs, names, shapes=False, sep="") -> _Nest:
    docs = [_Text(names(v) + (f":{v.aval.str_short()}" if shapes else "")) for v in vs]
    return _Nest(2, _Group(_join([_Text(sep), _Group(_Break())], docs)))


def _param_text(name: str, value) -> str:
    if name == "dimension_numbers" and isinstance(value, tuple):
        # Contracting/batch axes print as lists, as JAX prints dot_general's.
        return str(tuple(tuple(list(axes) for axes in pair) for pair in value))
    if isinstance(value, np.dtype):
        return value.name
    if isinstance(value, type) and issubclass(value, np.generic):
        return np.dtype(value).name
    # Addresses differ from run to run; JAX masks them so the text is deterministic.
    return re.sub(r" at 0x([0-9a-fA-F]+)", lambda m: " at 0x" + "X" * len(m.group(1)), str(value))


def _param(name, value, names, locs):
    if isinstance(value, Program):
        doc = _program(value, names, locs)
    elif isinstance(value, tuple) and value and all(isinstance(p, Program) for p in value):
        inner = _join(_Break(), [_program(p, names, locs) for p in value])
        doc = _Group([_Nest(2, [_Text("("), _Break(""), *inner]), _Break(""), _Text(")")])
    else:
        doc = _Text(_param_text(name, value))
    return [_Text(f"{name}="), doc]


def _eqn(eqn, names, locs):
    note = None
    if locs and eqn.loc is not None:
        loc = eqn.loc
        note = f"{loc.file}:{loc.line}:{loc.col}" + (f" ({loc.function})" if loc.function else "")
    # Built in JAX's order, which fixes the names: outputs, then params' sub-programs.
    lhs = _vars(eqn.outputs, names, shapes=True)
    rhs = [_Text(eqn.prim.name)]
    if eqn.params:
        pairs = [_param(k, eqn.params[k], names, locs) for k in sorted(eqn.params)]
        rhs.append(_Group([_Nest(2, [_Text("["), _Break(""), *_join(_Break(), pairs)]),
                           _Break(""), _Text("]")]))
    rhs += [_Text(" "), _vars(eqn.inputs, names)]
    return [lhs, _Text(" = ", note), *rhs] if eqn.outputs else rhs


def _program(program: Program, names: Names, locs: bool):
    consts = _vars([v for v, _ in program.consts], names, shapes=True)
    inputs = _vars(program.inputs, names, shapes=True)
    eqns = _join(_Break("; "), [_eqn(e, names, locs) for e in program.eqns])
    n = len(program.outputs)
    outs = [_Text("("), _vars(program.outputs, names, sep=","), _Text(")" if n != 1 else ",)")]
    return [_Group(_Nest(2, [_Text("{ lambda "), consts, _Text("; "), inputs, _Text(". let"),
                             _Nest(2, [_Break(), *eqns]), _Break(), _Text("in "), *outs])),
            _Text(" }")]


def pp_program(program: Program, locs: bool = False, names: Names | None = None) -> str:
    """`program` as `jax.make_jaxpr` prints; `locs=True` adds each equation's source location."""
    return _format(_program(program, Names() if names is None else names, locs), annotated=locs)


def pp_eqn(eqn, names: Names | None = None) -> str:
    """One equation as it prints inside a program."""
    return _format(_eqn(eqn, Names() if names is None else names, False))
