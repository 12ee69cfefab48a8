"""Dtypes and JAX-compatible type promotion for kiln.

Supported dtypes: bool, uint8/16/32/64, int8/16/32/64, float16/32/64 and
complex64/128 (no bfloat16: kiln does not depend on ``ml_dtypes``).

Promotion rule (identical to JAX's, see
https://docs.jax.dev/en/latest/type_promotion.html): the result of combining
values is the *join* (least upper bound) of their types on this lattice::

    b1 -> i*;  i* -> u1, i1;  u1 -> u2, i2;  u2 -> u4, i4;  u4 -> u8, i8;
    u8 -> f*;  i1 -> i2;  i2 -> i4;  i4 -> i8;  i8 -> f*;
    f* -> f2, c*;  f2 -> f4;  f4 -> f8, c8;  f8 -> c16;  c* -> c8;  c8 -> c16

``i*``/``f*``/``c*`` are the *weak* types: Python ``int``/``float``/
``complex`` scalars (``bool`` is a strong bool) and arrays whose
``weak_type`` flag is set, whatever their width. A weak value adopts the
width of the strong value it meets (``int8 + 1 -> int8``,
``float16 + 1.0 -> float16``); a result that is itself a weak node becomes
the default type of its kind (int32/float32/complex64, or the 64-bit ones
with x64 enabled) and stays weak. If *all* inputs are weak, their strong
counterparts are joined and the result is the weak default type of the
join's kind (a uint join gives the default uint type). Inputs are
canonicalised first: with x64 disabled (``kiln.runtime.config``)
int64/uint64/float64/complex128 become int32/uint32/float32/complex64, and
so does every result; in that mode the edge ``u4 -> i8`` reads ``u4 -> i4``
(uint32 with int8/16/32 gives int32), which also shows in ``promote_types``.
A weak-typed bool is never reported weak; it joins as a plain bool except
that it still counts as weak for the all-weak rule (JAX does the same).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import config as _config

__all__ = [
    "SUPPORTED_DTYPES",
    "bool_", "uint8", "uint16", "uint32", "uint64",
    "int8", "int16", "int32", "int64",
    "float16", "float32", "float64", "complex64", "complex128",
    "canonicalize_dtype", "default_int_dtype", "default_uint_dtype",
    "default_float_dtype", "default_complex_dtype",
    "dtype_and_weak", "is_weakly_typed", "is_python_scalar",
    "result_type", "promote_types", "to_inexact_dtype",
    "issubdtype", "is_bool", "is_int", "is_signed_int", "is_unsigned_int",
    "is_float", "is_complex", "is_inexact", "finfo", "iinfo", "float0",
]

finfo = np.finfo
iinfo = np.iinfo

bool_ = np.dtype(np.bool_)
uint8 = np.dtype(np.uint8)
uint16 = np.dtype(np.uint16)
uint32 = np.dtype(np.uint32)
uint64 = np.dtype(np.uint64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)

# The dtype of the tangents and cotangents of integer and bool values, as JAX's: they have no
# derivative, so an element takes no bytes. Not an array dtype (not in SUPPORTED_DTYPES): a
# float0 value is a NumPy array (`np.zeros(shape, float0)`) that the AD API returns and accepts.
float0 = np.dtype([("float0", np.void, 0)])

SUPPORTED_DTYPES: tuple[np.dtype, ...] = (
    bool_, uint8, uint16, uint32, uint64, int8, int16, int32, int64,
    float16, float32, float64, complex64, complex128)

# "kind+itemsize" -> canonical dtype instance (native byte order).
_BY_CODE = {f"{d.kind}{d.itemsize}": d for d in SUPPORTED_DTYPES}

_TO_32 = {int64: int32, uint64: uint32, float64: float32, complex128: complex64}

# Default dtypes per x64 mode (index with the bool ``config.x64_enabled``).
_DEFAULT_INT = (int32, int64)
_DEFAULT_UINT = (uint32, uint64)
_DEFAULT_FLOAT = (float32, float64)
_DEFAULT_COMPLEX = (complex64, complex128)

# ---------------------------------------------------------------------------
# Canonicalisation
# ---------------------------------------------------------------------------

def _supported(spec: Any) -> np.dtype:
    """``spec`` (anything ``np.dtype`` accepts) as a supported native dtype."""
    if isinstance(spec, np.dtype):
        d = spec
    else:
        try:
            d = np.dtype(spec)
        except TypeError as e:
            raise TypeError(f"cannot interpret {spec!r} as a dtype: {e}") from None
    found = _BY_CODE.get(f"{d.kind}{d.itemsize}") if d.kind in "biufc" else None
    if found is None:
        raise TypeError(
            f"dtype {d} is not supported by kiln; supported dtypes are bool, "
            "(u)int8/16/32/64, float16/32/64 and complex64/128")
    return found


# Per-mode caches from a dtype specifier to its canonical dtype. Pre-seeded
# with the supported dtypes and their scalar types; other hashable specs are
# added on first use.
_CANON: tuple[dict, dict] = ({}, {})
for _d in SUPPORTED_DTYPES:
    for _key in (_d, _d.type):
        _CANON[0][_key] = _TO_32.get(_d, _d)
        _CANON[1][_key] = _d
del _d, _key


def canonicalize_dtype(dtype: Any) -> np.dtype:
    """The dtype kiln uses for ``dtype``: 64-bit types map to their 32-bit
    counterparts unless x64 is enabled. Accepts anything ``np.dtype``
    accepts; raises TypeError for unsupported dtypes."""
    cache = _CANON[_config.x64_enabled]
    try:
        return cache[dtype]
    except (KeyError, TypeError):
        pass
    d = _supported(dtype)
    out = d if _config.x64_enabled else _TO_32.get(d, d)
    # Cache dtype instances and numpy scalar types only: result_type looks
    # arguments up in this cache and must not mistake e.g. ``None`` or
    # ``int`` (weak) for a cached specifier.
    if isinstance(dtype, np.dtype) or (isinstance(dtype, type)
                                       and issubclass(dtype, np.generic)):
        cache[dtype] = out
    return out


def default_int_dtype() -> np.dtype:
    """int64 with x64 enabled, else int32."""
    return _DEFAULT_INT[_config.x64_enabled]


def default_uint_dtype() -> np.dtype:
    """uint64 with x64 enabled, else uint32."""
    return _DEFAULT_UINT[_config.x64_enabled]


def default_float_dtype() -> np.dtype:
    """float64 with x64 enabled, else float32."""
    return _DEFAULT_FLOAT[_config.x64_enabled]


def default_complex_dtype() -> np.dtype:
    """complex128 with x64 enabled, else complex64."""
    return _DEFAULT_COMPLEX[_config.x64_enabled]


# ---------------------------------------------------------------------------
# dtype and weak type of values
# ---------------------------------------------------------------------------

# Exact Python scalar type -> (dtype, weak) per mode.
_PY_SCALARS = (
    {bool: (bool_, False), int: (int32, True), float: (float32, True),
     complex: (complex64, True)},
    {bool: (bool_, False), int: (int64, True), float: (float64, True),
     complex: (complex128, True)},
)
_PY_SCALAR_TYPES = (bool, int, float, complex)


def is_python_scalar(x: Any) -> bool:
    """True for Python ``bool``/``int``/``float``/``complex`` values (numpy
    scalars, even those subclassing ``float``/``complex``, are excluded)."""
    return isinstance(x, _PY_SCALAR_TYPES) and not isinstance(x, np.generic)


def _value_error(x: Any, d: Any) -> TypeError:
    return TypeError(
        f"value of type {type(x).__name__} with dtype {d} is not a valid kiln "
        "array type; only bool, integer, float and complex dtypes are supported")


def dtype_and_weak(x: Any) -> tuple[np.dtype, bool]:
    """``(canonical dtype, weak_type)`` of a value.

    Python ``int``/``float``/``complex`` give their default dtype and
    ``weak=True``; Python ``bool`` gives ``(bool, False)``. numpy arrays and
    scalars give their canonicalised dtype, not weak. Other objects with a
    ``.dtype`` (kiln arrays, staged values, JAX arrays) give their
    canonicalised dtype and ``bool(getattr(x, "weak_type", False))`` (never
    weak for bool). Anything else (strings, lists, object/string arrays,
    dtype objects) raises TypeError naming the type.
    """
    r = _PY_SCALARS[_config.x64_enabled].get(type(x))
    if r is not None:
        return r
    if isinstance(x, (np.ndarray, np.generic)):
        try:
            return canonicalize_dtype(x.dtype), False
        except TypeError:
            raise _value_error(x, x.dtype) from None
    if isinstance(x, (type, np.dtype, str, bytes)):
        raise TypeError(f"cannot determine the dtype of a value of type "
                        f"{type(x).__name__} ({x!r}); expected an array or a "
                        "scalar")
    d = getattr(x, "dtype", None)
    if d is not None:
        try:
            cd = canonicalize_dtype(d)
        except TypeError:
            raise _value_error(x, d) from None
        return cd, bool(getattr(x, "weak_type", False)) and cd is not bool_
    # Subclasses of the Python scalar types (e.g. IntEnum members).
    for t in _PY_SCALAR_TYPES:
        if isinstance(x, t):
            return _PY_SCALARS[_config.x64_enabled][t]
    raise TypeError(f"cannot determine the dtype of a value of type "
                    f"{type(x).__name__}; expected an array or a "
                    "bool/int/float/complex scalar")


def is_weakly_typed(x: Any) -> bool:
    """Whether value ``x`` is weakly typed (see :func:`dtype_and_weak`)."""
    return dtype_and_weak(x)[1]


def _spec_dtype_and_weak(x: Any) -> tuple[np.dtype, bool]:
    """Like :func:`dtype_and_weak` but also accepts dtype specifiers:
    np.dtype objects, dtype names, scalar types (``int``/``float``/
    ``complex`` are weak) and ``None`` (the default float type)."""
    if isinstance(x, np.dtype) or isinstance(x, str):
        return canonicalize_dtype(x), False
    if isinstance(x, type):
        r = _PY_SCALARS[_config.x64_enabled].get(x)
        if r is not None:
            return r
        if issubclass(x, np.generic):
            return canonicalize_dtype(x), False
        raise TypeError(f"cannot interpret type {x.__name__} as a dtype")
    if x is None:
        return default_float_dtype(), False
    return dtype_and_weak(x)


# ---------------------------------------------------------------------------
# The promotion lattice
# ---------------------------------------------------------------------------

_WEAK_I, _WEAK_F, _WEAK_C = "i*", "f*", "c*"
# Weak node of each dtype kind (bool has none: a weak bool is a bool).
_WEAK_OF_KIND = {"b": bool_, "u": _WEAK_I, "i": _WEAK_I, "f": _WEAK_F,
                 "c": _WEAK_C}
_KIND_OF_WEAK = {_WEAK_I: "i", _WEAK_F: "f", _WEAK_C: "c"}

_LATTICE_EDGES = {
    bool_: [_WEAK_I],
    _WEAK_I: [uint8, int8],
    uint8: [uint16, int16], uint16: [uint32, int32], uint32: [uint64, int64],
    uint64: [_WEAK_F],
    int8: [int16], int16: [int32], int32: [int64], int64: [_WEAK_F],
    _WEAK_F: [float16, _WEAK_C],
    float16: [float32], float32: [float64, complex64], float64: [complex128],
    _WEAK_C: [complex64], complex64: [complex128], complex128: [],
}
# With x64 disabled JAX joins uint32 with int8/16/32 to int32 (not int64):
# the same lattice with the edge uint32 -> int64 replaced by uint32 -> int32.
_LATTICE_EDGES_X32 = dict(_LATTICE_EDGES)
_LATTICE_EDGES_X32[uint32] = [uint64, int32]


def _build_join_table(edges: dict) -> dict:
    ups: dict = {}

    def upper(n):
        if n not in ups:
            s = {n}
            for p in edges[n]:
                s |= upper(p)
            ups[n] = frozenset(s)
        return ups[n]

    table = {}
    for a in edges:
        for b in edges:
            common = upper(a) & upper(b)
            least = [n for n in common if upper(n) == common]
            if len(least) != 1:  # pragma: no cover - lattice sanity check
                raise AssertionError(f"no unique join for {a}, {b}")
            table[a, b] = least[0]
    return table


# Join tables per mode (index with ``config.x64_enabled``).
_JOIN = (_build_join_table(_LATTICE_EDGES_X32), _build_join_table(_LATTICE_EDGES))


def _join_all(nodes, x64: bool) -> Any:
    table = _JOIN[x64]
    it = iter(nodes)
    acc = next(it)
    for n in it:
        acc = table[acc, n]
    return acc


def _node_kind(n) -> str:
    return _KIND_OF_WEAK[n] if isinstance(n, str) else n.kind


def _default_of_kind(kind: str, x64: bool) -> np.dtype:
    if kind == "b":
        return bool_
    if kind == "i":
        return _DEFAULT_INT[x64]
    if kind == "u":
        return _DEFAULT_UINT[x64]
    if kind == "f":
        return _DEFAULT_FLOAT[x64]
    return _DEFAULT_COMPLEX[x64]


def _promote(pairs, x64: bool) -> tuple[np.dtype, bool]:
    """Join canonical ``(dtype, weak)`` pairs.

    A weak bool (which only a hand-made weak-typed bool array can be) counts
    as weak for the all-weak rule and as a plain bool otherwise, as in JAX.
    """
    if all(w for _, w in pairs):
        # All weak: join the strong counterparts; the result is the weak
        # default type of the join's kind (uint kinds give the default uint).
        j = _join_all([d for d, _ in pairs], x64)
        kind = _node_kind(j)
        if kind == "b":
            return bool_, False
        return _default_of_kind(kind, x64), True
    j = _join_all([_WEAK_OF_KIND[d.kind] if w else d for d, w in pairs],
                  x64)
    if isinstance(j, str):
        return _default_of_kind(_KIND_OF_WEAK[j], x64), True
    return (j if x64 else _TO_32.get(j, j)), False


# Per-mode cache: tuple of (dtype, weak, dtype, weak, ...) -> (dtype, weak).
_RESULT_CACHE: tuple[dict, dict] = ({}, {})
_RESULT_CACHE_LIMIT = 1 << 14


_MISSING = object()


def _arg_dw(x: Any, x64: bool) -> tuple[np.dtype, bool]:
    """(canonical dtype, raw weak flag) of a result_type argument."""
    r = _PY_SCALARS[x64].get(type(x))
    if r is not None:
        return r
    canon = _CANON[x64]
    try:
        # Values (arrays, numpy scalars, kiln/JAX arrays) by their .dtype;
        # else a dtype or numpy scalar type already in the cache. (A numpy
        # scalar *type* has a descriptor, not a dtype, as .dtype.)
        d = getattr(x, "dtype", _MISSING)
        cd = canon.get(x if d is _MISSING else d)
    except TypeError:  # unhashable
        cd = None
    if cd is None and isinstance(x, type):
        cd = canon.get(x)  # np.float32 and friends
        d = _MISSING
    if cd is not None:
        if d is _MISSING:
            return cd, False
        # Raw flag, even for bool: a weak bool matters to the all-weak rule.
        # numpy arrays and scalars have no weak_type: strong.
        w = getattr(x, "weak_type", False)
        if w is False or w is True:
            return cd, w
    return _spec_dtype_and_weak(x)


def result_type(*args: Any, return_weak_type_flag: bool = False):
    """The dtype JAX's promotion gives for ``args`` (``jnp.result_type``).

    ``args`` may be values (Python scalars, numpy arrays/scalars, objects
    with ``.dtype`` and optional ``.weak_type``) or dtype specifiers
    (np.dtype, names, scalar types; ``int``/``float``/``complex`` count as
    weak; ``None`` is the default float type). With
    ``return_weak_type_flag=True`` returns ``(dtype, weak_type)``.
    """
    x64 = _config.x64_enabled
    n = len(args)
    if n == 2:
        a, b = args
        # Fastest path: two values sharing one dtype object, not both weak.
        d = getattr(a, "dtype", None)
        if d is not None and d is getattr(b, "dtype", None) and (
                getattr(a, "weak_type", False) is False
                or getattr(b, "weak_type", False) is False):
            try:
                cd = _CANON[x64].get(d)
            except TypeError:
                cd = None
            if cd is not None:
                return (cd, False) if return_weak_type_flag else cd
        da, wa = _arg_dw(a, x64)
        db, wb = _arg_dw(b, x64)
        if da is db and not (wa and wb):
            out = (da, False)  # same dtype, at least one strong
        else:
            key = (da, wa, db, wb)
            cache = _RESULT_CACHE[x64]
            out = cache.get(key)
            if out is None:
                out = _promote(((da, wa), (db, wb)), x64)
                if len(cache) >= _RESULT_CACHE_LIMIT:
                    cache.clear()
                cache[key] = out
    elif n == 1:
        d, w = _arg_dw(args[0], x64)
        out = (_default_of_kind(d.kind, x64), d is not bool_) if w else (d, False)
    elif n == 0:
        raise ValueError("at least one array or dtype is required")
    else:
        pairs = [_arg_dw(a, x64) for a in args]
        key = tuple(pairs)
        cache = _RESULT_CACHE[x64]
        out = cache.get(key)
        if out is None:
            out = _promote(pairs, x64)
            if len(cache) >= _RESULT_CACHE_LIMIT:
                cache.clear()
            cache[key] = out
    return out if return_weak_type_flag else out[0]


_PROMOTE_NODES: dict = {int: _WEAK_I, float: _WEAK_F, complex: _WEAK_C}


def _promote_spec(x: Any):
    """Lattice node of a dtype specifier for :func:`promote_types`."""
    try:
        return _PROMOTE_NODES[x]
    except (KeyError, TypeError):
        pass
    node = _supported(x)
    if isinstance(x, np.dtype) or (isinstance(x, type)
                                   and issubclass(x, np.generic)):
        _PROMOTE_NODES[x] = node
    return node


def promote_types(a: Any, b: Any) -> np.dtype:
    """``jnp.promote_types``: the join of two dtype specifiers. As in JAX the
    inputs and a strong result are not canonicalised (``int64`` stays
    ``int64`` with x64 off), ``int``/``float``/``complex`` are weak, and a
    weak result becomes the 64-bit type of its kind."""
    j = _JOIN[_config.x64_enabled][_promote_spec(a), _promote_spec(b)]
    if isinstance(j, str):
        return _default_of_kind(_KIND_OF_WEAK[j], True)
    return j


# ---------------------------------------------------------------------------
# Predicates and helpers
# ---------------------------------------------------------------------------

_KIND_CACHE: dict = {}
for _d in SUPPORTED_DTYPES:
    _KIND_CACHE[_d] = _d.kind
    _KIND_CACHE[_d.type] = _d.kind
for _t in _PY_SCALAR_TYPES:
    _KIND_CACHE[_t] = np.dtype(_t).kind
del _d, _t


def _kind(dtype: Any) -> str:
    try:
        return _KIND_CACHE[dtype]
    except (KeyError, TypeError):
        pass
    d = getattr(dtype, "dtype", None)
    if isinstance(d, np.dtype) and not isinstance(dtype, type):
        return d.kind
    return np.dtype(dtype).kind


def issubdtype(a: Any, b: Any) -> bool:
    """``np.issubdtype`` (kiln has no extended dtypes)."""
    return bool(np.issubdtype(a, b))


def is_bool(dtype: Any) -> bool:
    """Whether ``dtype`` (or the dtype of an array) is bool."""
    return _kind(dtype) == "b"


def is_int(dtype: Any) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer type (not bool)."""
    return _kind(dtype) in ("i", "u")


def is_signed_int(dtype: Any) -> bool:
    return _kind(dtype) == "i"


def is_unsigned_int(dtype: Any) -> bool:
    return _kind(dtype) == "u"


def is_float(dtype: Any) -> bool:
    """Whether ``dtype`` is a real floating type."""
    return _kind(dtype) == "f"


def is_complex(dtype: Any) -> bool:
    return _kind(dtype) == "c"


def is_inexact(dtype: Any) -> bool:
    """Whether ``dtype`` is floating or complex."""
    return _kind(dtype) in ("f", "c")


def to_inexact_dtype(dtype: Any) -> np.dtype:
    """The dtype functions like ``jnp.sqrt``/``jnp.mean`` compute in: float
    and complex types are kept (canonicalised); bool and integer types become
    float32, except the 64-bit integers, which become float64 (float32 with
    x64 disabled). This is what JAX 0.10 does (``jnp.sqrt`` of an int8 array
    is float32 even with x64 enabled); for a weak Python int, whose dtype is
    the default int, it gives the default float type."""
    d = canonicalize_dtype(dtype)
    if d.kind in "fc":
        return d
    if d.itemsize == 8:
        return float64  # only reachable with x64 enabled
    return float32
