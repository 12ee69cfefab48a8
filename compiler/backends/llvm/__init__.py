"""The LLVM CPU backend: kiln IR -> LLVM IR (llvmlite) -> machine code for this host.

    plan.py        which values are stored and which are fused into which loop nest
    codegen.py     the loop nests, as one function `kiln_entry(ptr* buffers)`
    reductions.py  reductions, cumulative operations and contractions
    indexing.py    gather and scatter
    sort.py        sort (a stable merge sort of a permutation)
    control.py     cond, while and scan
    lowerings.py   each elementwise primitive on one element
    complex.py     complex64/complex128 values as {re, im} structs, and their rules
    complex_math.py  complex arithmetic as NumPy computes it, and the C library's cexp, ...
    mathlib.py     transcendental functions as vectorizable instructions (float32 exp/log/
                   log1p/rsqrt as XLA computes them, tanh, sin, cos, float64 log/log1p), with
    mathlib_exp.py     float64 exp, exp2, expm1, sinh, cosh, float64 tanh
    mathlib_trig.py    float64 sin/cos, tan, atan, atan2
    mathlib_inverse.py cbrt, asinh, acosh, atanh
    blas.py        contractions through SciPy's BLAS
    parallel.py    large loops split across the cores (pthreads)
    engine.py      target machine, optimisation pipeline, JIT, object code, KILN_DUMP

`compile_program(program, name)` returns `run(*inputs) -> tuple of NumPy arrays`, the same
interface as the reference backend's.
"""
from kiln.backends.llvm.engine import compile_program
from kiln.backends.llvm.plan import UnsupportedError

__all__ = ["compile_program", "UnsupportedError"]
