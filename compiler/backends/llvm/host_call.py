"""Operations the compiled code hands back to their reference implementation.

LAPACK's factorizations (cholesky, lu, eigh, svd) and BLAS's triangular solve are library
calls on every backend; XLA:CPU calls the same routines. Rather than marshal each routine's
arguments in LLVM IR (as `linalg.qr` does), the generated code calls a C-callable Python
function with two tables of pointers, the operands' and the results' buffers; the function
views them as NumPy arrays and runs the primitive's `impl_rules` entry, which calls LAPACK
through SciPy. The cost is one Python call per operation (a few microseconds), small beside
a factorization; the results are the reference backend's bit for bit.

One callback exists per operation signature (primitive, parameters, operand and result
types), bound for the JIT's linker under a name derived from that signature, so equal
programs give equal IR (and hit `engine.machine_code`'s cache). Symbolic sizes (dynamic
dims) are read from the program's sizes table, passed as a third argument.

An exception cannot unwind through compiled code: the callback keeps it, fills the results
with NaN (or zeros), and `Run.__call__` raises it once the entry returns. Programs with host
calls therefore take that general path, never the native entry (`uses_host_calls`).
"""
from __future__ import annotations

import ctypes
import hashlib
import threading

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.plan import HOST_CALLS
from kiln.backends.llvm.types import PTR, VOID
from kiln.ir import DimExpr, Literal, literal_value
from kiln.primitives import impl_rules

_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p),
                             ctypes.POINTER(ctypes.c_int64))
_callbacks: dict[str, object] = {}   # symbol -> the ctypes callback (kept alive)
_errors = threading.local()           # .pending: errors raised in this thread's callbacks


def uses_host_calls(plan) -> bool:
    from kiln.ir import sub_programs

    def walk(program):
        return any(e.prim.name in HOST_CALLS or any(walk(p) for p in sub_programs(e)) for e in program.eqns)
    return walk(plan.program)


def _view(address, shape, dtype):
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    if count == 0:
        return np.empty(shape, dtype)
    buffer = (ctypes.c_char * (count * dtype.itemsize)).from_address(address)
    return np.frombuffer(buffer, dtype).reshape(shape)


def _concrete(shape, sizes):
    return tuple(d.evaluate(sizes) if isinstance(d, DimExpr) else d for d in shape)


def _callback(eqn, symbols):
    """The symbol of the callback running `eqn`'s primitive on buffers of its types (whose
    symbolic sizes, of `symbols`, it reads from the program's sizes table)."""
    avals = [v.aval for v in (*eqn.inputs, *eqn.outputs)]
    literals = {k: np.asarray(literal_value(a), a.aval.dtype) for k, a in enumerate(eqn.inputs)
                if isinstance(a, Literal)}
    signature = repr((eqn.prim.name, sorted(eqn.params.items()), [a.str_short() for a in avals], symbols,
                      {k: v.tobytes() for k, v in literals.items()}))
    symbol = "kiln_host_" + eqn.prim.name + "_" + hashlib.sha1(signature.encode()).hexdigest()[:16]
    if symbol in _callbacks:
        return symbol
    prim, params = eqn.prim, dict(eqn.params)
    ins = [(v.aval.shape, v.aval.dtype) for v in eqn.inputs]
    outs = [(v.aval.shape, v.aval.dtype) for v in eqn.outputs]

    def run(in_table, out_table, size_table):
        sizes = {name: size_table[k] for k, name in enumerate(symbols)}
        results = [_view(out_table[k], _concrete(shape, sizes), dtype) for k, (shape, dtype) in enumerate(outs)]
        try:
            args = [np.broadcast_to(literals[k], _concrete(shape, sizes)) if k in literals
                    else _view(in_table[k], _concrete(shape, sizes), dtype) for k, (shape, dtype) in enumerate(ins)]
            values = impl_rules[prim](*args, **params)
            for result, value in zip(results, values):
                result[...] = value
        except BaseException as e:  # kept for the caller: it cannot unwind through compiled code
            _errors.pending = getattr(_errors, "pending", None) or e
            for result in results:
                result[...] = np.nan if result.dtype.kind in "fc" else 0

    import llvmlite.binding as llvm
    callback = _CALLBACK(run)
    _callbacks[symbol] = callback
    llvm.add_symbol(symbol, ctypes.cast(callback, ctypes.c_void_p).value)
    return symbol


def emit(cg, eqn):
    """A call of the operation's callback with its operand and result buffers."""
    symbol = _callback(eqn, cg.symbols)
    b = cg.b

    def table(pointers):
        slots = cg.entry_alloca(PTR, max(len(pointers), 1))
        for k, p in enumerate(pointers):
            b.store(p, b.gep(slots, [ir.Constant(ir.IntType(32), k)], inbounds=True, source_etype=PTR))
        return slots
    null = ir.Constant(PTR, None)
    ins = table([null if isinstance(a, Literal) else cg.pointer(a) for a in eqn.inputs])
    outs = table([cg.ptrs[v] for v in eqn.outputs])
    fn = cg.module.globals.get(symbol) or ir.Function(cg.module, ir.FunctionType(VOID, [PTR, PTR, PTR]), symbol)
    b.call(fn, [ins, outs, cg.sizes_ptr if cg.symbols else null])


def raise_pending():
    """Raise the first error a callback of this thread kept during the last call."""
    error = getattr(_errors, "pending", None)
    if error is not None:
        _errors.pending = None
        raise error
