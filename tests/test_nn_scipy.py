"""kiln.nn, kiln.scipy.special and kiln.scipy.stats.norm against real JAX.

Each function on 2-d arrays, 0-d arrays, empty arrays, Python scalars and integer inputs,
eagerly and under kiln.jit, with x64 off and on. The case functions take a namespace
(`kiln` or `jax`) rather than a numpy module; see test_numpy_harness.
"""
import jax
import jax.nn
import jax.scipy.special
import jax.scipy.stats
import numpy as onp

import kiln
import kiln.nn
import kiln.scipy.special
import kiln.scipy.stats
from test_numpy_harness import case, floats, table_test

X = floats(3, 4, lo=-4.0, hi=4.0)
POSITIVE = onp.round(onp.linspace(0.3, 6.0, 12).reshape(3, 4), 3)

# Functions f(ns, *args) where ns is the `kiln` or `jax` module.
UNARY = {
    "relu": lambda ns, x: ns.nn.relu(x), "sigmoid": lambda ns, x: ns.nn.sigmoid(x),
    "gelu": lambda ns, x: ns.nn.gelu(x), "gelu-exact": lambda ns, x: ns.nn.gelu(x, approximate=False),
    "silu": lambda ns, x: ns.nn.silu(x), "softmax": lambda ns, x: ns.nn.softmax(x),
    "log_softmax": lambda ns, x: ns.nn.log_softmax(x), "logsumexp": lambda ns, x: ns.scipy.special.logsumexp(x),
    "erf": lambda ns, x: ns.scipy.special.erf(x), "norm.pdf": lambda ns, x: ns.scipy.stats.norm.pdf(x),
    "norm.logpdf": lambda ns, x: ns.scipy.stats.norm.logpdf(x), "norm.cdf": lambda ns, x: ns.scipy.stats.norm.cdf(x),
}
cases = []
for name, fn in UNARY.items():
    cases += [
        case(f"{name}-2d", fn, X, rtol=5e-6, atol=1e-6),
        case(f"{name}-0d", fn, onp.float64(0.7), rtol=5e-6),
        case(f"{name}-empty", fn, onp.zeros((0,))),
        case(f"{name}-pyfloat", fn, -1.25, rtol=5e-6),
        case(f"{name}-int", fn, onp.array([-2, 0, 3]), rtol=5e-6, atol=1e-6),
        case(f"{name}-special", fn, onp.array([0.0, -30.0, 30.0, onp.inf, -onp.inf, onp.nan]), rtol=5e-6),
    ]
cases += [
    case("relu-int8", lambda ns, x: ns.nn.relu(x), onp.array([-3, 4], onp.int8)),
    case("softmax-axis0", lambda ns, x: ns.nn.softmax(x, axis=0), X, rtol=5e-6),
    case("softmax-axes", lambda ns, x: ns.nn.softmax(x, axis=(0, 1)), X, rtol=5e-6),
    case("softmax-where", lambda ns, x, m: ns.nn.softmax(x, where=m), X, X > 0, rtol=5e-6),
    case("log_softmax-axis0", lambda ns, x: ns.nn.log_softmax(x, axis=0), X, rtol=5e-6, atol=1e-6),
    case("log_softmax-3d", lambda ns, x: ns.nn.log_softmax(x, axis=1), floats(2, 3, 2), rtol=5e-6, atol=1e-6),
    case("logsumexp-axis", lambda ns, x: ns.scipy.special.logsumexp(x, axis=1), X, rtol=5e-6),
    case("logsumexp-keepdims", lambda ns, x: ns.scipy.special.logsumexp(x, axis=0, keepdims=True), X, rtol=5e-6),
    case("logsumexp-tuple-axis", lambda ns, x: ns.scipy.special.logsumexp(x, axis=(0, 1)), X, rtol=5e-6),
    case("logsumexp-b", lambda ns, x, b: ns.scipy.special.logsumexp(x, axis=-1, b=b), X, POSITIVE, rtol=5e-6),
    case("logsumexp-sign", lambda ns, x, b: ns.scipy.special.logsumexp(x, b=b, return_sign=True), X, X, rtol=5e-6),
    case("logsumexp-where", lambda ns, x, m: ns.scipy.special.logsumexp(x, axis=1, where=m), X, X > -1, rtol=5e-6),
    case("log_softmax-where", lambda ns, x, m: ns.nn.log_softmax(x, where=m), X, X > 0, rtol=5e-6, atol=1e-6),
    case("softmax-all-masked", lambda ns, x, m: ns.nn.softmax(x, where=m), X, onp.zeros((3, 4), bool)),
    case("logsumexp-all-inf", lambda ns, x: ns.scipy.special.logsumexp(x), onp.array([-onp.inf, -onp.inf])),
    case("gammaln", lambda ns, x: ns.scipy.special.gammaln(x), POSITIVE, rtol=1e-5, rtol64=1e-10),
    case("gammaln-int", lambda ns, x: ns.scipy.special.gammaln(x), onp.array([1, 2, 5]), rtol=1e-5, atol=1e-6),
    case("gammaln-0d", lambda ns, x: ns.scipy.special.gammaln(x), onp.float64(3.5), rtol=1e-5, rtol64=1e-10),
    case("gammaln-pyfloat", lambda ns: ns.scipy.special.gammaln(0.5), rtol=1e-5, rtol64=1e-10),
    case("gammaln-negative", lambda ns, x: ns.scipy.special.gammaln(x), onp.array([-0.5, -2.5, 0.0]), rtol=1e-5),
    case("multigammaln", lambda ns, x: ns.scipy.special.multigammaln(x, 3), POSITIVE + 1.0, rtol=1e-5, rtol64=1e-10),
    case("multigammaln-1", lambda ns, x: ns.scipy.special.multigammaln(x, 1), POSITIVE, rtol=1e-5, rtol64=1e-10),
    case("multigammaln-0d", lambda ns, x: ns.scipy.special.multigammaln(x, 2), onp.float64(4.0), rtol=1e-5, rtol64=1e-10),
    case("multigammaln-pyfloat", lambda ns: ns.scipy.special.multigammaln(3.5, 2), rtol=1e-5, rtol64=1e-10),
    case("erf-int8", lambda ns, x: ns.scipy.special.erf(x), onp.array([-1, 0, 2], onp.int8), rtol=5e-6),
    case("norm.pdf-loc-scale", lambda ns, x: ns.scipy.stats.norm.pdf(x, 1.0, 2.0), X, rtol=5e-6),
    case("norm.logpdf-arrays", lambda ns, x, l, s: ns.scipy.stats.norm.logpdf(x, l, s), X, floats(4), POSITIVE,
         rtol=5e-6, atol=1e-6),
    case("norm.cdf-loc-scale", lambda ns, x: ns.scipy.stats.norm.cdf(x, loc=-1.0, scale=0.5), X, rtol=5e-6, atol=1e-6),
    case("norm.cdf-tail", lambda ns, x: ns.scipy.stats.norm.cdf(x), onp.array([-8.0, -5.0, 5.0, 8.0]), rtol=5e-6),
    case("norm.pdf-int-loc", lambda ns, x: ns.scipy.stats.norm.pdf(x, 1, 2), onp.array([0, 1, 2]), rtol=5e-6),
]


test_nn_scipy = table_test(cases, kiln, jax)
