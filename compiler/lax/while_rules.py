"""The while primitive: `while cond(*cond_extras, *carry): carry = body(*body_extras, *carry)`.

Operands: cond extras, body extras, carry (`n_cond_extras`, `n_body_extras` say where they
split). Differentiation keeps the loop structured, as for scan, but the trip count depends on
the data:

- jvp emits the primal loop, counting its trips N as one more carry, and a *tangent* loop
  `for i < N` over (primal carry, tangents) that recomputes the primal carry as it goes. The
  tangent loop is marked by `tangent_mask` (which operands are tangents); its layout is fixed:
  cond extras `(N,)`, body extras `(*primal, *tangent)`, carry `(i, *primal, *tangent)`.
  Partial evaluation needs no residuals from inside an iteration: N and the initial carry.
- Transposing a tangent loop (`while_transpose.py`) walks the iterations N-1..0 with
  bounded-memory checkpointing.
- N is counted in the widest integer there is: int64 with x64 on (2**63 - 1 trips, centuries
  of compute, cannot overflow in practice). With x64 off it is an int32, which a loop of 2**31
  trips would overflow: the count saturates at -1, "too many to count" (`count_trip`), and the
  derivatives of such a loop are NaN (`overflow_poison`), never those of a wrapped count.
  (Compiled code cannot raise at run time; NaN is how a kiln or JAX program reports a value it
  could not compute. Turn x64 on to differentiate loops that long.)
- A batched predicate runs the loop until every lane is done; lanes that are done keep their
  carry.
"""
from __future__ import annotations

import numpy as np

from kiln.interpret import inline
from kiln.ir import Program, ShapedArray
from kiln.lax.subprograms import as_callable, carry_flags, check_same, front_all, stage_body, with_inputs
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules, vmap_rules
from kiln.runtime.config import config
from kiln.staging import Builder

while_p = primitive("while", multiple_results=True)

INT32_MAX = np.iinfo(np.int32).max


def counter_aval() -> ShapedArray:
    """The trip counter of a differentiated loop: the widest integer (see the module docstring)."""
    return ShapedArray((), np.dtype(np.int64 if config.x64_enabled else np.int32), False)


def count_trip(n):
    """n + 1 for a trip counter; an int32 counter saturates at -1 instead of overflowing."""
    if aval_of(n).dtype == np.int64:
        return n + np.int64(1)
    import kiln.numpy as knp
    overflowed = (n < np.int32(0)) | (n == np.int32(INT32_MAX))
    # minimum(): n + 1 is never computed at the top, not even in the branch where() drops.
    return knp.where(overflowed, np.int32(-1), knp.minimum(n, np.int32(INT32_MAX - 1)) + np.int32(1))


def overflow_poison(trips):
    """1, or NaN where the int32 count `trips` overflowed: derivatives times it are NaN there.
    None for an int64 count, which does not overflow."""
    if aval_of(trips).dtype == np.int64:
        return None
    import kiln.numpy as knp
    # Python floats are weakly typed: the product keeps the dtype and weak type of `like`.
    return knp.where(trips < np.int32(0), float("nan"), 1.0)


def _while_shape(*operands, cond, body, n_cond_extras, n_body_extras, tangent_mask=None):
    carry = operands[n_cond_extras + n_body_extras:]
    check_same("while_loop's body output and carry", [v.aval for v in body.outputs], list(carry))
    pred = cond.outputs[0].aval
    if pred.shape != () or pred.dtype != np.bool_:
        raise TypeError(f"while_loop: cond_fun must return a boolean scalar, got {pred.str_short()}")
    return list(carry)


def _while_impl(*operands, cond, body, n_cond_extras, n_body_extras, tangent_mask=None):
    cond_extras = list(operands[:n_cond_extras])
    body_extras = list(operands[n_cond_extras:n_cond_extras + n_body_extras])
    carry = list(operands[n_cond_extras + n_body_extras:])
    cond_fn, body_fn = as_callable(cond), as_callable(body)
    while bool(cond_fn(*cond_extras, *carry)[0]):
        carry = list(body_fn(*body_extras, *carry))
    return carry


# ---------------------------------------------------------------------------- jvp

def counting_loop(cond: Program, body: Program, counter: ShapedArray):
    """(cond, body) of the same loop with a trip counter of aval `counter` as its last carry."""
    with Builder("body") as b:
        ins = [b.new_input(v.aval) for v in body.inputs]
        n = b.new_input(counter)
        outs = inline(body, ins) + [count_trip(n)]
    counted = b.build(outs)
    return with_inputs(cond, after=[counter]), counted


def tangent_loop(jp: Program, n_be: int, n_c: int, extra_flags, flags, counter: ShapedArray):
    """(cond, body) of the tangent loop of `jp`, the jvp of a body (inputs: body extras, carry,
    extra tangents, carry tangents; outputs: carry, every carry's tangent), counting its trips
    in `counter`'s dtype."""
    n_et, n_ct = sum(extra_flags), sum(flags)
    ins = list(jp.inputs)
    be, c = ins[:n_be], ins[n_be:n_be + n_c]
    et, ct = ins[n_be + n_c:n_be + n_c + n_et], ins[n_be + n_c + n_et:]
    with Builder("body") as b:
        be_in, et_in = [b.new_input(v.aval) for v in be], [b.new_input(v.aval) for v in et]
        i = b.new_input(counter)
        c_in, ct_in = [b.new_input(v.aval) for v in c], [b.new_input(v.aval) for v in ct]
        outs = inline(jp, be_in + c_in + et_in + ct_in)
        new_ct = [o for o, f in zip(outs[n_c:], flags) if f]
        result = [i + counter.dtype.type(1)] + outs[:n_c] + new_ct  # i < N: no overflow
    t_body = b.build(result)
    with Builder("cond") as b:
        n, i = b.new_input(counter), b.new_input(counter)
        for v in c + ct:
            b.new_input(v.aval)
        t_cond = b.build([i < n])
    mask = (False,) + (False,) * n_be + (True,) * n_et + (False,) * (1 + n_c) + (True,) * n_ct
    return t_cond, t_body, mask


def _while_jvp(primals, tangents, *, cond, body, n_cond_extras, n_body_extras, tangent_mask=None):
    from kiln.passes.jvp import instantiate, jvp_program
    n_extras = n_cond_extras + n_body_extras
    carry = primals[n_extras:]
    extra_flags = [t is not None for t in tangents[n_cond_extras:n_extras]]
    flags = carry_flags(body, extra_flags, [t is not None for t in tangents[n_extras:]])
    params = dict(n_cond_extras=n_cond_extras, n_body_extras=n_body_extras)
    if not any(flags):
        return bind(while_p, *primals, cond=cond, body=body, **params), [None] * len(carry)
    # The primal loop also counts its trips: the tangent loop runs that many, and reverse mode
    # needs the count (a residual).
    counter = counter_aval()
    zero = counter.dtype.type(0)
    c_cond, c_body = counting_loop(cond, body, counter)
    *outs, trips = bind(while_p, *primals, zero, cond=c_cond, body=c_body, **params)
    jp = jvp_program(body, extra_flags + flags)
    t_cond, t_body, mask = tangent_loop(jp, n_body_extras, len(carry), extra_flags, flags, counter)
    extra_ts = [t for t in tangents[n_cond_extras:n_extras] if t is not None]
    carry_ts = [instantiate(t, aval_of(x)) for t, x, f in zip(tangents[n_extras:], carry, flags) if f]
    t_outs = bind(while_p, trips, *primals[n_cond_extras:n_extras], *extra_ts, zero, *carry, *carry_ts,
                  cond=t_cond, body=t_body, n_cond_extras=1, n_body_extras=n_body_extras + len(extra_ts),
                  tangent_mask=mask)
    t_outs = t_outs[1 + len(carry):]
    poison = overflow_poison(trips)
    if poison is not None:  # linear in the tangents: reverse mode transposes it
        t_outs = [t * poison for t in t_outs]
    t_iter = iter(t_outs)
    return outs, [next(t_iter) if f else None for f in flags]


def _while_transpose(cts, *operands, **params):
    from kiln.lax.while_transpose import transpose_tangent_loop
    return transpose_tangent_loop(cts, *operands, **params)


shape_rules[while_p] = _while_shape
impl_rules[while_p] = _while_impl
jvp_rules[while_p] = _while_jvp
transpose_rules[while_p] = _while_transpose


# ---------------------------------------------------------------------------- batching

def _while_batch(args, dims, *, cond, body, n_cond_extras, n_body_extras, tangent_mask=None):
    # The batched loop is an ordinary while (its tangent layout is not kept).
    from kiln.passes.vmap import batch_size, with_batch, vmap_eval
    size = batch_size(args, dims)
    args, dims = front_all(args, dims)
    n_extras = n_cond_extras + n_body_extras
    cond_extras, body_extras = args[:n_cond_extras], args[n_cond_extras:n_extras]
    ce_dims, be_dims = dims[:n_cond_extras], dims[n_cond_extras:n_extras]
    # Every carry is batched: lanes finish at different steps.
    carry = [with_batch(x, d, size) for x, d in zip(args[n_extras:], dims[n_extras:])]
    carry_avals = [aval_of(c) for c in carry]

    def batched_pred(c_extras, carry_values):
        (pred,), (d,) = vmap_eval(cond, list(c_extras) + list(carry_values),
                                  list(ce_dims) + [0] * len(carry_values))
        return pred, d

    def new_cond(*vals):
        import kiln.numpy as knp
        pred, d = batched_pred(vals[:n_cond_extras], vals[n_extras:])  # skip the body's extras
        return knp.any(pred) if d is not None else pred

    def new_body(*vals):
        import kiln.numpy as knp
        c_extras = vals[:n_cond_extras]
        b_extras = vals[n_cond_extras:n_extras]
        current = vals[n_extras:]
        outs, ods = vmap_eval(body, list(b_extras) + list(current), list(be_dims) + [0] * len(current))
        outs = [with_batch(o, d, size) for o, d in zip(outs, ods)]
        pred, d = batched_pred(c_extras, current)
        if d is None:
            return outs
        # Lanes that are done keep their carry.
        return [knp.where(knp.reshape(pred, (size,) + (1,) * (len(aval_of(o).shape) - 1)), o, c)
                for o, c in zip(outs, current)]

    extra_avals = [aval_of(x) for x in list(cond_extras) + list(body_extras)]
    cond_prog, c_ex, _ = stage_body(lambda *v: new_cond(*v), extra_avals + carry_avals, "cond")
    body_prog, b_ex, _ = stage_body(lambda *v: new_body(*v), extra_avals + carry_avals, "body")
    # Each program takes its own extras, then (cond extras, body extras, carry), as staged.
    outs = bind(while_p, *c_ex, *cond_extras, *body_extras, *b_ex, *cond_extras, *body_extras, *carry,
                cond=cond_prog, body=body_prog, n_cond_extras=len(c_ex) + n_extras,
                n_body_extras=len(b_ex) + n_extras)
    return outs, [0] * len(outs)


vmap_rules[while_p] = _while_batch
