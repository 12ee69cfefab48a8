"""The harness the kiln.numpy tests share: run one case on kiln and on real JAX, compare.

A `Case` is a function `fn(np, *args)` written once against a NumPy-like module, and its
inputs (NumPy arrays and Python scalars). `check(case, x64)` runs it

- on real JAX (`jax.numpy`), the reference,
- on kiln eagerly (`kiln.numpy`), and
- under `kiln.jit`, with the module and the Python scalars as static arguments (as JAX sees
  them when closed over), the arrays as dynamic ones,

and compares the outputs leaf by leaf: shape, dtype, weak_type and values. When JAX raises,
kiln must raise an exception of the same built-in kind (TypeError, ValueError, IndexError).

Eager JAX compiles every new (primitive, shape, dtype), ~50 ms each; so the references of a
table are computed together, CHUNK cases per `jax.jit`, once per x64 mode, and compared with
both kiln's eager and compiled results (eager JAX is the same primitives; where a concrete
value changes JAX's behaviour, as a concrete integer exponent in `x ** y` does, a dedicated
test covers it). Cases whose result shape depends on data (boolean masks) set `eager_only`:
JAX runs them eagerly, and under `kiln.jit` kiln must fail as `jax.jit` does.

Inputs are NumPy's default float64/int64 arrays: with x64 off both libraries canonicalise
them to float32/int32, with it on they stay 64-bit, so each case covers both widths.
"""
from __future__ import annotations

import builtins
import contextlib
import dataclasses
import warnings
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
import kiln.numpy as knp

# Relative tolerances per float width; a case may loosen them.
RTOL = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-12,
        np.dtype(np.complex64): 2e-6, np.dtype(np.complex128): 1e-12}


CHUNK = 256  # cases per jax.jit when computing references
# XLA compiles the reference batches about five times faster without its fusion emitters and
# LLVM optimisation; the values are those of the same XLA operations.
FAST_COMPILE = {"xla_cpu_use_fusion_emitters": False, "xla_backend_optimization_level": 0}


@dataclasses.dataclass
class Case:
    id: str
    fn: Callable
    args: tuple = ()
    rtol: float | None = None     # for 32-bit floats; 64-bit ones use rtol64
    rtol64: float | None = None
    atol: float = 0.0
    eager_only: bool = False      # data-dependent shapes: JAX eager, and jit must fail

    def __repr__(self):
        return self.id


def case(id, fn, *args, **options) -> Case:
    return Case(id, fn, tuple(args), **options)


def ids(cases):
    seen = set()
    for c in cases:
        if c.id in seen:
            raise AssertionError(f"duplicate case id {c.id}")
        seen.add(c.id)
    return [c.id for c in cases]


# ---------------------------------------------------------------------------- x64 mode

@contextlib.contextmanager
def x64_mode(enabled: bool):
    """x64 on or off in kiln and JAX together; both are restored to off afterwards."""
    kiln.config.update("jax_enable_x64", enabled)
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        kiln.config.update("jax_enable_x64", False)
        jax.config.update("jax_enable_x64", False)


# ---------------------------------------------------------------------------- references

def _is_scalar(a) -> bool:
    """A Python scalar (weakly typed); NumPy scalars such as np.float64 are 0-d arrays here."""
    return type(a) in (bool, int, float, complex)


def _host(a) -> np.ndarray:
    """An input as a NumPy array of JAX's canonical dtype: handing JAX NumPy arrays costs
    no compilation, while jnp.asarray compiles a conversion for every new shape and dtype."""
    return np.asarray(a, dtype=jax.dtypes.canonicalize_dtype(np.asarray(a).dtype))


def _jax_args(args):
    return [a if _is_scalar(a) else _host(a) for a in args]


class _Error:
    def __init__(self, exc):
        self.exc = exc


def _leaves(tree) -> list:
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _record(leaves):
    return [(np.asarray(v), np.dtype(v.dtype), bool(getattr(v, "weak_type", False))) for v in leaves]


class References:
    """JAX's results for a table of cases, computed once per x64 mode."""

    def __init__(self, cases, kiln_ns=knp, jax_ns=jnp):
        self.cases = cases
        self.kiln_ns, self.jax_ns = kiln_ns, jax_ns  # what the case functions get as `np`
        self._done: dict[bool, dict[str, Any]] = {}

    def get(self, c: Case, x64: bool):
        if x64 not in self._done:
            with warnings.catch_warnings():  # JAX's warnings about the reference inputs are noise here
                warnings.simplefilter("ignore")
                self._done[x64] = self._compute()
        return self._done[x64][c.id]

    def _compute(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        batched = [c for c in self.cases if not c.eager_only]
        # XLA's compile time grows faster than linearly with program size: batch in chunks.
        for start in range(0, len(batched), CHUNK):
            self._compute_batch(batched[start:start + CHUNK], out)
        for c in self.cases:
            if c.eager_only:
                out[c.id] = self._eager(c)
        return out

    def _compute_batch(self, batch, out):
        positions, flat = [], []
        for c in batch:
            arrays = [_host(a) for a in c.args if not _is_scalar(a)]
            positions.append((len(flat), len(arrays)))
            flat.extend(arrays)

        def run_all(*flat_args):
            results = []
            for c, (start, n) in zip(batch, positions):
                it = iter(flat_args[start:start + n])
                args = [a if _is_scalar(a) else next(it) for a in c.args]
                try:
                    results.append(c.fn(self.jax_ns, *args))
                except Exception as e:  # noqa: BLE001  (recorded, compared with kiln's)
                    out[c.id] = _Error(e)
                    results.append(None)
            return results

        compiled = jax.jit(run_all).lower(*flat).compile(FAST_COMPILE)
        for c, result in zip(batch, compiled(*flat)):
            if c.id not in out:
                out[c.id] = _record(_leaves(result))

    def _eager(self, c: Case):
        try:  # jax.Array inputs (not NumPy ones): NumPy would index them itself
            eager = _record(_leaves(c.fn(self.jax_ns, *[a if _is_scalar(a) else jnp.asarray(a) for a in c.args])))
        except Exception as e:  # noqa: BLE001
            eager = _Error(e)
        try:
            statics = (0,) + tuple(i + 1 for i, a in enumerate(c.args) if _is_scalar(a))
            jax.jit(c.fn, static_argnums=statics)(self.jax_ns, *_jax_args(c.args))
            jitted = None
        except Exception as e:  # noqa: BLE001
            jitted = _Error(e)
        return eager, jitted


# ---------------------------------------------------------------------------- comparison

def _builtin_kind(exc: BaseException) -> type:
    """The built-in exception class an exception is an instance of (TypeError, ...)."""
    for cls in type(exc).__mro__:
        if cls.__module__ == "builtins" and cls is not Exception and issubclass(cls, Exception):
            return cls
    return Exception


def _expect_error(expected: _Error, run, where: str):
    kind = _builtin_kind(expected.exc)
    try:
        got = run()
    except Exception as e:  # noqa: BLE001
        assert isinstance(e, kind), (f"{where}: JAX raised {type(expected.exc).__name__}({expected.exc}) "
                                     f"but kiln raised {type(e).__name__}: {e}")
        return
    raise AssertionError(f"{where}: JAX raised {type(expected.exc).__name__}: {expected.exc}\n"
                         f"but kiln returned {got!r}")


def compare(got, expected, c: Case, where: str):
    got_leaves = _leaves(got)
    assert len(got_leaves) == len(expected), f"{where}: {len(got_leaves)} outputs, JAX gives {len(expected)}"
    for k, (g, (value, dtype, weak)) in enumerate(zip(got_leaves, expected)):
        at = f"{where} output {k}"
        assert isinstance(g, kiln.Array), f"{at}: expected a kiln.Array, got {type(g).__name__}"
        assert g.shape == value.shape, f"{at}: shape {g.shape}, JAX gives {value.shape}"
        assert g.dtype == dtype, f"{at}: dtype {g.dtype}, JAX gives {dtype}"
        assert g.weak_type == weak, f"{at}: weak_type {g.weak_type}, JAX gives {weak}"
        actual = np.asarray(g)
        if dtype.kind in "fc":
            wide = dtype.itemsize == 8 or dtype == np.complex128
            rtol = (c.rtol64 if wide else c.rtol) or RTOL[dtype]
            np.testing.assert_allclose(actual, value, rtol=rtol, atol=builtins.max(c.atol, rtol),
                                       equal_nan=True, err_msg=at)
        else:
            np.testing.assert_array_equal(actual, value, err_msg=at)


def check(c: Case, references: References, x64: bool):
    """Compare kiln eagerly and under kiln.jit with JAX on one case."""
    reference = references.get(c, x64)
    if c.eager_only:
        reference, jit_reference = reference
    kiln_args = [a if _is_scalar(a) else knp.asarray(a) for a in c.args]
    statics = (0,) + tuple(i + 1 for i, a in enumerate(c.args) if _is_scalar(a))
    jitted = kiln.jit(c.fn, static_argnums=statics)

    def eager():
        return c.fn(references.kiln_ns, *kiln_args)

    def compiled():
        return jitted(references.kiln_ns, *kiln_args)

    if isinstance(reference, _Error):
        _expect_error(reference, eager, "eager")
    else:
        compare(eager(), reference, c, "eager")
    if c.eager_only:
        assert isinstance(jit_reference, _Error), "an eager_only case must fail under jax.jit"
        _expect_error(jit_reference, compiled, "jit")
    elif isinstance(reference, _Error):
        _expect_error(reference, compiled, "jit")
    else:
        compare(compiled(), reference, c, "jit")


def table_test(cases, kiln_ns=knp, jax_ns=jnp):
    """A parametrized test function checking every case of `cases` in both x64 modes; the
    case functions get `kiln_ns` or `jax_ns` (kiln.numpy and jax.numpy by default)."""
    references = References(cases, kiln_ns, jax_ns)

    @pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
    @pytest.mark.parametrize("c", cases, ids=ids(cases))
    def test(c, x64):
        with x64_mode(x64):
            check(c, references, x64)
    return test


# ---------------------------------------------------------------------------- inputs

_rng = np.random.default_rng(0)


def floats(*shape, lo=-2.0, hi=2.0):
    return np.round(_rng.uniform(lo, hi, shape), 3) if shape else np.float64(np.round(_rng.uniform(lo, hi), 3))


def ints(*shape, lo=-5, hi=6):
    return _rng.integers(lo, hi, shape, dtype=np.int64) if shape else np.int64(_rng.integers(lo, hi))


def bools(*shape):
    return _rng.integers(0, 2, shape).astype(bool)


SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -2.5, np.inf, -np.inf, np.nan, 1e-30])


# ---------------------------------------------------------------------------- the harness's own tests

test_harness = table_test([
    case("weak-scalar", lambda np, x: np.sin(x), 1.0),
    case("strong-array", lambda np, x: x * 2, floats(2, 3)),
    case("raises", lambda np, x: np.reshape(x, (4, 4)), floats(2, 3)),
])


def test_compare_catches_weak_type_and_dtype_mismatches():
    c = case("c", lambda np, x: x + 1, np.arange(3.0))
    expected = References([c]).get(c, False)
    good = knp.asarray(np.arange(1.0, 4.0, dtype=np.float32))
    compare(good, expected, c, "ok")
    with pytest.raises(AssertionError, match="weak_type"):
        compare(kiln.Array(np.arange(1.0, 4.0, dtype=np.float32), weak_type=True), expected, c, "weak")
    with pytest.raises(AssertionError, match="dtype"):
        compare(knp.arange(1, 4), expected, c, "dtype")
    with pytest.raises(AssertionError, match="Mismatch"):
        compare(good * 2, expected, c, "values")
