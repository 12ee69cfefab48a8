"""Structured control flow: kiln.lax's cond, switch, while_loop, fori_loop, scan and map.

The primitives hold sub-programs and live with their rules beside this module:
`cond_rules.py` (cond), `while_rules.py` and `while_transpose.py` (while), `scan_rules.py`
(scan); `subprograms.py` stages bodies and holds what their rules share. Every construct stays
structured through every transform. Reverse mode rematerialises: each branch of a cond, each
step of a scan, and the iterations of a while loop from bounded-size checkpoints (its trip
count depends on the data; see `while_transpose.py`).
"""
from __future__ import annotations

import numpy as np

from kiln.ir import ShapedArray
from kiln.lax.cond_rules import cond_p
from kiln.lax.scan_rules import scan_p
from kiln.lax.subprograms import batched_body, check_same, program_avals, share_extras, stage_body  # noqa: F401
from kiln.lax.while_rules import while_p
from kiln.primitives import bind
from kiln.runtime.pytree import tree_flatten, tree_unflatten

__all__ = ["cond", "cond_p", "fori_loop", "map", "scan", "scan_p", "switch", "while_loop", "while_p",
           "stage_body", "batched_body"]


# ---------------------------------------------------------------------------- the API (jax.lax)

def _staging() -> bool:
    from kiln.staging import Staged, current_builder
    return current_builder() is not None


def _leaf_avals(leaves):
    from kiln.ad import _aval_of
    return [_aval_of(x, "an operand") for x in leaves]


_NOT_GIVEN = object()


def switch(index, branches, *operands, operand=_NOT_GIVEN):
    """Apply `branches[index]` to the operands (index clamped to the valid range)."""
    from kiln.staging import Staged
    if operand is not _NOT_GIVEN:  # the old `operand=` form; None is a valid operand
        operands = (operand,)
    branches = list(branches)
    if not branches:
        raise ValueError("switch: empty branches sequence")
    if not isinstance(index, Staged):
        i = int(np.clip(int(index), 0, len(branches) - 1))
        return branches[i](*operands)
    import kiln.numpy as knp
    index = knp.clip(knp.asarray(index).astype(np.int32), 0, len(branches) - 1)
    return _switch(index, branches, operands)


def _switch(index, branches, operands):
    """One cond equation; `index` is an int32 scalar already in range."""
    leaves, tree = tree_flatten(tuple(operands))
    avals = _leaf_avals(leaves)
    staged = []
    for k, br in enumerate(branches):
        staged.append(stage_body(lambda *xs, br=br: br(*tree_unflatten(tree, list(xs))), avals, f"branch{k}"))
    out_tree = staged[0][2]
    for k, (_, _, t) in enumerate(staged[1:], start=1):
        if t != out_tree:
            raise TypeError(f"cond/switch branches must return the same structure: branch 0 gives "
                            f"{out_tree}, branch {k} gives {t}")
    programs, all_extras = share_extras(staged)
    for p in programs[1:]:
        check_same("cond/switch branches' outputs", program_avals(programs[0]), program_avals(p))
    outs = bind(cond_p, index, *all_extras, *leaves, branches=tuple(programs))
    return tree_unflatten(out_tree, outs)


def cond(pred, true_fun, false_fun, *operands, operand=_NOT_GIVEN):
    """`true_fun(*operands)` if pred else `false_fun(*operands)`; staged as one cond equation."""
    from kiln.staging import Staged
    if operand is not _NOT_GIVEN:  # the old `operand=` form; None is a valid operand
        operands = (operand,)
    if not isinstance(pred, Staged):
        return true_fun(*operands) if bool(pred) else false_fun(*operands)
    if pred.shape != ():
        raise TypeError(f"cond: pred must be a scalar, got {pred.aval.str_short()}")
    from kiln.lax.elementwise import convert_element_type
    flag = pred if pred.dtype == np.bool_ else pred != 0
    return _switch(convert_element_type(flag, np.int32), (false_fun, true_fun), operands)


def while_loop(cond_fun, body_fun, init_val):
    leaves, tree = tree_flatten(init_val)
    if not _staging():
        return _eager_loop(lambda val, _: bool(cond_fun(val)), lambda val, _: body_fun(val), leaves, tree)
    import kiln.numpy as knp
    leaves = [knp.asarray(x) for x in leaves]
    avals = _leaf_avals(leaves)
    cond_prog, cond_extras, _ = stage_body(lambda *xs: cond_fun(tree_unflatten(tree, list(xs))), avals, "cond")
    body_prog, body_extras, body_tree = stage_body(lambda *xs: body_fun(tree_unflatten(tree, list(xs))),
                                                   avals, "body")
    if body_tree != tree:
        raise TypeError(f"while_loop: body_fun must return the carry's structure {tree}, got {body_tree}")
    check_same("while_loop's carry and body_fun output", avals, program_avals(body_prog))
    outs = bind(while_p, *cond_extras, *body_extras, *leaves, cond=cond_prog, body=body_prog,
                n_cond_extras=len(cond_extras), n_body_extras=len(body_extras))
    return tree_unflatten(tree, outs)


def _eager_loop(go_on, step, leaves, tree):
    """Run `val = step(val, k)` for k = 0, 1, ... while `go_on(val, k)`, on kiln arrays, giving
    the results JAX's loops give: arrays of the carry's types (a weakly typed carry becomes
    strongly typed if the body makes it so); a leaf the body returns unchanged is the caller's."""
    import kiln.numpy as knp
    from kiln.numpy.core import cast
    carry = [knp.asarray(x) for x in leaves]
    unchanged = [True] * len(carry)
    k = 0
    while go_on(tree_unflatten(tree, carry), k):
        out, out_tree = tree_flatten(step(tree_unflatten(tree, carry), k))
        if out_tree != tree:
            raise TypeError(f"while_loop: body_fun must return the carry's structure {tree}, got {out_tree}")
        new = []
        for i, (o, c) in enumerate(zip(out, carry)):
            unchanged[i] = unchanged[i] and o is c
            a = _leaf_avals([o])[0]
            if a.shape != c.shape or (a.dtype != c.dtype and not c.weak_type):
                raise TypeError(f"while_loop: body_fun output and input must have identical types; the carry "
                                f"{c.aval.str_short()} became {a.str_short()}")
            # A weakly typed carry takes the body's type; it stays weak only if that is weak too.
            new.append(cast(o, a.dtype, c.weak_type and a.weak_type and a.dtype == c.dtype))
        carry, k = new, k + 1
    if k == 0:
        unchanged = [False] * len(carry)
    return tree_unflatten(tree, [x if same else c for x, c, same in zip(leaves, carry, unchanged)])


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
    import kiln.numpy as knp
    carry_leaves, carry_tree = tree_flatten(init)
    x_leaves, x_tree = tree_flatten(xs)
    x_leaves = [knp.asarray(x) for x in x_leaves]
    lengths = {int(knp.shape(x)[0]) for x in x_leaves}
    if length is not None:
        lengths.add(int(length))
    if len(lengths) != 1:
        raise ValueError(f"scan got inconsistent lengths: {sorted(lengths)}" if lengths else
                         "scan needs `length` when xs is None")
    n = lengths.pop()
    carry_leaves = [knp.asarray(c) for c in carry_leaves]
    c_avals = _leaf_avals(carry_leaves)
    x_avals = [ShapedArray(a.shape[1:], a.dtype, a.weak_type) for a in _leaf_avals(x_leaves)]
    y_tree = []

    def step(*flat):
        carry = tree_unflatten(carry_tree, list(flat[:len(c_avals)]))
        x = tree_unflatten(x_tree, list(flat[len(c_avals):]))
        new_carry, y = f(carry, x)
        c_leaves, c_tree = tree_flatten(new_carry)
        if c_tree != carry_tree:
            raise TypeError(f"scan: the body must return a carry of structure {carry_tree}, got {c_tree}")
        y_leaves, t = tree_flatten(y)
        y_tree.append(t)
        return list(c_leaves) + list(y_leaves)

    body, extras, _ = stage_body(step, c_avals + x_avals, "scan_body")
    body_carry = [v.aval for v in body.outputs[:len(c_avals)]]
    # A weakly typed initial carry takes the body's strong type, as in JAX.
    carry_leaves = [x if a.weak_type == b.weak_type or not a.weak_type else knp.asarray(x).astype(b.dtype)
                    for x, a, b in zip(carry_leaves, c_avals, body_carry)]
    c_avals = _leaf_avals(carry_leaves)
    if [a.weak_type for a in c_avals] != [b.weak_type for b in body_carry]:
        body, extras, _ = stage_body(step, c_avals + x_avals, "scan_body")
    check_same("scan's carry and the body's new carry", c_avals, [v.aval for v in body.outputs[:len(c_avals)]])
    outs = bind(scan_p, *extras, *carry_leaves, *x_leaves, body=body, n_extras=len(extras),
                n_carry=len(carry_leaves), length=n, reverse=bool(reverse))
    carry = tree_unflatten(carry_tree, outs[:len(carry_leaves)])
    ys = tree_unflatten(y_tree[-1], outs[len(carry_leaves):])
    return carry, ys


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """`for i in range(lower, upper): val = body_fun(i, val)`: a scan when the bounds are static
    (differentiable in reverse mode), a while loop otherwise."""
    from kiln.staging import Staged
    if not isinstance(lower, Staged) and not isinstance(upper, Staged):
        # As in JAX, the index is weakly typed when a bound is a Python int.
        weak = isinstance(lower, int) or isinstance(upper, int)
        lower, upper = int(lower), int(upper)
        if not _staging():
            from kiln.runtime.array import Array
            leaves, tree = tree_flatten(init_val)
            return _eager_loop(lambda _, k: lower + k < upper,
                               lambda val, k: body_fun(Array(np.asarray(lower + k, np.int32), weak), val), leaves, tree)
        import kiln.numpy as knp
        from kiln.lax.elementwise import convert_element_type
        steps = convert_element_type(knp.arange(lower, max(upper, lower), dtype=np.int32), np.int32, weak)
        if steps.shape[0] == 0:
            return init_val
        val, _ = scan(lambda v, i: (body_fun(i, v), None), init_val, steps)
        return val
    import kiln.numpy as knp
    i0 = knp.asarray(lower).astype(np.int32)
    _, val = while_loop(lambda c: c[0] < upper, lambda c: (c[0] + 1, body_fun(c[0], c[1])), (i0, init_val))
    return val


def map(f, xs, *, batch_size=None):
    _, ys = scan(lambda _, x: (None, f(x)), None, xs)
    return ys
