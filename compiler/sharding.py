"""kiln.sharding: meshes and shardings with `jax.sharding`'s names.

kiln has one device, the host CPU, so a `Mesh` is an array of that device with named axes of
size 1 and every sharding places the whole array on it. The classes still check what JAX
checks (axis names against the mesh, spec rank against the value) and print as JAX prints,
so sharded JAX programs run unchanged:

    mesh = Mesh(np.array(kiln.devices()), ("x",))
    x = kiln.device_put(x, NamedSharding(mesh, P("x")))   # x.sharding is that NamedSharding
"""
from __future__ import annotations

import enum
from collections import OrderedDict

import numpy as np

from kiln.runtime.devices import CpuDevice, Sharding, SingleDeviceSharding
from kiln.runtime.devices import devices as _all_devices

__all__ = ["AxisType", "Mesh", "NamedSharding", "P", "PartitionSpec", "Sharding",
           "SingleDeviceSharding", "make_mesh"]


class AxisType(enum.Enum):
    Auto = enum.auto()
    Explicit = enum.auto()
    Manual = enum.auto()

    def __repr__(self) -> str:
        return self.name


class DuplicateSpecError(ValueError):
    pass


class _Unconstrained:
    def __repr__(self) -> str:
        return "UNCONSTRAINED"


class PartitionSpec:
    """Which mesh axes each dimension of an array is split over (None: not split)."""
    __slots__ = ("_partitions",)
    UNCONSTRAINED = _Unconstrained()

    def __init__(self, *partitions):
        canonical = []
        for p in partitions:
            if isinstance(p, (list, tuple)):  # as JAX: ("x",) is "x" and () is None
                p = tuple(p)
                p = None if not p else p[0] if len(p) == 1 else p
            names = p if isinstance(p, tuple) else (p,)
            if not all(n is None or n is PartitionSpec.UNCONSTRAINED or isinstance(n, str) for n in names):
                raise TypeError(f"PartitionSpec entries must be None, a mesh axis name or a tuple of "
                                f"names, got {p!r}")
            canonical.append(p)
        self._partitions = tuple(canonical)

    def __repr__(self) -> str:
        return f"P{self._partitions!r}"

    def __len__(self) -> int:
        return len(self._partitions)

    def __getitem__(self, i):
        return self._partitions[i]

    def __iter__(self):
        return iter(self._partitions)

    def __eq__(self, other) -> bool:
        # As in JAX, a spec equals only a spec: P("x") != ("x",) and P("x") != P("x", None).
        return isinstance(other, PartitionSpec) and self._partitions == other._partitions

    def __hash__(self) -> int:
        return hash(("PartitionSpec", self._partitions))

    def __reduce__(self):
        return (PartitionSpec, self._partitions)

    def axis_names(self) -> list[str]:
        """Every mesh axis named in the spec, in order (repeats kept)."""
        return [n for p in self._partitions for n in (p if isinstance(p, tuple) else (p,))
                if isinstance(n, str)]


P = PartitionSpec


class Mesh:
    """An n-dimensional array of devices with a name for each axis."""

    def __init__(self, devices, axis_names, axis_types=None):
        if isinstance(axis_names, str):
            axis_names = (axis_names,)
        axis_names = tuple(axis_names)
        devs = np.array(devices, dtype=object)
        for d in devs.flat:
            if not isinstance(d, CpuDevice):
                raise TypeError(f"Mesh: {d!r} is not a kiln device; use kiln.devices()")
        if devs.ndim != len(axis_names):
            raise ValueError(
                "Mesh requires the ndim of its first argument (`devices`) to equal the length of "
                f"its second argument (`axis_names`), but got devices.ndim == {devs.ndim} and "
                f"len(axis_names) == {len(axis_names)}.")
        if axis_types is None:
            axis_types = (AxisType.Auto,) * len(axis_names)
        elif isinstance(axis_types, AxisType):
            axis_types = (axis_types,) * len(axis_names)
        axis_types = tuple(axis_types)
        if len(axis_types) != len(axis_names):
            raise ValueError(f"Mesh: {len(axis_types)} axis_types given for {len(axis_names)} axes")
        devs.flags.writeable = False
        self.devices = devs
        self.axis_names = axis_names
        self.axis_types = axis_types

    @property
    def shape(self) -> OrderedDict:
        return OrderedDict(zip(self.axis_names, self.devices.shape))

    @property
    def shape_tuple(self) -> tuple:
        return tuple(zip(self.axis_names, self.devices.shape))

    @property
    def axis_sizes(self) -> tuple:
        return self.devices.shape

    @property
    def size(self) -> int:
        return self.devices.size

    @property
    def empty(self) -> bool:
        return self.devices.size == 0

    @property
    def device_ids(self) -> np.ndarray:
        return np.vectorize(lambda d: d.id, otypes=[int])(self.devices)

    @property
    def local_devices(self) -> list:
        return list(dict.fromkeys(self.devices.flat))

    @property
    def devices_set(self) -> set:
        return set(self.devices.flat)

    def _key(self):
        return (self.device_ids.tobytes(), self.devices.shape, self.axis_names, self.axis_types)

    def __eq__(self, other) -> bool:
        return isinstance(other, Mesh) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __enter__(self) -> "Mesh":
        return self  # one device: a mesh context changes nothing

    def __exit__(self, *exc) -> None:
        pass

    def __repr__(self) -> str:
        return (f"Mesh(axis_sizes={self.axis_sizes!r}, axis_names={self.axis_names!r}, "
                f"axis_types={self._types()})")

    def __str__(self) -> str:
        sizes = ", ".join(f"{n!r}: {s}" for n, s in self.shape_tuple)
        return f"Mesh({sizes}, axis_types={self._types()})"

    def _types(self) -> str:
        return "(" + ", ".join(map(repr, self.axis_types)) + ("," if len(self.axis_types) == 1 else "") + ")"


def make_mesh(axis_shapes, axis_names, axis_types=None, *, devices=None) -> Mesh:
    """`jax.make_mesh`: a mesh of the given shape over the available devices."""
    devs = list(devices) if devices is not None else _all_devices()
    size = int(np.prod(axis_shapes, dtype=np.int64))
    if len(devs) < size:
        raise ValueError(f"Number of devices {len(devs)} must be >= the product of mesh_shape "
                         f"{tuple(axis_shapes)}")
    grid = np.array(devs[:size], dtype=object).reshape(tuple(axis_shapes))
    return Mesh(grid, axis_names, AxisType.Explicit if axis_types is None else axis_types)


class NamedSharding(Sharding):
    """An array laid out over a mesh: dimension i is split over the mesh axes `spec[i]`."""

    def __init__(self, mesh: Mesh, spec: PartitionSpec, *, memory_kind: str | None = None):
        if not isinstance(mesh, Mesh):
            raise TypeError(f"NamedSharding: mesh must be a kiln.sharding.Mesh, got {mesh!r}")
        if not isinstance(spec, PartitionSpec):
            raise TypeError(f"NamedSharding: spec must be a PartitionSpec (P(...)), got {spec!r}")
        names = spec.axis_names()
        for n in names:
            if n not in mesh.axis_names:
                raise ValueError(f"Resource axis: {n} of {spec!r} is not found in mesh: {mesh.axis_names}.")
        for n in names:
            if names.count(n) > 1:
                raise DuplicateSpecError(
                    "A single NamedSharding spec specification can map every mesh axis to at most "
                    f"one positional dimension, but {spec!r} has duplicate entries for `{n}`")
        self.mesh = mesh
        self.spec = spec
        self.memory_kind = memory_kind or "device"

    @property
    def device_set(self) -> set:
        return self.mesh.devices_set

    def check_rank(self, ndim: int) -> None:
        if len(self.spec) > ndim:
            raise ValueError(f"Sharding {self!r} is only valid for values of rank at least "
                             f"{len(self.spec)}, but was applied to a value of rank {ndim}.")

    def __eq__(self, other) -> bool:
        return (isinstance(other, NamedSharding) and self.mesh == other.mesh
                and self.spec == other.spec and self.memory_kind == other.memory_kind)

    def __hash__(self) -> int:
        return hash((self.mesh, self.spec, self.memory_kind))

    def __repr__(self) -> str:
        return f"NamedSharding(mesh={self.mesh}, spec={self.spec!r}, memory_kind={self.memory_kind})"
