"""complex64 and complex128 in the LLVM backend.

A complex value is an LLVM struct {T, T} of its real and imaginary parts (T float or double),
in registers and in memory alike, which is NumPy's interleaved layout. Loads, stores, selects,
copies and index maps move whole structs and need nothing here; instcombine splits the structs
into their parts, so the loops see scalar arithmetic on interleaved memory, which the loop
vectorizer widens.

`lowering(name, eqn)` is the rule of an elementwise primitive with a complex operand or result;
the codegen and scatter ask it before `lowerings.scalar_rules`. The arithmetic is in
`complex_math.py`, as the reference's NumPy loops compute it, so results match to the ulp. The
complex cases of conversions, reductions, arg reductions and sort are here too.
"""
from __future__ import annotations

import numpy as np

from kiln.backends.llvm import complex_math as cm
from kiln.backends.llvm.complex_math import pack, parts
from kiln.backends.llvm.lowerings import convert as _real_convert
from kiln.backends.llvm.plan import ELEMENTWISE, UnsupportedError
from kiln.backends.llvm.types import constant

__all__ = ["lowering", "convert", "monoid", "multiply_add", "less", "arg_better"]

complex_rules: dict = {}
# Rules that move whole values: the scalar rules serve complex operands as they are.
_GENERIC = frozenset({"select_n", "stop_gradient", "convert_element_type"})


def _rule(*names):
    def register(fn):
        for name in names:
            complex_rules[name] = fn
        return fn
    return register


def is_complex(dtype) -> bool:
    return np.dtype(dtype).kind == "c"


def part_dtype(dtype):
    """float32 for complex64, float64 for complex128."""
    return np.finfo(dtype).dtype


def lowering(name, eqn):
    """The rule of `name` when `eqn` has a complex operand or result, else None."""
    if not any(is_complex(v.aval.dtype) for v in (*eqn.inputs, *eqn.outputs)):
        return None
    if eqn.prim.name == "scatter" and name == "mul":  # np.multiply.at: the plain formula
        return lambda cg, eqn, x, y: cm.multiply(cg, x, y, fused=False)
    if name in complex_rules:
        return complex_rules[name]
    if name in ELEMENTWISE and name not in _GENERIC:
        where = f" (staged at {eqn.loc})" if eqn.loc else ""
        raise UnsupportedError(f"kiln LLVM backend: `{name}`{where} has no lowering for complex "
                               "operands yet; run this function with kiln.jit(..., backend='reference')")
    return None


def convert(cg, x, src, dst):
    """`x` of dtype `src` as `dst`, one of them complex: complex -> real keeps the real part
    (then converts it as a real value, as the reference does), real -> complex has imag 0."""
    b, src, dst = cg.b, np.dtype(src), np.dtype(dst)
    if not is_complex(dst):
        return _real_convert(cg, b.extract_value(x, 0), part_dtype(src), dst)
    part = part_dtype(dst)
    if not is_complex(src):
        return pack(b, _real_convert(cg, x, src, part), constant(part, 0))
    re, im = parts(b, x)
    return pack(b, _real_convert(cg, re, part_dtype(src), part), _real_convert(cg, im, part_dtype(src), part))


# ---------------------------------------------------------------------------- rules

_rule("complex")(lambda cg, eqn, x, y: pack(cg.b, x, y))
_rule("real")(lambda cg, eqn, z: cg.b.extract_value(z, 0))
_rule("imag")(lambda cg, eqn, z: cg.b.extract_value(z, 1))


@_rule("conj")
def _conj(cg, eqn, z):
    re, im = parts(cg.b, z)
    return pack(cg.b, re, cg.b.fneg(im))


_rule("neg")(lambda cg, eqn, z: cm.neg(cg, z))
_rule("add")(lambda cg, eqn, x, y: cm.add(cg, x, y))
_rule("sub")(lambda cg, eqn, x, y: cm.sub(cg, x, y))
_rule("mul")(lambda cg, eqn, x, y: cm.multiply(cg, x, y))
_rule("div")(lambda cg, eqn, x, y: cm.divide(cg, x, y))
_rule("abs")(lambda cg, eqn, z: cm.magnitude(cg, z))
_rule("sign")(lambda cg, eqn, z: cm.sign(cg, z))
_rule("exp2")(lambda cg, eqn, z: cm.exp2(cg, z))
_rule("expm1")(lambda cg, eqn, z: cm.expm1(cg, z))
_rule("log1p")(lambda cg, eqn, z: cm.log1p(cg, z))
_rule("integer_pow")(lambda cg, eqn, z: cm.integer_pow(cg, z, eqn.params["y"]))
_rule("pow")(lambda cg, eqn, x, y: cm.power(cg, x, y))
# the reference's 1 / sqrt(z) and 1 / (1 + exp(-z)), by NumPy's divide
_rule("rsqrt")(lambda cg, eqn, z: cm.divide(cg, cm.const(z, 1), cm.c99(cg, "csqrt", z)))
_rule("logistic")(lambda cg, eqn, z: cm.divide(
    cg, cm.const(z, 1), cm.add(cg, cm.const(z, 1), cm.c99(cg, "cexp", cm.neg(cg, z)))))
for _name in ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
              "asinh", "acosh", "atanh"):
    _rule(_name)(lambda cg, eqn, z, _c=("c" + _name): cm.c99(cg, _c, z))


# ---------------------------------------------------------------------------- comparisons

@_rule("eq")
def _eq(cg, eqn, x, y):
    b = cg.b
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    return b.and_(b.fcmp_ordered("==", xr, yr), b.fcmp_ordered("==", xi, yi))


@_rule("ne")
def _ne(cg, eqn, x, y):
    b = cg.b
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    return b.or_(b.fcmp_unordered("!=", xr, yr), b.fcmp_unordered("!=", xi, yi))


def _has_nan(b, z):
    re, im = parts(b, z)
    return b.or_(cm.isnan(b, re), cm.isnan(b, im))


def _at_least(b, x, y, largest: bool):
    """NumPy's CGE (CLE when not `largest`): lexicographic, and a NaN imaginary part makes the
    real parts' order not count."""
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    numbers = b.and_(b.fcmp_ordered("ord", xi, xi), b.fcmp_ordered("ord", yi, yi))
    strictly = b.and_(b.fcmp_ordered(">" if largest else "<", xr, yr), numbers)
    tie = b.and_(b.fcmp_ordered("==", xr, yr), b.fcmp_ordered(">=" if largest else "<=", xi, yi))
    return b.or_(strictly, tie)


def max_min(cg, x, y, largest: bool):
    """np.maximum / np.minimum: x if it has a NaN or wins (ties too), else y."""
    b = cg.b
    return cm.select(b, b.or_(_has_nan(b, x), _at_least(b, x, y, largest)), x, y)


_rule("max")(lambda cg, eqn, x, y: max_min(cg, x, y, True))
_rule("min")(lambda cg, eqn, x, y: max_min(cg, x, y, False))
_rule("clamp")(lambda cg, eqn, lo, x, hi: max_min(cg, max_min(cg, x, lo, True), hi, False))


def less(cg, x, y):
    """NumPy's sort order: lexicographic, with NaN parts last (R + Rj < R + nanj < nan + Rj <
    nan + nanj)."""
    b = cg.b
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    xi_number, yi_nan = b.fcmp_ordered("ord", xi, xi), cm.isnan(b, yi)
    below = b.or_(xi_number, yi_nan)  # when xr < yr
    above = b.and_(yi_nan, xi_number)  # when xr > yr
    tied = b.or_(b.fcmp_ordered("<", xi, yi), above)  # when xr == yr or both are NaN
    both_nan = b.and_(cm.isnan(b, xr), cm.isnan(b, yr))
    out = b.select(b.or_(b.fcmp_ordered("==", xr, yr), both_nan), tied, cm.isnan(b, yr))
    out = b.select(b.fcmp_ordered(">", xr, yr), above, out)
    return b.select(b.fcmp_ordered("<", xr, yr), below, out)


def arg_better(cg, v, best, largest: bool):
    """argmax/argmin: does `v` replace `best`? NumPy's: lexicographically beyond it, or a NaN;
    never once `best` has a NaN."""
    b = cg.b
    (vr, vi), (br, bi) = parts(b, v), parts(b, best)
    beyond = b.or_(b.fcmp_ordered(">" if largest else "<", vr, br),
                   b.and_(b.fcmp_ordered("==", vr, br), b.fcmp_ordered(">" if largest else "<", vi, bi)))
    return b.and_(b.or_(beyond, _has_nan(b, v)), b.not_(_has_nan(b, best)))


# ---------------------------------------------------------------------------- accumulations

def monoid(cg, name, dtype, exact=False):
    """(identity, combine) of a complex reduction (see `reductions.monoid`)."""
    flags = () if exact else ("reassoc",)
    if name == "reduce_sum":  # NumPy's sums start from +0, its cumulative sums from the first
        start = -0.0 if exact else 0.0  # element (-0 + x is x for every x, also -0)
        return constant(dtype, complex(start, start)), lambda a, v: cm.add(cg, a, v, flags)
    if name == "reduce_prod":  # NumPy's reductions multiply with the plain formula
        return constant(dtype, 1), lambda a, v: cm.multiply(cg, a, v, fused=False)
    if name in ("reduce_max", "reduce_min"):
        largest = name == "reduce_max"
        start = -np.inf if largest else np.inf
        return constant(dtype, complex(start, start)), lambda a, v: max_min(cg, a, v, largest)
    raise UnsupportedError(f"kiln LLVM backend: reduction {name} of {np.dtype(dtype).name} "
                           "has no lowering yet")


def multiply_add(cg, acc, x, y):
    """acc + x * y, reassociable (a contraction's step)."""
    return cm.add(cg, acc, cm.multiply(cg, x, y), ("reassoc",))
