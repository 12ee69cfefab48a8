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
                   log1p/rsqrt as XLA computes them, sin and cos as glibc's sinf/cosf),
                   and calls of the C library where XLA makes them
    mathlib_xla.py     XLA's tanh, expm1, logistic, float64 exp/log1p/erf_inv
    mathlib_composite.py  sinh, cosh, exp2, asinh, acosh, atanh, asin, acos as XLA fuses them
    special.py     erf, erfc, lgamma, digamma
    blas.py        contractions through SciPy's BLAS
    parallel.py    large loops split across the cores (pthreads)
    engine.py      target machine, optimisation pipeline, JIT, object code, KILN_DUMP

`compile_program(program, name)` returns `run(*inputs) -> tuple of NumPy arrays`, the same
interface as the reference backend's.
"""
from kiln.backends.llvm.engine import compile_program
from kiln.backends.llvm.plan import UnsupportedError

__all__ = ["compile_program", "UnsupportedError"]
