"""The fast Fourier transform primitive (`kiln.lax.fft`, as `jax.lax.fft`).

fft_p(x, fft_type, fft_lengths) transforms the trailing len(fft_lengths) axes of x (at most
three), the leading axes being batch axes:
- "FFT" / "IFFT": complex -> complex of the same shape, unnormalized forward / normalized
  (1/n) inverse transform;
- "RFFT": real -> complex, the last axis n -> n//2 + 1 (the non-negative frequencies);
- "IRFFT": complex -> real, the inverse of RFFT, the last axis -> fft_lengths[-1].
The reference implementation is NumPy's pocketfft (float32 stays float32; XLA:CPU's ducc FFT
can differ from it in the last bits). The LLVM backend calls it back (`host_call.py`).

Derivatives: the transform is linear, so its jvp transforms the tangent. Its transposes are
JAX's: FFT and IFFT are symmetric (their own transposes); RFFT's is the transpose of "embed
as complex, FFT, keep the first n//2 + 1", i.e. zero-pad, FFT, real part; IRFFT's is an RFFT
with the de-duplicated (Hermitian) frequencies counted twice, scaled by 1/n and conjugated
(JAX's convention for complex cotangents).
"""
from __future__ import annotations

import math

import numpy as np

from kiln.ir import ShapedArray
from kiln.primitives import (aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules,
                             vmap_rules)
from kiln.runtime import dtypes

__all__ = ["FftType", "fft", "fft_p"]


class FftType:
    FFT = "FFT"
    IFFT = "IFFT"
    RFFT = "RFFT"
    IRFFT = "IRFFT"


_TYPES = ("FFT", "IFFT", "RFFT", "IRFFT")
_COMPLEX = {np.dtype(np.float32): np.dtype(np.complex64), np.dtype(np.float64): np.dtype(np.complex128)}
_REAL = {c: r for r, c in _COMPLEX.items()}

fft_p = primitive("fft")


def _fft_shape(x, *, fft_type, fft_lengths):
    k = len(fft_lengths)
    if not 1 <= k <= 3 or x.ndim < k:
        raise TypeError(f"kiln.lax.fft transforms 1 to 3 trailing axes, got fft_lengths {fft_lengths} for "
                        f"{x.str_short()}")
    dtype = np.dtype(x.dtype)
    if fft_type == "RFFT":
        if dtype not in _COMPLEX:
            raise TypeError(f"kiln.lax.fft: RFFT takes float32 or float64, got {x.str_short()}")
        if tuple(x.shape[-k:]) != tuple(fft_lengths):
            raise TypeError(f"kiln.lax.fft: RFFT of {x.str_short()} needs fft_lengths {x.shape[-k:]}")
        return [ShapedArray((*x.shape[:-1], fft_lengths[-1] // 2 + 1), _COMPLEX[dtype], False)]
    if dtype not in _REAL:
        raise TypeError(f"kiln.lax.fft: {fft_type} takes complex64 or complex128, got {x.str_short()}")
    if fft_type == "IRFFT":
        expected = (*fft_lengths[:-1], fft_lengths[-1] // 2 + 1)
        if tuple(x.shape[-k:]) != expected:
            raise TypeError(f"kiln.lax.fft: IRFFT to lengths {fft_lengths} needs trailing axes {expected}, "
                            f"got {x.str_short()}")
        return [ShapedArray((*x.shape[:-1], fft_lengths[-1]), _REAL[dtype], False)]
    if tuple(x.shape[-k:]) != tuple(fft_lengths):
        raise TypeError(f"kiln.lax.fft: {fft_type} of {x.str_short()} needs fft_lengths {x.shape[-k:]}")
    return [ShapedArray(x.shape, dtype, False)]


def _fft_impl(x, *, fft_type, fft_lengths):
    out = _fft_shape(ShapedArray(x.shape, x.dtype), fft_type=fft_type, fft_lengths=fft_lengths)[0]
    if math.prod(out.shape) == 0 or x.size == 0:
        return [np.zeros(out.shape, out.dtype)]
    axes = tuple(range(x.ndim - len(fft_lengths), x.ndim))
    transform = {"FFT": np.fft.fftn, "IFFT": np.fft.ifftn, "RFFT": np.fft.rfftn, "IRFFT": np.fft.irfftn}[fft_type]
    return [np.asarray(transform(x, s=fft_lengths, axes=axes)).astype(out.dtype)]


def _fft_vmap(args, dims, *, fft_type, fft_lengths):
    from kiln.passes.vmap import move_to_front
    (x,), (d,) = args, dims
    return [bind(fft_p, move_to_front(x, d), fft_type=fft_type, fft_lengths=fft_lengths)], [0]


def _fft_jvp(primals, tangents, *, fft_type, fft_lengths):
    (x,), (t,) = primals, tangents
    y = bind(fft_p, x, fft_type=fft_type, fft_lengths=fft_lengths)
    return [y], [None if t is None else bind(fft_p, t, fft_type=fft_type, fft_lengths=fft_lengths)]


def _fft_transpose(ct, x, *, fft_type, fft_lengths):
    if ct is None:
        return [None]
    import kiln.numpy as knp
    from kiln import lax
    if fft_type == "RFFT":
        n = fft_lengths[-1]
        padded = lax.pad(ct, np.zeros((), aval_of(ct).dtype), [(0, 0, 0)] * (len(aval_of(ct).shape) - 1)
                         + [(0, n - (n // 2 + 1), 0)])
        return [knp.real(bind(fft_p, padded, fft_type="FFT", fft_lengths=fft_lengths))]
    if fft_type == "IRFFT":
        y = bind(fft_p, ct, fft_type="RFFT", fft_lengths=fft_lengths)
        m = aval_of(y).shape[-1]
        odd = fft_lengths[-1] % 2
        mask = np.concatenate([[1.0], np.full(m - 2 + odd, 2.0), np.ones(1 - odd)]).astype(aval_of(y).dtype)
        return [knp.conj(y * (mask / math.prod(fft_lengths)).astype(aval_of(y).dtype))]
    return [bind(fft_p, ct, fft_type=fft_type, fft_lengths=fft_lengths)]


shape_rules[fft_p] = _fft_shape
impl_rules[fft_p] = _fft_impl
vmap_rules[fft_p] = _fft_vmap
jvp_rules[fft_p] = _fft_jvp
transpose_rules[fft_p] = _fft_transpose


def fft(x, fft_type, fft_lengths):
    """The FFT of type `fft_type` ("FFT", "IFFT", "RFFT", "IRFFT" or an FftType attribute)
    over the trailing len(fft_lengths) axes of x, converting x as JAX does (to complex, or to
    an inexact real type for RFFT)."""
    import kiln.numpy as knp
    fft_type = getattr(fft_type, "name", fft_type)
    if fft_type not in _TYPES:
        raise ValueError(f"kiln.lax.fft: unknown fft_type {fft_type!r} (one of {', '.join(_TYPES)})")
    x = knp.asarray(x)
    if fft_type == "RFFT":
        if np.dtype(x.dtype).kind == "c":
            raise ValueError("only real valued inputs supported for rfft")
        dtype = np.dtype(dtypes.to_inexact_dtype(x.dtype))
        x = x.astype(dtype if dtype in _COMPLEX else np.dtype(np.float32))
    else:
        dtype = np.dtype(dtypes.to_inexact_dtype(x.dtype))
        x = x.astype(dtype if dtype.kind == "c" else _COMPLEX.get(dtype, np.dtype(np.complex64)))
    return bind(fft_p, x, fft_type=fft_type, fft_lengths=tuple(int(n) for n in fft_lengths))
