"""Contractions of kiln.numpy (dot, matmul, einsum, ...) as `dot_general` equations."""
from __future__ import annotations

import string

import numpy as np

from kiln import lax
from kiln.numpy.core import asarray, broadcast_shapes, broadcast_to, canonical_axis, promote, reshape_to
from kiln.numpy import math as m
from kiln.numpy.shapes import diagonal, moveaxis, transpose


def _dot_general(a, b, dimension_numbers):
    # As jnp does, accumulate in the operands' (promoted) dtype and say so explicitly.
    return lax.dot_general(a, b, dimension_numbers, preferred_element_type=a.dtype)


def dot(a, b, *, precision=None, preferred_element_type=None):
    a, b = promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return m.multiply(a, b)
    b_axis = 0 if b.ndim == 1 else b.ndim - 2
    return _dot_general(a, b, (((a.ndim - 1,), (b_axis,)), ((), ())))


def matmul(a, b, *, precision=None, preferred_element_type=None):
    a, b = promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must be at least 1-dimensional")
    a2 = reshape_to(a, (1,) + a.shape) if a.ndim == 1 else a
    b2 = reshape_to(b, b.shape + (1,)) if b.ndim == 1 else b
    batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2 = broadcast_to(a2, batch + a2.shape[-2:])
    b2 = broadcast_to(b2, batch + b2.shape[-2:])
    if a2.shape[-1] != b2.shape[-2]:
        raise TypeError("dot_general requires contracting dimensions to have the same shape, got "
                        f"{a2.shape[-1:]} and {b2.shape[-2:-1]}.")
    nb = len(batch)
    out = _dot_general(a2, b2, (((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb)))))
    if a.ndim == 1:
        out = reshape_to(out, out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        out = reshape_to(out, out.shape[:-1])
    return out


def vdot(a, b, *, precision=None, preferred_element_type=None):
    a, b = asarray(a), asarray(b)
    return dot(m.conj(reshape_to(a, (a.size,))), reshape_to(b, (b.size,)))


def vecdot(x1, x2, /, *, axis=-1):
    x1, x2 = promote(x1, x2)
    return einsum("...i,...i->...", moveaxis(m.conj(x1), axis, -1), moveaxis(x2, axis, -1))


def inner(a, b):
    a, b = promote(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return m.multiply(a, b)
    return _dot_general(a, b, (((a.ndim - 1,), (b.ndim - 1,)), ((), ())))


def outer(a, b):
    a, b = promote(a, b)
    return m.multiply(reshape_to(a, (a.size, 1)), reshape_to(b, (1, b.size)))


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    a, b = promote(a, b)
    if isinstance(axes, (int, np.integer)):
        axes = (tuple(range(a.ndim - axes, a.ndim)), tuple(range(int(axes))))
    a_axes, b_axes = axes
    a_axes = (a_axes,) if isinstance(a_axes, (int, np.integer)) else tuple(a_axes)
    b_axes = (b_axes,) if isinstance(b_axes, (int, np.integer)) else tuple(b_axes)
    a_axes = tuple(canonical_axis(x, a.ndim) for x in a_axes)
    b_axes = tuple(canonical_axis(x, b.ndim) for x in b_axes)
    return _dot_general(a, b, ((a_axes, b_axes), ((), ())))


def kron(a, b):
    a, b = promote(a, b)
    nd = max(a.ndim, b.ndim)
    a = reshape_to(a, (1,) * (nd - a.ndim) + a.shape)
    b = reshape_to(b, (1,) * (nd - b.ndim) + b.shape)
    prod = m.multiply(reshape_to(a, tuple(x for d in a.shape for x in (d, 1))),
                      reshape_to(b, tuple(x for d in b.shape for x in (1, d))))
    return reshape_to(prod, tuple(x * y for x, y in zip(a.shape, b.shape)))


# ---------------------------------------------------------------------------- einsum

def _parse_einsum(subscripts, operands):
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:
        inputs, output = subscripts, None
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(operands)} operands")
    used = set(subscripts) - set(",->.")
    spare = iter(c for c in string.ascii_letters if c not in used)
    ell_ndim = max((op.ndim - len(t.replace("...", "")) for t, op in zip(terms, operands) if "..." in t),
                   default=0)
    ell = "".join(next(spare) for _ in range(ell_ndim))
    expanded = []
    for t, op in zip(terms, operands):
        if "..." in t:
            n = op.ndim - len(t.replace("...", ""))
            t = t.replace("...", ell[ell_ndim - n:] if n else "")
        if len(t) != op.ndim:
            raise ValueError(f"einsum: subscripts {t!r} do not match an operand of rank {op.ndim}")
        expanded.append(t)
    if output is None:
        counts = {}
        for t in expanded:
            for c in t:
                counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    else:
        output = output.replace("...", ell)
    return expanded, output


def _take_diagonals(x, labels):
    while len(set(labels)) != len(labels):
        c = next(c for c in labels if labels.count(c) > 1)
        i = labels.index(c)
        j = labels.index(c, i + 1)
        x = diagonal(x, 0, i, j)
        labels = "".join(l for k, l in enumerate(labels) if k not in (i, j)) + c
    return x, labels


def _sum_out(x, labels, keep):
    axes = tuple(i for i, c in enumerate(labels) if c not in keep)
    if axes:
        x = lax.reduce_sum(x, axes)
        labels = "".join(c for c in labels if c in keep)
    return x, labels


def einsum(subscripts, *operands, optimize=None, precision=None, preferred_element_type=None, out=None):
    operands = promote(*operands)
    terms, output = _parse_einsum(subscripts, operands)
    # Sizes per label, broadcasting size-1 dimensions.
    sizes = {}
    for t, op in zip(terms, operands):
        for c, d in zip(t, op.shape):
            sizes[c] = d if sizes.get(c, 1) == 1 else sizes[c]
    pending = []
    for t, op in zip(terms, operands):
        op, t = _take_diagonals(op, t)
        target = tuple(sizes[c] for c in t)
        if op.shape != target:
            op = broadcast_to(op, target)
        pending.append((op, t))
    x, labels = pending[0]
    for i, (y, ylabels) in enumerate(pending[1:], start=1):
        later = set(output).union(*(set(l) for _, l in pending[i + 1:]))
        x, labels = _sum_out(x, labels, later | set(ylabels))
        y, ylabels = _sum_out(y, ylabels, later | set(labels))
        shared = [c for c in labels if c in ylabels]
        batch = [c for c in shared if c in later]
        contract = [c for c in shared if c not in later]
        x = _dot_general(x, y, ((tuple(labels.index(c) for c in contract), tuple(ylabels.index(c) for c in contract)),
                                   (tuple(labels.index(c) for c in batch), tuple(ylabels.index(c) for c in batch))))
        labels = ("".join(batch) + "".join(c for c in labels if c not in shared)
                  + "".join(c for c in ylabels if c not in shared))
    x, labels = _sum_out(x, labels, set(output))
    if labels != output:
        x = transpose(x, tuple(labels.index(c) for c in output))
    return x


def _convolve_1d(x, y, mode, name, precision=None, preferred_element_type=None):
    """1-d convolution or correlation as a `conv_general_dilated`, as jnp computes it."""
    from kiln.numpy.core import promote_inexact
    from kiln.numpy.shapes import flip
    x, y = asarray(x), asarray(y)
    if x.ndim != 1 or y.ndim != 1:
        raise ValueError(f"{name}() only supports 1-dimensional inputs.")
    if preferred_element_type is None:
        x, y = promote_inexact(x, y)
    if x.shape[0] == 0 or y.shape[0] == 0:
        raise ValueError(f"{name}: inputs cannot be empty, got shapes {x.shape} and {y.shape}.")
    reverse = False
    if name == "correlate":
        y = m.conj(y)
        if x.shape[0] < y.shape[0]:
            x, y, reverse = y, x, True
    else:
        if x.shape[0] < y.shape[0]:
            x, y = y, x
        y = flip(y)
    n = y.shape[0]
    pads = {"valid": (0, 0), "same": (n // 2, n - n // 2 - 1), "full": (n - 1, n - 1)}
    if mode not in pads:
        raise ValueError("mode must be one of ['full', 'same', 'valid']")
    out = lax.conv_general_dilated(x[None, None, :], y[None, None, :], (1,), [pads[mode]],
                                   preferred_element_type=preferred_element_type)[0, 0]
    return out[::-1] if reverse else out


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """The discrete 1-d convolution of a and v."""
    return _convolve_1d(a, v, mode, "convolve", precision, preferred_element_type)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """The 1-d cross-correlation of a and v."""
    return _convolve_1d(a, v, mode, "correlate", precision, preferred_element_type)
