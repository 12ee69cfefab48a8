"""What rewritten early returns need at run time (the rewrite is `frontend/returns.py`).

A loop on an array value that contains `return` carries the returned value (`__kiln_retval`)
in its state. Before the first iteration it has none, and a loop's state needs a type: like
AutoGraph for variables first assigned inside a loop, kiln stages the body once on abstract
values into a builder that is thrown away, reads the type of the value it returns, and starts
the loop with zeros of that type (`start_returned_value`). The zeros are never returned: the
value is read only where the `did return` flag is set. An `if` in which only one branch
returns fills the other branch the same way (`zeros_maker`).

Every return of a function whose choice depends on an array value must give the same type;
`returns_differ` says so naming the lines of the function's `return`s.
"""
from __future__ import annotations

from kiln.errors import CompileError
from kiln.frontend.returns import RETVAL
from kiln.primitives import aval_of
from kiln.runtime.pytree import tree_flatten, tree_unflatten
from kiln.staging import Builder, user_location


class _Text(str):
    __repr__ = str.__str__


def type_of(value) -> str:
    """A value's type as the errors show it: `f32[3]`, `(f32[3], i32[])`, `None`, `str`."""
    leaves, tree = tree_flatten(value)
    try:
        texts = [_Text(aval_of(x).str_short()) for x in leaves]
        return repr(tree_unflatten(tree, texts))
    except (TypeError, ValueError):
        return type(value).__name__


def _lines(lines) -> str:
    if not lines:
        return ""
    if len(lines) == 1:
        return f" (its `return` is at line {lines[0]})"
    return f" (its `return`s are at lines {', '.join(map(str, lines[:-1]))} and {lines[-1]})"


def returns_differ(returns, ta: str, tb: str, line: int) -> CompileError:
    none = " (it can also end without a `return`, which gives None)" if "None" in (ta, tb) else ""
    return CompileError(f"this function returns values of different types, {ta} and {tb}{none}, and the condition "
                        f"at line {line} that decides between them is an array value: every return must then give "
                        f"the same shape, dtype and pytree structure{_lines(returns)}", user_location())


def not_returnable(returns, value, where) -> CompileError:
    return CompileError(f"a `return` inside {where}, which depends on an array value, gives a {type_of(value)}: "
                        f"only arrays, numbers and pytrees of them can be returned there{_lines(returns)}",
                        user_location())


def zeros_maker(value, returns=(), where="a loop"):
    """A function making zeros of `value`'s type (in whichever builder is active when called)."""
    leaves, tree = tree_flatten(value)
    try:
        avals = [aval_of(x) for x in leaves]
    except (TypeError, ValueError):
        raise not_returnable(returns, value, where) from None

    def make():
        import kiln.numpy as knp
        return tree_unflatten(tree, [knp.zeros(a.shape, a.dtype) for a in avals])
    return make


def start_returned_value(names, values, run_body, item_aval=None, returns=(), line=0):
    """The loop state with the returned value started as zeros of its type (see the module
    docstring). `run_body(item, values)` runs one iteration; `item_aval` is the type of the item
    a `for` loop's iteration takes. Unchanged when the state holds no returned value or already
    has one, or when no `return` of the body runs on array values."""
    from kiln.frontend.control_flow_ops import Undefined, _as_arrays, _loop_state, _merge
    if RETVAL not in names or not isinstance(values[names.index(RETVAL)], Undefined):
        return values
    keep, state = _loop_state(names, values)
    leaves, tree = tree_flatten(_as_arrays(state))
    with Builder("probe") as b:
        carry = tree_unflatten(tree, [b.new_input(aval_of(x)) for x in leaves])
        item = b.new_input(item_aval) if item_aval is not None else None
        returned = tuple(run_body(item, _merge(values, keep, carry)))[names.index(RETVAL)]
    if isinstance(returned, Undefined):
        return values  # no return runs on array values: see `_loop_state`
    i = names.index(RETVAL)
    return values[:i] + (zeros_maker(returned, returns, f"the loop at line {line}")(),) + values[i + 1:]
