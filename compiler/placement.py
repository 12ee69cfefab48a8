"""Moving values between the host and kiln's devices: `device_put`, `device_get`.

kiln's only device is the host, so placing a value means making it a kiln.Array (with JAX's
dtype canonicalisation: float64 becomes float32 unless x64 is on) and recording the sharding
it was placed with, so `x.sharding` answers as in JAX.
"""
from __future__ import annotations

import numpy as np

from kiln.runtime.array import Array
from kiln.runtime.devices import CpuDevice, Sharding, SingleDeviceSharding, devices
from kiln.runtime.pytree import tree_flatten, tree_map


def _is_placement(d) -> bool:
    return d is None or isinstance(d, (CpuDevice, Sharding))


def _check_placement(d) -> None:
    if not _is_placement(d):
        raise ValueError(
            "`kiln.device_put` only accepts `None`, `kiln.sharding.Sharding`, a kiln device or a "
            f"pytree of these values. Received invalid value: {d}")


def _put(leaf, device):
    if isinstance(leaf, Array):
        x = leaf
    elif isinstance(leaf, (bool, int, float, complex, np.ndarray, np.generic)):
        import kiln.numpy as knp  # kiln.numpy needs the compiler; only placing converts
        x = knp.asarray(leaf)
    elif hasattr(leaf, "__array__") and not isinstance(leaf, (str, bytes)):
        import kiln.numpy as knp
        x = knp.asarray(np.asarray(leaf))
    else:
        raise TypeError(f"Argument '{leaf}' of type {type(leaf)} is not a valid kiln array type")
    if device is None:
        return x
    sharding = SingleDeviceSharding(device) if isinstance(device, CpuDevice) else device
    try:
        sharding.check_rank(x.ndim)
    except ValueError as e:
        raise ValueError(f"One of device_put args is incompatible with its sharding annotation "
                         f"{sharding!r}: {e}") from None
    if x.sharding == sharding:
        return x
    # The buffer is immutable, so the placed array shares it.
    return Array(x._value, x.weak_type, sharding)


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
    """Place each leaf of `x` on `device`: None, a device, a sharding or a pytree prefix of them."""
    if _is_placement(device):
        return tree_map(lambda leaf: _put(leaf, device), x)
    placements, prefix = tree_flatten(device, is_leaf=_is_placement)
    for d in placements:
        _check_placement(d)
    try:
        subtrees = prefix.flatten_up_to(x)
    except ValueError as e:
        raise ValueError(f"device_put device specification must be a tree prefix of the "
                         f"corresponding value; {e}") from None
    placed = [device_put(sub, d) for sub, d in zip(subtrees, placements)]
    return prefix.unflatten(placed)


def device_get(x):
    """The leaves of `x` as NumPy arrays (read-only views of kiln arrays' buffers)."""
    return tree_map(lambda leaf: np.asarray(leaf) if isinstance(leaf, Array) else leaf, x)


def block_until_ready(x):
    return tree_map(lambda leaf: leaf.block_until_ready() if isinstance(leaf, Array) else leaf, x)


def local_device_count(backend=None) -> int:
    return len(devices(backend))


__all__ = ["block_until_ready", "device_get", "device_put", "local_device_count"]
