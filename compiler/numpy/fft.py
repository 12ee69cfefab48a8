"""kiln.numpy.fft: jax.numpy.fft on the `kiln.lax.fft` primitive.

As in JAX, the transformed axes are moved to the end (the primitive transforms trailing
axes), the input is cropped or zero-padded to the lengths `n` / `s` asked for, and the result
is scaled for `norm` ("backward", the default, scales only the inverse transforms by 1/n;
"ortho" both by 1/sqrt(n); "forward" only the forward ones). At most three axes at once.
"""
from __future__ import annotations

import operator

import numpy as np

from kiln import lax
from kiln.lax.fft import fft as _lax_fft
from kiln.numpy.core import asarray
from kiln.numpy.creation import arange
from kiln.numpy.shapes import moveaxis, roll

__all__ = ["fft", "fft2", "fftfreq", "fftn", "fftshift", "hfft", "ifft", "ifft2", "ifftn", "ifftshift", "ihfft",
           "irfft", "irfft2", "irfftn", "rfft", "rfft2", "rfftfreq", "rfftn"]


def _norm_factor(lengths, name, norm):
    n = float(np.prod(lengths)) if lengths else 1.0
    inverse = name.startswith("i")
    if norm is None or norm == "backward":
        return None
    if norm == "ortho":
        return np.sqrt(n) if inverse else 1 / np.sqrt(n)
    if norm == "forward":
        return n if inverse else 1 / n
    raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')


def _fft_core(name, fft_type, a, s, axes, norm):
    arr = asarray(a)
    if s is not None:
        s = tuple(operator.index(n) for n in s)
        if any(n < 0 for n in s):
            raise ValueError("Shape should be non-negative.")
        if axes is not None and len(s) != len(axes):
            raise ValueError("Shape and axes have different lengths.")
    given_axes = axes
    if axes is None:
        axes = range(arr.ndim) if s is None else range(arr.ndim - len(s), arr.ndim)
    axes = tuple(operator.index(a) % arr.ndim if arr.ndim else operator.index(a) for a in axes)
    if len(axes) != len(set(axes)):
        raise ValueError(f"jax.numpy.fft.{name} does not support repeated axes. Got axes {axes}.")
    if len(axes) > 3:
        raise ValueError(f"jax.numpy.fft.{name} only supports 1D, 2D, and 3D FFTs. Got axes {given_axes} with "
                         f"input rank {arr.ndim}.")
    if given_axes is not None:
        trailing = tuple(range(arr.ndim - len(axes), arr.ndim))
        arr, moved, axes = moveaxis(arr, axes, trailing), axes, trailing
    if s is not None:
        sizes = list(arr.shape)
        for axis, n in zip(axes, s):
            sizes[axis] = n
        if fft_type == "IRFFT":
            sizes[-1] = sizes[-1] // 2 + 1
        arr = arr[tuple(slice(0, n) for n in sizes)]  # crop
        if tuple(arr.shape) != tuple(sizes):           # then zero-pad
            arr = lax.pad(arr, np.zeros((), arr.dtype), [(0, n - m, 0) for n, m in zip(sizes, arr.shape)])
        lengths = list(s)
    elif fft_type == "IRFFT":
        lengths = [arr.shape[axis] for axis in axes[:-1]] + ([max(0, 2 * (arr.shape[axes[-1]] - 1))] if axes else [])
    else:
        lengths = [arr.shape[axis] for axis in axes]
    out = _lax_fft(arr, fft_type, tuple(lengths))
    factor = _norm_factor(lengths, name, norm)
    if factor is not None:
        out = out * np.asarray(factor, out.dtype)
    if given_axes is not None:
        out = moveaxis(out, axes, moved)
    return out


def _one_axis(name, fft_type, a, n, axis, norm):
    return _fft_core(name, fft_type, a, None if n is None else (n,), (axis,), norm)


def fft(a, n=None, axis=-1, norm=None):
    return _one_axis("fft", "FFT", a, n, axis, norm)


def ifft(a, n=None, axis=-1, norm=None):
    return _one_axis("ifft", "IFFT", a, n, axis, norm)


def rfft(a, n=None, axis=-1, norm=None):
    return _one_axis("rfft", "RFFT", a, n, axis, norm)


def irfft(a, n=None, axis=-1, norm=None):
    return _one_axis("irfft", "IRFFT", a, n, axis, norm)


def hfft(a, n=None, axis=-1, norm=None):
    """The FFT of a Hermitian-symmetric signal given by its first half: a real spectrum."""
    a = asarray(a)
    length = (a.shape[axis] - 1) * 2 if n is None else n
    out = _one_axis("hfft", "IRFFT", lax.conj(a) if np.dtype(a.dtype).kind == "c" else a, n, axis, norm)
    return out * np.asarray(length, out.dtype)


def ihfft(a, n=None, axis=-1, norm=None):
    a = asarray(a)
    length = a.shape[axis] if n is None else n
    out = _one_axis("ihfft", "RFFT", a, n, axis, norm)
    return lax.conj(out) * np.asarray(1 / length, out.dtype)


def fftn(a, s=None, axes=None, norm=None):
    return _fft_core("fftn", "FFT", a, s, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
    return _fft_core("ifftn", "IFFT", a, s, axes, norm)


def rfftn(a, s=None, axes=None, norm=None):
    return _fft_core("rfftn", "RFFT", a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    return _fft_core("irfftn", "IRFFT", a, s, axes, norm)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("fft2", "FFT", a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("ifft2", "IFFT", a, s, axes, norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("rfft2", "RFFT", a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    return _fft_core("irfft2", "IRFFT", a, s, axes, norm)


def _default_float():
    from kiln.runtime import dtypes
    return dtypes.default_float_dtype()


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """The sample frequencies of an n-point FFT: [0, 1, ..., -1] / (d n)."""
    n = operator.index(n)
    dtype = dtype or _default_float()
    k = arange(n, dtype=np.int32)
    k = k - (k >= (n + 1) // 2) * n
    return k.astype(dtype) / np.asarray(d * n, dtype)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """The non-negative sample frequencies of an n-point RFFT."""
    n = operator.index(n)
    dtype = dtype or _default_float()
    return arange(n // 2 + 1, dtype=dtype) / np.asarray(d * n, dtype)


def fftshift(x, axes=None):
    """x with the zero frequency moved to the centre."""
    x = asarray(x)
    axes = tuple(range(x.ndim)) if axes is None else (axes,) if isinstance(axes, int) else tuple(axes)
    return roll(x, tuple(x.shape[a] // 2 for a in axes), axes)


def ifftshift(x, axes=None):
    """The inverse of fftshift."""
    x = asarray(x)
    axes = tuple(range(x.ndim)) if axes is None else (axes,) if isinstance(axes, int) else tuple(axes)
    return roll(x, tuple(-(x.shape[a] // 2) for a in axes), axes)
