"""Every function of the shared corpus (tests/ad_corpus.py) through every kiln transform.

For each case, first-order transforms (grad, value_and_grad, jvp, vjp, jacfwd, jacrev and the
jit compositions) and second-order ones (hessian, grad(grad), jvp(grad) forward-over-reverse)
must agree with float64 central finite differences of kiln's own value, and with real JAX
running the same source. Every derivative is read off one matrix: J (flat outputs x flat
differentiated inputs) and, for a scalar function, H. A non-scalar function is made scalar
for grad and hessian by a fixed random weighting of its output leaves.

One test per case collects every failing transform into its message, so a case's
finite differences and JAX reference are computed once.
"""
import functools
import zlib

import numpy as np
import pytest

import ad_corpus
import kiln
import kiln.numpy as knp
from kiln.tree_util import tree_flatten, tree_leaves, tree_structure, tree_unflatten

jax = pytest.importorskip("jax")

CASES = ad_corpus.CASES
HESSIAN_MAX_INPUTS = 8  # hessian = jacfwd(jacrev): its size grows as n * program
FD_RTOL, JAX_RTOL = 1e-6, 1e-9


REFS = None  # the JAX reference values, cached between runs (set up with pytest's cache)


@pytest.fixture(autouse=True, scope="module")
def x64(request):
    global REFS
    REFS = ad_corpus.ReferenceCache(getattr(request.config, "cache", None), __file__)
    previous = kiln.config.read("jax_enable_x64")
    kiln.config.update("jax_enable_x64", True)
    yield
    kiln.config.update("jax_enable_x64", previous)


@functools.cache
def jax_cases():
    return {c.name: c for c in ad_corpus.load("jax").CASES}


# ---------------------------------------------------------------------------- the problem, flattened
def nums_of(case):
    return (case.argnums,) if isinstance(case.argnums, int) else tuple(case.argnums)


def args_of(case):
    return ad_corpus.make_args(case.specs, np.random.default_rng(zlib.crc32(case.name.encode())))


def fix_others(fun, args, nums):
    """fun as a function of the differentiated arguments only."""
    def partial_fun(*diff):
        full = list(args)
        for i, d in zip(nums, diff):
            full[i] = d
        return fun(*full)
    return partial_fun


def scalarized(fun, weights, np_):
    """sum(w * leaf) over the output leaves: a scalar function whose gradient is w^T J."""
    if weights is None:
        return fun

    def scalar_fun(*args):
        return sum(np_.sum(w * leaf) for w, leaf in zip(weights, tree_leaves(fun(*args))))
    return scalar_fun


def flat(tree) -> np.ndarray:
    leaves = [np.asarray(leaf, dtype=np.float64).ravel() for leaf in tree_leaves(tree)]
    return np.concatenate(leaves) if leaves else np.zeros(0)


def unflat(vec, like):
    leaves, tree = tree_flatten(like)
    out, k = [], 0
    for leaf in leaves:
        n = np.size(leaf)
        chunk = vec[k:k + n].reshape(np.shape(leaf))
        out.append(float(chunk) if isinstance(leaf, float) else chunk)
        k += n
    return tree_unflatten(tree, out)


def assemble(tree, row_sizes, col_sizes) -> np.ndarray:
    """Blocks (one per (row leaf, column leaf), in pytree order) into one matrix."""
    blocks = iter(tree_leaves(tree))
    rows = [np.concatenate([np.asarray(next(blocks)).reshape(r, c) for c in col_sizes], axis=1)
            if col_sizes else np.zeros((r, 0)) for r in row_sizes]
    return np.concatenate(rows, axis=0)


class Problem:
    """A case's arguments, its differentiated part and the finite-difference Jacobian."""

    def __init__(self, case):
        self.case, self.nums = case, nums_of(case)
        self.args = args_of(case)
        self.diff = tuple(self.args[i] for i in self.nums)
        self.fun = fix_others(case.fun, self.args, self.nums)
        self.forward = kiln.jit(self.fun)
        self.out = self.forward(*self.diff)
        self.out_sizes = [int(np.size(o)) for o in tree_leaves(self.out)]
        self.in_sizes = [int(np.size(x)) for x in tree_leaves(self.diff)]
        self.x0 = flat(self.diff)
        rng = np.random.default_rng(1 + zlib.crc32(case.name.encode()))
        scalar = len(self.out_sizes) == 1 and np.shape(tree_leaves(self.out)[0]) == ()
        self.weights = None if scalar else [rng.standard_normal(np.shape(o)) for o in tree_leaves(self.out)]
        self.w = np.ones(1) if scalar else np.concatenate([w.ravel() for w in self.weights])
        self.tangent = rng.standard_normal(self.x0.size)
        self.cotangent = rng.standard_normal(sum(self.out_sizes))
        self.direction = rng.standard_normal(self.x0.size)

        self.second_order = case.hess and self.x0.size <= HESSIAN_MAX_INPUTS
        # One grad object serves the grad check and the finite differences of the Hessian,
        # so both use one compilation.
        self.fs = scalarized(case.fun, self.weights, knp)
        self.grad = kiln.grad(self.fs, case.argnums)

    def with_diff(self, *diff):
        full = list(self.args)
        for i, d in zip(self.nums, diff):
            full[i] = d
        return full

    @functools.cached_property
    def J(self):
        return fd_matrix(self.forward, self.x0, self.diff)

    @functools.cached_property
    def H(self):
        return fd_matrix(lambda *d: self.grad(*self.with_diff(*d)), self.x0, self.diff)


def fd_matrix(fun, x0, like) -> np.ndarray:
    """Central differences, one column per input coordinate."""
    cols = []
    for k in range(x0.size):
        h = 1e-5 * max(1.0, abs(x0[k]))
        e = np.zeros_like(x0)
        e[k] = h
        hi, lo = flat(fun(*unflat(x0 + e, like))), flat(fun(*unflat(x0 - e, like)))
        cols.append((hi - lo) / (2 * h))
    return np.stack(cols, axis=1) if cols else np.zeros((0, 0))


@functools.cache
def problem(name) -> Problem:
    return Problem(next(c for c in CASES if c.name == name))


@functools.cache
def jax_reference(name):
    """JAX's value, Jacobian, Hessian (when checked) and gradient types."""
    ref = REFS.get(f"corpus/{name}", lambda: compute_jax_reference(name))
    hess = None if ref["hess"] is None else np.asarray(ref["hess"], np.float64).reshape(ref["n"], ref["n"])
    return (np.asarray(ref["value"], np.float64), np.asarray(ref["jac"], np.float64).reshape(-1, ref["n"]), hess,
            [(np.dtype(d), w) for d, w in ref["grads"]])


def compute_jax_reference(name):
    p = problem(name)
    case = jax_cases()[name]
    args = ad_corpus.make_args(case.specs, np.random.default_rng(zlib.crc32(name.encode())))
    every = tuple(range(len(p.nums)))

    def everything(*a):  # one compilation for all of it
        part = fix_others(case.fun, a, p.nums)
        d = tuple(a[i] for i in p.nums)
        hess = jax.hessian(scalarized(part, p.weights, jax.numpy), every)(*d) if p.second_order else ()
        return part(*d), jax.jacfwd(part, every)(*d), hess
    with jax.enable_x64(True):
        out, jac, hess = jax.jit(everything)(*args)
        grads = jax.eval_shape(jax.grad(scalarized(case.fun, p.weights, jax.numpy), case.argnums), *args)
    return {"n": int(p.x0.size), "value": flat(out).tolist(), "jac": assemble(jac, p.out_sizes, p.in_sizes).tolist(),
            "hess": assemble(hess, p.in_sizes, p.in_sizes).tolist() if p.second_order else None,
            "grads": [[np.dtype(g.dtype).name, bool(g.weak_type)] for g in tree_leaves(grads)]}


# ---------------------------------------------------------------------------- checking
class Failures:
    def __init__(self):
        self.messages = []

    def run(self, what, compute, expected):
        """compute() against each of `expected`: [(reference name, matrix, rtol)]."""
        try:
            actual = compute()
        except Exception as e:  # every transform is tried; the report lists each failure
            self.messages.append(f"{what}: raised {type(e).__name__}: {e}")
            return None
        for ref, value, rtol in expected:
            a, b = np.asarray(actual, np.float64), np.asarray(value, np.float64)
            scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
            if a.shape != b.shape or not np.allclose(a, b, rtol=rtol, atol=rtol * scale):
                err = np.max(np.abs(a - b)) if a.shape == b.shape else f"shape {a.shape} != {b.shape}"
                self.messages.append(f"{what} vs {ref}: max error {err}\n  kiln {a.ravel()[:8]}\n  {ref} "
                                     f"{b.ravel()[:8]}")
        return actual

    def check(self, what, ok, detail=""):
        if not ok:
            self.messages.append(f"{what} {detail}")

    def done(self):
        assert not self.messages, "\n".join(self.messages)


def references(p: Problem, first_order=True):
    """[(name, J or H, rtol)] from finite differences and from JAX, where each applies."""
    refs = []
    if p.case.fd:
        refs.append(("finite differences", p.J if first_order else p.H, FD_RTOL))
    if p.case.jax_ok:
        _, jac, hess, _ = jax_reference(p.case.name)
        refs.append(("jax", jac if first_order else hess, JAX_RTOL))
    return refs


def expect(refs, derive):
    return [(name, derive(m), rtol) for name, m, rtol in refs]


def along(fun, vs):
    """The scalar <v, fun(...)>, for differentiating a gradient once more."""
    def directional(*args):
        return sum(knp.sum(v * g) for v, g in zip(vs, tree_leaves(fun(*args))))
    return directional


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corpus(case):
    p, f = problem(case.name), Failures()
    first_order(p, f)
    if p.second_order:
        second_order(p, f)
    f.done()


def first_order(p: Problem, f: Failures):
    case, args, refs = p.case, p.args, references(p)
    grad_refs = expect(refs, lambda J: p.w @ J)
    if case.jax_ok:
        value, _, _, jax_grads = jax_reference(case.name)
        f.run("value", lambda: flat(p.out), [("jax", value, JAX_RTOL)])
    trees = []
    f.run("grad", lambda: flat(trees.append(p.grad(*args)) or trees[0]), grad_refs)
    if trees:
        like = p.diff[0] if isinstance(case.argnums, int) else p.diff
        f.check("grad structure", tree_structure(trees[0]) == tree_structure(like),
                f"{tree_structure(trees[0])} != {tree_structure(like)}")
        if case.jax_ok:
            kinds = [(np.dtype(x.dtype), x.weak_type) for x in tree_leaves(trees[0])]
            jax_kinds = jax_grads
            f.check("grad dtypes", kinds == jax_kinds, f"kiln {kinds} != jax {jax_kinds}")

    def value_and_grad():
        v, g = kiln.value_and_grad(p.fs, case.argnums)(*args)
        return np.concatenate([[float(v) - float(p.w @ flat(p.out))], flat(g)])
    f.run("value_and_grad", value_and_grad, expect(refs, lambda J: np.concatenate([[0.0], p.w @ J])))
    for name, transform in [("jit(grad(f))", lambda: kiln.jit(kiln.grad(p.fs, case.argnums))),
                            ("grad(jit(f))", lambda: kiln.grad(kiln.jit(p.fs), case.argnums)),
                            ("jit(grad(jit(f)))", lambda: kiln.jit(kiln.grad(kiln.jit(p.fs), case.argnums)))]:
        f.run(name, lambda: flat(transform()(*args)), grad_refs)

    def jvp():
        out, t_out = kiln.jvp(p.fun, p.diff, unflat(p.tangent, p.diff))
        f.run("jvp primal output", lambda: flat(out), [("value", flat(p.out), 1e-12)])
        return flat(t_out)
    f.run("jvp", jvp, expect(refs, lambda J: J @ p.tangent))

    def vjp():
        out, pullback = kiln.vjp(p.fun, *p.diff)
        return flat(pullback(unflat(p.cotangent, out)))
    f.run("vjp", vjp, expect(refs, lambda J: p.cotangent @ J))
    every = tuple(range(len(p.diff)))
    for name, jac in [("jacfwd", kiln.jacfwd), ("jacrev", kiln.jacrev)]:
        f.run(name, lambda: assemble(jac(p.fun, every)(*p.diff), p.out_sizes, p.in_sizes), refs)


def second_order(p: Problem, f: Failures):
    refs, v = references(p, first_order=False), p.direction
    every = tuple(range(len(p.diff)))
    fs = scalarized(p.fun, p.weights, knp)
    f.run("hessian", lambda: assemble(kiln.hessian(fs, every)(*p.diff), p.in_sizes, p.in_sizes), refs)
    if p.x0.size == 1 and len(p.diff) == 1 and np.shape(p.diff[0]) == ():
        f.run("grad(grad(f))", lambda: flat(kiln.grad(kiln.grad(fs))(*p.diff)), expect(refs, lambda H: H[0]))
    else:
        vs = tree_leaves(unflat(v, p.diff))
        f.run("grad(<v, grad(f)>)", lambda: flat(kiln.grad(along(kiln.grad(fs, every), vs), every)(*p.diff)),
              expect(refs, lambda H: H @ v))

    def forward_over_reverse():
        _, t_out = kiln.jvp(kiln.grad(fs, every), p.diff, unflat(v, p.diff))
        return flat(t_out)
    f.run("jvp(grad(f))", forward_over_reverse, expect(refs, lambda H: H @ v))
