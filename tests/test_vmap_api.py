"""vmap's and pmap's API against real JAX: in_axes / out_axes as ints, negative ints, None,
tuples, lists and pytree prefixes (dicts, nested tuples, NamedTuples); axis_size; keyword
arguments (always mapped over their leading axis, as in JAX); and the errors JAX raises for
inconsistent sizes, bad specifications and unmapped outputs with a mapped value.

Each case is a function `case(api, np_)` run once with kiln and once with JAX
(`api.vmap`, `np_.ones`...); values must agree, and so must error types, with the key words
of JAX's message in kiln's.
"""
from typing import NamedTuple

import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from vmap_helpers import assert_trees_close

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

X = np.arange(6.0, dtype=np.float32).reshape(2, 3)
Y = np.arange(6.0, 12.0, dtype=np.float32).reshape(3, 2)
V = np.arange(3.0, dtype=np.float32)


class Pair(NamedTuple):
    a: object
    b: object


VALUES = {
    "in_axes_0": lambda api, np_: api.vmap(lambda a: a * 2.0)(X),
    "in_axes_1": lambda api, np_: api.vmap(lambda a: a.sum(), in_axes=1)(X),
    "in_axes_negative": lambda api, np_: api.vmap(lambda a: a * a, in_axes=-1)(X),
    "in_axes_minus_2": lambda api, np_: api.vmap(lambda a: np_.cumsum(a), in_axes=-2)(X),
    "in_axes_tuple_none": lambda api, np_: api.vmap(lambda a, b: a + b, in_axes=(0, None))(X, V),
    "in_axes_list": lambda api, np_: api.vmap(lambda a, b: a * b, in_axes=[1, 0])(X, Y),
    "in_axes_dict": lambda api, np_: api.vmap(lambda d: d["p"] + d["q"], in_axes=({"p": 0, "q": None},))(
        {"p": X, "q": V}),
    "in_axes_namedtuple": lambda api, np_: api.vmap(lambda t: t.a * t.b[0], in_axes=(Pair(1, None),))(
        Pair(X, Y)),
    "in_axes_nested": lambda api, np_: api.vmap(lambda t: t[0][0] * t[1] + t[0][1], in_axes=(((0, None), 1),))(
        ((X, 1.0), Y)),
    "in_axes_prefix": lambda api, np_: api.vmap(lambda t, s: (t[0] + t[1]) * s, in_axes=(0, None))((X, X), 2.0),
    "in_axes_none_argument": lambda api, np_: api.vmap(lambda a, b: a, in_axes=(0, None))(X, None),
    "python_scalar_argument": lambda api, np_: api.vmap(lambda a, s: a * s, in_axes=(0, None))(X, 3),
    "out_axes_1": lambda api, np_: api.vmap(lambda a: np_.outer(a, a), out_axes=1)(X),
    "out_axes_negative": lambda api, np_: api.vmap(lambda a: np_.outer(a, a), out_axes=-1)(X),
    "out_axes_tree": lambda api, np_: api.vmap(lambda a: (a, {"s": a.sum()}), out_axes=(1, {"s": 0}))(X),
    "out_axes_none": lambda api, np_: api.vmap(lambda a, c: (a, c * 2.0), in_axes=(0, None), out_axes=(0, None))(
        X, V),
    "out_axes_list": lambda api, np_: api.vmap(lambda a: [a, a.sum()], out_axes=[1, 0])(X),
    "constant_output": lambda api, np_: api.vmap(lambda a: np_.ones(2))(X),
    "python_scalar_output": lambda api, np_: api.vmap(lambda a: 3.0)(X),
    "unbatched_output_broadcast": lambda api, np_: api.vmap(lambda a, c: c + 1.0, in_axes=(0, None))(X, V),
    "axis_size_no_inputs": lambda api, np_: api.vmap(lambda: np_.ones(2), axis_size=4, in_axes=())(),
    "axis_size_unmapped": lambda api, np_: api.vmap(lambda c: c * 2.0, in_axes=None, axis_size=3)(V),
    "axis_size_agrees": lambda api, np_: api.vmap(lambda a: a, axis_size=2)(X),
    "kwargs": lambda api, np_: api.vmap(lambda a, b: a - b)(X, b=X),
    "kwargs_mapped_over_axis_0": lambda api, np_: api.vmap(lambda a, b: a - b, in_axes=1)(X, b=Y),
    "kwargs_with_in_axes_tuple": lambda api, np_: api.vmap(lambda a, b: a - b, in_axes=(1,))(X, b=Y),
    "kwargs_pytree": lambda api, np_: api.vmap(lambda a, t: a * t[0] + t[1])(X, t=(X, X)),
    "keyword_only": lambda api, np_: api.vmap(lambda a, *, k: a * k)(X, k=X),
    "varargs": lambda api, np_: api.vmap(lambda *a: a[0] + a[1], in_axes=(0, 1))(X, Y),
    "nested_vmap_axes": lambda api, np_: api.vmap(api.vmap(lambda a, b: a * b, in_axes=(0, None)),
                                                  in_axes=(1, 1), out_axes=1)(X[None].repeat(2, 0), Y),
    "vmap_inside_jit": lambda api, np_: api.jit(lambda a: api.vmap(np_.sum, in_axes=1)(a) * 2.0)(X),
    "zero_size_batch": lambda api, np_: api.vmap(lambda a: (a * 2.0, a.sum()))(np.zeros((0, 3), np.float32)),
    "jacrev_of_vmap": lambda api, np_: api.jacrev(api.vmap(lambda a: np_.sin(a).sum()))(X),
    "vmap_of_jacfwd": lambda api, np_: api.vmap(api.jacfwd(lambda a: np_.sin(a) * a[0]))(X),
    "vmap_of_vjp": lambda api, np_: api.vmap(lambda a: api.vjp(np_.sin, a)[1](a))(X),
    "vmap_of_linearize": lambda api, np_: api.vmap(lambda a: api.linearize(np_.sin, a)[1](a))(X),
    "pmap_size_one": lambda api, np_: api.pmap(np_.sin)(X[:1]),
    "pmap_in_axes": lambda api, np_: api.pmap(lambda a, b: a + b, in_axes=(0, None))(X[:1], V),
    "pmap_in_axes_1": lambda api, np_: api.pmap(lambda a: a * 2.0, in_axes=1, out_axes=0)(X[:, :1]),
    "pmap_static_argument": lambda api, np_: api.pmap(lambda a, n: a ** n, static_broadcasted_argnums=1)(X[:1], 3),
    "pmap_kwargs": lambda api, np_: api.pmap(lambda a, b: a * b)(X[:1], b=X[:1]),
    "pmap_of_grad": lambda api, np_: api.pmap(api.grad(lambda a: np_.sin(a).sum()))(X[:1]),
}


@pytest.mark.parametrize("name", sorted(VALUES))
def test_values_match_jax(name):
    got = VALUES[name](kiln, knp)
    want = jax.tree_util.tree_map(np.asarray, VALUES[name](jax, jnp))
    assert_trees_close(got, want)


# Errors: JAX's type, and a fragment of JAX's message that kiln's must contain too.
ERRORS = {
    "inconsistent_sizes": (lambda api, np_: api.vmap(lambda a, b: a + b)(X, Y),
                           ValueError, "inconsistent sizes for array axes to be mapped"),
    "axis_size_disagrees": (lambda api, np_: api.vmap(lambda a: a, axis_size=5)(X),
                            ValueError, "the `axis_size` argument was 5"),
    "nothing_mapped": (lambda api, np_: api.vmap(lambda c: c, in_axes=None)(X),
                       ValueError, "at least one non-None value in in_axes"),
    "out_axes_none_mapped": (lambda api, np_: api.vmap(lambda a: a, out_axes=None)(X),
                             ValueError, "got axis spec None but output was batched"),
    "in_axes_out_of_range": (lambda api, np_: api.vmap(lambda a: a, in_axes=2)(X),
                             ValueError, "rank should be at least 3, but is only 2"),
    "mapping_a_scalar": (lambda api, np_: api.vmap(lambda a: a)(3.0),
                         ValueError, "rank should be at least 1, but is only 0"),
    "in_axes_not_a_prefix": (lambda api, np_: api.vmap(lambda a: a, in_axes=((0, 0),))(X),
                             ValueError, "in_axes specification must be a tree prefix"),
    "in_axes_wrong_length": (lambda api, np_: api.vmap(lambda a, b: a, in_axes=(0, 0, 0))(X, X),
                             ValueError, "len(in_axes)=3, len(args)=2"),
    "in_axes_float": (lambda api, np_: api.vmap(lambda a: a, in_axes=0.0)(X),
                      TypeError, "vmap in_axes must be an int, None, or"),
    "out_axes_out_of_range": (lambda api, np_: api.vmap(lambda a: a.sum(), out_axes=1)(X),
                              ValueError, "out of bounds"),
    "kwarg_scalar": (lambda api, np_: api.vmap(lambda a, s: a * s)(X, s=2.0),
                     ValueError, "rank should be at least 1"),
    "not_callable": (lambda api, np_: api.vmap(3), TypeError, "callable"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_jax(name):
    case, error, fragment = ERRORS[name]
    with pytest.raises(error) as jax_error:
        case(jax, jnp)
    assert fragment in str(jax_error.value)
    with pytest.raises(error) as kiln_error:
        case(kiln, knp)
    assert fragment in str(kiln_error.value)


def test_inconsistent_sizes_names_the_arguments():
    with pytest.raises(ValueError, match=r"axis 0 of argument args\[1\] of type f32\[3,2\]"):
        kiln.vmap(lambda a, b: a + b)(X, Y)


def test_pmap_larger_than_the_device_count():
    # kiln has one CPU device: a mapped axis of 2 cannot be spread over devices.
    n = kiln.local_device_count()
    with pytest.raises(ValueError, match=f"requires {n + 1} logical devices, but only {n}"):
        kiln.pmap(knp.sin)(np.zeros((n + 1, 2), np.float32))


def test_vmap_compiles_once_per_shape():
    # Eagerly, a vmapped function is compiled like jit: once per argument shapes.
    calls = []

    def f(a):
        calls.append(1)
        return a * 2.0
    g = kiln.vmap(f)
    g(X)
    g(X + 1.0)
    assert len(calls) == 1
    g(Y)
    assert len(calls) == 2
