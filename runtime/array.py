"""kiln.Array: an immutable array in a host buffer.

The buffer is a read-only NumPy array. Operators and array methods (`+`, `x.sum()`, `x.at`,
...) are installed by `kiln.numpy.array_methods`, shared with the values being staged, so
eager code and compiled code read alike. What is defined here is the part that needs the
buffer itself: conversions to Python and NumPy, printing, pickling and placement. Messages
and printed forms are JAX's, so programs (and their tests) written for JAX read the same.
"""
from __future__ import annotations

import operator

import numpy as np

from kiln.runtime.devices import DLDeviceType, cpu_device, cpu_sharding

_IMMUTABLE = (
    "JAX arrays are immutable and do not support in-place item assignment. "
    "Instead of x[idx] = y, use x = x.at[idx].set(y) or another .at[] method: "
    "https://docs.jax.dev/en/latest/_autosummary/jax.numpy.ndarray.at.html")


class Array:
    __slots__ = ("_value", "weak_type", "_sharding", "__weakref__")
    __array_priority__ = 100

    def __init__(self, value: np.ndarray, weak_type: bool = False, sharding=None):
        # The buffer is owned by this Array (callers pass fresh arrays or copies); freezing
        # it keeps every view handed out (np.asarray, DLPack) read-only, as in JAX.
        value.flags.writeable = False
        self._value = value
        self.weak_type = weak_type
        self._sharding = sharding

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

    # -- devices: the host is the only one, so every array is ready and fully addressable
    def devices(self) -> set:
        return {cpu_device}

    @property
    def device(self):
        return cpu_device

    @property
    def sharding(self):
        return cpu_sharding if self._sharding is None else self._sharding

    @property
    def committed(self) -> bool:
        return self._sharding is not None

    @property
    def is_fully_addressable(self) -> bool:
        return True

    @property
    def is_fully_replicated(self) -> bool:
        return True

    def block_until_ready(self) -> "Array":
        return self

    def is_ready(self) -> bool:
        return True

    def copy_to_host_async(self) -> None:
        pass

    def is_deleted(self) -> bool:
        return False

    def copy(self) -> "Array":
        return Array(self._value.copy(), self.weak_type)

    # -- conversion to Python and NumPy
    def __array__(self, dtype=None, context=None, copy=None):
        # np.asarray(x) is a read-only view of the buffer; a dtype change or copy=True copies.
        kwargs = {} if copy is None else {"copy": copy}
        return np.asarray(self._value, dtype=dtype, **kwargs)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                    ("copy", copy)) if v is not None}
        try:
            return self._value.__dlpack__(stream=stream, **kwargs)
        except BufferError:  # old DLPack consumers cannot be told the buffer is read-only
            if copy is False:
                raise
            return self._value.copy().__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self):
        return DLDeviceType.kDLCPU, 0

    def tolist(self):
        return self._value.tolist()

    def tobytes(self, order="C") -> bytes:
        return self._value.tobytes(order)

    def item(self, *args):
        return self._value.item(*args)

    def __bool__(self) -> bool:
        if self._value.size == 0:
            raise ValueError("The truth value of an empty array is ambiguous. Use"
                             " `array.size > 0` to check that an array is not empty.")
        if self._value.size > 1:
            raise ValueError("The truth value of an array with more than one element"
                             " is ambiguous. Use a.any() or a.all()")
        return bool(self._value)

    def _scalar(self):
        if self._value.ndim > 0:
            raise TypeError("Only scalar arrays can be converted to Python scalars; "
                            f"got arr.ndim={self._value.ndim}")
        return self._value[()]

    def __int__(self) -> int:
        return int(self._scalar())

    def __float__(self) -> float:
        return float(self._scalar())

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __index__(self) -> int:
        if self._value.shape != () or self._value.dtype.kind not in "iu":
            raise TypeError("Only integer scalar arrays can be converted to a scalar index.")
        return operator.index(self._value[()])

    def __len__(self) -> int:
        if self._value.ndim == 0:
            raise TypeError("len() of unsized object")
        return self._value.shape[0]

    def __iter__(self):
        if self._value.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (Array(np.array(row), self.weak_type) for row in self._value)

    __hash__ = None  # arrays are unhashable, as in NumPy and JAX

    def __setitem__(self, index, value):
        raise TypeError(_IMMUTABLE)

    def __reduce__(self):
        return (_rebuild, (np.array(self._value), self.weak_type))

    def __copy__(self) -> "Array":
        return self  # immutable: a copy may share the buffer

    def __deepcopy__(self, memo) -> "Array":
        return self

    # -- printing, exactly as JAX's ArrayImpl prints
    def __repr__(self) -> str:
        prefix = "Array("
        dtype_str = f"dtype={self.dtype.name}" + (", weak_type=True" if self.weak_type else "")
        line_width = np.get_printoptions()["linewidth"]
        if self._value.size == 0:
            s = f"[], shape={self._value.shape}"
        else:
            s = np.array2string(self._value, prefix=prefix, suffix=",", separator=", ",
                                max_line_width=line_width)
        # When the dtype does not fit on the last line JAX pads it, without a line break.
        last_line_len = len(s) - s.rfind("\n") + 1
        sep = " " * len(prefix) if last_line_len + len(dtype_str) + 2 > line_width else " "
        return f"{prefix}{s},{sep}{dtype_str})"

    def __str__(self) -> str:
        return str(self._value)

    def __format__(self, spec: str) -> str:
        # A 0-d array formats as its scalar (f"{x:.3f}"); others as NumPy formats arrays.
        return format(self._value if self._value.ndim else self._value[()], spec)


def _rebuild(value, weak_type):
    return Array(value, weak_type)
