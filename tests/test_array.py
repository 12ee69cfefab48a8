"""kiln.Array against jax.Array: printing, conversions, immutability, `.at`, methods, placement.

Every check runs the same expression on a JAX array and on a kiln array built from the same
NumPy value, and compares what comes out: values, dtype and weak type, printed text, error
types and messages.
"""
from __future__ import annotations

import copy
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kiln
import kiln.numpy as knp


def both(value):
    return jnp.asarray(value), knp.asarray(value)


def assert_same(k, j):
    """A kiln result equals a JAX result: type, shape, dtype, weak type and values."""
    if isinstance(j, (tuple, list)):
        assert type(k) is type(j) and len(k) == len(j)
        for a, b in zip(k, j):
            assert_same(a, b)
        return
    assert isinstance(k, kiln.Array), type(k)
    assert (k.shape, k.dtype, k.weak_type) == (j.shape, j.dtype, j.weak_type), (k, j)
    np.testing.assert_allclose(np.asarray(k), np.asarray(j), rtol=1e-6)


def outcome(fn):
    """(result, None) or (None, (exception type, message))."""
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - the kind and text are what is compared
        return None, (type(e), str(e))


# ---------------------------------------------------------------------------- printing

REPR_CASES = [
    np.array([1., 2.], np.float32), np.float32(-1), np.array(-1, np.int32), np.zeros(0, np.float32),
    np.zeros((0, 3), np.float32), np.zeros((2, 0), np.int32), np.array([True, False]), np.array(True),
    np.arange(12, dtype=np.float32).reshape(3, 4), np.arange(24, dtype=np.int32).reshape(2, 3, 4),
    np.arange(2000, dtype=np.int32), np.arange(2000, dtype=np.float32).reshape(40, 50),
    np.array([1e-8, 1e8], np.float32), np.array([np.nan, np.inf, -np.inf], np.float32),
    np.array([1 + 2j], np.complex64), np.array([1, 2], np.uint8), np.array([1.5], np.float16),
    np.linspace(0, 1, 7, dtype=np.float32), np.array([123456789.], np.float32),
    np.arange(17, dtype=np.float32) * np.float32(1.1),  # the dtype wraps onto its own line
]


@pytest.mark.parametrize("value", REPR_CASES, ids=lambda v: f"{v.dtype}{list(np.shape(v))}")
def test_repr_str_format_like_jax(value):
    j, k = both(value)
    assert repr(k) == repr(j)
    assert str(k) == str(j)
    assert outcome(lambda: format(k, "")) == outcome(lambda: format(j, ""))


def test_repr_of_random_arrays_like_jax():
    rng = np.random.RandomState(0)
    dtypes = [np.float32, np.int32, np.bool_, np.uint8, np.int16, np.float16, np.complex64]
    for trial in range(40):
        shape = tuple(int(rng.choice([0, 1, 2, 3, 7, 40])) for _ in range(rng.randint(0, 4)))
        value = np.asarray(rng.randn(*shape) * 10.0 ** rng.randint(-9, 10))
        with np.errstate(all="ignore"):  # large values overflow small dtypes: fine for printing
            value = value > 0 if trial % 7 == 0 else value.astype(dtypes[trial % len(dtypes)])
        j, k = both(value)
        assert repr(k) == repr(j), (shape, value.dtype)


def test_weak_types_and_printoptions_like_jax():
    for scalar in [1, 1.5, -3, 2.0 ** 40, True, 3 + 4j, -0.0, float("nan")]:
        assert repr(knp.asarray(scalar)) == repr(jnp.asarray(scalar))
    with np.printoptions(linewidth=40, precision=3):
        for n in (5, 8, 13):
            j, k = both(np.arange(n, dtype=np.float32) * np.float32(1.1))
            assert repr(k) == repr(j)


def test_format_of_scalars_and_arrays():
    j, k = both(np.float32(2.5))
    assert format(k, ".3f") == format(j, ".3f") == "2.500"
    assert f"{k}" == f"{j}"
    j, k = both(np.ones(3, np.float32))
    assert outcome(lambda: format(k, ".3f")) == outcome(lambda: format(j, ".3f"))


# ---------------------------------------------------------------------------- conversions

def test_immutable_with_jax_message():
    j, k = both(np.arange(10))
    (_, jerr), (_, kerr) = outcome(lambda: j.__setitem__(0, 10)), outcome(lambda: k.__setitem__(0, 10))
    assert kerr == jerr and kerr[0] is TypeError and "x.at[idx].set(y)" in kerr[1]


CONVERSIONS = {
    "bool": bool, "int": int, "float": float, "complex": complex, "len": len, "list": list,
    "hash": hash, "index": lambda x: [1, 2, 3, 4][x], "hex": hex, "tolist": lambda x: x.tolist(),
    "item": lambda x: x.item(), "item1": lambda x: x.item(1),
}
VALUES = [np.float32(2.5), np.int32(3), np.array([1.0], np.float32), np.array([1, 2, 3], np.int32),
          np.zeros(0, np.float32), np.array(True)]


@pytest.mark.parametrize("conv", CONVERSIONS, ids=str)
def test_python_conversions_like_jax(conv):
    fn = CONVERSIONS[conv]
    for value in VALUES:
        j, k = both(value)
        (jr, jerr), (kr, kerr) = outcome(lambda: fn(j)), outcome(lambda: fn(k))
        if conv == "hash" and kerr:  # the message names the class: 'Array' vs 'ArrayImpl'
            assert jerr and kerr[0] is jerr[0] is TypeError
            continue
        assert kerr == jerr, value
        if conv == "list" and jr is not None:
            assert_same(kr, jr)
        elif jr is not None:
            assert kr == jr and type(kr) is type(jr)


def test_numpy_views_are_read_only():
    j, k = both(np.arange(6, dtype=np.float32).reshape(2, 3))
    view = np.asarray(k)
    assert not view.flags.writeable and not np.asarray(j).flags.writeable
    with pytest.raises(ValueError):
        view[0, 0] = 5
    assert np.array(k).flags.writeable  # an explicit copy is the caller's
    assert np.asarray(k, dtype=np.float64).dtype == np.float64
    assert np.asarray(k, dtype=np.float64).flags.writeable == np.asarray(j, dtype=np.float64).flags.writeable
    np.testing.assert_array_equal(np.sin(k), np.sin(j))


def test_dlpack():
    j, k = both(np.arange(6, dtype=np.float32))
    out = np.from_dlpack(k)
    np.testing.assert_array_equal(out, np.from_dlpack(j))
    assert not out.flags.writeable
    assert k.__dlpack_device__() == (1, 0) and tuple(k.__dlpack_device__()) == tuple(j.__dlpack_device__())


def test_pickle_copy_iteration():
    for value in (np.arange(4, dtype=np.float32), 1.0, np.array([[1, 2], [3, 4]], np.int32)):
        j, k = both(value)
        assert_same(pickle.loads(pickle.dumps(k)), pickle.loads(pickle.dumps(j)))
        assert_same(copy.deepcopy(k), j)
        assert_same(k.copy(), j.copy())
        if k.ndim:
            assert_same(list(k), list(j))
    _, k = both(np.ones(2))
    assert k.block_until_ready() is k and kiln.block_until_ready({"a": k})["a"] is k


# ---------------------------------------------------------------------------- .at and methods

X = np.arange(12, dtype=np.float32).reshape(3, 4)
# XLA compiles the references several times faster without fusion emitters and optimisation.
FAST_COMPILE = {"xla_cpu_use_fusion_emitters": False, "xla_backend_optimization_level": 0}
AT_CASES = {
    "set": lambda x, np_: x.at[1].set(7.0),
    "set-neg": lambda x, np_: x.at[-1, -2].set(9),
    "add-repeated": lambda x, np_: x.at[np_.array([0, 0, 2])].add(1.0),
    "multiply-slice": lambda x, np_: x.at[1:, ::2].multiply(2),
    "min": lambda x, np_: x.at[0].min(-1.0),
    "max": lambda x, np_: x.at[:, 0].max(10.0),
    "get": lambda x, np_: x.at[1, 2].get(),
    "get-fancy": lambda x, np_: x.at[np_.array([2, 0])].get(),
    "fancy-set": lambda x, np_: x[None].at[:, np_.array([0, 1]), np_.array([2, 0])].set(5.0),
    "fancy-set-array": lambda x, np_: x[None].at[:, np_.array([0, 1]), np_.array([2, 0])].set(
        np_.array([[1.0, 2.0]])),
    "mask": lambda x, np_: x.at[x > 5].set(0.0),
    "ellipsis": lambda x, np_: x.at[..., 1].add(1),
    "lists": lambda x, np_: x.at[[0, 2], [1, 1]].set(0),
    "int-into-float": lambda x, np_: np_.arange(3).at[0].set(2),
}



@pytest.fixture(scope="module")
def at_references():
    # JAX compiles each eager operation (~0.2 s); one jit for all the cases compiles once.
    jitted = {n for n in AT_CASES if n != "mask"}  # a boolean mask needs a concrete array
    refs = jax.jit(lambda x: {n: AT_CASES[n](x, jnp) for n in jitted}).lower(X).compile(FAST_COMPILE)(X)
    refs["mask"] = AT_CASES["mask"](jnp.asarray(X), jnp)
    return refs


@pytest.mark.parametrize("name", AT_CASES, ids=str)
def test_at_like_jax(name, at_references):
    k = knp.asarray(X)
    assert_same(AT_CASES[name](k, knp), at_references[name])
    np.testing.assert_array_equal(np.asarray(k), X)  # the original is unchanged


def test_at_out_of_bounds_like_jax():
    j, k = both(np.array([1.0, 2.0, 3.0], np.float32))
    assert_same(k.at[5].set(1.0), j.at[5].set(1.0))
    assert_same(k[5], j[5])


METHODS = {
    "props": lambda x: (x.shape, x.dtype, x.ndim, x.size, x.T.shape, x.nbytes, x.itemsize),
    "reductions": lambda x: (x.sum(), x.mean(), x.max(), x.min(), x.argmax(), x.argmin(), x.std(),
                             x.var(), x.sum(axis=0), x.max(axis=1, keepdims=True)),
    "reshape": lambda x: (x.reshape(4, 3), x.reshape((2, -1)), x.transpose(), x.transpose(1, 0), x.T),
    "astype": lambda x: (x.astype(np.int32), x.astype("float16"), x.astype(bool)),
    "round-clip": lambda x: ((x / 7).round(2), x.clip(2, 5), x.clip(min=3)),
    "operators": lambda x: (x + 1, 2 * x, x / 2, x ** 2, -x, x @ x.T, x // 3, x % 3, abs(-x),
                            x > 4, x == 2, 1 - x, 2.0 / (x + 1), np.float32(2) * x),
    "int-operators": lambda x: (lambda i: (i & 5, i | 4, i ^ 1, i << 1, i >> 1, ~i))(x.astype(np.int32)),
    "indexing": lambda x: (x[1], x[:, 2], x[1:, ::-1], x[None, ..., 0]),
}


@pytest.fixture(scope="module")
def method_references():
    arrays = {n for n in METHODS if n != "props"}
    return jax.jit(lambda x: {n: METHODS[n](x) for n in arrays}).lower(X).compile(FAST_COMPILE)(X)


@pytest.mark.parametrize("name", METHODS, ids=str)
def test_methods_and_operators_like_jax(name, method_references):
    k = knp.asarray(X)
    if name == "props":
        assert METHODS[name](k) == METHODS[name](jnp.asarray(X))
    else:
        assert_same(METHODS[name](k), method_references[name])


def test_builtin_round_like_jax():
    j, k = both(np.float32(2.5))
    assert_same(round(k), round(j))


# ---------------------------------------------------------------------------- devices and placement

def test_devices():
    assert repr(kiln.devices()) == repr(jax.devices()) == "[CpuDevice(id=0)]"
    assert kiln.default_backend() == jax.default_backend() == "cpu"
    assert kiln.local_device_count() == jax.local_device_count() == 1
    assert kiln.device_count() == 1 and kiln.local_devices() == kiln.devices("cpu")
    d = kiln.devices()[0]
    assert (d.id, d.platform, str(d), d.process_index) == (0, "cpu", "cpu:0", 0)
    _, k = both(np.ones(3))
    assert repr(k.devices()) == "{CpuDevice(id=0)}" and k.device == d
    assert repr(k.sharding) == repr(jnp.ones(3).sharding)
    assert k.sharding.device_set == {d} and k.sharding.is_fully_replicated
    with pytest.raises(RuntimeError, match="Unknown backend: 'gpu'"):
        kiln.devices("gpu")


def test_device_put_and_get():
    tree = {"a": np.ones(2), "b": [1, 2.0, np.int64(3)], "c": None, "d": (True,)}
    assert_same(kiln.tree_util.tree_leaves(kiln.device_put(tree)),
                jax.tree_util.tree_leaves(jax.device_put(tree)))
    _, k = both(np.ones(3, np.float32))
    assert kiln.device_put(k) is k
    placed = kiln.device_put(np.ones(2), kiln.devices()[0])
    assert_same(placed, jax.device_put(np.ones(2), jax.devices()[0]))
    assert repr(placed.sharding) == "SingleDeviceSharding(device=CpuDevice(id=0), memory_kind=device)"
    a, b = kiln.device_put((np.ones(2), np.ones(3)), (kiln.devices()[0], None))
    assert a.shape == (2,) and b.shape == (3,)
    with pytest.raises(ValueError, match="tree prefix"):
        kiln.device_put((np.ones(2), np.ones(3)), (kiln.devices()[0],))
    with pytest.raises(ValueError, match="Received invalid value: gpu"):
        kiln.device_put(np.ones(2), "gpu")
    with pytest.raises(TypeError, match="not a valid"):
        kiln.device_put("text")
    got = kiln.device_get({"x": k, "n": 2.0, "s": "keep"})
    assert type(got["x"]) is np.ndarray and got["n"] == 2.0 and got["s"] == "keep"
    np.testing.assert_array_equal(got["x"], np.ones(3))


def test_sharding_like_jax():
    from jax.sharding import Mesh as JMesh, NamedSharding as JNamed, PartitionSpec as JP

    from kiln.sharding import Mesh, NamedSharding, P, PartitionSpec, SingleDeviceSharding
    assert P is PartitionSpec
    jm, km = JMesh(np.array(jax.devices()), ("x",)), Mesh(np.array(kiln.devices()), ("x",))
    assert (repr(km), str(km)) == (repr(jm), str(jm))
    assert (km.shape, km.axis_names, km.size, km.devices.shape) == (jm.shape, jm.axis_names, jm.size, (1,))
    assert km == Mesh(kiln.devices(), "x") and hash(km) == hash(Mesh(kiln.devices(), ("x",)))
    for spec in [(), ("x",), ("x", None), (None, "x"), (("x",),)]:
        assert repr(P(*spec)) == repr(JP(*spec)) and str(P(*spec)) == str(JP(*spec))
        assert repr(NamedSharding(km, P(*spec))) == repr(JNamed(jm, JP(*spec)))
    assert P("x") != ("x",) and P("x") != P("x", None) and P("x") == P("x")
    for bad in [lambda M, N, p, m, devs: N(m, p("y")), lambda M, N, p, m, devs: M(np.array(devs), ("x", "y"))]:
        kerr = outcome(lambda: bad(Mesh, NamedSharding, P, km, kiln.devices()))[1]
        jerr = outcome(lambda: bad(JMesh, JNamed, JP, jm, jax.devices()))[1]
        assert kerr is not None and kerr[0] is ValueError and kerr[1] == jerr[1]
    s = NamedSharding(km, P("x"))
    x = kiln.device_put(np.ones((4, 2)), s)
    assert x.sharding == s and x.sharding is s and x.devices() == {kiln.devices()[0]}
    assert repr(jax.device_put(np.ones((4, 2)), JNamed(jm, JP("x"))).sharding) == repr(x.sharding)
    with pytest.raises(ValueError, match="only valid for values of rank at least 2"):
        kiln.device_put(np.ones(3), NamedSharding(km, P("x", None)))
    assert kiln.device_put(1.0, NamedSharding(km, P())).weak_type
    assert SingleDeviceSharding(kiln.devices()[0]) == kiln.device_put(np.ones(1)).sharding
