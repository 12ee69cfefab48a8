"""kiln.runtime.dtypes / kiln.runtime.config against real JAX's promotion."""

import os
import random
import subprocess
import sys
import warnings

import numpy as np
import pytest

import jax
import jax.numpy as jnp
from jax._src import dtypes as jax_dtypes
from jax._src.lax import lax as jax_lax

from kiln.runtime import dtypes
from kiln.runtime.config import config, disable_x64, enable_x64

DTYPE_NAMES = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16",
               "int32", "int64", "float16", "float32", "float64", "complex64",
               "complex128"]
DTYPES = [np.dtype(n) for n in DTYPE_NAMES]


@pytest.fixture(params=[False, True], ids=["x32", "x64"])
def x64(request):
    """Sets both JAX's and kiln's x64 flag, restoring both afterwards."""
    prev_jax = jax.config.read("jax_enable_x64")
    prev_kiln = config.read("kiln_enable_x64")
    try:
        jax.config.update("jax_enable_x64", request.param)
        config.update("kiln_enable_x64", request.param)
        yield request.param
    finally:
        jax.config.update("jax_enable_x64", prev_jax)
        config.update("kiln_enable_x64", prev_kiln)


class FakeArray:
    """Stands in for a kiln array / staged value: ``.dtype`` + ``.weak_type``."""

    def __init__(self, dtype, weak_type=False):
        self.dtype = np.dtype(dtype)
        self.weak_type = weak_type

    def __repr__(self):
        return f"FakeArray({self.dtype}, weak={self.weak_type})"


def _jax_weak_array(d):
    d = jax_dtypes.canonicalize_dtype(d)
    return jax_lax._convert_element_type(jnp.zeros((), d), d, weak_type=True)


def _cases():
    """(label, kiln argument, factory for the JAX argument) for each input kind."""
    out = [(f"{d}", d, (lambda d=d: d)) for d in DTYPES]
    out += [(f"py_{type(v).__name__}", v, (lambda v=v: v))
            for v in (True, 1, 1.0, 1j)]
    out += [(f"weak_{d}", FakeArray(d, True), (lambda d=d: _jax_weak_array(d)))
            for d in DTYPES]
    return out


CASES = _cases()


def _jax_result(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jax_dtypes.result_type(*args, return_weak_type_flag=True)


@pytest.mark.parametrize("left", range(len(CASES)), ids=[c[0] for c in CASES])
def test_result_type_pairs_match_jax(x64, left):
    jax_args = [c[2]() for c in CASES]
    la, lk = CASES[left][0], CASES[left][1]
    bad = []
    for (lb, kb, _), jb in zip(CASES, jax_args):
        want = _jax_result(jax_args[left], jb)
        got = dtypes.result_type(lk, kb, return_weak_type_flag=True)
        if got != want or type(got[1]) is not bool:
            bad.append(f"{la} + {lb}: kiln {got}, jax {want}")
        # Without the flag, just the dtype (same as jnp.result_type).
        if dtypes.result_type(lk, kb) != want[0]:
            bad.append(f"{la} + {lb}: kiln {dtypes.result_type(lk, kb)} (no flag)")
    assert not bad, "\n".join(bad)


def test_result_type_single_args_match_jax(x64):
    for label, k, jf in CASES:
        assert dtypes.result_type(k, return_weak_type_flag=True) == \
            _jax_result(jf()), label


def test_result_type_triples_match_jax(x64):
    rng = random.Random(0)
    jax_args = [c[2]() for c in CASES]
    idx = range(len(CASES))
    triples = [tuple(rng.choice(idx) for _ in range(3)) for _ in range(1500)]
    # All-weak inputs whose strong join leaves the int kind (u64 v i8 -> f*),
    # then with a strong int8 joining in.
    u64w = [i for i, c in enumerate(CASES) if c[0] == "weak_uint64"][0]
    i8w = [i for i, c in enumerate(CASES) if c[0] == "weak_int8"][0]
    i8 = [i for i, c in enumerate(CASES) if c[0] == "int8"][0]
    triples += [(u64w, i8w, i8w), (u64w, i8w, i8), (i8, u64w, i8w)]
    for t in triples:
        got = dtypes.result_type(*(CASES[i][1] for i in t),
                                 return_weak_type_flag=True)
        want = _jax_result(*(jax_args[i] for i in t))
        assert got == want, [CASES[i][0] for i in t]


def test_result_type_values_match_jax(x64):
    values = ([np.zeros((2,), d) for d in DTYPES]
              + [np.zeros((), d)[()] for d in DTYPES]     # numpy scalars
              + [np.float64(2.5), np.complex128(1j), np.bool_(True)]
              + [jnp.zeros((2,), dtypes.canonicalize_dtype(d)) for d in DTYPES])
    for a in values:
        for b in (values[0], values[10], values[-1], 3, 2.5, 1j, False):
            got = dtypes.result_type(a, b, return_weak_type_flag=True)
            assert got == _jax_result(a, b), (a, b)
        assert dtypes.result_type(a) == jnp.result_type(a)


def test_result_type_specifiers(x64):
    specs = ["int8", "float64", np.float32, np.uint64, int, float, complex,
             bool, np.bool_, None, np.dtype("l")]
    for a in specs:
        for b in specs:
            assert dtypes.result_type(a, b, return_weak_type_flag=True) == \
                _jax_result(a, b), (a, b)
    assert dtypes.result_type("int8", np.uint8, 1, 2.0, np.float16) == \
        jnp.result_type("int8", np.uint8, 1, 2.0, np.float16)


def test_result_type_errors():
    with pytest.raises(ValueError):
        dtypes.result_type()
    for bad in ("abc", np.array(["a"]), np.array([None]), [1, 2], object(),
                np.dtype("O"), np.str_, np.dtype("M8[s]")):
        with pytest.raises(TypeError):
            dtypes.result_type(bad, np.float32)


def test_promote_types_matches_jax(x64):
    specs = DTYPES + [int, float, complex]
    for a in specs:
        for b in specs:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = jnp.promote_types(a, b)
            assert dtypes.promote_types(a, b) == want, (a, b)
    assert dtypes.promote_types("uint8", "int8") == np.dtype("int16")


def test_canonicalize_and_defaults_match_jax(x64):
    for d in DTYPES:
        for spec in (d, d.type, d.name):
            got = dtypes.canonicalize_dtype(spec)
            assert got == jax_dtypes.canonicalize_dtype(d), spec
            assert isinstance(got, np.dtype)
    assert dtypes.canonicalize_dtype(np.dtype(">f8")) == \
        jax_dtypes.canonicalize_dtype(np.float64)
    assert dtypes.default_int_dtype() == jnp.result_type(int)
    assert dtypes.default_float_dtype() == jnp.result_type(float)
    assert dtypes.default_complex_dtype() == jnp.result_type(complex)
    assert dtypes.default_uint_dtype() == np.dtype("uint64" if x64 else "uint32")
    with pytest.raises(TypeError):
        dtypes.canonicalize_dtype("not_a_dtype")
    with pytest.raises(TypeError):
        dtypes.canonicalize_dtype(np.dtype("O"))


def test_to_inexact_dtype_matches_jax(x64):
    for d in DTYPES:
        want = jax.eval_shape(jnp.sqrt, jax.ShapeDtypeStruct((), d)).dtype
        assert dtypes.to_inexact_dtype(d) == want, d


def test_dtype_and_weak(x64):
    i, f, c = (("int64", "float64", "complex128") if x64
               else ("int32", "float32", "complex64"))
    assert dtypes.dtype_and_weak(3) == (np.dtype(i), True)
    assert dtypes.dtype_and_weak(3.0) == (np.dtype(f), True)
    assert dtypes.dtype_and_weak(3j) == (np.dtype(c), True)
    assert dtypes.dtype_and_weak(True) == (np.dtype(bool), False)
    assert dtypes.dtype_and_weak(np.float64(3.0)) == (np.dtype(f), False)
    assert dtypes.dtype_and_weak(np.zeros(3, np.int64)) == (np.dtype(i), False)
    assert dtypes.dtype_and_weak(np.zeros(3, np.uint8)) == (np.dtype("uint8"), False)
    assert dtypes.dtype_and_weak(FakeArray("float64", True)) == (np.dtype(f), True)
    assert dtypes.dtype_and_weak(FakeArray("int16")) == (np.dtype("int16"), False)
    assert dtypes.dtype_and_weak(FakeArray("bool", True)) == (np.dtype(bool), False)
    assert dtypes.dtype_and_weak(jnp.ones(3) * 2) == (np.dtype(f), False)
    assert dtypes.dtype_and_weak(jnp.asarray(2.0)) == (np.dtype(f), True)
    assert dtypes.is_weakly_typed(1) and not dtypes.is_weakly_typed(np.int32(1))


@pytest.mark.parametrize("bad, name", [
    ("abc", "str"), (b"x", "bytes"), ([1, 2], "list"), (None, "NoneType"),
    (object(), "object"), (np.array(["a"]), "ndarray"),
    (np.array([None]), "ndarray"), (np.float32, "type"),
    (np.dtype("float32"), "dtype"), (FakeArray("O"), "FakeArray"),
])
def test_dtype_and_weak_errors(bad, name):
    with pytest.raises(TypeError, match=name):
        dtypes.dtype_and_weak(bad)


def test_predicates():
    assert dtypes.is_bool(np.bool_) and dtypes.is_bool(bool)
    assert dtypes.is_int("int8") and dtypes.is_int(np.uint64)
    assert not dtypes.is_int(bool) and not dtypes.is_int(np.float32)
    assert dtypes.is_signed_int(int) and dtypes.is_unsigned_int(np.uint16)
    assert dtypes.is_float(np.float16) and dtypes.is_float(float)
    assert dtypes.is_complex(np.complex64) and not dtypes.is_complex(np.float64)
    assert dtypes.is_inexact(np.complex128) and dtypes.is_inexact("float32")
    assert not dtypes.is_inexact(np.int32)
    assert dtypes.is_float(np.zeros(2, np.float32))   # arrays work too
    assert dtypes.is_int(FakeArray("int8"))
    assert dtypes.issubdtype(np.int8, np.integer)
    assert not dtypes.issubdtype(np.float32, np.integer)
    assert dtypes.finfo(np.float32).eps == np.finfo(np.float32).eps
    assert dtypes.iinfo(np.int8).max == 127


def test_cache_follows_mode():
    with enable_x64(False):
        assert dtypes.result_type(np.int64, 1) == np.dtype("int32")
        assert config.x64_enabled is False
        with enable_x64():
            assert config.x64_enabled is True
            assert dtypes.result_type(np.int64, 1) == np.dtype("int64")
            assert dtypes.result_type(1, 1.0) == np.dtype("float64")
        assert dtypes.result_type(np.int64, 1) == np.dtype("int32")
        assert dtypes.result_type(1, 1.0) == np.dtype("float32")


# -- config -------------------------------------------------------------------

def test_config_update_read_alias():
    prev = config.read("kiln_enable_x64")
    try:
        config.update("jax_enable_x64", True)
        assert config.kiln_enable_x64 is True
        assert config.jax_enable_x64 is True
        assert config.read("kiln_enable_x64") is True
        assert config.x64_enabled is True
        config.update("kiln_enable_x64", False)
        assert config.read("jax_enable_x64") is False
        assert config.x64_enabled is False
        config.update("kiln_enable_x64", "1")
        assert config.x64_enabled is True
        config.update("kiln_enable_x64", np.bool_(False))
        assert config.x64_enabled is False
        with pytest.raises(TypeError):
            config.update("kiln_enable_x64", 2)
        assert ("kiln_enable_x64", False) in config.trace_state()
    finally:
        config.update("kiln_enable_x64", prev)


def test_config_unknown_option():
    with pytest.raises(AttributeError, match="kiln_no_such_option"):
        config.update("kiln_no_such_option", True)
    with pytest.raises(AttributeError, match="kiln_no_such_option"):
        config.read("kiln_no_such_option")
    with pytest.raises(AttributeError, match="kiln_no_such_option"):
        config.kiln_no_such_option
    with pytest.raises(AttributeError):
        config.x64_enabled = True


def test_enable_x64_restores_on_error():
    prev = config.read("kiln_enable_x64")
    with pytest.raises(RuntimeError):
        with enable_x64(not prev):
            assert config.x64_enabled is (not prev)
            raise RuntimeError
    assert config.read("kiln_enable_x64") is prev
    with disable_x64():
        assert config.x64_enabled is False
    assert config.read("kiln_enable_x64") is prev


@pytest.mark.parametrize("env, expected", [
    ({"KILN_ENABLE_X64": "1"}, True),
    ({"JAX_ENABLE_X64": "true"}, True),
    ({"KILN_ENABLE_X64": "0", "JAX_ENABLE_X64": "1"}, False),
    ({}, False),
])
def test_config_env_var(env, expected):
    full = {k: v for k, v in os.environ.items()
            if k not in ("KILN_ENABLE_X64", "JAX_ENABLE_X64")}
    full.update(env)
    full["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    code = ("from kiln.runtime.config import config; "
            "from kiln.runtime import dtypes; "
            "print(config.kiln_enable_x64, config.x64_enabled, "
            "dtypes.default_float_dtype())")
    out = subprocess.run([sys.executable, "-c", code], env=full, check=True,
                         capture_output=True, text=True).stdout.split()
    assert out == [str(expected), str(expected),
                   "float64" if expected else "float32"]
