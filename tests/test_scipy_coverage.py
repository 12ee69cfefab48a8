"""kiln.lax's special functions, kiln.scipy.special and kiln.scipy.stats against real JAX.

Cases are grouped: one test runs a group's functions eagerly and under a single kiln.jit (one
compilation per group), and compares values, dtypes and weak types with JAX's (computed by one
jax.jit per group). Special functions also run with x64 on. Gradients: kiln.grad against
jax.grad for the differentiable functions, summed over small arrays of edge values.
"""
import warnings

import jax
import jax.numpy as jnp
import jax.scipy.special
import jax.scipy.stats
import numpy as onp
import pytest

import kiln
import kiln.lax
import kiln.scipy.special
import kiln.scipy.stats

INF, NAN = onp.inf, onp.nan
X = onp.array([-3.5, -1.0, -0.5, 0.0, 1e-8, 0.3, 1.0, 1.5, 2.5, 7.0, 12.0, 40.0, 100.0, INF, -INF, NAN])
P = onp.array([0.0, 1e-30, 1e-10, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1 - 1e-7, 1.0, -0.1, 1.5, NAN])
A = onp.array([0.1, 0.5, 1.0, 2.0, 3.5, 10.0, 0.0, -1.0, 50.0, NAN, 1e-3, 200.0])
B = onp.array([0.2, 1.0, 0.5, 3.0, 0.0, 20.0, 1.0, 2.0, 60.0, 1.0, 0.7, 180.0])
U = onp.array([0.5, 0.2, 0.99, 0.4, 0.3, 0.6, 0.0, 0.5, 0.45, 0.5, 1.0, 0.52])
ORDERS = onp.array([0, 1, 2, 3, 0, 1, 2, 4, 1, 0, 5, 1])

RTOL = {onp.dtype(onp.float32): 2e-5, onp.dtype(onp.float64): 1e-12}


def _compare(got, want, rtol, where):
    got_leaves, want_leaves = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves), where
    for k, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        at = f"{where} output {k}"
        assert g.shape == w.shape, f"{at}: shape {g.shape} vs {w.shape}"
        assert g.dtype == w.dtype, f"{at}: dtype {g.dtype} vs JAX's {w.dtype}"
        assert bool(getattr(g, "weak_type", False)) == bool(getattr(w, "weak_type", False)), f"{at}: weak_type"
        g, w = onp.asarray(g), onp.asarray(w)
        if w.dtype.kind == "f":
            tol = rtol or RTOL[w.dtype]
            onp.testing.assert_allclose(g, w, rtol=tol, atol=tol * 1e-3, equal_nan=True, err_msg=at)
        else:
            onp.testing.assert_array_equal(g, w, err_msg=at)


def check_group(cases, x64=False):
    """cases: {name: (fn(ns, *args), args, rtol)}: kiln eagerly and under one kiln.jit vs JAX."""
    fns = {name: (fn, args) for name, (fn, args, _) in cases.items()}

    def run(ns):
        def all_cases(*flat):
            it, out = iter(flat), {}
            for name, (fn, args) in fns.items():
                out[name] = fn(ns, *[next(it) for _ in args])
            return out
        return all_cases

    flat = [a for _, args in fns.values() for a in args]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = jax.jit(run(jax))(*flat)
        eager = run(kiln)(*[kiln.numpy.asarray(a) for a in flat])
        jitted = kiln.jit(run(kiln))(*flat)
    for name, (_, _, rtol) in cases.items():
        _compare(eager[name], want[name], rtol, f"{name} eager (x64={x64})")
        _compare(jitted[name], want[name], rtol, f"{name} jit (x64={x64})")


def sp(name, *args, rtol=None, **kw):
    return (lambda ns, *a: getattr(ns.scipy.special, name)(*a, **kw)), args, rtol


def lx(name, *args, rtol=None):
    return (lambda ns, *a: getattr(ns.lax, name)(*a)), args, rtol


def f32(*arrays):
    return tuple(onp.asarray(a, onp.float32) for a in arrays)


# ---------------------------------------------------------------------------- special functions
SPECIAL_GROUPS = {
    "lax-gamma": {
        "igamma": lx("igamma", *f32(A, B)), "igammac": lx("igammac", *f32(A, B)),
        "igamma_grad_a": lx("igamma_grad_a", *f32(A, B)), "random_gamma_grad": lx("random_gamma_grad", *f32(A, B)),
        "igamma-edges": lx("igamma", *f32([1.0, 2.0, 0.0, 3.0, 1e-3, 30.0], [INF, 0.0, 0.0, -1.0, 1e4, 25.0])),
        # a, b ~ 200: exp(a log x + b log1p(-x) - lbeta) amplifies one-ulp differences ~1000x
        "betainc": lx("betainc", *f32(A + 0.5, B + 0.5, U), rtol=1e-4),
    },
    "lax-zeta-bessel": {
        "zeta": lx("zeta", *f32(A + 1.0, B)),
        "zeta-edges": lx("zeta", *f32([1.0, 0.5, 1.0, 2.0, 3.0, 2.0, 2.5, 1.5, 4.0, 30.0, NAN, 1.0001],
                                      [-1.0, 1.0, 0.0, -2.0, -2.0, -1.5, -1.5, 1e-3, 0.0, 0.5, 1.0, 2.0])),
        "polygamma": lx("polygamma", *f32(ORDERS, B + 0.1)),
        "polygamma-edges": lx("polygamma", *f32([0.5, -1.0, 1.0, 2.0], [1.0, 1.0, -2.0, -1.5])),
        "bessel_i0e": lx("bessel_i0e", *f32(X)), "bessel_i1e": lx("bessel_i1e", *f32(X)),
    },
    "normal": {
        "ndtr": sp("ndtr", X), "ndtri": sp("ndtri", P), "log_ndtr": sp("log_ndtr", onp.append(X, [-30.0, -15.0, 6.0, 9.0])),
        "log_ndtr-order5": sp("log_ndtr", onp.array([-40.0, -12.0, 0.0]), series_order=5),
        "softmax": sp("softmax", X[:12].reshape(3, 4)), "log_softmax": sp("log_softmax", X[:12].reshape(3, 4), axis=1),
        "softmax-axis": sp("softmax", X[:12].reshape(3, 4), axis=0),
    },
    "gamma-beta": {
        "gamma": sp("gamma", X), "gammasgn": sp("gammasgn", onp.append(X, [-0.0, -2.5])), "loggamma": sp("loggamma", X),
        "beta": sp("beta", A, B), "betaln": sp("betaln", A, B), "betaln-large": sp("betaln", A * 1e5, B * 1e6),
        "factorial": sp("factorial", X), "comb": sp("comb", A * 3, B), "comb-rep": sp("comb", A * 3, B, repetition=True),
        "poch": sp("poch", A, B),
    },
    "incomplete": {
        "gammainc": sp("gammainc", A, B), "gammaincc": sp("gammaincc", A, B), "betainc": sp("betainc", A, B, U, rtol=1e-4),  # a, b ~ 200: see lax-gamma
        "gammainc-scalar": sp("gammainc", 2.0, 3.0), "betainc-int": sp("betainc", 2, 3, U),
    },
    "bessel-zeta": {
        "i0e": sp("i0e", X), "i1e": sp("i1e", X), "i0": sp("i0", X), "i1": sp("i1", X),
        "zeta": sp("zeta", A + 1.0, B), "polygamma": sp("polygamma", ORDERS, B + 0.1),
        "polygamma-int-x": sp("polygamma", onp.array([1, 2]), onp.array([3, 4])),
    },
    "entropy": {
        "entr": sp("entr", X), "kl_div": sp("kl_div", A, B), "rel_entr": sp("rel_entr", A, B),
        "rel_entr-zero": sp("rel_entr", onp.array([0.0, 0.0, 1.0, -1.0]), onp.array([0.0, 2.0, 0.0, 1.0])),
        "xlogy": sp("xlogy", onp.array([0.0, 0.0, 1.0, 2.0, -1.0]), onp.array([0.0, NAN, 2.0, 0.0, 3.0])),
        "xlog1py": sp("xlog1py", onp.array([0.0, 0.0, 1.0, 2.0, -1.0]), onp.array([-1.0, NAN, 2.0, 0.0, 3.0])),
        "boxcox": sp("boxcox", onp.abs(A), B - 1), "boxcox1p": sp("boxcox1p", A, B - 1),
    },
}


@pytest.mark.parametrize("x64", [False, True], ids=["x32", "x64"])
@pytest.mark.parametrize("group", list(SPECIAL_GROUPS))
def test_special_values(group, x64, request):
    if x64:
        request.getfixturevalue("x64")
    check_group(SPECIAL_GROUPS[group], x64)


def test_special_errors():
    with pytest.raises(ValueError, match="integer type"):
        kiln.scipy.special.polygamma(1.0, 2.0)
    with pytest.raises(TypeError):
        kiln.scipy.special.ndtr(onp.arange(3))
    with pytest.raises(NotImplementedError):
        kiln.scipy.special.zeta(2.0)
    with pytest.raises(TypeError):
        kiln.lax.igamma(onp.int32(1), onp.int32(2))


# ---------------------------------------------------------------------------- gradients

def _grad_pair(fn, argnum, *args):
    """kiln.grad and jax.grad of sum(fn(ns, *args)) in argument `argnum`."""
    def make(ns):
        return lambda *a: ns.numpy.sum(fn(ns, *a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = jax.grad(make(jax), argnum)(*[jnp.asarray(a) for a in args])
        got = kiln.grad(make(kiln), argnum)(*[kiln.numpy.asarray(a) for a in args])
        got_jit = kiln.jit(kiln.grad(make(kiln), argnum))(*args)
    return got, got_jit, want


GA = onp.array([0.5, 1.0, 2.5, 4.0, 12.0], onp.float32)
GX = onp.array([0.3, 1.0, 3.0, 2.0, 15.0], onp.float32)
GU = onp.array([0.2, 0.5, 0.7, 0.9, 0.4], onp.float32)
GRADS = {
    "igamma-a": (lambda ns, a, x: ns.lax.igamma(a, x), 0, (GA, GX), 1e-4),
    "igamma-x": (lambda ns, a, x: ns.lax.igamma(a, x), 1, (GA, GX), 1e-5),
    "igammac-a": (lambda ns, a, x: ns.lax.igammac(a, x), 0, (GA, GX), 1e-4),
    "gammaincc-x": (lambda ns, a, x: ns.scipy.special.gammaincc(a, x), 1, (GA, GX), 1e-5),
    "betainc-x": (lambda ns, a, b, x: ns.scipy.special.betainc(a, b, x), 2, (GA, GX, GU), 1e-5),
    "polygamma-x": (lambda ns, x: ns.scipy.special.polygamma(onp.array([0, 1, 2, 1, 3]), x), 0, (GX,), 1e-5),
    "i0e": (lambda ns, x: ns.scipy.special.i0e(x), 0, (GX - 1,), 1e-5),
    "i1e": (lambda ns, x: ns.scipy.special.i1e(x), 0, (onp.append(GX - 1, 0.0).astype(onp.float32),), 1e-5),
    "log_ndtr": (lambda ns, x: ns.scipy.special.log_ndtr(x), 0, (onp.array([-30.0, -3.0, 0.0, 2.0, 9.0], onp.float32),), 1e-5),
    "ndtri": (lambda ns, p: ns.scipy.special.ndtri(p), 0, (GU,), 1e-5),
    "entr": (lambda ns, x: ns.scipy.special.entr(x), 0, (GX,), 1e-5),
    "xlogy": (lambda ns, x, y: ns.scipy.special.xlogy(x, y), 1, (GX, GA), 1e-5),
    "poch": (lambda ns, z, m: ns.scipy.special.poch(z, m), 0, (GA, GU), 1e-4),
    "gamma.logpdf-a": (lambda ns, x, a: ns.scipy.stats.gamma.logpdf(x, a, scale=2.0), 1, (GX, GA), 1e-5),
    "beta.logpdf-ab": (lambda ns, x, a, b: ns.scipy.stats.beta.logpdf(x, a, b), 1, (GU, GA, GX), 1e-5),
    "t.logpdf-df": (lambda ns, x, df: ns.scipy.stats.t.logpdf(x, df, 0.5, 2.0), 1, (GX - 2, GA), 1e-5),
    "norm.logcdf": (lambda ns, x: ns.scipy.stats.norm.logcdf(x, 1.0, 2.0), 0, (GX * -3,), 1e-5),
    "poisson.logpmf-mu": (lambda ns, k, mu: ns.scipy.stats.poisson.logpmf(k, mu), 1, (onp.round(GX), GA), 1e-5),
    "vonmises.logpdf-kappa": (lambda ns, x, k: ns.scipy.stats.vonmises.logpdf(x, k), 1, (GU, GA), 1e-5),
    "gamma.cdf-a": (lambda ns, x, a: ns.scipy.stats.gamma.cdf(x, a), 1, (GX, GA), 1e-4),
    "truncnorm.logpdf-loc": (lambda ns, x, loc: ns.scipy.stats.truncnorm.logpdf(x, -1.0, 2.0, loc), 1, (GU, GU - 0.5), 1e-5),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_gradients(name):
    fn, argnum, args, rtol = GRADS[name]
    got, got_jit, want = _grad_pair(fn, argnum, *args)
    _compare(got, want, rtol, f"{name} grad")
    _compare(got_jit, want, rtol, f"{name} jit(grad)")


def test_vmap_igamma():
    a, x = f32(GA, GX)
    out = kiln.vmap(kiln.lax.igamma)(a, x)
    onp.testing.assert_allclose(onp.asarray(out), onp.asarray(jax.lax.igamma(a, x)), rtol=2e-6)


# ---------------------------------------------------------------------------- stats
K = onp.array([-1.0, 0.0, 1.0, 2.0, 3.0, 5.0, 2.5])
XS = onp.array([-2.0, -0.5, 0.0, 0.2, 0.5, 1.0, 3.0, INF, NAN])
QS = onp.array([0.0, 0.1, 0.5, 0.9, 1.0, -0.1, NAN])


def st(dist, fn, *args, rtol=None):
    return (lambda ns, *a: getattr(getattr(ns.scipy.stats, dist), fn)(*a)), args, rtol


def _continuous(dist, fns, *params, x=XS, rtol=None):
    return {f"{dist}.{fn}": st(dist, fn, x, *params, rtol=rtol) for fn in fns}


_PDF = ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")
STATS_GROUPS = {
    "norm-expon-laplace": {
        **_continuous("norm", _PDF, 0.5, 2.0),
        "norm.ppf": st("norm", "ppf", QS, 0.5, 2.0), "norm.isf": st("norm", "isf", QS, 0.5, 2.0),
        **_continuous("expon", _PDF, 0.5, 2.0), "expon.ppf": st("expon", "ppf", QS, 0.5, 2.0),
        **_continuous("laplace", ("logpdf", "pdf", "cdf"), 0.5, 2.0),
        **_continuous("logistic", ("logpdf", "pdf", "cdf", "sf", "isf", "ppf"), 0.5, 2.0),
        "uniform.logpdf": st("uniform", "logpdf", XS, -0.5, 2.0), "uniform.cdf": st("uniform", "cdf", XS, -0.5, 2.0),
        "uniform.ppf": st("uniform", "ppf", QS, -0.5, 2.0),
    },
    "cauchy-gumbel-pareto": {
        # (not at inf: XLA fuses 0.5 + atan(x) / pi into an FMA, so JAX's cdf(-inf) is 6e-9, not 0)
        **_continuous("cauchy", _PDF, 0.5, 2.0, x=XS[XS != INF]), "cauchy.ppf": st("cauchy", "ppf", QS[1:4], 0.5, 2.0),
        "cauchy.isf": st("cauchy", "isf", QS[1:4], 0.5, 2.0),
        **_continuous("gumbel_l", _PDF, 0.5, 2.0, x=XS[XS != INF]),  # XLA simplifies inf - inf
        **_continuous("gumbel_r", _PDF, 0.5, 2.0),
        "gumbel_r.ppf": st("gumbel_r", "ppf", QS, 0.5, 2.0),
        **_continuous("pareto", ("logpdf", "pdf", "cdf", "sf"), 1.5, 0.0, 0.5),
    },
    "gamma-family": {
        **_continuous("gamma", ("logpdf", "cdf", "sf"), 2.5, 0.0, 1.5, rtol=5e-5),
        **_continuous("chi2", ("logpdf", "pdf", "logcdf"), 3.0, 0.0, 1.5, rtol=5e-5),
        **_continuous("beta", ("logpdf", "cdf", "logsf"), 2.5, 1.5, -0.5, 2.0, rtol=5e-5),
        **_continuous("t", ("logpdf", "pdf"), 3.0, 0.5, 2.0),
        **_continuous("gennorm", ("logpdf", "pdf"), 1.5),
        "vonmises.logpdf": st("vonmises", "logpdf", XS, 2.0), "wrapcauchy.logpdf": st("wrapcauchy", "logpdf", XS, 0.3),
    },
    "truncnorm": {
        **_continuous("truncnorm", ("logpdf", "logcdf", "sf"), -1.0, 2.0, 0.2, 1.5, rtol=5e-5),
    },
    "discrete": {
        "bernoulli.logpmf": st("bernoulli", "logpmf", K, 0.3), "bernoulli.pmf": st("bernoulli", "pmf", K, 0.3),
        "bernoulli.cdf": st("bernoulli", "cdf", K, 0.3), "bernoulli.ppf": st("bernoulli", "ppf", QS, 0.3),
        "binom.logpmf": st("binom", "logpmf", K, 5.0, 0.3), "binom.pmf": st("binom", "pmf", K, 5.0, 0.3),
        "betabinom.logpmf": st("betabinom", "logpmf", K, 5.0, 2.0, 3.0),
        "betabinom.pmf": st("betabinom", "pmf", K, 5.0, 2.0, 3.0),
        "geom.logpmf": st("geom", "logpmf", K, 0.3), "geom.pmf": st("geom", "pmf", K, 0.3),
        "nbinom.logpmf": st("nbinom", "logpmf", K, 3.0, 0.4), "nbinom.pmf": st("nbinom", "pmf", K, 3.0, 0.4),
        "poisson.logpmf": st("poisson", "logpmf", K, 2.5), "poisson.pmf": st("poisson", "pmf", K, 2.5),
        "poisson.cdf": st("poisson", "cdf", K, 2.5, rtol=5e-5),
        "poisson.entropy": st("poisson", "entropy", onp.array([0.0, 0.5, 5.0, 50.0, 500.0]), rtol=5e-5),
    },
    "multivariate": {
        "dirichlet.logpdf": st("dirichlet", "logpdf", onp.array([0.2, 0.3, 0.5]), onp.array([1.5, 2.0, 3.0])),
        "dirichlet.pdf-short": st("dirichlet", "pdf", onp.array([[0.2, 0.1], [0.3, 0.6]]), onp.array([1.5, 2.0, 3.0])),
        "multinomial.logpmf": st("multinomial", "logpmf", onp.array([1, 2, 3]), 6, onp.array([0.2, 0.3, 0.5])),
        "mvn.logpdf": st("multivariate_normal", "logpdf", onp.array([[0.5, -1.0], [0.0, 0.3], [1.0, 1.0]]),
                         onp.array([0.1, 0.2]), onp.array([[2.0, 0.3], [0.3, 1.0]])),
        "mvn.pdf-scalar-cov": st("multivariate_normal", "pdf", onp.array([0.5, -1.0]), onp.array([0.1, 0.2]), 1.5),
        "sem": (lambda ns, a: ns.scipy.stats.sem(a), (onp.array([[1.0, 2.0], [3.0, 5.0], [4.0, 0.5]]),), None),
        "rankdata": (lambda ns, a: ns.scipy.stats.rankdata(a), (onp.array([3.0, 1.0, 3.0, 2.0, 1.0]),), None),
        "rankdata-min": (lambda ns, a: ns.scipy.stats.rankdata(a, "min"), (onp.array([3.0, 1.0, 3.0, 2.0]),), None),
        "rankdata-dense": (lambda ns, a: ns.scipy.stats.rankdata(a, "dense"), (onp.array([3.0, 1.0, 3.0]),), None),
        "mode": (lambda ns, a: tuple(ns.scipy.stats.mode(a)), (onp.array([[1, 2, 2], [3, 3, 1], [1, 2, 1]]),), None),
    },
}


@pytest.mark.parametrize("group", list(STATS_GROUPS))
def test_stats_values(group):
    check_group(STATS_GROUPS[group])


def test_stats_python_scalars():
    _compare(kiln.scipy.stats.gamma.logpdf(2.0, 3.0), jax.scipy.stats.gamma.logpdf(2.0, 3.0), 2e-6, "gamma scalar")
    _compare(kiln.scipy.stats.poisson.pmf(2, 3.0), jax.scipy.stats.poisson.pmf(2, 3.0), 2e-6, "poisson scalar")
