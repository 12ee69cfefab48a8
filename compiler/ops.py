"""kiln.ops: segment reductions, as `jax.ops` (segment_sum, segment_prod, segment_max,
segment_min).

`data`'s leading axis is split by `segment_ids`; each segment's rows are reduced into row
`segment_ids[i]` of the result, whose length is `num_segments` (static; taken from the ids'
maximum when omitted, which needs concrete ids). Segments nobody writes keep the reduction's
identity (0, 1, -inf / the dtype's lowest, +inf / highest), and ids outside [0, num_segments)
are dropped, as JAX's default mode does. Each is one scatter (`x.at[ids].add(data)`), so it
differentiates and batches like one.
"""
from __future__ import annotations

import operator

import numpy as np

import kiln.numpy as knp

__all__ = ["segment_max", "segment_min", "segment_prod", "segment_sum"]


def _segments(name, data, segment_ids, num_segments, identity, update):
    data, ids = knp.asarray(data), knp.asarray(segment_ids)
    if ids.ndim != 1 or data.ndim < 1 or ids.shape[0] != data.shape[0]:
        raise ValueError(f"jax.ops.{name}: segment_ids must be 1-d with one id per row of data, got shapes "
                         f"{ids.shape} and {data.shape}")
    if ids.dtype.kind not in "iu":
        raise TypeError(f"jax.ops.{name}: segment_ids must be integers, got {ids.dtype}")
    if num_segments is None:
        try:
            num_segments = int(np.max(np.asarray(ids))) + 1 if ids.shape[0] else 0
        except Exception as e:  # noqa: BLE001 — a staged value has no maximum yet
            raise TypeError(f"jax.ops.{name}: num_segments must be given when segment_ids are not concrete "
                            "(inside a compiled function)") from e
    num_segments = operator.index(num_segments)
    start = knp.full((num_segments, *data.shape[1:]), identity(data.dtype), data.dtype)
    ids = knp.where(ids < 0, num_segments, ids)  # negative ids are out of range too (not from the end)
    return update(start.at[ids], data)


def _lowest(dtype):
    return -np.inf if np.dtype(dtype).kind in "fc" else (np.iinfo(dtype).min if np.dtype(dtype).kind in "iu" else False)


def _highest(dtype):
    return np.inf if np.dtype(dtype).kind in "fc" else (np.iinfo(dtype).max if np.dtype(dtype).kind in "iu" else True)


def segment_sum(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):
    return _segments("segment_sum", data, segment_ids, num_segments, lambda d: 0, lambda ref, v: ref.add(v))


def segment_prod(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                 bucket_size=None, mode=None):
    return _segments("segment_prod", data, segment_ids, num_segments, lambda d: 1, lambda ref, v: ref.multiply(v))


def segment_max(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):
    return _segments("segment_max", data, segment_ids, num_segments, _lowest, lambda ref, v: ref.max(v))


def segment_min(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):
    return _segments("segment_min", data, segment_ids, num_segments, _highest, lambda ref, v: ref.min(v))
