"""Typed PRNG key arrays (`kiln.random.key`), the runtime side of kiln.random.

A key array of shape S is a `PRNGKeyArray`: a `kiln.Array` subclass whose buffer is the
uint32 key data of shape S + (2,) (threefry2x32 keys are two words). Its `shape`, `ndim`,
`size` and `dtype` (`key<fry>`) are those of the key array, as in JAX, and it prints as JAX's
keys print. Its `aval` is the one of its data, so a key passed to a compiled function (kiln.jit,
vmap, grad) is staged as its uint32 data with a trailing axis of 2, which every kiln.random
function accepts as a raw key.
"""
from __future__ import annotations

import numpy as np

from kiln.runtime.array import Array


class KeyDtype:
    """The dtype of threefry2x32 key arrays: prints `key<fry>`."""
    name = "key<fry>"
    impl = "threefry2x32"
    kind = "V"
    itemsize = 8

    def __repr__(self) -> str:
        return "key<fry>"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, KeyDtype) or other == "key<fry>"

    def __hash__(self) -> int:
        return hash("key<fry>")


key_dtype = KeyDtype()


class PRNGKeyArray(Array):
    """A typed key array; the buffer holds uint32 key data with a trailing axis of 2."""
    __slots__ = ()

    def __init__(self, data: np.ndarray):
        data = np.array(data, dtype=np.uint32)
        if data.ndim < 1 or data.shape[-1] != 2:
            raise ValueError(f"threefry2x32 key data must have a trailing axis of 2, got shape {data.shape}")
        super().__init__(data, False)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape[:-1]

    @property
    def ndim(self) -> int:
        return self._value.ndim - 1

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self):
        return key_dtype

    @property
    def itemsize(self) -> int:
        return 8

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (PRNGKeyArray(row) for row in self._value)

    def __getitem__(self, index):
        if not isinstance(index, tuple):
            index = (index,)
        if any(i is Ellipsis for i in index):
            raise IndexError("kiln: Ellipsis indexing of key arrays is not supported")
        index = tuple(np.asarray(i) if isinstance(i, Array) else i for i in index)
        return PRNGKeyArray(self._value[index + (slice(None),)])

    def copy(self) -> "PRNGKeyArray":
        return PRNGKeyArray(self._value.copy())

    # Shape methods act on the key axes; each key's two words stay together.
    def reshape(self, *shape, order="C"):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        shape = np.empty(self.shape, dtype=np.bool_).reshape(tuple(shape), order=order).shape
        return PRNGKeyArray(self._value.reshape(shape + (2,), order=order))

    def ravel(self, order="C"):
        return self.reshape((self.size,), order=order)

    flatten = ravel

    def squeeze(self, axis=None):
        if axis is None:
            axis = tuple(i for i, d in enumerate(self.shape) if d == 1)
        axis = (axis,) if isinstance(axis, int) else tuple(axis)
        return PRNGKeyArray(self._value.squeeze(tuple(a % self.ndim for a in axis)))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        axes = tuple(range(self.ndim))[::-1] if not axes else tuple(a % self.ndim for a in axes)
        return PRNGKeyArray(self._value.transpose(axes + (self.ndim,)))

    @property
    def T(self):
        return self.transpose()

    def swapaxes(self, a, b):
        axes = list(range(self.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(axes)

    def __reduce__(self):
        return (PRNGKeyArray, (np.array(self._value),))

    def __eq__(self, other):
        if isinstance(other, PRNGKeyArray):
            return Array(np.all(self._value == other._value, axis=-1))
        return NotImplemented

    def __ne__(self, other):
        if isinstance(other, PRNGKeyArray):
            return Array(np.any(self._value != other._value, axis=-1))
        return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f"Array({self.shape}, dtype={key_dtype}) overlaying:\n{self._value}"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)
