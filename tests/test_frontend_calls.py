"""Calls to user Python functions are converted and inlined, however they are reached."""
import functools
import importlib
import sys

import numpy as np

import kiln
import kiln.numpy as jnp
from kiln.ir import sub_programs
from kiln.tree_util import register_pytree_node_class

from frontend_helpers import other_module
from frontend_helpers.check import assert_jit_matches, prims

X = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)
W = np.arange(6, dtype=np.float32).reshape(3, 2) / 10


def softplus(x):
    return jnp.log1p(jnp.exp(x))


def two_layers(x, w):
    h = softplus(x @ w)  # a module-level helper
    return softplus(h).sum()


def test_module_level_helpers_are_inlined():
    got = kiln.jit(two_layers)(X, W)
    h = np.log1p(np.exp(X @ W))
    np.testing.assert_allclose(got, np.log1p(np.exp(h)).sum(), rtol=1e-6)
    assert prims(two_layers, X, W) == ["dot_general", "exp", "log1p", "exp", "log1p", "reduce_sum"]


def test_nested_defs_lambdas_and_partials():
    def f(x):
        def inner(v, k=2.0):
            return v * k
        square = lambda v: v * v  # noqa: E731
        shift = functools.partial(jnp.add, 1.0)
        scale3 = functools.partial(inner, k=3.0)
        return square(inner(x)) + shift(x) + scale3(x)
    assert_jit_matches(f, X)


def test_helpers_in_other_modules_with_defaults_and_globals():
    def f(x):
        return other_module.scaled_tanh(x) + other_module.scaled_tanh(x, scale=-1.0)
    assert_jit_matches(f, X)


@register_pytree_node_class
class Dense:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def tree_flatten(self):
        return (self.w, self.b), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)

    def __call__(self, x):
        return self.activation(x @ self.w + self.b)

    def activation(self, h):
        return jnp.tanh(h)

    @staticmethod
    def clip(v):
        return jnp.clip(v, -0.5, 0.5)

    @property
    def n_out(self):
        return self.w.shape[1]


@register_pytree_node_class
class ReluDense(Dense):
    def activation(self, h):
        return jnp.maximum(super().activation(h), 0.0)


def test_methods_of_pytree_classes_are_converted():
    layer = ReluDense(W, np.full(2, 0.1, np.float32))

    def f(layer, x):
        y = layer(x)
        return Dense.clip(y) * layer.n_out, layer
    got, back = kiln.jit(f)(layer, X)
    want = np.clip(np.maximum(np.tanh(X @ W + 0.1), 0.0), -0.5, 0.5) * 2
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert isinstance(back, ReluDense)
    np.testing.assert_allclose(back.w, W)
    assert "tanh" in prims(f, layer, X) and "max" in prims(f, layer, X)


def test_functions_as_arguments_results_and_in_containers():
    def compose(f, g):
        return lambda v: f(g(v))

    def make_scaler(s):  # a closure over an array value
        def scale(v):
            return v * s
        return scale

    def f(x):
        scale = make_scaler(x.mean(axis=0))
        table = {"double": lambda v: v * 2.0, "scale": scale}
        pipeline = (compose(table["double"], jnp.sin), table["scale"])
        out = x
        for step in pipeline:
            out = step(out)
        return other_module.apply_to_rows(jnp.cumsum, out)
    assert_jit_matches(f, X)


def test_closures_from_other_modules_capture_arrays():
    def f(x, w):
        affine = other_module.make_affine(w, 1.0)
        return affine(x)
    assert_jit_matches(f, X, W)


@kiln.jit
def jitted_helper(x):
    return jnp.exp(x) - 1.0


def test_a_jit_function_called_inside_another_is_inlined():
    def f(x):
        return jitted_helper(jitted_helper(x)) * 2.0
    program = kiln.make_ir(f)(X)
    # one flat program: the helper's equations, twice, and no call of a nested program
    assert [e.prim.name for e in program.eqns] == ["exp", "sub", "exp", "sub", "mul"]
    assert not any(sub_programs(e) for e in program.eqns)
    outer = kiln.jit(f)
    np.testing.assert_allclose(outer(X), (np.expm1(np.expm1(X))) * 2.0, rtol=1e-5)
    # jit of a jit function, and a jit function called from unconverted code while staging
    np.testing.assert_allclose(kiln.jit(jitted_helper)(X), np.expm1(X), rtol=1e-5)
    apply = kiln.jit(lambda x: functools.reduce(lambda a, _: jitted_helper(a), range(2), x))
    np.testing.assert_allclose(apply(X), np.expm1(np.expm1(X)), rtol=1e-5)


def test_jit_of_partials_and_callable_objects():
    np.testing.assert_allclose(kiln.jit(functools.partial(jnp.multiply, 3.0))(X), X * 3.0)
    np.testing.assert_allclose(kiln.jit(functools.partial(two_layers, w=W))(X), two_layers(X, W),
                               rtol=1e-6)
    layer = Dense(W, np.zeros(2, np.float32))
    np.testing.assert_allclose(kiln.jit(layer)(X), np.tanh(X @ W), rtol=1e-6)
    np.testing.assert_allclose(kiln.jit(layer.activation)(X), np.tanh(X), rtol=1e-6)


HELPER_V1 = '''
import kiln.numpy as jnp

def helper(x):
    return x + 1.0
'''

HELPER_V2 = '''
import kiln.numpy as jnp

def helper(x):
    # edited: the helper now doubles, and reads a new constant
    return x * 2.0 + BIAS

BIAS = 0.5
'''


def test_editing_a_helper_module_is_noticed(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = tmp_path / "kiln_edited_helper.py"
    path.write_text(HELPER_V1)
    module = importlib.import_module("kiln_edited_helper")
    try:
        def f(x):
            return module.helper(x)
        jitted = kiln.jit(f)
        np.testing.assert_allclose(jitted(X), X + 1.0)
        path.write_text(HELPER_V2)
        importlib.reload(module)
        np.testing.assert_allclose(kiln.jit(f)(X), X * 2.0 + 0.5)
        np.testing.assert_allclose(jitted(X), X * 2.0 + 0.5)  # the same jit function restages
        assert prims(f, X) == ["mul", "add"]
        # re-executing the file's text into a namespace is noticed as well
        path.write_text(HELPER_V1)
        namespace = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        np.testing.assert_allclose(kiln.jit(namespace["helper"])(X), X + 1.0)
    finally:
        sys.modules.pop("kiln_edited_helper", None)


def test_a_file_edited_but_not_reloaded_keeps_the_running_code(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = tmp_path / "kiln_stale_helper.py"
    path.write_text(HELPER_V1)
    module = importlib.import_module("kiln_stale_helper")
    try:
        np.testing.assert_allclose(kiln.jit(module.helper)(X), X + 1.0)
        path.write_text(HELPER_V2)  # not reloaded: Python still runs v1, and so does kiln
        np.testing.assert_allclose(kiln.jit(module.helper)(X), X + 1.0)
    finally:
        sys.modules.pop("kiln_stale_helper", None)
