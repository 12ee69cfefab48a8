"""Converting a Python function: source -> rewritten source -> a new function object.

`convert(fn)` returns a function with `fn`'s globals, closure cells and defaults whose code
is the rewritten source, compiled with the user's positions. Conversions are cached by the
code object and the text of its file, so editing a helper (and re-running its definition) is
noticed. Every code object produced, nested defs and lambdas included, is remembered, so
calls to them from converted code are not converted again.
"""
from __future__ import annotations

import types

import libcst as cst
from libcst.metadata import CodeRange

from kiln.frontend.relocate import compile_relocated
from kiln.frontend.rewrite import KILN, Rewriter
from kiln.frontend.source import function_source
from kiln.frontend.unsupported import check_supported

FACTORY = "__kiln_factory__"
_cache: dict = {}  # fn.__code__ -> (file digest, converted code)
converted_codes: set = set()


def is_converted(fn) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and code in converted_codes


def convert(fn):
    """The converted version of the plain Python function `fn`."""
    if is_converted(fn):
        return fn
    source = function_source(fn)
    entry = _cache.get(fn.__code__)
    if entry is None or entry[0] != source.file.digest:
        check_supported(source, fn.__globals__)
        entry = _cache[fn.__code__] = (source.file.digest, _compile(fn, source))
    code = entry[1]
    cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    from kiln.frontend import operators
    cells[KILN] = types.CellType(operators)
    closure = tuple(cells[name] for name in code.co_freevars)
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, closure)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__qualname__ = fn.__qualname__
    new.__module__ = fn.__module__
    new.__doc__ = fn.__doc__
    new.__wrapped__ = fn
    return new


def converted_source(fn) -> str:
    """The rewritten source of `fn`, as text (for kiln.show and debugging)."""
    source = function_source(fn)
    module, _ = _factory_module(fn, source)
    return module.code_for_node(module.body[0].body.body[0])


def _factory_module(fn, source):
    """`def __kiln_factory__(__kiln__, <free vars>): <rewritten fn>; return <fn>`."""
    rewriter = Rewriter(source.file.positions)
    node = source.node.visit(rewriter)
    if isinstance(node, cst.FunctionDef):
        definition, name = node.with_changes(decorators=[], leading_lines=[]), node.name.value
    else:  # a lambda becomes an assignment
        name = "__kiln_lambda__"
        definition = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], node)])
    params = [cst.Param(cst.Name(p)) for p in (KILN, *fn.__code__.co_freevars)]
    factory = cst.FunctionDef(
        name=cst.Name(FACTORY),
        params=cst.Parameters(params),
        body=cst.IndentedBlock([definition, cst.SimpleStatementLine([cst.Return(cst.Name(name))])]),
    )
    return cst.Module([factory]), rewriter.origins


def _compile(fn, source) -> types.CodeType:
    module, origins = _factory_module(fn, source)
    fallback: CodeRange = source.position(source.node)
    module_code = compile_relocated(module, origins, source.file.filename, fallback)
    factory_code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    code = next(c for c in factory_code.co_consts
                if isinstance(c, types.CodeType) and c.co_name == fn.__code__.co_name)
    _remember(code)
    return code


def _remember(code: types.CodeType) -> None:
    converted_codes.add(code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _remember(const)
