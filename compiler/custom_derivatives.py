"""custom_jvp, custom_vjp and checkpoint: functions whose derivative the user (or a memory
budget) decides.

Each is a call primitive holding staged sub-programs:

- `custom_jvp_call(*args, program, jvp)`: `program` computes the function; its jvp rule
  evaluates the user's `jvp` program (primals, tangents) -> (outs, tangent outs) instead of
  differentiating `program`.
- `custom_vjp_call(*args, program, fwd, bwd)`: its jvp rule runs `fwd` (outs and residuals) and
  emits `custom_lin(residuals, tangents)`, a linear primitive whose transpose is `bwd`. As in
  JAX, forward mode through a custom_vjp function is an error.
- `checkpoint_call(*args, program)`: its tangent is one `checkpoint_jvp` equation that keeps
  only the inputs as residuals; transposing it recomputes the rest (rematerialisation).

Backends never see these: `passes/expand_calls.py` inlines the bodies before code generation.
The leading `n_args` inputs are the function's arguments; the rest are captured values of
enclosing functions, which are constants as far as these derivatives are concerned.
"""
from __future__ import annotations

import functools
import inspect

from kiln.interpret import inline
from kiln.passes.jvp import instantiate, jvp_program
from kiln.primitives import (aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules,
                             transpose_rules)
from kiln.runtime.pytree import tree_flatten, tree_unflatten
from kiln.staging import current_builder

expand_rules: dict = {}  # call primitive -> fn(*inputs, **params) -> outputs, for expand_calls


def _stage(fun, args, name):
    from kiln.ad import Staging
    return Staging(fun, args, name=name)


def _register_call(prim, body_param):
    shape_rules[prim] = lambda *avals, **params: [v.aval for v in params[body_param].outputs]
    expand_rules[prim] = lambda *ins, **params: inline(params[body_param], ins[:len(params[body_param].inputs)])
    impl_rules[prim] = lambda *ins, **params: [
        v._value if hasattr(v, "_value") else v for v in expand_rules[prim](*ins, **params)]


class Rule:
    """A user's derivative rule on flat lists of values. It is called only when differentiation
    reaches the call, so a rule may call the very function it belongs to."""

    def __init__(self, fn, name: str):
        self.fn, self.name = fn, name

    def __call__(self, *args):
        return self.fn(*args)

    def __repr__(self) -> str:
        return self.name


# ---------------------------------------------------------------------------- custom_jvp
custom_jvp_call_p = primitive("custom_jvp_call", multiple_results=True)
_register_call(custom_jvp_call_p, "program")


def _custom_jvp_call_jvp(primals, tangents, *, program, rule, n_args):
    args = primals[:n_args]
    ts = [instantiate(t, aval_of(x)) for t, x in zip(tangents[:n_args], args)]
    outs, t_outs = rule(list(args), ts)
    t_outs = [instantiate(t, v.aval) for t, v in zip(t_outs, program.outputs)]
    return outs, t_outs


jvp_rules[custom_jvp_call_p] = _custom_jvp_call_jvp


def _signature(fun):
    try:
        return inspect.signature(fun)
    except (TypeError, ValueError):  # (a builtin without one)
        return None


def _positional(fun, signature, args, kwargs):
    """All of a call's arguments as positional ones, defaults filled in, as JAX resolves them
    for custom_jvp and custom_vjp functions (so nondiff_argnums can name defaulted ones)."""
    if signature is None:
        if kwargs:
            raise TypeError(f"{getattr(fun, '__name__', fun)}: keyword arguments need a function with a signature")
        return tuple(args)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(f"custom_jvp/custom_vjp function {getattr(fun, '__name__', fun)} takes keyword-only "
                        "arguments, which kiln (like JAX) does not support")
    return tuple(bound.args)


def _split_static(args, nondiff_argnums):
    static = {i: args[i] for i in nondiff_argnums}
    dyn = tuple(a for i, a in enumerate(args) if i not in static)

    def with_static(d):
        it = iter(d)
        return [static[i] if i in static else next(it) for i in range(len(args))]
    return static, dyn, with_static


class custom_jvp:
    """`@custom_jvp` then `@f.defjvp`: a function with a user-defined derivative."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._signature = _signature(fun)
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp = None

    def defjvp(self, jvp, symbolic_zeros=False):
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps):
        def jvp(primals, tangents):
            out = self(*primals)
            terms = [rule(t, out, *primals) for rule, t in zip(jvps, tangents) if rule is not None]
            return out, functools.reduce(lambda a, b: a + b, terms)
        self.jvp = jvp

    def __call__(self, *args, **kwargs):
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {self.__name__} using defjvp.")
        args = _positional(self.fun, self._signature, args, kwargs)
        if current_builder() is None:
            return self.fun(*args)
        static, dyn, with_static = _split_static(args, self.nondiff_argnums)
        fun = _stage(lambda *d: self.fun(*with_static(d)), dyn, self.__name__)
        leaves, args_tree = tree_flatten(dyn)

        def flat_rule(primal_leaves, tangent_leaves):
            primals = tree_unflatten(args_tree, primal_leaves)
            tangents = tree_unflatten(args_tree, tangent_leaves)
            if static:
                out, t_out = self.jvp(*[static[i] for i in self.nondiff_argnums], primals, tangents)
            else:
                out, t_out = self.jvp(tuple(primals), tuple(tangents))
            return tree_flatten(out)[0], tree_flatten(t_out)[0]

        outs = bind(custom_jvp_call_p, *leaves, *fun.captures, program=fun.program,
                    rule=Rule(flat_rule, getattr(self.jvp, "__name__", "jvp")), n_args=len(leaves))
        return tree_unflatten(fun.out_tree, outs)


# ---------------------------------------------------------------------------- custom_vjp
custom_vjp_call_p = primitive("custom_vjp_call", multiple_results=True)
custom_lin_p = primitive("custom_lin", multiple_results=True)
_register_call(custom_vjp_call_p, "program")


def _custom_vjp_call_jvp(primals, tangents, *, program, fwd, bwd, n_args):
    args = primals[:n_args]
    outs, residuals, res_tree = fwd(list(args))
    ts = [instantiate(t, aval_of(x)) for t, x in zip(tangents[:n_args], args)]
    t_outs = bind(custom_lin_p, *residuals, *ts, bwd=bwd, res_tree=res_tree, n_residuals=len(residuals),
                  out_avals=tuple(v.aval for v in program.outputs))
    return outs, t_outs


def _custom_lin_transpose(cts, *inputs, bwd, res_tree, n_residuals, out_avals):
    residuals = list(inputs[:n_residuals])
    cts = [instantiate(ct, a) for ct, a in zip(cts, out_avals)]
    ct_args = bwd(res_tree, residuals, cts)
    linear = inputs[n_residuals:]
    return [None] * n_residuals + [instantiate(ct, x.aval) for ct, x in zip(ct_args, linear)]


def _custom_lin_impl(*inputs, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


jvp_rules[custom_vjp_call_p] = _custom_vjp_call_jvp
shape_rules[custom_lin_p] = lambda *avals, out_avals, **_: list(out_avals)
impl_rules[custom_lin_p] = _custom_lin_impl
transpose_rules[custom_lin_p] = _custom_lin_transpose


class custom_vjp:
    """`@custom_vjp` then `f.defvjp(fwd, bwd)`: a function with a user-defined reverse rule."""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._signature = _signature(fun)
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd = self.bwd = None

    def defvjp(self, fwd, bwd, symbolic_zeros=False, optimize_remat=False):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {self.__name__} using defvjp.")
        args = _positional(self.fun, self._signature, args, kwargs)
        if current_builder() is None:
            return self.fun(*args)
        static, dyn, with_static = _split_static(args, self.nondiff_argnums)
        fun = _stage(lambda *d: self.fun(*with_static(d)), dyn, self.__name__)
        leaves, args_tree = tree_flatten(dyn)
        nondiff = [static[i] for i in self.nondiff_argnums]

        def flat_fwd(primal_leaves):
            out, res = self.fwd(*with_static(tree_unflatten(args_tree, primal_leaves)))
            res_leaves, res_tree = tree_flatten(res)
            return tree_flatten(out)[0], res_leaves, res_tree

        def flat_bwd(res_tree, res_leaves, ct_leaves):
            ct_args = self.bwd(*nondiff, tree_unflatten(res_tree, res_leaves),
                               tree_unflatten(fun.out_tree, ct_leaves))
            if not isinstance(ct_args, tuple) or len(ct_args) != len(dyn):
                raise TypeError(f"Custom VJP bwd rule {getattr(self.bwd, '__name__', 'bwd')} must produce a "
                                f"tuple of length equal to the number of primal inputs ({len(dyn)}), got "
                                f"{ct_args!r:.80}")
            return tree_flatten(ct_args, is_leaf=lambda x: x is None)[0]

        outs = bind(custom_vjp_call_p, *leaves, *fun.captures, program=fun.program,
                    fwd=Rule(flat_fwd, getattr(self.fwd, "__name__", "fwd")),
                    bwd=Rule(flat_bwd, getattr(self.bwd, "__name__", "bwd")), n_args=len(leaves))
        return tree_unflatten(fun.out_tree, outs)


# ---------------------------------------------------------------------------- checkpoint
checkpoint_call_p = primitive("checkpoint_call", multiple_results=True)
checkpoint_jvp_p = primitive("checkpoint_jvp", multiple_results=True)
_register_call(checkpoint_call_p, "program")


def _checkpoint_call_jvp(primals, tangents, *, program):
    outs = bind(checkpoint_call_p, *primals, program=program)
    flags = tuple(t is not None for t in tangents)
    ts = [t for t in tangents if t is not None]
    t_outs = bind(checkpoint_jvp_p, *primals, *ts, program=jvp_program(program, flags), flags=flags)
    return outs, t_outs


def _checkpoint_jvp_shape(*avals, program, flags):
    n = len(flags)
    return [v.aval for v in program.outputs[len(program.outputs) // 2:]] if n else []


def _checkpoint_jvp_transpose(cts, *inputs, program, flags):
    # Recompute the primal part from the saved inputs, then transpose the linear part.
    from kiln.passes.partial_eval import split_linear
    from kiln.passes.transpose import backward_pass
    n = len(flags)
    primals = inputs[:n]
    n_out = len(program.outputs) // 2
    split = split_linear(program, n_out, sum(flags))
    known = inline(split.known, list(primals))
    residuals = known[n_out:]
    tangent_avals = [v.aval for v in program.outputs[n_out:]]
    cts = [instantiate(ct, a) for ct, a in zip(cts, tangent_avals)]
    ct_ins = backward_pass(split.linear, residuals, cts)
    return [None] * n + list(ct_ins)


jvp_rules[checkpoint_call_p] = _checkpoint_call_jvp
shape_rules[checkpoint_jvp_p] = _checkpoint_jvp_shape
transpose_rules[checkpoint_jvp_p] = _checkpoint_jvp_transpose
expand_rules[checkpoint_jvp_p] = lambda *ins, program, flags: inline(program, list(ins))[len(program.outputs) // 2:]
impl_rules[checkpoint_jvp_p] = lambda *ins, **params: [
    v._value if hasattr(v, "_value") else v for v in expand_rules[checkpoint_jvp_p](*ins, **params)]


def checkpoint(fun, *, prevent_cse=True, policy=None, static_argnums=()):
    """`kiln.checkpoint(f)` (alias `remat`): reverse mode saves only f's inputs and recomputes
    the rest of f when the backward pass needs it."""
    @functools.wraps(fun)
    def remat(*args):
        if current_builder() is None:
            return fun(*args)
        staging = _stage(fun, args, getattr(fun, "__name__", "f"))
        outs = bind(checkpoint_call_p, *staging.values, program=staging.program)
        return tree_unflatten(staging.out_tree, outs)
    return remat


remat = checkpoint


# ---------------------------------------------------------------------------- batching
# Under vmap each call stays a call, of its body batched, so that differentiating the vmapped
# function still uses the user's rule (as in JAX). Batched values are moved to axis 0 and every
# output is batched. A user's rule is batched by staging it on one example and running the
# batching interpreter over that program, each time differentiation reaches the call.
def _example_aval(x, d):
    from kiln.ir import ShapedArray
    a = aval_of(x)
    return a if d is None else ShapedArray(a.shape[1:], a.dtype, a.weak_type)


def _batched_call(program, args, dims, n_args, name):
    """(batched program, operands): the program's inputs are the `n_args` arguments, then the
    values its batched body closes over, then the rest (the original captures)."""
    from kiln.ir import Program
    from kiln.lax.control_flow import batched_body
    from kiln.passes.vmap import batch_size, move_to_front
    size = batch_size(args, dims)
    args = [move_to_front(x, d) for x, d in zip(args, dims)]
    dims = [None if d is None else 0 for d in dims]
    closed, extras, _ = batched_body(program, dims, size, name, force_out=[True] * len(program.outputs))
    k = len(extras)
    inputs = closed.inputs[k:k + n_args] + closed.inputs[:k] + closed.inputs[k + n_args:]
    return Program(inputs, closed.eqns, closed.outputs), list(args[:n_args]) + extras + list(args[n_args:]), \
        dims[:n_args], size


def _run_batched(fn, values, dims, size, name):
    """fn(*one example) on batched `values` (dims 0 or None): outputs, all batched at 0, and the
    per-example output avals. `fn` returns a flat list."""
    from kiln.lax.control_flow import stage_body
    from kiln.passes.vmap import vmap_eval, with_batch
    program, extras, _ = stage_body(fn, [_example_aval(x, d) for x, d in zip(values, dims)], name)
    outs, out_dims = vmap_eval(program, list(extras) + list(values), [None] * len(extras) + list(dims))
    avals = [v.aval for v in program.outputs]
    return [with_batch(o, d, size, a.shape) for o, d, a in zip(outs, out_dims, avals)], avals


def _value_dims(values, example_avals):
    """0 where a value has one more axis than its example (a batched tangent), else None."""
    return [0 if len(aval_of(v).shape) > len(a.shape) else None for v, a in zip(values, example_avals)]


def _custom_jvp_batch(args, dims, *, program, rule, n_args):
    new, operands, arg_dims, size = _batched_call(program, args, dims, n_args, "custom_jvp")

    def batched_rule(primals, tangents):
        examples = [_example_aval(p, d) for p, d in zip(primals, arg_dims)]
        t_dims = _value_dims(tangents, examples)
        n = len(primals)

        def flat(*vals):
            outs, t_outs = rule(list(vals[:n]), list(vals[n:]))
            return list(outs) + list(t_outs)
        outs, _ = _run_batched(flat, list(primals) + list(tangents), list(arg_dims) + t_dims, size, "jvp")
        return outs[:len(outs) // 2], outs[len(outs) // 2:]

    outs = bind(custom_jvp_call_p, *operands, program=new, rule=Rule(batched_rule, f"vmap({rule!r})"),
                n_args=n_args)
    return outs, [0] * len(outs)


def _custom_vjp_batch(args, dims, *, program, fwd, bwd, n_args):
    new, operands, arg_dims, size = _batched_call(program, args, dims, n_args, "custom_vjp")
    n_out = len(program.outputs)

    def batched_fwd(primals):
        res_trees = []

        def flat(*vals):
            outs, residuals, res_tree = fwd(list(vals))
            res_trees.append(res_tree)
            return list(outs) + list(residuals)
        outs, _ = _run_batched(flat, list(primals), list(arg_dims), size, "fwd")
        return outs[:n_out], outs[n_out:], res_trees[0]  # every residual batched at 0

    def batched_bwd(res_tree, residuals, cts):
        import kiln.numpy as knp
        values = list(residuals) + list(cts)
        present = []

        def flat(*vals):
            ct_args = bwd(res_tree, list(vals[:len(residuals)]), list(vals[len(residuals):]))
            present.extend(c is not None for c in ct_args)
            return [c for c in ct_args if c is not None]
        # Residuals and cotangents are all batched: fwd and the call batch every output.
        outs, _ = _run_batched(flat, values, [0] * len(values), size, "bwd")
        outs, result = iter(outs), []
        for keep, d in zip(present, arg_dims):
            ct = next(outs) if keep else None
            # An argument shared by every example gets the sum of their cotangents.
            result.append(knp.sum(ct, axis=0) if ct is not None and d is None else ct)
        return result

    outs = bind(custom_vjp_call_p, *operands, program=new, fwd=Rule(batched_fwd, f"vmap({fwd!r})"),
                bwd=Rule(batched_bwd, f"vmap({bwd!r})"), n_args=n_args)
    return outs, [0] * len(outs)


def _checkpoint_batch(args, dims, *, program):
    new, operands, _, _ = _batched_call(program, args, dims, len(args), "checkpoint")
    outs = bind(checkpoint_call_p, *operands, program=new)
    return outs, [0] * len(outs)


def _checkpoint_jvp_batch(args, dims, *, program, flags):
    # The tangent part of a checkpointed call (vmap of jvp): expanded, as backends do.
    from kiln.passes.vmap import vmap_eval
    outs, out_dims = vmap_eval(program, list(args), list(dims))
    n_out = len(outs) // 2
    return outs[n_out:], out_dims[n_out:]


def _custom_lin_batch(args, dims, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


from kiln.primitives import vmap_rules as _vmap_rules  # noqa: E402

_vmap_rules[custom_jvp_call_p] = _custom_jvp_batch
_vmap_rules[custom_vjp_call_p] = _custom_vjp_batch
_vmap_rules[checkpoint_call_p] = _checkpoint_batch
_vmap_rules[checkpoint_jvp_p] = _checkpoint_jvp_batch
_vmap_rules[custom_lin_p] = _custom_lin_batch
