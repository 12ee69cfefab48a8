"""Constructs kiln cannot compile, all found in one pass so the user sees every one at once.

`print` is allowed: as in JAX, it runs once, while the function is being staged, and shows
staged values as `JitTracer<float32[3]>`.
"""
from __future__ import annotations

import builtins
import types

import libcst as cst

from kiln.errors import CompileError
from kiln.ir import Loc

_IO_BUILTINS = {
    "open": "file I/O (open) cannot run inside a compiled function",
    "input": "reading input (input) cannot run inside a compiled function",
}


class UnsupportedFinder(cst.CSTVisitor):
    def __init__(self, source, fn):
        super().__init__()
        self.source = source
        self.globals = fn.__globals__
        # Every name bound in the function or its nested scopes: such a name is not the builtin.
        self.local_names = _bound_names(fn.__code__)
        self.problems: list[tuple[str, Loc]] = []

    def _flag(self, node, message: str) -> None:
        self.problems.append((message, self.source.loc(node)))

    def visit_Try(self, node):
        self._flag(node, "try blocks (try/except/finally) are not supported in a compiled function: "
                         "array computations do not raise exceptions; compute a mask and use "
                         "kiln.numpy.where")

    def visit_TryStar(self, node):
        self._flag(node, "try/except* is not supported in a compiled function")

    def visit_With(self, node):
        self._flag(node, "`with` blocks are not supported in a compiled function "
                         "(context managers have side effects that compiled code cannot repeat)")

    def visit_Yield(self, node):
        self._flag(node, "generators (yield) are not supported in a compiled function")

    def visit_Await(self, node):
        self._flag(node, "await is not supported in a compiled function")

    def visit_FunctionDef(self, node):
        if node.asynchronous is not None:
            self._flag(node, "async functions are not supported by kiln")

    def visit_For(self, node):
        if node.asynchronous is not None:
            self._flag(node, "async for is not supported by kiln")

    def visit_Global(self, node):
        self._flag(node, "`global` (writing a module variable) is not supported in a compiled "
                         "function: compiled functions must be pure; return the new value instead")

    def visit_Nonlocal(self, node):
        self._flag(node, "`nonlocal` (writing an enclosing function's variable) is not supported in "
                         "a compiled function: return the new value instead")

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, cst.Name) and func.value in _IO_BUILTINS and self._is_builtin(func.value):
            self._flag(node, f"I/O is not supported in a compiled function: {_IO_BUILTINS[func.value]}")

    def _is_builtin(self, name: str) -> bool:
        return name not in self.local_names and name not in self.globals and hasattr(builtins, name)


def _bound_names(code: types.CodeType) -> set[str]:
    names = set(code.co_varnames) | set(code.co_cellvars) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _bound_names(const)
    return names


def check_supported(source, fn) -> None:
    """Raise CompileError listing every unsupported construct in the function `fn`."""
    finder = UnsupportedFinder(source, fn)
    source.node.visit(finder)
    if finder.problems:
        problems = sorted(finder.problems, key=lambda p: (p[1].line, p[1].col))
        name = getattr(source.node, "name", None)
        what = f"function {name.value!r}" if name is not None else "lambda"
        raise CompileError(
            f"kiln cannot compile {what}: {len(problems)} unsupported construct"
            f"{'s' if len(problems) > 1 else ''}:", problems=problems)
