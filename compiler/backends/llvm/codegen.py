"""LLVM IR for a planned program: one function, `void kiln_entry(ptr* buffers)`.

`buffers` holds the program's constants, then its inputs, then its outputs (allocated by the
caller); a program with symbolic dimensions (see `kiln.passes.dynamic_dims`) gets a pointer to
their sizes (int64, one per symbol) before them, and every size in its code is computed from
those (`Codegen.i64`). Symbolic sizes are at least 1 when it runs (the driver checks it). Each kernel of the plan becomes a loop nest; values fused into a kernel are computed
in its innermost loop from their operands at the mapped index; intermediates are allocated
with malloc before their kernel and freed after the last kernel that reads them.
"""
from __future__ import annotations

import math

import numpy as np
from llvmlite import ir

from kiln.backends.llvm.lowerings import convert, scalar_rules
from kiln.backends.llvm import complex as complex_ops
from kiln.backends.llvm import control, host_call, indexing, linalg, parallel, reductions, sort
from kiln.backends.llvm.plan import CONTROL, HOST_CALLS, Plan, UnsupportedError
from kiln.backends.llvm.plan import buffers_read as _reads
from kiln.backends.llvm.plan import plan as make_plan
from kiln.backends.llvm.types import I1, I8, I32, I64, PTR, VOID, at_least_1, constant, last_index, is_float, is_signed, memory_type, register_type
from kiln.ir import DimExpr, Literal, Var

ENTRY = "kiln_entry"


def strides(shape) -> list[int]:
    out, step = [], 1
    for d in reversed(shape):
        out.append(step)
        step *= d
    return out[::-1]


class Codegen:
    def __init__(self, plan: Plan, arg_vars: list, name: str, symbols=()):
        self.plan = plan
        self.module = ir.Module(name)
        self.fn = ir.Function(self.module, ir.FunctionType(VOID, [PTR]), ENTRY)
        self.b = ir.IRBuilder(self.fn.append_basic_block("entry"))
        self.alloca_block = self.b.block
        self.ptrs = {}
        self.symbols = tuple(symbols)
        table = self.fn.args[0]
        slots = [self.b.load(self.b.gep(table, [ir.Constant(I64, i)], inbounds=True, source_etype=PTR),
                             typ=PTR, name=f"arg{i}") for i in range(len(arg_vars) + bool(symbols))]
        self.sizes_ptr = slots.pop(0) if symbols else None
        self.load_sizes()
        self.ptrs = dict(zip(arg_vars, slots))
        self.memo = {}
        self.precise = True  # libm for functions with a fast path (see `note_fallback`)
        self.fallback = None  # the stack slot of the current kernel's fallback flag

    # ------------------------------------------------------------------ sizes

    def load_sizes(self):
        """The symbolic sizes as i64 values of the current function (read at its entry)."""
        self.size_values = {s: self.b.load(self.b.gep(self.sizes_ptr, [ir.Constant(I64, k)], source_etype=I64),
                                           typ=I64, name=s)
                            for k, s in enumerate(self.symbols)}

    def i64(self, size):
        """An i64 value of a size: a constant, or computed from the symbolic sizes."""
        if not isinstance(size, DimExpr):
            return ir.Constant(I64, size)
        b, total = self.b, None
        for monomial, coefficient in size.terms:
            term = ir.Constant(I64, coefficient)
            for name in monomial:
                term = b.mul(term, self.size_values[name], flags=("nsw",))
            total = term if total is None else b.add(total, term, flags=("nsw",))
        return total

    def literal(self, atom):
        """The value of a literal (a size converted to its dtype where it is symbolic)."""
        if isinstance(atom.value, DimExpr):
            return convert(self, self.i64(atom.value), np.dtype(np.int64), atom.aval.dtype)
        return constant(atom.aval.dtype, atom.value)

    # ------------------------------------------------------------------ helpers for rules

    def intrinsic(self, name, args, ret=None):
        types = [a.type for a in args]
        if name in ("llvm.fptosi.sat", "llvm.fptoui.sat"):
            full, fn_type = f"{name}.{ret}.{types[0]}", ir.FunctionType(ret, types)
        elif name == "llvm.abs":
            full, fn_type = f"{name}.{types[0]}", ir.FunctionType(types[0], types)
        else:
            suffix = {"half": "f16", "float": "f32", "double": "f64"}.get(str(types[0]), str(types[0]))
            full, fn_type = f"{name}.{suffix}", ir.FunctionType(ret or types[0], types)
        fn = self.module.globals.get(full) or ir.Function(self.module, fn_type, full)
        return self.b.call(fn, args)

    def libm(self, name, dtype, args):
        """A call of the C library's `name` (`namef` for float32)."""
        full = name + ("f" if np.dtype(dtype) == np.float32 else "")
        fn = self.module.globals.get(full)
        if fn is None:
            t = register_type(dtype)
            fn = ir.Function(self.module, ir.FunctionType(t, [t] * len(args)), full)
            fn.attributes.add("nounwind")
        return self.b.call(fn, args)

    def note_fallback(self, condition):
        """A fast approximation does not hold for this element: run the kernel again with the
        C library's functions (`precise`) once the fast loop is done."""
        b = self.b
        flag = b.load(self.fallback, typ=I8)
        b.store(b.or_(flag, b.zext(condition, I8)), self.fallback)

    def external(self, name, ret, args):
        fn = self.module.globals.get(name)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(ret, [a.type for a in args]), name)
        return self.b.call(fn, args)

    # ------------------------------------------------------------------ loops

    def loop(self, n, body):
        """`for i in range(n): body(i)` with n > 0 known, or a symbolic n."""
        if isinstance(n, DimExpr):
            return self.loop_range(ir.Constant(I64, 0), self.i64(n), body)
        if n == 0:
            return
        b = self.b
        pre = b.block
        head = self.fn.append_basic_block("loop")
        after = self.fn.append_basic_block("after")
        b.branch(head)
        b.position_at_end(head)
        i = b.phi(I64, name="i")
        i.add_incoming(ir.Constant(I64, 0), pre)
        body(i)
        nxt = b.add(i, ir.Constant(I64, 1), flags=("nuw", "nsw"))
        i.add_incoming(nxt, b.block)
        b.cbranch(b.icmp_unsigned("<", nxt, ir.Constant(I64, n)), head, after)
        b.position_at_end(after)

    def loop_range(self, lo, hi, body):
        """`for i in range(lo, hi): body(i)` with lo, hi i64 values (possibly empty)."""
        b = self.b
        pre = b.block
        head = self.fn.append_basic_block("loop")
        after = self.fn.append_basic_block("after")
        b.cbranch(b.icmp_signed("<", lo, hi), head, after)
        b.position_at_end(head)
        i = b.phi(I64, name="i")
        i.add_incoming(lo, pre)
        body(i)
        nxt = b.add(i, ir.Constant(I64, 1), flags=("nsw",))
        i.add_incoming(nxt, b.block)
        b.cbranch(b.icmp_signed("<", nxt, hi), head, after)
        b.position_at_end(after)

    def while_(self, cond, body):
        """`while cond(): body()`; state lives in stack slots."""
        b = self.b
        head = self.fn.append_basic_block("while")
        loop = self.fn.append_basic_block("while.body")
        after = self.fn.append_basic_block("while.after")
        b.branch(head)
        b.position_at_end(head)
        b.cbranch(cond(), loop, after)
        b.position_at_end(loop)
        body()
        b.branch(head)
        b.position_at_end(after)

    def nest(self, shape, body, prefix=(), outer=None):
        """Loops over every index of `shape` (row-major), calling body(index); `outer` = (lo, hi)
        restricts the outermost loop (a thread's share)."""
        if len(prefix) == len(shape):
            self.memo = {}  # values computed at one index
            body(list(prefix))
            return
        inner = lambda i: self.nest(shape, body, (*prefix, i))
        if outer is not None and not prefix:
            self.loop_range(*outer, inner)
        else:
            self.loop(shape[len(prefix)], inner)

    def split_nest(self, eqn, shape, body, work=None):
        """`nest(shape, body)`, across the cores when the kernel is large enough (`work`
        elements, the shape's size by default): the nest is outlined into a function of
        (buffers, lo, hi) run by `kiln_parallel_for`. Where the work is symbolic, the nest is
        outlined all the same, and the sizes choose when it runs between `kiln_parallel_for`
        and one call for the whole range."""
        work = math.prod(shape) if work is None else work
        worth = parallel.worth_splitting(shape, work)
        if worth is False:
            return self.nest(shape, body)
        bases = list(dict.fromkeys([*(self.plan.views.get(v, v) for v in _reads(eqn, self.plan)), *eqn.outputs]))
        bases = [v for v in bases if v in self.ptrs]
        shared_flag = self.fallback
        table = self.entry_alloca(PTR, count=len(bases) + 2)
        for k, v in enumerate([*(self.ptrs[v] for v in bases), shared_flag, self.sizes_ptr]):
            if v is not None:
                self.b.store(v, self.b.gep(table, [ir.Constant(I64, k)], source_etype=PTR))
        # emit the part function
        self.parts = getattr(self, "parts", 0) + 1
        part = ir.Function(self.module, parallel.PART, f"kiln_part{self.parts}")
        saved = (self.fn, self.b, self.alloca_block, self.ptrs, self.fallback, self.sizes_ptr, self.size_values)
        self.fn = part
        self.b = ir.IRBuilder(part.append_basic_block("entry"))
        self.alloca_block = self.b.block
        args, lo, hi = part.args
        self.ptrs = dict(self.ptrs)
        for k, v in enumerate(bases):
            slot = self.b.gep(args, [ir.Constant(I64, k)], source_etype=PTR)
            self.ptrs[v] = self.b.load(slot, typ=PTR)
        if self.symbols:
            slot = self.b.gep(args, [ir.Constant(I64, len(bases) + 1)], source_etype=PTR)
            self.sizes_ptr = self.b.load(slot, typ=PTR)
            self.load_sizes()
        if shared_flag is not None:  # a flag of its own, merged into the shared one by setting it
            self.fallback = self.entry_alloca(I8)
            self.b.store(ir.Constant(I8, 0), self.fallback)
        self.nest(shape, body, outer=(lo, hi))
        if shared_flag is not None:
            raised = self.b.trunc(self.b.load(self.fallback, typ=I8), I1)
            with self.b.if_then(raised):
                shared = self.b.load(self.b.gep(args, [ir.Constant(I64, len(bases))], source_etype=PTR), typ=PTR)
                self.b.store(ir.Constant(I8, 1), shared)
        self.b.ret_void()
        self.fn, self.b, self.alloca_block, self.ptrs, self.fallback, self.sizes_ptr, self.size_values = saved
        b, n = self.b, self.i64(shape[0])
        if worth:
            b.call(parallel.parallel_for(self.module), [part, table, n])
            return
        big = b.and_(b.icmp_signed(">=", self.i64(work), ir.Constant(I64, parallel.MIN_ELEMENTS)),
                     b.icmp_signed(">=", n, ir.Constant(I64, 2)))
        with b.if_else(big) as (split, whole):
            with split:
                b.call(parallel.parallel_for(self.module), [part, table, n])
            with whole:
                b.call(part, [table, ir.Constant(I64, 0), n])

    # ------------------------------------------------------------------ memory

    def offset(self, shape, index):
        total = None
        for d, (size, stride) in enumerate(zip(shape, strides(shape))):
            if size == 1:
                continue
            term = index[d] if stride == 1 else self.b.mul(index[d], self.i64(stride), flags=("nuw", "nsw"))
            total = term if total is None else self.b.add(total, term, flags=("nuw", "nsw"))
        return total if total is not None else ir.Constant(I64, 0)

    def address(self, var, linear):
        base = self.ptrs[self.plan.views.get(var, var)]
        return self.b.gep(base, [linear], inbounds=True, source_etype=memory_type(var.aval.dtype))

    def load_linear(self, var, linear):
        value = self.b.load(self.address(var, linear), typ=memory_type(var.aval.dtype))
        return self.b.trunc(value, I1) if var.aval.dtype == np.bool_ else value

    def store(self, var, index, value):
        if var.aval.dtype == np.bool_:
            value = self.b.zext(value, memory_type(np.bool_))
        self.b.store(value, self.address(var, self.offset(var.aval.shape, index)))

    def malloc(self, var):
        self.ptrs[var] = self.external("malloc", PTR, [self.i64(at_least_1(var.aval.size * var.aval.dtype.itemsize))])

    def free(self, var):
        self.external("free", VOID, [self.ptrs[var]])

    # ------------------------------------------------------------------ values at an index

    def value(self, atom, index):
        """The value of `atom` at `index` (a list of i64, one per dimension)."""
        if isinstance(atom, Literal):
            return self.literal(atom)
        if atom not in self.plan.fused:
            return self.load_linear(atom, self.offset(atom.aval.shape, index))
        eqn = self.plan.producers[atom]
        values = self.compute(eqn, index)
        return values[eqn.outputs.index(atom)]

    def compute(self, eqn, index):
        """The results of a fused or root equation at `index`, as a list."""
        key = (id(eqn), tuple(id(i) for i in index))
        if key in self.memo:
            return self.memo[key]
        name = eqn.prim.name
        rule = complex_ops.lowering(name, eqn) or scalar_rules.get(name)
        if rule is not None:
            shape = eqn.outputs[0].aval.shape
            args = [self.value(a, index if a.aval.shape == shape else self._scalar_index(a, eqn))
                    for a in eqn.inputs]
            out = rule(self, eqn, *args)
            out = out if isinstance(out, list) else [out]
        else:
            out = [getattr(self, "map_" + name)(eqn, index)]
        self.memo[key] = out
        return out

    def _scalar_index(self, atom, eqn):
        if atom.aval.shape != ():
            raise UnsupportedError(f"kiln LLVM backend: `{eqn.prim.name}` mixes shapes "
                                   f"{atom.aval.shape} and {eqn.outputs[0].aval.shape}")
        return []

    # index maps: the operand's value at the index this element reads
    def map_broadcast_in_dim(self, eqn, index):
        (x,), dims = eqn.inputs, eqn.params["broadcast_dimensions"]
        return self.value(x, [index[d] if x.aval.shape[i] != 1 else ir.Constant(I64, 0)
                              for i, d in enumerate(dims)])

    def map_transpose(self, eqn, index):
        (x,), perm = eqn.inputs, eqn.params["permutation"]
        inner = [None] * len(perm)
        for i, p in enumerate(perm):
            inner[p] = index[i]
        return self.value(x, inner)

    def map_slice(self, eqn, index):
        (x,), p = eqn.inputs, eqn.params
        steps = p.get("strides") or (1,) * len(index)
        inner = []
        for i, start, step in zip(index, p["start_indices"], steps):
            scaled = i if step == 1 else self.b.mul(i, ir.Constant(I64, step))
            inner.append(scaled if start == 0 else self.b.add(scaled, self.i64(start)))
        return self.value(x, inner)

    def map_rev(self, eqn, index):
        (x,), dims = eqn.inputs, eqn.params["dimensions"]
        shape = x.aval.shape
        return self.value(x, [self.b.sub(self.i64(shape[d] - 1), i) if d in dims else i
                              for d, i in enumerate(index)])

    def map_iota(self, eqn, index):
        dtype = eqn.params["dtype"]
        i = index[eqn.params["dimension"]]
        t = register_type(dtype)
        if is_float(dtype):
            return self.b.uitofp(i, t)
        if np.dtype(dtype).kind == "c":
            return complex_ops.convert(self, i, np.int64, dtype)
        return self.b.trunc(i, t) if t.width < 64 else i

    def _i64(self, atom):
        """A scalar integer operand as i64 (sign- or zero-extended)."""
        v = self.value(atom, [])
        t = register_type(atom.aval.dtype)
        if t.width == 64:
            return v
        return self.b.sext(v, I64) if is_signed(atom.aval.dtype) else self.b.zext(v, I64)

    def _clamp(self, v, lo, hi):
        b, lo, hi = self.b, self.i64(lo), self.i64(hi)
        v = b.select(b.icmp_signed("<", v, lo), lo, v)
        return b.select(b.icmp_signed(">", v, hi), hi, v)

    def map_concatenate(self, eqn, index):
        """Every operand read at its clamped index, the one the element lies in selected."""
        d, b = eqn.params["dimension"], self.b
        out, start = None, 0
        for x in eqn.inputs:
            size = x.aval.shape[d]
            if size == 0:
                continue
            local = self._clamp(b.sub(index[d], self.i64(start)), 0, size - 1)
            value = self.value(x, [*index[:d], local, *index[d + 1:]])
            out = value if out is None else b.select(
                b.icmp_signed(">=", index[d], self.i64(start)), value, out)
            start += size
        return out

    def map_pad(self, eqn, index):
        (x, fill), b = eqn.inputs, self.b
        inside, inner = None, []
        for i, n, (lo, _, interior) in zip(index, x.aval.shape, eqn.params["padding_config"]):
            step = interior + 1
            t = b.sub(i, self.i64(lo))
            q = b.sdiv(t, ir.Constant(I64, step)) if step > 1 else t
            ok = b.and_(b.icmp_signed(">=", t, ir.Constant(I64, 0)), b.icmp_signed("<", q, self.i64(n)))
            if step > 1:
                ok = b.and_(ok, b.icmp_signed("==", b.srem(t, ir.Constant(I64, step)), ir.Constant(I64, 0)))
            inside = ok if inside is None else b.and_(inside, ok)
            inner.append(self._clamp(q, 0, last_index(n)))
        fill_value = self.value(fill, [])
        if any(n == 0 for n in x.aval.shape):
            return fill_value
        return b.select(inside, self.value(x, inner), fill_value) if inside is not None else self.value(x, inner)

    def _starts(self, x_shape, sizes, starts):
        return [self._clamp(self._i64(s), 0, dim - size) for s, dim, size in zip(starts, x_shape, sizes)]

    def map_dynamic_slice(self, eqn, index):
        x, *starts = eqn.inputs
        lo = self._starts(x.aval.shape, eqn.params["slice_sizes"], starts)
        return self.value(x, [self.b.add(i, l) for i, l in zip(index, lo)])

    def map_dynamic_update_slice(self, eqn, index):
        x, update, *starts = eqn.inputs
        b, sizes = self.b, update.aval.shape
        lo = self._starts(x.aval.shape, sizes, starts)
        inside, inner = None, []
        for i, l, n in zip(index, lo, sizes):
            t = b.sub(i, l)
            ok = b.and_(b.icmp_signed(">=", t, ir.Constant(I64, 0)), b.icmp_signed("<", t, self.i64(n)))
            inside = ok if inside is None else b.and_(inside, ok)
            inner.append(self._clamp(t, 0, last_index(n)))
        if any(n == 0 for n in sizes):
            return self.value(x, index)
        if inside is None:  # rank 0: the update replaces the value
            return self.value(update, [])
        return b.select(inside, self.value(update, inner), self.value(x, index))

    def map_gather(self, eqn, index):
        return indexing.gather(self, eqn, index)

    def map_reshape(self, eqn, index):
        (x,) = eqn.inputs
        if isinstance(x, Literal):
            return self.literal(x)
        return self.load_linear(x, self.offset(eqn.outputs[0].aval.shape, index))

    # ------------------------------------------------------------------ kernels

    def emit_kernels(self, passed: set):
        """Every kernel of the current plan in order; buffers not in `passed` are allocated
        before their kernel and freed after the last kernel that reads them."""
        plan, freed = self.plan, set()
        for k, eqn in enumerate(plan.kernels):
            for v in eqn.outputs:
                if v not in passed:
                    self.malloc(v)
            self.kernel(eqn)
            for v, last in plan.last_use.items():
                if last == k and v not in passed and v not in freed:
                    self.free(v)
                    freed.add(v)
        for eqn in plan.kernels:
            for v in eqn.outputs:
                if v not in passed and v not in freed:
                    self.free(v)
                    freed.add(v)

    def emit_program(self, program, in_ptrs, out_ptrs):
        """A sub-program inline: its inputs read from `in_ptrs`, its outputs written to
        `out_ptrs` (LLVM pointer values)."""
        sub = make_plan(program)
        saved = self.plan, self.ptrs
        self.plan, self.ptrs = sub, dict(zip(program.inputs, in_ptrs))
        produced, direct = set(sub.buffers), {}
        for v, p in zip(program.outputs, out_ptrs):
            if isinstance(v, Var) and v in produced and v not in direct:
                direct[v] = self.ptrs[v] = p
        self.emit_kernels(set(program.inputs) | set(direct))
        for v, p in zip(program.outputs, out_ptrs):
            if isinstance(v, Literal):
                self.fill(p, v)
            elif direct.get(v) is not p:
                self.copy(p, self.pointer(v), v.aval)
        self.plan, self.ptrs = saved

    def pointer(self, atom):
        """The memory holding `atom`; a literal is stored in a stack slot first."""
        if isinstance(atom, Literal):
            slot = self.entry_alloca(memory_type(atom.aval.dtype))
            value = self.literal(atom)
            self.b.store(self.b.zext(value, memory_type(np.bool_)) if atom.aval.dtype == np.bool_ else value, slot)
            return slot
        return self.ptrs[self.plan.views.get(atom, atom)]

    def copy(self, dst, src, aval):
        """memmove: the buffers may be the same (a loop's final carry already in place)."""
        nbytes = aval.size * aval.dtype.itemsize
        if isinstance(nbytes, DimExpr) or nbytes:
            fn = self.module.globals.get("llvm.memmove.p0.p0.i64") or ir.Function(
                self.module, ir.FunctionType(VOID, [PTR, PTR, I64, I1]), "llvm.memmove.p0.p0.i64")
            self.b.call(fn, [dst, src, self.i64(nbytes), ir.Constant(I1, 0)])

    def fill(self, ptr, literal):
        value = self.literal(literal)
        if literal.aval.dtype == np.bool_:
            value = self.b.zext(value, memory_type(np.bool_))
        t = memory_type(literal.aval.dtype)
        self.nest((literal.aval.size,), lambda i: self.b.store(
            value, self.b.gep(ptr, [i[0]], inbounds=True, source_etype=t)))

    def kernel(self, eqn):
        name = eqn.prim.name
        if name in CONTROL:
            return control.emit(self, eqn)
        if name == "scatter":
            return indexing.scatter(self, eqn)
        if name == "sort":
            return sort.emit(self, eqn)
        if name == "qr":
            return linalg.qr(self, eqn)
        if name in HOST_CALLS:
            return host_call.emit(self, eqn)
        out = eqn.outputs[0]
        if any(d == 0 for d in out.aval.shape):
            return
        if name == "dot_general":
            return reductions.contraction(self, eqn)
        if name.startswith("reduce_") or name in ("argmax", "argmin"):
            return reductions.reduction(self, eqn)
        if name.startswith("cum"):
            return reductions.cumulative(self, eqn)

        if name == "concatenate" and not any(isinstance(d, DimExpr) for d in out.aval.shape):
            return self.concatenation(eqn)

        def body(index):
            for v, value in zip(eqn.outputs, self.compute(eqn, index)):
                self.store(v, index, value)
        if not any(e.prim.name in ("sin", "cos", "tan") and e.outputs[0].aval.dtype.kind == "f"  # (complex: libm)
                   for e in self.plan.fused_eqns(eqn)):
            self.split_nest(eqn, out.aval.shape, body)
            return
        # An elementwise kernel with sin/cos: the vectorized polynomials first; if an element
        # is out of their range, the whole kernel again with libm.
        self.fallback = self.entry_alloca(I8)
        self.b.store(ir.Constant(I8, 0), self.fallback)
        self.precise = False
        self.split_nest(eqn, out.aval.shape, body)
        self.precise = True
        redo = self.fn.append_basic_block("fallback")
        after = self.fn.append_basic_block("after_fallback")
        self.b.cbranch(self.b.trunc(self.b.load(self.fallback, typ=I8), I1), redo, after)
        self.b.position_at_end(redo)
        self.split_nest(eqn, out.aval.shape, body)
        self.b.branch(after)
        self.b.position_at_end(after)
        self.fallback = None

    def concatenation(self, eqn):
        """A stored concatenation: one loop nest per operand, writing its part of the result
        (where a fused one, `map_concatenate`, reads every operand and selects)."""
        d, out = eqn.params["dimension"], eqn.outputs[0]
        start = 0
        for x in eqn.inputs:
            size = x.aval.shape[d]
            if size == 0:
                continue
            offset = start

            def body(index, x=x, offset=offset):
                target = [*index[:d], self.b.add(index[d], ir.Constant(I64, offset)), *index[d + 1:]]
                self.store(out, target, self.value(x, index))
            self.split_nest(eqn, x.aval.shape, body)
            start += size

    def entry_alloca(self, t, count=None):
        with self.b.goto_block(self.alloca_block):
            self.b.position_at_start(self.alloca_block)
            return self.b.alloca(t, size=None if count is None else ir.Constant(I32, count))

def generate(plan: Plan, arg_vars: list, name: str, symbols=()) -> ir.Module:
    """The module for `plan`; `arg_vars` are the buffers passed in (consts, inputs, outputs),
    after the sizes of `symbols` when there are any."""
    cg = Codegen(plan, arg_vars, name, symbols)
    cg.emit_kernels(set(arg_vars))
    cg.b.ret_void()
    return cg.module
