"""Every code sample of the seed documents in shared/seeds/, run on kiln.

Each test is one seed sample written the way a JAX user would write it, with
only the imports changed (``import kiln as jax``, ``import kiln.numpy as jnp``,
``from kiln import grad, jit, ...``, ``import kiln.random as jr``). It asserts
what the seed prints or states; where the seed states nothing, it asserts the
value real JAX 0.10.2 computes for the same code (NumPy recomputations, literals
taken once from real JAX, or real JAX itself imported as ``real_jax``).

Seeds (test names carry the number):
  s000  000_17957b552dc038ae.txt  JAX cheat sheet (ML / math analysis)
  s001  001_f1229e6ed667a7f8.txt  "NumPy you can transform" cheat sheet + appendix
  s002  002_3c75b52e113cd39b.txt  JAX: The Missing Manual (for Research)
  s003  003_6b97d79d98ab5523.txt  JAX Quickstart: How to think in JAX
  s004  004_6a42f58164b740d7.txt  JAX skill sheet (English/Chinese)

Samples left out, and why:
  s002  section 2 `class State(eqx.Module)` and the `eqx.tree_at` update    equinox (third party)
  s002  section 10 einops rearrange / reduce / repeat (all snippets)       einops (third party)
  s002  section 12 eqx.tree_at, eqx.partition/combine,
        eqx.tree_serialise_leaves/deserialise, eqx.is_array table          equinox (third party)
  s002  "BAD (Mutating)" and "Imagine a function:" blocks                  no code survived in the seed
        (the function is completed in the in_axes Scenario A test)
  s002  section 8 jax.debug.print / jax.disable_jit()                      prose only, no code survived
  s003  `pip install jax`, `pip install -U "jax[cuda12]"`                  install commands
  s003  `plt.plot(x_jnp, y_jnp)`, `import matplotlib.pyplot as plt`        plotting (computation kept)
  s003  `%xmode minimal`                                                   IPython magic
  s003  every `%timeit ...` line and the timings it printed                IPython magic / timing
  s004  `pip install jax jaxlib`                                           install command
  s000  sharding lines 1-4 after `devices = jax.devices()`                 commented out in the seed
        (need a multi-device mesh); the live lines are tested
  s001  the two "Quick Reference" tables and the inline snippets of s004's
        "Critical Rules"                                                   repeat samples tested elsewhere
"""

import math
import re

import numpy as np
import pytest

import kiln as jax
import kiln.numpy as jnp

# --------------------------------------------------------------------------
# Markers for capabilities of later issues. When the capability a sample uses
# lands, add its issue's number to LANDED_ISSUES: the tests that needed only it
# become ordinary tests (strict xfail reports a test that starts passing early).
# 3 and 4 are in: grad and friends, kiln.lax control flow and vmap work (both
# issues stay open for other parts: Python control flow on arrays, benchmarks).
LANDED_ISSUES: frozenset[int] = frozenset({3, 4, 6})

ISSUE_CAPABILITIES = {
    3: "autodiff (grad, value_and_grad, jacobian, jacfwd, jacrev, hessian, vjp/jvp)",
    4: "control flow and vmap (lax.cond/scan/while_loop/fori_loop/switch, vmap, pmap)",
    6: "random (kiln.random)",
}


def needs(*issues):
    """Strict-xfail marker naming every listed issue that has not landed yet."""
    missing = [n for n in issues if n not in LANDED_ISSUES]
    if not missing:
        return lambda test: test
    reason = "; ".join(f"needs issue #{n}: {ISSUE_CAPABILITIES[n]}" for n in missing)
    return pytest.mark.xfail(strict=True, reason=reason)


NEEDS_GRAD = needs(3)
NEEDS_CONTROL_FLOW = needs(4)
NEEDS_VMAP = needs(4)
NEEDS_RANDOM = needs(6)

# float32 tolerances
F32 = dict(rtol=1e-5, atol=1e-6)


def assert_f32(actual, expected, **tol):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), **{**F32, **tol})


def real_jax():
    """Real JAX, only as a reference for values the seeds do not print."""
    return pytest.importorskip("jax")


# ==========================================================================
# s000: JAX cheat sheet
# ==========================================================================


def test_s000_creation_and_immutability():
    x = jnp.arange(10)
    y = jnp.linspace(0, 1, 10)
    # Immutable! This will raise an error:
    with pytest.raises(TypeError):
        x[0] = 5  # ❌ generic_error
    # Update syntax (returns new array)
    x_new = x.at[0].set(5)

    np.testing.assert_array_equal(x, np.arange(10))
    np.testing.assert_array_equal(x_new, [5, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert y.dtype == jnp.float32
    assert_f32(y, np.linspace(0, 1, 10))


@NEEDS_RANDOM
def test_s000_jit_selu():
    @jax.jit
    def selu(x, alpha=1.67, lmbda=1.05):
        return lmbda * jnp.where(x > 0, x, alpha * jnp.exp(x) - alpha)

    key = jax.random.key(0)
    x = jax.random.normal(key, (1000000,))
    out = selu(x).block_until_ready()  # Much faster than raw execution

    rj = real_jax()
    assert_f32(x, rj.random.normal(rj.random.key(0), (1000000,)), atol=1e-5)
    xs = np.asarray(x)
    expected = 1.05 * np.where(xs > 0, xs, 1.67 * np.exp(xs) - 1.67)
    assert out.shape == (1000000,) and out.dtype == jnp.float32
    assert_f32(out, expected, atol=1e-5)


@NEEDS_GRAD
def test_s000_grad_tanh(capsys):
    def tanh(x):
        y = jnp.exp(-2.0 * x)
        return (1.0 - y) / (1.0 + y)

    grad_tanh = jax.grad(tanh)
    print(grad_tanh(1.0))  # evaluated at x=1.0

    # real JAX prints 0.4199743 (= 1 - tanh(1)**2)
    printed = float(capsys.readouterr().out)
    assert_f32(printed, 1.0 - math.tanh(1.0) ** 2)
    assert_f32(printed, 0.4199743)


@NEEDS_GRAD
def test_s000_value_and_grad():
    loss_fn = lambda x: x ** 2
    loss, grads = jax.value_and_grad(loss_fn)(3.0)
    # loss=9.0, grads=6.0
    assert float(loss) == 9.0
    assert float(grads) == 6.0


@needs(4, 6)
def test_s000_vmap_apply_matrix():
    key = jax.random.key(0)  # `key` comes from the jit sample above
    mat = jax.random.normal(key, (150, 100))
    batched_x = jax.random.normal(key, (10, 100))

    def apply_matrix(x):
        return jnp.dot(mat, x)  # Works on single vector

    # Auto-vectorize over the 0-th dimension of the input
    vmap_batched = jax.vmap(apply_matrix)(batched_x)

    rj = real_jax()
    assert_f32(mat, rj.random.normal(rj.random.key(0), (150, 100)), atol=1e-5)
    assert vmap_batched.shape == (10, 150)
    assert_f32(vmap_batched, np.asarray(batched_x) @ np.asarray(mat).T, rtol=1e-4, atol=1e-4)


@NEEDS_RANDOM
def test_s000_random_split():
    key = jax.random.key(42)
    # Splitting keys (Best Practice)
    key, subkey = jax.random.split(key)
    random_val = jax.random.normal(subkey, shape=(1,))
    # Multi-split
    key, *subkeys = jax.random.split(key, num=4)

    assert_f32(random_val, [0.6057640314102173])
    np.testing.assert_array_equal(jax.random.key_data(key), [1012194634, 3152801799])
    assert len(subkeys) == 3
    np.testing.assert_array_equal(
        [np.asarray(jax.random.key_data(k)) for k in subkeys],
        [[1705926158, 899080142], [4095997477, 317277840], [1820970612, 3729538270]],
    )


def _s000_params_and_forward():
    """The seed's Params NamedTuple and forward(), shared by three samples."""
    from typing import NamedTuple

    class Params(NamedTuple):
        weight: jnp.ndarray
        bias: jnp.ndarray

    def forward(params: Params, x: jnp.ndarray):
        return jnp.dot(x, params.weight) + params.bias

    return Params, forward


@NEEDS_RANDOM
def test_s000_init_model_and_forward():
    Params, forward = _s000_params_and_forward()

    def init_model(rng, in_dim, out_dim):
        w_key, b_key = jax.random.split(rng)
        return Params(
            weight=jax.random.normal(w_key, (in_dim, out_dim)) * 0.01,
            bias=jax.random.normal(b_key, (out_dim,))
        )

    # fragment: the seed never calls init_model/forward; call them once
    params = init_model(jax.random.key(0), 3, 2)
    out = forward(params, jnp.ones((4, 3)))

    assert isinstance(params, Params)
    assert_f32(params.weight, [[0.010040142573416233, -0.00906337145715952],
                               [-0.0074817221611738205, -0.011713668704032898],
                               [-0.008712328039109707, 0.005888381041586399]])
    assert_f32(params.bias, [-2.442455768585205, -2.0356805324554443])
    expected = np.ones((4, 3)) @ np.asarray(params.weight) + np.asarray(params.bias)
    assert_f32(out, expected)


@NEEDS_GRAD
def test_s000_update_step():
    Params, forward = _s000_params_and_forward()

    @jax.jit
    def update_step(params, x, y, learning_rate=0.01):
        def loss_fn(p):
            preds = forward(p, x)
            return jnp.mean((preds - y) ** 2)
        loss, grads = jax.value_and_grad(loss_fn)(params)
        # Gradient Descent Update (Pytree map)
        # params - lr * grads
        new_params = jax.tree.map(lambda p, g: p - learning_rate * g, params, grads)
        return new_params, loss

    # fragment: params, x, y are not given in the seed; small fixed ones
    W = np.arange(6, dtype=np.float32).reshape(3, 2) / 10
    b = np.array([0.5, -0.5], np.float32)
    x = np.arange(12, dtype=np.float32).reshape(4, 3) / 4
    y = np.ones((4, 2), np.float32)
    params = Params(weight=jnp.array(W), bias=jnp.array(b))
    new_params, loss = update_step(params, jnp.array(x), jnp.array(y))

    r = x @ W + b - y
    dW = 2 / r.size * x.T @ r
    db = 2 / r.size * r.sum(axis=0)
    assert isinstance(new_params, Params)
    assert_f32(loss, np.mean(r ** 2))
    assert_f32(new_params.weight, W - 0.01 * dW)
    assert_f32(new_params.bias, b - 0.01 * db)


def test_s000_pytree_flatten_and_map():
    Params, _ = _s000_params_and_forward()
    # fragment: `params` comes from init_model; a fixed Params instead
    params = Params(weight=jnp.ones((3, 2)), bias=jnp.arange(2.0))

    # Flatten a pytree
    leaves, treedef = jax.tree.flatten(params)
    # Apply function to all leaves
    doubled_params = jax.tree.map(lambda x: x * 2, params)

    assert len(leaves) == 2
    np.testing.assert_array_equal(leaves[0], np.ones((3, 2)))
    np.testing.assert_array_equal(leaves[1], [0.0, 1.0])
    rebuilt = jax.tree.unflatten(treedef, leaves)
    assert isinstance(rebuilt, Params)
    assert isinstance(doubled_params, Params)
    np.testing.assert_array_equal(doubled_params.weight, 2 * np.ones((3, 2)))
    np.testing.assert_array_equal(doubled_params.bias, [0.0, 2.0])


def test_s000_lax_cond():
    for x, expected in ((jnp.array(2.0), 3.0), (jnp.array(-2.0), -3.0)):
        # fragment: `x` in the seed is the 1e6-vector of the jit sample; cond needs a scalar
        val = jax.lax.cond(
            pred=x > 0,
            true_fun=lambda operand: operand + 1,
            false_fun=lambda operand: operand - 1,
            operand=x
        )
        assert float(val) == expected


def test_s000_lax_scan():
    def scan_body(carry, x):
        # carry: accumulated state
        # x: input for this step
        new_carry = carry + x
        output = new_carry * 2
        return new_carry, output

    init_carry = 0
    xs = jnp.array([1, 2, 3])
    final_carry, outputs = jax.lax.scan(scan_body, init_carry, xs)

    assert int(final_carry) == 6
    np.testing.assert_array_equal(outputs, [2, 6, 12])


def test_s000_lax_while_loop():
    def cond_fun(val):
        return val < 10

    def body_fun(val):
        return val + 1

    init_val = 0
    # Equivalent to: while val < 10: val += 1
    result = jax.lax.while_loop(cond_fun, body_fun, init_val)
    assert int(result) == 10


def test_s000_lax_fori_loop():
    def body_fun(i, val):
        return val + i

    init_val = 0
    lower = 0
    upper = 10
    # Equivalent to: for i in range(0, 10): val += i
    result = jax.lax.fori_loop(lower, upper, body_fun, init_val)
    assert int(result) == 45


def test_s000_sharding_imports_and_devices():
    from kiln.sharding import NamedSharding, Mesh
    from kiln.sharding import PartitionSpec as P

    # 1. Define Mesh (e.g., 8 devices)
    devices = jax.devices()
    # (the Mesh / NamedSharding / device_put / jnp.sin lines are commented out in the seed)

    assert NamedSharding and Mesh and P
    assert len(devices) >= 1


def test_s000_scipy_stats_norm_pdf():
    import kiln.scipy.stats as stats

    x = jnp.array([-1.0, 0.0, 1.0])  # fragment: `x` is not defined for this sample
    # Differentiable PDF
    p = stats.norm.pdf(x, loc=0, scale=1)

    assert_f32(p, [0.24197073, 0.3989423, 0.24197073])


# ==========================================================================
# s001: "NumPy you can transform" cheat sheet
# ==========================================================================


def test_s001_arrays_and_devices():
    np_array = np.arange(4.0)  # fragment: `np_array` and `x` are not defined in the seed
    a = jnp.array([1., 2., 3.])  # array from a list -> float32 by default
    r, s = jnp.arange(5), jnp.linspace(0, 1, 3)  # range / evenly spaced values
    c = jnp.asarray(np_array)  # convert a NumPy array (host -> device)
    devs, backend = jax.devices(), jax.default_backend()  # list devices -> [CpuDevice(id=0)], 'cpu'
    x = jax.device_put(a, jax.devices()[0])  # place data on a chosen device
    done = x.block_until_ready()  # wait for async compute to finish

    assert a.dtype == jnp.float32
    np.testing.assert_array_equal(r, [0, 1, 2, 3, 4])
    assert_f32(s, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(c, np_array)
    assert isinstance(c, jax.Array)
    assert repr(devs) == "[CpuDevice(id=0)]"
    assert backend == "cpu"
    assert isinstance(x, jax.Array)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(done, [1.0, 2.0, 3.0])


def test_s001_numpy_style_api():
    # fragment: x, a, b, m are not defined in the seed; chosen to give the stated results
    x = jnp.array([1., 2., 3.])
    e, t = jnp.exp(x), x * 2 + 1  # element-wise math, vectorized
    a = jnp.array([[1., 2.], [3., 4.]])
    b = jnp.array([[5., 6.], [7., 8.]])
    p, q = a @ b, jnp.dot(a, b)  # matrix multiply (sum of products)
    x2 = jnp.array([[1, 2, 3], [4, 5, 6]])
    s, mu = x2.sum(axis=0), x2.mean()  # reduce over an axis -> [5 7 9]
    m = jnp.arange(12).reshape(3, 4)
    m12, m0 = m[1, 2], m[:, 0]  # indexing reads just like numpy
    x5 = jnp.arange(5)
    u = x5.at[0].set(99)  # functional "set" -> NEW array [99 1 2 3 4]
    v = x5.at[1].add(10)  # functional "add" -> NEW array [0 11 2 3 4]

    assert_f32(e, np.exp([1., 2., 3.]))
    assert_f32(t, [3., 5., 7.])
    assert_f32(p, [[19., 22.], [43., 50.]])
    assert_f32(q, [[19., 22.], [43., 50.]])
    np.testing.assert_array_equal(s, [5, 7, 9])
    assert_f32(mu, 3.5)
    assert int(m12) == 6
    np.testing.assert_array_equal(m0, [0, 4, 8])
    np.testing.assert_array_equal(u, [99, 1, 2, 3, 4])
    np.testing.assert_array_equal(v, [0, 11, 2, 3, 4])
    np.testing.assert_array_equal(x5, [0, 1, 2, 3, 4])


@NEEDS_GRAD
def test_s001_autodiff_block():
    from kiln import grad, value_and_grad

    f = lambda x: x ** 3  # fragment: f(x) = x**3 gives both stated 12.0 values
    assert float(grad(f)(2.0)) == 12.0  # gradient of a scalar function -> 12.0

    # fragment: loss(w, x, y) and loss(w, b, x) are two different losses in the seed
    w, b = 2.0, 0.5
    x = jnp.array([1., 2., 3.])
    y = jnp.array([2., 3., 4.])
    loss = lambda w, x, y: jnp.mean((w * x - y) ** 2)
    val, g = value_and_grad(loss)(w, x, y)  # value and gradient together -> (loss, grad)
    assert_f32(val, np.mean((2 * np.array([1., 2., 3.]) - [2., 3., 4.]) ** 2))
    assert_f32(g, 2 * np.mean((2 * np.array([1., 2., 3.]) - [2., 3., 4.]) * [1., 2., 3.]))

    loss = lambda w, b, x: jnp.sum((w * x + b) ** 2)
    gw, gb = grad(loss, argnums=(0, 1))(w, b, x)  # differentiate chosen args -> (gw, gb)
    r = 2 * np.array([1., 2., 3.]) + 0.5
    assert_f32(gw, np.sum(2 * r * [1., 2., 3.]))
    assert_f32(gb, np.sum(2 * r))

    assert float(grad(grad(f))(2.0)) == 12.0  # higher-order (2nd) derivative -> 12.0
    J = jax.jacobian(f)(x)  # full Jacobian matrix
    assert_f32(J, np.diag(3 * np.array([1., 2., 3.]) ** 2))
    g = lambda x: jnp.sum(x ** 3)
    H = jax.hessian(g)(x)  # Hessian (curvature) matrix
    assert_f32(H, np.diag(6 * np.array([1., 2., 3.])))


def test_s001_jit_block(capsys):
    from kiln import jit
    from functools import partial

    def f(x):  # fragment: f and x are not defined in the seed
        return jnp.sin(x) * 2 + 1

    x = jnp.arange(3.0)
    f_jit = jit(f)  # compile a function with XLA (the seed's `jit(f)` / `@jit`)
    f_jit(x); f_jit(x)  # trace once, 2nd call fast (cached by shape+dtype)
    scale = partial(jit, static_argnums=(1,))(lambda x, n: x * n)  # mark compile-time constants
    jaxpr = jax.make_jaxpr(f)(x)  # inspect the traced program (the IR)
    out = f_jit(x).block_until_ready()  # block before timing

    assert_f32(out, np.sin(np.arange(3.0)) * 2 + 1)
    assert_f32(scale(x, 3), [0.0, 3.0, 6.0])  # recompiles when n changes
    assert_f32(scale(x, 4), [0.0, 4.0, 8.0])
    assert str(jaxpr) == (
        "{ lambda ; a:f32[3]. let\n"
        "    b:f32[3] = sin a\n"
        "    c:f32[3] = mul b 2.0:f32[]\n"
        "    d:f32[3] = add c 1.0:f32[]\n"
        "  in (d,) }"
    )

    # avoid print() / .item() inside a jit'd fn: traced, runs once
    @jit
    def noisy(x):
        print("tracing")
        return x + 1
    noisy(x); noisy(x)
    assert capsys.readouterr().out == "tracing\n"


@NEEDS_VMAP
def test_s001_vmap_block():
    from kiln import vmap

    f = lambda x: x ** 2 + 1  # fragment: f, batch, dot, A, B are completed minimally
    batch = jnp.arange(4.0)
    assert_f32(vmap(f)(batch), [1., 2., 5., 10.])  # batch a per-example function
    dot = jnp.dot
    A, B = jnp.ones((4, 3)), jnp.ones((4, 3))
    assert_f32(vmap(dot)(A, B), [3., 3., 3., 3.])  # map over the leading axis -> [3 3 3 3]
    f2 = lambda x, y: x + y
    out = vmap(f2, in_axes=(0, None))(jnp.arange(6.0).reshape(2, 3), jnp.ones(3))  # hold arg 1 fixed
    assert_f32(out, np.arange(6.0).reshape(2, 3) + 1)
    f3 = lambda x: x * 2
    cols = vmap(f3, out_axes=1)(jnp.arange(6.0).reshape(2, 3))  # stack results into columns
    assert cols.shape == (3, 2)
    assert_f32(cols, (np.arange(6.0).reshape(2, 3) * 2).T)


@needs(3, 4)
def test_s001_vmap_of_grad():
    from kiln import grad, vmap

    f = lambda x: x ** 3  # fragment: f and xs are not defined in the seed
    xs = jnp.array([1., 2., 3.])
    out = vmap(grad(f))(xs)  # compose with grad: one gradient per input
    assert_f32(out, [3., 12., 27.])


@NEEDS_RANDOM
def test_s001_random_block():
    key = jax.random.key(0)  # create a key from a seed (reproducible)
    k1, k2 = jax.random.split(key)  # split into independent keys (never reuse)
    n = jax.random.normal(key, (3,))  # standard normals -> [1.62 2.03 -0.43]
    u = jax.random.uniform(key, (3,))  # uniform [0,1) draws
    i = jax.random.randint(key, (3,), 0, 10)  # integer draws -> [9 0 2]
    step = 7  # fragment: `step` is not defined in the seed
    kf = jax.random.fold_in(key, step)  # per-step key, stable per index

    np.testing.assert_allclose(np.asarray(n), [1.62, 2.03, -0.43], atol=5e-3)
    assert_f32(n, [1.622642159461975, 2.0252647399902344, -0.4335944354534149])
    assert_f32(u, [0.9476670026779175, 0.9785798788070679, 0.33229148387908936])
    np.testing.assert_array_equal(i, [9, 0, 2])
    np.testing.assert_array_equal(jax.random.key_data(k1), [1797259609, 2579123966])
    np.testing.assert_array_equal(jax.random.key_data(k2), [928981903, 3453687069])
    np.testing.assert_array_equal(jax.random.key_data(kf), [2716826189, 292468403])


def test_s001_control_flow_block():
    from kiln import lax

    # fragment: operands and bodies chosen to give the results the seed states
    p, x, init = True, 10, 0
    true_fn, false_fn = (lambda x: x + 1), (lambda x: x - 1)
    assert int(lax.cond(p, true_fn, false_fn, x)) == 11  # data-dependent branch -> 11
    body = lambda i, val: val + i
    assert int(lax.fori_loop(0, 5, body, init)) == 10  # fixed-count loop (i: 0->4) -> 10
    cond, body = (lambda v: v < 12), (lambda v: v + 1)
    assert int(lax.while_loop(cond, body, init)) == 12  # loop while a condition holds -> 12
    body = lambda c, x: (c + x, c + x)
    carry, ys = lax.scan(body, init, jnp.arange(4))  # carry + collect -> (carry 6, ys [0 1 3 6])
    assert int(carry) == 6
    np.testing.assert_array_equal(ys, [0, 1, 3, 6])
    x = jnp.array([1.0, 2.0])
    np.testing.assert_array_equal(jax.lax.stop_gradient(x), [1.0, 2.0])  # block the backward pass


def test_s001_pytrees_block():
    # fragment: the seed's params = {"w": ..., "b": ...}; lr and grads completed
    params = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(0.5)}  # a parameter pytree
    doubled = jax.tree.map(lambda x: x*2, params)  # map a function over every leaf
    leaves = jax.tree.leaves(params)  # list just the leaves [b, w]
    flat, treedef = jax.tree.flatten(params)  # -> (leaves list, treedef) round-trip
    lr = 0.1
    grads = {"w": jnp.array([1.0, -1.0]), "b": jnp.array(2.0)}
    new = jax.tree.map(lambda p, g: p - lr*g, params, grads)  # one SGD step over a tree

    assert set(doubled) == {"w", "b"}
    assert_f32(doubled["w"], [2.0, 4.0])
    assert_f32(doubled["b"], 1.0)
    assert len(leaves) == 2
    assert_f32(leaves[0], 0.5)  # b first: dict keys are sorted
    assert_f32(leaves[1], [1.0, 2.0])
    assert len(flat) == 2
    back = jax.tree.unflatten(treedef, flat)
    assert set(back) == {"w", "b"}
    assert_f32(back["w"], [1.0, 2.0])
    assert_f32(new["w"], [0.9, 2.1])
    assert_f32(new["b"], 0.3)


@NEEDS_GRAD
def test_s001_grad_returns_params_tree():
    from kiln import grad

    # fragment: loss and batch are not defined in the seed
    params = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(0.5)}
    batch = (jnp.array([[1.0, 0.0], [0.0, 1.0]]), jnp.array([1.0, 1.0]))

    def loss(params, batch):
        x, y = batch
        return jnp.sum((x @ params["w"] + params["b"] - y) ** 2)

    g = grad(loss)(params, batch)  # grad returns a tree shaped like params
    # residuals r = [0.5, 1.5]: dw = 2 * x.T @ r, db = 2 * sum(r)
    assert set(g) == {"w", "b"}
    assert_f32(g["w"], [1.0, 3.0])
    assert_f32(g["b"], 4.0)


def test_s001_numpy_vs_jax_table():
    xn = np.zeros(3)
    xn[0] = 9  # (in place)
    x = jnp.zeros(3)
    x = x.at[0].set(9)  # (new array)
    assert xn.dtype == np.float64
    assert x.dtype == jnp.float32  # Default float: float32
    np.testing.assert_array_equal(x, xn)


@NEEDS_GRAD
def test_s001_appendix_transform_mental_model():
    from kiln import grad, jit, vmap

    def predict(w, b, x):
        return w * x + b

    def loss(w, b, xs, ys):
        preds = predict(w, b, xs)
        return jnp.mean((preds - ys) ** 2)

    xs = jnp.array([1., 2., 3.])
    ys = jnp.array([2., 4., 6.])

    # grad: a new function computing d(loss)/d(w, b)
    gw, gb = grad(loss, argnums=(0, 1))(0.0, 0.0, xs, ys)

    # jit: compile the loss for fast repeated calls
    fast_loss = jit(loss)
    value = fast_loss(0.0, 0.0, xs, ys).block_until_ready()

    assert_f32(gw, -56.0 / 3.0)
    assert_f32(gb, -8.0)
    assert_f32(value, 56.0 / 3.0)


def test_s001_appendix_immutability():
    x = jnp.arange(5)  # [0 1 2 3 4]
    y = x.at[0].set(99)  # NEW array [99 1 2 3 4]
    z = x.at[1].add(10)  # NEW array [ 0 11 2 3 4]
    # x is unchanged: [0 1 2 3 4]

    np.testing.assert_array_equal(y, [99, 1, 2, 3, 4])
    np.testing.assert_array_equal(z, [0, 11, 2, 3, 4])
    np.testing.assert_array_equal(x, [0, 1, 2, 3, 4])


@NEEDS_GRAD
def test_s001_appendix_gradient_descent_loop():
    from kiln import grad, jit

    # parameters as a pytree (dict of arrays)
    params = {"w": jnp.array(0.0), "b": jnp.array(0.0)}
    xs = jnp.array([1., 2., 3.])
    ys = jnp.array([2., 4., 6.])

    def loss(params, xs, ys):
        preds = params["w"] * xs + params["b"]
        return jnp.mean((preds - ys) ** 2)

    @jit
    def step(params, xs, ys, lr=0.1):
        grads = grad(loss)(params, xs, ys)  # gradient pytree, same shape as params
        return jax.tree.map(lambda p, g: p - lr * g, params, grads)

    for _ in range(200):
        params = step(params, xs, ys)
    # params -> approximately {"w": 2.0, "b": 0.0}

    np.testing.assert_allclose(float(params["w"]), 2.0, atol=0.01)
    np.testing.assert_allclose(float(params["b"]), 0.0, atol=0.01)
    # real JAX: w=1.9975033, b=0.00567571
    assert_f32(params["w"], 1.9975033, rtol=1e-4)
    assert_f32(params["b"], 0.00567571, rtol=1e-3, atol=1e-5)


@NEEDS_RANDOM
def test_s001_appendix_explicit_randomness():
    key = jax.random.key(0)  # seed -> reproducible
    k1, k2 = jax.random.split(key)  # two independent keys
    a = jax.random.normal(k1, (3,))  # never reuse a key
    b = jax.random.uniform(k2, (3,))  # different stream
    # Same key -> same numbers (deterministic):
    n1 = jax.random.normal(key, (3,))  # [ 1.6226 2.0253 -0.4336]
    n2 = jax.random.normal(key, (3,))  # identical to the line above

    np.testing.assert_allclose(np.asarray(n1), [1.6226, 2.0253, -0.4336], atol=5e-5)
    np.testing.assert_array_equal(n1, n2)
    assert_f32(a, [1.004014253616333, -0.9063372015953064, -0.7481722235679626])
    assert_f32(b, [0.007293820381164551, 0.020891189575195312, 0.5814265012741089])


@NEEDS_VMAP
def test_s001_appendix_vmap():
    from kiln import vmap

    def dot(a, b):
        return jnp.dot(a, b)  # written for a single pair of vectors

    A = jnp.ones((4, 3))
    B = jnp.ones((4, 3))
    r1 = vmap(dot)(A, B)  # [3. 3. 3. 3.], batched over the leading axis
    # hold the second argument fixed:
    r2 = vmap(lambda x, y: x + y, in_axes=(0, None))(jnp.arange(3), 10)  # [10 11 12]

    assert_f32(r1, [3., 3., 3., 3.])
    np.testing.assert_array_equal(r2, [10, 11, 12])


def test_s001_appendix_lax_scan():
    from kiln import lax

    def body(carry, x):
        carry = carry + x
        return carry, carry  # (new carry, per-step output)

    total, prefix_sums = lax.scan(body, 0, jnp.arange(4))
    # total -> 6, prefix_sums -> [0 1 3 6]

    assert int(total) == 6
    np.testing.assert_array_equal(prefix_sums, [0, 1, 3, 6])


def test_s001_appendix_enable_x64():
    try:
        jax.config.update("jax_enable_x64", True)  # must run before array creation
        import kiln.numpy as jnp
        dtype = jnp.array([1.0, 2.0]).dtype  # now float64 (default is float32)
        assert dtype == np.float64
    finally:
        jax.config.update("jax_enable_x64", False)
    assert jnp.array([1.0, 2.0]).dtype == np.float32


# ==========================================================================
# s002: JAX: The Missing Manual (for Research)
# ==========================================================================


def _s002_state_type():
    """A stand-in for the seed's equinox `State(pos, vel)` module."""
    from typing import NamedTuple

    class State(NamedTuple):
        pos: jnp.ndarray
        vel: jnp.ndarray

        @staticmethod
        def reset():
            return State(pos=jnp.zeros(2), vel=jnp.zeros(2))

    return State


def _s002_step(state, dt):
    # the seed's "Imagine a function:" body was lost; a minimal step(state, dt)
    return state.pos + state.vel * dt


@NEEDS_VMAP
def test_s002_in_axes_scenario_a():
    State = _s002_state_type()
    step = _s002_step
    # fragment: the batch of 100 states is built here
    batch_states = State(pos=jnp.ones((100, 2)), vel=jnp.arange(200.0).reshape(100, 2))

    # Batch dimension is 0 for 'state', but 'dt' is NOT batched (None).
    batched_step = jax.vmap(step, in_axes=(0, None))
    # Input shapes:
    # batch_states: State(pos=(100, 2), vel=(100, 2))
    # dt: scalar
    result = batched_step(batch_states, 0.1)
    # Result shape: (100, 2)

    assert result.shape == (100, 2)
    assert_f32(result, 1 + np.arange(200.0).reshape(100, 2) * np.float32(0.1))


@NEEDS_VMAP
def test_s002_in_axes_scenario_b():
    State = _s002_state_type()
    step = _s002_step
    batch_states = State(pos=jnp.ones((100, 2)), vel=jnp.arange(200.0).reshape(100, 2))
    dts = jnp.linspace(0.0, 1.0, 100)  # fragment: dts is not defined in the seed

    # Batch dimension is 0 for 'state', AND 0 for 'dt'.
    batched_step = jax.vmap(step, in_axes=(0, 0))
    # Input shapes:
    # batch_states: State(pos=(100, 2), vel=(100, 2))
    # dts: (100,)
    result = batched_step(batch_states, dts)

    assert result.shape == (100, 2)
    expected = 1 + np.arange(200.0).reshape(100, 2) * np.asarray(dts)[:, None]
    assert_f32(result, expected, atol=1e-5)


@NEEDS_VMAP
def test_s002_in_axes_scenario_c():
    # Function: f(pair) -> where pair is (x, y)  (fragment: body and inputs completed)
    def f(pair):
        x, y = pair
        return x * y

    xs, y = jnp.arange(6.0).reshape(2, 3), jnp.array([1.0, 10.0, 100.0])
    # in_axes must match the structure of the arguments.
    with pytest.raises(ValueError):
        jax.vmap(f, in_axes=(0, None))((xs, y))  # <-- WRONG, acts on the tuple itself.
    out = jax.vmap(f, in_axes=((0, None),))((xs, y))  # <-- CORRECT, acts on the contents of the first arg.

    assert_f32(out, np.arange(6.0).reshape(2, 3) * [1.0, 10.0, 100.0])


@NEEDS_RANDOM
def test_s002_random_key_pattern():
    import kiln.random as jr

    State = _s002_state_type()
    key = jr.PRNGKey(42)

    def step(state, key):
        # 1. SPLIT the key into as many as you need, plus one for the next step.
        step_key, noise_key, sub_key = jr.split(key, 3)
        # 2. USE the sub-keys
        noise = jr.normal(noise_key, shape=state.pos.shape)
        # 3. RETURN the 'step_key' for the next iteration
        return state, step_key

    # fragment: the seed never calls step(); one call on a 2-d state
    state = State(pos=jnp.zeros(2), vel=jnp.zeros(2))
    new_state, next_key = step(state, key)

    np.testing.assert_array_equal(key, [0, 42])
    assert key.dtype == jnp.uint32
    assert new_state is state
    np.testing.assert_array_equal(next_key, [1832780943, 270669613])
    _, noise_key, _ = jr.split(key, 3)
    assert_f32(jr.normal(noise_key, shape=(2,)), [0.6057640314102173, 0.7990440726280212])


def test_s002_scan_template():
    # fragment: update, compute_metric and init_state are not defined in the seed
    update = lambda s: s + 1.0
    compute_metric = lambda s: s * 2.0
    init_state = jnp.array(0.0)

    def one_step(carry, x):
        # 'carry' is your State
        # 'x' is input for this specific time step (optional)
        new_state = update(carry)
        output = compute_metric(new_state)
        return new_state, output

    # Run for 1000 steps
    final_state, history = jax.lax.scan(one_step, init_state, None, length=1000)

    assert float(final_state) == 1000.0
    assert history.shape == (1000,)
    assert_f32(history, 2.0 * np.arange(1, 1001))


def test_s002_cond_template():
    State = _s002_state_type()

    # jax.lax.cond(pred, true_fun, false_fun, *operands)
    def do_reset(state):
        return State.reset()

    def keep_going(state):
        return state

    # fragment: state and done are not defined in the seed
    state = State(pos=jnp.array([1.0, 2.0]), vel=jnp.array([3.0, 4.0]))
    for done in (jnp.array(True), jnp.array(False)):
        # If 'done' is true (at runtime), call do_reset(state), else keep_going(state)
        next_state = jax.lax.cond(done, do_reset, keep_going, state)
        assert isinstance(next_state, State)
        expected = State.reset() if bool(done) else state
        np.testing.assert_array_equal(next_state.pos, expected.pos)
        np.testing.assert_array_equal(next_state.vel, expected.vel)


def test_s002_jit_static_argnames():
    from functools import partial

    def dropout(x):  # fragment: dropout is not defined in the seed
        return x * 0.5

    @partial(jax.jit, static_argnames=("is_training",))
    def forward(params, x, is_training: bool):
        if is_training:  # This Python 'if' runs once during tracing
            return dropout(x)
        return x

    params, x = jnp.ones(3), jnp.array([2.0, 4.0, 6.0])
    assert_f32(forward(params, x, is_training=True), [1.0, 2.0, 3.0])
    assert_f32(forward(params, x, is_training=False), [2.0, 4.0, 6.0])


def test_s002_dimension_operations_table():
    B, H, W, C = 2, 3, 4, 5  # fragment: Assume x.shape = (B, H, W, C)
    x = jnp.arange(B * H * W * C, dtype=jnp.float32).reshape(B, H, W, C)
    xn = np.arange(B * H * W * C, dtype=np.float32).reshape(B, H, W, C)

    assert x[None, ...].shape == (1, B, H, W, C)  # Prepend dim
    assert x[..., None].shape == (B, H, W, C, 1)  # Append dim
    flat = x.reshape(B, -1)  # Flatten all but batch
    assert flat.shape == (B, H * W * C)
    np.testing.assert_array_equal(flat, xn.reshape(B, -1))
    nchw = jnp.transpose(x, (0, 3, 1, 2))  # NHWC -> NCHW
    assert nchw.shape == (B, C, H, W)
    np.testing.assert_array_equal(nchw, np.transpose(xn, (0, 3, 1, 2)))
    A = jnp.arange(24.0).reshape(2, 3, 4)
    B = jnp.arange(40.0).reshape(2, 4, 5)
    bmm = jnp.einsum('bij,bjk->bik', A, B)  # Batch MatMul
    assert bmm.shape == (2, 3, 5)
    assert_f32(bmm, np.einsum('bij,bjk->bik', np.asarray(A), np.asarray(B)))


def test_s002_creation_table():
    assert_f32(jnp.zeros((2, 3)), np.zeros((2, 3)))
    assert_f32(jnp.full((2,), 3.14), [3.14, 3.14])
    assert_f32(jnp.eye(3), np.eye(3))
    np.testing.assert_array_equal(jnp.arange(0, 10, 2), [0, 2, 4, 6, 8])
    assert_f32(jnp.linspace(0, 1, 11), np.linspace(0, 1, 11))
    assert jnp.ones((2, 3)).dtype == jnp.float32


@NEEDS_RANDOM
def test_s002_creation_table_random_rows():
    import kiln.random as jr

    key = jr.PRNGKey(42)  # fragment: `key` from section 4 of the seed
    assert_f32(jr.normal(key, (2, 2)), [[-0.02830461598932743, 0.4671318531036377],
                                        [0.2957029640674591, 0.15354591608047485]])
    assert_f32(jr.uniform(key, (5,)), [0.48870956897735596, 0.6797971725463867,
                                       0.6162714958190918, 0.5610160827636719,
                                       0.4506446123123169])
    np.testing.assert_array_equal(jr.randint(key, (5,), 0, 10), [4, 4, 1, 9, 9])


def test_s002_array_manipulation_table():
    x = jnp.array([1.0, -2.0, 3.0])  # fragment: x and y are not defined in the seed
    y = jnp.array([4.0, 5.0, -6.0])
    np.testing.assert_array_equal(jnp.stack([x, y]), [[1, -2, 3], [4, 5, -6]])
    np.testing.assert_array_equal(jnp.concatenate([x, y], axis=0), [1, -2, 3, 4, 5, -6])
    np.testing.assert_array_equal(jnp.where(x > 0, x, 0), [1, 0, 3])
    z = x.reshape(1, 3, 1)
    assert z.squeeze().shape == (3,)
    assert jnp.expand_dims(x, axis=0).shape == (1, 3)
    np.testing.assert_array_equal(jnp.stack([x, y]).ravel(), [1, -2, 3, 4, 5, -6])


def test_s002_math_and_logic_table():
    A = jnp.array([[1.0, 2.0], [3.0, 4.0]])  # fragment: operands completed minimally
    B = jnp.array([[0.0, 1.0], [1.0, 0.0]])
    x = jnp.array([[1.0, 5.0, -2.0], [0.5, -1.0, 3.0]])
    logits = jnp.array([1.0, 2.0, 3.0])

    assert_f32(A @ B, [[2.0, 1.0], [4.0, 3.0]])
    assert_f32(jnp.sum(x), 6.5)
    assert_f32(jnp.mean(x), 6.5 / 6)
    assert_f32(x.mean(axis=-1), [4.0 / 3.0, 2.5 / 3.0])
    assert_f32(jnp.max(x), 5.0)
    assert int(jnp.argmax(x)) == 1
    assert int(x.argmax()) == 1
    assert_f32(jnp.clip(x, 0, 1), np.clip(np.asarray(x), 0, 1))
    assert bool(jnp.allclose(x, x + 1e-9))
    assert not bool(jnp.allclose(x, x + 1.0))
    assert_f32(jax.nn.softmax(logits), [0.09003057330846786, 0.2447284758090973,
                                        0.6652409434318542])
    assert_f32(jax.nn.relu(x), np.maximum(np.asarray(x), 0))


def test_s002_tree_map():
    tree = {'a': jnp.array([1, 2]), 'b': (jnp.array([3]), jnp.array([4, 5]))}

    # Double every element in the tree
    doubled_tree = jax.tree.map(lambda x: x * 2, tree)
    # Result: {'a': Array([2, 4]), 'b': (Array([6]), Array([8, 10]))}

    # Add two trees of the exact same structure
    tree2 = {'a': jnp.array([10, 20]), 'b': (jnp.array([30]), jnp.array([40, 50]))}
    sum_tree = jax.tree.map(lambda x, y: x + y, tree, tree2)

    assert set(doubled_tree) == {'a', 'b'} and isinstance(doubled_tree['b'], tuple)
    np.testing.assert_array_equal(doubled_tree['a'], [2, 4])
    np.testing.assert_array_equal(doubled_tree['b'][0], [6])
    np.testing.assert_array_equal(doubled_tree['b'][1], [8, 10])
    assert isinstance(sum_tree['b'], tuple)
    np.testing.assert_array_equal(sum_tree['a'], [11, 22])
    np.testing.assert_array_equal(sum_tree['b'][0], [33])
    np.testing.assert_array_equal(sum_tree['b'][1], [44, 55])


def test_s002_tree_leaves():
    tree = {'a': jnp.array([1.0, 2.0]), 'b': jnp.array([3.0])}
    leaves = jax.tree.leaves(tree)
    # leaves: [Array([1., 2.]), Array([3.])]

    # Compute the L2 norm of all parameters in a model
    global_norm = jnp.sqrt(sum(jnp.sum(x ** 2) for x in jax.tree.leaves(tree)))

    assert len(leaves) == 2
    np.testing.assert_array_equal(leaves[0], [1.0, 2.0])
    np.testing.assert_array_equal(leaves[1], [3.0])
    assert_f32(global_norm, math.sqrt(14.0))


def test_s002_tree_reduce():
    tree = {'a': jnp.array([1, 2]), 'b': jnp.array([3, 4])}
    # Sum of all elements across all arrays
    total_sum = jax.tree.reduce(lambda acc, x: acc + jnp.sum(x), tree, 0.0)
    assert float(total_sum) == 10.0


def test_s002_tree_flatten_unflatten():
    tree = {'weights': jnp.ones((2, 2)), 'bias': jnp.zeros(2)}
    # Flatten
    flat_leaves, treedef = jax.tree.flatten(tree)
    # ... do some flat operations ...
    new_flat_leaves = [leaf * 2 for leaf in flat_leaves]
    # Unflatten back to the original structure
    new_tree = jax.tree.unflatten(treedef, new_flat_leaves)

    assert [leaf.shape for leaf in flat_leaves] == [(2,), (2, 2)]  # sorted keys: bias, weights
    assert set(new_tree) == {'weights', 'bias'}
    np.testing.assert_array_equal(new_tree['weights'], 2 * np.ones((2, 2)))
    np.testing.assert_array_equal(new_tree['bias'], np.zeros(2))


def test_s002_register_pytree_node_class():
    from kiln.tree_util import register_pytree_node_class

    @register_pytree_node_class
    class MyTree:
        def __init__(self, a, b):
            self.a = a  # Leaf
            self.b = b  # Leaf

        def tree_flatten(self):
            # Return a tuple of (children, auxiliary_data)
            children = (self.a, self.b)
            aux_data = None
            return (children, aux_data)

        @classmethod
        def tree_unflatten(cls, aux_data, children):
            # Reconstruct the object
            return cls(*children)

    # Now jax.tree.map will go inside MyTree to modify 'a' and 'b'
    obj = MyTree(jnp.array([1]), jnp.array([2]))
    new_obj = jax.tree.map(lambda x: x * 10, obj)

    assert isinstance(new_obj, MyTree)
    np.testing.assert_array_equal(new_obj.a, [10])
    np.testing.assert_array_equal(new_obj.b, [20])
    assert len(jax.tree.leaves(obj)) == 2


# ==========================================================================
# s003: Quickstart: How to think in JAX
# ==========================================================================


def test_s003_import():
    import kiln.numpy as jnp
    assert jnp.array([1, 2]).shape == (2,)


def test_s003_numpy_like_usage():
    # (matplotlib lines dropped; the computation is kept)
    x_jnp = jnp.linspace(0, 10, 1000)
    y_jnp = 2 * jnp.sin(x_jnp) * jnp.cos(x_jnp)

    x_np = np.linspace(0, 10, 1000)
    assert_f32(x_jnp, x_np, atol=1e-5)
    assert_f32(y_jnp, 2 * np.sin(x_np) * np.cos(x_np), atol=1e-5)


def test_s003_array_types():
    x_np = np.linspace(0, 10, 1000)
    x_jnp = jnp.linspace(0, 10, 1000)
    assert type(x_np) is np.ndarray  # numpy.ndarray
    # real JAX shows jaxlib._jax.ArrayImpl; kiln has its own class, a jax.Array
    assert type(x_jnp) is not np.ndarray
    assert isinstance(x_jnp, jax.Array)


def test_s003_numpy_arrays_are_mutable(capsys):
    # NumPy: mutable arrays
    x = np.arange(10)
    x[0] = 10
    print(x)
    assert capsys.readouterr().out == "[10  1  2  3  4  5  6  7  8  9]\n"


def test_s003_jax_arrays_are_immutable():
    # JAX: immutable arrays
    x = jnp.arange(10)
    with pytest.raises(TypeError) as excinfo:
        x[0] = 10
    # The seed prints JAX's wording; kiln gives the same advice.
    assert ("arrays are immutable and do not support in-place item assignment. "
            "Instead of x[idx] = y, use x = x.at[idx].set(y) or another .at[] method") in str(excinfo.value
    )


def test_s003_indexed_update(capsys):
    x = jnp.arange(10)
    y = x.at[0].set(10)
    print(x)
    print(y)
    assert capsys.readouterr().out == (
        "[0 1 2 3 4 5 6 7 8 9]\n"
        "[10  1  2  3  4  5  6  7  8  9]\n"
    )


def test_s003_isinstance_array():
    x = jnp.arange(5)
    assert isinstance(x, jax.Array) is True


def test_s003_devices():
    x = jnp.arange(5)
    assert repr(x.devices()) == "{CpuDevice(id=0)}"


def test_s003_sharding():
    x = jnp.arange(5)
    # The seed printed memory_kind=unpinned_host; real JAX 0.10.2 prints memory_kind=device.
    assert re.fullmatch(
        r"SingleDeviceSharding\(device=CpuDevice\(id=0\), memory_kind=(unpinned_host|device)\)",
        repr(x.sharding),
    )


def _s003_norm():
    def norm(X):
        X = X - X.mean(0)
        return X / X.std(0)
    return norm


def test_s003_jit_norm():
    from kiln import jit

    norm = _s003_norm()
    norm_compiled = jit(norm)

    np.random.seed(1701)
    X = jnp.array(np.random.rand(10000, 10))
    assert np.allclose(norm(X), norm_compiled(X), atol=1E-6) == True  # noqa: E712
    # and against NumPy
    Xn = np.asarray(X, dtype=np.float64)
    assert_f32(norm(X), (Xn - Xn.mean(0)) / Xn.std(0), rtol=1e-4, atol=1e-4)


def _s003_replay_numpy_rng_to_get_negatives():
    """Replay the notebook's global NumPy RNG calls that precede get_negatives."""
    np.random.seed(1701)
    np.random.rand(10000, 10)


def test_s003_get_negatives():
    _s003_replay_numpy_rng_to_get_negatives()

    def get_negatives(x):
        return x[x < 0]

    x = jnp.array(np.random.randn(10))
    out = get_negatives(x)
    assert repr(out) == "Array([-0.10570311, -0.59403396, -0.8680282 , -0.23489487], dtype=float32)"


def test_s003_get_negatives_under_jit_fails():
    from kiln import jit

    _s003_replay_numpy_rng_to_get_negatives()

    def get_negatives(x):
        return x[x < 0]

    x = jnp.array(np.random.randn(10))
    with pytest.raises(jax.errors.NonConcreteBooleanIndexError) as excinfo:
        jit(get_negatives)(x)
    assert "Array boolean indices must be concrete; got bool[10]" in str(excinfo.value)


def test_s003_tracing_prints(capsys):
    from kiln import jit

    _s003_replay_numpy_rng_to_get_negatives()
    np.random.randn(10)  # replay: the get_negatives cell drew 10 numbers

    @jit
    def f(x, y):
        print("Running f():")
        print(f"  x = {x}")
        print(f"  y = {y}")
        result = jnp.dot(x + 1, y + 1)
        print(f"  result = {result}")
        return result

    x = np.random.randn(3, 4)
    y = np.random.randn(4)
    out = f(x, y)

    printed = capsys.readouterr().out
    # The seed shows JitTracer<float32[3,4]>; real JAX 0.10.2 prints JitTracer(float32[3,4]).
    tracer = lambda aval: r"JitTracer[<(]" + re.escape(aval) + r"[>)]"
    assert re.fullmatch(
        r"Running f\(\):\n"
        r"  x = " + tracer("float32[3,4]") + r"\n"
        r"  y = " + tracer("float32[4]") + r"\n"
        r"  result = " + tracer("float32[3]") + r"\n",
        printed,
    ), printed
    # The seed's numbers come from the notebook's random state; check the same computation.
    _assert_dot_plus_one(out, x, y)

    x2 = np.random.randn(3, 4)
    y2 = np.random.randn(4)
    out2 = f(x2, y2)
    assert capsys.readouterr().out == ""  # cached: nothing printed
    _assert_dot_plus_one(out2, x2, y2)


def _assert_dot_plus_one(out, x, y):
    x32, y32 = np.float32(x), np.float32(y)
    np.testing.assert_allclose(np.asarray(out), np.dot(x32 + 1, y32 + 1), rtol=1e-5, atol=1e-6)
    assert re.fullmatch(r"Array\(\[[-0-9., e]+\], dtype=float32\)", repr(out)), repr(out)


def test_s003_make_jaxpr():
    from kiln import make_jaxpr

    # fragment: x, y are the notebook's np.random.randn(3, 4) and randn(4)
    x = np.random.randn(3, 4)
    y = np.random.randn(4)

    def f(x, y):
        return jnp.dot(x + 1, y + 1)

    jaxpr = make_jaxpr(f)(x, y)
    assert str(jaxpr) == (
        "{ lambda ; a:f32[3,4] b:f32[4]. let\n"
        "    c:f32[3,4] = add a 1.0:f32[]\n"
        "    d:f32[4] = add b 1.0:f32[]\n"
        "    e:f32[3] = dot_general[\n"
        "      dimension_numbers=(([1], [0]), ([], []))\n"
        "      preferred_element_type=float32\n"
        "    ] c d\n"
        "  in (e,) }"
    )


def test_s003_traced_bool_conversion_fails():
    from kiln import jit

    @jit
    def f(x, neg):
        return -x if neg else x

    # JAX fails here (TracerBoolConversionError): it cannot branch on a traced value. kiln
    # reads the source and turns the conditional expression into a cond, so it just works.
    assert int(f(1, True)) == -1 and int(f(1, False)) == 1
    assert "cond" in str(jax.make_ir(f)(1, True))


def test_s003_static_argnums():
    from kiln import jit
    from functools import partial

    @partial(jit, static_argnums=(1,))
    def f(x, neg):
        return -x if neg else x

    assert repr(f(1, True)) == "Array(-1, dtype=int32, weak_type=True)"
    assert repr(f(1, False)) == "Array(1, dtype=int32, weak_type=True)"


def _s003_sum_logistic(x):
    return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))


@NEEDS_GRAD
def test_s003_grad_sum_logistic(capsys):
    from kiln import grad

    def sum_logistic(x):
        return jnp.sum(1.0 / (1.0 + jnp.exp(-x)))

    x_small = jnp.arange(3.)
    derivative_fn = grad(sum_logistic)
    print(derivative_fn(x_small))
    assert capsys.readouterr().out == "[0.25       0.19661197 0.10499357]\n"


def test_s003_first_finite_differences(capsys):
    sum_logistic = _s003_sum_logistic
    x_small = jnp.arange(3.)

    def first_finite_differences(f, x, eps=1E-3):
        return jnp.array([(f(x + eps * v) - f(x - eps * v)) / (2 * eps)
                          for v in jnp.eye(len(x))])

    print(first_finite_differences(sum_logistic, x_small))

    # The seed printed [0.24998187 0.1965761  0.10502338]; real JAX 0.10.2 prints
    # [0.24998187 0.1964569  0.10502338]: float32 cancellation in the difference makes
    # the middle digit platform-dependent, so compare numerically with the derivative.
    printed = capsys.readouterr().out
    values = [float(v) for v in printed.strip().strip("[]").split()]
    np.testing.assert_allclose(values, [0.25, 0.19661197, 0.10499357], atol=2e-4)
    np.testing.assert_allclose(values, [0.24998187, 0.1965761, 0.10502338], atol=2e-4)


@NEEDS_GRAD
def test_s003_grad_jit_composition(capsys):
    from kiln import grad, jit

    sum_logistic = _s003_sum_logistic
    print(grad(jit(grad(jit(grad(sum_logistic)))))(1.0))
    assert_printed_close(capsys.readouterr().out, "-0.0353256\n")


@NEEDS_GRAD
def test_s003_jacobian(capsys):
    from kiln import jacobian

    x_small = jnp.arange(3.)
    print(jacobian(jnp.exp)(x_small))
    assert capsys.readouterr().out == (
        "[[1.        0.        0.       ]\n"
        " [0.        2.7182817 0.       ]\n"
        " [0.        0.        7.389056 ]]\n"
    )


@NEEDS_GRAD
def test_s003_hessian_via_jacfwd_jacrev(capsys):
    from kiln import jacfwd, jacrev, jit

    sum_logistic = _s003_sum_logistic
    x_small = jnp.arange(3.)

    def hessian(fun):
        return jit(jacfwd(jacrev(fun)))

    print(hessian(sum_logistic)(x_small))
    assert_printed_close(capsys.readouterr().out, (
        "[[-0.         -0.         -0.        ]\n"
        " [-0.         -0.09085776 -0.        ]\n"
        " [-0.         -0.         -0.07996249]]\n"
    ))


_NUMBER = re.compile(r"-?\d+\.?\d*(?:e[-+]?\d+)?")


def assert_printed_close(printed: str, expected: str, rtol: float = 2e-6):
    """Printed arrays that may differ from JAX's in the last float32 digit.

    Derivatives of derivatives go through many roundings; kiln's order of operations is not
    XLA's, so the last printed digit can differ. The layout must match and the numbers agree
    to float32 precision.
    """
    assert _NUMBER.sub("#", printed).replace(" ", "") == _NUMBER.sub("#", expected).replace(" ", ""), printed
    got = [float(v) for v in _NUMBER.findall(printed)]
    want = [float(v) for v in _NUMBER.findall(expected)]
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-7)


def _s003_random_matrix_setup():
    """The quickstart's vmap setup cell."""
    from kiln import random

    key = random.key(1701)
    key1, key2 = random.split(key)
    mat = random.normal(key1, (150, 100))
    batched_x = random.normal(key2, (10, 100))

    def apply_matrix(x):
        return jnp.dot(mat, x)

    return mat, batched_x, apply_matrix


@NEEDS_RANDOM
def test_s003_random_matrix_setup():
    mat, batched_x, apply_matrix = _s003_random_matrix_setup()

    rj = real_jax()
    k1, k2 = rj.random.split(rj.random.key(1701))
    assert mat.shape == (150, 100) and batched_x.shape == (10, 100)
    assert_f32(mat, rj.random.normal(k1, (150, 100)), atol=1e-5)
    assert_f32(batched_x, rj.random.normal(k2, (10, 100)), atol=1e-5)
    assert_f32(apply_matrix(batched_x[0]), np.asarray(mat) @ np.asarray(batched_x[0]),
               rtol=1e-4, atol=1e-4)


@NEEDS_RANDOM
def test_s003_naively_batched(capsys):
    mat, batched_x, apply_matrix = _s003_random_matrix_setup()

    def naively_batched_apply_matrix(v_batched):
        return jnp.stack([apply_matrix(v) for v in v_batched])

    print('Naively batched')
    out = naively_batched_apply_matrix(batched_x).block_until_ready()

    assert capsys.readouterr().out == "Naively batched\n"
    assert_f32(out, np.asarray(batched_x) @ np.asarray(mat).T, rtol=1e-4, atol=1e-4)


@NEEDS_RANDOM
def test_s003_manually_batched(capsys):
    from kiln import jit

    mat, batched_x, apply_matrix = _s003_random_matrix_setup()

    def naively_batched_apply_matrix(v_batched):
        return jnp.stack([apply_matrix(v) for v in v_batched])

    @jit
    def batched_apply_matrix(batched_x):
        return jnp.dot(batched_x, mat.T)

    np.testing.assert_allclose(naively_batched_apply_matrix(batched_x),
                               batched_apply_matrix(batched_x), atol=1E-4, rtol=1E-4)
    print('Manually batched')
    batched_apply_matrix(batched_x).block_until_ready()
    assert capsys.readouterr().out == "Manually batched\n"


@needs(4, 6)
def test_s003_vmap_batched(capsys):
    from kiln import jit, vmap

    mat, batched_x, apply_matrix = _s003_random_matrix_setup()

    def naively_batched_apply_matrix(v_batched):
        return jnp.stack([apply_matrix(v) for v in v_batched])

    @jit
    def vmap_batched_apply_matrix(batched_x):
        return vmap(apply_matrix)(batched_x)

    np.testing.assert_allclose(naively_batched_apply_matrix(batched_x),
                               vmap_batched_apply_matrix(batched_x), atol=1E-4, rtol=1E-4)
    print('Auto-vectorized with vmap')
    vmap_batched_apply_matrix(batched_x).block_until_ready()
    assert capsys.readouterr().out == "Auto-vectorized with vmap\n"


@NEEDS_RANDOM
def test_s003_print_key(capsys):
    from kiln import random

    key = random.key(43)
    print(key)
    assert capsys.readouterr().out == "Array((), dtype=key<fry>) overlaying:\n[ 0 43]\n"


@NEEDS_RANDOM
def test_s003_same_key_same_sample(capsys):
    from kiln import random

    key = random.key(43)
    print(random.normal(key))
    print(random.normal(key))
    assert capsys.readouterr().out == "0.07520543\n0.07520543\n"


@NEEDS_RANDOM
def test_s003_split_loop(capsys):
    from kiln import random

    key = random.key(43)
    for i in range(3):
        new_key, subkey = random.split(key)
        del key  # The old key is consumed by split() -- we must never use it again.

        val = random.normal(subkey)
        del subkey  # The subkey is consumed by normal().

        print(f"draw {i}: {val}")
        key = new_key  # new_key is safe to use in the next iteration.

    assert capsys.readouterr().out == (
        "draw 0: -1.9133632183074951\n"
        "draw 1: -1.4749839305877686\n"
        "draw 2: -0.36703771352767944\n"
    )


# ==========================================================================
# s004: JAX skill sheet (English/Chinese)
# ==========================================================================


@needs(3, 4, 6)
def test_s004_standard_imports():
    import kiln as jax
    import kiln.numpy as jnp
    from kiln import grad, jit, vmap, pmap, random

    # the seed only imports; use each name once so the test proves they work
    assert float(grad(lambda x: x * x)(3.0)) == 6.0
    assert_f32(jit(jnp.sin)(0.0), 0.0)
    assert_f32(vmap(jnp.sum)(jnp.ones((2, 3))), [3.0, 3.0])
    n = jax.local_device_count()
    assert_f32(pmap(jnp.cos)(jnp.zeros((n, 2))), np.ones((n, 2)))
    assert random.normal(random.key(0), (2,)).shape == (2,)


@NEEDS_GRAD
def test_s004_basic_pattern():
    from kiln import grad, jit

    # 1. Define a pure function
    def f(x): return jnp.sin(x) + x**2

    # 2. Transform: Create a gradient function
    df_dx = grad(f)

    # 3. Transform: Compile for speed
    f_fast = jit(f)

    # 4. Use
    val = f_fast(2.0)
    slope = df_dx(2.0)

    assert_f32(val, math.sin(2.0) + 4.0)
    assert_f32(slope, math.cos(2.0) + 4.0)


counter = 0


def test_s004_antipattern_global_counter():
    from kiln import jit
    global counter

    # ❌ BAD: Modifying a global variable inside a function
    counter = 0
    @jit
    def bad_func(x):
        global counter
        counter += 1  # ❌ Side effect! Will only run once during compilation
        return x * 2

    # The seed calls this an anti-pattern: in JAX the side effect silently runs once. kiln
    # refuses it instead, pointing at the offending line (compiled functions must be pure).
    with pytest.raises(jax.CompileError) as excinfo:
        bad_func(jnp.arange(3.0))
    message = str(excinfo.value)
    assert "global" in message and "test_seed_examples.py" in message
    assert "        global counter" in message or "    global counter" in message
    assert counter == 0


@NEEDS_RANDOM
def test_s004_antipattern_jax_prng():
    from kiln import random

    # ✅ GOOD: JAX PRNG
    key = random.key(42)
    val = random.normal(key, (5,))
    assert_f32(val, [-0.02830461598932743, 0.4671318531036377, 0.2957029640674591,
                     0.15354591608047485, -0.12403281778097153])


def test_s004_antipattern_functional_update():
    # ✅ GOOD: Functional update
    x = jnp.zeros(5)
    x = x.at[0].set(1.0)
    np.testing.assert_array_equal(x, [1.0, 0.0, 0.0, 0.0, 0.0])
    # ❌ BAD: In-place assignment  (x[0] = 1.0)
    with pytest.raises(TypeError):
        x[0] = 1.0


@NEEDS_GRAD
def test_s004_grad_and_hessian():
    from kiln import grad

    def loss(params, x, y):
        pred = jnp.dot(x, params)
        return jnp.mean((pred - y)**2)

    # fragment: params, x, y are not defined in the seed
    params = jnp.array([1.0, 2.0])
    x = jnp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    y = jnp.array([1.0, 2.0, 3.0])

    # Gradient of loss with respect to the 1st argument (params)
    grads = grad(loss)(params, x, y)

    # Higher-order: Hessian
    hessian = jax.hessian(loss)(params, x, y)

    xn, yn, pn = np.asarray(x), np.asarray(y), np.asarray(params)
    assert_f32(grads, 2 / 3 * xn.T @ (xn @ pn - yn))
    assert_f32(hessian, 2 / 3 * xn.T @ xn)


def test_s004_jit_complex_math():
    from kiln import jit

    @jit
    def complex_math(x):
        # This whole block is compiled into one XLA kernel
        y = jnp.exp(x)
        return jnp.sin(y) / jnp.sqrt(x)

    # First call: Compiles (slow)
    # Subsequent calls: Super fast
    x = jnp.array([0.5, 1.0, 2.0])  # fragment: the seed never calls complex_math
    first, second = complex_math(x), complex_math(x)
    xn = np.array([0.5, 1.0, 2.0])
    assert_f32(first, np.sin(np.exp(xn)) / np.sqrt(xn))
    np.testing.assert_array_equal(first, second)


@NEEDS_VMAP
def test_s004_vmap_model():
    from kiln import vmap

    def model(params, x):
        return jnp.dot(params, x)

    # fragment: params and X_batch are not defined in the seed
    params = jnp.array([1.0, 2.0, 3.0])
    X_batch = jnp.arange(12.0).reshape(4, 3)

    # in_axes=(None, 0): don't map params, map the 0th axis of x
    batch_model = vmap(model, in_axes=(None, 0))
    batch_preds = batch_model(params, X_batch)

    assert_f32(batch_preds, np.arange(12.0).reshape(4, 3) @ [1.0, 2.0, 3.0])


@NEEDS_RANDOM
def test_s004_random_state_management():
    from kiln import random

    key = random.key(0)

    # Never reuse the same key!
    key, subkey = random.split(key)
    data = random.normal(subkey, (10,))
    key, subkey = random.split(key)
    noise = random.uniform(subkey, (10,))

    np.testing.assert_array_equal(random.key_data(key), [4165894930, 804218099])
    assert_f32(data, [-2.442455768585205, -2.0356805324554443, 0.20554423332214355,
                      -0.3535501956939697, -0.761974036693573, -1.1785517930984497,
                      -1.1482195854187012, 0.29716578125953674, -1.3105359077453613,
                      2.130202531814575])
    assert_f32(noise, [0.10429036617279053, 0.3439875841140747, 0.13106727600097656,
                       0.8101305961608887, 0.19441115856170654, 0.6355215311050415,
                       0.8265048265457153, 0.45131349563598633, 0.11718368530273438,
                       0.5285080671310425])


@NEEDS_GRAD
def test_s004_pytree_params():
    from kiln import grad, jit

    params = {'weights': jnp.ones((5,)), 'bias': 0.0}

    def predict(p, x):
        return jnp.dot(x, p['weights']) + p['bias']

    x = jnp.arange(5.0)  # fragment: x is not defined in the seed

    # grad and jit handle the dictionary automatically
    grads = grad(predict)(params, x)

    assert_f32(jit(predict)(params, x), 10.0)
    assert set(grads) == {'weights', 'bias'}
    assert_f32(grads['weights'], [0.0, 1.0, 2.0, 3.0, 4.0])
    assert_f32(grads['bias'], 1.0)


@NEEDS_GRAD
def test_s004_differentiable_ode():
    from kiln import grad

    def system_dynamics(state, t):
        # Simple harmonic oscillator
        x, v = state
        dxdt = v
        dvdt = -0.5 * x
        return jnp.array([dxdt, dvdt])

    def loss_fn(initial_state, target_x):
        # Simulate for 10 steps using simple Euler
        state = initial_state
        dt = 0.1
        for i in range(10):
            state += system_dynamics(state, i*dt) * dt
        return (state[0] - target_x)**2

    # We can take the gradient of the simulation with respect to initial state!
    optimize_initial_state = grad(loss_fn)

    # fragment: the seed never calls it; one initial state and target
    s0 = jnp.array([1.0, 0.0])
    assert_f32(loss_fn(s0, 0.5), 0.07852540165185928)
    assert_f32(optimize_initial_state(s0, 0.5), [0.43727460503578186, 0.5271730422973633])


@NEEDS_VMAP
def test_s004_parameter_sweep():
    from kiln import vmap

    def simulation(param):
        # Some complex computation
        return jnp.sum(jnp.linspace(0, param, 100))

    # Parallelize simulation over a range of parameters
    params = jnp.linspace(1, 10, 100)
    results = vmap(simulation)(params)

    assert results.shape == (100,)
    assert_f32(results, 50 * np.linspace(1, 10, 100), rtol=1e-5, atol=1e-4)


@NEEDS_VMAP
def test_s004_pmap():
    from kiln import pmap

    # pmap replicates the function across multiple GPUs
    # (the seed assumes 8 GPUs; fragment: one row per local device here)
    x = jnp.zeros((jax.local_device_count(), 1024))
    results = pmap(jnp.sin)(x)

    assert results.shape == x.shape
    np.testing.assert_array_equal(results, np.zeros(x.shape))


def test_s004_static_argnums_loop():
    from kiln import jit
    from functools import partial

    @partial(jit, static_argnums=(1,))
    def power_loop(x, n):
        for i in range(n):
            x = x * x
        return x

    # fragment: the seed never calls power_loop
    assert_f32(power_loop(jnp.array([1.0, 2.0]), 3), [1.0, 256.0])
    assert_f32(power_loop(jnp.array([1.0, 2.0]), 2), [1.0, 16.0])


def test_s004_safe_divide_with_cond():
    from kiln.lax import cond

    def safe_divide(x, y):
        return cond(y == 0, lambda _: 0.0, lambda _: x / y, operand=None)

    # fragment: the seed never calls safe_divide
    assert float(safe_divide(jnp.array(1.0), jnp.array(0.0))) == 0.0
    assert float(safe_divide(jnp.array(1.0), jnp.array(2.0))) == 0.5


def test_s004_tracer_error():
    from kiln import jit

    # ❌ Problem:  (commented out in the seed; it is what the seed says fails)
    @jit
    def func(x):
        if x > 0: return x  # Error! JAX doesn't know x's value during compile

    # kiln converts the `if`, but one path returns x and the other None: a clear error
    # naming the user's line instead of JAX's tracer error.
    with pytest.raises(jax.CompileError) as excinfo:
        func(jnp.array(1.0))
    assert "test_seed_examples.py" in str(excinfo.value)


def test_s004_safe_sqrt():
    # ✅ Solution: Add a small epsilon
    def safe_sqrt(x): return jnp.sqrt(x + 1e-8)

    assert_f32(safe_sqrt(0.0), 1e-4)
    assert_f32(safe_sqrt(jnp.array([0.0, 4.0])), [1e-4, 2.0])


@NEEDS_GRAD
def test_s004_safe_sqrt_gradient_is_finite():
    from kiln import grad

    def safe_sqrt(x): return jnp.sqrt(x + 1e-8)

    # the point of the sample: no NaN gradient at 0
    assert_f32(grad(safe_sqrt)(0.0), 5000.0, rtol=1e-4)


def test_s004_gpu_preallocate_env(monkeypatch):
    # monkeypatch restores the variable afterwards
    monkeypatch.delenv('XLA_PYTHON_CLIENT_PREALLOCATE', raising=False)

    # ✅ Solution: Set environment variable
    import os
    os.environ['XLA_PYTHON_CLIENT_PREALLOCATE'] = 'false'

    assert float(jnp.ones(3).sum()) == 3.0
