"""Converting a Python function: source -> rewritten source -> a new function object.

`convert(fn)` returns a function with `fn`'s globals, closure cells and defaults whose code
is the rewritten source, compiled with the user's positions. Conversions are cached by code
object (and file name: code objects compare by content, not by file). Editing a helper and
re-running its definition (reload, exec) makes a new code object, so it is noticed; a file
edited but not re-run keeps the code that is actually running, and a conversion whose text
no longer matches that code is refused. Every code object produced, nested defs and lambdas
included, is remembered, so calls to them from converted code are not converted again.

`recording_files()` collects the files whose functions are converted while it is active: the
driver stamps them so a compiled function notices when a helper's file is rewritten.
"""
from __future__ import annotations

import contextlib
import inspect
import collections
import types

import libcst as cst
from libcst.metadata import CodeRange

from kiln.frontend.relocate import compile_relocated
from kiln.frontend.returns import lower_returns
from kiln.frontend.rewrite import KILN, Rewriter
from kiln.frontend.source import function_source, no_source_error
from kiln.frontend.unsupported import check_supported

FACTORY = "__kiln_factory__"
LAMBDA = "__kiln_lambda__"
_cache: dict = {}  # (code, file name) -> converted code
converted_codes: set = set()
_recording: list[set] = []


def is_converted(fn) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and code in converted_codes


@contextlib.contextmanager
def recording_files():
    """Yields a set that receives the file of every function converted meanwhile."""
    files: set = set()
    _recording.append(files)
    try:
        yield files
    finally:
        popped = _recording.pop()
        assert popped is files


def convert(fn):
    """The converted version of the plain Python function `fn`."""
    if is_converted(fn):
        return fn
    original = fn.__code__
    for files in _recording:
        files.add(original.co_filename)
    key = (original, original.co_filename)
    code = _cache.get(key)
    if code is None:
        source = function_source(fn)
        check_supported(source, fn)
        code = _compile(fn, source)
        _check_matches(fn, code)
        _remember(code)
        code = _cache[key] = code
    cells = dict(zip(original.co_freevars, fn.__closure__ or ()))
    from kiln.frontend import operators
    cells[KILN] = types.CellType(operators)
    closure = tuple(cells[name] for name in code.co_freevars)
    new = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, closure)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__qualname__ = fn.__qualname__
    new.__module__ = fn.__module__
    new.__doc__ = fn.__doc__
    new.__dict__.update(fn.__dict__)
    new.__wrapped__ = fn
    return new


def converted_source(fn) -> str:
    """The rewritten source of `fn`, as text (for kiln.show and debugging)."""
    source = function_source(fn)
    module, _ = _factory_module(fn, source)
    return module.code_for_node(_definition_of(module))


def _definition_of(module: cst.Module):
    body = module.body[0].body.body[0]
    return body.body.body[0] if isinstance(body, cst.ClassDef) else body


def _factory_module(fn, source):
    """`def __kiln_factory__(__kiln__, <free vars>): <rewritten fn>`.

    The free variables are parameters of the factory so the compiler makes them cells of
    the rewritten function. A method is placed in a class of its own class's name, so its
    `__private` names are mangled as Python mangled the original.
    """
    original = source.node
    # Nodes the rewrite of early returns makes take the positions of the ones they stand for.
    positions = collections.ChainMap({}, source.file.positions)
    lowered, return_lines = lower_returns(original, positions)
    rewriter = Rewriter(positions, _local_names(fn, positions), return_lines)
    node = lowered.visit(rewriter)
    if isinstance(node, cst.FunctionDef):
        definition = node.with_changes(decorators=[], leading_lines=[])
    else:  # a lambda becomes an assignment, parenthesized: its body may continue on lines that start
        # further left than it (`f = jit(lambda x: x +` / `1)`), which only brackets allow
        node = node.with_changes(lpar=[cst.LeftParen(), *node.lpar], rpar=[*node.rpar, cst.RightParen()])
        definition = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(LAMBDA))], node)])
    if source.class_name is not None:
        definition = cst.ClassDef(cst.Name(source.class_name), cst.IndentedBlock([definition]))
    params = [cst.Param(cst.Name(p)) for p in (KILN, *fn.__code__.co_freevars)]
    factory = cst.FunctionDef(
        name=cst.Name(FACTORY), params=cst.Parameters(params), body=cst.IndentedBlock([definition]))
    return cst.Module([factory]), rewriter.origins


def _local_names(fn, positions):
    """def node -> the names local to it, read from the code objects Python compiled."""
    codes = {}

    def walk(code):
        codes.setdefault((code.co_name, code.co_firstlineno), frozenset(code.co_varnames + code.co_cellvars))
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                walk(const)
    walk(fn.__code__)

    def lookup(node):
        first = [node.decorators[0]] if node.decorators else []
        for n in (node, *first):
            rng = positions.get(n)  # None for a def the rewrite made
            names = codes.get((node.name.value, rng.start.line)) if rng is not None else None
            if names is not None:
                return names
        return None
    return lookup


def _compile(fn, source) -> types.CodeType:
    module, origins = _factory_module(fn, source)
    fallback: CodeRange = source.position(source.node)
    module_code = compile_relocated(module, origins, source.file.filename, fallback, source.file.lines)
    code = _find_code(module_code, fn.__code__.co_name, depth=3)
    assert code is not None, f"kiln: no code object for {fn.__qualname__} in its rewrite"
    return _rename_generated(code, code.co_name)


def _rename_generated(code: types.CodeType, owner: str) -> types.CodeType:
    """Branch and loop bodies the rewrite generated (`__kiln_true_1`, ...) take the name of the
    user's function they came from, so tracebacks and error locations name the user's code."""
    consts = tuple(_rename_generated(c, owner if c.co_name.startswith("__kiln_") else c.co_name)
                   if isinstance(c, types.CodeType) else c for c in code.co_consts)
    name = owner if code.co_name.startswith("__kiln_") else code.co_name
    return code.replace(co_consts=consts, co_name=name)


def _find_code(code: types.CodeType, name: str, depth: int) -> types.CodeType | None:
    """The code object called `name` among the nested constants of `code` (breadth first)."""
    children = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    for child in children:
        if child.co_name == name:
            return child
    if depth > 1:
        for child in children:
            found = _find_code(child, name, depth - 1)
            if found is not None:
                return found
    return None


def _check_matches(fn, code: types.CodeType) -> None:
    """Refuse a conversion made from text that is not the code that runs (a stale file).

    Only the signature and the closure are compared: the bodies may differ legitimately
    (pytest, for one, rewrites `assert` statements in test files).
    """
    original = fn.__code__
    nargs = original.co_argcount + original.co_kwonlyargcount + \
        bool(original.co_flags & inspect.CO_VARARGS) + bool(original.co_flags & inspect.CO_VARKEYWORDS)
    same = (original.co_argcount == code.co_argcount
            and original.co_posonlyargcount == code.co_posonlyargcount
            and original.co_kwonlyargcount == code.co_kwonlyargcount
            and original.co_varnames[:nargs] == code.co_varnames[:nargs]
            and set(code.co_freevars) - {KILN} <= set(original.co_freevars))
    if not same:
        raise no_source_error(fn, f"{original.co_filename} was edited after {fn.__qualname__} was "
                                  "defined; reload the module or re-run the definition")


def _remember(code: types.CodeType) -> None:
    converted_codes.add(code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _remember(const)
