"""What rewritten control flow calls at run time (as `__kiln__.if_stmt`, ...).

Each takes the statement's branch or loop functions, the current values of the variables it
assigns and their names. A test or iterable known while compiling runs as plain Python;
an array value stages kiln.lax.cond, while_loop, fori_loop or scan, with the assigned
variables as the carried state.
"""
from __future__ import annotations

import numpy as np

from kiln.errors import CompileError
from kiln.frontend.returns import DID_RET, RET, RETVAL
from kiln.frontend.returns_ops import not_returnable, returns_differ, start_returned_value, type_of, zeros_maker
from kiln.ir import ShapedArray
from kiln.staging import Staged, user_location


class Undefined:
    """A variable with no value on this path (first assigned in one branch only)."""
    __slots__ = ("name", "where")

    def __init__(self, name: str, where: str = ""):
        self.name, self.where = name, where

    def _fail(self, *args, **kwargs):
        raise CompileError(f"variable {self.name!r} is used here but has no value on every path"
                           f"{self.where}: assign it before the `if`/loop, or in every branch",
                           user_location())

    __getattr__ = __call__ = __bool__ = __add__ = __radd__ = __mul__ = __rmul__ = __sub__ = _fail
    __rsub__ = __truediv__ = __getitem__ = __iter__ = __index__ = __float__ = __int__ = _fail
    __matmul__ = __neg__ = __pow__ = __lt__ = __gt__ = __le__ = __ge__ = _fail

    def __repr__(self) -> str:
        return f"<undefined {self.name}>"


def _undefined_flatten(value):
    value._fail()  # returned, or put in a container that is flattened: used after all


from kiln.runtime.pytree import register_pytree_node  # noqa: E402

register_pytree_node(Undefined, _undefined_flatten, lambda aux, children: None)


def ld(get, name: str):
    """The current value of a variable, or Undefined if it is not bound yet."""
    try:
        return get()
    except (NameError, UnboundLocalError):
        return Undefined(name)


def _is_staged(x) -> bool:
    return isinstance(x, Staged)


def static_test(test, what: str):
    if _is_staged(test):
        from kiln.errors import TracerBoolConversionError
        raise TracerBoolConversionError(f"{what} on an array value is not supported yet: kiln can only convert "
                           "this statement when its condition is known while compiling (its early exit "
                           "could not be rewritten: a `return` inside a `match`, say). Restructure it (assign "
                           "the result and return it at the end), or use kiln.lax.cond / kiln.numpy.where",
                           user_location())
    return test


def static_iter(iterable, what: str):
    if _is_staged(iterable) or isinstance(iterable, StagedRange):
        raise CompileError(f"{what} over an array value is not supported yet (its `return` could not be "
                           "rewritten: inside a `match`, say): set a flag, `break`, and return after the loop, "
                           "or use kiln.lax.fori_loop / scan", user_location())
    return iterable


# ---------------------------------------------------------------------------- if
def if_stmt(test, true_fn, false_fn, values, names, line, returns=()):
    """`returns`: the lines of the function's `return`s, when the state holds a returned value."""
    if not _is_staged(test):
        return true_fn(*values) if test else false_fn(*values)
    from kiln.lax import cond
    import kiln.numpy as knp
    # Only array-like state can flow through a staged branch; the rest must not change.
    outs_true, outs_false = {}, {}

    def branch(fn, record, drop=(), fill=None):
        def run():
            outs = fn(*values)
            record.update(zip(names, outs))
            return tuple(None if n in drop else fill() if n == RETVAL and fill and isinstance(o, Undefined)
                         else _carry(o) for n, o in zip(names, outs))
        return run

    test = knp.asarray(test)
    if test.shape != ():
        raise CompileError(f"the condition of this `if` is an array of shape {test.shape}; a condition "
                           "must be a single boolean (use .any()/.all(), or kiln.numpy.where)", user_location())
    try:
        results = cond(test, branch(true_fn, outs_true), branch(false_fn, outs_false))
    except TypeError as e:
        # A variable bound in one branch only (a temporary of that branch): it leaves the `if`
        # unbound, and is an error only where it is used afterwards.
        one_sided = {n for n in names if isinstance(outs_true.get(n), Undefined) != isinstance(outs_false.get(n), Undefined)}
        if not one_sided:
            raise _branch_error(names, outs_true, outs_false, line, returns, e) from None
        # The value of a `return` in a loop is read only where that return ran: on the other
        # side zeros of its type stand in, and it leaves the `if` defined.
        fill = None
        if RETVAL in one_sided:
            one_sided.discard(RETVAL)
            given = outs_true[RETVAL] if isinstance(outs_false[RETVAL], Undefined) else outs_false[RETVAL]
            fill = zeros_maker(given, returns, f"the `if` at line {line}")
        outs_true.clear(), outs_false.clear()
        try:
            results = cond(test, branch(true_fn, outs_true, one_sided, fill),
                           branch(false_fn, outs_false, one_sided, fill))
        except TypeError as e2:
            raise _branch_error(names, outs_true, outs_false, line, returns, e2) from None
        where = f" (it is assigned in only one branch of the `if` at line {line}, whose condition is an array value)"
        return tuple(Undefined(name, where) if name in one_sided
                     or (isinstance(outs_true.get(name), Undefined) and not (name == RETVAL and fill))
                     else value for name, value in zip(names, results))
    # A variable bound on neither branch stays unbound (it was a None placeholder in the cond).
    return tuple(Undefined(name) if isinstance(outs_true.get(name), Undefined) else value
                 for name, value in zip(names, results))


def _carry(value):
    if isinstance(value, Undefined):
        return None  # None is an empty pytree: both branches must agree on it
    return value


def _branch_error(names, outs_true, outs_false, line, returns, error):
    for name in names:
        a, b = outs_true.get(name), outs_false.get(name)
        if isinstance(a, Undefined) != isinstance(b, Undefined):
            return CompileError(f"variable {name!r} is assigned in only one branch of the `if` at line {line}; "
                                "when the condition is an array value both branches must define it",
                                user_location())
        ta, tb = type_of(a), type_of(b)
        if ta != tb:
            if name in (RET, RETVAL):
                return returns_differ(returns, ta, tb, line)
            return CompileError(f"variable {name!r} leaves the branches of the `if` at line {line} with "
                                f"different types: {ta} and {tb}", user_location())
    return CompileError(f"the branches of the `if` at line {line} disagree: {error}", user_location())


def if_exp(test, true_fn, false_fn):
    if not _is_staged(test):
        return true_fn() if test else false_fn()
    from kiln.lax import cond
    return cond(test, true_fn, false_fn)


def and_(left, right):
    a = left()
    if not _is_staged(a):
        return a and right()
    import kiln.numpy as knp
    return knp.logical_and(a, right())


def or_(left, right):
    a = left()
    if not _is_staged(a):
        return a or right()
    import kiln.numpy as knp
    return knp.logical_or(a, right())


def not_(x):
    if not _is_staged(x):
        return not x
    import kiln.numpy as knp
    return knp.logical_not(x)


# ---------------------------------------------------------------------------- loops
def _check_carry(names, values, line, what, returns=()):
    for name, value in zip(names, values):
        if isinstance(value, Undefined):
            continue
        if not _array_like(value):
            if name == RETVAL:
                raise not_returnable(returns, value, f"the {what} loop at line {line}")
            raise CompileError(f"variable {name!r} changes in the {what} at line {line} whose condition is an "
                               f"array value, but it holds a {type(value).__name__}; only arrays, numbers and "
                               "pytrees of them can be loop state", user_location())


def _array_like(value) -> bool:
    from kiln.runtime.array import Array
    from kiln.runtime.pytree import tree_flatten
    return all(isinstance(leaf, (Staged, Array, bool, int, float, complex, np.ndarray, np.generic))
               for leaf in tree_flatten(value)[0])


def _loop_state(names, values):
    """The carried state: defined variables only (names first bound inside stay loop-local)."""
    keep = [i for i, v in enumerate(values) if not isinstance(v, Undefined)]
    if RETVAL in names and isinstance(values[names.index(RETVAL)], Undefined):
        # No `return` of this loop runs on array values (else its value would have a type, see
        # `start_returned_value`): the flag saying one did stays False, known while compiling.
        keep = [i for i in keep if names[i] != DID_RET]
    return keep, tuple(values[i] for i in keep)


def _merge(values, keep, new):
    out = list(values)
    for i, v in zip(keep, new):
        out[i] = v
    return tuple(out)


def while_stmt(cond_fn, body_fn, values, names, line, returns=()):
    values = tuple(values)
    test = cond_fn(*values)
    while not _is_staged(test):  # a static condition: plain Python, until it depends on arrays
        if not test:
            return values
        values = tuple(body_fn(*values))
        test = cond_fn(*values)
    from kiln.lax import while_loop
    values = start_returned_value(names, values, lambda _, vs: body_fn(*vs), returns=returns, line=line)
    keep, state = _loop_state(names, values)
    _check_carry([names[i] for i in keep], state, line, "`while`", returns)

    def cond(carry):
        return cond_fn(*_merge(values, keep, carry))

    def body(carry):
        new = body_fn(*_merge(values, keep, carry))
        return tuple(new[i] for i in keep)

    try:
        final = while_loop(cond, body, _as_arrays(state))
    except TypeError as e:
        raise _loop_error([names[i] for i in keep], "`while`", line, e) from None
    return _merge(values, keep, final)


def _as_arrays(state):
    import kiln.numpy as knp
    from kiln.runtime.pytree import tree_map
    return tree_map(knp.asarray, state)


def _loop_error(names, what, line, error):
    shown = [n for n in names if not n.startswith("__kiln")] + (["the value it returns"] if RETVAL in names else [])
    return CompileError(f"a variable changes type in the {what} loop at line {line} (loop state: "
                        f"{', '.join(shown)}): {error}", user_location())


class StagedRange:
    """range() with an array bound: becomes a fori_loop."""
    __slots__ = ("start", "stop", "step")

    def __init__(self, start, stop, step):
        self.start, self.stop, self.step = start, stop, step


def loop_range(*args):
    if not any(_is_staged(a) for a in args):
        return range(*args)
    start, stop, step = (0, args[0], 1) if len(args) == 1 else (args + (1,))[:3]
    if _is_staged(step) or step != 1:
        raise CompileError("range() with an array bound supports only step 1 so far", user_location())
    return StagedRange(start, stop, step)


def for_stmt(iterable, body_fn, values, names, line, break_flag=None, returns=()):
    """`for` over a staged range (fori/while loop), an array (scan) or a Python iterable
    (plain Python, unrolled while compiling). `break_flag` names the variable a `break` sets:
    a static loop stops when it is True; a staged one guards its remaining iterations."""
    values = tuple(values)
    stop = names.index(break_flag) if break_flag is not None else None
    guarded = body_fn if stop is None else _guard_iteration(body_fn, stop, names, line)
    if isinstance(iterable, StagedRange):
        values = start_returned_value(names, values, lambda i, vs: body_fn(i, *vs),
                                      ShapedArray((), np.dtype("int32")), returns, line)
        keep, state = _loop_state(names, values)
        _check_carry([names[i] for i in keep], state, line, "`for`", returns)
        try:
            if stop is not None and stop in keep:
                final = _range_with_break(iterable, body_fn, values, keep, state, keep.index(stop))
            else:
                from kiln.lax import fori_loop

                def body(i, carry):
                    new = body_fn(i, *_merge(values, keep, carry))
                    return tuple(new[k] for k in keep)
                final = fori_loop(iterable.start, iterable.stop, body, _as_arrays(state))
        except TypeError as e:
            raise _loop_error([names[i] for i in keep], "`for`", line, e) from None
        return _merge(values, keep, final)
    if _is_staged(iterable):
        from kiln.lax import scan
        row = ShapedArray(iterable.aval.shape[1:], iterable.aval.dtype)
        values = start_returned_value(names, values, lambda item, vs: guarded(item, *vs), row, returns, line)
        keep, state = _loop_state(names, values)
        _check_carry([names[i] for i in keep], state, line, "`for`", returns)

        def step(carry, row):
            new = guarded(row, *_merge(values, keep, carry))
            return tuple(new[k] for k in keep), None
        try:
            final, _ = scan(step, _as_arrays(state), iterable)
        except TypeError:
            # The loop state changes type (`total = 0.0; total = total + row`): Python's
            # meaning needs the loop unrolled, which a static number of rows allows.
            for k in range(iterable.shape[0]):
                if stop is not None and _stopped(values[stop]):
                    break
                values = tuple(guarded(iterable[k], *values))
            return values
        return _merge(values, keep, final)
    items = iter(iterable)
    while stop is None or not _stopped(values[stop]):  # checked before the next item is taken
        try:
            item = next(items)
        except StopIteration:
            break
        values = tuple(guarded(item, *values))
    return values


def _stopped(flag) -> bool:
    """A break flag known to be True (a staged flag is not known: the loop goes on, guarded)."""
    return not _is_staged(flag) and bool(flag)


def _guard_iteration(body_fn, stop, names, line):
    """The loop body, run only while the break flag is not set (a cond once the flag is staged)."""
    def guarded(item, *values):
        flag = values[stop]
        if not _is_staged(flag):
            return values if flag else body_fn(item, *values)
        return if_stmt(not_(flag), lambda *vs: body_fn(item, *vs), lambda *vs: vs, values, names, line)
    return guarded


def _range_with_break(rng, body_fn, values, keep, state, flag):
    """range() with an array bound and a `break`: a while loop that also stops on the flag."""
    import kiln.numpy as knp
    from kiln.lax import while_loop

    def cond(carry):
        i, inner = carry
        return knp.logical_and(i < rng.stop, knp.logical_not(inner[flag]))

    def body(carry):
        i, inner = carry
        new = body_fn(i, *_merge(values, keep, inner))
        return i + 1, tuple(new[k] for k in keep)
    _, final = while_loop(cond, body, (knp.asarray(rng.start).astype("int32"), _as_arrays(state)))
    return final
