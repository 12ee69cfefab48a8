"""Batching: evaluate a program on values that carry an extra (batch) dimension.

`vmap_eval(program, args, dims)` interprets `program` with every value paired with its batch
dimension (`None` when it is not batched), emitting as it goes, like the jvp pass.

Contract of `vmap_rules[p](args, dims, **params) -> (outs, out_dims)`: `dims[i]` is the batch
axis of `args[i]` or None (at least one is not None). Rules are written with kiln.lax, so they
emit equations too. The helpers below move batch axes to the front and give unbatched operands
the batch dimension when a primitive needs matching shapes.

Collectives (`kiln.lax.psum`, `axis_index`, ...) name axes and are batched by
`collective_rules[p](args, dims, name, size, **params) -> (outs, out_dims)` instead of
`vmap_rules`: `name`/`size` are those of the innermost vmap (`kiln.lax.parallel.current_axis`,
bound by `kiln.vmap(..., axis_name=...)`) when the equation names it, batched operands or not
(an `axis_index` has none), and None when it does not (the operands are batched along another
map's axis: the collective then runs per lane).
"""
from __future__ import annotations

from kiln.ir import Literal, Program, literal_value
from kiln.primitives import aval_of, bind, vmap_rules
from kiln.staging import located

name = "vmap"
collective_rules: dict = {}  # primitive -> rule; see the module docstring


def batch_size(args, dims) -> int:
    sizes = {aval_of(x).shape[d] for x, d in zip(args, dims) if d is not None}
    if len(sizes) != 1:
        raise ValueError(f"vmap got inconsistent sizes for the mapped axis: {sorted(sizes)}")
    return sizes.pop()


def move_to_front(x, d):
    """x with its batch axis `d` moved to axis 0 (x unchanged when d is None or 0)."""
    if d is None or d == 0:
        return x
    from kiln import lax
    ndim = len(aval_of(x).shape)
    perm = (d,) + tuple(i for i in range(ndim) if i != d)
    return lax.transpose(x, perm)


def with_batch(x, d, size: int, example_shape=None):
    """x batched at axis 0; an unbatched x is broadcast (to `example_shape` per example if given)."""
    from kiln import lax
    if d is not None:
        x = move_to_front(x, d)
        shape = aval_of(x).shape
        if example_shape is not None and shape[1:] != tuple(example_shape):
            return lax.broadcast_in_dim(x, (size,) + tuple(example_shape),
                                        (0,) + tuple(range(1 + len(example_shape) - (len(shape) - 1),
                                                           1 + len(example_shape))))
        return x
    shape = tuple(aval_of(x).shape) if example_shape is None else tuple(example_shape)
    x_shape = aval_of(x).shape
    return lax.broadcast_in_dim(x, (size,) + shape,
                                tuple(range(1 + len(shape) - len(x_shape), 1 + len(shape))))


def vmap_eval(program: Program, args, dims):
    env, denv = {}, {}

    def read(a):
        return (literal_value(a), None) if isinstance(a, Literal) else (env[a], denv.get(a))

    for var, value in program.consts:
        env[var] = value
    env.update(zip(program.inputs, args))
    denv.update((v, d) for v, d in zip(program.inputs, dims) if d is not None)
    for eqn in program.eqns:
        ins, ds = zip(*map(read, eqn.inputs)) if eqn.inputs else ((), ())
        with located(eqn.loc):
            axis = _own_axis(eqn) if eqn.prim in collective_rules else None
            if eqn.prim in collective_rules and (axis is not None or any(d is not None for d in ds)):
                outs, out_dims = collective_rules[eqn.prim](list(ins), list(ds), *(axis or (None, None)),
                                                            **eqn.params)
            elif all(d is None for d in ds):
                outs = bind(eqn.prim, *ins, **eqn.params)
                outs, out_dims = (outs if eqn.prim.multiple_results else [outs]), [None] * len(eqn.outputs)
            else:
                outs, out_dims = vmap_rules[eqn.prim](list(ins), list(ds), **eqn.params)
        env.update(zip(eqn.outputs, outs))
        denv.update((v, d) for v, d in zip(eqn.outputs, out_dims) if d is not None)
    results = [read(v) for v in program.outputs]
    return [r[0] for r in results], [r[1] for r in results]


def _own_axis(eqn):
    """(name, size) of the innermost vmap if the collective `eqn` names it, else None."""
    from kiln.lax.parallel import current_axis
    axis = current_axis()
    if axis is None or axis[0] is None:
        return None
    names = eqn.params["axes"] if "axes" in eqn.params else (eqn.params.get("axis_name"),)
    return axis if axis[0] in names else None


# ---------------------------------------------------------------------------- rule helpers

def elementwise_rule(prim):
    """Elementwise primitives: operands of one shape (or rank 0) after batching at axis 0."""
    def rule(args, dims, **params):
        size = batch_size(args, dims)
        example = ()
        for x, d in zip(args, dims):
            shape = list(aval_of(x).shape)
            if d is not None:
                del shape[d]
            if shape:
                example = tuple(shape)
        ins = []
        for x, d in zip(args, dims):
            x_example = aval_of(x).shape if d is None else aval_of(x).shape[:d] + aval_of(x).shape[d + 1:]
            if d is None and x_example == ():
                ins.append(x)  # rank-0 operands broadcast inside the primitive
            else:
                ins.append(with_batch(x, d, size, example))
        out = bind(prim, *ins, **params)
        outs = out if prim.multiple_results else [out]
        return outs, [0] * len(outs)
    return rule


def all_batched_rule(prim, shift_params):
    """Primitives whose params name axes: batch every operand at 0 and shift the axes by one."""
    def rule(args, dims, **params):
        size = batch_size(args, dims)
        ins = [with_batch(x, d, size) for x, d in zip(args, dims)]
        out = bind(prim, *ins, **shift_params(**params))
        outs = out if prim.multiple_results else [out]
        return outs, [0] * len(outs)
    return rule
