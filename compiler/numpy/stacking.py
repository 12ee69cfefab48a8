"""More structural functions of kiln.numpy: block, dstack, atleast_3d, the h/v/dsplits,
unstack, rot90, diag and diagflat (JAX's constructions, from slices, pads and concatenation)."""
from __future__ import annotations

import operator

import numpy as np

from kiln import lax
from kiln.numpy.core import asarray, canonical_axis, cast, reshape_to, where
from kiln.numpy.shapes import concatenate, diagonal, flip, ravel, split, transpose


def atleast_3d(*arys):
    out = []
    for a in arys:
        a = asarray(a)
        if a.ndim == 0:
            a = reshape_to(a, (1, 1, 1))
        elif a.ndim == 1:
            a = reshape_to(a, (1,) + a.shape + (1,))
        elif a.ndim == 2:
            a = reshape_to(a, a.shape + (1,))
        out.append(a)
    return out[0] if len(out) == 1 else out


def dstack(tup, dtype=None):
    if hasattr(tup, "shape"):  # an array: its leading axis lists the pieces
        tup = [tup[i] for i in range(asarray(tup).shape[0])]
    return concatenate([atleast_3d(a) for a in tup], axis=2, dtype=dtype)


def _atleast_nd(x, n):
    x = asarray(x)
    return reshape_to(x, (1,) * (n - x.ndim) + x.shape) if x.ndim < n else x


def _block(xs):
    if isinstance(xs, tuple):
        raise ValueError(f"jax.numpy.block does not allow tuples, got {xs}")
    if isinstance(xs, list):
        if not xs:
            raise ValueError("jax.numpy.block does not allow empty list arguments")
        parts, depths = zip(*[_block(x) for x in xs])
        if any(d != depths[0] for d in depths[1:]):
            raise ValueError("Mismatched list depths in jax.numpy.block")
        rank = max(depths[0], max(p.ndim for p in parts))
        return concatenate([_atleast_nd(p, rank) for p in parts], axis=-depths[0]), depths[0] + 1
    return asarray(xs), 1


def block(arrays):
    return _block(arrays)[0]


def _split(op, ary, indices_or_sections, axis):
    ary = asarray(ary)
    axis = canonical_axis(axis, ary.ndim)
    if isinstance(indices_or_sections, (tuple, list)) or np.ndim(indices_or_sections) > 0:
        return split(ary, [int(i) for i in indices_or_sections], axis)
    sections = int(indices_or_sections)
    part, rest = divmod(ary.shape[axis], sections)
    if rest:
        raise ValueError(f"array split does not result in an equal division: rest is {rest}")
    return split(ary, sections, axis)


def vsplit(ary, indices_or_sections):
    return _split("vsplit", ary, indices_or_sections, 0)


def hsplit(ary, indices_or_sections):
    ary = asarray(ary)
    return _split("hsplit", ary, indices_or_sections, 0 if ary.ndim == 1 else 1)


def dsplit(ary, indices_or_sections):
    return _split("dsplit", ary, indices_or_sections, 2)


def unstack(x, /, *, axis=0):
    x = asarray(x)
    if x.ndim == 0:
        raise ValueError("Unstack requires arrays with rank > 0, however a scalar array was passed.")
    axis = canonical_axis(axis, x.ndim)
    index = [slice(None)] * x.ndim
    out = []
    for i in range(x.shape[axis]):
        index[axis] = i
        out.append(x[tuple(index)])
    return tuple(out)


def rot90(m, k=1, axes=(0, 1)):
    m = asarray(m)
    if m.ndim < 2:
        raise ValueError("rot90 requires its first argument to have ndim at least two, but got first "
                         f"argument of shape {m.shape}, which has ndim {m.ndim}")
    ax1, ax2 = canonical_axis(axes[0], m.ndim), canonical_axis(axes[1], m.ndim)
    if ax1 == ax2:
        raise ValueError("Axes must be different")
    k = operator.index(k) % 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, ax1), ax2)
    perm = list(range(m.ndim))
    perm[ax1], perm[ax2] = perm[ax2], perm[ax1]
    return transpose(flip(m, ax2), perm) if k == 1 else flip(transpose(m, perm), ax2)


def diag(v, k=0):
    v = asarray(v)
    k = operator.index(k)
    if v.ndim == 1:
        from kiln.numpy.creation import eye
        n = v.shape[0] + abs(k)
        zero = cast(0, v.dtype, v.weak_type)
        v = lax.pad(v, zero, ((max(0, -k), max(0, k), 0),))
        return where(eye(n, k=k, dtype=bool), v[:, None], zero)
    if v.ndim == 2:
        return diagonal(v, offset=k)
    raise ValueError("diag input must be 1d or 2d")


def diagflat(v, k=0):
    from kiln.numpy.creation import arange, zeros
    v = ravel(v)
    k = operator.index(k)
    n = v.shape[0] + abs(k)
    i = arange(0, n - abs(k))
    flat_index = i + k + i * n if k >= 0 else i + (i - k) * n
    return reshape_to(zeros(n * n, dtype=v.dtype).at[flat_index].set(v), (n, n))


__all__ = ["atleast_3d", "dstack", "block", "vsplit", "hsplit", "dsplit", "unstack", "rot90", "diag",
           "diagflat"]
