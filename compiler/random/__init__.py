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
JAX. So are the floats of every sampler but cauchy, in float32 and in float64 (but float64
truncated_normal; JAX's default configuration on CPU, parameters passed as JAX's eager API
passes them), because kiln computes what XLA:CPU computes, operation for operation:

- float32 log, log1p, exp, rsqrt, pow, erf and lgamma are XLA:CPU's own instruction sequences
  (`kiln.lax.xla_math`; rsqrt uses this CPU's `rsqrtss` estimate, as XLA does); float64 exp,
  log1p and erf_inv are too (`kiln.random.xla_f64`, with an exact fused multiply-add); float64
  log, pow, sqrt and tan are the C library's in both.
- Where XLA fuses a multiply into an add, the samplers do the same; where its algebraic
  simplifier rewrites x / b as x * (1 / b), x / y**c as x * y**-c, (a / b) / (c / d) as
  (a * d) / (b * c), or (x * c) * s as x * (c * s), so do they; reductions (a norm, a
  softmax's sum) are summed in XLA's order: left to right up to 32 terms, longer rows in
  windows of 32 (XLA's tree-reduction rewrite).
- From 4096 elements on XLA:CPU hands reductions, with the elementwise operations around them,
  and dots (from 8 rows or columns) to YNNPACK, which computes them its own way; kiln does
  the same there (`kiln.random.ynnpack`: YNNPACK's exp, log, log1p, summation order and dot
  kernels for x86 with AVX2 and FMA3), in dirichlet, ball, maxwell, double_sided_maxwell
  and multivariate_normal. On other CPUs (AVX-512, ARM) YNNPACK runs other kernels, and
  kiln's values there are within a few ulp of JAX's (`kiln.random.ynnpack.reproduces_host`).
- multivariate_normal takes its factor from the LAPACK routine jaxlib calls (potrf, syevd,
  gesdd) and forms factor @ z as XLA's dot or YNNPACK's does for the dot's shape
  (`kiln.random.xla_dot`).
- XLA makes these choices by the whole array's shape, under vmap the batch's; so does kiln
  (`ynnpack.by_whole_shape`: custom_vmap functions whose batching rule is the function on the
  batch).

XLA's CPU code flushes subnormals to zero; kiln does not (except gamma and YNNPACK's exp).

The modules
-----------
- `core`: keys, split, fold_in, bits, uniform, normal, integers, shuffles, choice, categorical,
  truncated_normal, exponential, gumbel, laplace, logistic, multivariate_normal.
- `gamma`: gamma (Marsaglia-Tsang per element, differentiable in a), loggamma, beta,
  dirichlet, chisquare, f, t, generalized_normal, ball.
- `discrete`: poisson, binomial, geometric (integers as JAX draws them).
- `derived`: closed-form transforms (cauchy, rademacher, maxwell, double_sided_maxwell,
  weibull_min, pareto, rayleigh, wald, triangular, lognormal) and orthogonal (QR through
  `kiln.lax.linalg.qr`).
- `xla_f64`: XLA:CPU's float64 exp, log1p and erf_inv from kiln.lax operations.
- `ynnpack`: what XLA:CPU's YNNPACK fusions compute (exp, log, log1p, sums, dots), and when
  XLA makes them.
- `xla_dot`: multivariate_normal's factor @ z in the order of the code XLA picks for it.

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
