"""kiln.numpy.pad: every NumPy mode, built from lax.pad, slices and concatenation as JAX's.

Widths are static (Python ints, or concrete arrays); values (constant_values, end_values)
may be arrays being compiled.
"""
from __future__ import annotations

import builtins
import operator

import numpy as np

from kiln import lax
from kiln.numpy import math as m
from kiln.numpy.core import asarray, broadcast_to, cast, is_array
from kiln.numpy.shapes import _axis_slice, flip, repeat, squeeze
from kiln.staging import Staged


def _broadcast_to_pairs(nvals, nd: int, name: str):
    if isinstance(nvals, Staged) or (isinstance(nvals, (list, tuple)) and any(
            isinstance(v, Staged) for v in _leaves(nvals))):
        from kiln.errors import ConcretizationTypeError
        from kiln.staging import user_location
        raise ConcretizationTypeError(f"the {name} argument of jnp.pad must be static (concrete), "
                                      "not an array value being compiled", user_location())
    try:
        nvals = np.asarray(nvals if not is_array(nvals) else np.asarray(nvals))
    except ValueError as e:
        raise TypeError(f"`{name}` entries must be the same shape: {nvals}") from e
    if nvals.dtype == object:
        raise TypeError(f"`{name}` entries must be the same shape: {nvals}")
    if nvals.shape == (nd, 2):
        return tuple((v[0], v[1]) for v in nvals)
    if nvals.shape == (1, 2):
        return ((nvals[0, 0], nvals[0, 1]),) * nd
    if nvals.shape == (2,):
        return ((nvals[0], nvals[1]),) * nd
    if nvals.shape in ((1,), ()):
        v = nvals.flat[0]
        return ((v, v),) * nd
    raise ValueError(f"jnp.pad: {name} with nd={nd} has unsupported shape {nvals.shape}. "
                     f"Valid shapes are ({nd}, 2), (1, 2), (2,), (1,), or ().")


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


def _check_no_padding(axis_padding, mode):
    if axis_padding[0] > 0 or axis_padding[1] > 0:
        raise ValueError(f"Cannot apply '{mode}' padding to empty axis")


def _pad_constant(array, pad_width, constant_values):
    nd = array.ndim
    constant_values = cast(constant_values, array.dtype, array.weak_type)
    if constant_values.ndim == 0 or constant_values.shape == (1,):
        return lax.pad(array, squeeze(constant_values), [(lo, hi, 0) for lo, hi in pad_width])
    if constant_values.ndim == 1 and constant_values.shape[-1] != 2:
        raise ValueError(f"jnp.pad: constant_values has unsupported shape {constant_values.shape}. If the "
                         "shape is 1D or 2D, the last dimension must be of size 1 or 2.")
    constant_values = broadcast_to(constant_values, (nd, 2))
    for i in range(nd):
        for side in (0, 1):
            if pad_width[i][side]:
                widths = [(0, 0, 0)] * nd
                widths[i] = (pad_width[i][0], 0, 0) if side == 0 else (0, pad_width[i][1], 0)
                array = lax.pad(array, constant_values[i, side], widths)
    return array


def _pad_wrap(array, pad_width):
    for i in range(array.ndim):
        size = array.shape[i]
        if size == 0:
            _check_no_padding(pad_width[i], "wrap")
            continue
        left_repeats, left_rem = divmod(pad_width[i][0], size)
        right_repeats, right_rem = divmod(pad_width[i][1], size)
        parts = [_axis_slice(array, i, size - left_rem, size)] if left_rem else []
        parts += [array] * (left_repeats + right_repeats + 1)
        parts += [_axis_slice(array, i, 0, right_rem)] if right_rem else []
        array = lax.concatenate(parts, i) if len(parts) > 1 else array
    return array


def _pad_symmetric_or_reflect(array, pad_width, mode, reflect_type):
    for i in range(array.ndim):
        size = array.shape[i]
        if size == 0:
            _check_no_padding(pad_width[i], mode)
            continue
        offset = 1 if (mode == "reflect" and size > 1) else 0
        for before, padding in ((True, pad_width[i][0]), (False, pad_width[i][1])):
            n = array.shape[i]
            edge = _axis_slice(array, i, 0, 1) if before else _axis_slice(array, i, n - 1, n)
            while padding > 0:
                n = array.shape[i]
                step = builtins.min(padding, size - offset)
                padding -= step
                if before:
                    x = _axis_slice(array, i, offset, offset + step)
                else:
                    stop = n if (mode == "symmetric" or size == 1) else n - 1
                    x = _axis_slice(array, i, stop - step, stop)
                x = flip(x, i)
                if reflect_type == "odd":
                    x = m.subtract(m.multiply(2, edge), x)
                    if size > 1:
                        k = x.shape[i]
                        edge = _axis_slice(x, i, 0, 1) if before else _axis_slice(x, i, k - 1, k)
                array = lax.concatenate([x, array] if before else [array, x], i)
    return array


def _pad_edge(array, pad_width):
    for i in range(array.ndim):
        n = array.shape[i]
        if n == 0:
            _check_no_padding(pad_width[i], "edge")
            continue
        before = repeat(_axis_slice(array, i, 0, 1), pad_width[i][0], axis=i)
        after = repeat(_axis_slice(array, i, n - 1, n), pad_width[i][1], axis=i)
        array = lax.concatenate([before, array, after], i)
    return array


def _pad_linear_ramp(array, pad_width, end_values):
    from kiln.numpy.creation import linspace
    for axis in range(array.ndim):
        n = array.shape[axis]
        ramps = []
        for side, edge in ((0, _axis_slice(array, axis, 0, 1)), (1, _axis_slice(array, axis, n - 1, n))):
            ramp = linspace(end_values[axis][side], squeeze(edge, axis), pad_width[axis][side],
                            endpoint=False, dtype=array.dtype, axis=axis)
            ramps.append(cast(ramp, array.dtype, array.weak_type))
        array = lax.concatenate([ramps[0], array, flip(ramps[1], axis)], axis)
    return array


def _pad_stats(array, pad_width, stat_length, stat_func):
    for i in range(array.ndim):
        if stat_length is None:
            stat_before = stat_after = stat_func(array, axis=i, keepdims=True)
        else:
            n = array.shape[i]
            length_before, length_after = stat_length[i]
            if length_before == 0 or length_after == 0:
                raise ValueError("stat_length of 0 yields no value for padding")
            length_before, length_after = builtins.min(length_before, n), builtins.min(length_after, n)
            stat_before = stat_func(_axis_slice(array, i, 0, length_before), axis=i, keepdims=True)
            stat_after = stat_func(_axis_slice(array, i, n - length_after, n), axis=i, keepdims=True)
        if array.dtype.kind in "iu":
            stat_before, stat_after = m.round(stat_before), m.round(stat_after)
        stat_before = cast(stat_before, array.dtype, array.weak_type)
        stat_after = cast(stat_after, array.dtype, array.weak_type)
        before = repeat(stat_before, pad_width[i][0], axis=i)
        after = repeat(stat_after, pad_width[i][1], axis=i)
        array = lax.concatenate([before, array, after], i)
    return array


def _pad_empty(array, pad_width):
    from kiln.numpy.creation import zeros_like
    for i in range(array.ndim):
        parts = [zeros_like(array, shape=array.shape[:i] + (pad_width[i][side],) + array.shape[i + 1:])
                 for side in (0, 1)]
        array = lax.concatenate([parts[0], array, parts[1]], i)
    return array


def _pad_func(array, pad_width, func, **kwargs):
    from kiln.numpy.vectorize import apply_along_axis
    padded = _pad_constant(array, pad_width, asarray(0))
    for axis in range(padded.ndim):
        padded = apply_along_axis(func, axis, padded, pad_width[axis], axis, kwargs)
    return padded


_ALLOWED_KWARGS = {
    "empty": [], "edge": [], "wrap": [], "constant": ["constant_values"], "linear_ramp": ["end_values"],
    "maximum": ["stat_length"], "mean": ["stat_length"], "median": ["stat_length"],
    "minimum": ["stat_length"], "reflect": ["reflect_type"], "symmetric": ["reflect_type"],
}


def _stat_funcs():
    from kiln.numpy import reductions as r
    from kiln.numpy.quantiles import median
    return {"maximum": r.amax, "minimum": r.amin, "mean": r.mean, "median": median}


def pad(array, pad_width, mode="constant", **kwargs):
    array = asarray(array)
    pad_width = _broadcast_to_pairs(pad_width, array.ndim, "pad_width")
    try:
        pad_width = tuple((operator.index(lo), operator.index(hi)) for lo, hi in pad_width)
    except TypeError:
        raise TypeError("`pad_width` must be of integral type.") from None
    if callable(mode):
        return _pad_func(array, pad_width, mode, **kwargs)
    if mode not in _ALLOWED_KWARGS:
        raise NotImplementedError(f"Unimplemented padding mode '{mode}' for np.pad.")
    unsupported = set(kwargs) - set(_ALLOWED_KWARGS[mode])
    if unsupported:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {unsupported}")
    if array.ndim == 0:
        return array
    if builtins.any(w < 0 for pair in pad_width for w in pair):
        raise ValueError("index can't contain negative values")
    if mode == "constant":
        return _pad_constant(array, pad_width, asarray(kwargs.get("constant_values", 0)))
    if mode == "wrap":
        return _pad_wrap(array, pad_width)
    if mode in ("symmetric", "reflect"):
        return _pad_symmetric_or_reflect(array, pad_width, mode, kwargs.get("reflect_type", "even"))
    if mode == "edge":
        return _pad_edge(array, pad_width)
    if mode == "linear_ramp":
        return _pad_linear_ramp(array, pad_width,
                                _broadcast_to_pairs(kwargs.get("end_values", 0), array.ndim, "end_values"))
    if mode == "empty":
        return _pad_empty(array, pad_width)
    stat_length = kwargs.get("stat_length")
    if stat_length is not None:
        stat_length = _broadcast_to_pairs(stat_length, array.ndim, "stat_length")
    return _pad_stats(array, pad_width, stat_length, _stat_funcs()[mode])
