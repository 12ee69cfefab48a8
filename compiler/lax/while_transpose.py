"""Reverse mode through a while loop whose trip count depends on the data.

kiln's IR is statically shaped, so the backward pass cannot keep a growing tape of carries.
It checkpoints into static-size buffers instead. With N the trip count (counted by the primal
loop, a residual) and C the capacity of a buffer (`capacity`: a memory budget over the byte
size of the primal carry, between MIN_CHECKPOINTS and MAX_CHECKPOINTS):

1. *Checkpoint*: rerun the loop from the initial carry, saving every s-th carry,
   s = max(1, ceil(N / C)), into a [C, ...] buffer: segments of s iterations, at most C of them.
2. *Backward*: for each segment, last to first, recompute its <= s carries from the segment's
   checkpoint into a second [C, ...] buffer (possible when s <= C, that is N <= C**2), then walk
   them backwards applying the transposed tangent body to the carry cotangent, summing the
   cotangents of loop invariants. When s > C, each carry is recomputed from the segment's
   checkpoint instead (O(s**2) steps per segment: correct, slower).

Memory: 2 C carries. Compute: the primal loop, then 2 more forward passes and N backward steps
when N <= C**2. Everything is kiln IR (while, dynamic_slice, dynamic_update_slice), so it runs on
every backend and composes with jit, vmap (each trip count is a value, so lanes may differ) and
further differentiation.
"""
from __future__ import annotations

import numpy as np

from kiln.interpret import inline
from kiln.ir import Program
from kiln.lax.subprograms import backward_program, dce, primal_part
from kiln.lax.while_rules import overflow_poison
from kiln.primitives import aval_of

BUDGET_BYTES = 32 * 2 ** 20  # per buffer of saved carries (two are live)
MIN_CHECKPOINTS = 16
MAX_CHECKPOINTS = 1024


def capacity(avals) -> int:
    """How many carries of these avals a buffer holds."""
    nbytes = max(1, sum(int(np.prod(a.shape, dtype=np.int64)) * a.dtype.itemsize for a in avals))
    return max(1, min(MAX_CHECKPOINTS, max(MIN_CHECKPOINTS, BUDGET_BYTES // nbytes)))


def _split(values, flags):
    return [v for v, f in zip(values, flags) if not f], [v for v, f in zip(values, flags) if f]


def transpose_tangent_loop(cts, *operands, cond, body, n_cond_extras, n_body_extras, tangent_mask=None):
    """The transpose rule of `while`: `operands` as laid out by `while_rules.tangent_loop`."""
    from kiln.passes.jvp import instantiate, zeros
    from kiln.passes.transpose import is_linear
    if tangent_mask is None or n_cond_extras != 1:
        raise NotImplementedError("kiln: transpose of a while loop that is not the tangent loop of a while loop")
    for x, f in zip(operands, tangent_mask):
        if is_linear(x) and not f:
            raise NotImplementedError("kiln: transpose of a while loop with respect to a primal operand")
    trips, ops, mask = operands[0], operands[1:], tangent_mask[1:]
    nbe = n_body_extras
    pe, _ = _split(ops[:nbe], mask[:nbe])
    pc0, _ = _split(ops[nbe:], mask[nbe:])
    b_pe, b_et = _split(body.inputs[:nbe], mask[:nbe])
    b_pc, b_tc = _split(body.inputs[nbe:], mask[nbe:])
    o_pc, o_tc = _split(body.outputs, mask[nbe:])
    step_program = primal_part(body, b_pe + b_pc, o_pc)
    tangent_step = dce(Program(tuple(b_pe + b_pc + b_et + b_tc), body.eqns, tuple(o_tc)))
    step_back = backward_program(tangent_step, len(b_pe) + len(b_pc))

    def step(pc):
        return inline(step_program, pe + list(pc))

    def back(pc, ct):
        outs = inline(step_back, pe + list(pc) + list(ct))
        return outs[:len(b_et)], outs[len(b_et):]

    ct = [instantiate(c, v.aval) for c, v in zip(_split(cts, mask[nbe:])[1], o_tc)]
    acc = [zeros(v.aval) for v in b_et]
    ct, acc = reverse_walk(step, back, list(pc0), trips, ct, acc)
    poison = overflow_poison(trips)
    if poison is not None:  # an int32 count that overflowed walked no iteration: NaN, not wrong
        ct, acc = [c * poison for c in ct], [a * poison for a in acc]
    acc_it, ct_it = iter(acc), iter(ct)
    results = [None]
    results += [next(acc_it) if f else None for f in mask[:nbe]]
    results += [next(ct_it) if f else None for f in mask[nbe:]]
    return [r if is_linear(x) else None for r, x in zip(results, operands)]


def reverse_walk(step, back, pc0, trips, ct, acc):
    """Apply `back` at the carries of iterations trips-1, ..., 0 of `pc = step(pc)` from `pc0`.

    `back(pc, ct) -> (acc increments, new ct)`. Returns the final (ct, acc)."""
    import kiln.numpy as knp
    from kiln import lax
    from kiln.lax.control_flow import while_loop
    avals = [aval_of(x) for x in pc0]
    cap = capacity(avals)
    count = aval_of(trips).dtype.type  # the counter's dtype, int32 or int64
    zero, one = count(0), count(1)

    def ceil_div(a, b):  # for a >= 0, b > 0, without forming a + b - 1 (which could overflow)
        return knp.where(a > zero, lax.div(a - one, b) + one, zero)

    stride = knp.maximum(ceil_div(trips, count(cap)), one)
    n_seg = ceil_div(trips, stride)

    def run(pc, n):
        return while_loop(lambda s: s[0] < n, lambda s: (s[0] + 1, step(s[1])), (zero, pc))[1]

    def checkpoint(state):
        j, pc, bufs = state
        return j + 1, run(pc, knp.minimum(stride, trips - j * stride)), _save(bufs, j, pc)

    _, _, bufs = while_loop(lambda s: s[0] < n_seg, checkpoint, (zero, pc0, _fill(pc0, cap)))

    def segment(state):
        j, ct, acc = state
        pc = _load(bufs, j, avals)
        length = knp.minimum(stride, trips - j * stride)

        def record(s):
            k, pc, saved = s
            return k + 1, step(pc), _save(saved, k, pc)

        def walk(s):
            k, ct, acc = s
            d_acc, ct = back(_load(saved, k - 1, avals), ct)
            return k - 1, list(ct), [a + d for a, d in zip(acc, d_acc)]

        def walk_slow(s):
            k, ct, acc = s
            d_acc, ct = back(run(pc, k - 1), ct)
            return k - 1, list(ct), [a + d for a, d in zip(acc, d_acc)]

        # One of the two walks runs (both are loops, so that vmap lanes may take either).
        fast = knp.where(stride <= cap, length, zero)
        _, _, saved = while_loop(lambda s: s[0] < fast, record, (zero, pc, _fill(pc, cap)))
        _, ct, acc = while_loop(lambda s: s[0] > 0, walk, (fast, ct, acc))
        _, ct, acc = while_loop(lambda s: s[0] > 0, walk_slow, (knp.where(stride > cap, length, zero), ct, acc))
        return j - 1, ct, acc

    _, ct, acc = while_loop(lambda s: s[0] >= 0, segment, (n_seg - 1, ct, acc))
    return ct, acc


def _fill(pc, cap):
    """A [cap, ...] buffer per carry leaf, every slot holding `pc` (so that every slot is a
    carry the body can run on, even in lanes of a vmap that are done)."""
    import kiln.numpy as knp
    return [knp.broadcast_to(knp.reshape(x, (1,) + aval_of(x).shape), (cap,) + aval_of(x).shape) for x in pc]


def _save(bufs, k, pc):
    from kiln import lax
    import kiln.numpy as knp
    return [lax.dynamic_update_slice(b, knp.reshape(x, (1,) + aval_of(x).shape), (k,) + (0,) * len(aval_of(x).shape))
            for b, x in zip(bufs, pc)]


def _load(bufs, k, avals):
    from kiln import lax
    import kiln.numpy as knp
    return [knp.reshape(lax.dynamic_slice(b, (k,) + (0,) * len(a.shape), (1,) + a.shape), a.shape)
            for b, a in zip(bufs, avals)]
