"""vmap of reductions, arg-reductions, cumulative ops, sort and dot_general against a Python
loop over the batch.

dot_general is checked in every batched/unbatched combination (x batched, y batched, both on
the same or different axes) through jnp.dot, matmul, einsum and explicit dimension numbers
with batch dimensions of their own.
"""
import pytest

import kiln.numpy as jnp
from kiln import lax
from vmap_helpers import Arg, check, primitives_of

A = Arg
I = lambda shape, axis=0: Arg(shape, axis, "i", 0, 4)  # noqa: E731
CASES = [
    # (name, primitive exercised, function, operand specs)
    ("sum_all", "reduce_sum", lambda x: x.sum(), [A((4, 5), 1)]),
    ("sum_axis", "reduce_sum", lambda x: lax.reduce_sum(x, (1,)), [A((4, 5), 0)]),
    ("mean_neg", "reduce_sum", lambda x: jnp.mean(x, axis=-1, keepdims=True), [A((4, 5), -1)]),
    ("prod", "reduce_prod", lambda x: jnp.prod(x, axis=0), [A((4, 5), 1, "pos")]),
    ("max", "reduce_max", lambda x: jnp.max(x, axis=(0, 1)), [A((4, 5), -1)]),
    ("min", "reduce_min", lambda x: jnp.min(x, axis=1), [A((4, 5), 1)]),
    ("all", "reduce_and", lambda x: jnp.all(x, axis=0), [A((4, 5), 0, "b")]),
    ("any", "reduce_or", lambda x: jnp.any(x), [A((4, 5), 1, "b")]),
    ("argmax", "argmax", lambda x: jnp.argmax(x), [A((4, 5), 1)]),
    ("argmax_axis", "argmax", lambda x: jnp.argmax(x, axis=0), [A((4, 5), -1)]),
    ("argmin", "argmin", lambda x: lax.argmin(x, 1, "int32"), [A((4, 5), 0)]),
    ("cumsum", "cumsum", lambda x: jnp.cumsum(x, axis=1), [A((4, 5), 1)]),
    ("cumsum_flat", "cumsum", lambda x: jnp.cumsum(x), [A((4, 5), -1)]),
    ("cumsum_reverse", "cumsum", lambda x: lax.cumsum(x, 0, reverse=True), [A((4, 5), 0)]),
    ("cumprod", "cumprod", lambda x: jnp.cumprod(x, axis=0), [A((4, 5), 1)]),
    ("cummax", "cummax", lambda x: lax.cummax(x, 1, reverse=True), [A((4, 5), -1)]),
    ("cummin", "cummin", lambda x: lax.cummin(x, 0), [A((4, 5), 0)]),
    ("sort", "sort", lambda x: jnp.sort(x), [A((4, 5), 1)]),
    ("sort_axis0", "sort", lambda x: jnp.sort(x, axis=0), [A((4, 5), -1)]),
    ("argsort", "sort", lambda x: jnp.argsort(x, axis=1), [A((4, 5), 0)]),
    ("sort_keyed", "sort", lambda k, v: lax.sort((k, v), dimension=0, num_keys=1),
     [I((6,), 0), A((6,), None)]),
    ("sort_keyed_values", "sort", lambda k, v: lax.sort((k, v), num_keys=1), [I((6,), None), A((6,), 0)]),
    # dot_general: vectors, matrices, batch dimensions, every batched/unbatched combination.
    ("dot_vv", "dot_general", lambda x, y: jnp.dot(x, y), [A((4,), 0), A((4,), 0)]),
    ("dot_vv_x", "dot_general", lambda x, y: jnp.dot(x, y), [A((4,), 0), A((4,), None)]),
    ("dot_vv_y", "dot_general", lambda x, y: jnp.dot(x, y), [A((4,), None), A((4,), -1)]),
    ("dot_mv", "dot_general", lambda x, y: x @ y, [A((3, 4), 1), A((4,), 0)]),
    ("dot_mv_x", "dot_general", lambda x, y: x @ y, [A((3, 4), -1), A((4,), None)]),
    ("dot_mv_y", "dot_general", lambda x, y: x @ y, [A((3, 4), None), A((4,), 0)]),
    ("matmul", "dot_general", lambda x, y: jnp.matmul(x, y), [A((2, 4), 0), A((4, 5), 1)]),
    ("matmul_x", "dot_general", lambda x, y: x @ y, [A((2, 4), 1), A((4, 5), None)]),
    ("matmul_y", "dot_general", lambda x, y: x @ y, [A((2, 4), None), A((4, 5), -1)]),
    ("bmm", "dot_general", lambda x, y: x @ y, [A((2, 5, 4), 0), A((2, 4, 6), 0)]),
    ("bmm_axes", "dot_general", lambda x, y: x @ y, [A((2, 5, 4), 2), A((2, 4, 6), 1)]),
    ("bmm_x", "dot_general", lambda x, y: x @ y, [A((2, 5, 4), -1), A((2, 4, 6), None)]),
    ("bmm_y", "dot_general", lambda x, y: x @ y, [A((2, 5, 4), None), A((2, 4, 6), 3)]),
    ("bmm_broadcast", "dot_general", lambda x, y: x @ y, [A((2, 5, 4), 1), A((4, 6), 0)]),
    ("einsum", "dot_general", lambda x, y: jnp.einsum("ij,jk->ki", x, y), [A((2, 4), 1), A((4, 5), 2)]),
    ("einsum_batch", "dot_general", lambda x, y: jnp.einsum("bij,bjk->bik", x, y),
     [A((2, 5, 4), None), A((2, 4, 6), 1)]),
    ("einsum_outer", "dot_general", lambda x, y: jnp.einsum("i,j->ji", x, y), [A((4,), 0), A((5,), None)]),
    ("tensordot", "dot_general", lambda x, y: jnp.tensordot(x, y, axes=([0, 2], [2, 0])),
     [A((2, 5, 4), 1), A((4, 6, 2), -1)]),
    ("dot_general_dn", "dot_general",
     lambda x, y: lax.dot_general(x, y, (((2,), (0,)), ((1,), (2,)))), [A((3, 2, 4), 0), A((4, 5, 2), None)]),
    ("dot_general_dn_y", "dot_general",
     lambda x, y: lax.dot_general(x, y, (((2,), (0,)), ((1,), (2,)))), [A((3, 2, 4), None), A((4, 5, 2), 2)]),
    ("dot_general_dn_xy", "dot_general",
     lambda x, y: lax.dot_general(x, y, (((0,), (1,)), ((2,), (0,)))), [A((3, 2, 4), 3), A((4, 3, 5), 1)]),
]


@pytest.mark.parametrize("name, prim, f, specs", CASES, ids=[c[0] for c in CASES])
def test_reduction(name, prim, f, specs):
    assert prim in primitives_of(f, specs)
    check(name, f, specs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("out_axes", [1, -1])
def test_reduction_out_axes(out_axes):
    check("dot_out_axes", lambda x, y: x @ y, [A((2, 4), 0), A((4, 5), None)], out_axes=out_axes, rtol=1e-4)


COVERED = {c[1] for c in CASES}
