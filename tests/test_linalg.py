"""kiln.numpy.linalg and kiln.lax.linalg against real JAX: values eagerly and under jit,
vmap over stacked matrices, and derivatives (jvp and grad), on the backend under test.

The factorizations call the LAPACK routines JAX calls, so values agree closely; they are
compared within a float32 tolerance (eigenvectors and singular vectors up to sign, through
quantities that do not depend on it).
"""
import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln.lax import linalg as klinalg

jax = pytest.importorskip("jax")
jnp = jax.numpy
jlinalg = jax.lax.linalg

RNG = np.random.default_rng(0)
A = RNG.normal(size=(4, 4)).astype(np.float32)
A2 = RNG.normal(size=(2, 2)).astype(np.float32)
A3 = RNG.normal(size=(3, 3)).astype(np.float32)
TALL = RNG.normal(size=(5, 3)).astype(np.float32)
WIDE = RNG.normal(size=(2, 4)).astype(np.float32)
SPD = (A @ A.T + 4 * np.eye(4)).astype(np.float32)
B = RNG.normal(size=(4, 2)).astype(np.float32)
V = RNG.normal(size=(4,)).astype(np.float32)
STACK = RNG.normal(size=(3, 4, 4)).astype(np.float32)
STACK_SPD = (STACK @ np.swapaxes(STACK, -1, -2) + 4 * np.eye(4)).astype(np.float32)
COMPLEX = (RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))).astype(np.complex64)
HERMITIAN = (COMPLEX @ COMPLEX.conj().T + 3 * np.eye(3)).astype(np.complex64)


def close(got, want, rtol=2e-4, atol=2e-5):
    got_leaves, want_leaves = jax.tree.leaves(got), jax.tree.leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


# name -> (function of kiln.numpy or jax.numpy, arguments): values that do not depend on the
# signs LAPACK picks for eigenvectors and singular vectors
CASES = {
    "det": (lambda m, a: m.linalg.det(a), (A,)),
    "det_2x2": (lambda m, a: m.linalg.det(a), (A2,)),
    "det_3x3": (lambda m, a: m.linalg.det(a), (A3,)),
    "det_stack": (lambda m, a: m.linalg.det(a), (STACK,)),
    "slogdet": (lambda m, a: tuple(m.linalg.slogdet(a)), (A,)),
    "slogdet_complex": (lambda m, a: tuple(m.linalg.slogdet(a)), (COMPLEX,)),
    "inv": (lambda m, a: m.linalg.inv(a), (A,)),
    "inv_stack": (lambda m, a: m.linalg.inv(a), (STACK,)),
    "solve_matrix": (lambda m, a, b: m.linalg.solve(a, b), (A, B)),
    "solve_vector": (lambda m, a, b: m.linalg.solve(a, b), (A, V)),
    "solve_complex": (lambda m, a, b: m.linalg.solve(a, b), (COMPLEX, COMPLEX[:, :2])),
    "cholesky": (lambda m, a: m.linalg.cholesky(a), (SPD,)),
    "cholesky_upper": (lambda m, a: m.linalg.cholesky(a, upper=True), (STACK_SPD,)),
    "cholesky_complex": (lambda m, a: m.linalg.cholesky(a), (HERMITIAN,)),
    "cholesky_not_pd": (lambda m, a: m.linalg.cholesky(a), (-SPD,)),
    "eigvalsh": (lambda m, a: m.linalg.eigvalsh(a), (STACK_SPD,)),
    "eigh_reconstruct": (lambda m, a: (lambda w, v: (v * w[..., None, :]) @ m.swapaxes(v, -1, -2))(*m.linalg.eigh(a)),
                         (SPD,)),
    "eigh_complex_values": (lambda m, a: m.linalg.eigh(a)[0], (HERMITIAN,)),
    "svdvals": (lambda m, a: m.linalg.svd(a, compute_uv=False), (TALL,)),
    "svd_reconstruct": (lambda m, a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(*m.linalg.svd(a, full_matrices=False)),
                        (WIDE,)),
    "svd_full_shapes": (lambda m, a: tuple(x.shape for x in m.linalg.svd(a)) and m.abs(m.linalg.svd(a)[0][:, :3]).sum(),
                        (TALL,)),
    "pinv": (lambda m, a: m.linalg.pinv(a), (TALL,)),
    "lstsq": (lambda m, a, b: m.linalg.lstsq(a, b)[:2], (TALL, TALL[:, :2] + 1)),
    "matrix_rank": (lambda m, a: m.linalg.matrix_rank(a), (np.outer(V, V),)),
    "matrix_power": (lambda m, a: m.linalg.matrix_power(a, 3), (A,)),
    "matrix_power_inverse": (lambda m, a: m.linalg.matrix_power(a, -2), (A,)),
    "cond": (lambda m, a: m.linalg.cond(a), (A,)),
    "cond_1": (lambda m, a: m.linalg.cond(a, 1), (A,)),
    "norm_vector": (lambda m, a: m.linalg.norm(a), (V,)),
    "norm_fro": (lambda m, a: m.linalg.norm(a), (A,)),
    "norm_axis": (lambda m, a: m.linalg.norm(a, axis=1, keepdims=True), (A,)),
    "norm_orders": (lambda m, a: [m.linalg.norm(a, o) for o in (1, 2, -1, -2, np.inf, -np.inf, "nuc", "fro")], (A,)),
    "norm_vector_orders": (lambda m, a: [m.linalg.norm(a, o) for o in (0, 1, 2, 3, 0.5, np.inf, -np.inf)], (V,)),
    "vector_norm": (lambda m, a: m.linalg.vector_norm(a, axis=(0, 1), ord=3), (STACK,)),
    "matrix_norm": (lambda m, a: m.linalg.matrix_norm(a, ord=np.inf), (STACK,)),
    "trace": (lambda m, a: m.linalg.trace(a, offset=1), (STACK,)),
    "cross": (lambda m, a: m.linalg.cross(a[:, :3], a[:, 1:]), (A,)),
    "multi_dot": (lambda m, a, b: m.linalg.multi_dot([a, a, b]), (A, B)),
    "lu": (lambda m, a: jax_or_kiln_lax(m).lu(a), (TALL,)),
    "lu_wide": (lambda m, a: jax_or_kiln_lax(m).lu(a), (WIDE,)),
    "triangular_solve": (lambda m, a, b: [jax_or_kiln_lax(m).triangular_solve(a, b, left_side=True, lower=lower,
                                                                              transpose_a=t)
                                          for lower in (True, False) for t in (True, False)], (A, B)),
    "triangular_solve_right": (lambda m, a, b: jax_or_kiln_lax(m).triangular_solve(a, b.T, lower=True, unit_diagonal=True),
                               (A, B)),
    "triangular_solve_conj": (lambda m, a: jax_or_kiln_lax(m).triangular_solve(a, a, left_side=True, transpose_a=True,
                                                                                conjugate_a=True), (COMPLEX,)),
}


def jax_or_kiln_lax(m):
    return jlinalg if m is jnp else klinalg


@pytest.mark.parametrize("name", list(CASES))
def test_values(name):
    fn, args = CASES[name]
    want = fn(jnp, *args)
    close(fn(knp, *args), want)
    close(kiln.jit(lambda *a: fn(knp, *a))(*args), want)


@pytest.mark.parametrize("name", ["det", "inv", "solve_matrix", "cholesky", "eigvalsh", "svdvals", "lu", "norm_fro"])
def test_vmap(name):
    fn, args = CASES[name]
    stacked = [np.stack([a, a * 2 + (np.eye(*a.shape, dtype=a.dtype) if a.ndim == 2 else 0)]) for a in args]
    close(kiln.vmap(lambda *a: fn(knp, *a))(*stacked), jax.vmap(lambda *a: fn(jnp, *a))(*stacked))
    # one argument batched, the other not
    if len(args) == 2:
        close(kiln.vmap(lambda a, b: fn(knp, a, b), in_axes=(None, 0))(args[0], stacked[1]),
              jax.vmap(lambda a, b: fn(jnp, a, b), in_axes=(None, 0))(args[0], stacked[1]))


# scalar functions of a matrix, to differentiate
LOSSES = {
    "det": (lambda m, a: m.linalg.det(a), A),
    "det_3x3": (lambda m, a: m.linalg.det(a), A3),
    "logdet": (lambda m, a: m.linalg.slogdet(a)[1], A),
    "inv": (lambda m, a: m.sum(m.sin(m.linalg.inv(a))), A),
    "solve": (lambda m, a: m.sum(m.linalg.solve(a, m.cos(a[:, :2])) ** 2), A),
    "cholesky": (lambda m, a: m.sum(m.linalg.cholesky(a) * m.arange(16.0).reshape(4, 4)), SPD),
    "eigvalsh": (lambda m, a: m.sum(m.linalg.eigvalsh(a) * m.arange(1.0, 5.0)), SPD),
    "eigh_vectors": (lambda m, a: m.sum((lambda w, v: v[:, -1] * v[0, -1])(*m.linalg.eigh(a)) ** 2 * m.arange(4.0)), SPD),
    "svdvals": (lambda m, a: m.sum(m.linalg.svd(a, compute_uv=False) ** 1.5), TALL),
    "svd_vectors": (lambda m, a: m.sum((lambda u, s, vh: (u[:, 0] * vh[0, 0]) * m.arange(5.0))(
        *m.linalg.svd(a, full_matrices=False))), TALL),
    "svd_vectors_wide": (lambda m, a: m.sum((lambda u, s, vh: vh[0] * u[0, 0] * m.arange(4.0))(
        *m.linalg.svd(a, full_matrices=False))), WIDE),
    "norm": (lambda m, a: m.linalg.norm(a, 2), A),
    "pinv": (lambda m, a: m.sum(m.linalg.pinv(a) ** 2), TALL),
    "lu": (lambda m, a: m.sum(jax_or_kiln_lax(m).lu(a)[0] * m.arange(15.0).reshape(5, 3)), TALL),
    "lu_wide": (lambda m, a: m.sum(jax_or_kiln_lax(m).lu(a)[0] * m.arange(8.0).reshape(2, 4)), WIDE),
    "triangular_solve": (lambda m, a: m.sum(jax_or_kiln_lax(m).triangular_solve(a, m.sin(a), left_side=True, lower=True,
                                                                                 transpose_a=True) ** 2), A + 4 * np.eye(4)),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_derivatives(x64, name):
    """grad and jvp in float64 against JAX's (the rules are JAX's formulas)."""
    fn, a = LOSSES[name]
    a = a.astype(np.float64)
    want = jax.grad(lambda x: fn(jnp, x))(a)
    close(kiln.grad(lambda x: fn(knp, x))(a), want, rtol=1e-9, atol=1e-10)
    close(kiln.jit(kiln.grad(lambda x: fn(knp, x)))(a), want, rtol=1e-9, atol=1e-10)
    t = np.cos(np.arange(a.size)).reshape(a.shape)
    close(kiln.jvp(lambda x: fn(knp, x), (a,), (t,)), jax.jvp(lambda x: fn(jnp, x), (a,), (t,)), rtol=1e-9, atol=1e-10)


def test_grad_matches_finite_differences(x64):
    """An independent check of the cholesky and eigh rules."""
    f = lambda a: knp.sum(knp.linalg.cholesky(a) ** 3) + knp.linalg.eigvalsh(a)[-1]
    a = SPD.astype(np.float64)
    g = np.asarray(kiln.grad(f)(a))
    eps = 1e-6
    for i, j in [(0, 0), (1, 2), (3, 1)]:
        d = np.zeros_like(a)
        d[i, j] = eps
        fd = (float(f(a + d)) - float(f(a - d))) / (2 * eps)
        np.testing.assert_allclose(g[i, j], fd, rtol=1e-5, atol=1e-7)


def test_errors():
    with pytest.raises(ValueError, match="square"):
        knp.linalg.inv(TALL)
    with pytest.raises(ValueError, match="ndim >= 2"):
        knp.linalg.det(V)
    with pytest.raises(TypeError, match="float16"):
        klinalg.cholesky(SPD.astype(np.float16))
    with pytest.raises(NotImplementedError, match="full_matrices"):
        kiln.grad(lambda a: knp.sum(knp.linalg.svd(a)[0]))(TALL)
    with pytest.raises(ValueError, match="Invalid order"):
        knp.linalg.norm(V, "fro")


SCIPY_CASES = {
    "cholesky": (lambda s, a: s.cholesky(a), (SPD,)),
    "cholesky_lower": (lambda s, a: s.cholesky(a, lower=True), (HERMITIAN,)),
    "cho_solve": (lambda s, a, b: s.cho_solve(s.cho_factor(a), b), (SPD, B)),
    "cho_solve_lower_vector": (lambda s, a, b: s.cho_solve(s.cho_factor(a, lower=True), b), (SPD, V)),
    "solve_triangular": (lambda s, a, b: [s.solve_triangular(a, b, trans=t, lower=lo) for t in (0, "T", 2)
                                          for lo in (True, False)], (A, B)),
    "solve_triangular_vector": (lambda s, a, b: s.solve_triangular(a, b, unit_diagonal=True), (A, V)),
    "lu": (lambda s, a: s.lu(a), (TALL,)),
    "lu_wide_permute_l": (lambda s, a: s.lu(a, permute_l=True), (WIDE,)),
    "lu_factor": (lambda s, a: s.lu_factor(a), (A,)),
    "lu_solve": (lambda s, a, b: [s.lu_solve(s.lu_factor(a), b, trans=t) for t in (0, 1, 2)], (A, B)),
    "lu_solve_vector": (lambda s, a, b: s.lu_solve(s.lu_factor(a), b), (A, V)),
    "lu_solve_complex": (lambda s, a: [s.lu_solve(s.lu_factor(a), a[:, :1], trans=t) for t in (0, 1, 2)], (COMPLEX,)),
    "solve_pos": (lambda s, a, b: s.solve(a, b, assume_a="pos"), (SPD, B)),
    "solve": (lambda s, a, b: s.solve(a, b), (A, B)),
    "eigh_values": (lambda s, a: s.eigh(a, eigvals_only=True), (SPD,)),
    "qr_r": (lambda s, a: s.qr(a, mode="r"), (TALL,)),
    "det_inv": (lambda s, a: (s.det(a), s.inv(a)), (A,)),
}


@pytest.mark.parametrize("name", list(SCIPY_CASES))
def test_scipy_linalg(name):
    import jax.scipy.linalg as jsl
    import kiln.scipy.linalg as ksl
    fn, args = SCIPY_CASES[name]
    want = fn(jsl, *args)
    close(fn(ksl, *args), want)
    close(kiln.jit(lambda *a: fn(ksl, *a))(*args), want)


def test_inside_loops():
    """LAPACK calls inside compiled loops (the LLVM backend calls back per iteration)."""
    def f(a):
        def body(i, carry):
            return carry + knp.linalg.solve(a + i * knp.eye(4), carry)
        return kiln.lax.fori_loop(0, 3, body, knp.ones((4, 2)))

    def g(a):
        def body(i, carry):
            return carry + jnp.linalg.solve(a + i * jnp.eye(4), carry)
        return jax.lax.fori_loop(0, 3, body, jnp.ones((4, 2)))
    close(kiln.jit(f)(A), g(A), rtol=1e-3)
    close(kiln.lax.scan(lambda c, x: (c + knp.linalg.det(x), c), 0.0, STACK),
          jax.lax.scan(lambda c, x: (c + jnp.linalg.det(x), c), 0.0, STACK))


def test_error_in_a_library_call_reaches_the_caller(monkeypatch):
    """An exception in a factorization the LLVM backend's code calls back for is raised by the
    call, not lost."""
    from kiln.primitives import impl_rules

    def broken(*args, **params):
        raise RuntimeError("LAPACK exploded")
    monkeypatch.setitem(impl_rules, klinalg.cholesky_p, broken)
    f = kiln.jit(lambda a: knp.linalg.cholesky(a) * 2, backend="llvm")
    with pytest.raises(RuntimeError, match="LAPACK exploded"):
        f(SPD + 1)
    monkeypatch.undo()
    close(f(SPD + 1), jnp.linalg.cholesky(SPD + 1) * 2)


def test_dynamic_batch_sizes():
    """A factorization over a dynamic batch axis: one compiled program serves every size."""
    import warnings
    f = kiln.jit(lambda x: knp.linalg.det(x) + knp.linalg.eigvalsh(x @ knp.swapaxes(x, -1, -2))[..., 0],
                 dynamic_dims={"x": 0})
    g = jax.jit(lambda x: jnp.linalg.det(x) + jnp.linalg.eigvalsh(x @ jnp.swapaxes(x, -1, -2))[..., 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in (2, 3, 5):
            x = np.random.default_rng(n).normal(size=(n, 4, 4)).astype(np.float32)
            close(f(x), g(x))


SMALL = (A / 4).astype(np.float32)
EXPM_CASES = {
    "small": SMALL * 0.01,   # degree 3
    "medium": SMALL,         # a middle degree
    "large": A * 3,          # scaled and squared
    "stack": STACK / 3,
    "complex": COMPLEX / 2,
    "upper": np.triu(A) / 2,
}


@pytest.mark.parametrize("name", list(EXPM_CASES))
def test_expm(name):
    import jax.scipy.linalg as jsl
    import kiln.scipy.linalg as ksl
    a = EXPM_CASES[name]
    kwargs = {"upper_triangular": True} if name == "upper" else {}
    want = jsl.expm(a, **kwargs)
    close(ksl.expm(a, **kwargs), want, rtol=2e-5, atol=1e-5)
    close(kiln.jit(lambda m: ksl.expm(m, **kwargs))(a), want, rtol=2e-5, atol=1e-5)


def test_expm_float64_and_gradient(x64):
    import jax.scipy.linalg as jsl
    import kiln.scipy.linalg as ksl
    for a in (A.astype(np.float64) / 8, A.astype(np.float64) * 2):
        close(ksl.expm(a), jsl.expm(a), rtol=1e-12, atol=1e-12)
        close(kiln.grad(lambda m: knp.sum(ksl.expm(m) * m))(a), jax.grad(lambda m: jnp.sum(jsl.expm(m) * m))(a),
              rtol=1e-9, atol=1e-9)


def test_special_matrices():
    import jax.scipy.linalg as jsl
    import kiln.scipy.linalg as ksl
    c, r = np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 5.0, 6.0, 7.0], np.float32)
    for name, args in [("block_diag", (A2, np.float32(5), V[:3])), ("toeplitz", (c,)), ("toeplitz", (c, r)),
                       ("toeplitz", (c + 1j * c,)), ("hankel", (c,)), ("hankel", (c, r)), ("circulant", (c,)),
                       ("companion", (r,)), ("hilbert", (4,)), ("dft", (4,)), ("dft", (3, "sqrtn"))]:
        close(getattr(ksl, name)(*args), getattr(jsl, name)(*args), rtol=1e-6, atol=1e-6)
    for side in ("right", "left"):
        got, want = ksl.polar(A, side, method="svd"), jsl.polar(A, side, method="svd")
        close(got[0], want[0], rtol=1e-4, atol=1e-5)
        close(got[1], want[1], rtol=1e-4, atol=1e-5)
