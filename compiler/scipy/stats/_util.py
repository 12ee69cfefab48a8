"""What the distributions of kiln.scipy.stats share.

Most of them are location-scale families: with z = (x - loc) / scale,

    logpdf(x) = logpdf_1(z) - log(scale)      cdf(x) = cdf_1(z)      sf(x) = sf_1(z)
    ppf(q) = loc + scale * ppf_1(q)           isf(q) = loc + scale * isf_1(q)

where the functions with suffix _1 are the standardized distribution's (loc=0, scale=1). A
module writes only those (`_1` functions of `z` and the shape parameters) and asks
`LocScale(...)` for its public functions; the discrete distributions do the same with a shift,
`Shifted(...)`: logpmf(k) = logpmf_1(k - loc).

Missing functions are derived, as the textbook does: pdf = exp(logpdf), logcdf = log(cdf),
cdf = exp(logcdf), logsf = log(sf), sf = exp(logsf), isf(q) = ppf(1 - q).

The public functions take JAX's arguments (the first, then the shape parameters, then loc and
scale), positionally or by name; all array arguments are promoted to one inexact dtype (with
JAX's weak types) and broadcast together before anything is computed.
"""
from __future__ import annotations

import inspect

from kiln import numpy as knp
from kiln.numpy.core import promote_inexact
from kiln.primitives import aval_of


def inexact(*args):
    """The arguments as arrays of one inexact dtype and one shape."""
    args = promote_inexact(*args)
    if len({aval_of(a).shape for a in args}) > 1:
        args = knp.broadcast_arrays(*args)
    return args


def _bind(fn_name, names, defaults, args, kwargs):
    """Python's argument binding for `fn(*args, **kwargs)` against `names`, as a list."""
    if len(args) > len(names):
        raise TypeError(f"{fn_name}() takes {len(names)} arguments but {len(args)} were given")
    values = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise TypeError(f"{fn_name}() got an unexpected keyword argument {key!r}")
        if key in values:
            raise TypeError(f"{fn_name}() got multiple values for argument {key!r}")
        values[key] = value
    for key, value in defaults.items():
        values.setdefault(key, value)
    missing = [n for n in names if n not in values]
    if missing:
        raise TypeError(f"{fn_name}() missing required arguments: {', '.join(missing)}")
    return [values[n] for n in names]


def _signature(names, defaults):
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    return inspect.Signature([inspect.Parameter(n, kind, default=defaults.get(n, inspect.Parameter.empty))
                              for n in names])


class _Family:
    """Public functions built from standardized ones; see the module docstring."""

    first = "x"           # the name of the first argument (of all but ppf and isf)
    offsets = ()          # the trailing parameters with defaults, e.g. ("loc", "scale")

    def __init__(self, module, shape=(), *, first_arg=None, **standard):
        self.module = module.rsplit(".", 1)[-1]
        self.module_path = module
        self.shape = tuple(shape)
        self.first_arg = {"ppf": "q", "isf": "q", **(first_arg or {})}
        self.standard = dict(standard)

    def public(self, *fn_names):
        """The functions `fn_names`, in that order (unpack them into the module's names)."""
        return tuple(self._make(name) for name in fn_names)

    def _make(self, name):
        names = (self.first_arg.get(name, self.first),) + self.shape + self.offsets
        defaults = {"loc": 0, "scale": 1}
        defaults = {n: defaults[n] for n in self.offsets}
        compute = self._rule(name)
        full_name = f"{self.module}.{name}"

        def fn(*args, **kwargs):
            return compute(*inexact(*_bind(full_name, names, defaults, args, kwargs)))

        fn.__name__ = fn.__qualname__ = name
        fn.__module__ = self.module_path
        fn.__signature__ = _signature(names, defaults)
        fn.__doc__ = f"{full_name}, as jax.scipy.stats.{full_name}."
        return fn


class LocScale(_Family):
    """A location-scale family: standardized functions f(z, *shape) -> public f(x, *shape, loc, scale).

    `positive_scale=True` makes the x functions NaN where scale <= 0 (as JAX's Gumbel ones)."""

    offsets = ("loc", "scale")

    def __init__(self, module, shape=(), *, positive_scale=False, **kw):
        super().__init__(module, shape, **kw)
        self.positive_scale = positive_scale

    def _rule(self, name):
        std = self.standard
        if name in ("ppf", "isf"):
            quantile = std.get(name) or (lambda q, *s: std["ppf"](1 - q, *s))
            return lambda q, *rest: rest[-2] + rest[-1] * quantile(q, *rest[:-2])
        if name == "pdf":
            logpdf = self._rule("logpdf")
            return lambda *args: knp.exp(logpdf(*args))
        if name == "logpdf":
            def standardized(z, *shape_and_scale):
                scale = shape_and_scale[-1]
                return std["logpdf"](z, *shape_and_scale[:-1]) - knp.log(scale)
        else:
            standardized = _derived(std, name)
        guard = self.positive_scale

        def on_x(x, *rest):
            *shape, loc, scale = rest
            args = (*shape, scale) if name == "logpdf" else tuple(shape)
            out = standardized((x - loc) / scale, *args)
            return knp.where(scale > 0, out, knp.nan) if guard else out
        return on_x


class Shifted(_Family):
    """A discrete family shifted by `loc`: standardized f(y, *shape) -> public f(k, *shape, loc)."""

    first = "k"
    offsets = ("loc",)

    def _rule(self, name):
        standardized = _derived(self.standard, name)
        return lambda k, *rest: standardized(k - rest[-1], *rest[:-1])


def _derived(std, name):
    """std[name], or the function derived from the others (pdf from logpdf, cdf from logcdf, ...)."""
    if name in std:
        return std[name]
    if name.startswith("log") and name[3:] in std:
        return lambda *a: knp.log(std[name[3:]](*a))
    if "log" + name in std:
        return lambda *a: knp.exp(std["log" + name](*a))
    raise NotImplementedError(f"no rule for {name}")
