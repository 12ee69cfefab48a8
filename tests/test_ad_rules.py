"""Every primitive's differentiation rules, one probe at a time, in float64.

A probe is a small function written once against a library namespace (`L.lax`, `L.np`, ...)
and built for kiln and for real JAX. For each probe: the tangent kiln.jvp computes agrees
with central finite differences in a random direction; kiln.vjp passes the dot-product test
<vjp(ct), t> == <ct, jvp(t)>; and both agree with jax.jvp / jax.vjp of the same function.

Coverage is checked against the rule tables: every primitive with a jvp rule has a probe
that stages it (integer-only primitives, which no tangent can reach, have their rule called
directly), and every primitive without one is either shown to fail under grad with an error
naming it and the user's line, or listed as unreachable by a tangent, with the reason.
"""
import zlib
from typing import Callable, NamedTuple

import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln.ad import Staging
from kiln.ir import sub_programs
from kiln.primitives import MissingRuleError, bind, impl_rules, jvp_rules, primitive, registry, shape_rules
from kiln.tree_util import tree_leaves, tree_map

jax = pytest.importorskip("jax")


class Lib(NamedTuple):
    top: object
    lax: object
    np: object
    special: object


KILN = Lib(kiln, kiln.lax, knp, kiln.scipy.special)
JAX = Lib(jax, jax.lax, jax.numpy, jax.scipy.special)


REFS = None  # JAX's values, cached between runs (set up with pytest's cache)


@pytest.fixture(autouse=True, scope="module")
def x64(request):
    global REFS
    from ad_corpus import ReferenceCache
    REFS = ReferenceCache(getattr(request.config, "cache", None), __file__)
    previous = kiln.config.read("jax_enable_x64")
    kiln.config.update("jax_enable_x64", True)
    yield
    kiln.config.update("jax_enable_x64", previous)


class Probe(NamedTuple):
    name: str
    prims: tuple  # the primitives whose rules it exercises
    build: Callable  # Lib -> the function
    specs: tuple  # one generator per (differentiated) argument
    fd_rtol: float | None  # None: the derivative is not the value's (stop_gradient)
    reverse: bool  # False: reverse mode raises, in JAX too (while_loop)
    forward: bool  # False: forward mode raises, in JAX too (custom_vjp)
    kiln_build: Callable | None  # a kiln-only spelling, where the names differ
    fd_step: float
    jax_ok: bool  # False: JAX's own rule fails on this probe
    dot_rtol: float  # of the dot-product test (looser where values pass through float32)


PROBES: list[Probe] = []


def probe(prims, build, *specs, name=None, fd_rtol=1e-6, reverse=True, forward=True, kiln_build=None,
          fd_step=1e-5, jax_ok=True, dot_rtol=1e-9):
    prims = (prims,) if isinstance(prims, str) else tuple(prims)
    name = name or "-".join(prims)
    assert name not in {p.name for p in PROBES}, name
    PROBES.append(Probe(name, prims, build, specs, fd_rtol, reverse, forward, kiln_build, fd_step, jax_ok, dot_rtol))


def N(*shape, lo=None, hi=None):
    if lo is None:
        return lambda r: r.standard_normal(shape)
    return lambda r: r.uniform(lo, hi, shape)


POS, UNIT, BIG = dict(lo=0.5, hi=2.0), dict(lo=-0.9, hi=0.9), dict(lo=1.5, hi=3.0)

# ---------------------------------------------------------------------------- elementwise
for _name, _domain in [("exp", {}), ("exp2", {}), ("log", POS), ("log1p", POS), ("expm1", {}), ("tanh", {}),
                       ("logistic", {}), ("sin", {}), ("cos", {}), ("tan", UNIT), ("asin", UNIT), ("acos", UNIT),
                       ("atan", {}), ("sinh", {}), ("cosh", {}), ("asinh", {}), ("acosh", BIG), ("atanh", UNIT),
                       ("sqrt", POS), ("rsqrt", POS), ("cbrt", POS), ("abs", {}), ("erf", {}), ("erfc", {}),
                       ("erf_inv", UNIT), ("lgamma", POS), ("digamma", POS), ("neg", {})]:
    probe(_name, lambda L, n=_name: getattr(L.lax, n), N(4, **_domain))
probe("digamma", lambda L: lambda x: L.lax.digamma(x) * x, N(3, lo=-2.9, hi=-2.1), name="digamma-negative")
for _name in ("sign", "floor", "ceil"):
    probe(_name, lambda L, n=_name: lambda x: getattr(L.lax, n)(x) * x, N(4))
probe("round", lambda L: lambda x: L.lax.round(x, 1) * x + x, N(4))
probe("round_away_from_zero", lambda L: lambda x: L.lax.round(x, 0) * x + x, N(4))
probe("is_finite", lambda L: lambda x: L.np.where(L.lax.is_finite(x), x ** 2, 0.0), N(4))
probe("stop_gradient", lambda L: lambda x: x * L.lax.stop_gradient(x) + x, N(4), fd_rtol=None)
probe("random_erf_inv", lambda L: L.lax.erf_inv, N(4, **UNIT),
      kiln_build=lambda L: lambda x: bind(registry["random_erf_inv"], x))
for _name in ("add", "sub", "mul", "div", "max", "min", "atan2"):
    probe(_name, lambda L, n=_name: getattr(L.lax, n), N(4), N(4))
    # A rank-0 operand broadcasts inside the primitive (kiln), through jnp's broadcast (JAX).
    probe(_name, lambda L, n=_name: lambda x, s: getattr(L.lax, n)(x, L.np.broadcast_to(s, x.shape))
          if L is JAX else getattr(L.lax, n)(x, s), N(4), N(), name=f"{_name}-scalar")
probe("pow", lambda L: L.lax.pow, N(4, **POS), N(4))
probe("pow", lambda L: lambda x: L.lax.pow(x, 0.0) * x, N(3), name="pow-zero-exponent")
probe("rem", lambda L: lambda x, y: L.lax.rem(3 * x, y), N(4), N(4, **POS))
probe("max", lambda L: lambda x: L.lax.max(x, L.lax.rev(x, (0,))), N(3), name="max-tie")
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    probe(_name, lambda L, n=_name: lambda x, y: L.lax.select(getattr(L.lax, n)(x, y), x * y, x - y), N(4), N(4))
probe("integer_pow", lambda L: lambda x: L.lax.integer_pow(x, 3) + L.lax.integer_pow(x, -2), N(4, **POS))
probe("integer_pow", lambda L: lambda x: L.lax.integer_pow(x, 0) * x + L.lax.integer_pow(x, 1), N(3),
      name="integer_pow-0-1")
probe("select_n", lambda L: lambda x, y: L.lax.select_n(x > y, x, y * 2), N(4), N(4))
probe("select_n", lambda L: lambda x, y: L.lax.select_n(np.array([2, 0, 1, 2], np.int32), x, y, x * y), N(4), N(4),
      name="select_n-integer-which")
probe("clamp", lambda L: L.lax.clamp, N(5, lo=-0.6, hi=-0.2), N(5), N(5, lo=0.2, hi=0.6))
probe("fma", lambda L: lambda a, b, c: a * b + c, N(5), N(5), N(5),
      kiln_build=lambda L: lambda a, b, c: bind(registry["fma"], a, b, c))
probe("libm", lambda L: L.lax.exp, N(4), kiln_build=lambda L: lambda x: bind(registry["libm"], x, fn="exp"),
      name="libm-exp")
probe("libm", lambda L: L.lax.log, N(4, **POS), kiln_build=lambda L: lambda x: bind(registry["libm"], x, fn="log"),
      name="libm-log")
# Complex values inside real functions (tests/test_ad_complex.py checks complex arguments).
probe(("complex", "real", "imag"), lambda L: lambda x, y: L.lax.real(L.lax.complex(x, y) * (1.5 - 2j)) + L.lax.imag(
    L.lax.complex(x * y, y) * L.lax.complex(y, x)), N(4), N(4))
probe(("complex", "imag"), lambda L: lambda x, s: L.lax.imag(L.lax.exp(L.lax.complex(
    x, L.np.broadcast_to(s, x.shape) if L is JAX else s))), N(4), N(), name="complex-scalar")
probe(("conj", "real"), lambda L: lambda x, y: L.lax.real(L.lax.conj(L.lax.complex(x, y)) * L.lax.complex(
    y, x * x)), N(4), N(4))
probe("abs", lambda L: lambda x, y: L.lax.abs(L.lax.complex(x, y)) * x, N(4), N(4), name="abs-complex")
# Rank-0 bounds: JAX's own clamp rule fails on them ("select cases must have the same shapes").
probe("clamp", lambda L: L.lax.clamp, N(lo=-0.6, hi=-0.2), N(5), N(lo=0.2, hi=0.6), name="clamp-scalar-bounds",
      jax_ok=False)
probe("convert_element_type", lambda L: lambda x: L.lax.convert_element_type(
    L.lax.convert_element_type(x, np.float32) * 3, np.float64), N(4), fd_rtol=1e-4, fd_step=1e-2,
      dot_rtol=1e-6)
probe("convert_element_type", lambda L: lambda x: x * L.lax.convert_element_type(
    L.lax.convert_element_type(x * 3, np.int32), np.float64), N(4), name="convert_element_type-integer")

# ---------------------------------------------------------------------------- structural
probe("broadcast_in_dim", lambda L: lambda x: L.lax.broadcast_in_dim(x, (2, 3), (1,)), N(3))
probe("broadcast_in_dim", lambda L: lambda x: L.lax.broadcast_in_dim(x, (2, 1, 3), (1, 2)) ** 2, N(1, 3),
      name="broadcast_in_dim-stretch")
probe("reshape", lambda L: lambda x: L.lax.reshape(x, (3, 2)), N(2, 3))
probe("transpose", lambda L: lambda x: L.lax.transpose(x, (1, 2, 0)), N(2, 3, 2))
probe("rev", lambda L: lambda x: L.lax.rev(x, (0, 1)) * x, N(2, 3))
probe("slice", lambda L: lambda x: L.lax.slice(x, (1, 0), (5, 2), (2, 1)), N(6, 2))
probe("pad", lambda L: lambda x, p: L.lax.pad(x, p, ((1, 2, 1),)), N(3), N())
probe("pad", lambda L: lambda x, p: L.lax.pad(x, p, ((-1, 1, 0), (1, -1, 1))), N(3, 3), N(), name="pad-negative")
probe("concatenate", lambda L: lambda x, y: L.lax.concatenate([x, y, x], 1), N(2, 2), N(2, 3))
probe("dynamic_slice", lambda L: lambda x: L.lax.dynamic_slice(x, (1, 0), (2, 2)), N(4, 2))
probe("dynamic_slice", lambda L: lambda x: L.lax.dynamic_slice(x, (4,), (3,)), N(5), name="dynamic_slice-clamped")
probe("dynamic_update_slice", lambda L: lambda x, u: L.lax.dynamic_update_slice(x, u, (1, 1)), N(3, 3), N(2, 2))

# ---------------------------------------------------------------------------- reductions
probe("reduce_sum", lambda L: lambda x: L.lax.reduce_sum(x, (0, 2)), N(2, 3, 2))
probe("reduce_max", lambda L: lambda x: L.lax.reduce_max(x, (1,)), N(3, 4))
probe("reduce_min", lambda L: lambda x: L.lax.reduce_min(x, (0,)), N(3, 4))
probe("reduce_prod", lambda L: lambda x: L.lax.reduce_prod(x, (0, 2)), N(3, 2, 3))
probe("reduce_prod", lambda L: lambda x: L.lax.reduce_prod(x * np.array([1.0, 0.0, 1.0]), (0,)), N(3),
      name="reduce_prod-zero")
probe("argmax", lambda L: lambda x: x * x[L.lax.argmax(x, 0, np.int32)], N(5))
probe("argmin", lambda L: lambda x: x * x[L.lax.argmin(x, 0, np.int32)], N(5))
probe("cumsum", lambda L: lambda x: L.lax.cumsum(x, 1, reverse=True), N(2, 4))
probe("cumprod", lambda L: lambda x: L.lax.cumprod(x, 0), N(5, 2))
probe("cumprod", lambda L: lambda x: L.lax.cumprod(x, 0, reverse=True), N(6), name="cumprod-reverse")
probe("cummax", lambda L: lambda x: L.lax.cummax(x, 0), N(6))
probe("cummin", lambda L: lambda x: L.lax.cummin(x, 1, reverse=True), N(2, 5))
probe("sort", lambda L: lambda x: L.lax.sort(x, 1), N(3, 4))
probe("sort", lambda L: lambda x, y: L.lax.sort((x, y), num_keys=1), N(5), N(5), name="sort-two-operands")
probe("dot_general", lambda L: lambda a, b: L.lax.dot_general(a, b, (((2,), (1,)), ((0,), (0,)))), N(2, 3, 4),
      N(2, 4, 3))
probe("dot_general", lambda L: lambda a, b: L.lax.dot_general(a, b, (((0,), (1,)), ((), ()))), N(3, 2), N(4, 3),
      name="dot_general-transposed")

# ---------------------------------------------------------------------------- indexing
IDX = np.array([2, 0, 2, -1])
probe("gather", lambda L: lambda x: x[IDX] * 2.0, N(4))
probe("gather", lambda L: lambda x: x[:, IDX[:2]] + x[1, 2], N(2, 3), name="gather-2d")
probe("gather", lambda L: lambda x: x.at[np.array([1, 7])].get(mode="fill", fill_value=0.0), N(3), name="gather-fill")
probe("scatter", lambda L: lambda x, y: x.at[IDX[:3]].set(y), N(4), N(3))
probe("scatter", lambda L: lambda x, y: x.at[IDX].add(y), N(4), N(4), name="scatter-add")
probe("scatter", lambda L: lambda x, y: x.at[1:3].multiply(y), N(4), N(2), name="scatter-mul")
probe("scatter", lambda L: lambda x, y: x.at[IDX].max(y), N(4), N(4), name="scatter-max")
probe("scatter", lambda L: lambda x, y: x.at[IDX[:2]].min(y), N(4), N(2), name="scatter-min")

# ---------------------------------------------------------------------------- control flow and calls
probe("cond", lambda L: lambda x: L.lax.cond(x[0] > 0, lambda v: L.np.sin(v), lambda v: v * v[1], x), N(3))
probe("while", lambda L: lambda x: L.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * L.np.sin(c[1])),
                                                    (0, x))[1], N(3), jax_ok=False)
probe("scan", lambda L: lambda c, xs: L.lax.scan(lambda c, a: (c * a + 1.0, L.np.sin(c)), c, xs), N(2), N(3, 2))


def _custom_jvp(L):
    @L.top.custom_jvp
    def f(x):
        return L.np.sin(x) * x

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), (L.np.cos(x) * x + L.np.sin(x)) * t
    return f


def _custom_vjp(L):
    @L.top.custom_vjp
    def f(x, y):
        return L.np.sin(x) * y

    f.defvjp(lambda x, y: (f(x, y), (L.np.cos(x), L.np.sin(x), y)),
             lambda res, g: (res[0] * g * res[2], res[1] * g))
    return f


probe("custom_jvp_call", _custom_jvp, N(3))
probe("custom_vjp_call", _custom_vjp, N(3), N(3), forward=False)
probe("checkpoint_call", lambda L: L.top.checkpoint(lambda x: L.np.sin(x) * L.np.exp(x)), N(3))


def _custom_vmap(L):
    """(JAX cannot linearize a custom_vmap function: its reference is the plain function.)"""
    fn = lambda x: L.np.sin(x) * L.np.exp(x)
    if L is not KILN:
        return fn
    f = L.top.custom_batching.custom_vmap(fn)
    f.def_vmap(lambda n, b, x: (fn(x), b[0]))
    return f


probe("custom_vmap_call", _custom_vmap, N(3))
# the tangent call of a custom_vmap function, differentiated again
probe("custom_vmap_jvp", lambda L: lambda x: L.top.jvp(_custom_vmap(L), (x,), (L.np.cos(x),))[1], N(3))

# ---------------------------------------------------------------------------- linear algebra, FFT, callbacks
def _spd(L, x):
    return x @ x.T + 3 * L.np.eye(x.shape[0])


probe("cholesky", lambda L: lambda x: L.np.linalg.cholesky(_spd(L, x)), N(3, 3))
probe("triangular_solve", lambda L: lambda a, b: L.lax.linalg.triangular_solve(
    a + 4 * L.np.eye(3), b, left_side=True, lower=True, transpose_a=True), N(3, 3), N(3, 2))
probe("lu", lambda L: lambda x: L.lax.linalg.lu(x + 4 * L.np.eye(3))[0], N(3, 3))
# eigenvectors and singular vectors up to sign: products that do not depend on it
probe("eigh", lambda L: lambda x: (lambda w, v: w[:, None] * v * v[:1])(*L.np.linalg.eigh(_spd(L, x))), N(3, 3))
probe("svd", lambda L: lambda x: (lambda u, s, vt: s * u[:, :1] * vt[:1, 0])(*L.np.linalg.svd(x, full_matrices=False)),
      N(4, 3))
probe("fft", lambda L: lambda x: L.np.fft.irfft(L.np.fft.rfft(x) * L.np.arange(1.0, 4.0), 4)
      + L.np.fft.fft(x).imag, N(4))
probe("debug_callback", lambda L: lambda x: (L.top.debug.callback(lambda v: None, x), L.np.sin(x))[1], N(3))

# ---------------------------------------------------------------------------- the other primitives
# Integer-only: no tangent reaches them, so their (zero) rule is called directly.
U32 = np.array([1, 2, 0xFFFFFFFF], np.uint32)
INTEGER_ONLY = {
    "and": (np.array([True, False]), np.array([True, True])), "or": (np.array([3, 5]), np.array([6, 1])),
    "xor": (np.array([3, 5]), np.array([6, 1])), "not": (np.array([3, -5]),),
    "shift_left": (np.array([3, 5]), np.array([1, 2])), "shift_right_arithmetic": (np.array([-8, 5]), np.array([1, 2])),
    "threefry2x32": (U32, U32[::-1].copy(), U32, U32),
}
# Rules that need a named axis bound by vmap/pmap, so a probe (which stages the function
# alone) cannot reach them: tested under vmap against JAX in test_lax_parallel.py.
NAMED_AXIS = {"psum": "test_lax_parallel.py: grad and jvp of psum under vmap against JAX"}
# A rule that refuses, as JAX's does: differentiating a pure_callback raises ValueError
# (test_callbacks.py), because the Python function's derivative is unknown.
NOT_DIFFERENTIABLE = {"pure_callback": "test_callbacks.py: grad raises, as in JAX"}
# No rule, and grad says so naming the primitive and the user's line (as JAX has none for
# nextafter).
MISSING = {
    "nextafter": lambda x: kiln.lax.nextafter(x, 2.0),
    # as in JAX; grad *outside* the vmap differentiates the batched program, which has no pmax
    "pmax": lambda x: kiln.vmap(kiln.grad(lambda v: kiln.lax.pmax(v, "i")), axis_name="i")(knp.stack([x, x])).sum(),
    "pmin": lambda x: kiln.vmap(kiln.grad(lambda v: kiln.lax.pmin(v, "i")), axis_name="i")(knp.stack([x, x])).sum(),
    "qr": lambda x: knp.linalg.qr(knp.eye(2) * x + 1.0)[1].sum(),  # JAX has one (a triangular solve)
    "all_gather": lambda x: kiln.vmap(kiln.grad(lambda v: kiln.lax.all_gather(v, "i").sum()), axis_name="i")(knp.stack([x, x])).sum(),
}
# No rule, and no tangent can reach them.
UNREACHABLE = {
    "iota": "takes no operands",
    "axis_index": "takes no operands",
    "reduce_and": "bool operands carry no tangent", "reduce_or": "bool operands carry no tangent",
    "custom_lin": "emitted by reverse mode into linear programs, which are transposed, never differentiated",
    "checkpoint_jvp": "emitted by reverse mode into linear programs, which are transposed, never differentiated",
}


def _kiln_primitives():
    """kiln's own primitives (other tests register primitives of their own)."""
    return {name for name, p in registry.items() if not name.startswith("test_")}


def test_every_primitive_is_classified():
    probed = {p for pr in PROBES for p in pr.prims}
    with_rule = {p.name for p in jvp_rules} & _kiln_primitives()
    covered = probed | set(INTEGER_ONLY) | set(NAMED_AXIS) | set(NOT_DIFFERENTIABLE)
    assert with_rule == covered, (
        f"rules without a probe: {sorted(with_rule - covered)}; "
        f"probes of primitives without a rule: {sorted(covered - with_rule)}")
    assert _kiln_primitives() == with_rule | set(MISSING) | set(UNREACHABLE)
    assert not with_rule & (set(MISSING) | set(UNREACHABLE))


# ---------------------------------------------------------------------------- checks
def _args(pr: Probe, salt=0):
    rng = np.random.default_rng(zlib.crc32(pr.name.encode()) + salt)
    return tuple(np.asarray(s(rng), np.float64) for s in pr.specs)


def _flat(tree):
    leaves = [np.asarray(x, np.float64).ravel() for x in tree_leaves(tree)]
    return np.concatenate(leaves) if leaves else np.zeros(0)


def _like(tree, rng):
    return tree_map(lambda x: rng.standard_normal(np.shape(x)), tree)


def _close(actual, expected, rtol, what):
    actual, expected = _flat(actual), _flat(expected)
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    assert actual.shape == expected.shape and np.allclose(actual, expected, rtol=rtol, atol=rtol * scale), (
        f"{what}: kiln {actual[:8]} != {expected[:8]}")


def _staged_prims(program, found):
    for eqn in program.eqns:
        found.add(eqn.prim.name)
        for sub in sub_programs(eqn):
            _staged_prims(sub, found)
    return found


def _jax_reference(pr: Probe, args, tangents, ct):
    """jax.jvp's value and tangent and jax.vjp's cotangents, flat, in one compilation."""
    fj = pr.build(JAX)

    def reference(a, t, c):
        return (jax.jvp(fj, a, t) if pr.forward else (None, None),
                jax.vjp(fj, *a)[1](c) if pr.reverse else None)
    with jax.enable_x64(True):
        (out, t_out), cts = jax.jit(reference)(args, tangents, ct)
    return [_flat(out).tolist(), _flat(t_out).tolist(), _flat(cts).tolist()]


@pytest.mark.parametrize("pr", PROBES, ids=lambda pr: pr.name)
def test_rule(pr: Probe):
    f = (pr.kiln_build or pr.build)(KILN)
    args = _args(pr)
    staged = _staged_prims(Staging(f, args).program, set())
    assert set(pr.prims) <= staged, f"the probe stages {sorted(staged)}, not {pr.prims}"
    rng = np.random.default_rng(7)
    tangents = _like(args, rng)
    out = kiln.jit(f)(*args)
    ct = _like(out, rng)
    if pr.jax_ok:
        j_out, j_tout, j_cts = (np.asarray(v) for v in REFS.get(f"rules/{pr.name}", lambda: _jax_reference(
            pr, args, tangents, ct)))
    if pr.forward:
        k_out, t_out = kiln.jvp(f, args, tangents)
        _close(k_out, out, 1e-12, "jvp's primal output")
        if pr.jax_ok:
            _close(k_out, j_out, 1e-9, "value vs jax")
            _close(t_out, j_tout, 1e-9, "jvp vs jax.jvp")
    if pr.fd_rtol is not None:
        h = pr.fd_step
        plus = kiln.jit(f)(*(a + h * t for a, t in zip(args, tangents)))
        minus = kiln.jit(f)(*(a - h * t for a, t in zip(args, tangents)))
        fd = (_flat(plus) - _flat(minus)) / (2 * h)
        if pr.forward:
            _close(t_out, fd, pr.fd_rtol, "jvp vs finite differences")
    if not pr.reverse:
        with pytest.raises(NotImplementedError, match="reverse-mode"):
            kiln.vjp(f, *args)
        return
    _, pullback = kiln.vjp(f, *args)
    cts = pullback(ct)
    if pr.jax_ok:
        _close(cts, j_cts, 1e-9, "vjp vs jax.vjp")
    # The dot-product test: the pullback is the transpose of the pushforward.
    lhs = float(_flat(cts) @ _flat(tangents))
    rhs = float(_flat(ct) @ (_flat(t_out) if pr.forward else fd))
    rtol = pr.dot_rtol if pr.forward else pr.fd_rtol
    assert np.isclose(lhs, rhs, rtol=rtol, atol=1e-9), f"<vjp(ct), t> {lhs} != {rhs}"
    if not pr.forward:
        with pytest.raises(TypeError, match="forward-mode"):
            kiln.jvp(f, args, tangents)


@pytest.mark.parametrize("name", sorted(INTEGER_ONLY))
def test_integer_only_rule(name):
    prim, args = registry[name], INTEGER_ONLY[name]
    tangents = [np.zeros_like(a) for a in args]
    outs, touts = jvp_rules[prim](list(args), tangents)
    expected = bind(prim, *args)
    expected = expected if prim.multiple_results else [expected]
    assert all(t is None for t in touts)
    for o, e in zip(outs, expected):
        np.testing.assert_array_equal(np.asarray(o), np.asarray(e))


@pytest.mark.parametrize("name", sorted(MISSING))
def test_missing_rule_names_primitive_and_line(name):
    fun = MISSING[name]
    with pytest.raises(MissingRuleError) as info:
        kiln.grad(fun)(0.7)
    message = str(info.value)
    assert f"primitive '{name}'" in message and "jvp" in message
    assert f"{__file__}:{fun.__code__.co_firstlineno}:" in message, message


# A primitive linear in its operand with a jvp rule but no transpose rule: reverse mode stops
# at the transpose lookup, and the error names the primitive and the user's line.
twice_p = primitive("test_ad_rules_twice")
shape_rules[twice_p] = lambda x: [x]
impl_rules[twice_p] = lambda x: [2 * x]
jvp_rules[twice_p] = lambda primals, tangents: ([bind(twice_p, primals[0])], [bind(twice_p, tangents[0])])


def test_missing_transpose_rule_names_primitive_and_line():
    f = lambda x: knp.sin(bind(twice_p, x))  # noqa: E731
    np.testing.assert_allclose(np.asarray(kiln.jvp(f, (0.3,), (1.0,))[1]), 2 * np.cos(0.6), rtol=1e-6)
    with pytest.raises(MissingRuleError) as info:
        kiln.grad(f)(0.3)
    message = str(info.value)
    assert "primitive 'test_ad_rules_twice' has no transpose" in message
    assert f"{__file__}:{f.__code__.co_firstlineno}:" in message, message
