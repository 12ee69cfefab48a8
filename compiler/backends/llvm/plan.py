"""Fusion planning for the LLVM backend: which values live in memory, and which loop nest
computes each of them.

No llvmlite here: the plan is plain data, so it can be printed and tested on its own.

Every value of the program is one of
- a *buffer*: an input, a constant, or a kernel's result, stored in memory;
- a *view*: a reshape of a buffer, sharing its memory (row-major order is unchanged);
- *fused*: computed inside the loop nest of its one consumer, never stored.

A kernel is a loop nest over the shape of its root value: an elementwise tree (broadcasts,
transposes, slices and iotas are index maps inside it), a reduction, or a contraction
(dot_general, a reduction over the contracted dimensions of a product). A value is
stored when it leaves the program, has several consumers, feeds a broadcast (so an expensive
value is not recomputed per broadcast element), or feeds an operation that needs memory.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from kiln.ir import Literal, Program, Var

# Scalar operations, computed per element (their lowerings are in `lowerings.py`).
ELEMENTWISE = frozenset({
    "abs", "acos", "acosh", "add", "and", "asin", "asinh", "atan", "atan2", "atanh", "cbrt",
    "ceil", "clamp", "convert_element_type", "cos", "cosh", "div", "eq", "erf", "erf_inv",
    "erfc", "exp", "exp2", "expm1", "floor", "fma", "ge", "gt", "integer_pow", "is_finite", "le",
    "lgamma", "digamma", "libm",
    "complex", "conj", "imag", "real",
    "log", "log1p", "logistic", "lt", "max", "min", "mul", "ne", "neg", "nextafter", "not",
    "or", "pow", "random_erf_inv", "rem", "round", "round_away_from_zero", "rsqrt",
    "select_n", "shift_left", "shift_right_arithmetic", "sign", "sin", "sinh", "sqrt",
    "stop_gradient", "sub", "tan", "tanh", "threefry2x32", "xor",
})
# Operations that only move elements: an index map from the result to the operand.
INDEX_MAPS = frozenset({"broadcast_in_dim", "transpose", "slice", "rev", "iota", "reshape", "concatenate",
                        "pad", "dynamic_slice", "dynamic_update_slice", "gather"})
SCATTERS = frozenset({"scatter", "sort"})  # kernels of their own, reading operands in any order
REDUCTIONS = frozenset({"reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_and",
                        "reduce_or", "argmax", "argmin", "cumsum", "cumprod", "cummax", "cummin"})
CONTRACTIONS = frozenset({"dot_general"})
# Structured control flow: operands and results in memory, sub-programs emitted inline.
CONTROL = frozenset({"cond", "while", "scan"})
# Calls of LAPACK, pocketfft and Python callbacks, from generated code (`linalg.py`) or through
# the reference implementation (`host_call.py`): operands and results in memory.
HOST_CALLS = frozenset({"cholesky", "triangular_solve", "lu", "eigh", "svd", "fft", "debug_callback",
                        "pure_callback"})
LINALG = frozenset({"qr"}) | HOST_CALLS
SUPPORTED = ELEMENTWISE | INDEX_MAPS | REDUCTIONS | CONTRACTIONS | CONTROL | SCATTERS | LINALG


class UnsupportedError(NotImplementedError):
    """The LLVM backend has no lowering for an operation of this program (yet)."""


@dataclass
class Plan:
    program: Program
    buffers: list = field(default_factory=list)    # vars stored in memory, in program order
    kernels: list = field(default_factory=list)    # root eqns, in program order
    views: dict = field(default_factory=dict)      # reshape var -> the buffer var it aliases
    fused: set = field(default_factory=set)        # vars computed inside their consumer
    last_use: dict = field(default_factory=dict)   # buffer var -> index of the last kernel reading it
    producers: dict = field(default_factory=dict)  # var -> the equation computing it

    def fused_eqns(self, root):
        """The root equation and every equation fused into its kernel."""
        out = [root]
        for a in root.inputs:
            if isinstance(a, Var) and a in self.fused:
                out.extend(self.fused_eqns(self.producers[a]))
        return out

    def describe(self) -> str:
        """One line per kernel: its root and the operations fused into it (for KILN_DUMP)."""
        return "\n".join(f"kernel {i}: {eqn.prim.name} -> {eqn.outputs[0].aval.str_short()} fusing "
                         f"[{', '.join(e.prim.name for e in self.fused_eqns(eqn))}]"
                         for i, eqn in enumerate(self.kernels))


def _unsupported(eqn) -> UnsupportedError:
    where = f" (staged at {eqn.loc})" if eqn.loc else ""
    return UnsupportedError(
        f"kiln LLVM backend: `{eqn.prim.name}`{where} has no LLVM lowering yet; "
        "run this function with kiln.jit(..., backend='reference')")


def _dtype_supported(aval) -> bool:
    if aval.dtype.name in ("complex64", "complex128"):
        return True
    return aval.dtype.kind in "biuf" and aval.dtype.itemsize <= 8


def plan(program: Program) -> Plan:
    result = Plan(program)
    producers, consumers = result.producers, {}
    for eqn in program.eqns:
        if eqn.prim.name not in SUPPORTED:
            raise _unsupported(eqn)
        for v in (*eqn.inputs, *eqn.outputs):
            if not _dtype_supported(v.aval):
                where = f" (staged at {eqn.loc})" if eqn.loc else ""
                raise UnsupportedError(f"kiln LLVM backend: dtype {v.aval.dtype.name} in "
                                       f"`{eqn.prim.name}`{where} is not supported yet")
        for v in eqn.outputs:
            producers[v] = eqn
        for a in set(eqn.inputs):
            if isinstance(a, Var):
                consumers.setdefault(a, []).append(eqn)
    outputs = {v for v in program.outputs if isinstance(v, Var)}

    def stored(v, eqn) -> bool:
        name = eqn.prim.name
        if name in REDUCTIONS or name in CONTRACTIONS or name in CONTROL or name in SCATTERS or name in LINALG:
            return True
        users = consumers.get(v, [])
        if v in outputs or len(users) != 1:
            return True
        user = users[0].prim.name
        if user in CONTRACTIONS or user in CONTROL or user == "sort" or user in LINALG:
            return True
        if user == "reshape":
            return True  # the reshape is then a view
        if user in ("broadcast_in_dim", "gather") and name not in ("broadcast_in_dim", "iota"):
            return True
        return False

    for eqn in program.eqns:
        name = eqn.prim.name
        if name == "reshape" and eqn.outputs[0] not in outputs and isinstance(eqn.inputs[0], Var):
            (x,) = eqn.inputs
            result.views[eqn.outputs[0]] = result.views.get(x, x)
            continue
        multi = eqn.prim.multiple_results
        if multi and (name in CONTROL or name in HOST_CALLS or any(stored(v, eqn) for v in eqn.outputs)):
            # A multi-result operation is one loop; its results are all stored together.
            result.kernels.append(eqn)
            result.buffers.extend(eqn.outputs)
            continue
        for v in eqn.outputs:
            if stored(v, eqn):
                result.kernels.append(eqn)
                result.buffers.append(v)
            else:
                result.fused.add(v)

    # The last kernel that reads each buffer (through fused values and views): free after it.
    for k, eqn in enumerate(result.kernels):
        for v in buffers_read(eqn, result):
            result.last_use[v] = k
    return result


def buffers_read(eqn, plan: Plan):
    """The stored values a kernel rooted at `eqn` reads (through the values fused into it)."""
    for a in eqn.inputs:
        if isinstance(a, Literal):
            continue
        if a in plan.fused:
            yield from buffers_read(plan.producers[a], plan)
        else:
            yield plan.views.get(a, a)
