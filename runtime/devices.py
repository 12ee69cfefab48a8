"""Devices kiln can place arrays on, and the shardings that name them.

kiln runs on the host CPU, which is always there and is the only device: `CpuDevice(id=0)`.
A sharding says which devices hold an array; with one device every sharding places the whole
array on it. `Sharding` is the base class `kiln.device_put` accepts; `SingleDeviceSharding` is
what arrays report by default (`kiln.sharding` adds `Mesh` and `NamedSharding`).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class DLDeviceType(enum.IntEnum):
    """DLPack's device codes (`__dlpack_device__`), as JAX names them."""
    kDLCPU = 1


@dataclass(frozen=True)
class CpuDevice:
    id: int = 0
    platform: str = "cpu"
    device_kind: str = "cpu"
    process_index: int = 0

    @property
    def host_id(self) -> int:
        return self.process_index

    @property
    def local_hardware_id(self) -> int:
        return self.id

    def __repr__(self) -> str:
        return f"CpuDevice(id={self.id})"

    def __str__(self) -> str:
        return f"cpu:{self.id}"


class Sharding:
    """How an array is laid out over devices. Subclasses define `device_set` and `__repr__`."""
    memory_kind = "device"

    @property
    def device_set(self) -> set:
        raise NotImplementedError

    @property
    def num_devices(self) -> int:
        return len(self.device_set)

    @property
    def addressable_devices(self) -> set:
        return self.device_set  # one process: every device is addressable

    @property
    def is_fully_addressable(self) -> bool:
        return True

    @property
    def is_fully_replicated(self) -> bool:
        # Every axis of kiln's meshes has size 1, so each device holds the whole array.
        return True

    def shard_shape(self, global_shape) -> tuple:
        return tuple(global_shape)

    def check_rank(self, ndim: int) -> None:
        """Raise ValueError if this sharding cannot lay out an array of rank `ndim`."""

    def __str__(self) -> str:
        return repr(self)


@dataclass(frozen=True, repr=False)
class SingleDeviceSharding(Sharding):
    device: CpuDevice
    memory_kind: str = "device"

    @property
    def device_set(self) -> set:
        return {self.device}

    def __repr__(self) -> str:
        return f"SingleDeviceSharding(device={self.device!r}, memory_kind={self.memory_kind})"


cpu_device = CpuDevice(0)
cpu_sharding = SingleDeviceSharding(cpu_device)


def devices(backend: str | None = None) -> list:
    if backend not in (None, "cpu"):
        raise RuntimeError(f"Unknown backend: {backend!r} requested, but no platforms that are "
                           f"instances of {backend} are present. Platforms present are: cpu")
    return [cpu_device]


def local_devices(process_index: int | None = None, backend: str | None = None) -> list:
    return devices(backend)


def device_count(backend: str | None = None) -> int:
    return len(devices(backend))


def local_device_count(backend: str | None = None) -> int:
    return len(devices(backend))


def process_index(backend: str | None = None) -> int:
    return 0


def process_count(backend: str | None = None) -> int:
    return 1


def default_backend() -> str:
    return "cpu"
