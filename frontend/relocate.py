"""Compiling rewritten code so that it reports the user's original positions.

The rewritten function is generated as text by libcst, then parsed by `ast` and every `ast`
node is given the position of the original node it stands for before `compile()`. The code
objects therefore carry the user's file name, lines and columns: tracebacks, frames and
kiln's equation locations all point at the user's source, not at generated text. Columns
are stored as CPython stores them, as UTF-8 byte offsets into the user's line (libcst counts
characters; the two differ on lines with non-ASCII names such as `σ`).
"""
from __future__ import annotations

import ast

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


def compile_relocated(module: cst.Module, origins: dict, filename: str, fallback, user_lines):
    """Compile `module`, moving each node to its origin.

    `origins`: id(node in `module`) -> (node, CodeRange in the user's file). Nodes without
    an origin inherit their parent's; `fallback` (a CodeRange) is used at the top.
    `user_lines`: the lines of the user's file, to turn columns into byte offsets.
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
    _relocate(tree, fallback, by_range, lines, user_lines)
    return compile(tree, filename, "exec", dont_inherit=True)


def _key(l0, c0, l1, c1):
    return (l0, c0, l1, c1)


def _line(lines, lineno) -> str:
    return lines[lineno - 1] if 0 < lineno <= len(lines) else ""


def _char_col(lines, lineno, byte_col):
    line = _line(lines, lineno)
    return len(line.encode()[:byte_col].decode(errors="ignore")) if not line.isascii() else byte_col


def _byte_col(lines, lineno, char_col):
    line = _line(lines, lineno)
    return len(line[:char_col].encode()) if not line.isascii() else char_col


def _relocate(node, parent_origin, by_range, lines, user_lines):
    origin = parent_origin
    if hasattr(node, "lineno") and node.lineno is not None:
        key = _key(node.lineno, _char_col(lines, node.lineno, node.col_offset),
                   node.end_lineno, _char_col(lines, node.end_lineno, node.end_col_offset))
        exact = by_range.get(key)
        origin = exact if exact is not None else parent_origin
        start, end = origin.start, origin.end
        node.lineno, node.col_offset = start.line, _byte_col(user_lines, start.line, start.column)
        if exact is None and end.line != start.line:
            # Code the rewrite generated for a statement of several lines (`__kiln__.for_stmt(...)`
            # for a loop) stays on its first line: CPython puts a method call on the line where
            # its range ends, which would name the loop's last line.
            first_line = _line(user_lines, start.line).rstrip("\r\n")
            node.end_lineno, node.end_col_offset = start.line, len(first_line.encode())
        else:
            node.end_lineno, node.end_col_offset = end.line, _byte_col(user_lines, end.line, end.column)
    for child in ast.iter_child_nodes(node):
        _relocate(child, origin, by_range, lines, user_lines)
