"""Convolutions and windowed reductions (`kiln.lax.conv_general_dilated`, `reduce_window`, ...),
built from primitives kiln already has, so every transform and backend handles them.

A convolution is computed as JAX defines it, in three steps:
1. the input is laid out channels last and padded, with `lhs_dilation - 1` zeros between its
   elements (`pad`);
2. for each offset of the (dilated) kernel window, a strided `slice` of the padded input gives
   that offset's inputs for every output position; the slices are stacked ("im2col") into a
   matrix of a row per output position and a column per (window offset, input feature);
3. one `dot_general` multiplies it by the kernel as an (offsets x features, output features)
   matrix (feature groups are a batch dimension of it), a plain matrix product that the LLVM
   backend hands to BLAS.
Derivatives and batching follow from those of pad, slice and dot_general: the transposed
convolutions JAX writes by hand (for the input and the kernel gradients) come out of the
transpose rules of slice (a pad) and dot_general. The stacked inputs take `window size` times
the input's memory.

`reduce_window` pads with the initial value and folds the window's strided slices with the
given computation (`lax.add`, `lax.max`, ...), elementwise.

Dimension numbers are JAX's: strings such as ("NHWC", "HWIO", "NHWC") or a
`ConvDimensionNumbers` of axis indices (batch, feature, spatial...) for the input and output
and (output feature, input feature, spatial...) for the kernel.
"""
from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from kiln.primitives import aval_of

__all__ = ["ConvDimensionNumbers", "conv", "conv_dimension_numbers", "conv_general_dilated", "conv_transpose",
           "conv_with_general_padding", "padtype_to_pads", "reduce_window"]


class ConvDimensionNumbers(NamedTuple):
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def _lax():
    import kiln.lax as lax
    return lax


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """Dimension numbers as axis indices, from None (NC..., OI..., NC...), strings or indices."""
    ndim = len(lhs_shape)
    if len(rhs_shape) != ndim:
        raise TypeError(f"convolution needs an input and a kernel of one rank, got shapes {lhs_shape} and {rhs_shape}")
    if dimension_numbers is None:
        default = tuple(range(ndim))
        return ConvDimensionNumbers(default, default, default)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    if len(dimension_numbers) != 3:
        raise TypeError(f"convolution dimension_numbers must have three parts, got {dimension_numbers!r}")
    if all(isinstance(s, str) for s in dimension_numbers):
        return ConvDimensionNumbers(*_permutations(dimension_numbers, ndim))
    return ConvDimensionNumbers(*(tuple(int(i) for i in spec) for spec in dimension_numbers))


def _permutations(specs, ndim):
    lhs, rhs, out = specs
    pairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for spec, (a, b) in zip(specs, pairs):
        if len(spec) != ndim or spec.count(a) != 1 or spec.count(b) != 1 or len(set(spec)) != len(spec):
            raise TypeError(f"convolution dimension_numbers {specs!r} do not fit arrays of rank {ndim}")
    if not set(lhs) - {"N", "C"} == set(rhs) - {"O", "I"} == set(out) - {"N", "C"}:
        raise TypeError(f"convolution dimension_numbers {specs!r} name different spatial axes")

    def permutation(spec, pair):
        spatial = [i for i, c in enumerate(spec) if c not in pair]
        if spec is not rhs:  # spatial axes in the kernel's order
            spatial.sort(key=lambda i: rhs.index(spec[i]))
        return (spec.index(pair[0]), spec.index(pair[1]), *spatial)
    return [permutation(spec, pair) for spec, pair in zip(specs, pairs)]


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """(low, high) padding per spatial axis for "SAME", "SAME_LOWER" or "VALID", as JAX computes it."""
    if not isinstance(padding, str):
        return [tuple(int(p) for p in pair) for pair in padding]
    kind = padding.upper()
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    if kind in ("SAME", "SAME_LOWER"):
        pads = []
        for size, window, stride in zip(in_shape, window_shape, window_strides):
            total = max((math.ceil(size / stride) - 1) * stride + window - size, 0)
            small, large = total // 2, total - total // 2
            pads.append((small, large) if kind == "SAME" else (large, small))
        return pads
    raise ValueError(f"Unknown padding type: {padding}.")


def _dilate(size, dilation):
    return 0 if size == 0 else 1 + dilation * (size - 1)


def _windows(x, window, strides, dilation, out_shape, first=0):
    """For each window offset (row-major), the strided slice of x whose axes first,
    first + 1, ... are the windowed ones, giving that offset's element for every output
    position (those axes become `out_shape`)."""
    lax = _lax()
    shape = aval_of(x).shape
    slices = []
    for offset in itertools.product(*(range(k) for k in window)):
        starts, limits, steps = [0] * len(shape), list(shape), [1] * len(shape)
        for axis, o, d, n, st in zip(range(first, first + len(window)), offset, dilation, out_shape, strides):
            starts[axis] = o * d
            limits[axis] = starts[axis] + (n - 1) * st + 1 if n else starts[axis]
            steps[axis] = st
        slices.append(lax.slice(x, starts, limits, steps))
    return slices


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1, precision=None,
                         preferred_element_type=None):
    """The general convolution of JAX's `lax.conv_general_dilated` (see the module docstring)."""
    lax = _lax()
    import kiln.numpy as knp
    lhs, rhs = knp.asarray(lhs), knp.asarray(rhs)
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"conv_general_dilated needs an input and a kernel of one dtype, got {lhs.dtype} and {rhs.dtype}")
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nspatial = lhs.ndim - 2
    lhs_dilation = tuple(lhs_dilation or (1,) * nspatial)
    rhs_dilation = tuple(rhs_dilation or (1,) * nspatial)
    strides = tuple(window_strides)
    if not len(strides) == len(lhs_dilation) == len(rhs_dilation) == nspatial:
        raise ValueError(f"conv_general_dilated: strides and dilations need {nspatial} entries each")
    if batch_group_count != 1:
        raise NotImplementedError("kiln: conv_general_dilated with batch_group_count > 1 is not supported yet")
    # channels last: (N, *spatial, C), and the kernel as (O, I, *window)
    x = lax.transpose(lhs, (dn.lhs_spec[0], *dn.lhs_spec[2:], dn.lhs_spec[1]))
    k = lax.transpose(rhs, dn.rhs_spec)
    n, c = x.shape[0], x.shape[-1]
    o, i = k.shape[:2]
    window = k.shape[2:]
    groups = int(feature_group_count)
    if c != i * groups or o % groups:
        raise TypeError(f"conv_general_dilated: {c} input features and a kernel of shape {rhs.shape} do not fit "
                        f"feature_group_count={groups}")
    if isinstance(padding, str):
        padding = padtype_to_pads(x.shape[1:-1], [_dilate(w, d) for w, d in zip(window, rhs_dilation)], strides,
                                  padding)
    if len(padding) != nspatial:
        raise ValueError(f"conv_general_dilated: padding needs {nspatial} (low, high) pairs, got {padding!r}")
    zero = np.zeros((), x.dtype)
    x = lax.pad(x, zero, [(0, 0, 0)] + [(lo, hi, d - 1) for (lo, hi), d in zip(padding, lhs_dilation)] + [(0, 0, 0)])
    out_shape = tuple(max(0, (size - _dilate(w, d)) // s + 1)
                      for size, w, d, s in zip(x.shape[1:-1], window, rhs_dilation, strides))
    count, rows = math.prod(window), n * math.prod(out_shape)
    # im2col: a row per output position (N, *out), a column per (window offset, input
    # feature), so one matrix product per feature group
    pieces = _windows(x, window, strides, rhs_dilation, out_shape, first=1)
    patches = lax.concatenate(pieces, len(pieces[0].shape) - 1)  # (N, *out, W * C): C-long runs
    kernel = lax.transpose(k.reshape((o, i, count)), (0, 2, 1))  # (O, W, I)
    if groups == 1:
        out = lax.dot_general(patches.reshape((rows, count * c)), kernel.reshape((o, count * i)),
                              (((1,), (1,)), ((), ())), preferred_element_type=preferred_element_type)
    else:
        patches = lax.transpose(patches.reshape((rows, count, groups, i)), (2, 0, 1, 3))  # (G, rows, W, I)
        kernel = kernel.reshape((groups, o // groups, count * i))
        out = lax.dot_general(patches.reshape((groups, rows, count * i)), kernel, (((2,), (2,)), ((0,), (0,))),
                              preferred_element_type=preferred_element_type)  # (G, rows, O/G)
        out = lax.transpose(out, (1, 0, 2))
    out = out.reshape((n, *out_shape, o))
    # (N, *out, O) -> the output layout
    order = (0, 1 + nspatial, *range(1, 1 + nspatial))  # as (N, O, *spatial)
    return lax.transpose(out, tuple(order[a] for a in np.argsort(dn.out_spec)))


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """Convolution with NC... input, OI... kernel and NC... output."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, precision=None,
                              preferred_element_type=None):
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                precision=precision, preferred_element_type=preferred_element_type)


def _conv_transpose_padding(k, s, padding):
    if padding == "SAME":
        total = k + s - 2
        low = k - 1 if s > k - 1 else math.ceil(total / 2)
    elif padding == "VALID":
        total = k + s - 2 + max(k - s, 0)
        low = k - 1
    else:
        raise ValueError(f"Padding mode must be `SAME` or `VALID`, got {padding!r}")
    return low, total - low


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None, transpose_kernel=False,
                   precision=None, preferred_element_type=None):
    """The transposed convolution of JAX's `lax.conv_transpose` (a convolution of the input
    dilated by the strides)."""
    import kiln.numpy as knp
    lhs, rhs = knp.asarray(lhs), knp.asarray(rhs)
    ndim = lhs.ndim
    if dimension_numbers is None:
        dimension_numbers = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"),
                             5: ("NHWDC", "HWDIO", "NHWDC")}[ndim]
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    window = [rhs.shape[a] for a in dn.rhs_spec[2:]]
    if isinstance(padding, str):
        dilation = rhs_dilation or (1,) * (ndim - 2)
        padding = [_conv_transpose_padding(_dilate(k, d), s, padding) for k, d, s in zip(window, dilation, strides)]
    if transpose_kernel:
        rhs = knp.flip(rhs, tuple(dn.rhs_spec[2:]))
        rhs = knp.swapaxes(rhs, dn.rhs_spec[0], dn.rhs_spec[1])
    return conv_general_dilated(lhs, rhs, (1,) * (ndim - 2), padding, strides, rhs_dilation, dn,
                                precision=precision, preferred_element_type=preferred_element_type)


def reduce_window(operand, init_value, computation, window_dimensions, window_strides, padding,
                  base_dilation=None, window_dilation=None):
    """Reduce each window of `operand` with the binary `computation` (lax.add, lax.max, ...),
    starting from `init_value`, as JAX's `lax.reduce_window` (one operand)."""
    lax = _lax()
    import kiln.numpy as knp
    if isinstance(operand, (list, tuple)):
        raise NotImplementedError("kiln: reduce_window over several operands is not supported yet")
    x = knp.asarray(operand)
    ndim = x.ndim
    window = tuple(int(w) for w in window_dimensions)
    strides = tuple(int(s) for s in window_strides)
    base_dilation = tuple(base_dilation or (1,) * ndim)
    window_dilation = tuple(window_dilation or (1,) * ndim)
    if not len(window) == len(strides) == len(base_dilation) == len(window_dilation) == ndim:
        raise ValueError(f"reduce_window: window dimensions, strides and dilations need {ndim} entries each")
    if isinstance(padding, str):
        padding = padtype_to_pads([_dilate(n, d) for n, d in zip(x.shape, base_dilation)],
                                  [_dilate(w, d) for w, d in zip(window, window_dilation)], strides, padding)
    init = knp.asarray(init_value, x.dtype)
    x = lax.pad(x, init, [(lo, hi, d - 1) for (lo, hi), d in zip(padding, base_dilation)])
    out_shape = tuple(max(0, (size - _dilate(w, d)) // s + 1)
                      for size, w, d, s in zip(x.shape, window, window_dilation, strides))
    result = knp.broadcast_to(init, out_shape)
    for piece in _windows(x, window, strides, window_dilation, out_shape, first=0):
        result = computation(result, piece)
    return result
