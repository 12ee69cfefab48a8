"""kiln.numpy.fft and kiln.lax.fft against real JAX: values eagerly and under jit, vmap, and
gradients (the transposes of FFT, RFFT and IRFFT)."""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp

jax = pytest.importorskip("jax")
jnp = jax.numpy

RNG = np.random.default_rng(0)
REAL = RNG.normal(size=(3, 6, 5)).astype(np.float32)
CPLX = (RNG.normal(size=(4, 7)) + 1j * RNG.normal(size=(4, 7))).astype(np.complex64)
INTS = np.arange(12).reshape(3, 4)

CASES = {
    "fft": lambda m, x: m.fft.fft(x),
    "fft_n_crop": lambda m, x: m.fft.fft(x, n=3, axis=0),
    "fft_n_pad_ortho": lambda m, x: m.fft.fft(x, n=9, norm="ortho"),
    "ifft_forward": lambda m, x: m.fft.ifft(x, axis=-2, norm="forward"),
    "fft2": lambda m, x: m.fft.fft2(x),
    "ifft2_s": lambda m, x: m.fft.ifft2(x, s=(2, 8)),
    "fftn": lambda m, x: m.fft.fftn(x),
    "fftn_axes": lambda m, x: m.fft.fftn(x, axes=(0, -1)),
    "ifftn": lambda m, x: m.fft.ifftn(x, norm="ortho"),
    "rfft": lambda m, x: m.fft.rfft(x),
    "rfft_n_axis": lambda m, x: m.fft.rfft(x, n=8, axis=1),
    "irfft": lambda m, x: m.fft.irfft(x),
    "irfft_n_odd": lambda m, x: m.fft.irfft(x, n=7, axis=0),
    "rfft2": lambda m, x: m.fft.rfft2(x),
    "irfftn": lambda m, x: m.fft.irfftn(x),
    "rfftn_s": lambda m, x: m.fft.rfftn(x, s=(4, 4)),
    "hfft": lambda m, x: m.fft.hfft(x),
    "ihfft": lambda m, x: m.fft.ihfft(x),
    "shift": lambda m, x: m.fft.ifftshift(m.fft.fftshift(x, axes=1) * 2, axes=(0,)),
}
INPUTS = {"real": REAL, "complex": CPLX, "ints": INTS}
REAL_ONLY = {"rfft", "rfft_n_axis", "rfft2", "rfftn_s", "ihfft"}


def close(got, want, rtol=2e-5, atol=2e-5):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, got.dtype, want.shape, want.dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * max(1.0, float(np.abs(want).max(initial=0))))


@pytest.mark.parametrize("name", list(CASES))
def test_values(name):
    fn = CASES[name]
    for kind, x in INPUTS.items():
        if name in REAL_ONLY and kind == "complex":
            continue
        want = fn(jnp, x)
        close(fn(knp, x), want)
        close(kiln.jit(lambda v: fn(knp, v))(x), want)


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "fft2", "irfftn", "hfft", "ihfft", "fft_n_pad_ortho",
                                  "rfft_n_axis", "irfft_n_odd"])
def test_gradients(name):
    fn = CASES[name]
    loss = lambda m: (lambda v: m.sum(m.abs(fn(m, v) * m.arange(1.0, 1.0 + fn(m, v).shape[-1])) ** 2))
    x = REAL if name in REAL_ONLY or name.startswith("irfft") or name == "hfft" else CPLX
    if name.startswith("irfft") or name == "hfft":
        x = jnp.fft.rfft(REAL) if name != "irfft_n_odd" else jnp.fft.rfft(REAL, axis=0)
        x = np.asarray(x)
    close(kiln.grad(loss(knp))(x), jax.grad(loss(jnp))(x), rtol=1e-4, atol=1e-5)
    close(kiln.jit(kiln.grad(loss(knp)))(x), jax.grad(loss(jnp))(x), rtol=1e-4, atol=1e-5)


def test_vmap_and_lax():
    close(kiln.vmap(knp.fft.rfft, in_axes=1)(REAL), jax.vmap(jnp.fft.rfft, in_axes=1)(REAL))
    close(kiln.vmap(lambda v: kiln.lax.fft(v, "IFFT", (7,)))(CPLX), jax.vmap(lambda v: jax.lax.fft(v, "IFFT", (7,)))(CPLX))
    close(kiln.lax.fft(REAL, kiln.lax.FftType.RFFT, (6, 5)), jax.lax.fft(REAL, jax.lax.FftType.RFFT, (6, 5)))


def test_frequencies():
    for n, d in [(8, 1.0), (7, 0.1), (1, 2.0)]:
        close(knp.fft.fftfreq(n, d), jnp.fft.fftfreq(n, d))
        close(knp.fft.rfftfreq(n, d), jnp.fft.rfftfreq(n, d))


def test_errors():
    with pytest.raises(ValueError, match="repeated axes"):
        knp.fft.fftn(REAL, axes=(0, 0))
    with pytest.raises(ValueError, match="real valued"):
        knp.fft.rfft(CPLX)
    with pytest.raises(ValueError, match="norm"):
        knp.fft.fft(CPLX, norm="sideways")
