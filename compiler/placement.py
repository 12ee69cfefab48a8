"""Moving values between the host and kiln's devices."""
from __future__ import annotations

import numpy as np

from kiln.runtime.array import Array
from kiln.runtime.devices import CpuDevice, devices
from kiln.runtime.pytree import tree_map


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
    """Place each leaf of `x` on `device` (or sharding) as a kiln.Array."""
    if device is not None and not isinstance(device, CpuDevice) and not hasattr(device, "device_set"):
        raise TypeError(f"kiln.device_put: {device!r} is not a device or sharding")
    import kiln.numpy as knp
    return tree_map(lambda leaf: leaf if isinstance(leaf, Array) else knp.asarray(leaf), x)


def device_get(x):
    """The leaves of `x` as NumPy arrays."""
    return tree_map(lambda leaf: np.asarray(leaf) if isinstance(leaf, Array) else leaf, x)


def block_until_ready(x):
    return tree_map(lambda leaf: leaf.block_until_ready() if isinstance(leaf, Array) else leaf, x)


def local_device_count(backend=None) -> int:
    return len(devices(backend))
