"""custom_vmap and sequential_vmap (`jax.custom_batching`): functions whose batching the user
decides.

`custom_vmap_call(*args, *captures, program, rule, n_args)` is a call primitive: `program` is
the function staged on one example, and backends, jvp and eager calls see only that body
(`passes/expand_calls.py` inlines it). Under vmap the rule runs instead, on the batched
arguments (batch axis first): `rule(axis_size, in_batched, *args) -> (out, out_batched)`,
in_batched and out_batched pytrees of bools shaped as the arguments and the output.

A rule may call the function it belongs to, at the batched shapes: that call is a call again,
so an outer vmap reaches the rule once more. kiln.random does this where JAX's values depend on
the whole batch's shape (XLA picks its dot kernels and its YNNPACK offloads by size).

As in JAX, the function's captured values must not be batched. Under jvp the primal stays a
call and the tangents are a `custom_vmap_jvp` call of the body's jvp program: vmap batches it
with the jvp of the rule (as JAX does), and it transposes as checkpoint's tangents do, so grad
works too (JAX cannot linearize custom_vmap).
"""
from __future__ import annotations

import functools

from kiln.custom_derivatives import (Rule, _checkpoint_jvp_transpose, _positional, _register_call, _signature,
                                     _stage, expand_rules)
from kiln.interpret import inline
from kiln.passes.jvp import instantiate, jvp_eval, jvp_program
from kiln.primitives import (aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules,
                             vmap_rules)
from kiln.runtime.pytree import tree_flatten, tree_structure, tree_unflatten
from kiln.staging import current_builder

__all__ = ["custom_vmap", "sequential_vmap"]

custom_vmap_call_p = primitive("custom_vmap_call", multiple_results=True)
custom_vmap_jvp_p = primitive("custom_vmap_jvp", multiple_results=True)
_register_call(custom_vmap_call_p, "program")


class custom_vmap:
    """`@custom_vmap` then `@f.def_vmap`: a function with a user-defined batching rule."""

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._signature = _signature(fun)
        self.vmap_rule = None

    def def_vmap(self, vmap_rule):
        self.vmap_rule = vmap_rule
        return vmap_rule

    def __call__(self, *args, **kwargs):
        if self.vmap_rule is None:
            raise AttributeError(f"No batching rule defined for custom_vmap function {self.__name__} "
                                 "using def_vmap.")
        args = _positional(self.fun, self._signature, args, kwargs)
        if current_builder() is None:
            return self.fun(*args)
        staged = _stage(self.fun, args, self.__name__)
        leaves, args_tree = tree_flatten(args)
        out_tree = staged.out_tree
        rule = self.vmap_rule

        def flat_rule(axis_size, batched_leaves, leaf_values):
            in_batched = list(tree_unflatten(args_tree, batched_leaves))
            out, out_batched = rule(axis_size, in_batched, *tree_unflatten(args_tree, leaf_values))
            outs, got_tree = tree_flatten(out)
            if got_tree != out_tree:
                raise ValueError(f"custom_vmap rule of {self.__name__} returned an output of structure "
                                 f"{got_tree}; the function returns {out_tree}")
            return outs, _bool_leaves(out_batched, out, self.__name__)

        outs = bind(custom_vmap_call_p, *leaves, *staged.captures, program=staged.program,
                    rule=Rule(flat_rule, getattr(rule, "__name__", "vmap_rule")), n_args=len(leaves))
        return tree_unflatten(out_tree, outs)


def _bool_leaves(batched, out, name):
    """One bool per leaf of `out`, from a pytree of bools that is a prefix of out's structure."""
    n = len(tree_flatten(out)[0])
    if isinstance(batched, bool):
        return [batched] * n
    flags, flags_tree = tree_flatten(batched)
    if not all(isinstance(f, bool) for f in flags):
        raise TypeError(f"custom_vmap rule of {name} must return out_batched as a pytree of bools, "
                        f"got {batched!r}")
    try:
        subtrees = flags_tree.flatten_up_to(out)
    except ValueError:
        raise ValueError(f"custom_vmap rule of {name}: out_batched {flags_tree} does not match the "
                         f"output's structure {tree_structure(out)}") from None
    return [f for f, sub in zip(flags, subtrees) for _ in tree_flatten(sub)[0]]


def _custom_vmap_jvp(primals, tangents, *, program, rule, n_args):
    """The primal stays a call; the tangents are a `custom_vmap_jvp` of the body's jvp program,
    batched by the jvp of the rule as JAX does (where only arguments, not captured values,
    have tangents) and transposed as checkpoint's tangents are."""
    outs = bind(custom_vmap_call_p, *primals, program=program, rule=rule, n_args=n_args)
    flags = tuple(t is not None for t in tangents)
    ts = [t for t in tangents if t is not None]
    jvp = jvp_program(program, flags)
    if any(flags[n_args:]):
        return outs, inline(jvp, [*primals, *ts])[len(outs):]

    def jvp_rule(size, batched, values):
        # The rule sees an argument batched where its primal or its tangent is (the other
        # broadcast to match), and its jvp gives the tangents.
        from kiln.ad import jvp as kiln_jvp
        from kiln.passes.vmap import with_batch
        args, arg_batched = list(values[:n_args]), list(batched[:n_args])
        which = [i for i in range(n_args) if flags[i]]
        arg_tangents = list(values[len(primals):])
        tangent_batched = batched[len(primals):]
        for j, i in enumerate(which):
            if tangent_batched[j] and not arg_batched[i]:
                args[i], arg_batched[i] = with_batch(args[i], None, size), True
        for j, i in enumerate(which):
            if arg_batched[i] and not tangent_batched[j]:
                arg_tangents[j] = with_batch(arg_tangents[j], None, size)

        def f(*diff):
            leaves = list(args)
            for i, x in zip(which, diff):
                leaves[i] = x
            return rule(size, arg_batched, leaves)[0]
        _, t_outs = kiln_jvp(f, [args[i] for i in which], arg_tangents)
        t_outs = [with_batch(t, 0 if len(aval_of(t).shape) > len(v.aval.shape) else None, size, v.aval.shape)
                  for t, v in zip(t_outs, program.outputs)]
        return t_outs, [True] * len(t_outs)

    t_outs = bind(custom_vmap_jvp_p, *primals, *ts, program=jvp, flags=flags,
                  rule=Rule(jvp_rule, f"jvp({rule!r})"))
    return outs, t_outs


def _tangent_part(program):
    return program.outputs[len(program.outputs) // 2:]


shape_rules[custom_vmap_jvp_p] = lambda *avals, program, flags, rule: [v.aval for v in _tangent_part(program)]
expand_rules[custom_vmap_jvp_p] = lambda *ins, program, flags, rule: \
    inline(program, list(ins))[len(program.outputs) // 2:]
impl_rules[custom_vmap_jvp_p] = lambda *ins, **params: [
    v._value if hasattr(v, "_value") else v for v in expand_rules[custom_vmap_jvp_p](*ins, **params)]
transpose_rules[custom_vmap_jvp_p] = lambda cts, *ins, program, flags, rule: \
    _checkpoint_jvp_transpose(cts, *ins, program=program, flags=flags)


def _custom_vmap_jvp_jvp(primals, tangents, *, program, flags, rule):
    """Differentiated again: through the body's jvp program, as backends see it."""
    outs, t_outs = jvp_eval(program, list(primals), list(tangents))
    half = len(program.outputs) // 2
    return outs[half:], [instantiate(t, v.aval) for t, v in zip(t_outs[half:], program.outputs[half:])]


jvp_rules[custom_vmap_jvp_p] = _custom_vmap_jvp_jvp


def _custom_vmap_jvp_batch(args, dims, *, program, flags, rule):
    outs, batched = _apply_rule(rule, args, dims, len(args), _tangent_part(program))
    return outs, [0 if flag else None for flag in batched]


def _apply_rule(rule, args, dims, n_args, out_vars):
    from kiln.passes.vmap import batch_size, move_to_front
    if any(d is not None for d in dims[n_args:]):
        raise NotImplementedError("kiln.custom_vmap: the function closes over a value that vmap batches; "
                                  "pass that value as an argument instead")
    size = batch_size(args, dims)
    leaves = [move_to_front(x, d) for x, d in zip(args[:n_args], dims)]
    outs, batched = rule(size, [d is not None for d in dims[:n_args]], leaves)
    for out, flag, v in zip(outs, batched, out_vars):
        want = ((size,) if flag else ()) + tuple(v.aval.shape)
        if tuple(aval_of(out).shape) != want:
            raise ValueError(f"custom_vmap rule {rule!r} returned an output of shape "
                             f"{tuple(aval_of(out).shape)} where {want} was expected "
                             f"({'batched' if flag else 'unbatched'}, as out_batched says)")
    return outs, batched


def _custom_vmap_batch(args, dims, *, program, rule, n_args):
    outs, batched = _apply_rule(rule, args, dims, n_args, program.outputs)
    return outs, [0 if flag else None for flag in batched]


jvp_rules[custom_vmap_call_p] = _custom_vmap_jvp
vmap_rules[custom_vmap_call_p] = _custom_vmap_batch
vmap_rules[custom_vmap_jvp_p] = _custom_vmap_jvp_batch


def sequential_vmap(f):
    """f with a batching rule that maps it over the batch one example at a time (lax.map), as
    for a callback that takes one example."""
    f = custom_vmap(f)

    @f.def_vmap
    def rule(axis_size, in_batched, *args):
        from kiln import lax
        leaves, tree = tree_flatten(args)
        flags = [flag for b in in_batched for flag in tree_flatten(b)[0]]

        def one(mapped):
            it = iter(mapped)
            return f.fun(*tree_unflatten(tree, [next(it) if flag else x for x, flag in zip(leaves, flags)]))
        return lax.map(one, [x for x, flag in zip(leaves, flags) if flag]), True
    return f
