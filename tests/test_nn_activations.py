"""kiln.nn's activations, normalizations and attention against jax.nn: values, gradients
(including at the kinks, where JAX defines them), eagerly and under jit."""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp

jax = pytest.importorskip("jax")
jnp = jax.numpy

X = np.array([-7.0, -3.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.5, 3.0, 6.0, 9.0], np.float32)
POS = np.array([0.01, 0.3, 0.6931472, 1.0, 5.0, 40.0], np.float32)

ACTIVATIONS = ["relu", "relu6", "selu", "celu", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh", "soft_sign",
               "squareplus", "sparse_plus", "sparse_sigmoid", "mish", "tanh", "identity", "elu", "gelu", "silu",
               "softplus", "sigmoid", "log_sigmoid", "leaky_relu"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_values_and_gradients(name):
    kf, jf = getattr(kiln.nn, name), getattr(jax.nn, name)
    np.testing.assert_allclose(kf(X), jf(X), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(kiln.jit(kf)(X), jf(X), rtol=1e-6, atol=1e-7)
    # elementwise derivatives, at the kinks too (0 for relu, 0 and 6 for relu6)
    kg = kiln.vmap(kiln.grad(lambda v: kf(v)))(X)
    jg = jax.vmap(jax.grad(lambda v: jf(v)))(X)
    np.testing.assert_allclose(kg, jg, rtol=1e-6, atol=1e-7)


def test_glu_log1mexp_logmeanexp_standardize():
    m = np.arange(24, dtype=np.float32).reshape(4, 6) / 7 - 1
    for kf, jf, args in [(kiln.nn.glu, jax.nn.glu, (m,)), (lambda v: kiln.nn.glu(v, 0), lambda v: jax.nn.glu(v, 0), (m,)),
                         (kiln.nn.log1mexp, jax.nn.log1mexp, (POS,)),
                         (lambda v: kiln.nn.logmeanexp(v, axis=1), lambda v: jax.nn.logmeanexp(v, axis=1), (m,)),
                         (lambda v: kiln.nn.logmeanexp(v, where=v > 0), lambda v: jax.nn.logmeanexp(v, where=v > 0), (m,)),
                         (kiln.nn.standardize, jax.nn.standardize, (m,)),
                         (lambda v: kiln.nn.standardize(v, axis=0, algorithm="stable"),
                          lambda v: jax.nn.standardize(v, axis=0, algorithm="stable"), (m,))]:
        np.testing.assert_allclose(kf(*args), jf(*args), rtol=2e-6, atol=1e-6)
        weights = np.cos(np.arange(np.size(kf(*args)))).reshape(np.shape(kf(*args))).astype(np.float32)
        np.testing.assert_allclose(kiln.grad(lambda v: knp.sum(kf(v) * weights))(*args),
                                   jax.grad(lambda v: jnp.sum(jf(v) * weights))(*args), rtol=2e-5, atol=1e-5)


RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 5, 4, 8)).astype(np.float32)
KV = RNG.normal(size=(2, 6, 2, 8)).astype(np.float32)
VV = RNG.normal(size=(2, 6, 2, 8)).astype(np.float32)
BIAS = RNG.normal(size=(2, 1, 5, 6)).astype(np.float32)
MASK = RNG.random(size=(1, 4, 5, 6)) > 0.3


@pytest.mark.parametrize("kwargs", [{}, {"is_causal": True}, {"bias": BIAS, "scale": 0.5}, {"mask": MASK},
                                    {"local_window_size": (1, 2)},
                                    {"query_seq_lengths": np.array([3, 5], np.int32),
                                     "key_value_seq_lengths": np.array([6, 2], np.int32)}],
                         ids=["plain", "causal", "bias", "mask", "window", "lengths"])
def test_dot_product_attention(kwargs):
    want = jax.nn.dot_product_attention(Q, KV, VV, **kwargs)
    np.testing.assert_allclose(kiln.nn.dot_product_attention(Q, KV, VV, **kwargs), want, rtol=1e-5, atol=1e-6)
    loss = lambda m, nn: (lambda q, k, v: m.sum(nn.dot_product_attention(q, k, v, **kwargs) ** 2))
    got = kiln.jit(kiln.grad(loss(knp, kiln.nn), argnums=(0, 1, 2)))(Q, KV, VV)
    for g, w in zip(got, jax.grad(loss(jnp, jax.nn), argnums=(0, 1, 2))(Q, KV, VV)):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def test_dot_product_attention_3d_and_residual():
    q, k, v = Q[0], KV[0, :, :1].repeat(4, 1), VV[0, :, :1].repeat(4, 1)
    np.testing.assert_allclose(kiln.nn.dot_product_attention(q, k, v), jax.nn.dot_product_attention(q, k, v),
                               rtol=1e-5, atol=1e-6)
    got = kiln.nn.dot_product_attention(Q, KV, VV, return_residual=True)
    want = jax.nn.dot_product_attention(Q, KV, VV, return_residual=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="multiple of key/value heads"):
        kiln.nn.dot_product_attention(Q[:, :, :3], KV, VV)
