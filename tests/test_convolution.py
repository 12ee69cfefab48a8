"""kiln.lax convolutions and windowed reductions against real JAX: values eagerly and under
jit, gradients with respect to input and kernel, and vmap."""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln import lax as kl

jax = pytest.importorskip("jax")
jl = jax.lax
jnp = jax.numpy

RNG = np.random.default_rng(0)
X_NHWC = RNG.normal(size=(2, 9, 8, 4)).astype(np.float32)
W_HWIO = RNG.normal(size=(3, 3, 4, 6)).astype(np.float32)
X_NCHW = RNG.normal(size=(2, 4, 7, 6)).astype(np.float32)
W_OIHW = RNG.normal(size=(6, 4, 2, 3)).astype(np.float32)
X_1D = RNG.normal(size=(3, 2, 11)).astype(np.float32)
W_1D = RNG.normal(size=(5, 2, 4)).astype(np.float32)
X_3D = RNG.normal(size=(1, 2, 5, 4, 6)).astype(np.float32)
W_3D = RNG.normal(size=(3, 2, 2, 3, 2)).astype(np.float32)
W_GROUPS = RNG.normal(size=(6, 2, 3, 3)).astype(np.float32)  # 2 groups of 2 input features

# name -> (fn of the lax module, operands)
CASES = {
    "nhwc_same": (lambda m, x, w: m.conv_general_dilated(x, w, (1, 1), "SAME",
                                                         dimension_numbers=("NHWC", "HWIO", "NHWC")), (X_NHWC, W_HWIO)),
    "nhwc_valid_strided": (lambda m, x, w: m.conv_general_dilated(x, w, (2, 3), "VALID",
                                                                  dimension_numbers=("NHWC", "HWIO", "NHWC")),
                           (X_NHWC, W_HWIO)),
    "nhwc_same_lower": (lambda m, x, w: m.conv_general_dilated(x, w, (2, 2), "SAME_LOWER",
                                                               dimension_numbers=("NHWC", "HWIO", "NHWC")),
                        (X_NHWC, W_HWIO)),
    "dilated": (lambda m, x, w: m.conv_general_dilated(x, w, (2, 1), ((1, 2), (0, -1)), lhs_dilation=(2, 1),
                                                       rhs_dilation=(1, 2), dimension_numbers=("NHWC", "HWIO", "NHWC")),
                (X_NHWC, W_HWIO)),
    "default_layout": (lambda m, x, w: m.conv_general_dilated(x, w, (1, 2), ((1, 1), (2, 0))), (X_NCHW, W_OIHW)),
    "conv": (lambda m, x, w: m.conv(x, w, (1, 1), "SAME"), (X_NCHW, W_OIHW)),
    "mixed_layout": (lambda m, x, w: m.conv_general_dilated(x, w, (1, 1), "SAME",
                                                            dimension_numbers=("NCHW", "OIHW", "NHWC")), (X_NCHW, W_OIHW)),
    "groups": (lambda m, x, w: m.conv_general_dilated(x, w, (1, 1), "SAME", feature_group_count=2),
               (X_NCHW, W_GROUPS)),
    "1d": (lambda m, x, w: m.conv_general_dilated(x, w, (2,), "SAME"), (X_1D, W_1D)),
    "3d": (lambda m, x, w: m.conv_general_dilated(x, w, (1, 2, 1), "VALID", rhs_dilation=(2, 1, 1)), (X_3D, W_3D)),
    "general_padding": (lambda m, x, w: m.conv_with_general_padding(x, w, (1, 1), ((0, 1), (1, 0)), (1, 2), None),
                        (X_NCHW, W_OIHW)),
    "transpose_same": (lambda m, x, w: m.conv_transpose(x, w, (2, 2), "SAME"), (X_NHWC, W_HWIO)),
    "transpose_valid_kernel": (lambda m, x, w: m.conv_transpose(x, w, (2, 1), "VALID", transpose_kernel=True),
                               (X_NHWC, np.swapaxes(W_HWIO, 2, 3)[..., :4, :])),
}

POOLS = {
    "max_pool": (lambda m, x: m.reduce_window(x, -np.inf, m.max, (1, 3, 3, 1), (1, 2, 2, 1), "SAME"), X_NHWC),
    "avg_pool_valid": (lambda m, x: m.reduce_window(x, 0.0, m.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4, X_NHWC),
    "sum_padded_dilated": (lambda m, x: m.reduce_window(x, 0.0, m.add, (1, 1, 2, 3), (1, 1, 1, 2),
                                                        ((0, 0), (0, 0), (1, 2), (0, 1)), window_dilation=(1, 1, 2, 1)),
                           X_NCHW),
    "min_base_dilated": (lambda m, x: m.reduce_window(x, np.inf, m.min, (2, 3), (1, 1), "VALID",
                                                      base_dilation=(1, 2)), X_NCHW[0, 0]),
}


def close(got, want, rtol=1e-5, atol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", list(CASES))
def test_convolution_values_and_gradients(name):
    fn, (x, w) = CASES[name]
    want = fn(jl, x, w)
    close(fn(kl, x, w), want)
    close(kiln.jit(lambda a, b: fn(kl, a, b))(x, w), want)
    loss = lambda m, npm: (lambda a, b: npm.sum(npm.sin(fn(m, a, b))))
    want_grads = jax.grad(loss(jl, jnp), argnums=(0, 1))(x, w)
    for got, expected in zip(kiln.jit(kiln.grad(loss(kl, knp), argnums=(0, 1)))(x, w), want_grads):
        close(got, expected, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("name", list(POOLS))
def test_reduce_window(name):
    fn, x = POOLS[name]
    want = fn(jl, x)
    close(fn(kl, x), want)
    close(kiln.jit(lambda a: fn(kl, a))(x), want)
    loss = lambda m, npm: (lambda a: npm.sum(fn(m, a) ** 2))
    close(kiln.grad(loss(kl, knp))(x), jax.grad(loss(jl, jnp))(x), rtol=2e-5, atol=2e-5)


def test_vmap_over_images():
    fn, (x, w) = CASES["nhwc_same"]
    close(kiln.vmap(lambda a: fn(kl, a, w))(X_NHWC[:, None]), jax.vmap(lambda a: fn(jl, a, w))(X_NHWC[:, None]))
    kernels = np.stack([w, 2 * w])
    close(kiln.vmap(lambda b: fn(kl, x, b))(kernels), jax.vmap(lambda b: fn(jl, x, b))(kernels))


def test_cnn_training_step():
    """A small CNN's loss gradient (conv, relu, max pool, dense) matches JAX's."""
    dense = RNG.normal(size=(6 * 5 * 4, 3)).astype(np.float32) * 0.1

    def model(m, npm, relu):
        def loss(w, x):
            h = relu(m.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))
            h = m.reduce_window(h, -np.inf, m.max, (1, 2, 2, 1), (1, 2, 2, 1), "SAME")
            return npm.mean((h.reshape(h.shape[0], -1) @ dense) ** 2)
        return loss
    want = jax.grad(model(jl, jnp, jax.nn.relu))(W_HWIO, X_NHWC)
    close(kiln.jit(kiln.grad(model(kl, knp, kiln.nn.relu)))(W_HWIO, X_NHWC), want, rtol=2e-5, atol=1e-6)


def test_errors():
    with pytest.raises(TypeError, match="feature_group_count"):
        kl.conv_general_dilated(X_NCHW, W_GROUPS, (1, 1), "SAME")
    with pytest.raises(ValueError, match="Unknown padding"):
        kl.conv(X_NCHW, W_OIHW, (1, 1), "FULL")
    with pytest.raises(TypeError, match="dimension_numbers"):
        kl.conv_general_dilated(X_NHWC, W_HWIO, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHW"))


@pytest.mark.parametrize("fn", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_numpy_convolve_and_correlate(fn, mode):
    a = RNG.normal(size=(9,)).astype(np.float32)
    v = RNG.normal(size=(4,)).astype(np.float32)
    c = (a[:5] + 1j * a[4:]).astype(np.complex64)
    for x, y in [(a, v), (v, a), (c, v), (np.arange(6), np.array([1, 2, 3]))]:
        close(getattr(knp, fn)(x, y, mode), getattr(jnp, fn)(x, y, mode), rtol=1e-5, atol=1e-5)
    close(kiln.grad(lambda x: knp.sum(getattr(knp, fn)(x, v, mode) ** 2))(a),
          jax.grad(lambda x: jnp.sum(getattr(jnp, fn)(x, v, mode) ** 2))(a), rtol=1e-5, atol=1e-5)
