"""A shared corpus of differentiable functions for the autodiff tests.

Each entry (`Case`) is a function, generators for its arguments and the arguments to
differentiate. The functions are written against the module globals `jnp`, `lax`, `nn` and
`special`, so the same source runs on kiln and on real JAX: importing this module gives the
kiln functions (kiln compiles from source, so they must live in a real file), and
`load("jax")` executes this file again with JAX's modules bound to those names, giving the
identical functions on JAX, the reference. Entries that JAX cannot run (Python in-place
writes `x[i] = v` on arrays) say `jax_ok=False`; entries whose derivative is not the
derivative of their value (stop_gradient) say `fd=False`, as finite differences cannot see
it. Python control flow on array values is issue #4 and is left out.
"""
import sys
import types
from typing import Callable, NamedTuple

import numpy as np

BACKEND = globals().get("BACKEND", "kiln")
if BACKEND == "jax":
    import jax.numpy as jnp
    import jax.scipy.special as special
    from jax import lax, nn
else:
    import kiln.numpy as jnp
    import kiln.scipy.special as special
    from kiln import lax, nn


class Case(NamedTuple):
    name: str
    fun: Callable
    specs: tuple
    argnums: int | tuple
    jax_ok: bool  # real JAX runs the same function
    fd: bool  # its derivative is that of its value (no stop_gradient)
    hess: bool  # second derivatives are meaningful (not piecewise linear at the inputs)


CASES: list[Case] = []


def add(name, fun, *specs, argnums=0, jax_ok=True, fd=True, hess=True):
    CASES.append(Case(name, fun, specs, argnums, jax_ok, fd, hess))


def case(*specs, **options):
    def register(fun):
        add(fun.__name__, fun, *specs, **options)
        return fun
    return register


# ---------------------------------------------------------------------------- inputs
# A spec is a generator `rng -> value`, or a dict/tuple/list/NamedTuple of specs.
def N(*shape):
    return lambda r: np.asarray(r.standard_normal(shape))


def _uniform(lo, hi):
    return lambda *shape: lambda r: np.asarray(r.uniform(lo, hi, shape))


P = _uniform(0.5, 2.0)  # positive, away from 0
U = _uniform(-0.9, 0.9)  # inside (-1, 1)
G = _uniform(1.5, 3.0)  # greater than 1


def F():  # a Python float: weakly typed, as in JAX
    return lambda r: float(r.standard_normal())


def I(n, *shape):
    return lambda r: np.asarray(r.integers(0, n, shape))


def make_args(specs, rng):
    def build(spec):
        if callable(spec):
            return spec(rng)
        if isinstance(spec, dict):
            return {k: build(v) for k, v in spec.items()}
        if isinstance(spec, tuple) and hasattr(spec, "_fields"):
            return type(spec)(*map(build, spec))
        return type(spec)(map(build, spec))
    return tuple(build(s) for s in specs)


def load(backend: str) -> types.ModuleType:
    """This corpus again, with `backend`'s numpy/lax/nn bound to the global names."""
    if backend == "kiln":
        return sys.modules[__name__]
    module = types.ModuleType(f"ad_corpus_{backend}")
    module.BACKEND = backend
    with open(__file__) as f:
        exec(compile(f.read(), __file__, "exec"), module.__dict__)
    return module


class ReferenceCache:
    """JAX's reference values, kept in pytest's cache between runs (compiling them is most of
    a cold run's time). Entries are keyed by a digest of the files that determine them, so an
    edit to the corpus or the test recomputes them; without pytest's cache (`-p
    no:cacheprovider`) every value is computed."""

    def __init__(self, cache, *files):
        import hashlib
        import jax
        digest = hashlib.sha1(f"{jax.__version__} {np.__version__}".encode())
        for name in (__file__, *files):
            with open(name, "rb") as f:
                digest.update(f.read())
        self.cache, self.digest = cache, digest.hexdigest()[:16]

    def get(self, name, compute):
        """compute() -> a JSON value (lists of floats, strings, bools), memoised under `name`."""
        if self.cache is None:
            return compute()
        key = f"kiln/ad/{name}-{self.digest}"
        value = self.cache.get(key, None)
        if value is None:
            value = compute()
            self.cache.set(key, value)
        return value


class Params(NamedTuple):
    w: object
    b: object


S = N()
IDX = np.array([2, 0, 3, 0])  # a repeated index: gathers and scatters add up

# ---------------------------------------------------------------------------- scalar functions
add("sin", lambda x: jnp.sin(x), S)
add("cos_squared", lambda x: jnp.cos(x) ** 2, S)
add("exp", lambda x: jnp.exp(x), S)
add("log", lambda x: jnp.log(x), P())
add("sqrt", lambda x: jnp.sqrt(x), P())
add("tanh", lambda x: jnp.tanh(x), S)
add("sigmoid", lambda x: nn.sigmoid(x), S)
add("cube", lambda x: x ** 3, S)
add("negative_power", lambda x: x ** -2, P())
add("abs_times_x", lambda x: jnp.abs(x) * x, S)
add("arcsin", lambda x: jnp.arcsin(x), U())
add("arctanh", lambda x: jnp.arctanh(x), U())
add("erf", lambda x: special.erf(x), S)
add("erfinv", lambda x: special.erfinv(x), U())
add("gammaln", lambda x: special.gammaln(x), P())
add("fractional_power", lambda x: x ** 2.5, P())
add("power_of_two", lambda x: 2.0 ** x, S)
add("softplus", lambda x: nn.softplus(x), S)
add("gelu", lambda x: nn.gelu(x), S)
add("elu", lambda x: nn.elu(x), S)
add("log_sigmoid", lambda x: nn.log_sigmoid(x), S)
add("polynomial", lambda x: 3 * x ** 4 - 2 * x ** 2 + x - 1, S)
add("rational", lambda x: (x ** 2 + 1) / (x ** 2 + 2), S)
add("nested", lambda x: jnp.sin(jnp.cos(jnp.exp(x))), S)
add("floor_times_x", lambda x: x * jnp.floor(x), S)
add("sign_times_square", lambda x: jnp.sign(x) * x ** 2, S)
add("python_float", lambda x: x * x + 1.0, F())
add("integer_power_loop", lambda x: lax.integer_pow(x, 5) - lax.integer_pow(x, -1), P())
add("logit", lambda x: special.logit(x), _uniform(0.1, 0.9)())
add("xlogy", lambda x, y: special.xlogy(x, y), P(), P(), argnums=(0, 1))

# ---------------------------------------------------------------------------- scalar binary
add("product_plus", lambda x, y: x * y + x, S, S, argnums=(0, 1))
add("quotient", lambda x, y: x / y, S, P(), argnums=(0, 1))
add("power", lambda x, y: x ** y, P(), S, argnums=(0, 1))
add("arctan2", lambda x, y: jnp.arctan2(x, y), S, S, argnums=(0, 1))
add("hypot", lambda x, y: jnp.hypot(x, y), S, S, argnums=(0, 1))
add("maximum", lambda x, y: jnp.maximum(x, y) * y, S, S, argnums=(0, 1), hess=False)
add("minimum", lambda x, y: jnp.minimum(x, y) * x, S, S, argnums=(0, 1), hess=False)
add("logaddexp", lambda x, y: jnp.logaddexp(x, y), S, S, argnums=(0, 1))
add("fmod", lambda x, y: jnp.fmod(x * 3, y), S, P(), argnums=(0, 1))
add("remainder", lambda x, y: jnp.remainder(x * 3, y), S, P(), argnums=(0, 1))
add("where_compare", lambda x, y: jnp.where(x > y, x * y, x - y), S, S, argnums=(0, 1))
add("clip_scalar", lambda x, y: jnp.clip(x, -0.5, 0.5) * y, S, S, argnums=(0, 1), hess=False)
add("second_argument_only", lambda x, y: jnp.sin(x) * jnp.exp(y), S, S, argnums=1)

# ---------------------------------------------------------------------------- vectors
add("sum_sin", lambda x: jnp.sum(jnp.sin(x)), N(4))
add("mean_square", lambda x: jnp.mean(x ** 2), N(5))
add("variance", lambda x: jnp.var(x), N(5))
add("norm", lambda x: jnp.sqrt(jnp.sum(x * x)), N(4))
add("dot", lambda x, y: jnp.dot(x, y), N(3), N(3), argnums=(0, 1))
add("vdot", lambda x, y: jnp.vdot(x, y) ** 2, N(3), N(3), argnums=(0, 1))
add("outer", lambda x, y: jnp.outer(x, y), N(3), N(2), argnums=(0, 1))
add("cumsum", lambda x: jnp.cumsum(x ** 2), N(5))
add("cumprod", lambda x: jnp.cumprod(x), N(5))
add("cumprod_reverse", lambda x: lax.cumprod(x, reverse=True), N(4))
add("cummax", lambda x: lax.cummax(x), N(6), hess=False)
add("cummin_reverse", lambda x: lax.cummin(x, reverse=True), N(6), hess=False)
add("sort", lambda x: jnp.sort(x) * jnp.arange(5.0), N(5), hess=False)
add("max", lambda x: jnp.max(x ** 3), N(5))
add("min", lambda x: jnp.min(jnp.cos(x)), N(5))
add("take_argmax", lambda x: x[jnp.argmax(x)] * x[jnp.argmin(x)], N(5))
add("logsumexp", lambda x: special.logsumexp(x), N(5))
add("softmax", lambda x: nn.softmax(x), N(4))
add("log_softmax", lambda x: nn.log_softmax(x), N(4))
add("prod", lambda x: jnp.prod(x), N(5))
add("prod_with_zero", lambda x: jnp.prod(x * jnp.array([1.0, 0.0, 1.0, 1.0])), N(4))
add("concatenate", lambda x, y: jnp.concatenate([x, 2 * y, x * y]), N(3), N(3), argnums=(0, 1))
add("stack", lambda x, y: jnp.stack([x, y ** 2], axis=1), N(3), N(3), argnums=(0, 1))
add("roll", lambda x: jnp.roll(x, 2) * x, N(5))
add("tile", lambda x: jnp.tile(x, 3) ** 2, N(2))
add("repeat", lambda x: jnp.repeat(x, 2) * jnp.arange(6.0), N(3))
add("reshape", lambda x: jnp.reshape(x, (2, 3)) @ jnp.ones(3), N(6))
add("pad", lambda x: lax.pad(x, 0.0, [(1, 2, 1)]) * jnp.arange(8.0), N(3))
add("negative_pad", lambda x: lax.pad(x, 1.5, [(-1, 1, 0)]) ** 2, N(4))
add("where_leaky", lambda x: jnp.where(x > 0, x, 0.1 * x) ** 2, N(5))
add("clip", lambda x: jnp.clip(x, -0.5, 0.5) * x, N(5), hess=False)
add("take", lambda x: jnp.take(x, IDX) ** 2, N(4))
add("take_along_axis", lambda x: jnp.take_along_axis(x, jnp.argsort(x), axis=0) ** 2, N(4))
add("stride_two", lambda x: x[::2] * x[1::2], N(6))
add("gather_repeated", lambda x: jnp.sum(jnp.sin(x[IDX])), N(4))
add("gather_argument", lambda x, i: jnp.sum(x[i] ** 2), N(5), I(5, 3))
add("differences", lambda x: x[1:] - x[:-1], N(5))
add("stencil", lambda x: x[:-2] - 2 * x[1:-1] + x[2:], N(6))
add("linspace_weights", lambda x: jnp.sum(jnp.linspace(0.0, 1.0, 4) * x ** 2), N(4))
add("integer_promotion", lambda x: jnp.sum(jnp.arange(4) * x), N(4))
add("ptp", lambda x: jnp.ptp(x ** 3), N(5))
add("weighted_average", lambda x, w: jnp.average(x, weights=w), N(4), P(4), argnums=(0, 1))
add("maximum_vectors", lambda x, y: jnp.maximum(x, y) ** 2, N(4), N(4), argnums=(0, 1))
add("normalize", lambda x: x / jnp.sqrt(jnp.sum(x ** 2)), N(3))
add("cosine_similarity", lambda x, y: jnp.dot(x, y) / jnp.sqrt(jnp.dot(x, x) * jnp.dot(y, y)), N(3), N(3),
    argnums=(0, 1))
add("keepdims", lambda x: jnp.sum(x ** 2, keepdims=True), N(4))
add("dynamic_slice", lambda x: lax.dynamic_slice(x, (1,), (3,)) ** 2, N(5))
add("dynamic_update_slice", lambda x, y: lax.dynamic_update_slice(x, y * 2, (2,)) * x, N(5), N(2), argnums=(0, 1))
add("scalar_broadcast", lambda x, y: jnp.sin(x * y + y), N(3), S, argnums=(0, 1))
add("broadcast_to", lambda x: jnp.sum(jnp.broadcast_to(x, (3, 2)) * jnp.arange(6.0).reshape(3, 2)), N(2))
add("heaviside_mask", lambda x: x ** 2 * (x > 0), N(5))
add("convert_integer", lambda x: x * (3 * x).astype(jnp.int32), P(4))

# ---------------------------------------------------------------------------- matrices
add("matmul", lambda a, b: a @ b, N(2, 3), N(3, 2), argnums=(0, 1))
add("matvec", lambda a, x: jnp.tanh(a @ x), N(3, 3), N(3), argnums=(0, 1))
add("quadratic_form", lambda a, x: x @ a @ x, N(3, 3), N(3), argnums=(0, 1))
add("einsum_matmul", lambda a, b: jnp.einsum("ij,jk->ik", a, b), N(2, 3), N(3, 2), argnums=(0, 1))
add("einsum_frobenius", lambda a, b: jnp.einsum("ij,ij->", a, b) ** 2, N(2, 3), N(2, 3), argnums=(0, 1))
add("einsum_trace", lambda a: jnp.einsum("ii->", a @ a), N(3, 3))
add("einsum_batched", lambda a, b: jnp.einsum("bij,bjk->bik", a, b), N(2, 2, 3), N(2, 3, 2), argnums=(0, 1))
add("einsum_outer", lambda x, y: jnp.einsum("i,j->ij", x, y) ** 2, N(3), N(2), argnums=(0, 1))
add("trace", lambda a: jnp.trace(a @ a.T), N(3, 3))
add("diagonal", lambda a: jnp.diagonal(a) ** 3, N(3, 3))
add("tril", lambda a: jnp.sum(jnp.tril(a) ** 2), N(3, 3))
add("triu_offset", lambda a: jnp.triu(a, 1) * a, N(3, 3))
add("gram", lambda a: jnp.sum((a.T @ a) ** 2), N(3, 2))
add("sum_axis0", lambda a: jnp.sum(jnp.sin(a), axis=0), N(3, 2))
add("mean_axis1_keepdims", lambda a: jnp.mean(a ** 2, axis=1, keepdims=True), N(2, 3))
add("max_axis", lambda a: jnp.max(a, axis=1) ** 2, N(3, 4))
add("softmax_axis0", lambda a: nn.softmax(a, axis=0), N(3, 2))
add("logsumexp_axis", lambda a: special.logsumexp(a, axis=1), N(2, 3))
add("var_axis", lambda a: jnp.var(a, axis=0), N(4, 2))
add("elementwise_transpose", lambda a: a * a.T, N(3, 3))
add("batched_matmul", lambda a, b: jnp.matmul(a, b) ** 2, N(2, 2, 2), N(2, 2, 2), argnums=(0, 1))
add("broadcast_matmul", lambda a, b: jnp.sum(jnp.sin(a @ b)), N(2, 2, 3), N(3, 2), argnums=(0, 1))
add("tensordot", lambda a, b: jnp.tensordot(a, b, axes=([1, 0], [0, 1])), N(2, 3), N(3, 2), argnums=(0, 1))
add("kron", lambda a, b: jnp.kron(a, b), N(2, 2), N(2, 1), argnums=(0, 1))
add("swapaxes", lambda a: jnp.swapaxes(a, 0, 2) * jnp.arange(12.0).reshape(3, 2, 2), N(2, 2, 3))
add("moveaxis", lambda a: jnp.sum(jnp.moveaxis(a, 0, -1) @ jnp.ones((2, 2))), N(2, 2, 3))
add("row_column_broadcast", lambda a, x, y: a + x[:, None] * y[None, :], N(3, 2), N(3), N(2), argnums=(0, 1, 2))
add("normalize_rows", lambda a: a / jnp.sum(a ** 2, axis=1, keepdims=True), N(2, 3))
add("column", lambda a: a[:, 0] * a[:, 1], N(3, 2))
add("gather_rows_columns", lambda a: a[IDX][:, jnp.array([1, 0])], N(4, 2))
add("gather_columns", lambda a: jnp.sin(a[:, jnp.array([2, 2, 0])]), N(2, 3))
add("gather_pairs", lambda a: a[jnp.array([0, 2]), jnp.array([1, 1])], N(3, 2))
add("ellipsis", lambda a: a[..., 1] ** 2, N(2, 2, 3))
add("newaxis", lambda a: jnp.sum(a[None] * a[:, None]), N(2, 3))
add("squeeze", lambda a: jnp.squeeze(a, axis=1) ** 2, N(3, 1))
add("prod_axis", lambda a: jnp.prod(a, axis=1), N(3, 4))
add("determinant_2x2", lambda a: a[0, 0] * a[1, 1] - a[0, 1] * a[1, 0], N(2, 2))
add("hstack_vstack", lambda a, b: jnp.vstack([a, b]) @ jnp.hstack([a, b]), N(2, 2), N(2, 2), argnums=(0, 1))
add("split", lambda a: jnp.split(a, 2, axis=1)[0] * jnp.split(a, 2, axis=1)[1], N(2, 4))
add("sort_axis", lambda a: jnp.sort(a, axis=0) ** 3, N(3, 2), hess=False)


# ---------------------------------------------------------------------------- helpers, closures, lambdas
def _sum_of_squares(x):
    return jnp.sum(x * x)


def _scaled(x, scale=3.0, *, shift=0.0):
    return scale * x + shift


def _make_scaled_sin(c):
    weights = np.array([1.0, -2.0, 0.5])

    def scaled_sin(x):
        return jnp.sum(c * weights * jnp.sin(x))
    return scaled_sin


add("helper", lambda x: _sum_of_squares(jnp.tanh(x)), N(3))
add("helper_keywords", lambda x: _sum_of_squares(_scaled(x, shift=1.0)) + _sum_of_squares(_scaled(x, 2.0)), N(3))
add("closure_factory", _make_scaled_sin(2.5), N(3))
add("helper_as_argument", lambda x: sum(f(x) for f in (jnp.sin, jnp.cos, _sum_of_squares)), S)


@case(N(3), N(3), argnums=(0, 1))
def inner_lambda(x, y):
    sq = lambda t: t * t  # noqa: E731
    return jnp.sum(sq(x) * sq(y - x))


@case(N(3))
def nested_def(x):
    def layer(h, k):
        return jnp.tanh(h * k + 1.0)
    return jnp.sum(layer(layer(x, 0.5), 2.0))


@case(N(3))
def tuple_returning_helper(x):
    def stats(v):
        return jnp.mean(v), jnp.var(v)
    m, v = stats(jnp.exp(x))
    return m * v


@case(N(2))
def recursive_helper(x):
    def depth(h, n):
        return h if n == 0 else depth(jnp.sin(h) + h, n - 1)
    return jnp.sum(depth(x, 3))


@case(N(3))
def kwargs_helper(x):
    def combine(a, **kw):
        return a * kw["scale"] + kw.get("shift", 0.0)
    return jnp.sum(combine(x, scale=2.0, shift=x ** 2))


@case(N(2, 3))
def array_methods(a):
    return a.sum() * a.mean(axis=0).max() + (a.T ** 2).reshape(-1)[1] + a.var()


# ---------------------------------------------------------------------------- pytrees
add("dict_input", lambda p: jnp.sum(jnp.tanh(p["w"]) * p["b"]), {"w": N(3), "b": S})
add("tuple_input", lambda p: jnp.sum(p[0] * jnp.sin(p[1])), (N(2), N(2)))
add("namedtuple_input", lambda p: jnp.sum(p.w ** 2) + p.b * jnp.sum(p.w), Params(N(3), S))
add("list_input", lambda xs: jnp.sum(xs[0] * xs[1] * xs[2]), [N(2), N(2), N(2)])
add("dict_output", lambda x: {"sq": x ** 2, "sin": jnp.sin(x)}, N(3))
add("tuple_output", lambda x: (jnp.sum(x), x * x, x[0]), N(3))
add("namedtuple_output", lambda x: Params(x * 2.0, jnp.sum(x ** 3)), N(3))
add("pytree_in_out", lambda p, x: {"y": p.w @ x + p.b, "n": jnp.sum(p.w ** 2)}, Params(N(2, 3), N(2)), N(3),
    argnums=(0, 1))


@case({"l1": Params(N(3, 2), N(3)), "l2": {"w": N(1, 3), "b": N(1)}}, N(2), argnums=(0, 1))
def mlp(params, x):
    h = jnp.tanh(params["l1"].w @ x + params["l1"].b)
    out = params["l2"]["w"] @ h + params["l2"]["b"]
    return jnp.sum(out ** 2)


@case([Params(N(2, 2), N(2)), Params(N(2, 2), N(2))], N(2))
def layer_list(layers, x):
    for layer in layers:
        x = nn.gelu(layer.w @ x + layer.b)
    return jnp.sum(x)


@case({"a": (N(2), N()), "b": [N(2)]}, argnums=0)
def nested_containers(tree):
    (x, s), (y,) = tree["a"], tree["b"]
    return jnp.sum(x * y) * s


# ---------------------------------------------------------------------------- in-place writes
# `x[i] = v` on an array is kiln's (rewritten to x.at[i].set(v)); JAX arrays refuse it.
@case(N(3), N(3), argnums=(0, 1), jax_ok=False)
def setitem(x, y):
    x[0] = y[1] * y[2]
    return jnp.sum(x * y)


@case(N(4), N(4), argnums=(0, 1), jax_ok=False)
def augmented_slice(x, y):
    x[1:] += y[:-1] ** 2
    return jnp.sum(jnp.sin(x))


@case(N(2, 3), S, argnums=(0, 1), jax_ok=False)
def setitem_2d(a, s):
    a[0, 1] = s ** 2
    a[:, 0] *= 2 * s
    return jnp.sum(a * a)


@case(N(5), N(4), argnums=(0, 1), jax_ok=False)
def setitem_array_index(x, y):
    x[jnp.array([4, 0, 2, 1])] = y
    return jnp.sum(x ** 3)


@case(N(4), N(4), argnums=(0, 1), jax_ok=False)
def add_repeated_index(x, y):
    x[IDX] += jnp.exp(y)
    return jnp.sum(x ** 2)


@case(N(3), N(3), argnums=(0, 1), jax_ok=False)
def setitem_loop(x, y):
    for i in range(3):
        x[i] = x[i] * y[i] + x[i - 1]
    return jnp.sum(x)


@case(N(6), N(3), argnums=(0, 1), jax_ok=False)
def strided_setitem(x, y):
    x[::2] = y
    x[-1] -= jnp.sum(y)
    return jnp.sum(x * jnp.arange(6.0))


add("at_set", lambda x, y: jnp.sum(x.at[1].set(y[0] * y[1]) ** 2), N(3), N(2), argnums=(0, 1))
add("at_add_repeated", lambda x, y: jnp.sin(x.at[IDX].add(y)), N(4), N(4), argnums=(0, 1))
add("at_multiply", lambda x, y: x.at[1:3].multiply(y) ** 2, N(4), N(2), argnums=(0, 1))
add("at_multiply_indices", lambda x, y: x.at[IDX].multiply(y) ** 2, N(4), N(4))
add("at_max", lambda x, y: x.at[IDX].max(y) ** 2, N(4), N(4), argnums=(0, 1), hess=False)
add("at_min", lambda x, y: x.at[jnp.array([0, 2])].min(y), N(3), N(2), argnums=(0, 1), hess=False)
add("at_get_fill", lambda x: x.at[jnp.array([1, 7])].get(mode="fill", fill_value=0.0) ** 2, N(3))


# ---------------------------------------------------------------------------- static control flow
@case(N(4))
def horner(x):
    coefficients = [1.0, -2.0, 0.5, 3.0]
    acc = jnp.zeros_like(x)
    for c in coefficients:
        acc = acc * x + c
    return jnp.sum(acc)


@case(N(2, 2))
def static_rank_branch(a):
    if a.ndim == 2 and a.shape[0] == a.shape[1]:
        a = a @ a
    else:
        a = a * 2
    return jnp.sum(jnp.sin(a))


@case(N(3))
def static_string_option(x, reduce="mean"):
    y = x ** 2
    if reduce == "mean":
        return jnp.mean(y)
    return jnp.sum(y)


@case(N(3))
def python_while(x):
    n, out = 0, x
    while n < 3:
        out = jnp.cos(out) + x
        n += 1
    return jnp.sum(out)


add("list_comprehension", lambda x: sum(jnp.sum(x ** k) / k for k in range(1, 4)), N(3))
add("zip_weights", lambda xs: sum(w * jnp.sum(x) for w, x in zip([1.0, 2.0], xs)), (N(2), N(3)))


@case(N(4))
def shape_dependent_loop(x):
    total = 0.0
    for i in range(x.shape[0] - 1):
        total = total + x[i] * x[i + 1]
    return total


@case(N(3))
def none_default(x, scale=None):
    if scale is None:
        scale = 2.0
    return jnp.sum(scale * x ** 2)


# ---------------------------------------------------------------------------- stop_gradient
add("stop_gradient_factor", lambda x: x * lax.stop_gradient(x), N(3), fd=False)
add("straight_through", lambda x: jnp.sum((x + lax.stop_gradient(jnp.round(x) - x)) ** 2), N(3), fd=False)
add("stop_gradient_pytree", lambda p: jnp.sum(p["a"] * lax.stop_gradient(p)["b"] + p["b"]), {"a": N(2), "b": N(2)},
    fd=False)
add("stop_gradient_normalize", lambda x: x / lax.stop_gradient(jnp.sqrt(jnp.sum(x ** 2))), N(3), fd=False)


# ---------------------------------------------------------------------------- keyword arguments
@case(N(3))
def keyword_only(x, *, scale=2.0, power=3):
    return jnp.sum(scale * x ** power)


@case(N(3), N(3), argnums=(0, 1))
def keyword_calls(x, y):
    return jnp.sum(jnp.clip(x * y, min=-0.5) ** 2, axis=0, keepdims=False) + _scaled(y[0], scale=x[1])


@case(N(2, 3))
def numpy_keywords(a):
    return jnp.sum(jnp.mean(a, axis=1, keepdims=True) * a, axis=None) + jnp.max(a, axis=0, initial=-10.0).sum()
