"""What rewritten code calls, under the name `__kiln__`.

- `call(f, *args, **kwargs)`: calls `f`, converting it first if it is user Python code.
- `at(x)[idx].set(v)` / `.augmented(op, v)`: an indexed write; functional on arrays, the
  ordinary in-place write on lists, dicts and other Python objects.
"""
from __future__ import annotations

import builtins
import functools
import inspect
import operator
import sysconfig
import types

import numpy as np

from kiln import staging
from kiln.errors import ConcretizationTypeError, TracerArrayConversionError
from kiln.frontend.convert import convert, is_converted
from kiln.staging import Staged

_LIBRARY_PATHS = tuple({sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")})


def _is_user_function(fn) -> bool:
    # By file, not __module__: functools.wraps copies the user's __module__ onto kiln's wrappers.
    from kiln.staging import _is_kiln_file
    filename = fn.__code__.co_filename
    return not _is_kiln_file(filename) and not filename.startswith(_LIBRARY_PATHS)


def staging_target(f):
    """What to call for `f` while staging: its converted version, or `f` itself."""
    if is_converted(f):
        return f
    inline = getattr(f, "__kiln_inline__", None)
    if inline is not None:  # a kiln.jit function called inside a kiln function: inline it
        return staging_target(inline)
    if isinstance(f, functools.partial):
        return functools.partial(staging_target(f.func), *f.args, **f.keywords)
    if isinstance(f, types.MethodType):
        func = staging_target(f.__func__)
        return f if func is f.__func__ else types.MethodType(func, f.__self__)
    if inspect.isfunction(f):
        return convert(f) if _is_user_function(f) else f
    if isinstance(f, type) or not callable(f):
        return f
    call_method = getattr(type(f), "__call__", None)
    if inspect.isfunction(call_method) and _is_user_function(call_method):
        return types.MethodType(convert(call_method), f)
    return f


def call(f, *args, **kwargs):
    target = staging_target(f)
    if target is not f or not _is_native(f):
        return target(*args, **kwargs)
    try:
        return f(*args, **kwargs)
    except (ConcretizationTypeError, TracerArrayConversionError) as e:
        # Native code (math.sin, np.sin, ...) asked an array value for a number. Say which
        # call did, unless the error came from Python code it called back (reduce's function).
        caller = e.__traceback__.tb_next
        if caller is None or caller.tb_frame.f_code.co_filename != _STAGING_FILE:
            raise
        raise type(e)(_native_message(f), e.loc) from None


_STAGING_FILE = staging.__file__


def _native_message(f) -> str:
    name = getattr(f, "__name__", None) or repr(f)
    module = getattr(f, "__module__", None) or getattr(type(getattr(f, "__self__", None)), "__name__", "")
    module = "numpy" if isinstance(f, np.ufunc) else module
    import kiln.numpy as knp
    advice = (f"use kiln.numpy.{name}" if hasattr(knp, name) and not name.startswith("_")
              else "use kiln.numpy functions instead")
    return (f"{module}.{name} is native code: it needs a concrete number, and cannot see inside an "
            f"array value being compiled; {advice}")


def _is_native(f) -> bool:
    """A function implemented in C, other than Python's builtins (len, isinstance, max, ...)."""
    if isinstance(f, (types.BuiltinFunctionType, np.ufunc)):
        return getattr(f, "__self__", None) is not builtins and getattr(f, "__module__", None) != "builtins"
    return False


class at:
    __slots__ = ("target",)

    def __init__(self, target):
        self.target = target

    def __getitem__(self, index):
        return _Write(self.target, index)


_AUGMENTED = {
    "+=": (operator.add, operator.iadd), "-=": (operator.sub, operator.isub),
    "*=": (operator.mul, operator.imul), "/=": (operator.truediv, operator.itruediv),
    "//=": (operator.floordiv, operator.ifloordiv), "%=": (operator.mod, operator.imod),
    "**=": (operator.pow, operator.ipow), "@=": (operator.matmul, operator.imatmul),
    "&=": (operator.and_, operator.iand), "|=": (operator.or_, operator.ior),
    "^=": (operator.xor, operator.ixor), "<<=": (operator.lshift, operator.ilshift),
    ">>=": (operator.rshift, operator.irshift),
}


def _is_array(x) -> bool:
    from kiln.runtime.array import Array
    return isinstance(x, (Array, Staged))


class _Write:
    __slots__ = ("target", "index")

    def __init__(self, target, index):
        self.target, self.index = target, index

    def set(self, value):
        target = self.target
        if _writes_functionally(target, self.index, value):
            import kiln.numpy as knp
            return knp.asarray(target).at[self.index].set(value)
        target[self.index] = value
        return target

    def augmented(self, op: str, value):
        plain, inplace = _AUGMENTED[op]
        target = self.target
        if _writes_functionally(target, self.index, value):
            import kiln.numpy as knp
            target = knp.asarray(target)
            return target.at[self.index].set(plain(target[self.index], value))
        target[self.index] = inplace(target[self.index], value)
        return target


def _writes_functionally(target, index, value) -> bool:
    """Arrays are updated functionally; so is a NumPy array written with staged values."""
    if _is_array(target):
        return True
    return isinstance(target, np.ndarray) and (_contains_staged(index) or isinstance(value, Staged))


def _contains_staged(index) -> bool:
    if isinstance(index, tuple):
        return any(_contains_staged(i) for i in index)
    if isinstance(index, slice):
        return any(isinstance(v, Staged) for v in (index.start, index.stop, index.step))
    return isinstance(index, Staged)


# Rewritten control flow calls these too (`__kiln__.if_stmt`, ...).
from kiln.frontend.control_flow_ops import (and_, for_stmt, if_exp, if_stmt, ld, loop_range,  # noqa: E402,F401
                                            not_, or_, static_iter, static_test, while_stmt)
