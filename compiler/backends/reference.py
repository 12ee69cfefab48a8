"""The reference backend: IR -> readable Python/NumPy source, built with libcst.

Each equation becomes one call of its primitive's NumPy implementation (`impl_rules`), named
after the primitive, with params as keyword arguments; comments name the user's lines. The
text is what `kiln.show` returns, and executing it is the oracle every other backend is
tested against: `exec(kiln.show(f, *args), namespace(program))` defines the function, called
with `constants(program)` and then the inputs.

    def f(a, b):
        # demo.py:7: return jnp.dot(x + 1, y + 1)
        c = add(a, np.float32(1.0))
        ...
        return (e,)
"""
from __future__ import annotations

import functools
import keyword
import linecache
import math

import libcst as cst
import numpy as np

from kiln.ir import Literal, Program, short_dtype, sub_programs
from kiln.primitives import MissingRuleError, impl_rules, registry
from kiln.printer import _name


def py_name(prim_name: str) -> str:
    return prim_name + "_" if keyword.iskeyword(prim_name) else prim_name


def _number(value) -> cst.BaseExpression:
    if isinstance(value, (bool, np.bool_)):
        return cst.Name(str(bool(value)))
    if isinstance(value, (int, np.integer)):
        node = cst.Integer(str(abs(int(value))))
        return cst.UnaryOperation(cst.Minus(), node) if value < 0 else node
    if isinstance(value, (complex, np.complexfloating)):
        return cst.Call(cst.Name("complex"), [cst.Arg(_number(value.real)), cst.Arg(_number(value.imag))])
    value = float(value)
    if math.isnan(value):
        return cst.Attribute(cst.Name("np"), cst.Name("nan"))
    if math.isinf(value):
        inf = cst.Attribute(cst.Name("np"), cst.Name("inf"))
        return cst.UnaryOperation(cst.Minus(), inf) if value < 0 else inf
    node = cst.Float(repr(abs(value)))
    return cst.UnaryOperation(cst.Minus(), node) if value < 0 or math.copysign(1, value) < 0 else node


def _np_attr(name: str) -> cst.Attribute:
    return cst.Attribute(cst.Name("np"), cst.Name(name))


def value_expr(value) -> cst.BaseExpression:
    """A Python expression for a param value."""
    if value is None:
        return cst.Name("None")
    if isinstance(value, np.dtype):
        return _np_attr(value.name)
    if isinstance(value, type) and issubclass(value, np.generic):
        return _np_attr(np.dtype(value).name)
    if isinstance(value, str):
        return cst.SimpleString(repr(value))
    if isinstance(value, tuple):
        elements = [cst.Element(value_expr(v)) for v in value]
        if len(elements) == 1:
            elements = [cst.Element(elements[0].value, comma=cst.Comma())]
        return cst.Tuple(elements)
    if isinstance(value, np.floating) and np.isfinite(value):
        # The shortest text that reads back as the same value of this width.
        text = np.format_float_positional(abs(value), unique=True, trim="0") if abs(value) >= 1e-4 or value == 0 \
            else np.format_float_scientific(abs(value), unique=True, trim="0")
        node = cst.Float(text if ("." in text or "e" in text) else text + ".0")
        sign = cst.UnaryOperation(cst.Minus(), node) if np.signbit(value) else node
        return cst.Call(_np_attr(value.dtype.name), [cst.Arg(sign)])
    if isinstance(value, np.generic):
        return cst.Call(_np_attr(value.dtype.name), [cst.Arg(_number(value.item()))])
    if isinstance(value, (bool, int, float, complex, np.bool_)):
        return _number(value)
    raise TypeError(f"kiln reference backend: cannot write parameter value {value!r}")


class _Emitter:
    def __init__(self, program: Program, fn_name: str):
        self.program = program
        self.fn_name = fn_name
        self.names = {}

    def name(self, v) -> cst.BaseExpression:
        if isinstance(v, Literal):
            return value_expr(np.asarray(v.value, dtype=v.aval.dtype)[()])
        if v not in self.names:
            self.names[v] = _variable_name(len(self.names))
        return cst.Name(self.names[v])

    def function(self) -> cst.FunctionDef:
        p = self.program
        params = [cst.Param(self.name(v)) for v, _ in p.consts] + [cst.Param(self.name(v)) for v in p.inputs]
        body, last_line = [], None
        for eqn in p.eqns:
            stmts = self.equation(eqn)
            line = (eqn.loc.file, eqn.loc.line) if eqn.loc else None
            if line is not None and line != last_line:
                comment = [cst.EmptyLine(comment=cst.Comment(_comment(eqn.loc)))]
                stmts[0] = stmts[0].with_changes(leading_lines=comment)
                last_line = line
            body.extend(stmts)
        outs = [cst.Element(self.name(v)) for v in p.outputs]
        if len(outs) == 1:
            outs = [cst.Element(outs[0].value, comma=cst.Comma())]
        body.append(cst.SimpleStatementLine([cst.Return(cst.Tuple(outs))]))
        if p.consts:  # say what the constant parameters hold: they are not in the text
            notes = [cst.EmptyLine(comment=cst.Comment(_const_comment(self.names[v], value)))
                     for v, value in p.consts]
            body[0] = body[0].with_changes(leading_lines=notes + list(body[0].leading_lines))
        return cst.FunctionDef(cst.Name(self.fn_name), cst.Parameters(params), cst.IndentedBlock(body))

    def equation(self, eqn) -> list:
        """The statements for one equation: nested defs for its sub-programs, then the call."""
        args = [cst.Arg(self.name(a)) for a in eqn.inputs]
        defs = []
        for key, value in eqn.params.items():
            if isinstance(value, Program) or (isinstance(value, tuple) and value
                                              and all(isinstance(v, Program) for v in value)):
                fns = [self.nested(key, v) for v in (value if isinstance(value, tuple) else (value,))]
                defs.extend(fns)
                names = [cst.Element(f.name) for f in fns]
                expr = fns[0].name if isinstance(value, Program) else cst.Tuple(
                    names if len(names) > 1 else [cst.Element(names[0].value, comma=cst.Comma())])
            else:
                expr = value_expr(value)
            args.append(cst.Arg(expr, keyword=cst.Name(key),
                                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        call = cst.Call(cst.Name(py_name(eqn.prim.name)), args)
        outs = [self.name(v) for v in eqn.outputs]
        if eqn.prim.multiple_results:
            target = cst.Tuple([cst.Element(o) for o in outs]) if outs else cst.Name("_")
        else:
            target = outs[0]
        return defs + [cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], call)])]

    def nested(self, key: str, program: Program) -> cst.FunctionDef:
        """A sub-program as a nested function (its own scope, so its own names)."""
        self.nested_count = getattr(self, "nested_count", 0) + 1
        if program.consts:
            raise TypeError("kiln reference backend: sub-programs take their constants as operands")
        return _Emitter(program, f"{key}_{self.nested_count}").function()


def _const_comment(name: str, value) -> str:
    value = np.asarray(value)
    shape = ",".join(map(str, value.shape))
    text = np.array2string(value, threshold=8, edgeitems=2, max_line_width=10**6).replace("\n", "")
    return f"# {name}: constant {short_dtype(value.dtype)}[{shape}] = {text}"


def _comment(loc) -> str:
    text = linecache.getline(loc.file, loc.line).strip()
    short = loc.file.rsplit("/", 1)[-1]
    return f"# {short}:{loc.line}: {text}" if text else f"# {short}:{loc.line}"


def _variable_name(i: int) -> str:
    """The printer's name for the i-th value, kept clear of keywords (`if`) and of the names the
    generated code calls (`exp`, `np`): a variable must never shadow a function."""
    name = _name(i)
    taken = keyword.iskeyword(name) or name in registry or name in ("np", "complex")
    return name + "_v" if taken else name  # generated names have no "_", so this is unique


def _function_name(name: str) -> str:
    """The generated function's name, kept clear of the primitives' names it calls."""
    return name + "_fn" if name in registry or keyword.iskeyword(name) or name == "np" else name


def python_source(program: Program, fn_name: str = "f") -> str:
    """The readable Python source of `program` (consts first, then inputs, as parameters)."""
    module = cst.Module([_Emitter(program, _function_name(fn_name)).function()])
    return module.code


def _primitives(program: Program, found: dict) -> dict:
    for eqn in program.eqns:
        found.setdefault(eqn.prim.name, eqn.prim)
        for sub in sub_programs(eqn):
            _primitives(sub, found)
    return found


def namespace(program: Program) -> dict:
    """The globals the source of `program` runs in: `np` and the NumPy implementation of each
    primitive it uses. A primitive without one raises MissingRuleError, naming it."""
    ns = {"np": np}
    for name, prim in _primitives(program, {}).items():
        impl = impl_rules[prim]  # MissingRuleError: "primitive 'p' has no reference implementation rule"
        ns[py_name(name)] = impl if prim.multiple_results else _single(impl)
    return ns


def constants(program: Program) -> list:
    """The values of the constant parameters, which come first: `fn(*constants(p), *inputs)`."""
    return [value for _, value in program.consts]


def _single(impl):
    @functools.wraps(impl)
    def call(*args, **params):
        return impl(*args, **params)[0]
    return call


def compile_program(program: Program, fn_name: str = "f"):
    """A Python callable running `program` on NumPy arrays: `fn(*inputs) -> tuple`."""
    source = python_source(program, fn_name)
    try:
        globals_ = namespace(program)
    except MissingRuleError as e:
        # make_ir and show compile too, and must still work: fail when the program is run.
        error = e

        def missing(*inputs):
            raise MissingRuleError(str(error))
        missing.source = source
        return missing
    exec(compile(source, f"<kiln reference: {fn_name}>", "exec"), globals_)
    fn = globals_[_function_name(fn_name)]
    consts = constants(program)

    def run(*inputs):
        with np.errstate(all="ignore"):
            return fn(*consts, *inputs)

    run.source = source
    return run
