"""The host's C library functions that XLA:CPU calls, on NumPy arrays, and the CPU's rsqrtss
estimate: loops compiled for this CPU with llvmlite (x86-64 only), each calling the function
on every element, so that the reference backend and eager calls get the bits XLA's calls give.
Off x86-64, NumPy or SciPy stands in.

One exception is not reproduced: over arrays of fewer than about 50 elements XLA:CPU emits its
own float32 and float64 atan (a rational approximation) where it calls atanf and atan above.
"""
from __future__ import annotations

import ctypes
import functools
import platform

import numpy as np

HOST_X86 = platform.machine().lower() in ("x86_64", "amd64")

def _scipy_erf(x):
    import scipy.special
    return scipy.special.erf(x)


# The C library's functions that XLA:CPU calls (each for float32, `namef`, and float64), with
# the NumPy or SciPy function that stands in for them off x86-64 (NumPy's own SIMD loops can
# differ from the C library in the last bit).
LIBM = {"exp": np.exp, "sin": np.sin, "cos": np.cos, "tan": np.tan, "atan": np.arctan, "cbrt": np.cbrt,
        "log": np.log, "erf": _scipy_erf, "pow": np.power, "atan2": np.arctan2}
_BINARY = ("pow", "atan2")

# The CPU's rsqrtss estimate as a scalar function.
_KERNELS_IR = r"""
declare <4 x float> @llvm.x86.sse.rsqrt.ss(<4 x float>)

define float @rsqrtss(float %x) {
  %vec = insertelement <4 x float> zeroinitializer, float %x, i64 0
  %r = call <4 x float> @llvm.x86.sse.rsqrt.ss(<4 x float> %vec)
  %s = extractelement <4 x float> %r, i64 0
  ret float %s
}
"""

# A loop calling the TYPE function @NAME of ARITY operands on each element.
_LOOP_IR = r"""
declare TYPE @NAME(PARAMS)

define void @kiln_NAME(ptr %x, ptr %y, ptr %z, i64 %n) {
entry:
  %empty = icmp sle i64 %n, 0
  br i1 %empty, label %done, label %loop
loop:
  %i = phi i64 [0, %entry], [%next, %loop]
  %px = getelementptr TYPE, ptr %x, i64 %i
  %py = getelementptr TYPE, ptr %y, i64 %i
  %xi = load TYPE, ptr %px
  %yi = load TYPE, ptr %py
  %r = call TYPE @NAME(ARGS)
  %pz = getelementptr TYPE, ptr %z, i64 %i
  store TYPE %r, ptr %pz
  %next = add i64 %i, 1
  %end = icmp eq i64 %next, %n
  br i1 %end, label %done, label %loop
done:
  ret void
}
"""


def _loop_ir(name, t, arity):
    params = ", ".join([t] * arity)
    args = ", ".join(f"{t} %{v}i" for v in "xy"[:arity])
    ir_text = _LOOP_IR.replace("PARAMS", params).replace("ARGS", args).replace("NAME", name).replace("TYPE", t)
    return ir_text.replace(f"declare {t} @rsqrtss({t})\n", "")


def libm(name, x, y=None):
    """The C library's `name` on each element of x (and y): `namef` for float32 arrays, `name`
    for float64 ones; the stand-in in LIBM off x86-64."""
    return _call_host(name + ("f" if x.dtype == np.float32 else ""), x, y, LIBM[name])


def _call_host(name, x, y=None, fallback=None):
    """The host's `name` (a libm function or rsqrtss) on each element of x (and y), or
    `fallback` off x86-64."""
    kernels = _host_kernels()
    args = (x,) if y is None else np.broadcast_arrays(x, y)
    if kernels is None:
        with np.errstate(all="ignore"):
            return np.asarray(fallback(*args)).astype(x.dtype)
    shape = np.shape(args[0])
    args = [np.ascontiguousarray(a, x.dtype) for a in args]  # at least 1-d
    out = np.empty_like(args[0])
    kernels[name](args[0].ctypes.data, args[-1].ctypes.data, out.ctypes.data, out.size)
    return out.reshape(shape)


@functools.lru_cache(maxsize=None)
def _host_kernels():
    """Loops over the C library's functions in LIBM and rsqrtss, compiled for this CPU with
    llvmlite (x86-64 only), or None."""
    if not HOST_X86:
        return None
    import llvmlite.binding as llvm
    from kiln.backends.llvm.engine import jit_engine
    functions = [(f + suffix, t, 2 if f in _BINARY else 1) for f in LIBM
                 for suffix, t in (("f", "float"), ("", "double"))] + [("rsqrtss", "float", 1)]
    module = llvm.parse_assembly(_KERNELS_IR + "".join(_loop_ir(*f) for f in functions))
    module.triple = llvm.get_process_triple()
    module.verify()
    engine = jit_engine(module)
    ptr = ctypes.c_void_p
    kernels = {f: ctypes.CFUNCTYPE(None, ptr, ptr, ptr, ctypes.c_int64)(engine.get_function_address(f"kiln_{f}"))
               for f, _, _ in functions}
    kernels["engine"] = engine  # keeps the code alive
    return kernels


def rsqrtss(x):
    """The CPU's `rsqrtss` estimate of each element of a float32 array (1/sqrt(x) correctly
    rounded off x86)."""
    return _call_host("rsqrtss", x, fallback=lambda v: 1 / np.sqrt(v.astype(np.float64)))
