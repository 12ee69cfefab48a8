"""Linear algebra through LAPACK: SciPy's `cython_lapack` routines, called through function
pointers as `blas.py` calls gemm (the generated code calls `kiln_lapack_<name>`, bound to
SciPy's pointer when first used, so the object code stays relocatable).

qr is what the reference does (`scipy.linalg.qr`): geqrf, then orgqr (complex: ungqr) on the
reflectors, with
the workspace sizes LAPACK asks for, so the factors are the reference's bit for bit. LAPACK
is column-major: each matrix is copied in transposed, and q and r are copied out row-major.
Leading (batch) dimensions are a loop.
"""
from __future__ import annotations

import ctypes
import functools

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.plan import UnsupportedError
from kiln.backends.llvm.types import I1, I32, I64, PTR, VOID, constant, register_type

__all__ = ["qr"]

_PREFIX = {np.dtype(np.float32): "s", np.dtype(np.float64): "d",
           np.dtype(np.complex64): "c", np.dtype(np.complex128): "z"}
_DTYPE = {prefix: dtype for dtype, prefix in _PREFIX.items()}


@functools.lru_cache(maxsize=None)
def _bind(routine: str) -> str:
    """The symbol of SciPy's LAPACK `routine`, bound for the JIT's linker."""
    import llvmlite.binding as llvm
    from scipy.linalg import cython_lapack
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    name = ctypes.pythonapi.PyCapsule_GetName
    name.restype, name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    capsule = cython_lapack.__pyx_capi__[routine]
    symbol = "kiln_lapack_" + routine
    llvm.add_symbol(symbol, get(capsule, name(capsule)))
    return symbol


def _generate_q(prefix) -> str:
    return prefix + ("ungqr" if prefix in "cz" else "orgqr")


def _workspace(prefix, m, n, k, q_cols) -> tuple[int, int]:
    """The work sizes geqrf and orgqr ask for (scipy.linalg.qr's `safecall` queries)."""
    from scipy.linalg import lapack
    dtype = _DTYPE[prefix]
    geqrf_work = int(np.real(getattr(lapack, prefix + "geqrf_lwork")(m, n)[0]))
    _, work, _ = getattr(lapack, _generate_q(prefix))(np.zeros((m, q_cols), dtype, order="F"),
                                                      np.zeros(k, dtype), lwork=-1)
    return max(geqrf_work, 1), max(int(np.real(work[0])), 1)


def _call(cg, routine, args):
    symbol = _bind(routine)
    fn = cg.module.globals.get(symbol) or ir.Function(
        cg.module, ir.FunctionType(VOID, [PTR] * len(args)), symbol)
    cg.b.call(fn, args)


def qr(cg, eqn):
    (x,), (q, r) = eqn.inputs, eqn.outputs
    dtype = x.aval.dtype
    if dtype not in _PREFIX:
        raise UnsupportedError(f"kiln LLVM backend: qr of {dtype.name} has no lowering yet")
    prefix, t, b = _PREFIX[dtype], register_type(dtype), cg.b
    *batch, m, n = x.aval.shape
    k = min(m, n)
    q_cols, r_rows = q.aval.shape[-1], r.aval.shape[-2]
    count = int(np.prod(batch, dtype=np.int64))
    if count == 0 or m == 0:
        return

    def at(base, linear):
        return b.gep(base, [linear], inbounds=True, source_etype=t)

    def i64(v):
        return ir.Constant(I64, v)

    src, q_out, r_out = cg.pointer(x), cg.ptrs[q], cg.ptrs[r]

    def row_major(base, s, i, j, rows, cols):  # base[s, i, j] of [count, rows, cols]
        return at(base, b.add(b.mul(s, i64(rows * cols)), b.add(b.mul(i, i64(cols)), j)))

    def column_major(base, i, j):  # base[i + j m]: one matrix as LAPACK stores it
        return at(base, b.add(i, b.mul(j, i64(m))))

    if k == 0:  # no reflectors: q is the identity's first columns, r is empty
        def identity(s):
            def put(index):
                i, j = index
                value = b.select(b.icmp_unsigned("==", i, j), constant(dtype, 1), constant(dtype, 0))
                b.store(value, row_major(q_out, s, i, j, m, q_cols))
            cg.nest((m, q_cols), put)
        cg.loop(count, identity)
        return

    geqrf_work, orgqr_work = _workspace(prefix, m, n, k, q_cols)
    malloc = lambda items: cg.external("malloc", PTR, [i64(max(items, 1) * dtype.itemsize)])
    a, tau, q_cm = malloc(m * n), malloc(k), malloc(m * q_cols)
    work = malloc(max(geqrf_work, orgqr_work))

    def slot(value):
        p = cg.entry_alloca(I32)
        b.store(ir.Constant(I32, value), p)
        return p
    m_p, n_p, k_p, q_cols_p = slot(m), slot(n), slot(k), slot(q_cols)
    geqrf_lwork, orgqr_lwork, info = slot(geqrf_work), slot(orgqr_work), cg.entry_alloca(I32)

    def one(s):
        # a (column-major, m x n) = x[s]
        def copy_in(index):
            b.store(b.load(row_major(src, s, *index, m, n), typ=t), column_major(a, *index))
        cg.nest((m, n), copy_in)
        _call(cg, prefix + "geqrf", [m_p, n_p, a, m_p, tau, work, geqrf_lwork, info])

        def copy_r(index):  # the upper triangle of a's first r_rows rows
            i, j = index
            value = b.load(column_major(a, i, j), typ=t)
            upper = b.icmp_unsigned("<=", i, j)
            b.store(b.select(upper, value, constant(dtype, 0)), row_major(r_out, s, i, j, r_rows, n))
        cg.nest((r_rows, n), copy_r)
        # the reflectors are a's first columns, contiguous in column-major order
        _memmove(cg, q_cm, a, min(n, q_cols) * m * dtype.itemsize)
        _call(cg, _generate_q(prefix), [m_p, q_cols_p, k_p, q_cm, m_p, tau, work, orgqr_lwork, info])

        def copy_q(index):
            b.store(b.load(column_major(q_cm, *index), typ=t), row_major(q_out, s, *index, m, q_cols))
        cg.nest((m, q_cols), copy_q)
    cg.loop(count, one)
    for p in (a, tau, q_cm, work):
        cg.external("free", VOID, [p])


def _memmove(cg, dst, src, nbytes):
    fn = cg.module.globals.get("llvm.memmove.p0.p0.i64") or ir.Function(
        cg.module, ir.FunctionType(VOID, [PTR, PTR, I64, I1]), "llvm.memmove.p0.p0.i64")
    cg.b.call(fn, [dst, src, ir.Constant(I64, nbytes), ir.Constant(I1, 0)])
