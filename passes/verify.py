"""The verifier: SSA form and types of a program, and of every program nested in it.

Checks that every value is an atom (a `Var` or a scalar `Literal` of its type), that every
variable is defined once before it is used, that each equation's outputs have the types its
primitive's shape rule gives for its inputs, and that the program's outputs are defined.
Runs after staging and after every pass (`run_passes`), so a pass that breaks the IR is
caught where it happens. A failure names the variables as `pp_program` prints them and shows
the program, since it is a bug in kiln, not in the user's code.
"""
from __future__ import annotations

import numpy as np

from kiln.errors import format_location
from kiln.ir import Eqn, Literal, Program, ShapedArray, Var, sub_programs
from kiln.primitives import MissingRuleError, Primitive, shape_rules
from kiln.printer import Names, pp_eqn, pp_program

name = "verify"

_MAX_LINES = 60  # of the program shown in a failure


class VerificationError(AssertionError):
    pass


def verify(program: Program, after: str = "the frontend") -> None:
    """Raise VerificationError if `program` is not well-formed SSA with consistent types."""
    _Checker(program, after).check(program)


def run(program: Program) -> Program:
    verify(program)
    return program


class _Checker:
    def __init__(self, root: Program, after: str):
        self.root, self.after = root, after

    def fail(self, message: str, *values, eqn: Eqn | None = None):
        """Raise with `{}` in `message` replaced by the names of `values`, as printed."""
        names = Names()
        try:
            text = pp_program(self.root, names=names).splitlines()
            if len(text) > _MAX_LINES:
                text = text[:_MAX_LINES] + [f"... ({len(text) - _MAX_LINES} more lines)"]
            shown = "\n".join(text)
        except Exception as e:  # the program may be too broken to print
            shown = f"<the program cannot be printed: {type(e).__name__}: {e}>"
        label = [self._label(v, names) for v in values]
        lines = [f"kiln: invalid IR after {self.after}: {message.format(*label)}"]
        if eqn is not None:
            try:
                lines.append(f"  in the equation: {pp_eqn(eqn, names)}")
            except Exception:
                lines.append(f"  in an equation of {eqn.prim}")
            if eqn.loc is not None:
                lines.append(f"  staged at {format_location(eqn.loc)}")
        lines.append("program:\n" + shown)
        raise VerificationError("\n".join(lines))

    @staticmethod
    def _label(v, names: Names) -> str:
        if isinstance(v, (Var, Literal)):
            return f"{names(v)}:{v.aval.str_short()}" if isinstance(v, Var) else names(v)
        return f"{v!r}"

    def atom(self, a, what: str, eqn=None) -> None:
        if isinstance(a, Var):
            if not isinstance(a.aval, ShapedArray):
                self.fail(f"{what} has no ShapedArray aval: {{}}", a, eqn=eqn)
            return
        if not isinstance(a, Literal):
            self.fail(f"{what} is a {type(a).__name__} ({{}}), not a Var or Literal", a, eqn=eqn)
        value = np.asarray(a.value)
        if a.aval.shape != () or value.shape != ():
            self.fail(f"{what} is a non-scalar Literal {{}}; arrays are constants", a, eqn=eqn)
        if value.dtype != a.aval.dtype:
            self.fail(f"{what} is a Literal {{}} holding a {value.dtype} value", a, eqn=eqn)

    def check(self, program: Program) -> None:
        defined: set = set()

        def define(v, what, eqn=None):
            if not isinstance(v, Var):
                self.fail(f"{what} is a {type(v).__name__} ({{}}), not a Var", v, eqn=eqn)
            if v in defined:
                self.fail(f"variable {{}} is defined twice (again as {what})", v, eqn=eqn)
            defined.add(v)

        for i, (v, value) in enumerate(program.consts):
            define(v, f"constant {i}")
            value = np.asarray(value)
            if tuple(value.shape) != v.aval.shape or value.dtype != v.aval.dtype:
                self.fail(f"constant {{}} is bound to a value of type {value.dtype}{list(value.shape)}", v)
        for i, v in enumerate(program.inputs):
            define(v, f"input {i}")
        for eqn in program.eqns:
            self.equation(eqn, defined)
            for i, v in enumerate(eqn.outputs):
                define(v, f"output {i} of {eqn.prim}", eqn)
        for i, a in enumerate(program.outputs):
            self.atom(a, f"output {i} of the program")
            if isinstance(a, Var) and a not in defined:
                self.fail(f"output {i} of the program, {{}}, is not defined", a)

    def equation(self, eqn: Eqn, defined: set) -> None:
        if not isinstance(eqn.prim, Primitive):
            self.fail(f"an equation's primitive is {eqn.prim!r}, not a Primitive", eqn=eqn)
        for i, a in enumerate(eqn.inputs):
            self.atom(a, f"operand {i} of {eqn.prim}", eqn)
            if isinstance(a, Var) and a not in defined:
                self.fail(f"{eqn.prim} uses {{}} (operand {i}) before it is defined", a, eqn=eqn)
        for sub in sub_programs(eqn):
            self.check(sub)  # a nested program sees only its own inputs: captures are inputs
        try:
            expected = list(shape_rules[eqn.prim](*(a.aval for a in eqn.inputs), **eqn.params))
        except MissingRuleError as e:
            self.fail(f"{e}", eqn=eqn)
        except (TypeError, ValueError) as e:
            self.fail(f"{eqn.prim} has ill-typed operands: {e}", eqn=eqn)
        got = [v.aval if isinstance(v, Var) else v for v in eqn.outputs]
        if len(expected) != len(got):
            self.fail(f"{eqn.prim} has {len(got)} outputs but its shape rule gives {len(expected)}", eqn=eqn)
        for i, (v, want) in enumerate(zip(eqn.outputs, expected)):
            if isinstance(v, Var) and v.aval != want:
                weak = lambda a: a.str_short() + (" (weak)" if a.weak_type else "")
                self.fail(f"output {i} of {eqn.prim}, {{}}, is declared {weak(v.aval)} but its shape "
                          f"rule gives {weak(want)}", v, eqn=eqn)
