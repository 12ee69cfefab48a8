"""Python control flow, rewritten so that it also works on array values (AutoGraph's design).

    if test:                         def __kiln_true_1(y, z): ...; return (y, z)
        ...              becomes     def __kiln_false_1(y, z): ...; return (y, z)
    else:                            (y, z) = __kiln__.if_stmt(test, __kiln_true_1, __kiln_false_1,
        ...                                                    (__kiln__.ld(lambda: y), ...), ('y', 'z'))

and likewise `while` (`while_stmt` with a cond and a body function), `for` (`for_stmt`), the
conditional expression (`if_exp`) and `and` / `or` / `not`. The branch and loop functions take
the variables the statement assigns and return their new values, so Python's scoping is kept.
At run time (`frontend/control_flow_ops.py`) a static test runs as plain Python, exactly as
written; an array test stages kiln.lax.cond / while_loop / fori_loop / scan.

`break` and `continue` become flags, as AutoGraph does: `break` sets `__kiln_brk_N`, which the
`while` test checks (`not brk and test`) and `for_stmt` checks before each iteration (a staged
fori/scan cannot stop early, so its remaining iterations are guarded by `not brk`); `continue`
sets `__kiln_cont_N`, reset at the top of each iteration. The statements after one that may set
a flag run under `if not flag:`. A loop's `else:` runs under `if not brk:` after it. Static
loops keep Python's meaning exactly: the flags are Python bools and the guards plain `if`s.

Early `return`s are rewritten away before this (`frontend/returns.py`): out of `if`s by lifting
the rest of the function into the `else`, out of loops into a `break` that also sets a flag and
the returned value. A conversion whose state holds the returned value is told the lines of the
function's `return`s (`returns=`), for its errors. A `return` that could not be rewritten (one
inside a `match`) keeps its Python form: the test is wrapped in `__kiln__.static_test`
(`static_iter` for a `for`), which says clearly, naming the line, when an array value reaches it.
"""
from __future__ import annotations

import libcst as cst

KILN = "__kiln__"  # the name rewritten code calls kiln's operators by (a closure cell)
# Generated names that are program state (carried through branches and loops like user variables).
_USER_STATE = ("__kiln_ret", "__kiln_did_ret", "__kiln_brk_", "__kiln_cont_")


def kiln_attr(name: str) -> cst.Attribute:
    return cst.Attribute(cst.Name(KILN), cst.Name(name))


class _Assigned(cst.CSTVisitor):
    """Names a block of statements assigns, not counting nested functions and classes."""

    def __init__(self):
        super().__init__()
        self.names: list[str] = []
        self.escapes = False  # return / break / continue that leave the block

    def _add(self, target):
        if isinstance(target, cst.Name):
            internal = target.value.startswith("__kiln") and not target.value.startswith(_USER_STATE)
            if not internal and target.value not in self.names:
                self.names.append(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._add(element.value)
        elif isinstance(target, cst.StarredElement):
            self._add(target.value)

    def visit_AssignTarget(self, node):
        self._add(node.target)

    def visit_AugAssign(self, node):
        self._add(node.target)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self._add(node.target)

    def visit_For(self, node):
        self._add(node.target)

    def visit_NamedExpr(self, node):
        self._add(node.target)

    def visit_Return(self, node):
        self.escapes = True

    def visit_Break(self, node):
        self.escapes = True

    def visit_Continue(self, node):
        self.escapes = True

    # Separate scopes: their assignments are not the block's.
    def visit_FunctionDef(self, node):
        self._add(node.name)
        return False

    def visit_ClassDef(self, node):
        self._add(node.name)
        return False

    def visit_Lambda(self, node):
        return False

    def visit_ListComp(self, node):
        return False

    def visit_SetComp(self, node):
        return False

    def visit_DictComp(self, node):
        return False

    def visit_GeneratorExp(self, node):
        return False


def assigned(*blocks) -> tuple[list[str], bool]:
    finder = _Assigned()
    for block in blocks:
        if block is not None:
            block.visit(finder)
    return finder.names, finder.escapes


class _ThisScope(cst.CSTVisitor):
    """A visitor that does not enter nested functions, lambdas and classes."""

    def visit_FunctionDef(self, node):
        return False

    def visit_Lambda(self, node):
        return False

    def visit_ClassDef(self, node):
        return False


class _LoopExits(_ThisScope):
    """The `break`/`continue` of one loop (not of nested loops) and any `return` in its body."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.breaks = self.continues = self.returns = False

    def visit_For(self, node):
        self.depth += 1

    def leave_For(self, node):
        self.depth -= 1

    def visit_While(self, node):
        self.depth += 1

    def leave_While(self, node):
        self.depth -= 1

    def visit_Break(self, node):
        self.breaks = self.breaks or self.depth == 0

    def visit_Continue(self, node):
        self.continues = self.continues or self.depth == 0

    def visit_Return(self, node):
        self.returns = True


def _loop_exits(loop) -> _LoopExits:
    finder = _LoopExits()
    loop.body.visit(finder)
    return finder


class _Flags:
    """The flags that stand for one loop's `break` and `continue` (None: the loop has none)."""
    __slots__ = ("brk", "cont")

    def __init__(self, brk, cont):
        self.brk, self.cont = brk, cont

    def names(self) -> list[str]:
        return [f for f in (self.brk, self.cont) if f is not None]


def _names_tuple(names) -> cst.Tuple:
    return cst.Tuple([cst.Element(cst.SimpleString(repr(n))) for n in names] or [])


def _tuple(exprs) -> cst.BaseExpression:
    elements = [cst.Element(e) for e in exprs]
    if len(elements) == 1:
        elements = [cst.Element(elements[0].value, comma=cst.Comma())]
    return cst.Tuple(elements)


def _call(name, *args, **kwargs) -> cst.Call:
    return cst.Call(kiln_attr(name), [cst.Arg(a) for a in args]
                    + [cst.Arg(v, keyword=cst.Name(k)) for k, v in kwargs.items()])


def _def(name: str, params, body_statements, returns) -> cst.FunctionDef:
    body = list(body_statements) + [cst.SimpleStatementLine([cst.Return(returns)])]
    return cst.FunctionDef(cst.Name(name), cst.Parameters([cst.Param(cst.Name(p)) for p in params]),
                           cst.IndentedBlock(body))


def _load(names) -> cst.Tuple:
    """(__kiln__.ld(lambda: a, 'a'), ...): current values, or Undefined for unbound names."""
    return _tuple([_call("ld", cst.Lambda(cst.Parameters(), cst.Name(n)), cst.SimpleString(repr(n)))
                   for n in names])


def _assign(names, value) -> cst.SimpleStatementLine:
    target = _tuple([cst.Name(n) for n in names]) if names else cst.Name("_")
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], value)])


def _not_any(flags) -> cst.BaseExpression:
    """`not f1` (`not (f1 or f2)`) with kiln's operators, so it stages on array flags."""
    test = cst.Name(flags[0])
    for f in flags[1:]:
        test = _call("or_", cst.Lambda(cst.Parameters(), test), cst.Lambda(cst.Parameters(), cst.Name(f)))
    return _call("not_", test)


def _sets_flag_directly(stmt, flags) -> bool:
    """Whether `stmt` is a bare break/continue already turned into `flag = True`."""
    return isinstance(stmt, cst.SimpleStatementLine) and any(
        isinstance(s, cst.Assign) and len(s.targets) == 1 and isinstance(s.targets[0].target, cst.Name)
        and s.targets[0].target.value in flags for s in stmt.body)


def _body(block) -> list:
    if isinstance(block, cst.SimpleStatementSuite):  # `if t: x = 1` on one line
        return [cst.SimpleStatementLine(list(block.body))]
    return list(block.body) if isinstance(block, cst.IndentedBlock) else [block]


class ControlFlowRewriter:
    """Mixed into the frontend's Rewriter, so every produced node keeps its origin."""

    _cf_count = 0

    def _cf_name(self, kind: str) -> str:
        self._cf_count += 1
        return f"__kiln_{kind}_{self._cf_count}"

    def _line(self, node) -> int:
        pos = self.positions.get(node)
        return pos.start.line if pos is not None else 0

    def _returns(self, names) -> dict:
        """`returns=(lines of the function's returns)` for a statement whose state holds the
        returned value (its errors name them)."""
        lines = self.return_lines
        if not lines or not any(n.startswith(("__kiln_ret", "__kiln_did_ret")) for n in names):
            return {}
        return {"returns": _tuple([cst.Integer(str(n)) for n in lines])}

    # -- if / elif / else ----------------------------------------------------------------
    def visit_If(self, node):
        # An elif is converted together with its parent, which must see it unconverted.
        if isinstance(node.orelse, cst.If):
            self.__dict__.setdefault("_elifs", set()).add(id(node.orelse))

    def leave_If(self, original_node, updated_node):
        if id(original_node) in getattr(self, "_elifs", ()):
            return updated_node
        return self._convert_if(updated_node, self._line(original_node))

    def _convert_if(self, node: cst.If, line: int):
        orelse = node.orelse
        if isinstance(orelse, cst.If):  # elif: the else block is the converted inner if
            inner = self._convert_if(orelse, line)
            statements = inner.nodes if isinstance(inner, cst.FlattenSentinel) else [inner]
            orelse = cst.Else(cst.IndentedBlock(list(statements)))
        names, escapes = assigned(node.body, orelse)
        if escapes:
            test = _call("static_test", node.test, cst.SimpleString(repr("return, break or continue inside `if`")))
            return node.with_changes(test=test, orelse=orelse)
        true_name, false_name = self._cf_name("true"), self._cf_name("false")
        ret = _tuple([cst.Name(n) for n in names])
        true_fn = _def(true_name, names, _body(node.body), ret)
        false_fn = _def(false_name, names, _body(orelse.body) if orelse is not None else [], ret)
        call = _call("if_stmt", node.test, cst.Name(true_name), cst.Name(false_name), _load(names),
                     _names_tuple(names), cst.Integer(str(line)), **self._returns(names))
        return cst.FlattenSentinel([true_fn, false_fn, _assign(names, call)])

    # -- break / continue ----------------------------------------------------------------
    # A stack with one entry per enclosing loop (None: a loop left in its Python form); a
    # loop's `else:` belongs to the enclosing loop, so it gets that loop's entry again.
    def _loop_stack(self) -> list:
        return self.__dict__.setdefault("_loops", [])

    def _flags(self):
        stack = self._loop_stack()
        return stack[-1] if stack else None

    def _enter_loop(self, node):
        exits = _loop_exits(node)
        flags = None
        if not exits.returns:
            flags = _Flags(self._cf_name("brk") if exits.breaks else None,
                           self._cf_name("cont") if exits.continues else None)
        self._loop_stack().append(flags)

    def _enter_else(self, node):
        stack = self._loop_stack()
        stack.append(stack[-2] if len(stack) > 1 else None)

    def _leave_else(self, node):
        self._loop_stack().pop()

    visit_While = visit_For = _enter_loop
    visit_While_orelse = visit_For_orelse = _enter_else
    leave_While_orelse = leave_For_orelse = _leave_else

    def leave_Break(self, original_node, updated_node):
        flags = self._flags()
        if flags is None or flags.brk is None:
            return updated_node
        return cst.Assign([cst.AssignTarget(cst.Name(flags.brk))], cst.Name("True"))

    def leave_Continue(self, original_node, updated_node):
        flags = self._flags()
        if flags is None or flags.cont is None:
            return updated_node
        return cst.Assign([cst.AssignTarget(cst.Name(flags.cont))], cst.Name("True"))

    def leave_IndentedBlock(self, original_node, updated_node):
        flags = self._flags()
        if flags is None or not flags.names():
            return updated_node
        return updated_node.with_changes(body=self._guard_rest(list(updated_node.body), flags.names()))

    def _guard_rest(self, stmts, flags):
        """The statements after the first one that may set a flag run under `if not flag:`
        (dropped after a bare break/continue, as Python never reaches them)."""
        for i, stmt in enumerate(stmts):
            sets = [f for f in flags if f in assigned(stmt)[0]]
            if not sets:
                continue
            rest = stmts[i + 1:]
            if not rest or _sets_flag_directly(stmt, sets):
                return stmts[:i + 1]
            guard = cst.If(_not_any(sets), cst.IndentedBlock(self._guard_rest(rest, flags)))
            origin = self.origins.get(id(rest[0]))
            converted = self._convert_if(guard, origin[1].start.line if origin else 0)
            return stmts[:i + 1] + list(converted.nodes if isinstance(converted, cst.FlattenSentinel)
                                        else [converted])
        return stmts

    def _loop_prologue(self, flags):
        """`brk = False` before the loop, `cont = False` at the top of each iteration."""
        def reset(flag):
            return [cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(flag))], cst.Name("False"))])]
        return (reset(flags.brk) if flags.brk else []), (reset(flags.cont) if flags.cont else [])

    def _loop_else(self, node, flags, line):
        """A loop's `else:`: it runs when no `break` left the loop."""
        if node.orelse is None:
            return []
        if flags.brk is None:
            return _body(node.orelse.body)
        converted = self._convert_if(cst.If(_not_any([flags.brk]), node.orelse.body), line)
        return list(converted.nodes) if isinstance(converted, cst.FlattenSentinel) else [converted]

    # -- while -----------------------------------------------------------------------------
    def leave_While(self, original_node, updated_node):
        flags = self._loop_stack().pop()
        line = self._line(original_node)
        if flags is None:  # a `return` inside: Python's form, for static conditions only
            test = _call("static_test", updated_node.test, cst.SimpleString(repr(
                f"a `while` containing `return` (line {line})")))
            return updated_node.with_changes(test=test)
        before, top = self._loop_prologue(flags)
        test = updated_node.test
        if flags.brk is not None and isinstance(test, cst.Name) and test.value == "True":
            test = _not_any([flags.brk])  # `while True:` ... `break`
        elif flags.brk is not None:
            test = _call("and_", cst.Lambda(cst.Parameters(), _not_any([flags.brk])), cst.Lambda(cst.Parameters(), test))
        body = top + _body(updated_node.body)
        names, _ = assigned(cst.IndentedBlock(body))
        cond_name, body_name = self._cf_name("cond"), self._cf_name("body")
        ret = _tuple([cst.Name(n) for n in names])
        cond_fn = _def(cond_name, names, [], test)
        body_fn = _def(body_name, names, body, ret)
        call = _call("while_stmt", cst.Name(cond_name), cst.Name(body_name), _load(names),
                     _names_tuple(names), cst.Integer(str(line)), **self._returns(names))
        after = self._loop_else(updated_node, flags, line)
        return cst.FlattenSentinel(before + [cond_fn, body_fn, _assign(names, call)] + after)

    # -- for ---------------------------------------------------------------------------------
    def leave_For(self, original_node, updated_node):
        flags = self._loop_stack().pop()
        line = self._line(original_node)
        iterable = updated_node.iter
        if (isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Attribute)
                and iterable.func.attr.value == "call" and iterable.args
                and isinstance(iterable.args[0].value, cst.Name) and iterable.args[0].value.value == "range"):
            iterable = iterable.with_changes(args=[cst.Arg(kiln_attr("loop_range"))] + list(iterable.args[1:]))
        if flags is None or updated_node.asynchronous is not None:
            it = _call("static_iter", iterable, cst.SimpleString(repr(
                f"a `for` containing `return` (line {line})")))
            return updated_node.with_changes(iter=it)
        before, top = self._loop_prologue(flags)
        target_names, _ = assigned(cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(updated_node.target)],
                                                                       cst.Name("None"))]))
        body = top + _body(updated_node.body)
        names = [n for n in assigned(cst.IndentedBlock(body))[0] if n not in target_names]
        body_name = self._cf_name("for")
        item = "__kiln_item"
        unpack = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(updated_node.target)], cst.Name(item))])
        ret = _tuple([cst.Name(n) for n in names])
        body_fn = _def(body_name, [item] + names, [unpack] + body, ret)
        args = [iterable, cst.Name(body_name), _load(names), _names_tuple(names), cst.Integer(str(line))]
        if flags.brk is not None:
            args.append(cst.SimpleString(repr(flags.brk)))
        call = _call("for_stmt", *args, **self._returns(names))
        after = self._loop_else(updated_node, flags, line)
        return cst.FlattenSentinel(before + [body_fn, _assign(names, call)] + after)

    # -- expressions ----------------------------------------------------------------------
    def leave_IfExp(self, original_node, updated_node):
        return _call("if_exp", updated_node.test, cst.Lambda(cst.Parameters(), updated_node.body),
                     cst.Lambda(cst.Parameters(), updated_node.orelse))

    def leave_BooleanOperation(self, original_node, updated_node):
        name = "and_" if isinstance(updated_node.operator, cst.And) else "or_"
        return _call(name, cst.Lambda(cst.Parameters(), updated_node.left),
                     cst.Lambda(cst.Parameters(), updated_node.right))

    def leave_UnaryOperation(self, original_node, updated_node):
        if isinstance(updated_node.operator, cst.Not):
            return _call("not_", updated_node.expression)
        return updated_node
