"""Comparisons shared by test modules: ulp distances, and pytrees against JAX's."""
import numpy as np

import kiln
from kiln.tree_util import tree_leaves, tree_structure


@np.errstate(all="ignore")
def ulps(got, want):
    """Per-element distance in ulps of `want` (0 where equal, both NaN, or equal infinities)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    spacing = np.spacing(np.abs(want)).astype(np.float64)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64)) / spacing
    return np.where((got == want) | (np.isnan(got) & np.isnan(want)), 0.0, err)


def same(kiln_value, jax_value, rtol=1e-5, equal_nan=False):
    """Equal pytrees: structure, values, dtypes and weak types; float0 leaves by shape."""
    assert tree_structure(kiln_value) == tree_structure(jax_value)
    for k, j in zip(tree_leaves(kiln_value), tree_leaves(jax_value)):
        assert np.shape(k) == np.shape(j)
        assert np.dtype(k.dtype) == np.dtype(j.dtype), (k.dtype, j.dtype)
        if j.dtype == kiln.dtypes.float0:
            assert type(k) is np.ndarray  # JAX's is a NumPy array (a subclass)
            continue
        np.testing.assert_allclose(np.asarray(k), np.asarray(j), rtol=rtol, atol=1e-6, equal_nan=equal_nan)
        assert getattr(k, "weak_type", False) == getattr(j, "weak_type", False), (k, j)
