"""kiln.ops segment reductions against jax.ops: values, empty and dropped segments, jit,
gradients and vmap."""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp

jax = pytest.importorskip("jax")
jnp = jax.numpy

DATA = np.arange(1.0, 13.0, dtype=np.float32).reshape(6, 2) * np.array([1, -1], np.float32)
IDS = np.array([0, 0, 2, 5, 2, -1])  # segment 1 empty; 5 and -1 out of range for 4 segments
INTS = np.array([3, -4, 7, 1, 0, 2], np.int32)


@pytest.mark.parametrize("name", ["segment_sum", "segment_prod", "segment_max", "segment_min"])
def test_segments(name):
    kf, jf = getattr(kiln.ops, name), getattr(jax.ops, name)
    for data in (DATA, INTS):
        want = jf(data, IDS, 4)
        for got in (kf(data, IDS, 4), kiln.jit(lambda d, i: kf(d, i, 4))(data, IDS)):
            assert np.asarray(got).dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    ids = np.array([0, 2, 2, 1, 0, 3])
    np.testing.assert_array_equal(kf(DATA, ids), jf(DATA, ids))  # num_segments from the ids
    loss = lambda f, n: (lambda d: n.sum(f(d, ids, 4) ** 2))
    if name == "segment_prod":  # repeated ids: neither JAX nor kiln differentiates a scatter-multiply
        with pytest.raises(NotImplementedError):
            kiln.grad(loss(kf, knp))(DATA)
    else:
        np.testing.assert_allclose(kiln.grad(loss(kf, knp))(DATA), jax.grad(loss(jf, jnp))(DATA), rtol=1e-6)
    batched = np.stack([DATA, DATA * 2])
    np.testing.assert_array_equal(kiln.vmap(lambda d: kf(d, ids, 4))(batched), jax.vmap(lambda d: jf(d, ids, 4))(batched))


def test_num_segments_needed_under_jit():
    with pytest.raises(TypeError, match="num_segments"):
        kiln.jit(lambda d, i: kiln.ops.segment_sum(d, i))(DATA, IDS)
