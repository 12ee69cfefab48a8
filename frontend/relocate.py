"""Compiling rewritten code so that it reports the user's original positions.

The rewritten function is generated as text by libcst, then parsed by `ast` and every `ast`
node is given the position of the original node it stands for before `compile()`. The code
objects therefore carry the user's file name, lines and columns: tracebacks, frames and
kiln's equation locations all point at the user's source, not at generated text.
"""
from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


def compile_relocated(module: cst.Module, origins: dict, filename: str, fallback):
    """Compile `module`, moving each node to its origin.

    `origins`: id(node in `module`) -> (node, CodeRange in the user's file). Nodes without
    an origin inherit their parent's; `fallback` (a CodeRange) is used at the top.
    """
    generated = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    by_range = {}
    for key, (node, origin) in origins.items():
        rng = generated.get(node)
        if rng is not None:
            by_range.setdefault(_key(rng.start.line, rng.start.column, rng.end.line, rng.end.column), origin)

    text = module.code
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text, filename=filename)
    _relocate(tree, fallback, by_range, lines)
    return compile(tree, filename, "exec", dont_inherit=True)


def _key(l0, c0, l1, c1):
    return (l0, c0, l1, c1)


def _char_col(lines, lineno, byte_col):
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    return len(line.encode()[:byte_col].decode(errors="ignore"))


def _relocate(node, parent_origin, by_range, lines):
    origin = parent_origin
    if hasattr(node, "lineno") and node.lineno is not None:
        key = _key(node.lineno, _char_col(lines, node.lineno, node.col_offset),
                   node.end_lineno, _char_col(lines, node.end_lineno, node.end_col_offset))
        origin = by_range.get(key, parent_origin)
        node.lineno, node.col_offset = origin.start.line, origin.start.column
        node.end_lineno, node.end_col_offset = origin.end.line, origin.end.column
    for child in ast.iter_child_nodes(node):
        _relocate(child, origin, by_range, lines)
