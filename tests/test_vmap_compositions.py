"""vmap composed with grad, jit and itself, against real JAX running the same source.

The composition matrix (tests/vmap_corpus.py holds the functions): grad of vmap, vmap of
grad, jit of vmap of grad, vmap of value_and_grad with out_axes, and vmap of vmap with
different in_axes, for arguments batched together, alone, or on different axes.

JAX's side of the whole matrix for one function is a single jax.jit (one XLA compilation):
JAX dispatching op by op would dominate the test time.
"""
import functools

import numpy as np
import pytest

import kiln
import vmap_corpus
from vmap_helpers import assert_trees_close, rng_for

jax = pytest.importorskip("jax")

NAMES = [f.__name__ for f in vmap_corpus.FUNCTIONS]


def grad_of_vmap(api, f, axes):
    return api.grad(lambda x, w: api.vmap(f, in_axes=axes)(x, w).sum(), argnums=(0, 1))


def vmap_of_grad(api, f, axes):
    return api.vmap(api.grad(f, argnums=(0, 1)), in_axes=axes)


def jit_vmap_grad(api, f, axes):
    return api.jit(api.vmap(api.grad(f, argnums=(0, 1)), in_axes=axes))


def vmap_of_value_and_grad(api, f, axes):
    return api.vmap(api.value_and_grad(f), in_axes=axes, out_axes=(0, -1))


COMPOSITIONS = [grad_of_vmap, vmap_of_grad, jit_vmap_grad, vmap_of_value_and_grad]
AXES = [(0, None), (None, 2), (-1, 0)]  # (x's in_axes, w's in_axes)
# vmap(vmap(f, in_axes=inner), in_axes=outer)
NESTED = [((0, None), (0, None)), ((0, 1), (1, None)), ((None, -1), (0, 0))]


def single_args(name, axes, batch=3):
    """x: f32[4] and w: f32[4, 3] per example, with a batch axis inserted where asked."""
    rng = rng_for(name)
    out = []
    for a, axis in zip((rng.standard_normal((batch, 4)), rng.standard_normal((batch, 4, 3))), axes):
        out.append((np.moveaxis(a, 0, axis) if axis is not None else a[0]).astype(np.float32))
    return tuple(out)


def nested_args(name, inner, outer):
    """The outer batch (2) and the inner one (3) where the two in_axes put them."""
    rng = rng_for(name)
    out = []
    for a, i, o in zip((rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4, 3))), inner, outer):
        example_ndim = a.ndim - 2
        a = np.moveaxis(a, 1, 1 + i % (example_ndim + 1)) if i is not None else a[:, 0]
        a = np.moveaxis(a, 0, o % a.ndim) if o is not None else a[0]
        out.append(a.astype(np.float32))
    return tuple(out)


def matrix(api, f, name):
    """Every composition of the matrix: {key: function of no arguments}."""
    entries = {}
    for make in COMPOSITIONS:
        for axes in AXES:
            entries[make.__name__, axes] = (make(api, f, axes), single_args(name, axes))
    for inner, outer in NESTED:
        entries["vmap_of_vmap", inner, outer] = (api.vmap(api.vmap(f, in_axes=inner), in_axes=outer),
                                                nested_args(name, inner, outer))
    return entries


@functools.cache
def jax_results(name):
    f = getattr(vmap_corpus.load("jax"), name)
    entries = matrix(jax, f, name)
    keys = list(entries)
    args = [entries[k][1] for k in keys]
    lowered = jax.jit(lambda args: [entries[k][0](*a) for k, a in zip(keys, args)]).lower(args)
    # The values are what matters, not XLA's code: its cheapest optimisation level compiles
    # about a third faster.
    results = lowered.compile(compiler_options=FAST_XLA)(args)
    return dict(zip(keys, jax.tree_util.tree_map(np.asarray, results)))


FAST_XLA = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}


@pytest.mark.parametrize("name", NAMES)
def test_compositions_match_jax(name):
    # One test per function, reporting every composition that disagrees: JAX's side is one
    # compilation per function, which split tests would repeat in each test process.
    want = jax_results(name)
    failures = []
    for key, (fun, args) in matrix(kiln, getattr(vmap_corpus, name), name).items():
        try:
            assert_trees_close(fun(*args), want[key], rtol=2e-4, atol=2e-5)
        except Exception as e:  # noqa: BLE001 - collected and reported together
            failures.append(f"{key}: {type(e).__name__}: {e}")
    assert not failures, "\n".join(failures)
