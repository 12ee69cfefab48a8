"""Functions for the vmap composition tests, written once for kiln and for real JAX.

As in tests/ad_corpus.py, the functions use the module globals `jnp`, `lax` and `custom_jvp`:
importing this module gives the kiln functions (kiln compiles from source, so they live in a
real file) and `load("jax")` executes the file again with JAX's modules bound to the names.
Every function maps one example `(x: f32[4], w: f32[4, 3])` to a scalar, so that grad applies,
and reaches a different family of batching rules.
"""
import sys
import types

import numpy as np

BACKEND = globals().get("BACKEND", "kiln")
if BACKEND == "jax":
    import jax.numpy as jnp
    from jax import custom_jvp, lax
else:
    import kiln.numpy as jnp
    from kiln import custom_jvp, lax

IDX = np.array([2, 0, 3, 0])


def mlp(x, w):
    return jnp.sum(jnp.tanh(x @ w) ** 2)


def indexing(x, w):
    y = x.at[IDX].add(w[:, 0] * x)  # repeated index: the updates add up
    return jnp.sum(y[IDX] * w[:, 2]) + w[x.argmax() % 4, 1]


def reductions(x, w):
    return jnp.max(w, axis=0).sum() + jnp.cumsum(x).prod() + jnp.sort(x * w[:, 1])[1]


def branches(x, w):
    return lax.cond(x.sum() > 0, lambda a, b: jnp.sin(a @ b).sum(), lambda a, b: jnp.cos(a).sum() * b[0, 0], x, w)


def switch(x, w):
    i = jnp.argmin(x)
    return lax.switch(i, [lambda a: a.sum(), lambda a: (a ** 2).sum(), lambda a: jnp.sin(a).sum(),
                          lambda a: a[0] * a[1]], x @ w)


def recurrence(x, w):
    def step(c, row):
        c = jnp.tanh(c * 0.5 + row)
        return c, c.sum()
    c, ys = lax.scan(step, x[:3], w)
    return c.sum() + ys[-1]


def loop(x, w):
    return lax.fori_loop(0, 3, lambda i, c: jnp.sin(c) * w[i, :], x[1:]).sum()


def slicing(x, w):
    start = jnp.argmax(x)  # batched start indices under vmap, clamped near the end
    window = lax.dynamic_slice(w, (start, 0), (2, 3))
    updated = lax.dynamic_update_slice(w, window * 2.0, (3 - start, 1))
    padded = lax.pad(x, x[0] * 0.5, ((1, 1, 1),))  # a batched padding value
    return jnp.sum(window * padded[:3]) + jnp.concatenate([x, updated[0]]).reshape(7)[::2].sum() + updated.sum()


@custom_jvp
def soft(x):
    return jnp.log1p(jnp.exp(x))


@soft.defjvp
def _soft_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return soft(x), t * 10.0  # not soft's derivative: only the custom rule gives this


def custom(x, w):
    return soft(x @ w).sum()


FUNCTIONS = [mlp, indexing, reductions, branches, switch, recurrence, loop, slicing, custom]


def load(backend: str) -> types.ModuleType:
    """This corpus again, with `backend`'s numpy/lax bound to the global names."""
    if backend == "kiln":
        return sys.modules[__name__]
    module = types.ModuleType(f"vmap_corpus_{backend}")
    module.BACKEND = backend
    with open(__file__) as f:
        exec(compile(f.read(), __file__, "exec"), module.__dict__)
    return module
