"""`kiln.jit(f, dynamic_dims=...)`: one compiled program for every size of a dimension.

Every call is compared with the reference backend at the same sizes; on the LLVM backend the
tests also check that the sizes share one compiled program (`families`), and that what cannot
be shared is compiled per size with a DynamicDimsWarning, still right."""
import warnings

import numpy as np
import pytest

import kiln
import kiln.numpy as jnp
from kiln import lax
from kiln.errors import DynamicDimsWarning
from kiln.ir import DimExpr
from kiln.passes.dynamic_dims import generalise, matches

rng = np.random.default_rng(0)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def families(jf):
    """Per argument kind, how many compiled programs serve its sizes."""
    return [sum(f.executable is not None for f in fams) for fams in jf._dynamic.families.values()]


def run_sizes(fn, make, sizes, dynamic_dims, backend="llvm", rtol=1e-5):
    jf = kiln.jit(fn, dynamic_dims=dynamic_dims, backend=backend)
    ref = kiln.jit(fn, backend="reference")
    for n in sizes:
        args = make(n)
        got, want = jf(*args), ref(*args)
        got_leaves, got_tree = kiln.tree_util.tree_flatten(got)
        want_leaves, want_tree = kiln.tree_util.tree_flatten(want)
        assert got_tree == want_tree
        for g, w in zip(got_leaves, want_leaves):
            assert g.shape == w.shape and g.dtype == w.dtype
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=1e-6)
    return jf


def log_softmax(z):
    top = z.max(axis=1, keepdims=True)
    return z - top - jnp.log(jnp.sum(jnp.exp(z - top), axis=1, keepdims=True))


def sgd_step(params, x, y):
    def loss(p):
        h = jnp.tanh(x @ p["w1"] + p["b1"])
        return -jnp.mean(jnp.sum(log_softmax(h @ p["w2"]) * y, axis=1))
    value, grads = kiln.value_and_grad(loss)(params)
    return value, kiln.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)


PARAMS = {"w1": f32(6, 8), "b1": np.zeros(8, np.float32), "w2": f32(8, 3)}


def scan_cumulative(xs):
    return lax.scan(lambda c, x: (c + x, c * x), jnp.zeros(3), xs)


def data_dependent_while(x):
    s, i = x.sum(), 0
    while s < 100.0:
        s = s * 2.0 + 1.0
        i += 1
    return s, i, x * i


CASES = {
    "elementwise, mean, slices": (
        lambda x: (jnp.mean(jnp.tanh(x) ** 2), jnp.sin(x[1:]).sum(axis=0), x[-1], x[::-1] * 2.0),
        lambda n: (f32(n, 5),), {"x": 0}),
    "mlp training step": (
        sgd_step, lambda n: (PARAMS, f32(n, 6), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]),
        {"x": {0: "batch"}, "y": {0: "batch"}}),
    "cumulative, argmax, sort, concatenate, roll": (
        lambda x: (jnp.cumsum(x, axis=0), jnp.argmax(x, axis=0), jnp.sort(x, axis=0),
                   jnp.concatenate([x, x[:2]], axis=0), jnp.roll(x, 1, axis=0)),
        lambda n: (f32(n, 3),), {"x": 0}),
    "scan over the dynamic axis": (scan_cumulative, lambda n: (f32(n, 3),), {"xs": 0}),
    "while on data": (data_dependent_while, lambda n: (np.abs(f32(n)),), {"x": 0}),
    "gather and scatter": (
        lambda x, i: (x[i], x.at[i].add(1.0), jnp.take(x, i, axis=0)),
        lambda n: (f32(n, 2), rng.integers(0, 2, 5)), {"x": 0}),
    "outer product and dot": (
        lambda x, y: (x[:, None] * y[None, :], x @ y, jnp.matmul(x[:, None], y[None, :]).sum(axis=1)),
        lambda n: (f32(n), f32(n)), {"x": {0: "n"}, "y": {0: "n"}}),
    "two dynamic sizes": (
        lambda a, b: (a @ b, jnp.tanh(a).sum(axis=1), b.T * 2.0),
        lambda n: (f32(n, n + 3), f32(n + 3, 4)), {"a": {0: "m", 1: "k"}, "b": {0: "k"}}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_sizes_share_one_program_and_match_the_reference(name):
    fn, make, dynamic_dims = CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DynamicDimsWarning)
        jf = run_sizes(fn, make, [3, 4, 9, 50], dynamic_dims)
    assert families(jf) == [1]


def test_each_size_is_right_on_the_reference_backend_too():
    fn, make, dynamic_dims = CASES["mlp training step"]
    run_sizes(fn, make, [2, 7], dynamic_dims, backend="reference")


def test_large_sizes_split_across_threads_and_small_ones_do_not():
    chain = lambda x: jnp.tanh(jnp.sin(x) * jnp.exp(-x))
    jf = run_sizes(chain, lambda n: (f32(n),), [10, 1 << 20, 3, (1 << 18) + 7], {"x": 0})
    assert families(jf) == [1]


def test_size_one_and_zero_are_right():
    fn, make, dynamic_dims = CASES["elementwise, mean, slices"]
    run_sizes(lambda x: (jnp.mean(x, axis=0), x * 2.0), make, [5, 1, 0, 6], dynamic_dims)


def test_a_new_size_reuses_the_machine_code_and_goes_native():
    jf = kiln.jit(lambda x, y: x * y + 1.0, dynamic_dims={"x": {0: "n"}, "y": {0: "n"}}, backend="llvm")
    outs = {}
    for n in (4, 5, 6):
        x, y = kiln.numpy.asarray(f32(n)), kiln.numpy.asarray(f32(n))
        for _ in range(3):
            outs[n] = jf(x, y)
        assert jf._native is not None
        np.testing.assert_array_equal(np.asarray(outs[n]), np.asarray(x) * np.asarray(y) + np.float32(1.0))
    executables = {id(f.executable) for fams in jf._dynamic.families.values() for f in fams}
    assert len(executables) == 1
    assert {id(c.run.exe) for c in jf._cache.values()} == executables


def test_a_size_that_chooses_the_code_is_compiled_per_size_with_a_warning():
    halves = lambda x: x.reshape(x.shape[0] // 2, 2).sum(axis=1)
    with pytest.warns(DynamicDimsWarning, match="cannot serve other sizes"):
        jf = run_sizes(halves, lambda n: (f32(n),), [4, 6, 8], {"x": 0})
    assert families(jf) == [0]


def test_static_python_on_the_size_is_never_run_with_the_wrong_program():
    def branchy(x):
        if x.shape[0] > 5:  # static: the program differs above 5
            return x * 2.0
        return x + 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DynamicDimsWarning)
        run_sizes(branchy, lambda n: (f32(n),), [3, 4, 5, 6, 7, 2], {"x": 0})


def test_bad_declarations_are_clear_errors():
    with pytest.raises(ValueError, match="'z' is not a parameter"):
        kiln.jit(lambda x: x, dynamic_dims={"z": 0})
    with pytest.raises(TypeError, match="must be an axis"):
        kiln.jit(lambda x: x, dynamic_dims={"x": "0"})
    with pytest.raises(TypeError, match="has no axis 1"):
        kiln.jit(lambda x: x, dynamic_dims={"x": 1})(np.ones(3, np.float32))
    mismatched = kiln.jit(lambda x, y: x, dynamic_dims={"x": {0: "n"}, "y": {0: "n"}})
    with pytest.raises(TypeError, match="size 'n' .* is 3 in argument 'x' but 4 in 'y'"):
        mismatched(np.ones(3, np.float32), np.ones(4, np.float32))


# ---------------------------------------------------------------------------- the IR side

def test_dim_expr_arithmetic():
    n, t = DimExpr.symbol("n"), DimExpr.symbol("t")
    assert str(2 * n - 1) == "2*n - 1" and str(n * t + 3) == "n*t + 3"
    assert (n + 1) - n == 1 and isinstance((n + 1) - n, int)
    assert (n * t).evaluate({"n": 3, "t": 5}) == 15
    with pytest.raises(TypeError, match="only known when the function is called"):
        n > 2
    with pytest.raises(TypeError):
        range(n)


def test_generalise_finds_affine_sizes_and_matches_checks_them():
    slice_mean = lambda x: jnp.mean(x[1:], axis=0)
    staged = {n: kiln.make_ir(slice_mean)(np.ones((n, 2), np.float32)) for n in (4, 5, 9)}
    template = generalise(staged[4], {"n": 4}, [(staged[5], {"n": 5})])
    n = DimExpr.symbol("n")
    assert template.inputs[0].aval.shape == (n, 2)
    assert "f32[n - 1,2]" in str(template)
    assert matches(template, staged[9], {"n": 9})
    assert not matches(template, staged[9], {"n": 8})
    other = kiln.make_ir(lambda x: jnp.mean(x[2:], axis=0))(np.ones((9, 2), np.float32))
    assert not matches(template, other, {"n": 9})
