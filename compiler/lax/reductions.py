"""Reductions, cumulative reductions, argmin/argmax, sorting and dot_general.

Reductions take a static tuple of `axes` and drop them (kiln.numpy handles keepdims).
`dot_general` follows XLA: `dimension_numbers = ((lhs_contract, rhs_contract),
(lhs_batch, rhs_batch))`; the result is batch dims, then lhs free dims, then rhs free dims.
"""
from __future__ import annotations

import numpy as np

from kiln.ir import ShapedArray
from kiln.primitives import aval_of, bind, impl_rules, jvp_rules, primitive, shape_rules, transpose_rules


def _check_axes(name, x, axes):
    if any(not 0 <= a < x.ndim for a in axes) or len(set(axes)) != len(axes):
        raise ValueError(f"kiln.lax.{name}: invalid axes {axes} for {x.str_short()}")


def _reduction(name, np_fn, *, bool_out=False):
    p = primitive(name)

    def shape_rule(x, *, axes):
        _check_axes(name, x, axes)
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return [ShapedArray(shape, np.dtype(np.bool_) if bool_out else x.dtype, x.weak_type and not bool_out)]

    def impl(x, *, axes):
        return [np.asarray(np_fn(x, axis=tuple(axes))).astype(np.bool_ if bool_out else x.dtype)]

    shape_rules[p] = shape_rule
    impl_rules[p] = impl
    return p


def _max(x, axis):
    return np.max(x, axis=axis, initial=lowest_value(x.dtype)) if x.size == 0 else np.max(x, axis=axis)


def _min(x, axis):
    return np.min(x, axis=axis, initial=highest_value(x.dtype)) if x.size == 0 else np.min(x, axis=axis)


# The identities of max and min. Complex values are ordered lexicographically (real part, then
# imaginary part), as by NumPy and JAX, so -inf+0j and inf+0j are their identities (JAX's).
def lowest_value(dtype):
    if dtype.kind in "fc":
        return np.asarray(-np.inf, dtype)[()]
    return False if dtype == np.bool_ else np.iinfo(dtype).min


def highest_value(dtype):
    if dtype.kind in "fc":
        return np.asarray(np.inf, dtype)[()]
    return True if dtype == np.bool_ else np.iinfo(dtype).max


def _wide_accumulator(np_fn):
    """float16/float32 sums and products accumulate in float64 and round once (NumPy's float32
    sum along a non-contiguous axis adds one row at a time, losing ~1e-6 relative over 10^4
    rows); the LLVM backend accumulates the same way."""
    def fn(x, axis):
        if x.dtype.kind == "f" and x.dtype.itemsize < 8:
            return np_fn(x, axis=axis, dtype=np.float64)
        return np_fn(x, axis=axis)
    return fn


reduce_sum_p = _reduction("reduce_sum", _wide_accumulator(np.sum))
reduce_prod_p = _reduction("reduce_prod", _wide_accumulator(np.prod))
reduce_max_p = _reduction("reduce_max", _max)
reduce_min_p = _reduction("reduce_min", _min)
reduce_and_p = _reduction("reduce_and", np.all, bool_out=True)
reduce_or_p = _reduction("reduce_or", np.any, bool_out=True)


def _kept_dims(ndim, axes):
    return tuple(d for d in range(ndim) if d not in axes)


def _expand_back(y, shape, axes):
    from kiln.lax.structural import broadcast_in_dim_p
    return bind(broadcast_in_dim_p, y, shape=tuple(shape), broadcast_dimensions=_kept_dims(len(shape), axes))


def _reduce_sum_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    return [bind(reduce_sum_p, x, axes=axes)], [bind(reduce_sum_p, t, axes=axes)]


def _reduce_sum_transpose(ct, x, *, axes):
    return [_expand_back(ct, x.aval.shape, axes)]


def _extremum_jvp(prim):
    # The tangent is the mean of the tangents at the positions that attain the extremum.
    def rule(primals, tangents, *, axes):
        from kiln.lax.elementwise import convert_element_type_p, div_p, eq_p, mul_p
        (x,), (t,) = primals, tangents
        y = bind(prim, x, axes=axes)
        shape = aval_of(x).shape
        hit = bind(convert_element_type_p, bind(eq_p, x, _expand_back(y, shape, axes)),
                   new_dtype=aval_of(x).dtype, weak_type=False)
        picked = bind(reduce_sum_p, bind(mul_p, t, hit), axes=axes)
        return [y], [bind(div_p, picked, bind(reduce_sum_p, hit, axes=axes))]
    return rule


jvp_rules[reduce_sum_p] = _reduce_sum_jvp
transpose_rules[reduce_sum_p] = _reduce_sum_transpose
jvp_rules[reduce_max_p] = _extremum_jvp(reduce_max_p)
jvp_rules[reduce_min_p] = _extremum_jvp(reduce_min_p)


# ---------------------------------------------------------------------------- argmax / argmin
def _arg_reduction(name, np_fn):
    p = primitive(name)

    def shape_rule(x, *, axis, index_dtype):
        _check_axes(name, x, (axis,))
        if x.shape[axis] == 0:
            raise ValueError(f"kiln.{name[3:]}: attempt to get {name} of an empty sequence")
        shape = tuple(d for i, d in enumerate(x.shape) if i != axis)
        return [ShapedArray(shape, np.dtype(index_dtype), False)]

    def impl(x, *, axis, index_dtype):
        return [np_fn(x, axis=axis).astype(index_dtype)]

    shape_rules[p] = shape_rule
    impl_rules[p] = impl
    return p


argmax_p = _arg_reduction("argmax", np.argmax)
argmin_p = _arg_reduction("argmin", np.argmin)


def _integer_result_jvp(prim):
    def rule(primals, tangents, **params):
        return [bind(prim, *primals, **params)], [None]
    return rule


jvp_rules[argmax_p] = _integer_result_jvp(argmax_p)
jvp_rules[argmin_p] = _integer_result_jvp(argmin_p)


# ---------------------------------------------------------------------------- cumulative
def _cumulative(name, np_fn):
    p = primitive(name)

    def shape_rule(x, *, axis, reverse=False):
        _check_axes(name, x, (axis,))
        return [x]

    def impl(x, *, axis, reverse=False):
        if reverse:
            return [np.flip(np_fn(np.flip(x, axis), axis=axis), axis).astype(x.dtype)]
        return [np_fn(x, axis=axis).astype(x.dtype)]

    shape_rules[p] = shape_rule
    impl_rules[p] = impl
    return p


cumsum_p = _cumulative("cumsum", np.cumsum)
cumprod_p = _cumulative("cumprod", np.cumprod)
cummax_p = _cumulative("cummax", lambda x, axis: np.maximum.accumulate(x, axis=axis))
cummin_p = _cumulative("cummin", lambda x, axis: np.minimum.accumulate(x, axis=axis))


def _cumsum_jvp(primals, tangents, *, axis, reverse=False):
    (x,), (t,) = primals, tangents
    return [bind(cumsum_p, x, axis=axis, reverse=reverse)], [bind(cumsum_p, t, axis=axis, reverse=reverse)]


jvp_rules[cumsum_p] = _cumsum_jvp
transpose_rules[cumsum_p] = lambda ct, x, *, axis, reverse=False: [bind(cumsum_p, ct, axis=axis, reverse=not reverse)]


# reduce_prod, cumprod, cummax and cummin are differentiated as JAX does: through a
# pairwise combination written with differentiable primitives, carrying (primal, tangent)
# pairs through the combining primitive's own jvp rule. That is exact where factors are
# zero (unlike t * prod / x) and gives higher derivatives for free.
def _combine_jvp(prim, a, ta, b, tb):
    (out,), (t,) = jvp_rules[prim]([a, b], [ta, tb])
    return out, t


def _shift(x, k, axis, fill):
    """x moved k places forward along `axis`, the first k places `fill`."""
    from kiln.lax.structural import pad_p
    config = tuple((k, -k, 0) if d == axis else (0, 0, 0) for d in range(len(aval_of(x).shape)))
    return bind(pad_p, x, np.asarray(fill, aval_of(x).dtype), padding_config=config)


def _prefix_scan_jvp(prim, combine, identity):
    def rule(primals, tangents, *, axis, reverse=False):
        from kiln.lax.structural import rev_p
        from kiln.passes.jvp import instantiate
        (x,), (t,) = primals, tangents
        out = bind(prim, x, axis=axis, reverse=reverse)
        if t is None:
            return [out], [None]
        t = instantiate(t, aval_of(x))
        if reverse:
            x, t = bind(rev_p, x, dimensions=(axis,)), bind(rev_p, t, dimensions=(axis,))
        n, k = aval_of(x).shape[axis], 1
        while k < n:  # Hillis-Steele: after the step for k, position i combines i-2k+1..i
            x, t = _combine_jvp(combine, _shift(x, k, axis, identity(aval_of(x).dtype)), _shift(t, k, axis, 0),
                                x, t)
            k *= 2
        if reverse:
            t = bind(rev_p, t, dimensions=(axis,))
        return [out], [t]
    return rule


def _reduce_prod_jvp(primals, tangents, *, axes):
    from kiln.lax.elementwise import mul_p
    from kiln.lax.structural import pad_p, reshape_p, slice_p, transpose_p
    from kiln.passes.jvp import instantiate
    (x,), (t,) = primals, tangents
    out = bind(reduce_prod_p, x, axes=axes)
    if t is None:
        return [out], [None]
    shape = aval_of(x).shape
    kept = _kept_dims(len(shape), axes)
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    flat = (n,) + tuple(shape[d] for d in kept)
    x, t = [bind(reshape_p, bind(transpose_p, v, permutation=tuple(axes) + kept), new_sizes=flat)
            for v in (x, instantiate(t, aval_of(x)))]
    if n == 0:
        return [out], [None]
    while n > 1:  # multiply halves pairwise: log2(n) levels of mul
        if n % 2:
            config = ((0, 1, 0),) + ((0, 0, 0),) * len(kept)
            x = bind(pad_p, x, np.ones((), aval_of(x).dtype), padding_config=config)
            t = bind(pad_p, t, np.zeros((), aval_of(t).dtype), padding_config=config)
            n += 1
        h = n // 2
        lo = dict(start_indices=(0,) * len(flat), limit_indices=(h,) + flat[1:], strides=(1,) * len(flat))
        hi = dict(start_indices=(h,) + (0,) * len(kept), limit_indices=(n,) + flat[1:], strides=(1,) * len(flat))
        x, t = _combine_jvp(mul_p, bind(slice_p, x, **lo), bind(slice_p, t, **lo),
                            bind(slice_p, x, **hi), bind(slice_p, t, **hi))
        n = h
    return [out], [bind(reshape_p, t, new_sizes=flat[1:])]


def _register_scan_jvps():
    from kiln.lax.elementwise import max_p, min_p, mul_p
    jvp_rules[cumprod_p] = _prefix_scan_jvp(cumprod_p, mul_p, lambda dtype: 1)
    jvp_rules[cummax_p] = _prefix_scan_jvp(cummax_p, max_p, lowest_value)
    jvp_rules[cummin_p] = _prefix_scan_jvp(cummin_p, min_p, highest_value)


jvp_rules[reduce_prod_p] = _reduce_prod_jvp
_register_scan_jvps()


# ---------------------------------------------------------------------------- sort
sort_p = primitive("sort", multiple_results=True)


def _sort_shape(*operands, dimension, is_stable, num_keys):
    shape = operands[0].shape
    if any(o.shape != shape for o in operands):
        raise TypeError("kiln.lax.sort: all operands must have one shape")
    _check_axes("sort", operands[0], (dimension,))
    return list(operands)


def _sort_impl(*operands, dimension, is_stable, num_keys):
    keys = [np.moveaxis(o, dimension, -1) for o in operands[:num_keys]]
    # NaNs sort to the end, as in NumPy and XLA; lexsort's last key is the primary one.
    order = np.lexsort(keys[::-1], axis=-1) if num_keys > 1 else np.argsort(keys[0], axis=-1, kind="stable")
    return [np.moveaxis(np.take_along_axis(np.moveaxis(o, dimension, -1), order, axis=-1), -1, dimension)
            for o in operands]


shape_rules[sort_p] = _sort_shape
impl_rules[sort_p] = _sort_impl


def _sort_jvp(primals, tangents, *, dimension, is_stable, num_keys):
    # Sort an iota alongside to learn the permutation, then permute the tangents with it.
    from kiln.lax.structural import iota_p
    shape = aval_of(primals[0]).shape
    index = bind(iota_p, dtype=np.dtype(np.int32), shape=shape, dimension=dimension)
    *outs, perm = bind(sort_p, *primals, index, dimension=dimension, is_stable=is_stable, num_keys=num_keys)
    import kiln.numpy as knp
    touts = [None if t is None else knp.take_along_axis(t, perm, axis=dimension) for t in tangents]
    return outs, touts


jvp_rules[sort_p] = _sort_jvp


# ---------------------------------------------------------------------------- dot_general
dot_general_p = primitive("dot_general")


def _dot_general_shape(x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    if x.dtype != y.dtype:
        raise TypeError(f"kiln.lax.dot_general needs operands of one dtype, got "
                        f"{x.str_short()} and {y.str_short()}")
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise TypeError("kiln.lax.dot_general: contracting and batch dimensions must pair up")
    for a, b in list(zip(lc, rc)) + list(zip(lb, rb)):
        if x.shape[a] != y.shape[b]:
            raise TypeError(f"kiln.lax.dot_general: dimension {a} of {x.str_short()} does not match "
                            f"dimension {b} of {y.str_short()}")
    batch = [x.shape[i] for i in lb]
    x_free = [d for i, d in enumerate(x.shape) if i not in lc and i not in lb]
    y_free = [d for i, d in enumerate(y.shape) if i not in rc and i not in rb]
    dtype = x.dtype if preferred_element_type is None else np.dtype(preferred_element_type)
    return [ShapedArray(tuple(batch + x_free + y_free), dtype, x.weak_type and y.weak_type)]


def _dot_general_impl(x, y, *, dimension_numbers, preferred_element_type=None):
    (lc, rc), (lb, rb) = dimension_numbers
    x_free = [i for i in range(x.ndim) if i not in lc and i not in lb]
    y_free = [i for i in range(y.ndim) if i not in rc and i not in rb]
    # Bring both to (batch, free, contract) and use matmul, which calls BLAS.
    xt = np.transpose(x, list(lb) + x_free + list(lc))
    yt = np.transpose(y, list(rb) + list(rc) + y_free)
    nb = len(lb)
    batch = xt.shape[:nb]
    m = int(np.prod(xt.shape[nb:nb + len(x_free)], dtype=np.int64))
    k = int(np.prod(xt.shape[nb + len(x_free):], dtype=np.int64))
    n = int(np.prod(yt.shape[nb + len(rc):], dtype=np.int64))
    if k == 1:  # an outer product per batch element: broadcasting beats a 1-deep matmul
        out = xt.reshape(batch + (m, 1)) * yt.reshape(batch + (1, n))
    else:
        out = np.matmul(xt.reshape(batch + (m, k)), yt.reshape(batch + (k, n)))
    shape = batch + xt.shape[nb:nb + len(x_free)] + yt.shape[nb + len(rc):]
    dtype = x.dtype if preferred_element_type is None else preferred_element_type
    return [out.reshape(shape).astype(dtype, copy=False)]


shape_rules[dot_general_p] = _dot_general_shape
impl_rules[dot_general_p] = _dot_general_impl


def _dot_general_jvp(primals, tangents, *, dimension_numbers, preferred_element_type=None):
    x, y = primals
    tx, ty = tangents
    params = dict(dimension_numbers=dimension_numbers, preferred_element_type=preferred_element_type)
    out = bind(dot_general_p, x, y, **params)
    terms = [bind(dot_general_p, tx, y, **params) if tx is not None else None,
             bind(dot_general_p, x, ty, **params) if ty is not None else None]
    terms = [t for t in terms if t is not None]
    from kiln.lax.elementwise import add_p
    return [out], [terms[0] if len(terms) == 1 else bind(add_p, *terms)]


def _transpose_operand(ct, other, ct_batch, ct_free_other, other_batch, other_free, result_axes, ndim):
    """ct contracted with `other` over `other`'s free dims, laid out as the linear operand."""
    from kiln.lax.structural import transpose_p
    dn = ((tuple(ct_free_other), tuple(other_free)), (tuple(ct_batch), tuple(other_batch)))
    dtype = aval_of(ct).dtype
    out = bind(dot_general_p, ct, other, dimension_numbers=dn, preferred_element_type=dtype)
    perm = tuple(int(i) for i in np.argsort(result_axes))
    return out if perm == tuple(range(ndim)) else bind(transpose_p, out, permutation=perm)


def _dot_general_transpose(ct, x, y, *, dimension_numbers, preferred_element_type=None):
    from kiln.passes.transpose import is_linear
    (lc, rc), (lb, rb) = dimension_numbers
    x_aval = x.aval if is_linear(x) else aval_of(x)
    y_aval = y.aval if is_linear(y) else aval_of(y)
    x_free = [i for i in range(x_aval.ndim) if i not in lc and i not in lb]
    y_free = [i for i in range(y_aval.ndim) if i not in rc and i not in rb]
    nb = len(lb)
    ct_b = list(range(nb))
    ct_xf = list(range(nb, nb + len(x_free)))
    ct_yf = list(range(nb + len(x_free), nb + len(x_free) + len(y_free)))
    ct_x = ct_y = None
    if is_linear(x) and is_linear(y):
        raise NotImplementedError("kiln: transpose of dot_general of two linear values (not linear)")
    if is_linear(x):
        # Result axes: batch, x's free dims, then y's contracting dims in y's order (-> lc).
        order = np.argsort(rc)
        result_axes = list(lb) + x_free + [lc[k] for k in order]
        ct_x = _transpose_operand(ct, y, ct_b, ct_yf, rb, y_free, result_axes, x_aval.ndim)
    if is_linear(y):
        order = np.argsort(lc)
        result_axes = list(rb) + y_free + [rc[k] for k in order]
        ct_y = _transpose_operand(ct, x, ct_b, ct_xf, lb, x_free, result_axes, y_aval.ndim)
    return [ct_x, ct_y]


jvp_rules[dot_general_p] = _dot_general_jvp
transpose_rules[dot_general_p] = _dot_general_transpose


# ---------------------------------------------------------------------------- batching
def _batch_axes(prim, shift):
    def rule(args, dims, **params):
        from kiln.passes.vmap import all_batched_rule
        return all_batched_rule(prim, shift)(args, dims, **params)
    vmap_rules[prim] = rule


def _dot_general_batch(args, dims, *, dimension_numbers, preferred_element_type=None):
    from kiln.passes.vmap import move_to_front
    (x, y), (dx, dy) = args, dims
    (lc, rc), (lb, rb) = dimension_numbers
    x, y = move_to_front(x, dx), move_to_front(y, dy)
    shift_x = 1 if dx is not None else 0
    shift_y = 1 if dy is not None else 0
    lc, lb = tuple(a + shift_x for a in lc), tuple(a + shift_x for a in lb)
    rc, rb = tuple(a + shift_y for a in rc), tuple(a + shift_y for a in rb)
    if dx is not None and dy is not None:  # a new batch dimension, first in the result
        dn = ((lc, rc), ((0,) + lb, (0,) + rb))
        out_dim = 0
    elif dx is not None:  # x's new axis is its first free axis: after the batch dims
        dn = ((lc, rc), (lb, rb))
        out_dim = len(lb)
    else:
        dn = ((lc, rc), (lb, rb))
        x_free = aval_of(x).ndim - len(lc) - len(lb)
        out_dim = len(lb) + x_free
    return [bind(dot_general_p, x, y, dimension_numbers=dn,
                 preferred_element_type=preferred_element_type)], [out_dim]


from kiln.primitives import vmap_rules  # noqa: E402

for _p in (reduce_sum_p, reduce_prod_p, reduce_max_p, reduce_min_p, reduce_and_p, reduce_or_p):
    _batch_axes(_p, lambda axes: dict(axes=tuple(a + 1 for a in axes)))
for _p in (argmax_p, argmin_p):
    _batch_axes(_p, lambda axis, index_dtype: dict(axis=axis + 1, index_dtype=index_dtype))
for _p in (cumsum_p, cumprod_p, cummax_p, cummin_p):
    _batch_axes(_p, lambda axis, reverse=False: dict(axis=axis + 1, reverse=reverse))
_batch_axes(sort_p, lambda dimension, is_stable, num_keys: dict(
    dimension=dimension + 1, is_stable=is_stable, num_keys=num_keys))
vmap_rules[dot_general_p] = _dot_general_batch


from kiln.primitives import public_names as _public_names  # noqa: E402

__all__ = _public_names(globals())
