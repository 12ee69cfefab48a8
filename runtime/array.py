"""kiln.Array: an immutable array in a host buffer.

The buffer is a read-only NumPy array. Operators and array methods (`+`, `x.sum()`, `x.at`,
...) are installed by `kiln.numpy.array_methods`, shared with the values being staged, so
eager code and compiled code read alike.
"""
from __future__ import annotations

import numpy as np

from kiln.runtime.devices import cpu_device, SingleDeviceSharding


class Array:
    __slots__ = ("_value", "weak_type", "__weakref__")
    __array_priority__ = 100

    def __init__(self, value: np.ndarray, weak_type: bool = False):
        # The buffer is owned by this Array: callers pass fresh arrays (or copies).
        value.flags.writeable = False
        self._value = value
        self.weak_type = weak_type

    # -- metadata
    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    @property
    def size(self) -> int:
        return self._value.size

    @property
    def nbytes(self) -> int:
        return self._value.nbytes

    @property
    def itemsize(self) -> int:
        return self._value.itemsize

    @property
    def aval(self):
        from kiln.ir import ShapedArray
        return ShapedArray(self._value.shape, self._value.dtype, self.weak_type)

    # -- devices
    def devices(self) -> set:
        return {cpu_device}

    @property
    def device(self):
        return cpu_device

    @property
    def sharding(self):
        return SingleDeviceSharding(cpu_device)

    def block_until_ready(self) -> "Array":
        return self

    def copy_to_host_async(self) -> None:
        pass

    # -- conversion to Python and NumPy
    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._value, dtype=dtype)
        return self._value if dtype is None else self._value.astype(dtype)

    def __dlpack__(self, *args, **kwargs):
        try:
            return self._value.__dlpack__(*args, **kwargs)
        except BufferError:  # NumPy does not export read-only buffers; hand out a copy
            return self._value.copy().__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._value.__dlpack_device__()

    def tolist(self):
        return self._value.tolist()

    def item(self, *args):
        return self._value.item(*args)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __complex__(self) -> complex:
        return complex(self._value)

    def __index__(self) -> int:
        return self._value.__index__()

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of unsized object")
        return len(self._value)

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (Array(np.array(row), self.weak_type) for row in self._value)

    __hash__ = None  # arrays are unhashable, as in NumPy and JAX

    def __setitem__(self, index, value):
        raise TypeError(
            "kiln arrays are immutable and do not support in-place item assignment. "
            "Instead of x[idx] = y, use x = x.at[idx].set(y) or another .at[] method "
            "(inside a kiln function, `x[idx] = y` on a local variable is rewritten for you)")

    def __reduce__(self):
        return (_rebuild, (np.array(self._value), self.weak_type))

    def __copy__(self) -> "Array":
        return self

    def __deepcopy__(self, memo) -> "Array":
        return self

    # -- printing, as JAX prints
    def __repr__(self) -> str:
        value = self._value
        dtype = f"dtype={value.dtype.name}" + (", weak_type=True" if self.weak_type else "")
        if value.size == 0 and value.shape != (0,):
            return f"Array([], shape={value.shape}, {dtype})"
        body = np.array2string(value, separator=", ", prefix="Array(")
        return f"Array({body}, {dtype})"

    def __str__(self) -> str:
        return str(self._value)

    def __format__(self, spec: str) -> str:
        if self._value.ndim == 0:
            return format(self._value.item(), spec)
        return format(str(self), spec)


def _rebuild(value, weak_type):
    return Array(value, weak_type)
