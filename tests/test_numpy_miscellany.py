"""The remaining jax.numpy compositions (cross, matvec, unwrap, windows, polyfit, compress,
piecewise, gradient, fromfunction, put, ...) against real JAX, eagerly and under jit."""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp

jax = pytest.importorskip("jax")
jnp = jax.numpy

RNG = np.random.default_rng(0)
V3 = RNG.normal(size=(4, 3)).astype(np.float32)
W3 = RNG.normal(size=(4, 3)).astype(np.float32)
M = RNG.normal(size=(2, 3, 4)).astype(np.float32)
X = np.linspace(-2, 2, 9).astype(np.float32)
PHASE = np.cumsum(RNG.uniform(-3, 3, 12)).astype(np.float32)

# name -> fn(np module, *operands), operands; each runs eagerly and under jit
CASES = {
    "cross3": (lambda n, a, b: n.cross(a, b), (V3, W3)),
    "cross2": (lambda n, a, b: n.cross(a[:, :2], b[:, :2]), (V3, W3)),
    "cross23": (lambda n, a, b: n.cross(a[:, :2], b), (V3, W3)),
    "cross_axes": (lambda n, a, b: n.cross(a.T, b, axisa=0, axisc=0), (V3, W3)),
    "matvec": (lambda n, a, v: n.matvec(a, v), (M, M[0, 0])),
    "vecmat": (lambda n, v, a: n.vecmat(v, a), (M[0, :, 0], M)),
    "rollaxis": (lambda n, a: n.rollaxis(a, 2, 1), (M,)),
    "rollaxis_end": (lambda n, a: n.rollaxis(a, 0, 3), (M,)),
    "unwrap": (lambda n, p: n.unwrap(p), (PHASE,)),
    "unwrap_period": (lambda n, p: n.unwrap(p, discont=2.0, period=4.0), (PHASE,)),
    "windows": (lambda n: [n.bartlett(7), n.blackman(6), n.hamming(5), n.hanning(8), n.hamming(1), n.hanning(0)], ()),
    "polymul": (lambda n, a, b: n.polymul(a, b), (X[:3], X[3:7])),
    "polyfit": (lambda n, x, y: n.polyfit(x, y, 2), (X, X ** 2 * 3 - X + 1)),
    "polyfit_weighted_2d": (lambda n, x, y: n.polyfit(x, n.stack([y, y * 2], 1), 1, w=n.abs(x) + 1), (X, X * 3 - 1)),
    "compress_size": (lambda n, c, a: n.compress(c, a, axis=1, size=3, fill_value=-1), (np.array([1, 0, 1, 1]), M)),
    "extract_size": (lambda n, c, a: n.extract(c > 0, a, size=10), (M, M)),
    "piecewise": (lambda n, x: n.piecewise(x, [x < -1, x > 1], [lambda v: v * 2, lambda v: -v, 0.5]), (X,)),
    "piecewise_no_default": (lambda n, x: n.piecewise(x, [x < 0, x >= 0], [-1.0, lambda v: v ** 2]), (X,)),
    "gradient": (lambda n, f: n.gradient(f), (M,)),
    "gradient_spacing": (lambda n, f: n.gradient(f, 0.5, axis=1), (M,)),
    "gradient_coords": (lambda n, f: n.gradient(f, n.array([0.0, 0.5, 2.0, 3.0]), axis=-1), (M,)),
    "fromfunction": (lambda n: n.fromfunction(lambda i, j: i * 10 + j, (3, 4), dtype=np.int32), ()),
    "put": (lambda n, a: n.put(a, n.array([0, 5, 7]), n.array([1.0, 2.0]), inplace=False), (M,)),
    "put_clip": (lambda n, a: n.put(a, n.array([-3, 50]), n.array([9.0, 8.0]), mode="clip", inplace=False), (M,)),
    "put_along_axis": (lambda n, a: n.put_along_axis(a, n.argmax(a, axis=1, keepdims=True), 0.0, axis=1,
                                                     inplace=False), (M,)),
}


def _close(got, want):
    got_leaves, want_leaves = jax.tree.leaves(got), jax.tree.leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_values(name):
    fn, args = CASES[name]
    want = fn(jnp, *args)
    _close(fn(knp, *args), want)
    _close(kiln.jit(lambda *a: fn(knp, *a))(*args), want)


def test_eager_only_and_numpy_helpers():
    a = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    mask = a % 3 == 0
    _close(knp.place(a, mask, np.array([-1.0, -2.0]), inplace=False),
           jnp.place(a, mask, np.array([-1.0, -2.0]), inplace=False))
    _close(knp.compress(np.array([True, False, True]), a, axis=0), jnp.compress(np.array([True, False, True]), a, axis=0))
    _close(knp.polymul(np.array([0.0, 1.0, 2.0]), np.array([3.0]), trim_leading_zeros=True),
           jnp.polymul(np.array([0.0, 1.0, 2.0]), np.array([3.0]), trim_leading_zeros=True))
    assert knp.can_cast(np.int8, np.int32) and not knp.can_cast(np.float64, np.int32)
    assert knp.isdtype(np.float32, "real floating") and not knp.isdtype(np.int8, ("real floating", "bool"))
    assert knp.iterable([1]) and not knp.iterable(1.0)
    with knp.printoptions(precision=2):
        assert knp.get_printoptions()["precision"] == 2
    with pytest.raises(ValueError, match="in-place"):
        knp.put(a, np.array([0]), np.array([1.0]))


def test_gradients():
    def loss(n):
        return lambda x: n.sum(n.gradient(x ** 2) * n.unwrap(x * 3)) + n.sum(n.cross(x[:3], x[3:6]) ** 2) \
            + n.sum(n.piecewise(x, [x < 0], [lambda v: v ** 3, lambda v: n.sin(v)]))
    _close(kiln.grad(loss(knp))(X), jax.grad(loss(jnp))(X))
