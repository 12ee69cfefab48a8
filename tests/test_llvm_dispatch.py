"""The LLVM backend's native entry (compiler/backends/llvm/dispatch.py): from the second call
with the same argument kinds, a call runs through a generated CPython builtin. Every call here
is compared with the reference backend; calls the entry was not built for must take the
general path and still be right."""
import gc
import sys

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln.runtime.array import Array
from kiln.runtime.config import enable_x64


def both(fun):
    return kiln.jit(fun, backend="llvm"), kiln.jit(fun, backend="reference")


def check(native, reference, *args):
    got, want = native(*args), reference(*args)
    got_leaves, got_tree = kiln.tree_util.tree_flatten(got)
    want_leaves, want_tree = kiln.tree_util.tree_flatten(want)
    assert got_tree == want_tree
    for g, w in zip(got_leaves, want_leaves):
        assert type(g) is Array and g.dtype == w.dtype and g.shape == w.shape
        assert g.weak_type == w.weak_type
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
        assert not np.asarray(g).flags.writeable
    return got


def warm(native, *args):
    native(*args)
    native(*args)
    assert native._native is not None, "the second call should have built the native entry"


@pytest.mark.parametrize("fun", [
    lambda x, y: x * y + 1,
    lambda x, y: (x * y, x - y),
    lambda x, y: {"sum": x + y, "pair": [x * 2, (y - 1,)]},
    lambda x, y: jnp.sum(x) * y[0],
], ids=["leaf", "tuple", "dict", "scalar-out"])
def test_native_calls_agree_with_the_reference(fun):
    native, reference = both(fun)
    x, y = jnp.arange(6.0).reshape(2, 3), jnp.ones((2, 3))
    warm(native, x, y)
    for _ in range(3):
        check(native, reference, x, y)
    check(native, reference, np.asarray(x), np.asarray(y))  # ndarrays: another entry
    check(native, reference, np.asarray(x), np.asarray(y))


def test_arguments_the_entry_was_not_built_for_take_the_general_path():
    native, reference = both(lambda x, y: x * y + 1)
    x = jnp.arange(4.0)
    warm(native, x, x)
    base = np.arange(8.0, dtype=np.float32)
    cases = [
        (jnp.arange(5.0), jnp.arange(5.0)),                      # another shape
        (jnp.arange(4), jnp.arange(4)),                          # another dtype
        (base[::2], base[1::2]),                                 # not contiguous
        (base[:4].astype(">f4"), base[:4]),                      # big-endian
        (np.asfortranarray(np.ones((2, 2), np.float32)), np.ones((2, 2), np.float32)),
        (2.0, x),                                                # a Python scalar (weak)
        (x, x),
    ]
    for args in cases:
        check(native, reference, *args)
    with pytest.raises(TypeError):
        native(x)  # one argument short: the entry declines, the general path raises


def test_pytree_arguments_go_native_too():
    """A training step takes dicts of parameters: flattened, their leaves reach the entry."""
    def step(params, batch):
        return {k: v - 0.1 * batch[0] * v for k, v in params.items()}, batch[1].sum()
    native, reference = both(step)
    params = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
    batch = (jnp.full((2, 3), 0.5), jnp.arange(4.0))
    warm(native, params, batch)
    for _ in range(2):
        check(native, reference, params, batch)
    # another structure, other leaves, an extra static-looking leaf: the general path, still right
    check(native, reference, {"w": params["w"]}, batch)
    check(native, reference, {"w": params["w"], "b": jnp.ones(3, jnp.int32)}, batch)
    check(native, reference, params, (jnp.full((2, 3), 0.5), 2.0))
    check(native, reference, params, batch)


def test_static_arguments_are_never_skipped():
    native = kiln.jit(lambda p, scale: {k: v * scale for k, v in p.items()}, static_argnums=1, backend="llvm")
    params = {"a": jnp.arange(3.0)}
    for scale in (2.0, 3.0, 2.0, 3.0):
        np.testing.assert_array_equal(np.asarray(native(params, scale)["a"]), np.arange(3.0) * scale)


def test_weak_type_is_part_of_the_key():
    native, reference = both(lambda x: x * 2)
    weak = kiln.jit(lambda: 1.0 + jnp.zeros(3))()
    strong = jnp.zeros(3)
    warm(native, strong)
    check(native, reference, weak)
    check(native, reference, strong)


def test_pass_through_outputs_keep_the_general_path():
    native, reference = both(lambda x, y: (x, y * 2, y * 2))
    x = jnp.arange(3.0)
    for _ in range(3):
        out = check(native, reference, x, x)
        assert out[0] is not x and out[1] is not out[2]


def test_x64_toggle_is_noticed():
    native, reference = both(lambda x: x * jnp.arange(3.0))  # float64 with x64
    x = np.arange(3, dtype=np.float32)
    warm(native, x)
    assert native(x).dtype == np.float32
    with enable_x64():
        assert native(x).dtype == np.float64
        check(native, reference, x)
    assert native(x).dtype == np.float32


def test_references_are_balanced():
    native, _ = both(lambda x, y: (x + y, {"d": x * y}))
    x, y, x5, y5 = jnp.arange(4.0), jnp.ones(4), jnp.arange(5.0), jnp.ones(5)
    for _ in range(3):  # both specialisations compiled, each with its native entry
        native(x, y)
        native(x5, y5)
    singletons, arrays = (True, False, None, NotImplemented), (x, y, x._value, x5)
    gc.collect()  # garbage left by earlier tests would otherwise drop the counts meanwhile
    gc.disable()
    try:
        before = [sys.getrefcount(o) for o in singletons + arrays]
        for _ in range(1000):
            native(x, y)
            native(x5, y5)  # the entry built for x, y declines at first: NotImplemented handed back
        after = [sys.getrefcount(o) for o in singletons + arrays]
    finally:
        gc.enable()
    # a leak would show as thousands; the interpreter's own use of the singletons moves a few
    assert all(abs(a - b) < 20 for a, b in zip(after[:4], before[:4])), (before, after)
    assert after[4:] == before[4:]
    native(x, y)  # arms the entry built for x, y again
    out = native(x, y)[0]
    counts = sys.getrefcount(out), sys.getrefcount(out._value)  # out, and the Array's slot
    assert counts == (2, 2)


def test_called_while_staging_is_inlined():
    inner, _ = both(lambda x: x * 3)
    x = jnp.arange(3.0)
    warm(inner, x)
    outer = kiln.jit(lambda y: inner(x) + y, backend="reference")
    ir = str(kiln.make_ir(lambda y: inner(x) + y)(x))
    assert "mul" in ir  # staged through, not run natively into a constant
    np.testing.assert_array_equal(np.asarray(outer(x)), np.asarray(x) * 4)
