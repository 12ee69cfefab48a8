"""cond, while and scan as native branches and loops.

Sub-programs are emitted inline (`Codegen.emit_program`) on buffers. Loop-carried values are
double-buffered: an iteration reads the current buffers and writes the other set, then the
two swap, so a body that reads its carry at another index than it writes is still right. At
the end, the carry is moved into the result buffers when it lies in the other set.
"""
from __future__ import annotations

import math

from llvmlite import ir

from kiln.backends.llvm.types import I1, I8, I64, PTR, at_least_1

__all__ = ["emit"]


def emit(cg, eqn):
    {"cond": _cond, "while": _while, "scan": _scan}[eqn.prim.name](cg, eqn, **eqn.params)


def _cond(cg, eqn, *, branches, **_):
    index, *operands = eqn.inputs
    b = cg.b
    ins = [cg.pointer(a) for a in operands]
    outs = [cg.ptrs[v] for v in eqn.outputs]
    if len(branches) == 1:
        cg.emit_program(branches[0], ins, outs)
        return
    i = cg._clamp(cg._i64(index), 0, len(branches) - 1)
    after = cg.fn.append_basic_block("cond.after")
    blocks = [cg.fn.append_basic_block(f"cond.branch{k}") for k in range(len(branches))]
    switch = b.switch(i, blocks[0])
    for k, block in enumerate(blocks[1:], start=1):
        switch.add_case(ir.Constant(I64, k), block)
    for program, block in zip(branches, blocks):
        b.position_at_end(block)
        cg.emit_program(program, ins, outs)
        b.branch(after)
    b.position_at_end(after)


class _Carry:
    """Two sets of buffers for loop-carried values, and the stack slots naming which is current."""

    def __init__(self, cg, results, init):
        self.cg, self.results = cg, results
        b = cg.b
        self.spare = [cg.external("malloc", PTR, [cg.i64(at_least_1(v.aval.size * v.aval.dtype.itemsize))])
                      for v in results]
        self.current, self.other = [], []
        for v, src in zip(results, init):
            cg.copy(cg.ptrs[v], src, v.aval)
        for v, spare in zip(results, self.spare):
            cur, oth = cg.entry_alloca(PTR), cg.entry_alloca(PTR)
            b.store(cg.ptrs[v], cur)
            b.store(spare, oth)
            self.current.append(cur)
            self.other.append(oth)

    def load(self, slots):
        return [self.cg.b.load(s, typ=PTR) for s in slots]

    def swap(self):
        b = self.cg.b
        cur, oth = self.load(self.current), self.load(self.other)
        for c_slot, o_slot, c, o in zip(self.current, self.other, cur, oth):
            b.store(o, c_slot)
            b.store(c, o_slot)

    def finish(self):
        """Move the final carry into the result buffers (a no-op move when it is there) and free
        the spare set."""
        cg = self.cg
        for v, cur in zip(self.results, self.load(self.current)):
            cg.copy(cg.ptrs[v], cur, v.aval)
        for spare in self.spare:
            cg.external("free", ir.VoidType(), [spare])


def _while(cg, eqn, *, cond, body, n_cond_extras, n_body_extras, **_):
    b = cg.b
    operands = [cg.pointer(a) for a in eqn.inputs]
    cond_extras = operands[:n_cond_extras]
    body_extras = operands[n_cond_extras:n_cond_extras + n_body_extras]
    carry = _Carry(cg, list(eqn.outputs), operands[n_cond_extras + n_body_extras:])
    flag = cg.entry_alloca(I8)
    head = cg.fn.append_basic_block("while.head")
    loop = cg.fn.append_basic_block("while.body")
    after = cg.fn.append_basic_block("while.after")
    b.branch(head)
    b.position_at_end(head)
    cg.emit_program(cond, cond_extras + carry.load(carry.current), [flag])
    go = b.trunc(b.load(flag, typ=I8), I1)
    b.cbranch(go, loop, after)
    b.position_at_end(loop)
    cg.emit_program(body, body_extras + carry.load(carry.current), carry.load(carry.other))
    carry.swap()
    b.branch(head)
    b.position_at_end(after)
    carry.finish()


def _scan(cg, eqn, *, body, n_extras, n_carry, length, reverse, **_):
    b = cg.b
    operands = [cg.pointer(a) for a in eqn.inputs]
    extras = operands[:n_extras]
    xs_atoms = eqn.inputs[n_extras + n_carry:]
    xs = operands[n_extras + n_carry:]
    carry = _Carry(cg, list(eqn.outputs[:n_carry]), operands[n_extras:n_extras + n_carry])
    ys = eqn.outputs[n_carry:]

    def row(ptr, aval, j):
        """The j-th slice along the leading axis: contiguous in row-major order."""
        per_row = math.prod(aval.shape[1:]) * aval.dtype.itemsize
        return b.gep(ptr, [b.mul(j, cg.i64(per_row))], inbounds=True, source_etype=I8)

    def step(i):
        j = b.sub(cg.i64(length - 1), i) if reverse else i
        x_rows = [row(p, a.aval, j) for p, a in zip(xs, xs_atoms)]
        y_rows = [row(cg.ptrs[v], v.aval, j) for v in ys]
        cg.emit_program(body, extras + carry.load(carry.current) + x_rows, carry.load(carry.other) + y_rows)
        carry.swap()
    cg.loop(length, step)
    carry.finish()
