"""Scalar lowerings: each elementwise primitive as LLVM instructions on one element.

A rule is `rule(cg, eqn, *args) -> value` (or a list for several results): `cg.b` is the
IRBuilder positioned inside the loop nest, `args` are the operands' values at this element,
and `eqn` gives the dtypes. Loops are the codegen's job; a rule never branches (selects
only), so the loop vectorizer can widen every rule.

The semantics are the reference backend's (`kiln.lax.elementwise` impl rules): integer
division by zero, shifts past the width and float->int overflow are defined, as in XLA,
never LLVM's undefined behaviour.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir

from kiln.backends.llvm import half, mathlib, mathlib_composite, mathlib_xla, special
from kiln.backends.llvm.plan import UnsupportedError
from kiln.backends.llvm.types import I1, constant, is_float, is_signed, register_type
from kiln.ir import DimExpr
from kiln.lax import xla_math

scalar_rules: dict = {}


def rule(*names):
    def register(fn):
        for name in names:
            scalar_rules[name] = half.through_float32(name, fn)  # float16 as NumPy computes it
        return fn
    return register


def _in(eqn, i=0):
    return eqn.inputs[i].aval.dtype


def _out(eqn, i=0):
    return eqn.outputs[i].aval.dtype


# ---------------------------------------------------------------------------- arithmetic

def _arith(float_op, int_op):
    def lower(cg, eqn, x, y):
        if is_float(_in(eqn)):
            return getattr(cg.b, float_op)(x, y)
        return getattr(cg.b, int_op)(x, y)
    return lower


rule("add")(_arith("fadd", "add"))
rule("sub")(_arith("fsub", "sub"))
rule("mul")(_arith("fmul", "mul"))


def _divisor(b, dtype, y):
    """(y == 0, y == -1 or None when unsigned, a divisor that is neither): integer division and
    remainder by 0, and INT_MIN by -1, are defined by selects, never LLVM's undefined behaviour."""
    one = constant(dtype, 1)
    is_zero = b.icmp_unsigned("==", y, constant(dtype, 0))
    if not is_signed(dtype):
        return is_zero, None, b.select(is_zero, one, y)
    is_minus_one = b.icmp_signed("==", y, constant(dtype, -1))
    return is_zero, is_minus_one, b.select(b.or_(is_zero, is_minus_one), one, y)


@rule("div")
def _div(cg, eqn, x, y):
    b, dtype = cg.b, _in(eqn)
    if is_float(dtype):
        return b.fdiv(x, y)
    is_zero, is_minus_one, safe = _divisor(b, dtype, y)
    if is_minus_one is None:
        return b.select(is_zero, constant(dtype, np.iinfo(dtype).max), b.udiv(x, safe))
    q = b.select(is_minus_one, b.sub(constant(dtype, 0), x), b.sdiv(x, safe))  # INT_MIN / -1 wraps
    return b.select(is_zero, constant(dtype, -1), q)


@rule("rem")
def _rem(cg, eqn, x, y):
    b, dtype = cg.b, _in(eqn)
    if is_float(dtype):
        return b.frem(x, y)
    is_zero, is_minus_one, safe = _divisor(b, dtype, y)
    if is_minus_one is None:
        return b.select(is_zero, x, b.urem(x, safe))
    r = b.select(is_minus_one, constant(dtype, 0), b.srem(x, safe))
    return b.select(is_zero, x, r)


@rule("neg")
def _neg(cg, eqn, x):
    return cg.b.fneg(x) if is_float(_in(eqn)) else cg.b.sub(constant(_in(eqn), 0), x)


def _max_min(cg, dtype, x, y, largest: bool):
    b = cg.b
    if is_float(dtype):  # NaN-propagating, as XLA's max/min
        return cg.intrinsic("llvm.maximum" if largest else "llvm.minimum", [x, y])
    if dtype == np.bool_:
        return b.or_(x, y) if largest else b.and_(x, y)
    name = ("llvm.smax" if largest else "llvm.smin") if is_signed(dtype) else \
        ("llvm.umax" if largest else "llvm.umin")
    return cg.intrinsic(name, [x, y])


@rule("max")
def _max(cg, eqn, x, y):
    return _max_min(cg, _in(eqn), x, y, True)


@rule("min")
def _min(cg, eqn, x, y):
    return _max_min(cg, _in(eqn), x, y, False)


@rule("clamp")
def _clamp(cg, eqn, lo, x, hi):
    dtype = _in(eqn, 1)
    return _max_min(cg, dtype, _max_min(cg, dtype, x, lo, True), hi, False)


@rule("fma")
def _fma(cg, eqn, a, b, c):
    return cg.intrinsic("llvm.fma", [a, b, c])


@rule("abs")
def _abs(cg, eqn, x):
    dtype = _in(eqn)
    if is_float(dtype):
        return cg.intrinsic("llvm.fabs", [x])
    if not is_signed(dtype):
        return x
    return cg.intrinsic("llvm.abs", [x, ir.Constant(I1, 0)])


@rule("sign")
def _sign(cg, eqn, x):
    b, dtype = cg.b, _in(eqn)
    zero, one = constant(dtype, 0), constant(dtype, 1)
    if is_float(dtype):  # ±0 and NaN are their own sign
        pos = b.fcmp_ordered(">", x, zero)
        neg = b.fcmp_ordered("<", x, zero)
        return b.select(pos, one, b.select(neg, constant(dtype, -1), x))
    if not is_signed(dtype):
        return b.zext(b.icmp_unsigned(">", x, zero), x.type)
    pos = b.zext(b.icmp_signed(">", x, zero), x.type)
    neg = b.zext(b.icmp_signed("<", x, zero), x.type)
    return b.sub(pos, neg)


@rule("integer_pow")
def _integer_pow(cg, eqn, x):
    b, dtype, y = cg.b, _in(eqn), eqn.params["y"]
    mul = b.fmul if is_float(dtype) else b.mul
    acc, base, n = None, x, abs(y)
    while n:  # repeated squaring, as XLA's integer_pow
        if n & 1:
            acc = base if acc is None else mul(acc, base)
        n >>= 1
        if n:
            base = mul(base, base)
    if acc is None:
        return constant(dtype, 1)
    return b.fdiv(constant(dtype, 1), acc) if y < 0 else acc


# ---------------------------------------------------------------------------- comparisons, logic

_CMP = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def _compare(op):
    def lower(cg, eqn, x, y):
        b, dtype = cg.b, _in(eqn)
        if is_float(dtype):
            return b.fcmp_unordered(op, x, y) if op == "!=" else b.fcmp_ordered(op, x, y)
        return (b.icmp_signed if is_signed(dtype) else b.icmp_unsigned)(op, x, y)
    return lower


for _name, _op in _CMP.items():
    rule(_name)(_compare(_op))

rule("and")(lambda cg, eqn, x, y: cg.b.and_(x, y))
rule("or")(lambda cg, eqn, x, y: cg.b.or_(x, y))
rule("xor")(lambda cg, eqn, x, y: cg.b.xor(x, y))
rule("not")(lambda cg, eqn, x: cg.b.not_(x))


@rule("shift_left")
def _shift_left(cg, eqn, x, y):
    b, dtype = cg.b, _in(eqn)
    bits = constant(dtype, 8 * np.dtype(dtype).itemsize)
    too_far = b.icmp_unsigned(">=", y, bits)  # negative amounts are huge unsigned: too far too
    return b.select(too_far, constant(dtype, 0), b.shl(x, b.select(too_far, constant(dtype, 0), y)))


@rule("shift_right_arithmetic")
def _shift_right(cg, eqn, x, y):
    b, dtype = cg.b, _in(eqn)
    width = 8 * np.dtype(dtype).itemsize
    too_far = b.icmp_unsigned(">=", y, constant(dtype, width))
    if is_signed(dtype):  # shifting out every bit leaves the sign
        return b.ashr(x, b.select(too_far, constant(dtype, width - 1), y))
    return b.select(too_far, constant(dtype, 0), b.lshr(x, b.select(too_far, constant(dtype, 0), y)))


@rule("select_n")
def _select_n(cg, eqn, which, *cases):
    b = cg.b
    if _in(eqn) == np.bool_:
        return b.select(which, cases[1], cases[0]) if len(cases) == 2 else cases[0]
    out = cases[0]  # an integer selector clips to the cases, as the reference does
    for i, case in enumerate(cases[1:], start=1):
        take = (b.icmp_signed if is_signed(_in(eqn)) else b.icmp_unsigned)(">=", which, constant(_in(eqn), i))
        out = b.select(take, case, out)
    return out


rule("stop_gradient")(lambda cg, eqn, x: x)


# ---------------------------------------------------------------------------- conversions

@rule("convert_element_type")
def _convert(cg, eqn, x):
    return convert(cg, x, _in(eqn), _out(eqn))


def convert(cg, x, src, dst):
    """`x` of dtype `src` as `dst`, with the reference's semantics."""
    b, src, dst = cg.b, np.dtype(src), np.dtype(dst)
    to = register_type(dst)
    if src == dst:
        return x
    if src.kind == "c" or dst.kind == "c":
        from kiln.backends.llvm import complex as complex_ops
        return complex_ops.convert(cg, x, src, dst)
    if dst == np.float16 and src != np.bool_:
        return half.to_half(cg, x, src)
    if src == np.float16 and not is_float(dst) and dst != np.bool_:
        x, src = b.fpext(x, ir.FloatType()), np.dtype(np.float32)
    if dst == np.bool_:
        return b.fcmp_unordered("!=", x, constant(src, 0)) if is_float(src) \
            else b.icmp_unsigned("!=", x, constant(src, 0))
    if src == np.bool_:
        return b.uitofp(x, to) if is_float(dst) else b.zext(x, to)
    if is_float(src) and is_float(dst):
        return b.fpext(x, to) if dst.itemsize > src.itemsize else b.fptrunc(x, to)
    if is_float(src):  # saturating, NaN -> 0, as XLA
        name = "llvm.fptosi.sat" if is_signed(dst) else "llvm.fptoui.sat"
        return cg.intrinsic(name, [x], ret=to)
    if is_float(dst):
        return b.sitofp(x, to) if is_signed(src) else b.uitofp(x, to)
    if dst.itemsize < src.itemsize:
        return b.trunc(x, to)
    if dst.itemsize > src.itemsize:
        return b.sext(x, to) if is_signed(src) else b.zext(x, to)
    return x


# ---------------------------------------------------------------------------- floating point

def _intrinsic(name):
    return lambda cg, eqn, *args: cg.intrinsic(name, list(args))


for _name, _llvm in {"sqrt": "llvm.sqrt", "floor": "llvm.floor", "ceil": "llvm.ceil",
                     "round": "llvm.roundeven", "round_away_from_zero": "llvm.round",
                     "pow": "llvm.pow"}.items():
    rule(_name)(_intrinsic(_llvm))


@rule("erf")
def _erf(cg, eqn, x):
    """float32: XLA's erf, saturating where eager JAX's does for this many elements."""
    if _in(eqn) != np.float32:
        return cg.libm("erf", _in(eqn), [x])
    size = math.prod(eqn.inputs[0].aval.shape)
    if not isinstance(size, DimExpr):
        return special.erf32(cg, x, constant(np.float32, xla_math.erf_saturation(size)))
    one = cg.b.icmp_signed("==", cg.i64(size), ir.Constant(ir.IntType(64), 1))  # known when it runs
    saturate = cg.b.select(one, constant(np.float32, xla_math.erf_saturation(1)),
                           constant(np.float32, xla_math.erf_saturation(2)))
    return special.erf32(cg, x, saturate)


@rule("erfc")
def _erfc(cg, eqn, x):
    return special.erfc32(cg, x) if _in(eqn) == np.float32 else special.erfc64(cg, x)  # XLA's


@rule("nextafter")
def _nextafter(cg, eqn, x, y):
    if _in(eqn) == np.float16:
        return half.nextafter(cg, x, y)
    return cg.libm("nextafter", _in(eqn), [x, y])


rule("exp")(lambda cg, eqn, x: mathlib.exp(cg, x))
rule("log")(lambda cg, eqn, x: mathlib.log(cg, x))
rule("tanh")(lambda cg, eqn, x: mathlib_xla.tanh(cg, x))
rule("sin")(lambda cg, eqn, x: mathlib.sin(cg, x))
rule("cos")(lambda cg, eqn, x: mathlib.cos(cg, x))
rule("expm1")(lambda cg, eqn, x: mathlib_xla.expm1(cg, x))
rule("exp2")(lambda cg, eqn, x: mathlib_composite.exp2(cg, x))
rule("sinh")(lambda cg, eqn, x: mathlib_composite.sinh(cg, x))
rule("cosh")(lambda cg, eqn, x: mathlib_composite.cosh(cg, x))
# the C library's, as XLA:CPU calls them
rule("tan")(lambda cg, eqn, x: mathlib.libm(cg, "tan", x))
rule("libm")(lambda cg, eqn, x: mathlib.libm(cg, eqn.params["fn"], x))
rule("atan")(lambda cg, eqn, x: mathlib.libm(cg, "atan", x))
rule("atan2")(lambda cg, eqn, y, x: mathlib.libm(cg, "atan2", y, x))
rule("cbrt")(lambda cg, eqn, x: mathlib.libm(cg, "cbrt", x))
rule("asinh")(lambda cg, eqn, x: mathlib_composite.asinh(cg, x))
rule("acosh")(lambda cg, eqn, x: mathlib_composite.acosh(cg, x))
rule("atanh")(lambda cg, eqn, x: mathlib_composite.atanh(cg, x))
rule("asin")(lambda cg, eqn, x: mathlib_composite.asin(cg, x))
rule("acos")(lambda cg, eqn, x: mathlib_composite.acos(cg, x))
rule("log1p")(lambda cg, eqn, x: mathlib.log1p(cg, x))
rule("logistic")(lambda cg, eqn, x: mathlib_xla.logistic(cg, x))


rule("rsqrt")(lambda cg, eqn, x: mathlib.rsqrt(cg, x))


@rule("is_finite")
def _is_finite(cg, eqn, x):
    return cg.b.fcmp_ordered("<", cg.intrinsic("llvm.fabs", [x]), constant(_in(eqn), np.inf))


# ---------------------------------------------------------------------------- PRNG

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))


@rule("threefry2x32")
def _threefry2x32(cg, eqn, k0, k1, x0, x1):
    b, u32 = cg.b, np.uint32
    ks = (k0, k1, b.xor(b.xor(k0, k1), constant(u32, 0x1BD11BDA)))
    x0, x1 = b.add(x0, ks[0]), b.add(x1, ks[1])
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            x0 = b.add(x0, x1)
            x1 = b.or_(b.shl(x1, constant(u32, r)), b.lshr(x1, constant(u32, 32 - r)))
            x1 = b.xor(x1, x0)
        x0 = b.add(x0, ks[(i + 1) % 3])
        x1 = b.add(b.add(x1, ks[(i + 2) % 3]), constant(u32, i + 1))
    return [x0, x1]


_W_SMALL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
            -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_W_LARGE = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
            -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)


@rule("random_erf_inv", "erf_inv")
def _erf_inv(cg, eqn, x):
    """XLA's float32 erf_inv (Giles), step for step as `kiln.lax.prng.erf_inv_numpy`, with
    XLA's log1p and the polynomial's fused multiply-adds."""
    b, f32 = cg.b, np.float32
    if _in(eqn) == np.float64:
        return mathlib_xla.erf_inv64(cg, x)
    if _in(eqn) != f32:
        raise UnsupportedError(f"kiln LLVM backend: {eqn.prim.name} of {_in(eqn).name} has no lowering yet")
    w = b.fneg(mathlib.log1p(cg, b.fneg(b.fmul(x, x))))
    small = b.fcmp_ordered("<", w, constant(f32, 5))
    w = b.select(small, b.fsub(w, constant(f32, 2.5)), b.fsub(cg.intrinsic("llvm.sqrt", [w]), constant(f32, 3)))
    p = b.select(small, constant(f32, _W_SMALL[0]), constant(f32, _W_LARGE[0]))
    for s, l in zip(_W_SMALL[1:], _W_LARGE[1:]):
        c = b.select(small, constant(f32, s), constant(f32, l))
        p = cg.intrinsic("llvm.fma", [p, w, c])
    out = b.fmul(p, x)
    edge = b.fcmp_ordered("==", cg.intrinsic("llvm.fabs", [x]), constant(f32, 1))
    big = np.inf if eqn.prim.name == "erf_inv" else np.finfo(f32).max  # the sampler's: +-max
    return b.select(edge, b.fmul(x, constant(f32, big)), out)


def _xla_or_float64(fn32, numpy32, fn64):
    """float32 (and float16 through it) by XLA's sequence `fn32`; float64 by XLA's `fn64`.
    A float32 constant operand is evaluated here by `numpy32`, the same function:
    LLVM would fold the sinf that `fn32` calls with its own, differently rounded, sin."""
    def lower(cg, eqn, x):
        if _in(eqn) != np.float32:
            return fn64(cg, x)
        if isinstance(x, ir.Constant):
            return constant(np.float32, float(numpy32(np.float32(x.constant))))
        return fn32(cg, x)
    return lower


rule("lgamma")(_xla_or_float64(special.lgamma32, xla_math.lgamma32, special.lgamma64))
rule("digamma")(_xla_or_float64(special.digamma32, xla_math.digamma32, special.digamma64))
