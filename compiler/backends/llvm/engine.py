"""From LLVM IR to a callable: the host target machine, the -O3 pipeline (with the loop and
SLP vectorizers), MCJIT, and the Python entry that passes buffers in.

`KILN_DUMP=plan,llvm,opt,asm` (any of them, comma-separated) prints the fusion plan, the
generated IR, the optimised IR and the machine code of each compiled program to stderr, so
anyone can check what was fused and that the loops vectorized.
"""
from __future__ import annotations

import collections
import ctypes
import functools
import os
import sys

import numpy as np
import llvmlite.binding as llvm
from llvmlite import ir

from kiln.backends.llvm import blas, host_call
from kiln.backends.llvm.codegen import ENTRY, generate
from kiln.backends.llvm.plan import plan as make_plan
from kiln.ir import DimExpr, Literal, Program


# LLVM's -O3 fully unrolls loops whose bodies cost up to 300 (its `-unroll-threshold`), which
# on kiln's small fixed-size loop nests multiplies the code: a convolution's gradient (30
# kernels) spent 2.1 s in the pipeline, 0.46 s at 100, with its run time unchanged (318 vs
# 283 us). The option is process-wide LLVM state, shared with other llvmlite users.
UNROLL_THRESHOLD = 100


@functools.lru_cache(maxsize=None)
def _initialise():
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    llvm.set_option("kiln", f"-unroll-threshold={UNROLL_THRESHOLD}")
    for name, address in blas.gemm_pointers().items():
        llvm.add_symbol(name, address)


@functools.lru_cache(maxsize=None)
def target_machine():
    """The host's target machine, for optimising and emitting code."""
    return new_target_machine()


def new_target_machine():
    """A target machine of its own: an MCJIT engine takes ownership of the one it is given.

    The large code model addresses constants and calls with 64-bit absolute values: MCJIT maps
    a module's code and constant sections separately, and in a long-lived process they end up
    more than 2 GiB apart, where the small model's 32-bit PC-relative references overflow
    (RuntimeDyld then aborts the process)."""
    _initialise()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(),
                                        opt=3, reloc="pic", codemodel="large")


def jit_engine(module: llvm.ModuleRef) -> llvm.ExecutionEngine:
    """An MCJIT engine for `module`, finalized."""
    engine = llvm.create_mcjit_compiler(module, new_target_machine())
    engine.finalize_object()
    return engine


def _dump_kinds() -> set:
    return {k.strip() for k in os.environ.get("KILN_DUMP", "").split(",") if k.strip()}


def _dump(kind: str, name: str, text: str):
    print(f"---- kiln {kind}: {name} ----\n{text}", file=sys.stderr)


# Past this many lines of IR the loop vectorizer and unroller are left out: they cost most of
# the -O3 time, and such modules are nests of loops over scalars (reverse over reverse through
# a while loop: 46,000 lines, optimised in 17.7 s with them, 2.7 s without).
LARGE_MODULE_LINES = 20_000


def optimise(module) -> llvm.ModuleRef:
    """Parse (a module or its text), verify and run the -O3 pipeline (loop and SLP
    vectorization on; loop vectorization and unrolling off for large modules)."""
    text = str(module)
    tm = target_machine()
    ref = llvm.parse_assembly(text)
    ref.triple = llvm.get_process_triple()
    ref.data_layout = str(tm.target_data)
    ref.verify()
    small = text.count("\n") <= LARGE_MODULE_LINES
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = small
    pto.slp_vectorization = True
    pto.loop_unrolling = small
    builder = llvm.create_pass_builder(tm, pto)
    builder.getModulePassManager().run(ref, builder)
    return ref


_COMPILED: collections.OrderedDict = collections.OrderedDict()  # IR text -> (module, engine)
CACHE_SIZE = 256


def machine_code(module: ir.Module):
    """(optimised module, MCJIT engine) of generated IR. Programs that generate the same IR (a
    function jitted again, or the same operations at the same shapes elsewhere) share one
    compilation: the most recent CACHE_SIZE are kept. The code reads its constants, inputs and
    outputs from the buffer table it is called with, so sharing it is safe."""
    text = str(module)
    key = text.split("\n", 1)[1]  # (the first line names the module after the function)
    hit = _COMPILED.get(key)
    if hit is not None:
        _COMPILED.move_to_end(key)
        return hit
    optimised = optimise(text)
    _COMPILED[key] = compiled = (optimised, jit_engine(optimised))
    if len(_COMPILED) > CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return compiled


def clear_cache():
    """Forget every compilation (so that a benchmark's first call compiles)."""
    _COMPILED.clear()


def _data_reader():
    """The fastest way to read an ndarray's data pointer: NumPy's public `PyArrayObject_fields`
    struct starts with the object header and then `char *data`, so the pointer sits right after
    the header (~0.25 us, where `.ctypes.data` takes ~1.4 us). Checked once; if the layout were
    ever different, `.ctypes.data` is used."""
    header = object.__basicsize__  # ob_refcnt and ob_type
    probe = np.arange(3.0)
    read = ctypes.c_void_p.from_address
    if read(id(probe) + header).value == probe.ctypes.data:
        return lambda a: read(id(a) + header).value
    return lambda a: a.ctypes.data


data_pointer = _data_reader()


class Executable:
    """A compiled program. `bind(sizes)` gives the callable for one set of sizes of its symbolic
    dimensions (a program generalised over `dynamic_dims`; `bind({})` without them).

    The entry's buffer table holds, in order: a pointer to the sizes (int64, one per symbol,
    only when there are symbols), the constants, the inputs, the outputs."""

    def __init__(self, program: Program, name: str, symbols=()):
        dump = _dump_kinds()
        self.symbols = tuple(symbols)
        self.plan = make_plan(program)
        if "plan" in dump:
            _dump("plan", name, self.plan.describe())
        produced = set(self.plan.buffers)
        self.out_vars = list(dict.fromkeys(v for v in program.outputs
                                           if not isinstance(v, Literal) and v in produced))
        self.consts = [np.ascontiguousarray(value) for _, value in program.consts]
        self.const_by_var = {v: c for (v, _), c in zip(program.consts, self.consts)}
        arg_vars = [v for v, _ in program.consts] + list(program.inputs) + self.out_vars
        module = generate(self.plan, arg_vars, name, self.symbols)
        if "llvm" in dump:
            _dump("llvm", name, str(module))
        self.module, self.engine = machine_code(module)
        if "opt" in dump:
            _dump("optimised llvm", name, str(self.module))
        if "asm" in dump:
            _dump("asm", name, target_machine().emit_assembly(self.module))
        self.address = self.engine.get_function_address(ENTRY)
        self.entry = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(self.address)
        self.table = ctypes.c_void_p * (len(arg_vars) + bool(self.symbols))
        self.const_pointers = [data_pointer(c) for c in self.consts]
        # each output: the index of the buffer the entry wrote, or None (an input, a constant
        # or a literal, copied after the call)
        written = {v: k for k, v in enumerate(self.out_vars)}
        self.picks = [None if isinstance(v, Literal) else written.get(v) for v in program.outputs]
        self.copied = any(k is None for k in self.picks)
        self.host_calls = host_call.uses_host_calls(self.plan)
        self.program = program

    def bind(self, sizes: dict) -> "Run":
        return Run(self, sizes)

    def object_code(self) -> bytes:
        """Relocatable machine code of the program (for storing compiled artifacts)."""
        return target_machine().emit_object(self.module)


def _concrete(shape, sizes) -> tuple:
    return tuple(d.evaluate(sizes) if isinstance(d, DimExpr) else d for d in shape)


class Run:
    """An executable at one set of sizes: `run(*inputs)` returns the outputs as NumPy arrays."""

    def __init__(self, exe: Executable, sizes: dict):
        self.exe = exe
        self.sizes = dict(sizes)
        self.size_array = np.array([sizes[s] for s in exe.symbols], np.int64)  # read by the code
        self.pointers = ([data_pointer(self.size_array)] if exe.symbols else []) + exe.const_pointers
        self.out_avals = [(_concrete(v.aval.shape, sizes), v.aval.dtype) for v in exe.out_vars]
        self.in_avals = [(_concrete(v.aval.shape, sizes), v.aval.dtype) for v in exe.program.inputs]

    def native_entry(self, inputs, outputs, result: str):
        """A CPython builtin running this program for calls whose arguments are exactly
        `inputs` (see dispatch.build), or None where the outputs are not all fresh buffers of
        the program with the avals `outputs` (a program that passes an input or a constant
        through keeps the general path)."""
        exe = self.exe
        if exe.copied or exe.host_calls or len(set(exe.picks)) != len(exe.picks):
            return None
        written = [self.out_avals[k] for k in exe.picks]
        if [(tuple(s), np.dtype(d)) for s, d, _ in outputs] != [(tuple(s), np.dtype(d)) for s, d in written]:
            return None
        if [(tuple(s), np.dtype(d)) for _, s, d, _ in inputs] != [(s, np.dtype(d)) for s, d in self.in_avals]:
            return None
        from kiln.backends.llvm import dispatch
        return dispatch.build(exe.address, self.pointers, inputs, list(zip(outputs, exe.picks)), result,
                              keep_alive=self)

    def __call__(self, *inputs):
        exe = self.exe
        arrays = [np.ascontiguousarray(x) for x in inputs]
        outs = [np.empty(shape, dtype) for shape, dtype in self.out_avals]
        exe.entry(exe.table(*self.pointers, *map(data_pointer, arrays), *map(data_pointer, outs)))
        if exe.host_calls:
            host_call.raise_pending()
        if not exe.copied:
            return tuple(outs[k] for k in exe.picks)
        return tuple(outs[k] if k is not None else self._copy(v, arrays)
                     for k, v in zip(exe.picks, exe.program.outputs))

    def _copy(self, v, arrays):
        """An output the program passes through: a literal, an input or a constant."""
        if isinstance(v, Literal):
            value = v.value.evaluate(self.sizes) if isinstance(v.value, DimExpr) else v.value
            return np.full(_concrete(v.aval.shape, self.sizes), value, v.aval.dtype)
        if v in self.exe.const_by_var:
            return np.array(self.exe.const_by_var[v])
        return np.array(arrays[self.exe.program.inputs.index(v)])


def compile_program(program: Program, name: str = "f", symbols=()):
    """A callable running `program` natively: `fn(*inputs) -> tuple of NumPy arrays`; for a
    program with symbolic dimensions (`symbols`, their names), an Executable to `bind`."""
    executable = Executable(program, name, symbols)
    return executable if symbols else executable.bind({})
