"""Early `return`s, rewritten away before control flow is converted (AutoGraph's design).

Both rewrites work on each function's own statements, innermost defs first:

- Loops, innermost first. Inside a loop, `return v` becomes

      __kiln_retval = v; __kiln_did_ret = True; break

  and the loop is followed by `if __kiln_did_ret: return __kiln_retval` (or by a plain
  `return __kiln_retval` when returning is the only way out: `while True:` without a `break`).
  The `break` is then converted like any other: a flag in the loop state of a loop on an array
  value, which also carries the flag and the returned value (`control_flow_ops` gives that value
  its type before the first iteration). An inner loop's return reaches the loop around it as the
  `return` after the inner loop. A loop's `else:` that returns is moved after the loop, where it
  runs unless a `break` left the loop (a `return` has returned by then): the loop's own `break`s
  also set a flag of their own, `__kiln_brk_else<N>`, and the `else:` runs under `if not` it.
- `if`s. `if t: ...; return a` followed by more code becomes `if t: ...; __kiln_ret = a  else:
  <rest>`, and the function ends with `return __kiln_ret`: the `if` has no early exit left and is
  converted like any other.

On static conditions and trip counts all of this runs as plain Python, with Python's meaning.
Statements are moved, not rebuilt; a node made or rebuilt here is given the position of the
statement it stands for (written into `positions`), so conversions and errors name the user's
lines.
"""
from __future__ import annotations

import libcst as cst

RET = "__kiln_ret"          # the function's result, once returns are lifted out of `if`s
RETVAL = "__kiln_retval"    # the value a `return` inside a loop gives
DID_RET = "__kiln_did_ret"  # whether a `return` inside a loop ran


def lower_returns(node, positions) -> tuple:
    """(the function with the early returns of it and of every def inside it rewritten,
    {def node: the lines of its `return`s})."""
    if not isinstance(node, cst.FunctionDef):
        return node, {}
    defs = _EachDef(positions)
    return node.visit(defs), defs.return_lines


class _EachDef(cst.CSTTransformer):
    """Innermost defs first; each def's returns are its own."""

    def __init__(self, positions):
        super().__init__()
        self.positions = positions
        self.return_lines: dict = {}

    def leave_FunctionDef(self, original_node, updated_node):
        node = _keep_position(updated_node, original_node, self.positions)
        if not isinstance(node.body, cst.IndentedBlock):
            return node
        finder = _Returns()
        node.body.visit(finder)
        if not finder.found:
            return node
        body = node.body.visit(_OneLineSuites(self.positions)).visit(_LoopReturns(self.positions))
        lowered = lift_returns(_keep_position(node.with_changes(body=body), node, self.positions), self.positions)
        self.return_lines[lowered] = tuple(sorted({self.positions[r].start.line for r in finder.found
                                                   if r in self.positions}))
        return lowered

    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        if isinstance(result, cst.CSTNode):
            _keep_position(result, original_node, self.positions)
        return result


def _keep_position(new, old, positions):
    if new is not old and old in positions:
        positions[new] = positions[old]
    return new


class _ThisScope(cst.CSTTransformer):
    """A transformer that leaves nested functions, lambdas and classes alone and gives every
    node it rebuilds the position of the node it replaces."""

    def __init__(self, positions):
        super().__init__()
        self.positions = positions

    def visit_FunctionDef(self, node):
        return False

    def visit_Lambda(self, node):
        return False

    def visit_ClassDef(self, node):
        return False

    def on_leave(self, original_node, updated_node):
        result = super().on_leave(original_node, updated_node)
        if isinstance(result, cst.CSTNode):
            _keep_position(result, original_node, self.positions)
        return result


class _Returns(cst.CSTVisitor):
    def __init__(self):
        super().__init__()
        self.found: list[cst.Return] = []

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _ThisScope.visit_FunctionDef

    def visit_Return(self, node):
        self.found.append(node)


def _contains_return(node) -> bool:
    finder = _Returns()
    node.visit(finder)
    return bool(finder.found)


class _OneLineSuites(_ThisScope):
    """`if t: return x` on one line: the body becomes an indented block, which the rewrites
    below move statements in and out of."""

    def leave_SimpleStatementSuite(self, original_node, updated_node):
        if not _contains_return(updated_node):
            return updated_node
        line = _keep_position(cst.SimpleStatementLine(list(updated_node.body)), original_node, self.positions)
        return cst.IndentedBlock([line])


class _BreaksOf(cst.CSTVisitor):
    """Whether a loop body has a `break` of its own (not one of a nested loop's body; one in a
    nested loop's `else:` leaves this loop)."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.found = False

    visit_FunctionDef = visit_Lambda = visit_ClassDef = _ThisScope.visit_FunctionDef

    def visit_For_body(self, node):
        self.depth += 1

    def leave_For_body(self, node):
        self.depth -= 1

    visit_While_body, leave_While_body = visit_For_body, leave_For_body

    def visit_Break(self, node):
        self.found = self.found or self.depth == 0


def _has_break(body) -> bool:
    finder = _BreaksOf()
    body.visit(finder)
    return finder.found


def _line(small_statements) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(list(small_statements))


def _set(name: str, value: cst.BaseExpression) -> cst.Assign:
    return cst.Assign([cst.AssignTarget(cst.Name(name))], value)


class _LoopReturns(_ThisScope):
    """Loops containing `return`, innermost first (see the module docstring)."""

    def leave_While(self, original_node, updated_node):
        return self._lower(original_node, updated_node)

    def leave_For(self, original_node, updated_node):
        return self._lower(original_node, updated_node)

    _else_flags = 0

    def _lower(self, original, loop):
        returns_in_body = _contains_return(loop.body)
        returning_else = loop.orelse is not None and _contains_return(loop.orelse)
        if not returns_in_body and not returning_else:
            return loop
        breaks = _has_break(loop.body)

        def here(node):  # what the rewrite adds stands for the loop
            return _keep_position(node, original, self.positions)
        before, after = [], []
        else_flag = None
        if returning_else:  # moved after the loop: it runs unless a `break` left the loop
            else_body = list(loop.orelse.body.body)
            if breaks:
                self._else_flags += 1
                else_flag = f"__kiln_brk_else{self._else_flags}"
                before.append(here(_line([here(_set(else_flag, cst.Name("False")))])))
                guard = cst.UnaryOperation(cst.Not(), cst.Name(else_flag))
                else_body = [here(cst.If(guard, cst.IndentedBlock(else_body)))]
            loop = loop.with_changes(orelse=None)
        # `while True:` without a `break` is left only by returning.
        only_by_return = (isinstance(loop, cst.While) and isinstance(loop.test, cst.Name)
                          and loop.test.value == "True" and not breaks)
        body = loop.body.visit(_ReturnToBreak(self.positions, set_flag=not only_by_return, else_flag=else_flag))
        new_loop = _keep_position(loop.with_changes(body=body), original, self.positions)
        if returns_in_body:
            give = here(_line([here(cst.Return(cst.Name(RETVAL)))]))
            if only_by_return:
                after.append(give)
            else:
                before.append(here(_line([here(_set(DID_RET, cst.Name("False")))])))
                after.append(here(cst.If(cst.Name(DID_RET), cst.IndentedBlock([give]))))
        return cst.FlattenSentinel(before + [new_loop] + after + (else_body if returning_else else []))


class _ReturnToBreak(_ThisScope):
    """`return v` -> `__kiln_retval = v; __kiln_did_ret = True; break` (what follows the return
    on its line never runs, so it is dropped); with `else_flag`, the loop's own `break` ->
    `else_flag = True; break`."""

    def __init__(self, positions, set_flag: bool, else_flag=None):
        super().__init__(positions)
        self.set_flag, self.else_flag = set_flag, else_flag
        self.depth = 0  # in the bodies of nested loops (their breaks are their own)

    def visit_For_body(self, node):
        self.depth += 1

    def leave_For_body(self, node):
        self.depth -= 1

    visit_While_body, leave_While_body = visit_For_body, leave_For_body

    def leave_Break(self, original_node, updated_node):
        if self.else_flag is None or self.depth:
            return updated_node
        flag = _keep_position(_set(self.else_flag, cst.Name("True")), original_node, self.positions)
        return cst.FlattenSentinel([flag, updated_node])

    def leave_SimpleStatementLine(self, original_node, updated_node):
        body = list(updated_node.body)
        ret = next((s for s in body if isinstance(s, cst.Return)), None)
        if ret is None:
            return updated_node
        value = ret.value if ret.value is not None else cst.Name("None")
        new = []
        if not (isinstance(value, cst.Name) and value.value == RETVAL):  # an inner loop's return
            new.append(_set(RETVAL, value))
        if self.set_flag:
            new.append(_set(DID_RET, cst.Name("True")))
        new.append(cst.Break())
        for node in new:
            _keep_position(node, ret, self.positions)
        return updated_node.with_changes(body=body[:body.index(ret)] + new)


# ---------------------------------------------------------------------------- returns in `if`s
def _return_of(stmt):
    if isinstance(stmt, cst.SimpleStatementLine):
        return next((s for s in stmt.body if isinstance(s, cst.Return)), None)
    return None


def _always_returns(stmts) -> bool:
    if not stmts:
        return False
    last = stmts[-1]
    if _return_of(last) is not None:
        return True
    if isinstance(last, cst.If):
        return _always_returns(list(last.body.body)) and _always_returns(_else_statements(last))
    return False


def _else_statements(node: cst.If) -> list:
    if node.orelse is None:
        return []
    if isinstance(node.orelse, cst.If):
        return [node.orelse]
    return list(node.orelse.body.body)


def _lift(stmts, positions):
    out = []
    for i, stmt in enumerate(stmts):
        ret = _return_of(stmt)
        if ret is not None:
            value = ret.value if ret.value is not None else cst.Name("None")
            others = [s for s in stmt.body[:stmt.body.index(ret)]]
            assign = _keep_position(_set(RET, value), ret, positions)
            out.append(_keep_position(stmt.with_changes(body=others + [assign]), stmt, positions))
            return out  # what follows a return never runs
        if isinstance(stmt, cst.If) and _contains_return(stmt):
            rest = stmts[i + 1:]
            body_stmts = list(stmt.body.body)
            else_stmts = _else_statements(stmt)
            body = _lift(body_stmts + ([] if _always_returns(body_stmts) else rest), positions)
            orelse = _lift(else_stmts + ([] if _always_returns(else_stmts) else rest), positions)
            if body is None or orelse is None:
                return None
            new_else = cst.Else(cst.IndentedBlock(orelse)) if orelse else None
            out.append(_keep_position(stmt.with_changes(body=stmt.body.with_changes(body=body), orelse=new_else),
                                      stmt, positions))
            return out
        if _contains_return(stmt):
            return None  # a return left inside a loop, with or try: left to static_test
        out.append(stmt)
    return out


def lift_returns(node, positions):
    """The function with its early returns inside `if`s lifted, or the node unchanged."""
    stmts = list(node.body.body)
    early = any(_contains_return(s) for s in stmts[:-1]) or (
        stmts and _return_of(stmts[-1]) is None and _contains_return(stmts[-1]))
    if not early:
        return node
    lifted = _lift(stmts, positions)
    if lifted is None:
        return node
    init = _line([_set(RET, cst.Name("None"))])
    final = _line([cst.Return(cst.Name(RET))])
    return _keep_position(node.with_changes(body=node.body.with_changes(body=[init] + lifted + [final])),
                          node, positions)
