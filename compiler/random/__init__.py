"""kiln.random: JAX's explicit-key, counter-based PRNG, drawing the bits JAX draws.

Keys and their representation
-----------------------------
The generator is threefry2x32 (`kiln.lax.prng.threefry2x32_p`), in JAX 0.10.2's default
configuration (`jax_threefry_partitionable=True`): the bits for an array of shape S are
threefry2x32(key, (hi, lo)) of the 64-bit row-major index of each element, `split` encrypts the
index of each new key the same way, and `fold_in(key, d)` encrypts the counter pair (0, d).

- `key(seed)` makes a typed key array (`kiln.runtime.prng.PRNGKeyArray`, dtype `key<fry>`):
  a kiln.Array subclass whose buffer is the uint32 key data with a trailing axis of 2. It
  prints like JAX's keys, iterates and indexes as an array of keys, and is a pytree leaf.
- `PRNGKey(seed)` makes a raw key: a uint32 array of shape (2,).
- Every function accepts both. A typed key passed into a compiled function (kiln.jit, vmap,
  grad, ...) is staged as its uint32 data (shape S + (2,)), i.e. as a raw key, so results
  that are keys (`split`, `fold_in`) come out of a compiled function as raw uint32 key data;
  `wrap_key_data` makes them typed again. Eagerly, typed in gives typed out, as in JAX.

Floating-point values
---------------------
Integers (bits, randint, permutation, choice, categorical indices, keys) are bit-identical to
JAX. So are float32 uniform, normal, exponential, gumbel, laplace, logistic, gamma, loggamma,
beta, chisquare, t, generalized_normal, weibull_min, pareto, rayleigh, wald, triangular and
lognormal (JAX's default configuration on CPU, parameters passed as JAX's eager API passes
them): kiln's float32 log, log1p, exp, rsqrt and pow are XLA:CPU's own instruction sequences
(`kiln.lax.xla_math`; rsqrt uses this CPU's `rsqrtss` estimate, as XLA does), and where XLA
fuses a multiply into an add, or turns x / b into x * (1 / b) or (x * c) * s into x * (c * s)
for scalars b, s, these samplers do the same. Not yet identical (a few ulp): truncated_normal
(XLA's erf), cauchy (tan), maxwell and double_sided_maxwell (the reduction's fusions), f,
dirichlet and ball; and poisson's rejection sampler for lam >~ 1e3, whose acceptance test
hinges on the last bits of XLA's lgamma. float64 uses the C library's functions, which are
not XLA's either. XLA's CPU code flushes subnormals to zero; kiln does not (except gamma).

The modules
-----------
- `core`: keys, split, fold_in, bits, uniform, normal, integers, shuffles, choice, categorical,
  truncated_normal, exponential, gumbel, laplace, logistic, multivariate_normal.
- `gamma`: gamma (Marsaglia-Tsang per element, differentiable in a), loggamma, beta,
  dirichlet, chisquare, f, t, generalized_normal, ball.
- `discrete`: poisson, binomial, geometric (integers as JAX draws them; see its docstring
  for the one case where an array mixing small and large lam can differ).
- `derived`: closed-form transforms (cauchy, rademacher, maxwell, double_sided_maxwell,
  weibull_min, pareto, rayleigh, wald, triangular, lognormal) and orthogonal (QR through
  `kiln.lax.linalg.qr`).

JAX's values depend on XLA's compilation: a parameter given as a constant inside an outer
jax.jit is folded at compile time (its 1 / sqrt(d) exactly, not by rsqrt), so JAX itself can
draw other last bits there than eagerly; kiln follows the eager (traced parameter) form.
"""

from kiln.random.core import *  # noqa: F401,F403
from kiln.random.core import __all__ as _core_all
from kiln.random.gamma import *  # noqa: F401,F403
from kiln.random.gamma import __all__ as _gamma_all
from kiln.random.discrete import *  # noqa: F401,F403
from kiln.random.discrete import __all__ as _discrete_all
from kiln.random.derived import *  # noqa: F401,F403
from kiln.random.derived import __all__ as _derived_all

__all__ = [*_core_all, *_gamma_all, *_discrete_all, *_derived_all]
