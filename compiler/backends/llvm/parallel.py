"""Large loop nests split across the cores, with POSIX threads called from the generated code.

A kernel worth splitting is outlined into `void part(ptr* buffers, i64 lo, i64 hi)`, which
runs the outermost loop from lo to hi. The entry stores the kernel's buffer pointers in a
stack table and calls `kiln_parallel_for(part, table, n)`, emitted once per module: it starts
THREADS - 1 threads on equal chunks, runs the first chunk itself and joins them. Small
kernels stay inline on the calling thread (a thread costs tens of microseconds).

`KILN_NUM_THREADS` sets the number of threads (1 turns this off); the default is the number
of cores this process may use.
"""
from __future__ import annotations

import os

from llvmlite import ir

from kiln.backends.llvm.types import I32, I64, PTR, VOID
from kiln.ir import DimExpr

MIN_ELEMENTS = 1 << 17  # elements of work below which a kernel stays on one thread
PART = ir.FunctionType(VOID, [PTR, I64, I64])


def threads() -> int:
    configured = os.environ.get("KILN_NUM_THREADS", "")
    if configured:
        return max(1, int(configured))
    try:
        return max(1, min(len(os.sched_getaffinity(0)), 16))
    except AttributeError:  # not Linux
        return max(1, min(os.cpu_count() or 1, 16))


def worth_splitting(shape, work) -> bool | None:
    """Whether a nest of `work` elements is split; None where that depends on symbolic sizes."""
    if threads() <= 1 or len(shape) == 0:
        return False
    if isinstance(work, DimExpr) or isinstance(shape[0], DimExpr):
        return None
    return shape[0] >= 2 and work >= MIN_ELEMENTS


def _declare(module, name, ret, args):
    fn = module.globals.get(name)
    return fn if fn is not None else ir.Function(module, ir.FunctionType(ret, args), name)


def parallel_for(module) -> ir.Function:
    """`void kiln_parallel_for(ptr part, ptr table, i64 n)`, added to `module` once."""
    existing = module.globals.get("kiln_parallel_for")
    if existing is not None:
        return existing
    n_threads = threads()
    create = _declare(module, "pthread_create", I32, [PTR, PTR, PTR, PTR])
    join = _declare(module, "pthread_join", I32, [I64, PTR])
    # the thread's argument: four pointer-sized words {part, table, lo, hi} (lo, hi as pointers)
    def word(b, base, k):
        return b.gep(base, [ir.Constant(I64, k)], source_etype=PTR)

    trampoline = ir.Function(module, ir.FunctionType(PTR, [PTR]), "kiln_thread_main")
    b = ir.IRBuilder(trampoline.append_basic_block())
    (arg,) = trampoline.args
    fields = [b.load(word(b, arg, k), typ=PTR) for k in range(4)]
    fields[2:] = [b.ptrtoint(f, I64) for f in fields[2:]]
    b.call(_Callee(fields[0]), fields[1:])
    b.ret(ir.Constant(PTR, None))

    fn = ir.Function(module, ir.FunctionType(VOID, [PTR, PTR, I64]), "kiln_parallel_for")
    part, table, n = fn.args
    b = ir.IRBuilder(fn.append_basic_block())
    chunk = b.sdiv(b.add(n, ir.Constant(I64, n_threads - 1)), ir.Constant(I64, n_threads))
    jobs = b.alloca(PTR, ir.Constant(I32, 4 * n_threads))
    ids = b.alloca(I64, ir.Constant(I32, n_threads))
    for t in range(1, n_threads):
        lo = b.mul(chunk, ir.Constant(I64, t))
        lo = b.select(b.icmp_signed("<", lo, n), lo, n)
        hi = b.add(lo, chunk)
        hi = b.select(b.icmp_signed("<", hi, n), hi, n)
        for k, value in enumerate((part, table, b.inttoptr(lo, PTR), b.inttoptr(hi, PTR))):
            b.store(value, word(b, jobs, 4 * t + k))
        slot = word(b, jobs, 4 * t)
        b.call(create, [b.gep(ids, [ir.Constant(I32, t)], source_etype=I64), ir.Constant(PTR, None),
                        trampoline, slot])
    first = b.select(b.icmp_signed("<", chunk, n), chunk, n)
    b.call(_Callee(part), [table, ir.Constant(I64, 0), first])
    for t in range(1, n_threads):
        tid = b.load(b.gep(ids, [ir.Constant(I32, t)], source_etype=I64), typ=I64)
        b.call(join, [tid, ir.Constant(PTR, None)])
    b.ret_void()
    return fn


class _Callee:
    """A function pointer called with PART's type (llvmlite needs the type of an indirect call)."""

    def __init__(self, pointer):
        self.pointer = pointer
        self.function_type = PART
        self.type = PTR

    def get_reference(self):
        return self.pointer.get_reference()
