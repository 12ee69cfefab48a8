"""Process-wide configuration flags for kiln.

There is one global :data:`config` object. Options are read as attributes
(``config.kiln_enable_x64``) or with ``config.read(name)`` and changed with
``config.update(name, value)``. JAX spellings of options are accepted as
aliases (``config.update("jax_enable_x64", True)``) so JAX programs run
unchanged; an unknown name raises :class:`AttributeError` naming it.

``kiln_enable_x64`` (default False) decides whether 64-bit dtypes are kept
(True) or canonicalised to their 32-bit counterparts (False), exactly like
JAX's ``jax_enable_x64``. Its initial value comes from the environment
variable ``KILN_ENABLE_X64``, or failing that ``JAX_ENABLE_X64``
("1"/"true"/"yes"/"on" or "0"/"false"/"no"/"off", case-insensitive).
Because dtype canonicalisation sits on hot paths the current value is also
mirrored in the plain attribute ``config.x64_enabled``, which costs a single
attribute lookup to read.

Settings are process-global (not thread-local). Code that caches anything
that depends on configuration (compiled artifacts, staged programs) should
include :meth:`Config.trace_state` in its cache key.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator

__all__ = ["Config", "config", "enable_x64", "disable_x64", "disable_jit"]

_TRUE_STRINGS = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE_STRINGS = frozenset({"0", "false", "f", "no", "n", "off", ""})


def _parse_bool(value: Any, what: str) -> bool:
    """Convert ``value`` to a bool, accepting bools, 0/1 and truthy strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        s = value.strip().lower()
        if s in _TRUE_STRINGS:
            return True
        if s in _FALSE_STRINGS:
            return False
        raise ValueError(f"invalid boolean value {value!r} for {what}; "
                         "expected one of 1/true/yes/on or 0/false/no/off")
    # numpy bools, ints 0/1 and the like.
    try:
        if value == 0 or value == 1:
            return bool(value)
    except Exception:  # pragma: no cover - exotic __eq__
        pass
    raise TypeError(f"{what} expects a bool, got {value!r} "
                    f"of type {type(value).__name__}")


class _Option:
    __slots__ = ("name", "value", "default", "aliases", "env_vars", "help",
                 "on_change")

    def __init__(self, name, default, aliases, env_vars, help, on_change):
        self.name = name
        self.default = default
        self.value = default
        self.aliases = tuple(aliases)
        self.env_vars = tuple(env_vars)
        self.help = help
        self.on_change = on_change


class Config:
    """Registry of named boolean options (see the module docstring)."""

    # Mirrors of options read on hot paths; kept in sync by ``update``.
    x64_enabled: bool
    jit_disabled: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_options", {})   # canonical name -> _Option
        object.__setattr__(self, "_names", {})     # name or alias -> canonical
        object.__setattr__(self, "x64_enabled", False)
        object.__setattr__(self, "jit_disabled", False)

    # -- definition ---------------------------------------------------------
    def define_bool(self, name: str, default: bool, *,
                    aliases: tuple[str, ...] = (),
                    env_vars: tuple[str, ...] = (),
                    help: str = "",
                    on_change: Callable[[bool], None] | None = None) -> None:
        """Register a boolean option.

        Its initial value is taken from the first of ``env_vars`` that is set
        in the environment, else ``default``. ``on_change(new_value)`` is
        called after every update (and once at definition).
        """
        if name in self._names:
            raise ValueError(f"config option {name!r} is already defined")
        for alias in aliases:
            if alias in self._names:
                raise ValueError(f"config alias {alias!r} is already defined")
        value = bool(default)
        for var in env_vars:
            raw = os.environ.get(var)
            if raw is not None:
                value = _parse_bool(raw, f"environment variable {var}")
                break
        opt = _Option(name, bool(default), aliases, env_vars, help, on_change)
        opt.value = value
        self._options[name] = opt
        self._names[name] = name
        for alias in aliases:
            self._names[alias] = name
        if on_change is not None:
            on_change(value)

    # -- access -------------------------------------------------------------
    def _option(self, name: str) -> _Option:
        try:
            return self._options[self._names[name]]
        except (KeyError, TypeError):
            raise AttributeError(f"Unrecognized config option: {name!r}") from None

    def read(self, name: str) -> Any:
        """Current value of option ``name`` (a canonical name or an alias)."""
        return self._option(name).value

    def update(self, name: str, value: Any) -> None:
        """Set option ``name`` (a canonical name or an alias) to ``value``."""
        opt = self._option(name)
        new = _parse_bool(value, f"config option {name!r}")
        opt.value = new
        if opt.on_change is not None:
            opt.on_change(new)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal attribute lookup fails.
        if name.startswith("__"):
            raise AttributeError(name)
        return self._option(name).value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._names:
            self.update(name, value)
            return
        raise AttributeError(
            f"cannot set {name!r} on config; use config.update(name, value) "
            "with a defined option name")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._names))

    def values(self) -> dict[str, Any]:
        """Mapping of every canonical option name to its current value."""
        return {name: opt.value for name, opt in self._options.items()}

    def trace_state(self) -> tuple:
        """Hashable snapshot of all option values, for use in cache keys."""
        return tuple((name, opt.value) for name, opt in self._options.items())

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.values().items())
        return f"Config({inner})"


config = Config()


def _set_x64_mirror(value: bool) -> None:
    object.__setattr__(config, "x64_enabled", bool(value))


config.define_bool(
    "kiln_enable_x64", False,
    aliases=("jax_enable_x64",),
    env_vars=("KILN_ENABLE_X64", "JAX_ENABLE_X64"),
    help="Keep 64-bit dtypes (int64/uint64/float64/complex128) instead of "
         "canonicalising them to 32-bit ones.",
    on_change=_set_x64_mirror,
)


config.define_bool(
    "kiln_disable_jit", False,
    aliases=("jax_disable_jit",),
    env_vars=("KILN_DISABLE_JIT", "JAX_DISABLE_JIT"),
    help="Run kiln.jit functions as plain Python on concrete arrays (for debugging).",
    on_change=lambda value: object.__setattr__(config, "jit_disabled", bool(value)),
)


@contextlib.contextmanager
def _temporarily(name: str, value: bool) -> Iterator[None]:
    """Set option `name` to `value` inside the context, restoring it on exit (also on
    exceptions)."""
    previous = config.read(name)
    config.update(name, value)
    try:
        yield
    finally:
        config.update(name, previous)


def disable_jit(disable: bool = True) -> contextlib.AbstractContextManager[None]:
    """Context manager in which `kiln.jit` functions run as plain Python, op by op, on
    concrete arrays (prints and breakpoints see values), as `jax.disable_jit`."""
    return _temporarily("kiln_disable_jit", disable)


def enable_x64(flag: bool = True) -> contextlib.AbstractContextManager[None]:
    """Context manager that sets ``kiln_enable_x64`` to ``flag`` and restores
    the previous value on exit (also on exceptions)."""
    return _temporarily("kiln_enable_x64", flag)


def disable_x64() -> contextlib.AbstractContextManager[None]:
    """Context manager equivalent to ``enable_x64(False)``."""
    return enable_x64(False)
