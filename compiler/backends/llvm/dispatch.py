"""The native entry of a compiled program: a CPython builtin (METH_FASTCALL) generated in LLVM
that checks its arguments against one specialisation, allocates the outputs with NumPy's C API,
runs the program and wraps the results in kiln Arrays, with no Python in between.

A call whose arguments do not fit (another type, shape, dtype or layout) returns
`NotImplemented`, and the caller takes the general path. The entry bakes in addresses of this
process (type objects, NumPy's `PyArray_New`, the program's constants), so it is built per
process and never stored; the program's own object code stays relocatable.

Layouts read here are CPython's and NumPy's public structs: `PyObject` (refcount, type),
`PyArrayObject_fields` (data, nd, dimensions, strides, base, descr, flags) and `PyArray_Descr`
(`byteorder`, `type_num`). The slots of `kiln.Array` are found through their member descriptors
and checked on a probe before anything is generated; if any check fails, there is no native
entry and calls take the general path.
"""
from __future__ import annotations

import ctypes
import functools

import numpy as np
import llvmlite.binding as llvm
from llvmlite import ir

from kiln.backends.llvm.types import I8, I32, I64, PTR
from kiln.runtime.array import Array

METH_FASTCALL = 0x80
C_CONTIGUOUS, ALIGNED, WRITEABLE = 0x1, 0x100, 0x400
# offsets in PyArrayObject_fields and PyArray_Descr (64-bit)
DATA, ND, DIMS, DESCR, FLAGS = 16, 24, 32, 56, 64
BYTEORDER, TYPE_NUM = 26, 28


class _MethodDef(ctypes.Structure):
    _fields_ = [("ml_name", ctypes.c_char_p), ("ml_meth", ctypes.c_void_p),
                ("ml_flags", ctypes.c_int), ("ml_doc", ctypes.c_char_p)]


def _slot_offset(cls, name: str) -> int:
    """The byte offset of a `__slots__` member: PyMemberDescrObject.d_member->offset."""
    member_def = ctypes.c_void_p.from_address(id(cls.__dict__[name]) + 5 * 8).value
    return ctypes.c_ssize_t.from_address(member_def + 2 * 8).value


@functools.lru_cache(maxsize=None)
def _layout():
    """Addresses and offsets the entry relies on, checked on probes; None if anything is off."""
    api = ctypes.pythonapi
    capsule = ctypes.py_object(np._core._multiarray_umath._ARRAY_API)
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    table = api.PyCapsule_GetPointer(capsule, None)
    if not table or ctypes.c_void_p.from_address(table + 2 * 8).value != id(np.ndarray):
        return None
    offsets = {name: _slot_offset(Array, name) for name in ("_value", "weak_type", "_sharding")}
    probe = np.zeros((2, 3), np.float32)
    wrapped = Array(np.zeros(1), True)
    word = ctypes.c_void_p.from_address
    int32 = ctypes.c_int32.from_address
    if (word(id(probe) + DATA).value != probe.ctypes.data or int32(id(probe) + ND).value != 2
            or ctypes.c_int64.from_address(word(id(probe) + DIMS).value + 8).value != 3
            or int32(word(id(probe) + DESCR).value + TYPE_NUM).value != probe.dtype.num
            or word(id(wrapped) + offsets["_value"]).value != id(wrapped._value)
            or word(id(wrapped) + offsets["weak_type"]).value != id(True)
            or word(id(wrapped) + offsets["_sharding"]).value != id(None)):
        return None
    functions = {name: ctypes.cast(getattr(api, name), ctypes.c_void_p).value
                 for name in ("PyType_GenericAlloc", "PyTuple_New", "Py_IncRef", "Py_DecRef")}
    functions["PyArray_New"] = word(table + 93 * 8).value
    return offsets, functions


class _Emitter:
    """Builds the entry function; constants of this process are spelled as addresses."""

    def __init__(self, builder: ir.IRBuilder, functions: dict):
        self.b, self.functions = builder, functions
        self.miss = None
        self.declared: dict = {}

    def address(self, value: int) -> ir.Value:
        return ir.Constant(I64, value).inttoptr(PTR)

    def obj(self, python_object) -> ir.Value:
        return self.address(id(python_object))

    def load(self, ty, base, offset: int) -> ir.Value:
        return self.b.load(self.b.gep(base, [ir.Constant(I64, offset)], source_etype=I8), typ=ty)

    def store(self, value, base, offset: int):
        self.b.store(value, self.b.gep(base, [ir.Constant(I64, offset)], source_etype=I8))

    def call(self, name: str, ret, args, types):
        """Call the function at `functions[name]`, declared as an external symbol bound to it."""
        if name not in self.declared:
            symbol = f"kiln_dispatch_{name}_{self.functions[name]:x}"
            llvm.add_symbol(symbol, self.functions[name])
            self.declared[name] = ir.Function(self.b.module, ir.FunctionType(ret, types), symbol)
        return self.b.call(self.declared[name], args)

    def incref(self, value):
        self.call("Py_IncRef", ir.VoidType(), [value], [PTR])

    def decref(self, value):
        self.call("Py_DecRef", ir.VoidType(), [value], [PTR])

    def require(self, condition):
        """Continue when `condition` holds; otherwise return NotImplemented."""
        ok = self.b.append_basic_block("ok")
        self.b.cbranch(condition, ok, self.miss)
        self.b.position_at_end(ok)

    def fail_unless(self, value, created):
        """Continue when `value` is not NULL; otherwise release `created` and return NULL (the
        callee has set the exception)."""
        ok, fail = self.b.append_basic_block("allocated"), self.b.append_basic_block("failed")
        self.b.cbranch(self.b.icmp_unsigned("!=", value, ir.Constant(PTR, None)), ok, fail)
        self.b.position_at_end(fail)
        for c in created:
            self.decref(c)
        self.b.ret(ir.Constant(PTR, None))
        self.b.position_at_end(ok)


def _check_input(e: _Emitter, obj, kind, shape, dtype, weak, offsets) -> ir.Value:
    """The data pointer of argument `obj`, after checking it is what the program was built for."""
    b = e.b
    if kind is Array:
        e.require(b.icmp_unsigned("==", e.load(PTR, obj, 8), e.obj(Array)))
        e.require(b.icmp_unsigned("==", e.load(PTR, obj, offsets["weak_type"]), e.obj(bool(weak))))
        array = e.load(PTR, obj, offsets["_value"])
    else:
        array = obj
    dtype = np.dtype(dtype)
    e.require(b.icmp_unsigned("==", e.load(PTR, array, 8), e.obj(np.ndarray)))
    e.require(b.icmp_signed("==", e.load(I32, array, ND), ir.Constant(I32, len(shape))))
    flags = e.load(I32, array, FLAGS)
    layout = ir.Constant(I32, C_CONTIGUOUS | ALIGNED)
    ok = b.icmp_unsigned("==", b.and_(flags, layout), layout)
    descr = e.load(PTR, array, DESCR)
    ok = b.and_(ok, b.icmp_signed("==", e.load(I32, descr, TYPE_NUM), ir.Constant(I32, dtype.num)))
    ok = b.and_(ok, b.icmp_unsigned("!=", e.load(I8, descr, BYTEORDER), ir.Constant(I8, ord(">"))))
    if shape:
        dims = e.load(PTR, array, DIMS)
        for k, n in enumerate(shape):
            ok = b.and_(ok, b.icmp_signed("==", e.load(I64, dims, 8 * k), ir.Constant(I64, n)))
    e.require(ok)
    return e.load(PTR, array, DATA)


def build(program_entry: int, const_pointers, inputs, outputs, result: str, keep_alive):
    """A native entry, or None where this process's layouts are not the expected ones.

    program_entry: the address of the program's `kiln_entry(buffers)`, which `keep_alive` (the
    executable) owns; inputs: per argument, (Array or np.ndarray, shape, dtype, weak_type);
    outputs: per result leaf, ((shape, dtype, weak_type), k): it is the program's k-th output
    buffer, each a fresh one;
    result: "leaf" (one output, returned as is) or "tuple" (a tuple of the outputs).
    """
    layout = _layout()
    if layout is None:
        return None
    offsets, functions = layout[0], dict(layout[1])
    module = ir.Module("kiln_dispatch")
    fn = ir.Function(module, ir.FunctionType(PTR, [PTR, PTR, I64]), "kiln_dispatch")
    _, args, nargs = fn.args
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    e = _Emitter(b, functions)
    n_buffers = len(const_pointers) + len(inputs) + len(outputs)
    table = b.alloca(ir.ArrayType(PTR, max(n_buffers, 1)))
    e.miss = fn.append_basic_block("miss")
    e.require(b.icmp_signed("==", nargs, ir.Constant(I64, len(inputs))))

    def put(slot, pointer):
        b.store(pointer, b.gep(table, [ir.Constant(I32, 0), ir.Constant(I32, slot)]))

    for slot, pointer in enumerate(const_pointers):
        put(slot, e.address(pointer))
    for k, (kind, shape, dtype, weak) in enumerate(inputs):
        put(len(const_pointers) + k, _check_input(e, e.load(PTR, args, 8 * k), kind, shape, dtype, weak, offsets))
    first_output = len(const_pointers) + len(inputs)

    arrays = []
    new_array_type = ir.FunctionType(PTR, [PTR, I32, PTR, I32, PTR, PTR, I32, I32, PTR])
    for (shape, dtype, _), k in outputs:
        dims_type = ir.ArrayType(I64, max(len(shape), 1))
        dims = ir.GlobalVariable(module, dims_type, f"dims{len(arrays)}")
        dims.initializer = ir.Constant(dims_type, [ir.Constant(I64, n) for n in (shape or (0,))])
        dims.global_constant = True
        null = ir.Constant(PTR, None)
        array = e.call("PyArray_New", PTR,
                       [e.obj(np.ndarray), ir.Constant(I32, len(shape)), dims,
                        ir.Constant(I32, np.dtype(dtype).num), null, null, ir.Constant(I32, 0),
                        ir.Constant(I32, 0), null], new_array_type.args)
        e.fail_unless(array, arrays)
        arrays.append(array)
        put(first_output + k, e.load(PTR, array, DATA))

    functions["program"] = program_entry
    e.call("program", ir.VoidType(), [b.bitcast(table, PTR)], [PTR])

    wrapped = []
    for array, ((_, _, weak), _) in zip(arrays, outputs):
        flags = e.load(I32, array, FLAGS)
        e.store(b.and_(flags, ir.Constant(I32, ~WRITEABLE)), array, FLAGS)  # Arrays are read-only
        obj = e.call("PyType_GenericAlloc", PTR, [e.obj(Array), ir.Constant(I64, 0)], [PTR, I64])
        e.fail_unless(obj, wrapped + arrays[len(wrapped):])
        e.store(array, obj, offsets["_value"])  # the Array takes the array's reference
        for name, value in (("weak_type", bool(weak)), ("_sharding", None)):
            e.incref(e.obj(value))
            e.store(e.obj(value), obj, offsets[name])
        wrapped.append(obj)

    if result == "leaf":
        b.ret(wrapped[0])
    else:
        items = e.call("PyTuple_New", PTR, [ir.Constant(I64, len(wrapped))], [I64])
        e.fail_unless(items, wrapped)
        for k, obj in enumerate(wrapped):
            e.store(obj, items, 24 + 8 * k)  # PyTuple_SET_ITEM: the tuple takes the reference
        b.ret(items)

    b.position_at_end(e.miss)
    e.incref(e.obj(NotImplemented))
    b.ret(e.obj(NotImplemented))
    return _load(module, keep_alive)


def _load(module: ir.Module, keep_alive):
    from kiln.backends.llvm.engine import jit_engine
    ref = llvm.parse_assembly(str(module))
    ref.verify()
    engine = jit_engine(ref)
    method = _MethodDef(b"kiln_dispatch", engine.get_function_address("kiln_dispatch"), METH_FASTCALL, None)
    new = ctypes.pythonapi.PyCFunction_NewEx
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.py_object, ctypes.c_void_p]
    # The builtin's `self` keeps alive what its code points at: this engine, the method
    # definition, and the executable with the program and its constants.
    return new(ctypes.addressof(method), (engine, method, keep_alive), None)
