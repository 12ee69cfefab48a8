"""Contractions through an optimized BLAS: SciPy's `cython_blas` gemm, called through a
function pointer (as Numba does).

The generated code calls the external symbols `kiln_blas_sgemm`, `_dgemm`, `_cgemm` and
`_zgemm` (complex: alpha and beta are complex too), which the loader binds to those pointers,
so the object code stays relocatable.

Row-major C[M,N] = A[M,K] B[K,N] is, read column-major, C^T = B^T A^T: gemm is called with the
operands swapped. An operand stored with its contracted dimension first ([K,M] or [N,K]) is
passed transposed. Batch dimensions must lead in both operands; other layouts run as loops.
"""
from __future__ import annotations

import ctypes
import math

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.types import I8, I32, I64, PTR, constant, register_type
from kiln.ir import DimExpr

GEMM = {np.dtype(np.float32): "sgemm", np.dtype(np.float64): "dgemm",
        np.dtype(np.complex64): "cgemm", np.dtype(np.complex128): "zgemm"}
MIN_WORK = 4096  # multiply-adds below which the inlined loops win over a call


def gemm_pointers() -> dict:
    """name -> address of SciPy's gemm functions."""
    from scipy.linalg import cython_blas
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    name = ctypes.pythonapi.PyCapsule_GetName
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    out = {}
    for fn in GEMM.values():
        capsule = cython_blas.__pyx_capi__[fn]
        out["kiln_blas_" + fn] = get(capsule, name(capsule))
    return out


def _layout(dims, batch, free, contract):
    """'N' if the operand is stored [batch, free, contract], 'T' if [batch, contract, free],
    None otherwise (both groups must be contiguous and in order)."""
    order = list(batch) + list(free) + list(contract)
    if order == list(range(dims)):
        return "N"
    if list(batch) + list(contract) + list(free) == list(range(dims)):
        return "T"
    return None


def try_gemm(cg, eqn) -> bool:
    lhs, rhs = eqn.inputs
    out = eqn.outputs[0]
    dtype = out.aval.dtype
    if dtype not in GEMM or lhs.aval.dtype != dtype or rhs.aval.dtype != dtype:
        return False
    (lc, rc), (lb, rb) = eqn.params["dimension_numbers"]
    if list(lb) != list(range(len(lb))) or list(rb) != list(range(len(rb))) or not lc:
        return False
    lfree = [d for d in range(lhs.aval.ndim) if d not in lc and d not in lb]
    rfree = [d for d in range(rhs.aval.ndim) if d not in rc and d not in rb]
    # row-major [.., M, K] for lhs and [.., K, N] for rhs are 'N'
    l_layout = _layout(lhs.aval.ndim, lb, lfree, lc)
    r_layout = _layout(rhs.aval.ndim, rb, rc, rfree)
    if l_layout is None or r_layout is None or list(lc) != sorted(lc) or list(rc) != sorted(rc):
        return False
    size = lambda x, dims: math.prod(x.aval.shape[d] for d in dims)
    batch, m, n, k = size(lhs, lb), size(lhs, lfree), size(rhs, rfree), size(lhs, lc)
    if m == 0 or n == 0:
        return False
    work = m * n * k
    if not isinstance(work, DimExpr) and work < MIN_WORK:  # (symbolic: BLAS, sized when it runs)
        return False
    if k == 0:
        return False  # the loops write the zeros
    _call_gemm(cg, GEMM[dtype], dtype, lhs, rhs, out, l_layout, r_layout, batch, m, n, k)
    return True


def _call_gemm(cg, name, dtype, lhs, rhs, out, l_layout, r_layout, batch, m, n, k):
    b, t = cg.b, register_type(dtype)
    fn = cg.module.globals.get("kiln_blas_" + name)
    if fn is None:
        fn = ir.Function(cg.module, ir.FunctionType(ir.VoidType(), [PTR] * 13), "kiln_blas_" + name)

    def slot(typ, value):
        p = cg.entry_alloca(typ)
        if isinstance(value, DimExpr):
            value = b.trunc(cg.i64(value), typ)
        b.store(value if isinstance(value, (ir.Constant, ir.Instruction)) else ir.Constant(typ, value), p)
        return p

    # C^T (N x M) = op(rhs') (N x K) . op(lhs') (K x M), all column-major
    trans_a = slot(I8, ord(r_layout == "N" and "N" or "T"))
    trans_b = slot(I8, ord(l_layout == "N" and "N" or "T"))
    lda = n if r_layout == "N" else k
    ldb = k if l_layout == "N" else m
    args_static = [slot(I32, n), slot(I32, m), slot(I32, k), slot(t, constant(dtype, 1))]
    lda_p, ldb_p, beta, ldc = slot(I32, lda), slot(I32, ldb), slot(t, constant(dtype, 0)), slot(I32, n)
    base = {v: cg.ptrs[cg.plan.views.get(v, v)] for v in (lhs, rhs, out)}

    def at(v, i, size):
        offset = b.mul(i, cg.i64(size))
        return b.gep(base[v], [offset], inbounds=True, source_etype=t)

    def one(i):
        b.call(fn, [trans_a, trans_b, *args_static[:3], args_static[3], at(rhs, i, k * n), lda_p,
                    at(lhs, i, m * k), ldb_p, beta, at(out, i, m * n), ldc])
    if batch == 1:
        one(ir.Constant(I64, 0))
    else:
        cg.loop(batch, one)
