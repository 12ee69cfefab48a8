"""Complex arithmetic on LLVM values (no rules here; `complex.py` registers them): a complex
value is a struct {re, im} of float or double, and each function computes what the reference's
NumPy loop computes, operation for operation, so results match to the ulp.

- multiply fused as NumPy's SIMD loop where the machine has FMA, or with the plain formula of
  its scalar loops; divide by Smith's algorithm with NumPy's NaN rules; magnitude as NumPy's
  SIMD abs (scaled, no overflow);
- the C library's complex functions (cexp, csqrt, catanh, cpow, ...), which NumPy calls, with
  the C ABI of `T _Complex` (`c99`);
- powers as npy_cpow: 0 at 0, small integer exponents by repeated multiplication, else cpow.
"""
from __future__ import annotations

import sys

import llvmlite.binding as llvm
import numpy as np
from llvmlite import ir

from kiln.backends.llvm.plan import UnsupportedError
from kiln.backends.llvm.types import F32, I1, constant, register_type


# ---------------------------------------------------------------------------- parts

def parts(b, z):
    return b.extract_value(z, 0), b.extract_value(z, 1)


def pack(b, re, im):
    z = ir.Constant(ir.LiteralStructType([re.type, re.type]), ir.Undefined)
    return b.insert_value(b.insert_value(z, re, 0), im, 1)


def part_of(value):
    """The dtype of a part of `value`, a complex struct or a real scalar."""
    t = value.type.elements[0] if isinstance(value.type, ir.LiteralStructType) else value.type
    return np.dtype(np.float32 if t == F32 else np.float64)


def const(value, c):
    """The complex constant `c` with `value`'s part type."""
    return constant(np.result_type(part_of(value), np.complex64), c)


def isnan(b, x):
    return b.fcmp_unordered("uno", x, x)


def isinf(cg, x):
    return cg.b.fcmp_ordered("==", cg.intrinsic("llvm.fabs", [x]), constant(part_of(x), np.inf))


def select(b, condition, x, y):
    """select on each part, so the vectorizer sees no struct selects."""
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    return pack(b, b.select(condition, xr, yr), b.select(condition, xi, yi))


# ---------------------------------------------------------------------------- arithmetic

def add(cg, x, y, flags=()):
    b = cg.b
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    return pack(b, b.fadd(xr, yr, flags=flags), b.fadd(xi, yi, flags=flags))


def sub(cg, x, y):
    b = cg.b
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    return pack(b, b.fsub(xr, yr), b.fsub(xi, yi))


def neg(cg, z):
    re, im = parts(cg.b, z)
    return pack(cg.b, cg.b.fneg(re), cg.b.fneg(im))


def multiply(cg, x, y, fused=True):
    """x * y. `fused` as NumPy's SIMD loop: fma(ar, br, -(ai bi)), fma(ar, bi, ai br) (fused
    where the machine has FMA, as NumPy's dispatch); else the plain formula of NumPy's scalar
    loops (power, reductions, accumulations, ufunc.at)."""
    b = cg.b
    (xr, xi), (yr, yi) = parts(b, x), parts(b, y)
    if fused:
        re = cg.intrinsic("llvm.fmuladd", [xr, yr, b.fneg(b.fmul(xi, yi))])
        im = cg.intrinsic("llvm.fmuladd", [xr, yi, b.fmul(xi, yr)])
    else:
        re = b.fsub(b.fmul(xr, yr), b.fmul(xi, yi))
        im = b.fadd(b.fmul(xr, yi), b.fmul(xi, yr))
    return pack(b, re, im)


def divide(cg, x, y, nan_cases=True):
    """x / y as NumPy's divide loop: Smith's algorithm, and (`nan_cases`) its rules for NaN
    operands; without them, npymath's `cdiv` (used by power)."""
    b = cg.b
    (ar, ai), (br, bi) = parts(b, x), parts(b, y)
    zero, one = constant(part_of(ar), 0), constant(part_of(ar), 1)
    abs_br, abs_bi = cg.intrinsic("llvm.fabs", [br]), cg.intrinsic("llvm.fabs", [bi])
    # |br| >= |bi| (false when either is NaN)
    rat = b.fdiv(bi, br)
    scl = b.fdiv(one, b.fadd(br, b.fmul(bi, rat)))
    re_r = b.fmul(b.fadd(ar, b.fmul(ai, rat)), scl)
    im_r = b.fmul(b.fsub(ai, b.fmul(ar, rat)), scl)
    # |bi| > |br|
    rat = b.fdiv(br, bi)
    scl = b.fdiv(one, b.fadd(bi, b.fmul(br, rat)))
    re_i = b.fmul(b.fadd(b.fmul(ar, rat), ai), scl)
    im_i = b.fmul(b.fsub(b.fmul(ai, rat), ar), scl)
    # y == 0: a complex inf or nan
    re_0, im_0 = b.fdiv(ar, abs_br), b.fdiv(ai, abs_bi)
    ar_nan, ai_nan = isnan(b, ar), isnan(b, ai)
    if nan_cases:
        keep = b.or_(b.and_(ar_nan, b.or_(b.fcmp_ordered("==", ai, zero), ai_nan)),
                     b.and_(b.fcmp_ordered("==", ar, zero), ai_nan))
        re_0 = b.select(keep, b.select(ar_nan, ar, ai), re_0)
        im_0 = b.select(keep, b.select(ai_nan, ai, ar), im_0)
    y_zero = b.and_(b.fcmp_ordered("==", abs_br, zero), b.fcmp_ordered("==", abs_bi, zero))
    real_larger = b.fcmp_ordered(">=", abs_br, abs_bi)
    re = b.select(real_larger, b.select(y_zero, re_0, re_r), re_i)
    im = b.select(real_larger, b.select(y_zero, im_0, im_r), im_i)
    if nan_cases:
        y_number = b.and_(b.fcmp_ordered("ord", br, br), b.fcmp_ordered("ord", bi, bi))
        x_inf = b.or_(isinf(cg, ar), isinf(cg, ai))
        y_nonzero = b.or_(b.fcmp_unordered("!=", br, zero), b.fcmp_unordered("!=", bi, zero))
        y_inf = b.and_(isinf(cg, br), isinf(cg, bi))
        nan_out = b.and_(b.and_(y_number, b.or_(ar_nan, ai_nan)),
                         b.or_(b.and_(x_inf, y_nonzero), y_inf))
        nan = b.select(ar_nan, ar, ai)
        re, im = b.select(nan_out, nan, re), b.select(nan_out, nan, im)
    return pack(b, re, im)


def magnitude(cg, z):
    """NumPy's SIMD |z|: larger * sqrt(1 + (smaller / larger)**2), inf if a part is inf, else
    NaN if a part is NaN; no overflow."""
    b = cg.b
    re, im = (cg.intrinsic("llvm.fabs", [v]) for v in parts(b, z))
    t = part_of(re)
    inf, nan, zero = constant(t, np.inf), constant(t, np.nan), constant(t, 0)
    re_inf, im_inf = b.fcmp_ordered("==", re, inf), b.fcmp_ordered("==", im, inf)
    im = b.select(re_inf, inf, im)
    re = b.select(im_inf, inf, re)
    re_number, im_number = b.fcmp_ordered("ord", re, re), b.fcmp_ordered("ord", im, im)
    im = b.select(re_number, im, nan)
    re = b.select(im_number, re, nan)
    larger = b.select(b.fcmp_ordered(">", re, im), re, im)
    smaller = b.select(b.fcmp_ordered("<", im, re), im, re)
    divide_ok = b.not_(b.or_(b.fcmp_ordered("==", larger, zero), b.fcmp_ordered("==", smaller, inf)))
    ratio = b.select(divide_ok, b.fdiv(smaller, larger), zero)
    root = cg.intrinsic("llvm.sqrt", [cg.intrinsic("llvm.fmuladd", [ratio, ratio, constant(t, 1)])])
    return b.fmul(root, larger)


def sign(cg, z):
    """z / |z| (NumPy's: |z| by hypot; 0 at 0; NaN when both parts are inf or one is NaN)."""
    b = cg.b
    re, im = parts(b, z)
    t = part_of(re)
    zero, one, nan = constant(t, 0), constant(t, 1), constant(t, np.nan)
    size = cg.libm("hypot", t, [re, im])
    unit = lambda v: b.select(b.fcmp_ordered(">", v, zero), one, constant(t, -1))
    re_inf, im_inf = isinf(cg, re), isinf(cg, im)
    inf_re = b.select(re_inf, b.select(im_inf, nan, unit(re)), zero)
    inf_im = b.select(re_inf, b.select(im_inf, nan, zero), unit(im))
    is_zero = b.fcmp_ordered("==", size, zero)
    out_re = b.select(is_zero, zero, b.fdiv(re, size))
    out_im = b.select(is_zero, zero, b.fdiv(im, size))
    size_inf = isinf(cg, size)
    out_re, out_im = b.select(size_inf, inf_re, out_re), b.select(size_inf, inf_im, out_im)
    size_nan = isnan(b, size)
    return pack(b, b.select(size_nan, nan, out_re), b.select(size_nan, nan, out_im))


# ---------------------------------------------------------------------------- the C library

def c99(cg, name, *args):
    """The C library's complex function `name` (`namef` for complex64) of complex `args`, called
    with the C ABI of `T _Complex`: its two parts as two scalars, except that x86-64 passes and
    returns a `float _Complex` as one <2 x float>."""
    b, t = cg.b, part_of(args[0])
    if sys.platform == "win32":
        raise UnsupportedError(f"kiln LLVM backend: complex `{name}` needs a C99 libm")
    full = name + ("f" if t == np.float32 else "")
    scalar = register_type(t)
    packed = t == np.float32 and llvm.get_process_triple().startswith(("x86_64", "amd64"))
    if packed:
        vec = ir.VectorType(scalar, 2)
        fn_type, call_args = ir.FunctionType(vec, [vec] * len(args)), []
        for z in args:
            re, im = parts(b, z)
            v = b.insert_element(ir.Constant(vec, ir.Undefined), re, ir.Constant(ir.IntType(32), 0))
            call_args.append(b.insert_element(v, im, ir.Constant(ir.IntType(32), 1)))
    else:
        struct = ir.LiteralStructType([scalar, scalar])
        fn_type = ir.FunctionType(struct, [scalar] * (2 * len(args)))
        call_args = [p for z in args for p in parts(b, z)]
    fn = cg.module.globals.get(full)
    if fn is None:
        fn = ir.Function(cg.module, fn_type, full)
        fn.attributes.add("nounwind")
    out = b.call(fn, call_args)
    if packed:
        return pack(b, b.extract_element(out, ir.Constant(ir.IntType(32), 0)),
                    b.extract_element(out, ir.Constant(ir.IntType(32), 1)))
    return out


def exp2(cg, z):
    """NumPy's: cexp(z ln 2), with ln 2 in the parts' type."""
    b = cg.b
    re, im = parts(b, z)
    ln2 = constant(part_of(re), np.log(2))
    return c99(cg, "cexp", pack(b, b.fmul(re, ln2), b.fmul(im, ln2)))


def expm1(cg, z):
    """NumPy's: expm1(x) cos(y) - 2 sin(y/2)**2 + i exp(x) sin(y)."""
    b = cg.b
    x, y = parts(b, z)
    t = part_of(x)
    a = cg.libm("sin", t, [b.fdiv(y, constant(t, 2))])
    re = b.fsub(b.fmul(cg.libm("expm1", t, [x]), cg.libm("cos", t, [y])), b.fmul(b.fmul(constant(t, 2), a), a))
    return pack(b, re, b.fmul(cg.libm("exp", t, [x]), cg.libm("sin", t, [y])))


def log1p(cg, z):
    """NumPy's: log(hypot(x + 1, y)) + i atan2(y, x + 1)."""
    b = cg.b
    x, y = parts(b, z)
    t = part_of(x)
    x1 = b.fadd(x, constant(t, 1))
    return pack(b, cg.libm("log", t, [cg.libm("hypot", t, [x1, y])]), cg.libm("atan2", t, [y, x1]))


# ---------------------------------------------------------------------------- powers

def _integer_power(cg, z, n: int):
    """npy_cpow's z**n for a static n >= 1: 0 at 0; z, z*z, z*(z*z) for n <= 3; binary powers
    starting from 1 below 100; the C library's cpow from 100."""
    b = cg.b
    if n == 1:
        p = z
    elif n == 2:
        p = multiply(cg, z, z, fused=False)
    elif n == 3:
        p = multiply(cg, z, multiply(cg, z, z, fused=False), fused=False)
    elif n < 100:
        p, square = const(z, 1), z
        while True:
            if n & 1:
                p = multiply(cg, p, square, fused=False)
            n >>= 1
            if not n:
                break
            square = multiply(cg, square, square, fused=False)
    else:
        p = c99(cg, "cpow", z, const(z, n))
    re, im = parts(b, z)
    zero = constant(part_of(re), 0)
    at_zero = b.and_(b.fcmp_ordered("==", re, zero), b.fcmp_ordered("==", im, zero))
    return select(b, at_zero, const(z, 0), p)


def integer_pow(cg, z, y: int):
    """The reference's z**y: 1 for y == 0, npy_cpow's z**y, and 1 / z**-y by NumPy's divide
    for y < 0."""
    if y == 0:
        return const(z, 1)
    p = _integer_power(cg, z, abs(y))
    return p if y > 0 else divide(cg, const(z, 1), p)


def power(cg, x, y):
    """npy_cpow(x, y), through `_pow_function`."""
    return cg.b.call(_pow_function(cg, part_of(x)), [*parts(cg.b, x), *parts(cg.b, y)])


def _pow_function(cg, t):
    """`kiln.cpow.f32/f64(ar, ai, br, bi)`, NumPy's npy_cpow: 1 for b == 0; 0 for a == 0 and
    Re b > 0 (else NaN); integer b in (-100, 100) by repeated multiplication (then 1 / that for
    b < 0); the C library's cpow otherwise. A function of its own: its one branch skips cpow."""
    name = f"kiln.cpow.{'f32' if t == np.float32 else 'f64'}"
    fn = cg.module.globals.get(name)
    if fn is not None:
        return fn
    scalar = register_type(t)
    fn = ir.Function(cg.module, ir.FunctionType(ir.LiteralStructType([scalar, scalar]), [scalar] * 4), name)
    fn.linkage = "internal"
    saved = cg.fn, cg.b, cg.alloca_block
    cg.fn, cg.b = fn, ir.IRBuilder(fn.append_basic_block("entry"))
    cg.alloca_block = cg.b.block
    b = cg.b
    ar, ai, br, bi = fn.args
    a, p = pack(b, ar, ai), pack(b, br, bi)
    c = lambda v: constant(t, v)
    b_zero = b.and_(b.fcmp_ordered("==", br, c(0)), b.fcmp_ordered("==", bi, c(0)))
    a_zero = b.and_(b.fcmp_ordered("==", ar, c(0)), b.fcmp_ordered("==", ai, c(0)))
    n = b.fptosi(br, ir.IntType(64))
    small = b.and_(b.and_(b.fcmp_ordered("==", bi, c(0)), b.fcmp_ordered(">", br, c(-100))),
                   b.and_(b.fcmp_ordered("<", br, c(100)), b.fcmp_ordered("==", b.sitofp(n, scalar), br)))
    fast, general = fn.append_basic_block("fast"), fn.append_basic_block("general")
    b.cbranch(b.or_(b.or_(b_zero, a_zero), small), fast, general)

    b.position_at_end(fast)
    magnitude = cg.intrinsic("llvm.abs", [n, ir.Constant(I1, 0)])
    i64 = lambda v: ir.Constant(ir.IntType(64), v)
    power, square = const(a, 1), a
    for k in range(7):  # |n| < 128
        bit = b.icmp_unsigned("!=", b.and_(magnitude, i64(1 << k)), i64(0))
        power = select(b, bit, multiply(cg, power, square, fused=False), power)
        more = b.icmp_signed(">=", magnitude, i64(2 << k))
        square = select(b, more, multiply(cg, square, square, fused=False), square)
    power = select(b, b.fcmp_ordered("<", br, c(0)), divide(cg, const(a, 1), power, nan_cases=False), power)
    a2 = multiply(cg, a, a, fused=False)
    for k, exact in ((3, multiply(cg, a, a2, fused=False)), (2, a2), (1, a)):
        power = select(b, b.icmp_signed("==", n, i64(k)), exact, power)
    out = select(b, a_zero, select(b, b.fcmp_ordered(">", br, c(0)), const(a, 0), const(a, complex(np.nan, np.nan))),
                  power)
    b.ret(select(b, b_zero, const(a, 1), out))

    b.position_at_end(general)
    b.ret(c99(cg, "cpow", a, p))
    cg.fn, cg.b, cg.alloca_block = saved
    return fn
