"""`kiln.jit(f, dynamic_dims=...)`: one compiled program for every size of a dimension.

JAX compiles a function again for every new shape. kiln can declare a dimension dynamic:

    @partial(kiln.jit, dynamic_dims={"x": 0})          # axis 0 of x
    @partial(kiln.jit, dynamic_dims={"x": (0, 1)})     # two axes of x, each its own size
    @partial(kiln.jit, dynamic_dims={"x": {0: "batch"}, "y": {0: "batch"}})  # one size, named

Keys are parameter names (or positions); an axis applies to every array leaf of a pytree
argument, and the leaves share its size. Unnamed axes are named `<parameter>.<axis>`.

What happens on a call with new sizes (the function is staged, never compiled, for each):
1. Stage the function at these sizes, as for any call (milliseconds).
2. If a compiled *family* for these argument kinds has a program of which this staging is an
   instance (`kiln.passes.dynamic_dims.matches`), reuse its machine code with the sizes
   passed in when it runs.
3. Otherwise stage once more per dynamic size, with that size changed by one, generalise the
   stagings into a program with symbolic sizes, and compile it: a new family.
Where a program cannot be generalised (the size chooses the code: static Python on it,
`n // 2`, a shape built from two dynamic sizes, a primitive whose lowering needs known
sizes), kiln warns once (`DynamicDimsWarning`) and compiles for each size, as JAX does;
results are the same either way. Sizes 0 are always compiled on their own. The reference
backend compiles each size (it has no machine code to share).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

from kiln.errors import DynamicDimsWarning
from kiln.ir import ShapedArray
from kiln.runtime.pytree import tree_leaves

MAX_FAMILIES = 4  # symbolic programs per argument kind before compiling per size


@dataclass
class _Family:
    template: object  # the program with symbolic sizes
    executable: object  # its compiled code, or None where it could not be compiled
    out_tree: object
    float0_outputs: tuple
    sizes: frozenset  # the symbolic sizes of its values, each at least 1 when it runs


class DynamicDims:
    """The dynamic dimensions of one jit function, and its compiled families."""

    def __init__(self, fun, signature, spec: dict, name: str):
        if not isinstance(spec, dict):
            raise TypeError(f"dynamic_dims of {name} must be a dict from parameter names to axes, "
                            f"got {spec!r}")
        if signature is None:
            raise TypeError(f"dynamic_dims needs the parameters of {name}, which cannot be inspected")
        params = list(signature.parameters)
        self.name = name
        self.axes = {}  # parameter name -> {axis: size name}
        for key, value in spec.items():
            if isinstance(key, int) and not isinstance(key, bool):
                if not -len(params) <= key < len(params):
                    raise ValueError(f"dynamic_dims: {name} has no parameter at position {key}")
                key = params[key]
            if key not in params:
                raise ValueError(f"dynamic_dims: {key!r} is not a parameter of {name} ({', '.join(params)})")
            if isinstance(value, int) and not isinstance(value, bool):
                value = (value,)
            if isinstance(value, (tuple, list)):
                value = {axis: f"{key}.{axis}" for axis in value}
            if not isinstance(value, dict) or not all(isinstance(a, int) and isinstance(s, str)
                                                      for a, s in value.items()):
                raise TypeError(f"dynamic_dims[{key!r}] must be an axis, a tuple of axes or a dict "
                                f"from axes to size names, got {value!r}")
            self.axes[key] = value
        self.families: dict = {}
        self.warned = set()

    # ------------------------------------------------------------------ sizes of a call

    def sizes(self, dynamic, avals):
        """(per leaf, {axis: size name}; {size name: value}) of a call's dynamic arguments."""
        per_leaf, sizes, owner = [], {}, {}
        named = dynamic.items() if isinstance(dynamic, dict) else ()
        for param, value in named:
            axes = self.axes.get(param, {})
            for _ in tree_leaves(value):
                aval = avals[len(per_leaf)]
                leaf_axes = {}
                for axis, symbol in axes.items():
                    if not -aval.ndim <= axis < aval.ndim:
                        raise TypeError(f"dynamic_dims: argument {param!r} of {self.name} has shape "
                                        f"{aval.shape}, which has no axis {axis}")
                    size = aval.shape[axis]
                    if sizes.setdefault(symbol, size) != size:
                        raise TypeError(f"dynamic_dims: size {symbol!r} of {self.name} is {sizes[symbol]} "
                                        f"in argument {owner[symbol]!r} but {size} in {param!r}")
                    owner.setdefault(symbol, param)
                    leaf_axes[axis % aval.ndim] = symbol
                per_leaf.append(leaf_axes)
        return per_leaf, sizes

    @staticmethod
    def resized(avals, per_leaf, sizes):
        return tuple(ShapedArray(tuple(sizes[axes[d]] if d in axes else n for d, n in enumerate(a.shape)),
                                 a.dtype, a.weak_type) for a, axes in zip(avals, per_leaf))

    # ------------------------------------------------------------------ compiling

    def run(self, stage, spec, key, dynamic, avals, compile_symbolic):
        """A runnable for `spec` (the staging at the call's sizes) that shares machine code
        across sizes, or None to compile `spec` on its own.

        stage(avals) stages the function at other sizes; compile_symbolic(program, symbols)
        compiles a program with symbolic sizes (None: the backend cannot, only the sizes are
        checked). `key` = (treedef, static, x64)."""
        from kiln.passes.dynamic_dims import generalise, matches, symbolic_dims
        per_leaf, sizes = self.sizes(dynamic, avals)
        if not compile_symbolic or not sizes or min(sizes.values()) < 1:
            return None
        kind = (key, tuple((tuple(axes.get(d, n) for d, n in enumerate(a.shape)), a.dtype, a.weak_type)
                           for a, axes in zip(avals, per_leaf)))
        families = self.families.setdefault(kind, [])
        for family in families:
            if family.executable is not None and family.out_tree == spec.out_tree \
                    and family.float0_outputs == spec.float0_outputs and matches(family.template, spec.program, sizes):
                if all(d.evaluate(sizes) >= 1 for d in family.sizes):
                    return family.executable.bind(sizes)
                return None
        if len(families) >= MAX_FAMILIES:
            self._warn(kind, sizes, f"its program changed with the sizes {MAX_FAMILIES} times")
            return None
        # Sizes equal to no other dimension, so that no two values agree by coincidence (CSE
        # would merge them) where they do not at other sizes: the base is the call's sizes
        # where they are such, and the probes always are.
        taken = {d for a, axes in zip(avals, per_leaf) for k, d in enumerate(a.shape) if k not in axes}
        fresh = lambda start: next(v for v in range(max(start, 2), start + len(taken) + len(sizes) + 3)
                                   if v not in taken)
        special = any(v in taken or v < 2 for v in sizes.values()) or len(set(sizes.values())) < len(sizes)
        if special and any(f.executable is not None for f in families):
            return None  # a size that stages differently (1, or equal to another dimension)
        try:
            base, base_sizes = spec, sizes
            if special:
                base_sizes = {}
                for symbol in sorted(sizes):
                    base_sizes[symbol] = fresh(sizes[symbol])
                    taken.add(base_sizes[symbol])
                base = self._stage(stage, avals, per_leaf, base_sizes, spec)
            taken |= set(base_sizes.values())
            probes = []
            for symbol in sorted(sizes):
                probe_sizes = {**base_sizes, symbol: fresh(base_sizes[symbol] + 1)}
                taken.add(probe_sizes[symbol])
                probes.append((self._stage(stage, avals, per_leaf, probe_sizes, spec).program, probe_sizes))
            template = generalise(base.program, base_sizes, probes)
            executable = compile_symbolic(template, tuple(sorted(sizes)))
        except Exception as e:  # noqa: BLE001 — whatever the reason, each size still compiles
            families.append(_Family(None, None, spec.out_tree, spec.float0_outputs, frozenset()))
            self._warn(kind, sizes, f"{type(e).__name__}: {e}")
            return None
        family = _Family(template, executable, spec.out_tree, spec.float0_outputs, symbolic_dims(template))
        families.append(family)
        if (base is spec or matches(template, spec.program, sizes)) and all(d.evaluate(sizes) >= 1 for d in family.sizes):
            return executable.bind(sizes)
        return None  # (these sizes stage a program of their own: compiled on their own)

    def _stage(self, stage, avals, per_leaf, sizes, spec):
        staged = stage(self.resized(avals, per_leaf, sizes))
        if staged.out_tree != spec.out_tree or staged.float0_outputs != spec.float0_outputs:
            from kiln.passes.dynamic_dims import NotGeneral
            raise NotGeneral("the structure of the outputs changes with the size")
        return staged

    def _warn(self, kind, sizes, reason: str):
        if kind in self.warned:
            return
        self.warned.add(kind)
        shown = ", ".join(f"{k}={v}" for k, v in sorted(sizes.items()))
        warnings.warn(f"kiln.jit({self.name}, dynamic_dims=...): the program at {shown} cannot serve "
                      f"other sizes ({reason}); sizes like it are compiled one by one",
                      DynamicDimsWarning, stacklevel=5)


__all__ = ["DynamicDims"]
