"""Finding a function's source: the parsed file and the libcst node that defines it.

Whole files are parsed (and cached by file name and text), so every node keeps its true
line and column in the user's file. A function is found by name and first line; a lambda
by its line and the column of its body.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import io
import linecache
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from kiln.errors import CompileError
from kiln.ir import Loc


@dataclass(frozen=True)
class ParsedFile:
    filename: str
    text: str
    digest: str
    module: cst.Module
    positions: dict  # node -> CodeRange
    # function/lambda node -> name of the innermost enclosing class: Python mangles the
    # `__private` names of code written inside a class with it.
    classes: dict

    @functools.cached_property
    def definitions(self) -> dict:
        """line -> the defs (by `def` or first decorator line) and lambdas that start on it."""
        index: dict[int, list] = {}
        for node, rng in self.positions.items():
            if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                lines = {rng.start.line}
                if isinstance(node, cst.FunctionDef) and node.decorators:
                    lines.add(self.positions[node.decorators[0]].start.line)
                for line in lines:
                    index.setdefault(line, []).append(node)
        return index

    @functools.cached_property
    def lines(self) -> list[str]:
        # Split as Python and libcst count lines (not str.splitlines, which also splits at \f).
        return io.StringIO(self.text, newline="").readlines()


@dataclass(frozen=True)
class FunctionSource:
    file: ParsedFile
    node: cst.FunctionDef | cst.Lambda

    def position(self, node) -> CodeRange:
        return self.file.positions[node]

    @property
    def class_name(self) -> str | None:
        return self.file.classes.get(self.node)

    def loc(self, node) -> Loc:
        start = self.file.positions[node].start
        return Loc(self.file.filename, start.line, start.column)


def _parse(filename: str, text: str) -> ParsedFile:
    digest = hashlib.sha1(text.encode()).hexdigest()
    return _parse_cached(filename, text, digest)


@functools.lru_cache(maxsize=128)
def _parse_cached(filename: str, text: str, digest: str) -> ParsedFile:
    wrapper = MetadataWrapper(cst.parse_module(text), unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    classes = _EnclosingClasses()
    wrapper.module.visit(classes)
    return ParsedFile(filename, text, digest, wrapper.module, dict(positions), classes.found)


class _EnclosingClasses(cst.CSTVisitor):
    """Records, for every def and lambda inside a class, the innermost class's name."""

    def __init__(self):
        super().__init__()
        self.found: dict = {}
        self._stack: list[str] = []

    def visit_ClassDef(self, node):
        self._stack.append(node.name.value)

    def leave_ClassDef(self, node):
        self._stack.pop()

    def visit_FunctionDef(self, node):
        if self._stack:
            self.found[node] = self._stack[-1]

    def visit_Lambda(self, node):
        if self._stack:
            self.found[node] = self._stack[-1]


def no_source_error(fn, why: str) -> CompileError:
    name = getattr(fn, "__qualname__", repr(fn))
    return CompileError(
        f"kiln reads a function's source, but the source of {name} cannot be retrieved ({why}). "
        "Functions defined in a REPL, with exec() or eval(), or in a file that no longer "
        "exists cannot be compiled; define the function in a .py file or notebook cell.")


def function_source(fn) -> FunctionSource:
    code = fn.__code__
    filename = code.co_filename
    linecache.checkcache(filename)
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        raise no_source_error(fn, f"no source text for file {filename!r}")
    parsed = _parse(filename, "".join(lines))
    node = _find_lambda(parsed, code) if code.co_name == "<lambda>" else _find_def(parsed, code)
    if node is None:
        raise no_source_error(fn, f"no definition of {code.co_name} at {filename}:{code.co_firstlineno}; "
                                  "was the file edited after it was imported?")
    return FunctionSource(parsed, node)


def _find_def(parsed: ParsedFile, code) -> cst.FunctionDef | None:
    # co_firstlineno is the first decorator's line (or the `def` line).
    return next((n for n in parsed.definitions.get(code.co_firstlineno, ())
                 if isinstance(n, cst.FunctionDef) and n.name.value == code.co_name), None)


def _find_lambda(parsed: ParsedFile, code) -> cst.Lambda | None:
    candidates = [n for n in parsed.definitions.get(code.co_firstlineno, ()) if isinstance(n, cst.Lambda)]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    body_pos = next(((l, c) for l, _, c, _ in code.co_positions() if l is not None and c), None)
    for node in candidates:
        rng = parsed.positions[node.body]
        if body_pos and (rng.start.line, rng.start.column) <= body_pos <= (rng.end.line, rng.end.column):
            return node
    return None


def user_function(fn):
    """The plain Python function behind `fn` (unwrapping kiln wrappers), or a TypeError."""
    if not inspect.isfunction(fn):
        raise TypeError(f"kiln can only compile Python functions, not {type(fn).__name__} {fn!r}")
    return fn
