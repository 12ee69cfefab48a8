"""kiln.lax's conveniences over the primitives (dot, full, squeeze, top_k, associative_scan,
cumlogsumexp, reduce, ...) against real JAX, eagerly, under jit, and their gradients."""
import numpy as np
import pytest

import kiln
from kiln import lax as kl

jax = pytest.importorskip("jax")
jl = jax.lax

RNG = np.random.default_rng(0)
M = RNG.normal(size=(3, 4)).astype(np.float32)
V = RNG.normal(size=(4,)).astype(np.float32)
B = RNG.normal(size=(2, 3, 4)).astype(np.float32)
SEQ = RNG.normal(size=(7, 3)).astype(np.float32)
TIES = np.array([[3, 1, 3, 2, 1, 3], [0, 0, 5, 5, 5, 1]], np.int32)

CASES = {
    "dot_mv": lambda m: m.dot(M, V),
    "dot_vv": lambda m: m.dot(V, V),
    "dot_mm": lambda m: m.dot(M, M.T),
    "batch_matmul": lambda m: m.batch_matmul(B, np.swapaxes(B, 1, 2)),
    "full": lambda m: m.full((2, 3), 1.5),
    "full_dtype": lambda m: m.full((2,), 3, np.int8),
    "full_like": lambda m: m.full_like(M, 2),
    "full_like_shape": lambda m: m.full_like(M, 2, np.float32, (5,)),
    "expand_dims": lambda m: m.expand_dims(M, (0, 3)),
    "squeeze": lambda m: m.squeeze(M[None, :, None], (0, -2)),
    "broadcast_to_rank": lambda m: m.broadcast_to_rank(V, 3),
    "collapse": lambda m: m.collapse(B, 1),
    "slice_in_dim": lambda m: m.slice_in_dim(SEQ, 1, -1, 2, 0),
    "index_in_dim": lambda m: m.index_in_dim(B, -1, 1, False),
    "split": lambda m: m.split(SEQ, (2, 0, 5)),
    "reciprocal": lambda m: m.reciprocal(M),
    "sort_key_val": lambda m: m.sort_key_val(M, np.arange(12.0, dtype=np.float32).reshape(3, 4), 0),
    "top_k": lambda m: m.top_k(M, 2),
    "top_k_ties": lambda m: m.top_k(TIES, 4),
    "associative_scan_add": lambda m: m.associative_scan(m.add, SEQ),
    "associative_scan_max_reverse": lambda m: m.associative_scan(m.max, SEQ, reverse=True, axis=1),
    "associative_scan_pytree": lambda m: m.associative_scan(lambda a, b: (a[0] * b[0], a[1] * b[0] + b[1]),
                                                           (SEQ[:, 0], SEQ[:, 1])),
    "associative_scan_bool": lambda m: m.associative_scan(m.bitwise_or, SEQ > 1),
    "cumlogsumexp": lambda m: m.cumlogsumexp(SEQ * 40, axis=0),
    "cumlogsumexp_reverse": lambda m: m.cumlogsumexp(SEQ, axis=1, reverse=True),
    "reduce_sum": lambda m: m.reduce(M, 1.0, m.add, (1,)),
    "reduce_max_tuple": lambda m: m.reduce((M,), (-np.inf,), m.max, (0,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values(name):
    fn = CASES[name]
    want = fn(jl)
    for got in (fn(kl), kiln.jit(lambda: fn(kl))()):
        got_leaves, want_leaves = jax.tree.leaves(got), jax.tree.leaves(want)
        assert len(got_leaves) == len(want_leaves)
        for g, w in zip(got_leaves, want_leaves):
            g, w = np.asarray(g), np.asarray(w)
            assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["cumlogsumexp", "associative_scan_pytree", "top_k", "dot_mv", "reduce_max"])
def test_gradients(name):
    fn = {"cumlogsumexp": lambda m, x: m.cumlogsumexp(x, axis=0),
          "associative_scan_pytree": lambda m, x: m.associative_scan(lambda a, b: (a[0] * b[0], a[1] * b[0] + b[1]),
                                                                    (x[:, 0], x[:, 1]))[1],
          "top_k": lambda m, x: m.top_k(x, 2)[0],
          "dot_mv": lambda m, x: m.dot(x[:, :3], x[0]),
          "reduce_max": lambda m, x: m.reduce(x, -np.inf, m.max, (0,))}[name]
    weights = np.cos(np.arange(30.0)).astype(np.float32)
    loss = lambda m, npm: (lambda x: npm.sum(fn(m, x) * weights[:fn(m, x).size].reshape(fn(m, x).shape)))
    want = jax.grad(loss(jl, jax.numpy))(SEQ)
    np.testing.assert_allclose(kiln.grad(loss(kl, kiln.numpy))(SEQ), want, rtol=1e-5, atol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="size not equal to one"):
        kl.squeeze(M, (0,))
    with pytest.raises(TypeError, match="Incompatible shapes for dot"):
        kl.dot(M, M)
    with pytest.raises(NotImplementedError, match="lax.add"):
        kl.reduce(M, 0.0, lambda a, b: a - b, (0,))
