"""The public transformations that compile: `jit`, `make_ir`, `show`."""
from __future__ import annotations

import contextlib
import functools
import os
import weakref

import numpy as np

from kiln.dynamic_dims import DynamicDims
from kiln.driver import (Signature, argument_leaves, cache_key, import_epoch, is_float0, leaf_value,
                         qualname, stage)
from kiln.runtime.array import Array
from kiln.runtime.dtypes import float0
from kiln.runtime.config import config
from kiln.runtime.pytree import tree_flatten, tree_structure, tree_unflatten
from kiln.staging import current_builder, staging_stack


class Compiled:
    """One specialisation, compiled: call it with the flat argument leaves."""
    __slots__ = ("spec", "run", "in_avals", "natives")

    def __init__(self, spec, run):
        self.spec, self.run, self.in_avals = spec, run, None
        self.natives: dict = {}  # fast-path key -> (builtin, treedef to unflatten or None) or None

    def native(self, key, args):
        """The backend's native entry for calls with arguments like `args` (all arrays, each
        one leaf), built once per key; None where the backend has none for them."""
        if key not in self.natives:
            self.natives[key] = self._build_native(args)
        return self.natives[key]

    def _build_native(self, args):
        make = getattr(self.run, "native_entry", None)
        if make is None or self.spec.float0_outputs or any(map(is_float0, args)):
            return None
        inputs = []
        for a in args:
            value = a._value if type(a) is Array else a
            inputs.append((type(a), value.shape, value.dtype, type(a) is Array and a.weak_type))
        out_tree, n = self.spec.out_tree, len(self.spec.out_avals)
        if out_tree == tree_structure(0):
            result, unflatten = "leaf", None
        else:
            result = "tuple"
            unflatten = None if out_tree == tree_structure((0,) * n) else out_tree
        if n == 0:
            return None
        entry = make(inputs, [(a.shape, a.dtype, a.weak_type) for a in self.spec.out_avals], result)
        return None if entry is None else (entry, unflatten)

    def __call__(self, leaves, avals):
        pairs = zip(leaves, avals)
        if len(leaves) != len(self.spec.program.inputs):  # float0 arguments are no program inputs
            pairs = [(leaf, aval) for leaf, aval in pairs if aval.dtype != float0]
        values = self.run(*(leaf_value(leaf, aval) for leaf, aval in pairs))
        outs = [Array(v if v.dtype == a.dtype and v.shape == a.shape else v.astype(a.dtype).reshape(a.shape),
                      a.weak_type)
                for v, a in zip(map(_fresh, values), self.spec.out_avals)]
        return tree_unflatten(self.spec.out_tree, self.spec.outputs(outs))


def _fast_key(args):
    """The specialisation key of a call whose arguments are all arrays (each one leaf), read
    without binding the signature or flattening pytrees; None for any other call."""
    key = [config.x64_enabled]
    for a in args:
        t = type(a)
        if t is Array:
            value = a._value
            key.append((value.shape, value.dtype, a.weak_type))
        elif t is np.ndarray:
            key.append((t, a.shape, a.dtype))
        else:
            return None
    return tuple(key)


def _fresh(value):
    value = np.asarray(value)
    # Outputs may alias inputs or constants; an Array owns its buffer.
    return value if value.flags.owndata and value.flags.writeable else np.array(value)


_live: "weakref.WeakSet[JitFunction]" = weakref.WeakSet()  # for clear_caches


class JitFunction:
    """`kiln.jit(fn)`: compiles `fn` once per specialisation (shapes, dtypes, static args)."""

    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(),
                 donate_argnames=(), backend=None, dynamic_dims=None, **options):
        if not callable(fun):
            raise TypeError(f"kiln.jit expects a function, got {fun!r}")
        fun = getattr(fun, "__kiln_inline__", fun)  # jit of a jit function: one level
        functools.update_wrapper(self, fun)
        self._fun = fun
        _live.add(self)
        self._name = getattr(fun, "__name__", None) or type(fun).__name__
        self._signature = Signature.of(fun, static_argnums, static_argnames)
        self._backend = backend or default_backend()
        self._dynamic = None if dynamic_dims is None else \
            DynamicDims(fun, self._signature.signature, dynamic_dims, qualname(fun))
        self._cache: dict = {}
        self._fast: dict = {}  # _fast_key(args) -> Compiled, for calls whose arguments are all arrays
        # The native entry of the latest all-array call, valid while no module was imported or
        # reloaded and x64 is as it was: (builtin, treedef or None, import epoch, x64) or None.
        self._native = None

    @property
    def __kiln_inline__(self):
        """Inside another kiln function, a jit function is inlined: its Python function."""
        return self._fun

    def specialise(self, args, kwargs, build=True):
        """(Compiled, argument leaves, avals) for this call; with build=False, the
        Compiled may have no `run` (staged only, as `lower` needs), and is not cached."""
        bound, dynamic, static = self._signature.split(self._fun, args, kwargs)
        leaves, treedef, avals = argument_leaves(self._fun, dynamic)
        key = cache_key(treedef, avals, static)
        compiled = self._cache.get(key)
        # A helper's file rewritten (and reloaded) since staging: stage again.
        if compiled is None or not compiled.spec.sources_unchanged():
            spec = stage(self._fun, bound, treedef, avals, static, self._name)
            if not build:
                return Compiled(spec, None), leaves, avals
            run = None
            if self._dynamic is not None:  # (the reference backend has no machine code to share)
                shares = self._backend in ("llvm", "cpu")
                run = self._dynamic.run(
                    lambda other: stage(self._fun, bound, treedef, other, static, self._name), spec,
                    (treedef, static, config.x64_enabled), dynamic, avals,
                    shares and (lambda program, symbols: _backend_compile(self._backend, program, self._name, symbols)))
            if run is None:
                run = _backend_compile(self._backend, spec.program, self._name)
            compiled = self._cache[key] = Compiled(spec, run)
        return compiled, leaves, avals

    def __call__(self, *args, **kwargs):
        if config.jit_disabled and current_builder() is None:
            return self._fun(*args, **kwargs)
        native, tree = self._native, None
        if native is not None and not kwargs and not staging_stack \
                and native[2] == import_epoch.value and native[3] is config.x64_enabled:
            if native[4] is None:
                out = native[0](*args)  # NotImplemented when the arguments are not what it was built for
            else:
                flat, tree = tree_flatten(args)
                out = native[0](*flat) if tree == native[4] else NotImplemented
            if out is not NotImplemented:
                return out if native[1] is None else tree_unflatten(native[1], out)
        if current_builder() is not None:  # called while staging: inline, as inside kiln code
            from kiln.frontend.operators import staging_target
            return staging_target(self._fun)(*args, **kwargs)
        # Calls whose arguments are arrays, or pytrees of arrays, take a path that neither binds
        # the signature nor looks at static arguments: keyed by their arrays' kinds (and the
        # pytree structure), once a call like them has shown that every leaf is dynamic.
        key = None
        if not kwargs:
            key = _fast_key(args)
            if key is not None:
                flat, tree = args, None
            else:
                if tree is None:  # (not flattened for the native entry above)
                    flat, tree = tree_flatten(args)
                inner = _fast_key(flat)
                key = None if inner is None else (tree, inner)
        if key is not None:
            compiled = self._fast.get(key)
            if compiled is not None and compiled.spec.sources_unchanged():
                # The second call like this one: from the next, go native where the backend can.
                entry = compiled.native(key, flat)
                self._native = None if entry is None else (*entry, import_epoch.value, config.x64_enabled, tree)
                return compiled(flat, compiled.in_avals)
        compiled, leaves, avals = self.specialise(args, kwargs)
        if key is not None and len(leaves) == len(flat) and all(l is a for l, a in zip(leaves, flat)):
            # Every leaf is dynamic: next time, skip binding (and flattening).
            compiled.in_avals = avals
            self._fast[key] = compiled
        return compiled(leaves, avals)

    def lower(self, *args, **kwargs):
        """The staged program for these arguments (compiled only if it already was)."""
        compiled, _, _ = self.specialise(args, kwargs, build=False)
        return compiled.spec.program

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def __repr__(self):
        return f"<kiln.jit of {qualname(self._fun)}>"


def default_backend() -> str:
    """The backend of `kiln.jit` when none is named: $KILN_BACKEND, else LLVM (native code for
    this CPU). `KILN_BACKEND=reference` runs everything on the readable NumPy backend."""
    return os.environ.get("KILN_BACKEND", "") or "llvm"


def _backend_compile(backend: str, program, name: str, symbols=()):
    if backend in ("reference", "python"):
        from kiln.backends.reference import compile_program
        return compile_program(program, _identifier(name))
    if backend in ("llvm", "cpu"):
        from kiln.backends.llvm import compile_program
        return compile_program(program, _identifier(name), symbols)
    raise ValueError(f"kiln: unknown backend {backend!r}; available: 'reference', 'llvm'")


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return cleaned if cleaned and not cleaned[0].isdigit() else "f_" + cleaned


def jit(fun=None, *, static_argnums=(), static_argnames=(), donate_argnums=(), donate_argnames=(),
        backend=None, dynamic_dims=None, **options):
    """Compile `fun`; usable as `@jit`, `jit(f, static_argnums=...)` or `partial(jit, ...)`.

    `dynamic_dims` declares dimensions whose size may change from call to call without
    compiling again, e.g. `{"x": 0}` or `{"x": {0: "batch"}, "y": {0: "batch"}}` (see
    `kiln.dynamic_dims`)."""
    if fun is None:
        return functools.partial(jit, static_argnums=static_argnums, static_argnames=static_argnames,
                                 donate_argnums=donate_argnums, donate_argnames=donate_argnames,
                                 backend=backend, dynamic_dims=dynamic_dims, **options)
    return JitFunction(fun, static_argnums, static_argnames, donate_argnums, donate_argnames,
                       backend, dynamic_dims, **options)


def _as_jit(fun, static_argnums=(), static_argnames=()) -> JitFunction:
    if isinstance(fun, JitFunction) and not static_argnums and not static_argnames:
        return fun
    return JitFunction(getattr(fun, "__kiln_inline__", fun), static_argnums, static_argnames)


def make_ir(fun, static_argnums=(), static_argnames=()):
    """`kiln.make_ir(f)(*args)`: the IR of `f` for these arguments (prints like make_jaxpr)."""
    jf = _as_jit(fun, static_argnums, static_argnames)

    @functools.wraps(fun)
    def make(*args, **kwargs):
        return jf.lower(*args, **kwargs)
    return make


make_jaxpr = make_ir


def eval_shape(fun, *args, **kwargs):
    """The shapes and dtypes `fun(*args, **kwargs)` would return, as a pytree of
    `ShapeDtypeStruct`, found by staging it (nothing is compiled or run). Arguments may be
    arrays or `ShapeDtypeStruct`s."""
    from kiln.callbacks import ShapeDtypeStruct
    from kiln.tree_util import tree_map, tree_unflatten
    args, kwargs = tree_map(lambda x: _placeholder(x) if isinstance(x, ShapeDtypeStruct) else x, (args, kwargs))
    compiled, _, _ = _as_jit(fun, (), ()).specialise(args, kwargs, build=False)
    spec = compiled.spec
    leaves = iter(ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in spec.out_avals)
    shapes = [next(leaves) if shape is None else ShapeDtypeStruct(shape, float0)
              for shape in (spec.float0_outputs or [None] * len(spec.out_avals))]
    return tree_unflatten(spec.out_tree, shapes)


def _placeholder(struct):
    """An array standing for a ShapeDtypeStruct while staging (its values are never read)."""
    from kiln.runtime.array import Array
    return Array(np.broadcast_to(np.zeros((), struct.dtype), struct.shape), struct.weak_type)


def show(fun, *args, static_argnums=(), static_argnames=(), **kwargs) -> str:
    """The readable Python that kiln runs for `fun(*args, **kwargs)` (the reference backend)."""
    from kiln.backends.reference import python_source
    jf = _as_jit(fun, static_argnums, static_argnames)
    return python_source(jf.lower(*args, **kwargs), _identifier(jf._name))


def clear_caches():
    """Forget every staged and compiled specialisation (the next calls stage and compile
    again), as `jax.clear_caches`."""
    for jf in list(_live):
        jf._cache.clear()
        jf._fast.clear()
        jf._native = None
    from kiln.backends.llvm.engine import clear_cache
    clear_cache()


def named_call(fun, *, name=None):
    """`fun` itself: kiln's IR names each equation's source line instead."""
    return fun


@contextlib.contextmanager
def named_scope(name: str):
    """A context that does nothing in kiln (equations carry their source lines)."""
    if not isinstance(name, str):
        raise TypeError("named_scope name argument must be a string.")
    yield


@contextlib.contextmanager
def ensure_compile_time_eval():
    """A context that does nothing in kiln: values that do not depend on a function's
    arguments are computed while staging anyway."""
    yield


def typeof(x):
    """The abstract value (shape, dtype, weak type) of x."""
    from kiln.primitives import aval_of
    return aval_of(x)


def linear_transpose(fun, *primals, reduce_axes=()):
    """The transpose of the linear function `fun` at arguments shaped like `primals`: a
    function from output cotangents to a tuple of input cotangents."""
    from kiln.ad import vjp
    from kiln.tree_util import tree_map
    zeros = tree_map(lambda p: np.zeros(np.shape(p), p.dtype), primals)
    _, pullback = vjp(fun, *zeros)

    def transposed(*cotangents):
        return pullback(cotangents[0] if len(cotangents) == 1 else cotangents)
    return transposed


def closure_convert(fun, *example_args):
    """(converted, consts) with `converted(*args, *consts) == fun(*args)`, as
    `jax.closure_convert`: kiln's custom_vjp functions may close over arrays, so the
    constants are left closed over and `consts` is empty."""
    n = len(example_args)

    def converted(*args_and_consts):
        return fun(*args_and_consts[:n])
    return converted, []


class checkpoint_policies:
    """The names of `jax.checkpoint_policies`. kiln's checkpoint saves only its inputs
    whatever the policy (the results are the same; only memory and time differ)."""
    everything_saveable = nothing_saveable = dots_saveable = checkpoint_dots = \
        dots_with_no_batch_dims_saveable = checkpoint_dots_with_no_batch_dims = staticmethod(
            lambda *args, **kwargs: False)

    @staticmethod
    def save_only_these_names(*names):
        return lambda *args, **kwargs: False

    save_any_names_but_these = save_and_offload_only_these_names = save_only_these_names
