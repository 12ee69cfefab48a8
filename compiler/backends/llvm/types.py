"""NumPy dtypes as LLVM types, constants of them, and sizes that may be symbolic."""
from __future__ import annotations

import numpy as np
from llvmlite import ir

from kiln.ir import DimExpr

I1, I8, I32, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
F32, F64 = ir.FloatType(), ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()


def register_type(dtype) -> ir.Type:
    """The type a value has in registers (bool is i1)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return I1
    if dtype.kind in "iu":
        return ir.IntType(8 * dtype.itemsize)
    if dtype == np.float32:
        return F32
    if dtype == np.float64:
        return F64
    if dtype == np.float16:  # computed as float32, see half.py
        return ir.HalfType()
    if dtype.kind == "c":  # {re, im}: NumPy's interleaved layout (see complex.py)
        part = register_type(np.finfo(dtype).dtype)
        return ir.LiteralStructType([part, part])
    raise NotImplementedError(f"kiln LLVM backend: dtype {dtype.name} is not supported yet")


def memory_type(dtype) -> ir.Type:
    """The type a value has in memory (bool is one byte, as in NumPy)."""
    return I8 if np.dtype(dtype) == np.bool_ else register_type(dtype)


def constant(dtype, value) -> ir.Constant:
    dtype = np.dtype(dtype)
    value = np.asarray(value).astype(dtype)[()]
    if dtype.kind == "f":
        return ir.Constant(register_type(dtype), float(value))
    if dtype.kind == "c":
        part = np.finfo(dtype).dtype
        return ir.Constant(register_type(dtype), [constant(part, value.real), constant(part, value.imag)])
    if dtype == np.bool_:
        return ir.Constant(I1, int(bool(value)))
    bits = 8 * dtype.itemsize
    value = int(value) & ((1 << bits) - 1)  # LLVM spells integer constants signed
    return ir.Constant(register_type(dtype), value - (1 << bits) if value >> (bits - 1) else value)


def is_float(dtype) -> bool:
    return np.dtype(dtype).kind == "f"


def is_signed(dtype) -> bool:
    return np.dtype(dtype).kind == "i"


def at_least_1(size):
    """max(size, 1); a symbolic size is at least 1 already (see codegen.py)."""
    return size if isinstance(size, DimExpr) else max(size, 1)


def last_index(n):
    """The last index of a dimension of size n (0 for an empty one)."""
    return n - 1 if isinstance(n, DimExpr) else max(n - 1, 0)
