"""vmap of gather and scatter, reached through kiln.numpy indexing, against a Python loop over
the batch.

Covers basic indexing, fancy indexing with batched and unbatched index arrays, integers and
slices mixed with arrays in adjacent and non-adjacent positions (which decides where NumPy
puts the indexed dimensions), `None`, boolean masks, out-of-range indices, and
`.at[...].set/add/multiply/min/max/get` with batched indices, batched values, or both.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from vmap_helpers import Arg, check, primitives_of

A = Arg


def I(shape=(), axis=0, lo=-4, hi=4):  # noqa: E743 - index arrays; negative ones wrap
    return Arg(shape, axis, "i", lo, hi)


MASK = np.array([True, False, True, False, True])
GATHER = [  # (name, primitive exercised, function, operand specs)
    ("int", "slice", lambda x: x[1], [A((4, 5), 1)]),
    ("slices", "slice", lambda x: x[1, 2:4], [A((4, 5), 0)]),
    ("newaxis_step", "slice", lambda x: x[1, None, ::2], [A((4, 5), -1)]),
    ("index_batched", "gather", lambda x, i: x[i], [A((4, 5), 0), I()]),
    ("index_only", "gather", lambda x, i: x[i], [A((4, 5), None), I((2,), 0)]),
    ("operand_only", "gather", lambda x, i: x[i], [A((4, 5), 1), I((2, 3), None)]),
    ("index_2d", "gather", lambda x, i: x[i], [A((4, 5), 2), I((2, 3), 1)]),
    ("second_axis", "gather", lambda x, i: x[:, i], [A((4, 5), 1), I((2,), 0)]),
    ("adjacent_middle", "gather", lambda x, i, j: x[:, i, j], [A((4, 5, 6), 1), I((2,), None), I((2,), 0)]),
    ("int_and_array_middle", "gather", lambda x, i: x[:, 1, i], [A((4, 5, 6), -1), I((2,), 0)]),
    ("newaxis_between", "gather", lambda x, i: x[:, None, i], [A((4, 5), 0), I((2,), 0)]),
    ("same_array_twice", "gather", lambda x, i: x[i, :, i], [A((4, 5, 6), 2), I((2,))]),
    ("nonadjacent", "gather", lambda x, i, j: x[i, 1:3, j], [A((4, 5, 6), 0), I((2, 1)), I((2,), None)]),
    ("nonadjacent_int", "gather", lambda x, i: x[0, :, i], [A((4, 5, 6), None), I((2,), -1)]),
    ("nonadjacent_unbatched_index", "gather", lambda x, i, j: x[i, :, j],
     [A((4, 5, 6), None), I((2,), None), I((2,), 0)]),
    ("mask", "gather", lambda x: x[:, MASK], [A((4, 5), 0)]),
    ("out_of_range_clamps", "gather", lambda x, i: x[i], [A((4, 5), 0), I((3,), 0, -9, 9)]),
    ("take", "gather", lambda x, i: jnp.take(x, i, axis=1), [A((4, 5), 0), I((2,), 0)]),
    ("take_along_axis", "gather", lambda x, i: jnp.take_along_axis(x, i, axis=1), [A((4, 5), 1), I((4, 2), 0, 0, 5)]),
    ("get_fill", "gather", lambda x, i: x.at[i].get(mode="fill", fill_value=-1.0), [A((4, 5), 0), I((2,), 0, -6, 6)]),
]
SCATTER = [
    ("set_index", "scatter", lambda x, i: x.at[i].set(0.0), [A((4, 5), 0), I()]),
    ("set_index_only", "scatter", lambda x, i: x.at[i].set(1.0), [A((4, 5), None), I((2,), 0)]),
    ("add_values", "scatter", lambda x, u: x.at[1].add(u), [A((4, 5), 0), A((5,), 0)]),
    ("add_values_only", "scatter", lambda x, u: x.at[1].add(u), [A((4, 5), None), A((5,), 1)]),
    ("add_index_values", "scatter", lambda x, i, u: x.at[i].add(u), [A((4, 5), None), I(), A((5,), 0)]),
    ("add_repeated", "scatter", lambda x, i, u: x.at[i].add(u), [A((4, 5), None), I((3,), 0, 0, 2), A((3, 5), 1)]),
    ("add_same_array_twice", "scatter", lambda x, i, u: x.at[i, :, i].add(u), [A((4, 5, 6), 2), I((2,)), A((2, 5), 1)]),
    ("set_nonadjacent", "scatter", lambda x, i, u: x.at[i, 1:3, i].set(u), [A((4, 5, 6), 0), I((2,)), A(())]),
    ("set_nonadjacent_int", "scatter", lambda x, i, u: x.at[0, :, i].set(u),
     [A((4, 5, 6), 0), I((2,)), A((2, 5), 2)]),
    ("set_middle", "scatter", lambda x, i, u: x.at[:, i].set(u), [A((4, 5, 6), 2), I((2,)), A((4, 2, 6), 1)]),
    ("set_middle_values", "scatter", lambda x, i, u: x.at[:, i].set(u),
     [A((4, 5, 6), None), I((2,), None), A((4, 2, 6), -1)]),
    ("set_middle_index", "scatter", lambda x, i, u: x.at[:, i].set(u),
     [A((4, 5, 6), None), I((2,), 0), A((4, 2, 6), None)]),
    ("set_scalar_value", "scatter", lambda x, u: x.at[0, 0].set(u), [A((4, 5), 1), A(())]),
    ("multiply", "scatter", lambda x, i: x.at[i].multiply(2.0), [A((4, 5), 1), I((2,))]),
    ("max", "scatter", lambda x, i, u: x.at[i].max(u), [A((4, 5), 1), I(()), A(())]),
    ("min_unbatched_values", "scatter", lambda x, i, u: x.at[:, i].min(u), [A((4, 5), -1), I(()), A((4,), None)]),
    ("out_of_range_dropped", "scatter", lambda x, i, u: x.at[i].set(u), [A((4,)), I((3,), 0, -9, 9), A((3,))]),
]


@pytest.mark.parametrize("name, prim, f, specs", GATHER, ids=[c[0] for c in GATHER])
def test_gather(name, prim, f, specs):
    assert prim in primitives_of(f, specs)
    check(name, f, specs)


@pytest.mark.parametrize("name, prim, f, specs", SCATTER, ids=[c[0] for c in SCATTER])
def test_scatter(name, prim, f, specs):
    assert prim in primitives_of(f, specs)
    check(name, f, specs)


def test_indexed_write_in_python_syntax():
    # `x[i] = v` is rewritten to `.at[i].set(v)` in compiled code, so it batches the same
    # way; one example runs compiled too (eagerly, kiln arrays are immutable, as in JAX).
    def f(x, i, v):
        x[i, 1:] = v
        return x
    check("python_write", f, [A((4, 5), 1), I((2,), 0, 0, 4), A((4,), None)], per_example=kiln.jit(f))


COVERED = {"gather", "scatter"}
