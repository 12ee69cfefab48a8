"""Devices kiln can place arrays on. The host CPU is always there."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CpuDevice:
    id: int = 0
    platform: str = "cpu"
    device_kind: str = "cpu"
    process_index: int = 0

    def __repr__(self) -> str:
        return f"CpuDevice(id={self.id})"

    def __str__(self) -> str:
        return f"cpu:{self.id}"


@dataclass(frozen=True)
class SingleDeviceSharding:
    device: CpuDevice
    memory_kind: str = "device"

    def __repr__(self) -> str:
        return f"SingleDeviceSharding(device={self.device!r}, memory_kind={self.memory_kind})"


cpu_device = CpuDevice(0)


def devices(backend: str | None = None) -> list:
    if backend not in (None, "cpu"):
        raise RuntimeError(f"kiln: unknown backend {backend!r}; available: 'cpu'")
    return [cpu_device]


def local_devices(backend: str | None = None) -> list:
    return devices(backend)


def device_count(backend: str | None = None) -> int:
    return len(devices(backend))


def default_backend() -> str:
    return "cpu"
