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
JAX. Uniform floats are exact. `normal` is exact in float32 (XLA's erf_inv algorithm is
reproduced), except where XLA's CPU log1p is not correctly rounded; samplers built on
log/log1p/erf (exponential, gumbel, laplace, logistic, truncated_normal) compute those
functions correctly rounded, where XLA's CPU approximations may differ in the last place.

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

Where JAX's XLA code fuses a multiply and an add into one fma, or rewrites an expression
(x / sqrt(y) -> x * rsqrt(y), constants folded), these samplers do the same, so that floors
and accept/reject decisions see JAX's values; XLA's CPU flushes subnormal results to zero,
and gamma does too. What remains are the last bits of XLA's log, log1p, pow, lgamma and
rsqrt (a hardware estimate plus one Newton step, not reproducible across CPUs).
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
