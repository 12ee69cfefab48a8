"""Automatic differentiation with JAX's API, as passes over kiln's IR.

Every transform here stages the user's function into a program (`Staging`), transforms the
program (`passes/jvp.py`; for reverse mode then `passes/partial_eval.py` and
`passes/transpose.py`) and evaluates the result with `inline`: eagerly when nothing is being
staged, or by copying the equations into the enclosing builder when called inside `jit` or
another transform. Because the result is IR again, transforms nest in any order
(`grad(grad(f))`, `jit(grad(jit(f)))`, `jvp(grad(f))`, ...).

Functions returned by `grad` and `value_and_grad` (and by `jacfwd`, `jacrev` and `hessian`,
in `kiln.jacobians`) are compiled through `kiln.jit` (one specialisation per argument shapes)
when called eagerly.

Complex values follow JAX's conventions (see compiler/lax/elementwise.py): `holomorphic=True`
differentiates holomorphic complex functions, and without it complex outputs are rejected by
grad and jacrev. Integer and bool values have float0 (co)tangents: `allow_int=True` lets grad
and jacrev take them, and jvp, vjp and linearize take and return float0 arrays for them.
"""
from __future__ import annotations

import functools

import numpy as np

from kiln.driver import abstractify, float0_zeros
from kiln.driver import is_float0 as _is_float0
from kiln.interpret import inline
from kiln.ir import ShapedArray
from kiln.passes import CLEANUP, run_passes
from kiln.passes.jvp import jvp_program
from kiln.passes.partial_eval import split_linear
from kiln.passes.transpose import transpose_program
from kiln.runtime.array import Array
from kiln.runtime.dtypes import float0
from kiln.runtime.pytree import register_pytree_node, tree_flatten, tree_map, tree_structure, tree_unflatten
from kiln.staging import Builder, Staged, current_builder


# ---------------------------------------------------------------------------- staging

class Staging:
    """A function staged on flat arguments: program inputs are the leaves, then captures.

    `python_args` (positions and keyword names): leaves of these arguments that are not
    numbers or arrays (strings, bools, None, functions) reach `fun` as Python values and are
    no program inputs, as JAX's grad passes on the arguments it does not differentiate."""

    def __init__(self, fun, args, kwargs=None, name="f", python_args=()):
        kwargs = kwargs or {}
        from kiln.frontend.operators import staging_target
        leaves, self.in_tree = tree_flatten((tuple(args), kwargs))
        keep = [i in python_args and _is_python_value(leaf) for i, a in enumerate(args)
                for leaf in tree_flatten(a)[0]]
        keep += [k in python_args and _is_python_value(leaf) for k in sorted(kwargs)
                 for leaf in tree_flatten(kwargs[k])[0]]
        dynamic = [leaf for leaf, kept in zip(leaves, keep) if not kept]
        avals = [leaf.aval if isinstance(leaf, Staged) else _aval_of(leaf, f"an argument of {name}")
                 for leaf in dynamic]
        with Builder(name) as b:
            staged = iter([b.new_input(a) for a in avals])
            a, k = tree_unflatten(self.in_tree, [leaf if kept else next(staged) for leaf, kept in zip(leaves, keep)])
            out = staging_target(fun)(*a, **k)
            out_leaves, self.out_tree = tree_flatten(out)
            # float0 results (of integer gradients) have one value: no program outputs
            self.float0_outputs = [tuple(np.shape(x)) if _is_float0(x) else None for x in out_leaves]
            self.program = b.build([x for x in out_leaves if not _is_float0(x)])
        self.leaves = dynamic
        self.captures = [outer for outer, _ in b.captures]
        kept = iter(keep)
        self.n_args = [sum(not next(kept) for _ in tree_flatten(x)[0]) for x in args]

    @property
    def values(self) -> list:
        return list(self.leaves) + self.captures

    def arg_leaf_range(self, i: int) -> range:
        start = sum(self.n_args[:i])
        return range(start, start + self.n_args[i])


def _aval_of(x, what: str) -> ShapedArray:
    if isinstance(x, ShapedArray):  # staging on an abstract example (vmap)
        return x
    if isinstance(x, (Staged, Array)):
        return x.aval
    try:
        return abstractify(x)
    except TypeError as e:
        raise TypeError(f"{what} {e}") from None


def _name(fun) -> str:
    return getattr(fun, "__name__", None) or "f"


def _argnums(argnums) -> tuple:
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _check_argnums(n_positional: int, argnums) -> None:
    nums = _argnums(argnums)
    need = max((i + 1 if i >= 0 else -i for i in nums), default=0)
    if need > n_positional:
        raise TypeError(f"differentiating with respect to argnums={argnums} requires at least {need} positional "
                        f"arguments to be passed by the caller, but got only {n_positional} positional arguments.")


def _check_input_dtype_revderiv(who: str, holomorphic: bool, allow_int: bool, aval: ShapedArray) -> None:
    """JAX's checks of a differentiated input of grad, jacrev (and their errors)."""
    if holomorphic and aval.dtype.kind != "c":
        raise TypeError(f"{who} with holomorphic=True requires inputs with complex dtype, but got {aval.dtype.name}.")
    if aval.dtype.kind in "biu" and not allow_int:
        raise TypeError(
            f"{who} requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
            f"np.inexact), but got {aval.dtype.name}. If you want to use Boolean- or integer-valued "
            "inputs, use vjp or set allow_int to True.")


def _check_output_dtype_revderiv(who: str, holomorphic: bool, aval: ShapedArray) -> None:
    name = aval.dtype.name
    if holomorphic:
        if aval.dtype.kind != "c":
            raise TypeError(f"{who} with holomorphic=True requires outputs with complex dtype, but got {name}.")
    elif aval.dtype.kind == "c":
        raise TypeError(f"{who} requires real-valued outputs (output dtype that is a sub-dtype of np.floating), "
                        f"but got {name}. For holomorphic differentiation, pass holomorphic=True. For "
                        "differentiation of non-holomorphic functions involving complex outputs, use jax.vjp "
                        "directly.")
    elif aval.dtype.kind != "f":
        raise TypeError(f"{who} requires real-valued outputs (output dtype that is a sub-dtype of np.floating), "
                        f"but got {name}. For differentiation of functions with integer outputs, use jax.vjp "
                        "directly.")


def _diff_mask(staging: Staging, argnums, who: str, holomorphic=False, allow_int=False) -> list[bool]:
    """Which program inputs are differentiated: the inexact leaves of the arguments `argnums`
    (integer leaves, allowed by `allow_int`, get float0 zeros)."""
    mask = [False] * len(staging.program.inputs)
    for i in argnums:
        for j in staging.arg_leaf_range(i % len(staging.n_args)):
            aval = staging.program.inputs[j].aval
            _check_input_dtype_revderiv(who, holomorphic, allow_int, aval)
            mask[j] = aval.dtype.kind in "fc"
    return mask


def _float_mask(staging: Staging) -> list[bool]:
    """Every inexact argument leaf (jvp/vjp/linearize): integers carry no derivative."""
    return [i < len(staging.leaves) and v.aval.dtype.kind in "fc" for i, v in enumerate(staging.program.inputs)]


# ---------------------------------------------------------------------------- float0
# Integer and bool values have float0 (co)tangents, as in JAX: NumPy arrays of dtype float0.
# float0 is no array dtype of kiln's IR, so a transform returns a `Float0Zeros` placeholder, a
# pytree node without leaves, and `_Compiled` hands the caller the NumPy array. (A user's jit
# function returning float0 arrays is handled by the driver.)

class Float0Zeros:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(shape)

    def __repr__(self):
        return f"Float0Zeros({self.shape})"


register_pytree_node(Float0Zeros, lambda z: ((), z.shape), lambda shape, _: Float0Zeros(shape))


def _with_float0(tree):
    return tree_map(lambda x: float0_zeros(x.shape) if isinstance(x, Float0Zeros) else x, tree,
                    is_leaf=lambda x: isinstance(x, Float0Zeros))


def _tangent_dtype(aval: ShapedArray) -> np.dtype:
    return aval.dtype if aval.dtype.kind in "fc" else float0


def _main_and_aux(staging: Staging, outs, has_aux: bool):
    """(main output, aux, number of main leaves) of a function's outputs (values or avals)."""
    tree = tree_unflatten(staging.out_tree, list(outs))
    if not has_aux:
        return tree, None, len(outs)
    if not isinstance(tree, (tuple, list)) or len(tree) != 2:
        raise TypeError("expected function with aux output to return a two-element tuple, but got "
                        f"type {type(tree)} with value {tree!r:.80}")
    return tree[0], tree[1], len(tree_flatten(tree[0])[0])


def _seed(aval: ShapedArray, value: float):
    return Array(np.full(aval.shape, value, aval.dtype), aval.weak_type)


def _cast_like(x, aval: ShapedArray):
    from kiln.numpy.core import cast
    return cast(x, aval.dtype, aval.weak_type)


def _weakened(aval: ShapedArray, x) -> ShapedArray:
    """`aval`, weakly typed only if `x` is too."""
    return ShapedArray(aval.shape, aval.dtype, aval.weak_type and _aval_of(x, "a value").weak_type)


def _as_outputs(values, avals) -> list:
    """Results as arrays of their output types: a program may return one of its inputs, which
    inline hands back as the caller passed it (a Python float, a NumPy array)."""
    return [_cast_like(v, a) for v, a in zip(values, avals)]


def _fixing(fun, args, nums, kwargs):
    """`fun` as a function of the positional arguments `nums`; the others are held fixed."""
    def partial_fun(*diff):
        from kiln.frontend.operators import staging_target
        full = list(args)
        for i, d in zip(nums, diff):
            full[i] = d
        return staging_target(fun)(*full, **kwargs)
    partial_fun.__name__ = _name(fun)
    return partial_fun


# ---------------------------------------------------------------------------- reverse mode

class VJP:
    """The known part and the transposed linear part of `program`'s derivative."""

    def __init__(self, program, diff_mask):
        jvp = jvp_program(program, diff_mask)
        n_out = len(program.outputs)
        split = split_linear(jvp, n_out, sum(diff_mask))
        self.known = run_passes(split.known, CLEANUP)
        self.backward = run_passes(transpose_program(split.linear, split.n_residuals), CLEANUP)
        self.n_out = n_out
        self.diff_mask = diff_mask

    def forward(self, values):
        outs = inline(self.known, values)
        return outs[:self.n_out], outs[self.n_out:]

    def pull(self, residuals, cts):
        return inline(self.backward, list(residuals) + list(cts))


def vjp(fun, *primals, has_aux=False):
    staging = Staging(fun, primals, name=_name(fun))
    mask = _float_mask(staging)
    parts = VJP(staging.program, mask)
    outs, residuals = parts.forward(staging.values)
    main_avals = [v.aval for v in staging.program.outputs]
    out, aux, n_main = _main_and_aux(staging, _as_outputs(outs, main_avals), has_aux)
    main_tree = tree_structure(out)

    def vjp_fn(ct):
        ct_leaves, ct_tree = tree_flatten(ct)
        if ct_tree != main_tree:
            raise ValueError(f"unexpected tree structure of argument to vjp function: got {ct_tree}, but "
                             f"expected to match {main_tree}")
        seeds = []
        for c, a in zip(ct_leaves, main_avals):
            # An integer output's cotangent is a float0 zero (JAX also takes an integer zero).
            c_shape = tuple(np.shape(c)) if _is_float0(c) or a.dtype.kind not in "fc" else \
                _aval_of(c, "a cotangent").shape
            if c_shape != a.shape:
                got = f"float0{list(c_shape)}" if _is_float0(c) else _aval_of(c, "a cotangent").str_short()
                raise ValueError(f"unexpected JAX type (e.g. shape/dtype) for argument to VJP function: got "
                                 f"{got}, but expected {a.str_short()} because the corresponding "
                                 f"output of the differentiated function had JAX type {a.str_short()}")
            # As in JAX, a strongly typed cotangent gives strongly typed results.
            seeds.append(_seed(a, 0) if a.dtype.kind not in "fc" else _cast_like(c, _weakened(a, c)))
        seeds += [_seed(a, 0) for a in main_avals[n_main:]]
        cts = iter(parts.pull(residuals, seeds))
        leaves = []
        for v, m in zip(staging.program.inputs[:len(staging.leaves)], mask):
            ct = next(cts) if m else None
            leaves.append(float0_zeros(v.aval.shape) if not m else _cast_like(ct, _weakened(v.aval, ct)))
        return tuple(_split_args(staging, leaves))

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _split_args(staging: Staging, leaf_values) -> list:
    """Values for the argument leaves, in the arguments' structure (a staging with no
    `python_args`: every leaf is an input)."""
    args_tree = tree_flatten(tree_unflatten(staging.in_tree, list(range(len(staging.leaves))))[0])[1]
    return list(tree_unflatten(args_tree, list(leaf_values[:sum(staging.n_args)])))


_NUMERIC = (Array, Staged, np.ndarray, np.generic, int, float, complex)


def _is_python_value(leaf) -> bool:
    return isinstance(leaf, bool) or not isinstance(leaf, _NUMERIC)


def _is_static(x) -> bool:
    """An argument JAX's eager transforms see as a plain Python value and that cannot be an
    array: a string, None, a bool, a function, or a hashable container of them. Numbers stay
    array arguments, as under jit, so that a changing number does not compile anew."""
    if not all(_is_python_value(leaf) for leaf in tree_flatten(x)[0]):
        return False
    try:
        hash(x)
    except TypeError:
        return False
    return True


class _Compiled:
    """A transformed function: inlined while staging, compiled through kiln.jit otherwise.

    With `diff_argnums` (the AD transforms), arguments that are not differentiated and are
    static Python values (`training=True`, `mode="sum"`) are passed to the function as they
    are, as JAX's eager grad does, with one compilation per distinct value. With `float0`
    (gradients with `allow_int`), the Float0Zeros placeholders of the result become float0
    arrays."""

    def __init__(self, fun, staged_call, name, diff_argnums=None, float0=False):
        functools.update_wrapper(self, fun)
        self.__name__ = f"{name}_{_name(fun)}"
        self._staged_call = staged_call
        self._float0 = float0
        self._diff = None if diff_argnums is None else set(_argnums(diff_argnums))
        self._jits: dict = {}

    def __call__(self, *args, **kwargs):
        if current_builder() is not None:
            out = self._staged_call(*args, **kwargs)
            return _with_float0(out) if self._float0 else out
        n = len(args)
        static = {} if self._diff is None else {
            i: a for i, a in enumerate(args) if i not in self._diff and i - n not in self._diff and _is_static(a)}
        static_kw = {} if self._diff is None else {k: v for k, v in kwargs.items() if _is_static(v)}
        key = (n, tuple((i, type(a), a) for i, a in static.items()),
               tuple(sorted((k, type(v), v) for k, v in static_kw.items())))
        jitted = self._jits.get(key)
        if jitted is None:
            from kiln.api import JitFunction
            jitted = self._jits[key] = JitFunction(self._with_static(n, static, static_kw))
            jitted.__name__ = self.__name__
        out = jitted(*(a for i, a in enumerate(args) if i not in static),
                     **{k: v for k, v in kwargs.items() if k not in static_kw})
        return _with_float0(out) if self._float0 else out

    def _with_static(self, n, static, static_kw):
        if not static and not static_kw:
            return self._staged_call

        def call(*dynamic, **kwargs):
            it = iter(dynamic)
            return self._staged_call(*(static[i] if i in static else next(it) for i in range(n)),
                                     **kwargs, **static_kw)
        return call


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    nums = _argnums(argnums)

    def staged(*args, **kwargs):
        _check_argnums(len(args), argnums)
        diff = {i % len(args) for i in nums}
        staging = Staging(fun, args, kwargs, _name(fun), [i for i in range(len(args)) if i not in diff] + list(kwargs))
        mask = _diff_mask(staging, nums, "grad", holomorphic, allow_int)
        out_avals = [v.aval for v in staging.program.outputs]
        main, _, n_main = _main_and_aux(staging, out_avals, has_aux)
        if n_main != 1 or out_avals[0].shape != ():
            what = (f"had shape: {out_avals[0].shape}" if n_main == 1 else
                    f"was {tree_unflatten(tree_structure(main), [a.str_short() for a in out_avals[:n_main]])}")
            raise TypeError(f"Gradient only defined for scalar-output functions. Output {what}.")
        _check_output_dtype_revderiv("grad", holomorphic, out_avals[0])
        parts = VJP(staging.program, mask)
        outs, residuals = parts.forward(staging.values)
        seeds = [_seed(out_avals[0], 1.0)] + [_seed(a, 0) for a in out_avals[1:]]
        # The cotangents come in input order; argnums may list the arguments in any order.
        inputs = [j for j, m in enumerate(mask) if m]
        cts = dict(zip(inputs, parts.pull(residuals, seeds)))

        def leaf_grad(j):
            aval = staging.program.inputs[j].aval
            return _cast_like(cts[j], _weakened(aval, cts[j])) if j in cts else Float0Zeros(aval.shape)
        grads = [tree_unflatten(tree_structure(args[i]), [leaf_grad(j) for j in staging.arg_leaf_range(i % len(args))])
                 for i in nums]
        g = grads[0] if isinstance(argnums, int) else tuple(grads)
        out, aux, _ = _main_and_aux(staging, outs, has_aux)
        return ((out, aux), g) if has_aux else (out, g)

    return _Compiled(fun, staged, "value_and_grad", nums, float0=allow_int)


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

    def staged(*args, **kwargs):
        value, g = vg._staged_call(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return _Compiled(fun, staged, "grad", _argnums(argnums), float0=allow_int)


# ---------------------------------------------------------------------------- forward mode

def jvp(fun, primals, tangents, has_aux=False):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("primal and tangent arguments to jax.jvp must be tuples or lists; found "
                        f"{type(primals).__name__} and {type(tangents).__name__}.")
    if tree_structure(tuple(primals)) != tree_structure(tuple(tangents)):
        raise TypeError("primal and tangent arguments to jax.jvp must have the same tree structure; primals have "
                        f"tree structure {tree_structure(tuple(primals))} whereas tangents have tree structure "
                        f"{tree_structure(tuple(tangents))}.")
    for p, t in zip(tree_flatten(tuple(primals))[0], tree_flatten(tuple(tangents))[0]):
        _check_tangent(_aval_of(p, "a primal"), t)
    staging = Staging(fun, primals, name=_name(fun))
    mask = _float_mask(staging)
    program = run_passes(jvp_program(staging.program, mask), CLEANUP)
    ts = [_cast_like(t, v.aval) for t, v, m in zip(tree_flatten(tuple(tangents))[0], staging.program.inputs, mask)
          if m]
    avals = [v.aval for v in staging.program.outputs]
    results = inline(program, staging.values + ts)
    n = len(avals)
    out, aux, _ = _main_and_aux(staging, _as_outputs(results[:n], avals), has_aux)
    t_out, _, _ = _main_and_aux(staging, _as_tangents(results[n:], avals), has_aux)
    return (out, t_out, aux) if has_aux else (out, t_out)


def _check_tangent(primal: ShapedArray, t) -> None:
    """JAX's checks of a tangent against its primal: an integer or bool primal takes a float0
    tangent, any other the primal's dtype, and the shapes agree."""
    t_dtype = float0 if _is_float0(t) else _aval_of(t, "a tangent").dtype
    if t_dtype != _tangent_dtype(primal):
        raise TypeError("primal and tangent arguments to jax.jvp do not match; dtypes must be equal, or in case "
                        "of int/bool primal dtype the tangent dtype must be float0."
                        f"Got primal dtype {primal.dtype} and so expected tangent dtype {_tangent_dtype(primal)}, "
                        f"but got tangent dtype {t_dtype} instead.")
    if tuple(np.shape(t)) != primal.shape:
        raise ValueError("jvp called with different primal and tangent shapes;"
                         f"Got primal shape {primal.shape} and tangent shape as {tuple(np.shape(t))}")


def _as_tangents(values, avals) -> list:
    """Output tangents: float0 zeros for integer outputs, arrays of the outputs' dtypes otherwise,
    weakly typed only where the tangent computed is (a strong tangent stays strong, as in JAX)."""
    return [_cast_like(v, _weakened(a, v)) if a.dtype.kind in "fc" else float0_zeros(a.shape)
            for v, a in zip(values, avals)]


def linearize(fun, *primals):
    staging = Staging(fun, primals, name=_name(fun))
    mask = _float_mask(staging)
    n = len(staging.program.outputs)
    split = split_linear(jvp_program(staging.program, mask), n, sum(mask))
    known, linear = run_passes(split.known, CLEANUP), run_passes(split.linear, CLEANUP)
    outs = inline(known, staging.values)
    residuals = outs[n:]
    in_tree = tree_structure(tuple(primals))

    def f_jvp(*tangents):
        t_leaves, t_tree = tree_flatten(tuple(tangents))
        if t_tree != in_tree:
            raise TypeError(f"linearized function called on tangent values inconsistent with the original "
                            f"primal values: expected tree structure {in_tree}, got {t_tree}")
        ts = [_cast_like(t, v.aval) for t, v, m in zip(t_leaves, staging.program.inputs, mask) if m]
        return tree_unflatten(staging.out_tree, _as_tangents(inline(linear, residuals + ts), avals))

    avals = [v.aval for v in staging.program.outputs]
    return tree_unflatten(staging.out_tree, _as_outputs(outs[:n], avals)), f_jvp


# The Jacobians are built on the pieces above; kiln.ad exports them too.
from kiln.jacobians import hessian, jacfwd, jacobian, jacrev  # noqa: E402,F401
