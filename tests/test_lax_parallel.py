"""Collectives over named axes (kiln.lax.psum, pmean, pmax, pmin, axis_index, all_gather) under
kiln.vmap / kiln.pmap with `axis_name`, against jax.vmap / jax.pmap on the same functions:
nested maps with two names, tuples of names, control flow, jit, grad and jvp; unbound names
fail with JAX's NameError."""
import jax
import numpy as np
import pytest

import kiln

XS = np.array([0.5, -1.0, 2.0, 3.5], np.float32)
YS = np.arange(6, dtype=np.float32).reshape(2, 3) - 2


def _check(got, want):
    got_leaves, want_leaves = kiln.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6)


def _softmax(M, x):
    e = M.numpy.exp(x - M.lax.pmax(x, "i"))
    return e / M.lax.psum(e, "i")


# Each case: a function of the module `M` (kiln or jax), the arguments, and vmap's keywords.
CASES = {
    "psum": (lambda M: lambda x: M.lax.psum(x, "i"), (XS,), {}),
    "psum_int": (lambda M: lambda x: M.lax.psum(x, "i"), (np.arange(6, dtype=np.int32).reshape(3, 2),), {}),
    "psum_of_a_constant": (lambda M: lambda x: M.lax.psum(1, "i") * x, (XS,), {}),
    "psum_pytree": (lambda M: lambda x: M.lax.psum({"a": x, "b": (2 * x, x * x)}, "i"), (XS,), {}),
    "psum_unbatched_operand": (lambda M: lambda x, y: M.lax.psum(y, "i") + x, (XS, np.float32(2.0)),
                               dict(in_axes=(0, None))),
    "pmean_normalise": (lambda M: lambda x: x - M.lax.pmean(x, "i"), (XS,), {}),
    "pmax_pmin": (lambda M: lambda x: (M.lax.pmax(x, "i"), M.lax.pmin(x * x, "i")), (XS,), {}),
    "axis_index": (lambda M: lambda x: M.lax.axis_index("i") * x, (XS,), {}),
    "softmax_over_lanes": (lambda M: lambda x: _softmax(M, x), (XS,), {}),
    "all_gather": (lambda M: lambda x: M.lax.all_gather(x, "i"), (YS,), {}),
    "all_gather_axis1": (lambda M: lambda x: M.lax.all_gather(x, "i", axis=1), (YS,), {}),
    "all_gather_tiled": (lambda M: lambda x: M.lax.all_gather(x, "i", tiled=True), (YS,), {}),
    "out_axes": (lambda M: lambda x: x * M.lax.psum(x, "i"), (YS,), dict(out_axes=1)),
    "in_a_loop": (lambda M: lambda x: M.lax.fori_loop(0, 3, lambda k, c: c * 0.5 + M.lax.psum(c, "i"), x), (XS,), {}),
    "in_a_cond": (lambda M: lambda x: M.lax.cond(x > 0, lambda v: M.lax.psum(v, "i"), lambda v: -v, x), (XS,), {}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_vmap_with_axis_name_matches_jax(name):
    make, args, kw = CASES[name]
    want = jax.vmap(make(jax), axis_name="i", **kw)(*args)
    _check(kiln.vmap(make(kiln), axis_name="i", **kw)(*args), want)
    _check(kiln.jit(kiln.vmap(make(kiln), axis_name="i", **kw))(*args), want)


def test_nested_vmaps_with_two_names():
    def make(M):
        def f(x):
            both = M.lax.psum(x, ("i", "j"))
            rows = M.lax.psum(x, "i")
            index = M.lax.axis_index("i") * 10 + M.lax.axis_index("j")
            return both, rows, index, M.lax.pmax(x, "j")
        return M.vmap(M.vmap(f, axis_name="j"), axis_name="i")
    _check(make(kiln)(YS), make(jax)(YS))
    # The inner map is unnamed: only the outer name is bound.

    def unnamed(M):  # the inner map batches the collectives per lane
        def f(x):
            return M.lax.psum(x, "i") * x, M.lax.pmin(x, "i"), M.lax.all_gather(x, "i"), M.lax.axis_index("i") + x
        return M.vmap(M.vmap(f), axis_name="i")
    _check(unnamed(kiln)(YS), unnamed(jax)(YS))


def test_pmap_binds_the_name():
    x = np.array([[1.0, 2.0]], np.float32)  # kiln has one device
    _check(kiln.pmap(lambda v: v / kiln.lax.psum(v, "i"), axis_name="i")(x),
           jax.pmap(lambda v: v / jax.lax.psum(v, "i"), axis_name="i")(x))
    _check(kiln.pmap(lambda v: kiln.lax.axis_index("i") + v, axis_name="i")(x),
           jax.pmap(lambda v: jax.lax.axis_index("i") + v, axis_name="i")(x))


@pytest.mark.parametrize("body", ["psum", "psum_square", "pmean", "psum_times_x"])
def test_grad_inside_vmap_matches_jax(body):
    def make(M):
        fns = {"psum": lambda x: M.lax.psum(x, "i"),
               "psum_square": lambda x: M.lax.psum(x ** 2, "i"),
               "pmean": lambda x: M.lax.pmean(M.numpy.sin(x), "i"),
               "psum_times_x": lambda x: M.lax.psum(x ** 2, "i") * x}
        return M.vmap(M.grad(fns[body]), axis_name="i")
    _check(make(kiln)(XS), make(jax)(XS))


def test_grad_of_a_vmap_with_collectives_matches_jax():
    def make(M):
        def loss(xs):
            return (M.vmap(lambda x: M.lax.psum(x ** 2, "i") * x - M.lax.pmean(x, "i"), axis_name="i")(xs) ** 2).sum()
        return M.grad(loss)
    _check(make(kiln)(XS), make(jax)(XS))
    _check(kiln.jit(make(kiln))(XS), make(jax)(XS))


def test_jvp_inside_vmap_matches_jax():
    def make(M):
        return M.vmap(lambda x: M.jvp(lambda v: M.lax.psum(v ** 2, "i"), (x,), (M.numpy.ones_like(x),)),
                      axis_name="i")
    _check(make(kiln)(XS), make(jax)(XS))


def test_unbound_axis_names_are_name_errors():
    with pytest.raises(NameError, match="unbound axis name: i"):
        kiln.lax.psum(1.0, "i")
    with pytest.raises(NameError, match="unbound axis name: i"):
        kiln.jit(lambda x: kiln.lax.psum(x, "i"))(XS)
    with pytest.raises(NameError, match="unbound axis name: i"):
        kiln.jit(lambda x: kiln.lax.axis_index("i"))(XS)
    with pytest.raises(NameError, match="unbound axis name: j"):
        kiln.vmap(lambda x: kiln.lax.psum(x, ("i", "j")), axis_name="i")(XS)
    with pytest.raises(NameError, match="unbound axis name: i"):  # an unnamed vmap binds no name
        kiln.vmap(lambda x: kiln.lax.pmax(x, "i"))(XS)


def test_ir_of_a_vmapped_psum():
    program = kiln.make_ir(kiln.vmap(lambda x: kiln.lax.psum(x, "i"), axis_name="i"))(XS)
    assert str(program) == (
        "{ lambda ; a:f32[4]. let\n"
        "    b:f32[] = reduce_sum[axes=(0,)] a\n"
        "    c:f32[4] = broadcast_in_dim[broadcast_dimensions=() shape=(4,)] b\n"
        "  in (c,) }"
    )
