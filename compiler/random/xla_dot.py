"""multivariate_normal's factor @ z as JAX's XLA:CPU computes it, built from kiln.lax operations.

JAX forms `einsum('...ij,...j->...i', factor, z)`: a dot of z, (rows, n), with the (n, n)
factor, contracting both last axes. Which code XLA runs for it, and so the order and the fusion
of its sums, depends on rows, n and the dtype (jaxlib 0.10.2 on x86 with AVX2 and FMA3):

- YNNPACK, for no dimension of 1 and one of 8 or more (`ynnpack.offloads_dot`): float32 as
  `ynnpack.matvec`; float64 fused in order, except with n <= 4 and 9 to 12, 17 or 18 rows,
  where its kernel multiplies and adds separately.
- Otherwise XLA's own dot thunk (Eigen), whose float64 products and sums are not fused:
  - n <= 3: fused in order (XLA's small-dot code);
  - one row (a matrix-vector product over k): per output, lanes (8 float32, 4 float64) each
    fuse the products k = lane, lane + L, ... in order; the lanes are reduced pairwise, either
    neighbours first, ((0+1)+(2+3))+..., or halves first, (0+L/2)+...; the last n mod L products
    form one more fused chain added at the end. float32 outputs before the last whole multiple
    of 8 reduce neighbours first, the rest halves first; float64 outputs reduce halves first,
    except the last 4 when n mod 8 is 4;
  - 2 to 7 rows with 4 <= n <= 7: float32 sums the even and the odd products each in a chain
    and adds the two (then a last odd product), fused for the first 6 rows of 3 or more, not
    for 2 rows or a 7th; float64 sums in order without fusing, except rows in the whole blocks
    of 4 when n is odd, whose last output is ((0+1)+(2+3)) then the rest in order.

Found by revealing each output's summation tree (the FPRev method: products of +-2**30 and 1
show where two terms meet) and then which steps are fused, over rows 1 to 4099 and n 2 to 44,
until no candidate differed from JAX. Other CPUs take other kernels: as with `ynnpack`, kiln
is exact there only where `ynnpack.reproduces_host()`.

XLA decides by the dot's whole shape, so under vmap by the batch's rows: `factor_times` is
`ynnpack.by_whole_shape`.
"""
from __future__ import annotations

import math

import numpy as np

import kiln.numpy as jnp
from kiln.primitives import aval_of
from kiln.random import ynnpack

# YNNPACK's float64 dot kernel for n <= 4 multiplies and adds separately at these row counts.
_YNN_F64_UNFUSED_ROWS = frozenset({9, 10, 11, 12, 17, 18})


def _fma(a, b, c):
    from kiln.random.core import _fma
    return _fma(a, b, c, np.dtype(aval_of(c).dtype))


def _term(factor, z, k):
    """z[..., k] * factor[i, k] for each output i: (..., outputs)."""
    return z[..., None, k] * factor[:, k]


def _chain(factor, z, ks, fused, total=None):
    """The products k in `ks` summed in order onto `total` (the first product when None)."""
    for k in ks:
        if total is None:
            total = _term(factor, z, k)
        elif fused:
            total = _fma(z[..., None, k], factor[:, k], total)
        else:
            total = total + _term(factor, z, k)
    return total


def _lanes(factor, z, lanes, neighbours_first):
    """Lane l fuses the products l, l + lanes, ... in order; the lanes reduced pairwise; the
    products past the last whole multiple of `lanes` one more fused chain, added last."""
    n = aval_of(z).shape[-1]
    whole = n - n % lanes
    acc = [_chain(factor, z, range(lane, whole, lanes), True) for lane in range(lanes)]
    while len(acc) > 1:
        half = len(acc) // 2
        acc = ([acc[2 * j] + acc[2 * j + 1] for j in range(half)] if neighbours_first
               else [acc[j] + acc[j + half] for j in range(half)])
    if whole == n:
        return acc[0]
    return acc[0] + _chain(factor, z, range(whole, n), True)


def _even_odd(factor, z, fused):
    """The even and the odd products each in a chain, the two added, then a last odd product."""
    n = aval_of(z).shape[-1]
    pairs = n - n % 2
    total = _chain(factor, z, range(0, pairs, 2), fused) + _chain(factor, z, range(1, pairs, 2), fused)
    return _chain(factor, z, range(pairs, n), fused, total)


def _by_outputs(factor, z, split, first, rest):
    """first(...) for the outputs before `split`, rest(...) for the others."""
    n = aval_of(factor).shape[0]
    if split >= n:
        return first(factor, z)
    if split <= 0:
        return rest(factor, z)
    return jnp.concatenate([first(factor[:split], z), rest(factor[split:], z)], axis=-1)


def _by_rows(z, split, first, rest):
    """first(rows before `split`), rest(the others), for z of shape (rows, n)."""
    rows = aval_of(z).shape[0]
    if split >= rows:
        return first(z)
    if split <= 0:
        return rest(z)
    return jnp.concatenate([first(z[:split]), rest(z[split:])], axis=0)


def _xla_dot(factor, z):
    """factor @ z over the last axes, summed as XLA:CPU sums JAX's einsum (factor 2-d)."""
    dtype = np.dtype(aval_of(z).dtype)
    shape = aval_of(z).shape
    n = shape[-1]
    rows = math.prod(shape[:-1])
    f32 = dtype == np.float32
    if ynnpack.offloads_dot(rows, n):
        if f32:
            return ynnpack.matvec(factor, z)
        return _chain(factor, z, range(n), not (n <= 4 and rows in _YNN_F64_UNFUSED_ROWS))
    if n <= 3 or (f32 and rows == 1 and n < 8):
        return _chain(factor, z, range(n), True)
    if rows == 1:
        return _one_row(factor, z, f32)
    return _few_rows(factor, z.reshape((rows, n)), f32).reshape(shape)


def _one_row(factor, z, f32):
    """Eigen's matrix-vector product: lanes reduced neighbours first or halves first by output."""
    n = aval_of(z).shape[-1]
    lanes = 8 if f32 else 4
    neighbours = lambda f, v: _lanes(f, v, lanes, True)
    halves = lambda f, v: _lanes(f, v, lanes, False)
    if f32:
        return _by_outputs(factor, z, n - n % 8, neighbours, halves)
    return _by_outputs(factor, z, n - 4 if n % 8 == 4 else n, halves, neighbours)


def _few_rows(factor, z, f32):
    """2 to 7 rows of 4 to 7 terms (z of shape (rows, n))."""
    rows, n = aval_of(z).shape
    if f32:
        fused_rows = 6 if rows >= 3 else 0
        return _by_rows(z, fused_rows, lambda v: _even_odd(factor, v, True), lambda v: _even_odd(factor, v, False))
    in_order = lambda f, v: _chain(f, v, range(n), False)
    if n % 2 == 0 or rows < 4:
        return in_order(factor, z)

    def quad_first(f, v):
        quad = (_term(f, v, 0) + _term(f, v, 1)) + (_term(f, v, 2) + _term(f, v, 3))
        return _chain(f, v, range(4, n), False, quad)
    blocks = lambda v: _by_outputs(factor, v, n - 1, in_order, quad_first)
    return _by_rows(z, 4 * (rows // 4), blocks, lambda v: in_order(factor, v))


def _factor_times(factor, z):
    if len(aval_of(factor).shape) != 2:
        return jnp.einsum("...ij,...j->...i", factor, z)
    return _xla_dot(factor, z)


# factor @ z (z[..., j] times factor[i, j] summed over j) in XLA's order for z's rows
factor_times = ynnpack.by_whole_shape(_factor_times, shared=(0,))
