"""vmap of the structural primitives (broadcasts, reshapes, slices, padding, concatenation,
dynamic slices) against a Python loop over the batch.

Every case is a per-example function and the per-example shapes of its operands, each
batched at 0, 1, -1 or not at all (`Arg`). Multi-operand primitives are checked with every
operand batched, with only some batched, and with operands batched on different axes.
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln import lax
from vmap_helpers import Arg, check, primitives_of


def I(shape=(), axis=0, lo=-2, hi=7):  # noqa: E743 - start indices, some out of range (clamped)
    return Arg(shape, axis, "i", lo, hi)


A = Arg
CASES = [
    # (name, primitive exercised, function, operand specs)
    ("broadcast_in_dim", "broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 4, 5), (1, 2)), [A((4, 5), 1)]),
    ("broadcast_in_dim_scalar", "broadcast_in_dim", lambda x: lax.broadcast_in_dim(x, (2, 3), ()), [A((), 0)]),
    ("broadcast_to", "broadcast_in_dim", lambda x: jnp.broadcast_to(x, (2, 4, 1)), [A((4, 1), -1)]),
    ("reshape", "reshape", lambda x: lax.reshape(x, (5, 2, 2)), [A((4, 5), 0)]),
    ("reshape_ax1", "reshape", lambda x: x.reshape(-1), [A((4, 5), 1)]),
    ("reshape_neg", "reshape", lambda x: x.reshape(2, 10), [A((4, 5), -1)]),
    ("transpose", "transpose", lambda x: lax.transpose(x, (2, 0, 1)), [A((2, 4, 5), 1)]),
    ("transpose_T", "transpose", lambda x: x.T, [A((4, 5), -1)]),
    ("moveaxis", "transpose", lambda x: jnp.moveaxis(x, 0, -1), [A((2, 4, 5), 0)]),
    ("rev", "rev", lambda x: lax.rev(x, (0,)), [A((4, 5), 1)]),
    ("rev_both", "rev", lambda x: lax.rev(x, (0, 1)), [A((4, 5), -1)]),
    ("flip", "rev", lambda x: jnp.flip(x, 1), [A((4, 5), 0)]),
    ("slice", "slice", lambda x: lax.slice(x, (1, 0), (3, 5), (1, 2)), [A((4, 5), 0)]),
    ("slice_ax1", "slice", lambda x: x[1:3, ::-2], [A((4, 5), 1)]),
    ("slice_neg", "slice", lambda x: x[..., 1:], [A((4, 5), -1)]),
    ("pad", "pad", lambda x: lax.pad(x, 0.5, ((1, 2, 1), (0, -2, 0))), [A((4, 5), 1)]),
    ("pad_value_batched", "pad", lambda x, v: lax.pad(x, v, ((1, 2, 1), (-1, 0, 0))), [A((4, 5), 0), A((), 0)]),
    ("pad_value_only", "pad", lambda x, v: lax.pad(x, v, ((1, 0, 0), (2, -1, 1))), [A((4, 5), None), A((), 0)]),
    ("pad_operand_only", "pad", lambda x, v: lax.pad(x, v, ((0, 1, 2), (1, 1, 0))), [A((4, 5), -1), A((), None)]),
    ("concatenate", "concatenate", lambda x, y: jnp.concatenate([x, y]), [A((4, 5), 0), A((2, 5), 0)]),
    ("concatenate_one", "concatenate", lambda x, y: jnp.concatenate([x, y], axis=1), [A((4, 5), None), A((4, 2), 1)]),
    ("concatenate_axes", "concatenate", lambda x, y, z: lax.concatenate([x, y, z], 1),
     [A((4, 5), 1), A((4, 2), -1), A((4, 1), None)]),
    ("stack", "concatenate", lambda x, y: jnp.stack([x, y], axis=-1), [A((4,), None), A((4,), 0)]),
    ("dynamic_slice", "dynamic_slice", lambda x: lax.dynamic_slice(x, (1, 2), (2, 3)), [A((4, 5), 1)]),
    ("dynamic_slice_clamped", "dynamic_slice", lambda x, i: lax.dynamic_slice(x, (i, 6), (2, 3)),
     [A((4, 5), -1), I((), None)]),
    ("dynamic_slice_index", "dynamic_slice", lambda x, i: lax.dynamic_slice(x, (i, 1), (2, 3)),
     [A((4, 5), None), I()]),
    ("dynamic_slice_both", "dynamic_slice", lambda x, i, j: lax.dynamic_slice(x, (i, j), (3, 2)),
     [A((4, 5), 1), I(), I((), None)]),
    ("dynamic_update_slice", "dynamic_update_slice", lambda x, u: lax.dynamic_update_slice(x, u, (1, 2)),
     [A((4, 5), 0), A((2, 3), 1)]),
    ("dynamic_update_slice_operand", "dynamic_update_slice",
     lambda x, u, i: lax.dynamic_update_slice(x, u, (i, 0)), [A((4, 5), -1), A((2, 3), None), I((), None)]),
    ("dynamic_update_slice_update", "dynamic_update_slice", lambda x, u: lax.dynamic_update_slice(x, u, (3, 3)),
     [A((4, 5), None), A((2, 3), -1)]),
    ("dynamic_update_slice_index", "dynamic_update_slice",
     lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)), [A((4, 5), None), A((2, 3), None), I(), I()]),
    ("dynamic_update_slice_all", "dynamic_update_slice",
     lambda x, u, i: lax.dynamic_update_slice(x, u, (1, i)), [A((4, 5), 1), A((2, 3), 0), I((), 0)]),
    ("qr", "qr", lambda x: lax.linalg.qr(x, full_matrices=False), [A((4, 3, 2), 1)]),
    ("qr_complete", "qr", lambda x: lax.linalg.qr(x, full_matrices=True), [A((3, 2, 4), 2)]),
    ("cholesky", "cholesky", lambda x: lax.linalg.cholesky(x @ jnp.swapaxes(x, -1, -2) + 3 * jnp.eye(3)),
     [A((2, 3, 3), 1)]),
    ("triangular_solve", "triangular_solve", lambda a, b: lax.linalg.triangular_solve(
        a + 4 * jnp.eye(3), b, left_side=True, lower=True), [A((3, 3), 0), A((3, 2), -1)]),
    ("triangular_solve_one", "triangular_solve", lambda a, b: lax.linalg.triangular_solve(
        a + 4 * jnp.eye(3), b, lower=False, transpose_a=True), [A((3, 3), None), A((2, 3), 1)]),
    ("lu", "lu", lambda x: lax.linalg.lu(x), [A((4, 3), 1)]),
    ("eigh", "eigh", lambda x: lax.linalg.eigh(x + jnp.swapaxes(x, -1, -2)), [A((3, 3), -1)]),
    ("svd", "svd", lambda x: lax.linalg.svd(x, full_matrices=False), [A((4, 3), 0)]),
    ("svd_values", "svd", lambda x: lax.linalg.svd(x, compute_uv=False), [A((2, 3), 1)]),
    ("fft", "fft", lambda x: jnp.fft.irfft(jnp.fft.rfft(x) * 2, 5) + jnp.fft.fft(x).imag, [A((3, 5), 1)]),
    ("debug_callback", "debug_callback", lambda x: (kiln.debug.callback(lambda v: None, x), x * 2)[1],
     [A((4,), 0)]),
    ("pure_callback", "pure_callback", lambda x: kiln.pure_callback(
        lambda v: np.sin(v), kiln.ShapeDtypeStruct(x.shape, x.dtype), x, vmap_method="sequential"), [A((4,), 1)]),
]


@pytest.mark.parametrize("name, prim, f, specs", CASES, ids=[c[0] for c in CASES])
def test_structural(name, prim, f, specs):
    assert prim in primitives_of(f, specs)
    check(name, f, specs)


@pytest.mark.parametrize("out_axes", [0, 1, -1])
def test_structural_out_axes(out_axes):
    check("out_axes", lambda x: lax.transpose(x, (1, 0)), [A((4, 5), 1)], out_axes=out_axes)


COVERED = {c[1] for c in CASES}
