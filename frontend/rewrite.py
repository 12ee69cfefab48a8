"""The source rewrite: user code in, code that stages kiln IR out.

Two rewrites, both libcst transformers over the function's own node:

- calls: `f(a, b=c)` becomes `__kiln__.call(f, a, b=c)`, so helpers are converted recursively
  when the rewritten function runs;
- indexed writes: `x[i] = v` becomes `x = __kiln__.at(x)[i].set(v)` (and `x[i] += v` becomes
  `x = __kiln__.at(x)[i].augmented('+=', v)`): a functional update on arrays, the ordinary
  Python write on lists and dicts. Only writes into a *local* variable are rewritten (rebinding
  a global or a closure variable would change what the name means); `obj.attr[i] = v` and
  writes into outer names stay ordinary Python, so arrays there raise "immutable".

Every node the transformers produce remembers the original node it came from
(`Rewriter.origins`), which is how the compiled code keeps the user's positions.
"""
from __future__ import annotations

import libcst as cst
from libcst.metadata import CodeRange

from kiln.frontend.control_flow import KILN, ControlFlowRewriter, kiln_attr as _kiln_attr


class Rewriter(ControlFlowRewriter, cst.CSTTransformer):
    def __init__(self, positions: dict, local_names=lambda node: None, return_lines=None):
        super().__init__()
        self.positions = positions  # original node -> CodeRange
        # def node -> the lines of its `return`s (for errors); a stack: one entry per enclosing def
        self._return_lines, self._def_returns = return_lines or {}, [()]
        # def node -> the names local to it (None: unknown, every name is taken as local)
        self._local_names = local_names
        self._scopes: list = []
        # id(new node) -> (new node, CodeRange of the original it stands for); the node is
        # kept so its id is not reused.
        self.origins: dict[int, tuple[cst.CSTNode, CodeRange]] = {}
        self._temps = 0

    # Every node left by the transformer inherits the original's position unless a more
    # specific leave_* method already recorded one.
    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        pos = self.positions.get(original_node)
        if pos is not None:
            for node in result.nodes if isinstance(result, cst.FlattenSentinel) else (result,):
                if isinstance(node, cst.CSTNode) and id(node) not in self.origins:
                    self.origins[id(node)] = (node, pos)
        return result

    def visit_FunctionDef(self, node) -> None:
        self._scopes.append(self._local_names(node))
        self._def_returns.append(self._return_lines.get(node, ()))

    def leave_FunctionDef(self, original_node, updated_node):
        self._scopes.pop()
        self._def_returns.pop()
        return updated_node

    @property
    def return_lines(self) -> tuple:
        """The lines of the `return`s of the def being rewritten."""
        return self._def_returns[-1]

    def _is_local(self, target: cst.Subscript) -> bool:
        """Whether an indexed write's innermost base is a variable local to this function."""
        base = target.value
        while isinstance(base, cst.Subscript):
            base = base.value
        if not isinstance(base, cst.Name):
            return False
        names = self._scopes[-1] if self._scopes else None
        return names is None or base.value in names

    def _temp(self) -> cst.Name:
        self._temps += 1
        return cst.Name(f"__kiln_t{self._temps}")

    # -- calls -------------------------------------------------------------------------
    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        func = updated_node.func
        if isinstance(func, cst.Name) and func.value == "super":
            return updated_node  # zero-argument super() needs its own frame
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == KILN:
            return updated_node
        args = [_parenthesize_generator(a) for a in updated_node.args]
        return updated_node.with_changes(func=_kiln_attr("call"), args=[cst.Arg(func), *args])

    # -- indexed writes ------------------------------------------------------------------
    def leave_Assign(self, original_node: cst.Assign, updated_node: cst.Assign):
        targets = [t.target for t in updated_node.targets]
        if not any(self._has_local_write(t) for t in targets):
            return updated_node
        if len(targets) == 1 and isinstance(targets[0], cst.Subscript):
            return _functional_write(targets[0], "set", [cst.Arg(updated_node.value)])
        # General case: evaluate the value once, then assign target by target.
        tmp = self._temp()
        statements = [cst.Assign([cst.AssignTarget(tmp)], updated_node.value)]
        for target in targets:
            statements.extend(self._assign_to(target, tmp))
        return cst.FlattenSentinel(statements)

    def _assign_to(self, target: cst.BaseExpression, value: cst.BaseExpression) -> list:
        if isinstance(target, cst.Subscript) and self._is_local(target):
            return [_functional_write(target, "set", [cst.Arg(value)])]
        if isinstance(target, (cst.Tuple, cst.List)) and self._has_local_write(target):
            temps = [self._temp() for _ in target.elements]
            unpack = cst.Tuple([
                cst.StarredElement(t) if isinstance(e, cst.StarredElement) else cst.Element(t)
                for t, e in zip(temps, target.elements)])
            statements = [cst.Assign([cst.AssignTarget(unpack)], value)]
            for t, element in zip(temps, target.elements):
                statements.extend(self._assign_to(element.value, t))
            return statements
        return [cst.Assign([cst.AssignTarget(target)], value)]

    def _has_local_write(self, target) -> bool:
        if isinstance(target, cst.Subscript):
            return self._is_local(target)
        if isinstance(target, (cst.Tuple, cst.List)):
            return any(self._has_local_write(e.value) for e in target.elements)
        if isinstance(target, cst.StarredElement):
            return self._has_local_write(target.value)
        return False

    def leave_AugAssign(self, original_node: cst.AugAssign, updated_node: cst.AugAssign):
        if not (isinstance(updated_node.target, cst.Subscript) and self._is_local(updated_node.target)):
            return updated_node
        op = cst.SimpleString(repr(AUGMENTED_OPERATORS[type(updated_node.operator).__name__]))
        return _functional_write(updated_node.target, "augmented",
                                 [cst.Arg(op), cst.Arg(updated_node.value)])

    def leave_AnnAssign(self, original_node: cst.AnnAssign, updated_node: cst.AnnAssign):
        target = updated_node.target
        if isinstance(target, cst.Subscript) and self._is_local(target) and updated_node.value is not None:
            return _functional_write(updated_node.target, "set", [cst.Arg(updated_node.value)])
        return updated_node


AUGMENTED_OPERATORS = {
    "AddAssign": "+=", "SubtractAssign": "-=", "MultiplyAssign": "*=", "DivideAssign": "/=",
    "FloorDivideAssign": "//=", "ModuloAssign": "%=", "PowerAssign": "**=",
    "MatrixMultiplyAssign": "@=", "BitAndAssign": "&=", "BitOrAssign": "|=",
    "BitXorAssign": "^=", "LeftShiftAssign": "<<=", "RightShiftAssign": ">>=",
}


def _functional_write(target: cst.Subscript, method: str, args: list[cst.Arg]):
    """`base[idx] <- value` as `base = __kiln__.at(base)[idx].method(*args)`, recursively."""
    base = target.value
    at = cst.Call(_kiln_attr("at"), [cst.Arg(base)])
    update = cst.Call(cst.Attribute(target.with_changes(value=at), cst.Name(method)), args)
    if isinstance(base, cst.Subscript):
        return _functional_write(base, "set", [cst.Arg(update)])
    return cst.Assign([cst.AssignTarget(base)], update)


def _parenthesize_generator(arg: cst.Arg) -> cst.Arg:
    """`f(x for x in y)` needs its own parentheses once it is not the only argument."""
    value = arg.value
    if isinstance(value, cst.GeneratorExp) and not value.lpar:
        return arg.with_changes(value=value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]))
    return arg
