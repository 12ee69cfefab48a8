"""Shared oracle for the vmap tests: a Python loop over the batch.

`check(name, f, specs)` builds batched arguments from `Arg` specs (seeded by `name`), runs
`kiln.vmap(f)` on them and compares with running `f` eagerly with kiln on each slice, stacked
with NumPy. Specs describe
the *per-example* shape and where the batch axis is inserted (None: not batched), so a table
of cases never has to spell out batched shapes by hand.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

import kiln
import kiln.numpy as jnp
from kiln.runtime.pytree import tree_flatten, tree_unflatten

_UNIFORM = {"pos": (0.5, 2.0), "unit": (-0.9, 0.9), "gt1": (1.5, 3.0)}
B = 3  # batch size


@dataclass(frozen=True)
class Arg:
    """A per-example array of `shape`, batched at `axis` (None: shared by every example).

    `kind` is "f" (float32 normal), "i" (int32 in [lo, hi)), "u32" (any uint32), "b" (bool),
    "c" (complex64), or, for functions with a restricted domain, float32 uniform in "pos"
    [0.5, 2), "unit" (-0.9, 0.9) or "gt1" [1.5, 3)."""
    shape: tuple = ()
    axis: int | None = 0
    kind: str = "f"
    lo: int = 0
    hi: int = 3

    def make(self, rng):
        shape = list(self.shape)
        if self.axis is not None:
            axis = self.axis if self.axis >= 0 else self.axis + len(shape) + 1
            shape.insert(axis, B)
        if self.kind == "f":
            return rng.standard_normal(shape).astype(np.float32)
        if self.kind in _UNIFORM:
            return rng.uniform(*_UNIFORM[self.kind], shape).astype(np.float32)
        if self.kind == "c":
            return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
        if self.kind == "i":
            return rng.integers(self.lo, self.hi, shape).astype(np.int32)
        if self.kind == "u32":
            return rng.integers(0, 2 ** 32, shape, dtype=np.uint32)
        if self.kind == "b":
            return rng.random(shape) < 0.5
        raise ValueError(self.kind)


def rng_for(name: str):
    return np.random.default_rng(zlib.crc32(name.encode()))


def loop(f, args, in_axes, out_axes=0):
    """What vmap must compute: `f` run eagerly on each slice, outputs stacked with NumPy.

    Written independently of kiln's vmap: `args` are arrays, `in_axes` one int or None per
    argument, `out_axes` one int or None for every output leaf."""
    size = {np.shape(x)[a] for x, a in zip(args, in_axes) if a is not None}.pop()
    outs = []
    for b in range(size):
        sliced = [jnp.asarray(x if a is None else np.take(x, b, axis=a)) for x, a in zip(args, in_axes)]
        outs.append(f(*sliced))
    # jnp.asarray: an eager primitive may give a Python scalar where vmap gives an int32 array.
    out_leaves = [[np.asarray(jnp.asarray(leaf)) for leaf in tree_flatten(o)[0]] for o in outs]
    stacked = [out_leaves[0][k] if out_axes is None else np.stack([o[k] for o in out_leaves], axis=out_axes)
               for k in range(len(out_leaves[0]))]
    return tree_unflatten(tree_flatten(outs[0])[1], stacked)


def assert_trees_close(got, want, rtol=1e-5, atol=1e-5):
    got_leaves, got_tree = tree_flatten(got)
    want_leaves, want_tree = tree_flatten(want)
    assert got_tree == want_tree, (got_tree, want_tree)
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, (g.shape, w.shape)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def check(name, f, specs, out_axes=0, rtol=1e-5, atol=1e-5, per_example=None):
    """vmap(f) on arguments built from `specs` (a sequence of Arg) against the loop of
    `per_example` (default: f itself, eagerly)."""
    rng = rng_for(name)
    args = [s.make(rng) for s in specs]
    in_axes = tuple(s.axis for s in specs)
    got = kiln.vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    assert_trees_close(got, loop(per_example or f, args, in_axes, out_axes), rtol, atol)


def primitives_of(f, specs) -> set[str]:
    """Names of the primitives in `f`'s program on one example (sub-programs included): a
    case table says which batching rules it exercises, and this keeps the claim honest."""
    from kiln.ad import Staging
    from kiln.ir import sub_programs
    rng = rng_for("primitives_of")
    example = [Arg(s.shape, None, s.kind, s.lo, s.hi).make(rng) for s in specs]
    names, todo = set(), [Staging(f, example).program]
    while todo:
        program = todo.pop()
        for eqn in program.eqns:
            names.add(eqn.prim.name)
            todo.extend(sub_programs(eqn))
    return names
