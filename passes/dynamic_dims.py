"""Programs generalised over sizes: the IR side of `kiln.jit(f, dynamic_dims=...)`.

kiln stages a function once per set of argument shapes, so a program only ever has plain int
dimensions. To serve every size of a dimension with one compiled program, the driver stages
the function at the caller's sizes (the *base*) and once more per dynamic size with that size
changed by one (a *probe*), and `generalise` walks the stagings side by side:

- everything but numbers must be the same: primitives, the dataflow between equations,
  dtypes, constants, params other than numbers;
- an int that differs is taken as affine in the sizes (`n`, `n - 1`, `2*n`, ...); so is a
  float literal with integral values (`mean` divides by `n`);

and returns the base program with those numbers replaced by `DimExpr`s. `matches` then tells
whether a staging at other sizes is that program with the sizes filled in: the driver checks
it for each new size before reusing the machine code, so a function whose program changes
with the size in any other way (static Python on the size, `n // 2`, a shape computed from
two dynamic sizes) is compiled for that size instead, never run with the wrong program.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import DimExpr, Eqn, Literal, Program, ShapedArray, Var, dim


class NotGeneral(Exception):
    """The programs differ other than by the dynamic sizes (the message says where)."""


def generalise(base: Program, base_sizes: dict, probes: list) -> Program:
    """`base` with the numbers that follow the sizes made symbolic; `probes` is a list of
    (program, sizes), each staged with one size of `base_sizes` changed."""
    return _Generalise(base_sizes, [sizes for _, sizes in probes]).walk(base, [p for p, _ in probes])


def matches(template: Program, program: Program, sizes: dict) -> bool:
    """Whether `program` is `template` with its symbolic sizes set to `sizes`."""
    try:
        _Match(sizes).walk(template, [program])
    except NotGeneral:
        return False
    return True


def symbolic_dims(program: Program) -> set:
    """Every symbolic dimension of the values of `program` and of its sub-programs."""
    found = set()

    def visit(p):
        for v in [*p.inputs, *(o for e in p.eqns for o in e.outputs)]:
            found.update(d for d in v.aval.shape if isinstance(d, DimExpr))
        for e in p.eqns:
            for value in e.params.values():
                for sub in (value if isinstance(value, tuple) else (value,)):
                    if isinstance(sub, Program):
                        visit(sub)
    visit(program)
    return found


class _Walk:
    """Walks a program and its counterparts in step, rebuilding the first; numbers are left
    to `number`."""

    def __init__(self, counterparts: int):
        self.vars = {}  # id(var of the first) -> (its rebuilt var, [the counterparts' vars])
        self.taken = [set() for _ in range(counterparts)]  # per counterpart: ids of vars paired

    def walk(self, a, others):
        t = type(a)
        if any(type(o) is not t for o in others):
            raise NotGeneral(f"{t.__name__} against {type(others[0]).__name__}")
        if t is Program:
            inputs = tuple(self.walk(v, [o.inputs[i] for o in others]) for i, v in enumerate(a.inputs))
            if any(len(o.eqns) != len(a.eqns) or len(o.consts) != len(a.consts) for o in others):
                raise NotGeneral(f"{len(a.eqns)} equations against {[len(o.eqns) for o in others]}")
            consts = []
            for i, (v, value) in enumerate(a.consts):
                for o in others:
                    self.same_array(value, o.consts[i][1])
                consts.append((self.walk(v, [o.consts[i][0] for o in others]), value))
            eqns = tuple(self.walk(e, [o.eqns[i] for o in others]) for i, e in enumerate(a.eqns))
            outputs = self.walk(a.outputs, [o.outputs for o in others])
            return Program(inputs, eqns, outputs, tuple(consts))
        if t is Eqn:
            if any(o.prim is not a.prim for o in others):
                raise NotGeneral(f"{a.prim.name} against {others[0].prim.name}")
            try:
                inputs = self.walk(a.inputs, [o.inputs for o in others])
                params = self.walk(a.params, [o.params for o in others])
                outputs = self.walk(a.outputs, [o.outputs for o in others])
            except NotGeneral as e:
                if e.args[0].startswith("in `"):
                    raise
                where = f" at {a.loc}" if a.loc else ""
                raise NotGeneral(f"in `{a.prim.name}`{where}: {e}") from None
            return Eqn(a.prim, inputs, params, outputs, a.loc)
        if t is Var:
            known = self.vars.get(id(a))
            if known is not None:
                if any(o is not k for o, k in zip(others, known[1])):
                    raise NotGeneral("the dataflow differs")
                return known[0]
            for taken, o in zip(self.taken, others):
                if id(o) in taken:
                    raise NotGeneral("the dataflow differs")
                taken.add(id(o))
            new = Var(self.walk(a.aval, [o.aval for o in others]))
            self.vars[id(a)] = (new, list(others))
            return new
        if t is Literal:
            aval = self.walk(a.aval, [o.aval for o in others])
            return Literal(self.number(a.value, [o.value for o in others], literal=True), aval)
        if t is ShapedArray:
            self.same([a.dtype, a.weak_type], [[o.dtype, o.weak_type] for o in others])
            shape = self.walk(a.shape, [o.shape for o in others])
            return ShapedArray(shape, a.dtype, a.weak_type)
        if t in (tuple, list) or (issubclass(t, tuple) and hasattr(a, "_fields")):
            self.same([len(a)], [[len(o)] for o in others])
            items = [self.walk(x, [o[i] for o in others]) for i, x in enumerate(a)]
            return t(*items) if hasattr(a, "_fields") else t(items)
        if t is dict:
            self.same([sorted(a)], [[sorted(o)] for o in others])
            return {k: self.walk(v, [o[k] for o in others]) for k, v in a.items()}
        if t is np.ndarray:
            for o in others:
                self.same_array(a, o)
            return a
        if (t is int or isinstance(a, np.integer)) and t is not bool:
            return self.number(a, others)
        if t is float or isinstance(a, np.floating):
            return self.number(a, others)
        self.same([a], [[o] for o in others])
        return a

    def same(self, a, others):
        for o in others:
            if not all(x is y or (type(x) is type(y) and _equal(x, y)) for x, y in zip(a, o)):
                raise NotGeneral(f"{a!r:.80} against {o!r:.80}")

    def same_array(self, a, o):
        if a.dtype != o.dtype or a.shape != o.shape or not np.array_equal(a, o, equal_nan=a.dtype.kind in "fc"):
            raise NotGeneral("constants differ")

    def number(self, a, others, literal=False):
        raise NotImplementedError


def _equal(x, y) -> bool:
    try:
        return bool(x == y)
    except Exception:  # noqa: BLE001 — an object without a usable ==: not the same
        return False


def _same_number(a, b) -> bool:
    """Equal numbers of one type; NaNs are the same, 0.0 and -0.0 are not."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, np.floating)):
        return np.array(a).tobytes() == np.array(b).tobytes() or (a != a and b != b)
    return a == b


class _Generalise(_Walk):
    def __init__(self, base_sizes, probe_sizes):
        super().__init__(len(probe_sizes))
        self.base_sizes = base_sizes
        # per probe: (the size it changed, by how much)
        self.steps = []
        for sizes in probe_sizes:
            (changed,) = [s for s in sizes if sizes[s] != base_sizes[s]]
            self.steps.append((changed, sizes[changed] - base_sizes[changed]))

    def number(self, a, others, literal=False):
        if all(_same_number(a, o) for o in others):
            return a
        values = [a, *others]
        if isinstance(a, (float, np.floating)):
            if not all(np.isfinite(v) and float(v).is_integer() for v in values):
                raise NotGeneral(f"{a} against {others}")
            values = [int(v) for v in values]
        terms, constant = {}, values[0]
        for (name, step), value in zip(self.steps, values[1:]):
            slope, rest = divmod(value - values[0], step)
            if rest:
                raise NotGeneral(f"{a} against {others}")
            terms[(name,)] = slope
            constant -= slope * self.base_sizes[name]
        terms[()] = constant
        return dim(terms.items())


class _Match(_Walk):
    def __init__(self, sizes):
        super().__init__(1)
        self.sizes = sizes

    def number(self, a, others, literal=False):
        (o,) = others
        want = a.evaluate(self.sizes) if isinstance(a, DimExpr) else a
        if not (want == o if isinstance(a, DimExpr) else _same_number(a, o)):
            raise NotGeneral(f"{a} is {want} at these sizes, not {o}")
        return a

    def walk(self, a, others):
        if isinstance(a, DimExpr):
            (o,) = others
            if isinstance(o, bool) or not isinstance(o, (int, float, np.integer, np.floating)):
                raise NotGeneral(f"{a} against {o!r:.40}")
            return self.number(a, others)
        return super().walk(a, others)
