"""Indexed writes: functional updates on arrays, ordinary mutation on Python containers.

Every function here is also run as plain Python on NumPy copies, where `x[i] = v` mutates in
place; the compiled result must equal it, and the caller's array must be left unchanged.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as jnp

from frontend_helpers.check import assert_jit_matches, prims

X = np.arange(12, dtype=np.float32).reshape(3, 4)
V = np.arange(5, dtype=np.float32)
MASK = V > 2


def check_unchanged(fn, *args):
    """Compiled equals plain Python, and the arguments (NumPy and kiln) are not modified."""
    before = [np.array(a) for a in args]
    assert_jit_matches(fn, *args)
    kiln_args = [jnp.asarray(a) for a in args]
    kiln.jit(fn)(*kiln_args)
    for a, k, b in zip(args, kiln_args, before):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(k, b)


def test_set_and_augmented_set():
    def f(x):
        x[0] = 100.0
        x[1] += 0.5
        x[2, 3] -= 7.0
        x[-1, -1] *= 2.0
        return x
    check_unchanged(f, X)
    assert prims(f, X).count("scatter") == 4  # one functional update per write


def test_nested_subscript_targets():
    def f(x):
        x[0][1] = -1.0
        x[1][2:] += 10.0
        x[2][::-1] = jnp.arange(4.0)
        return x
    check_unchanged(f, X)


def test_tuple_targets_mixing_writes_and_names():
    def f(x, v):
        x[0], y = x[1], v.sum()
        (x[2, 0], x[2, 1]), z = (v[0], v[1]), 3.0
        return x, y * z
    check_unchanged(f, X, V)


def test_slices_negative_steps_and_ellipsis():
    def f(x):
        x[:, 1:3] = 0.0
        x[::-1, 0] = jnp.array([1.0, 2.0, 3.0])
        x[..., -1] += 100.0
        x[1, ::-2] -= 1.0
        return x
    check_unchanged(f, X)


def test_fancy_and_mask_indices():
    def f(x, idx):
        x[idx] = 0.0
        x[[0, 2], [1, 3]] += 5.0
        x[np.array([1, 1])] -= 1.0  # repeated indices: the update is not accumulated
        return x
    check_unchanged(f, X, np.array([2, 0]))

    def g(v):
        v[MASK] = 0.0  # a concrete mask is fine
        return v
    check_unchanged(g, V)

    def h(v):
        v[v > 2] = 0.0  # a mask computed from the array: the result's shape is data-dependent
        return v
    with pytest.raises(IndexError, match="concrete"):
        kiln.jit(h)(V)


def test_index_with_array_values_and_scalar_values():
    def f(v, i, value):
        v[i] = value
        v[i + 1] += value
        return v
    check_unchanged(f, V, 2, 9.0)
    check_unchanged(f, V, np.int32(0), np.float32(-3.0))


def test_writes_in_a_loop_and_in_helpers():
    def fill(buf, k):
        buf[k] = k * 10.0
        return buf

    def f(v):
        out = jnp.zeros_like(v)
        for k in range(len(v)):
            out = fill(out, k)
            out[k] += v[k]
        return out
    np.testing.assert_allclose(kiln.jit(f)(V), V + np.arange(5) * 10.0)


def test_writes_inside_nested_functions():
    def f(x):
        def zero_first(v):
            v[0] = 0.0  # v is local to the nested function: a functional update there
            return v
        rows = [zero_first(r) for r in x]
        return jnp.stack(rows)  # (plain NumPy rows would alias x: not compared)
    check_unchanged(f, X)


def test_python_lists_and_dicts_are_mutated_in_place():
    def f(x):
        rows = [x[0] + 0.0, x[1] + 0.0]  # copies: NumPy rows would alias x in plain Python
        rows[0] = rows[0] * 2.0
        rows[1] += 1.0
        grid = [[0.0, 0.0], [0.0, 0.0]]
        grid[1][0] = x.sum()
        d = {"a": x[2]}
        d["a"] *= 3.0
        d["b"] = 1.0
        rows.append(d["a"])
        return rows, grid, d
    assert_jit_matches(f, X)


def test_numpy_array_locals_are_written_as_numpy_when_static():
    def f(x):
        mask = np.zeros(4, np.float32)
        mask[1] = 1.0  # a static NumPy array: an ordinary write
        table = np.zeros(4, np.float32)
        table[0] = x[0, 0]  # a staged value written into a NumPy array: a functional update
        return x * mask + table
    assert_jit_matches(f, X)


BUFFER = [0.0, 0.0]
GLOBAL_ARRAY = jnp.zeros(3)


def test_writes_into_outer_names_stay_ordinary_python():
    def into_global_list(x):
        BUFFER[0] = 1.0  # a global list: mutated as Python would
        return x + BUFFER[0]
    np.testing.assert_allclose(kiln.jit(into_global_list)(X), X + 1.0)
    assert BUFFER == [1.0, 0.0]

    def into_global_array(x):
        GLOBAL_ARRAY[0] = 1.0  # rebinding a global would change the module: arrays refuse
        return x
    with pytest.raises(TypeError, match="immutable"):
        kiln.jit(into_global_array)(X)

    closure = jnp.zeros(3)

    def into_closure(x):
        closure[0] = x.sum()
        return x
    with pytest.raises(TypeError, match="immutable"):
        kiln.jit(into_closure)(X)


def test_attribute_targets_stay_ordinary_python():
    class Holder:
        def __init__(self):
            self.items = [0.0]
            self.array = jnp.zeros(2)

    holder = Holder()

    def f(x):
        holder.items[0] = 5.0
        return x * holder.items[0]
    np.testing.assert_allclose(kiln.jit(f)(V), V * 5.0)

    def g(x):
        holder.array[0] = 1.0
        return x
    with pytest.raises(TypeError, match="immutable"):
        kiln.jit(g)(V)


def test_at_methods_stay_available():
    def f(v):
        return v.at[0].set(9.0), v.at[1:3].add(1.0), v.at[-1].multiply(2.0), v.at[2].get()
    got = kiln.jit(f)(V)
    np.testing.assert_allclose(got[0], [9, 1, 2, 3, 4])
    np.testing.assert_allclose(got[1], [0, 2, 3, 3, 4])
    np.testing.assert_allclose(got[2], [0, 1, 2, 3, 8])
    assert float(got[3]) == 2.0
