"""kiln.numpy: NumPy's API on kiln arrays, eager outside compiled functions, staged inside."""
from __future__ import annotations

import numpy as _np

from kiln.numpy import array_methods as _array_methods
from kiln.numpy.contractions import (convolve, correlate, dot, einsum, inner, kron, matmul, outer, tensordot, vdot,
                                     vecdot)
from kiln.numpy.core import (array, asarray, astype, broadcast_arrays, broadcast_shapes, broadcast_to,
                             ndim, shape, size, where)
from kiln.numpy.creation import (arange, empty, empty_like, eye, full, full_like, identity, linspace,
                                 logspace, meshgrid, ones, ones_like, tri, zeros, zeros_like)
from kiln.numpy.indexing import nonzero
from kiln.numpy.math import *  # noqa: F401,F403
from kiln.numpy.math import abs, divmod, pow, round  # noqa: F401
from kiln.numpy.reductions import (all, amax, amin, any, argmax, argmin, average, count_nonzero,
                                   cumprod, cumsum, cumulative_prod, cumulative_sum, max, mean, min,
                                   nanmax, nanmin, prod, ptp, std, sum, var)
from kiln.numpy.shapes import (array_split, atleast_1d, atleast_2d, column_stack, concat, concatenate,
                               diagonal, expand_dims, flip, fliplr, flipud, hstack, matrix_transpose,
                               moveaxis, permute_dims, ravel, repeat, reshape, roll, split, squeeze,
                               stack, swapaxes, take, take_along_axis, tile, trace, transpose, tril,
                               triu, vstack)
from kiln.numpy.sorting import argsort, sort
from kiln.numpy import fft, linalg  # noqa: F401  (kiln.numpy.fft, kiln.numpy.linalg)
from kiln.numpy.miscellany import *  # noqa: F401,F403  (cross, unwrap, windows, polyfit, piecewise, ...)
from kiln.numpy.creation import geomspace
from kiln.numpy.editing import append, delete, diff, ediff1d, insert, resize, trim_zeros
from kiln.numpy.index_tricks import (argwhere, c_, diag_indices, diag_indices_from, fill_diagonal,
                                     flatnonzero, index_exp, indices, ix_, mgrid, ogrid, r_,
                                     ravel_multi_index, s_, tril_indices, tril_indices_from,
                                     triu_indices, triu_indices_from, unravel_index)
from kiln.numpy.nan_reductions import (nanargmax, nanargmin, nancumprod, nancumsum, nanmean, nanprod,
                                       nanstd, nansum, nanvar)
from kiln.numpy.numeric import (angle, array_equiv, bitwise_invert, bitwise_left_shift, bitwise_right_shift,
                                copy, fabs, gcd, iscomplex, iscomplexobj, isreal, isrealobj, lcm, logaddexp2,
                                modf)
from kiln.numpy.padding import pad
from kiln.numpy.polynomial import polyadd, polyder, polyint, polysub, polyval, vander
from kiln.numpy.quantiles import median, nanmedian, nanpercentile, nanquantile, percentile, quantile
from kiln.numpy.searching import (bincount, digitize, histogram, histogram_bin_edges, interp, searchsorted,
                                  select)
from kiln.numpy.setops import isin, unique, unique_all, unique_counts, unique_inverse, unique_values
from kiln.numpy.sorting import argpartition, lexsort, partition, sort_complex
from kiln.numpy.statistics import corrcoef, cov, trapezoid
from kiln.numpy.stacking import (atleast_3d, block, diag, diagflat, dsplit, dstack, hsplit, rot90,
                                 unstack, vsplit)
from kiln.numpy.vectorize import apply_along_axis, apply_over_axes, vectorize
from kiln.runtime.array import Array as ndarray
from kiln.staging import Staged as _Staged

_array_methods.install(ndarray)
_array_methods.install(_Staged)

# dtypes and constants, as jax.numpy exports them
bool_ = _np.bool_
int8, int16, int32, int64 = _np.int8, _np.int16, _np.int32, _np.int64
uint8, uint16, uint32, uint64 = _np.uint8, _np.uint16, _np.uint32, _np.uint64
float16, float32, float64 = _np.float16, _np.float32, _np.float64
complex64, complex128 = _np.complex64, _np.complex128
float_, int_, complex_ = _np.float64, _np.int64, _np.complex128
bool = _np.bool_  # noqa: A001  (jnp.bool, as JAX exports it)
single, double, csingle, cdouble, uint = _np.float32, _np.float64, _np.complex64, _np.complex128, _np.uint64
dtype = _np.dtype
pi, e, inf, nan, euler_gamma = _np.pi, _np.e, _np.inf, _np.nan, _np.euler_gamma
newaxis = None
finfo, iinfo = _np.finfo, _np.iinfo
integer, floating, inexact, number, signedinteger, unsignedinteger, complexfloating, generic = (
    _np.integer, _np.floating, _np.inexact, _np.number, _np.signedinteger, _np.unsignedinteger,
    _np.complexfloating, _np.generic)

from kiln.runtime.dtypes import issubdtype, promote_types, result_type  # noqa: E402


def isscalar(element) -> bool:
    return _np.isscalar(element) or (hasattr(element, "shape") and element.shape == ())


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return all(isclose(a, b, rtol, atol, equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    a, b = asarray(a), asarray(b)
    from kiln.numpy.core import promote_inexact
    a, b = promote_inexact(a, b)
    close = less_equal(abs(a - b), atol + rtol * abs(b))  # noqa: F405
    both_inf = logical_and(isinf(a), equal(a, b))  # noqa: F405
    close = logical_or(logical_and(close, isfinite(a)), both_inf)  # noqa: F405
    if equal_nan:
        close = logical_or(close, logical_and(isnan(a), isnan(b)))  # noqa: F405
    return close


def array_equal(a1, a2, equal_nan=False):
    a1, a2 = asarray(a1), asarray(a2)
    if a1.shape != a2.shape:
        return asarray(False)
    eq = equal(a1, a2)  # noqa: F405
    if equal_nan:
        eq = logical_or(eq, logical_and(isnan(a1), isnan(a2)))  # noqa: F405
    return all(eq)
