"""kiln's user-facing errors, each pointing at the user's source."""
from __future__ import annotations

import linecache

from kiln.ir import Loc


def format_location(loc: Loc | None) -> str:
    """`file:line:col`, the source line and a caret under the column."""
    if loc is None:
        return "<unknown location>"
    text = linecache.getline(loc.file, loc.line).rstrip("\n")
    where = str(loc) + (f" (in {loc.function})" if loc.function else "")
    if not text:
        return where
    stripped = text.lstrip()
    caret_col = max(loc.col - (len(text) - len(stripped)), 0)
    return f"{where}\n    {stripped}\n    {' ' * caret_col}^"


class CompileError(Exception):
    """A construct kiln cannot compile, with every offending place listed.

    `problems` is a list of (message, Loc) pairs; the exception text shows each with its
    `file:line:col`, the source line and a caret.
    """

    def __init__(self, message: str, loc: Loc | None = None, problems=None):
        self.problems = list(problems) if problems else [(message, loc)]
        self.message = message
        super().__init__(self._text())

    def _text(self) -> str:
        if len(self.problems) == 1:
            msg, loc = self.problems[0]
            return f"{msg}\nat {format_location(loc)}" if loc else msg
        lines = [self.message]
        for msg, loc in self.problems:
            lines.append(f"\n{format_location(loc)}\n{msg}")
        return "\n".join(lines)

    @property
    def loc(self) -> Loc | None:
        return self.problems[0][1]


class ConcretizationTypeError(CompileError, TypeError):
    """Python needed a concrete value where kiln only has an array value being compiled."""


class TracerBoolConversionError(ConcretizationTypeError):
    """bool() of an array value being compiled (an `if`, `while`, `and`, `or`, `not`)."""


class TracerIntegerConversionError(ConcretizationTypeError):
    """int() or __index__ of an array value being compiled."""


class TracerArrayConversionError(CompileError, TypeError):
    """A NumPy function was called on an array value being compiled."""


class NonConcreteBooleanIndexError(IndexError):
    """Boolean-mask indexing of a value being compiled: the result's shape depends on data."""


class DynamicDimsWarning(UserWarning):
    """A function declared with `dynamic_dims` is compiled for each size after all (the
    message says why); its results are unchanged."""
