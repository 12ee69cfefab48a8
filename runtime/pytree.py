"""Pytrees: nested containers of leaves, flattened and rebuilt like ``jax.tree_util``.

Node types are tuple, list, dict (children in sorted-key order), ``None`` (a node
with no children), namedtuples (tuple subclasses with ``_fields``), OrderedDict,
defaultdict and classes registered with :func:`register_pytree_node`,
:func:`register_pytree_node_class` or :func:`register_dataclass`; everything else
is a leaf. A :class:`PyTreeDef` is immutable, hashable and compares by node
types, aux data and shape, since it is part of every jit cache key.

Flattening sits on the hot path of every compiled call, so a node is a plain
tuple ``(kind, type, aux, children, num_leaves)``: treedef ``==`` and ``hash``
are then C-level tuple operations, node kinds are found with one dict lookup on
``type(x)``, and nodes whose children are all leaves (``children is None``) are
flattened, rebuilt and matched with one ``extend`` or slice, not a Python loop.
"""
import collections
import dataclasses
import difflib
import functools
import operator

__all__ = [
    "PyTreeDef", "tree_flatten", "tree_unflatten", "tree_leaves", "tree_structure",
    "tree_map", "tree_reduce", "tree_all", "tree_transpose", "register_pytree_node",
    "register_pytree_node_class", "register_dataclass", "treedef_is_leaf", "all_leaves",
    "register_pytree_with_keys", "register_pytree_with_keys_class", "register_static",
    "SequenceKey", "DictKey", "GetAttrKey", "FlattenedIndexKey", "tree_flatten_with_path",
    "tree_leaves_with_path", "tree_map_with_path", "keystr", "treedef_children", "treedef_tuple",
    "flatten_one_level", "is_tree_node", "tree_broadcast", "tree_reduce_associative", "Partial", "static_field",
]

LEAF, NONE, TUPLE, LIST, DICT, NAMEDTUPLE, CUSTOM = range(7)
# A node is (kind, type, aux, children, num_leaves); `children` is None when every
# child is a leaf (then arity == num_leaves), which keeps the common flat case
# cheap to build, hash, compare and walk.
_LEAF = (LEAF, None, None, (), 1)
_NONE = (NONE, type(None), None, None, 0)
# Type -> kind for every type seen so far; `_leaf_types` repeats the leaf entries
# as a set because a set test (or `issuperset` over a map) is the cheapest leaf check.
_kinds = {tuple: TUPLE, list: LIST, dict: DICT, type(None): NONE}
_leaf_types = {int, float, complex, bool, str, bytes}
_registry = {}


class _Custom:
    __slots__ = ("flatten", "unflatten", "keys", "with_keys")

    def __init__(self, flatten, unflatten, keys, with_keys=None):
        self.flatten, self.unflatten, self.keys, self.with_keys = flatten, unflatten, keys, with_keys


def _classify(t):
    kind = LEAF
    if t in _registry:
        kind = CUSTOM
    elif issubclass(t, tuple) and hasattr(t, "_fields"):
        kind = NAMEDTUPLE
    _kinds[t] = kind
    if kind == LEAF:
        _leaf_types.add(t)
    return kind


def _sorted_keys(d):
    try:
        return tuple(sorted(d))
    except TypeError:
        raise ValueError("Comparator raised exception while sorting pytree dictionary keys.") from None


def _flatten(x, leaves, is_leaf):
    t = type(x)
    kind = _kinds.get(t)
    if kind is None:
        kind = _classify(t)
    if kind == LEAF or (is_leaf is not None and is_leaf(x)):
        leaves.append(x)
        return _LEAF
    if kind == TUPLE or kind == LIST or kind == NAMEDTUPLE:
        children, aux = x, None
    elif kind == DICT:
        aux = _sorted_keys(x)
        children = [x[k] for k in aux]
    elif kind == NONE:
        return _NONE
    else:
        children, aux = _registry[t].flatten(x)
        if type(children) is not tuple and type(children) is not list:
            children = tuple(children)
    lt = _leaf_types
    if lt.issuperset(map(type, children)):
        leaves.extend(children)
        return (kind, t, aux, None, len(children))
    start = len(leaves)
    nodes = []
    flat = True
    for c in children:
        if type(c) in lt:
            leaves.append(c)
            nodes.append(_LEAF)
        else:
            node = _flatten(c, leaves, is_leaf)
            nodes.append(node)
            if node is not _LEAF:
                flat = False
    return (kind, t, aux, None if flat else tuple(nodes), len(leaves) - start)


def _build(node, leaves, pos):
    kind, t, aux, children, nl = node
    if children is None:
        vals = leaves[pos:pos + nl]
    else:
        vals = []
        for c in children:
            if c is _LEAF:
                vals.append(leaves[pos])
                pos += 1
            else:
                vals.append(_build(c, leaves, pos))
                pos += c[4]
    if kind == TUPLE:
        return tuple(vals)
    if kind == LIST:
        return list(vals)
    if kind == DICT:
        return dict(zip(aux, vals))
    if kind == CUSTOM:
        return _registry[t].unflatten(aux, tuple(vals))
    if kind == NAMEDTUPLE:
        return t(*vals)
    return None


def _kids(node):
    children = node[3]
    return (_LEAF,) * node[4] if children is None else children


class _Mismatch(Exception):
    pass


def _child_keys(kind, t, aux, n):
    """Keys naming a node's children, and whether they print as ``.key`` (attributes)."""
    if kind == DICT:
        return aux, False
    if kind == NAMEDTUPLE:
        return t._fields, True
    if kind == CUSTOM and _registry[t].keys is not None:
        return _registry[t].keys(aux)
    return range(n), False


def _path_entries(kind, t, aux, n):
    keys, attr = _child_keys(kind, t, aux, n)
    return [f".{k}" for k in keys] if attr else [f"[{k!r}]" for k in keys]


def _fail(path, what, detail):
    name, path = path[0], "".join(path)
    raise ValueError(f"pytree structure error: {what} at key path\n    {path}\n"
                     f"At that key path, the prefix pytree {name} {detail}")


def _up_to(node, x, out, path):
    """Collect the subtrees of ``x`` at the leaves of ``node``. ``path`` is None on the
    fast path (raise _Mismatch) and a tuple (tree name, key-path entries...) when
    diagnosing, so the fast path pays nothing for error messages."""
    if node is _LEAF:
        out.append(x)
        return
    kind, t, aux, children, nl = node
    arity = nl if children is None else len(children)
    if type(x) is not t:
        if path is None:
            raise _Mismatch
        _fail(path, "different types", f"has a subtree of type\n    {t}\nbut at the same key path "
              f"the full pytree has a subtree of different type\n    {type(x)}.")
    if kind == TUPLE or kind == LIST or kind == NAMEDTUPLE:
        xs = x
        if len(xs) != arity:
            if path is None:
                raise _Mismatch
            _fail(path, f"different lengths of {t.__name__}", f"has a subtree of type {t.__name__} of "
                  f"length {arity}, but the full pytree has a subtree of the same type but "
                  f"of length {len(xs)}.")
    elif kind == NONE:
        return
    else:
        if kind == DICT:
            xaux = _sorted_keys(x) if len(x) == arity else tuple(x)
            xs = [x[k] for k in xaux]
        else:
            xs, xaux = _registry[t].flatten(x)
            xs = list(xs)
        if len(xs) != arity:
            if path is None:
                raise _Mismatch
            mine = list(map(str, _child_keys(kind, t, aux, arity)[0]))
            theirs = list(map(str, _child_keys(kind, t, xaux, len(xs))[0]))
            sym = sorted(set(mine) ^ set(theirs))
            _fail(path, "different numbers of pytree children", f"has a subtree of type\n    {t}\n"
                  f"with {arity} child keys\n    {' '.join(mine)}\nbut at the same key path "
                  f"the full pytree has a subtree of the same type but with {len(xs)} child keys\n"
                  f"    {' '.join(theirs)}\nso the symmetric difference on key sets is\n"
                  f"    {' '.join(sym)}")
        if xaux != aux:
            if path is None:
                raise _Mismatch
            diff = "\n".join("    " + line for line in difflib.ndiff([repr(aux)], [repr(xaux)]))
            _fail(path, "different pytree metadata", f"has a subtree of type\n    {t}\nwith metadata\n"
                  f"    {aux!r}\nbut at the same key path the full pytree has a subtree of the same "
                  f"type but with metadata\n    {xaux!r}\nso the diff in the metadata at these pytree "
                  f"nodes is\n{diff}")
    if children is None:
        out.extend(xs)
    elif path is None:
        for c, xc in zip(children, xs):
            _up_to(c, xc, out, None)
    else:
        for c, xc, k in zip(children, xs, _path_entries(kind, t, aux, arity)):
            _up_to(c, xc, out, path + (k,))


def _compose(node, inner):
    if node is _LEAF:
        return inner
    if inner is _LEAF:
        return node
    kind, t, aux, children, nl = node
    kids = tuple(_compose(c, inner) for c in _kids(node))
    return (kind, t, aux, kids or None, sum(c[4] for c in kids))


def _count_nodes(node):
    children = node[3]
    return 1 + (node[4] if children is None else sum(map(_count_nodes, children)))


def _canonical(node):
    # Unpickling/deepcopy breaks the identity of the shared leaf sentinel; restore it.
    if node[0] == LEAF:
        return _LEAF
    kind, t, aux, children, nl = node
    return (kind, t, aux, children if children is None else tuple(map(_canonical, children)), nl)


def _repr(node):
    kind, t, aux = node[:3]
    if kind == LEAF:
        return "*"
    if kind == NONE:
        return "None"
    parts = [_repr(c) for c in _kids(node)]
    if kind == TUPLE:
        return "(" + parts[0] + ",)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"
    if kind == LIST:
        return "[" + ", ".join(parts) + "]"
    if kind == DICT:
        return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(aux, parts)) + "}"
    label = f"namedtuple[{t.__name__}]" if kind == NAMEDTUPLE else f"{t.__name__}[{aux}]"
    return f"CustomNode({label}, [{', '.join(parts)}])"


def _hashable(node):
    kind, t, aux, children, nl = node
    try:
        hash(aux)
    except TypeError:
        aux = repr(type(aux))
    return (kind, t, aux, children if children is None else tuple(map(_hashable, children)), nl)


class PyTreeDef:
    """The shape of a pytree: node types, their aux data and where the leaves go."""
    __slots__ = ("_node", "_hash")

    def __init__(self, *args, **kwargs):
        raise TypeError("PyTreeDef objects are made by tree_flatten / tree_structure")

    def __setattr__(self, name, value):
        raise AttributeError("PyTreeDef is immutable")

    __delattr__ = __setattr__

    @property
    def num_leaves(self):
        return self._node[4]

    @property
    def num_nodes(self):
        return _count_nodes(self._node)

    def unflatten(self, leaves):
        node = self._node
        if type(leaves) is not list and type(leaves) is not tuple:
            leaves = list(leaves)
        n, want = len(leaves), node[4]
        if n != want:
            if n < want:
                raise ValueError(f"Too few leaves for PyTreeDef; expected {want}, got {n}")
            raise ValueError(f"Too many leaves for PyTreeDef; expected {want}.")
        if node is _LEAF:
            return leaves[0]
        if node[3] is None:
            kind = node[0]
            if kind == TUPLE:
                return tuple(leaves)
            if kind == LIST:
                return list(leaves)
        return _build(node, leaves, 0)

    def flatten_up_to(self, tree):
        """Subtrees of ``tree`` at the leaves of this (prefix) treedef."""
        return self._up_to(tree, "tree")

    def _up_to(self, tree, name):
        out = []
        try:
            _up_to(self._node, tree, out, None)
        except _Mismatch:
            _up_to(self._node, tree, [], (name,))
            raise AssertionError("unreachable: prefix mismatch not diagnosed") from None
        return out

    def children(self):
        return [_make(c) for c in _kids(self._node)]

    def node_data(self):
        kind, t, aux = self._node[:3]
        if kind == LEAF:
            return None
        if kind == DICT:
            return (t, list(aux))
        return (t, aux)

    def compose(self, inner):
        return _make(_compose(self._node, inner._node))

    def __eq__(self, other):
        if type(other) is not PyTreeDef:
            return NotImplemented
        a, b = self._node, other._node
        return a is b or a == b

    def __hash__(self):
        h = self._hash
        if h is None:
            try:
                h = hash(self._node)
            except TypeError:  # unhashable custom aux data: hash its type instead
                h = hash(_hashable(self._node))
            _set_hash(self, h)
        return h

    def __repr__(self):
        return f"PyTreeDef({_repr(self._node)})"

    def __reduce__(self):
        return (_unpickle, (self._node,))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


_set_node = PyTreeDef._node.__set__
_set_hash = PyTreeDef._hash.__set__


def _make(node):
    td = object.__new__(PyTreeDef)
    _set_node(td, node)
    _set_hash(td, None)
    return td


def _unpickle(node):
    return _make(_canonical(node))


def tree_flatten(tree, is_leaf=None):
    leaves = []
    return leaves, _make(_flatten(tree, leaves, is_leaf))


def tree_unflatten(treedef, leaves):
    return treedef.unflatten(leaves)


def tree_leaves(tree, is_leaf=None):
    leaves = []
    _flatten(tree, leaves, is_leaf)
    return leaves


def tree_structure(tree, is_leaf=None):
    return _make(_flatten(tree, [], is_leaf))


def tree_map(f, tree, *rest, is_leaf=None):
    leaves = []
    treedef = _make(_flatten(tree, leaves, is_leaf))
    if not rest:
        return treedef.unflatten([f(x) for x in leaves])
    others = [treedef._up_to(r, "tree_map tree") for r in rest]
    return treedef.unflatten([f(*xs) for xs in zip(leaves, *others)])


_no_initializer = object()


def tree_reduce(function, tree, initializer=_no_initializer, is_leaf=None):
    if initializer is _no_initializer:
        return functools.reduce(function, tree_leaves(tree, is_leaf))
    return functools.reduce(function, tree_leaves(tree, is_leaf), initializer)


def tree_all(tree, *, is_leaf=None):
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef, inner_treedef, pytree_to_transpose):
    """Turn a tree of shape ``outer`` of trees of shape ``inner`` inside out."""
    flat, treedef = tree_flatten(pytree_to_transpose)
    if inner_treedef is None:
        inner_treedef = tree_structure(outer_treedef.flatten_up_to(pytree_to_transpose)[0])
    n_in, n_out = inner_treedef.num_leaves, outer_treedef.num_leaves
    expected = outer_treedef.compose(inner_treedef)
    if treedef != expected:
        raise TypeError(f"Mismatch\n{treedef}\n != \n{expected}")
    cols = [[flat[o * n_in + i] for o in range(n_out)] for i in range(n_in)]
    return inner_treedef.unflatten([outer_treedef.unflatten(c) for c in cols])


def treedef_is_leaf(treedef):
    return treedef.num_nodes == 1


def all_leaves(iterable, is_leaf=None):
    if is_leaf is None:
        return all(type(x) in _leaf_types or (type(x) not in _kinds and _classify(type(x)) == LEAF)
                   for x in iterable)
    items = list(iterable)
    leaves = tree_leaves(items, is_leaf)
    return len(leaves) == len(items) and all(a is b for a, b in zip(leaves, items))


def _register(nodetype, flatten, unflatten, keys=None, with_keys=None):
    if nodetype in _registry or _kinds.get(nodetype, LEAF) not in (LEAF, NAMEDTUPLE):
        raise ValueError(f"Duplicate custom PyTreeDef type registration for {nodetype}.")
    _registry[nodetype] = _Custom(flatten, unflatten, keys, with_keys)
    _kinds[nodetype] = CUSTOM
    _leaf_types.discard(nodetype)


def register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys_func=None):
    """``flatten_func(x) -> (children, aux)``; ``unflatten_func(aux, children_tuple) -> x``;
    ``flatten_with_keys_func(x) -> (((key, child), ...), aux)`` names the children in key paths."""
    _register(nodetype, flatten_func, unflatten_func, with_keys=flatten_with_keys_func)


def register_pytree_with_keys(nodetype, flatten_with_keys, unflatten_func, flatten_func=None):
    """Register a node whose ``flatten_with_keys(x) -> (((key, child), ...), aux)`` names its
    children (the key entries of their paths)."""
    if flatten_func is None:
        def flatten_func(x):
            pairs, aux = flatten_with_keys(x)
            return [child for _, child in pairs], aux
    _register(nodetype, flatten_func, unflatten_func, with_keys=flatten_with_keys)


def register_pytree_with_keys_class(cls):
    """Class decorator: ``x.tree_flatten_with_keys()``, ``cls.tree_unflatten(aux, children)``
    (and ``x.tree_flatten()`` if the class has it)."""
    flatten = operator.methodcaller("tree_flatten") if hasattr(cls, "tree_flatten") else None
    register_pytree_with_keys(cls, operator.methodcaller("tree_flatten_with_keys"), cls.tree_unflatten, flatten)
    return cls


def register_static(cls):
    """Register `cls` as a node with no children whose instances are aux data (so they are
    part of the tree structure, compared by ==)."""
    _register(cls, lambda x: ((), x), lambda aux, _: aux)
    return cls


def static_field(**kwargs):
    """A dataclass field marked static (`register_dataclass` makes it aux data), as
    `jax.tree.static`."""
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata["static"] = True
    return dataclasses.field(metadata=metadata, **kwargs)


def register_pytree_node_class(cls):
    """Class decorator: use ``x.tree_flatten()`` and ``cls.tree_unflatten(aux, children)``."""
    register_pytree_node(cls, operator.methodcaller("tree_flatten"), cls.tree_unflatten)
    return cls


def _getter(names):
    if not names:
        return lambda x: ()
    if len(names) == 1:
        g = operator.attrgetter(names[0])
        return lambda x: (g(x),)
    return operator.attrgetter(*names)


def register_dataclass(nodetype, data_fields=None, meta_fields=None, drop_fields=()):
    """Register a class whose ``data_fields`` are children and ``meta_fields`` aux data.

    As a bare decorator on a dataclass, fields with ``metadata=dict(static=True)``
    are meta fields and the rest data fields.
    """
    if data_fields is None and meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError("register_dataclass: data_fields and meta_fields are required when"
                            f" nodetype is not a dataclass. Got nodetype={nodetype!r}.")
        fields = [f for f in dataclasses.fields(nodetype) if f.name not in drop_fields]
        data_fields = [f.name for f in fields if not f.metadata.get("static", False)]
        meta_fields = [f.name for f in fields if f.metadata.get("static", False)]
    elif data_fields is None or meta_fields is None:
        raise TypeError("register_dataclass: data_fields and meta_fields must both be specified"
                        f" when either is specified. Got data_fields={data_fields!r}"
                        f" meta_fields={meta_fields!r}.")
    data_fields, meta_fields = tuple(data_fields), tuple(meta_fields)
    if dataclasses.is_dataclass(nodetype):
        init = {f.name for f in dataclasses.fields(nodetype) if f.init}
        given = set(data_fields) | set(meta_fields)
        msg = ("data_fields and meta_fields must include all dataclass fields with ``init=True``"
               " and only them.")
        if given - init:
            raise ValueError(f"{msg} Unexpected fields: {given - init}.")
        if init - given - set(drop_fields):
            raise ValueError(f"{msg} Missing fields: {init - given - set(drop_fields)}. "
                             "Add them to drop_fields to suppress this error.")
    get_data, get_meta = _getter(data_fields), _getter(meta_fields)

    def unflatten(meta, data):
        kwargs = dict(zip(meta_fields, meta))
        kwargs.update(zip(data_fields, data))
        return nodetype(**kwargs)

    _register(nodetype, lambda x: (get_data(x), get_meta(x)), unflatten,
              lambda aux: (data_fields, True))
    return nodetype


_register(collections.OrderedDict, lambda d: (list(d.values()), tuple(d)),
          lambda keys, vals: collections.OrderedDict(zip(keys, vals)), lambda aux: (aux, False))
_register(collections.defaultdict,
          lambda d: ([d[k] for k in _sorted_keys(d)], (d.default_factory, _sorted_keys(d))),
          lambda aux, vals: collections.defaultdict(aux[0], zip(aux[1], vals)),
          lambda aux: (aux[1], False))


# ---------------------------------------------------------------------------- key paths

@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """A path entry: the index of a tuple's or list's child."""
    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"


@dataclasses.dataclass(frozen=True)
class DictKey:
    """A path entry: the key of a dict's child."""
    key: object

    def __str__(self):
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """A path entry: the attribute (field) name of a namedtuple's or dataclass's child."""
    name: str

    def __str__(self):
        return f".{self.name}"


@dataclasses.dataclass(frozen=True)
class FlattenedIndexKey:
    """A path entry: the position of a child of a custom node that does not name them."""
    key: int

    def __str__(self):
        return f"[<flat index {self.key}>]"


def _keyed_children(x, kind, t):
    """(key entry, child) pairs of a node, as JAX names them."""
    if kind == TUPLE or kind == LIST:
        return [(SequenceKey(i), c) for i, c in enumerate(x)]
    if kind == DICT:
        return [(DictKey(k), x[k]) for k in _sorted_keys(x)]
    if kind == NAMEDTUPLE:
        return [(GetAttrKey(f), c) for f, c in zip(t._fields, x)]
    if kind == NONE:
        return []
    custom = _registry[t]
    if custom.with_keys is not None:
        pairs, _ = custom.with_keys(x)
        return list(pairs)
    children, aux = custom.flatten(x)
    if custom.keys is None:
        return [(FlattenedIndexKey(i), c) for i, c in enumerate(children)]
    keys, attr = custom.keys(aux)
    return [(GetAttrKey(k) if attr else DictKey(k), c) for k, c in zip(keys, children)]


def _flatten_with_path(x, path, out, is_leaf):
    t = type(x)
    kind = _kinds.get(t)
    if kind is None:
        kind = _classify(t)
    if kind == LEAF or (is_leaf is not None and is_leaf(x)):
        out.append((path, x))
        return
    for key, child in _keyed_children(x, kind, t):
        _flatten_with_path(child, path + (key,), out, is_leaf)


def tree_flatten_with_path(tree, is_leaf=None, is_leaf_takes_path=False):
    """([(key path, leaf), ...], treedef): each leaf with the key entries leading to it."""
    if is_leaf_takes_path:
        raise NotImplementedError("kiln: tree_flatten_with_path(is_leaf_takes_path=True) is not supported")
    out = []
    _flatten_with_path(tree, (), out, is_leaf)
    return out, tree_structure(tree, is_leaf)


def tree_leaves_with_path(tree, is_leaf=None, is_leaf_takes_path=False):
    return tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


def tree_map_with_path(f, tree, *rest, is_leaf=None, is_leaf_takes_path=False):
    """tree_map with `f(path, leaf, *other_leaves)`."""
    pairs, treedef = tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    others = [treedef._up_to(r, "tree_map_with_path tree") for r in rest]
    return treedef.unflatten([f(path, x, *xs) for (path, x), *xs in zip(pairs, *others)])


def keystr(keys, *, simple=False, separator=""):
    """A key path as text: ``['a'][0].b``, or with `simple` ``a/0/b`` for separator "/"."""
    def simple_str(k):
        for attr in ("idx", "key", "name"):
            if hasattr(k, attr):
                return str(getattr(k, attr))
        return str(k)
    return separator.join(map(simple_str if simple else str, keys))


def treedef_children(treedef):
    return treedef.children()


def treedef_tuple(treedefs):
    """The treedef of a tuple whose children have the given treedefs."""
    nodes = tuple(td._node for td in treedefs)
    flat = all(n is _LEAF for n in nodes)
    return _make((TUPLE, tuple, None, None if flat else nodes, sum(n[4] for n in nodes)))


def flatten_one_level(tree):
    """(children, node data) of a pytree node; a leaf is a ValueError."""
    t = type(tree)
    kind = _kinds.get(t)
    if kind is None:
        kind = _classify(t)
    if kind == LEAF:
        raise ValueError(f"can't tree-flatten type: {t}")
    children = tuple(c for _, c in _keyed_children(tree, kind, t))
    return children, _flatten(tree, [], None)[2]


def is_tree_node(x):
    kind = _kinds.get(type(x))
    return (kind if kind is not None else _classify(type(x))) != LEAF


def tree_broadcast(prefix_tree, full_tree, is_leaf=None):
    """`prefix_tree` with each of its leaves repeated over the subtree of `full_tree` there."""
    prefix_leaves, prefix_def = tree_flatten(prefix_tree, is_leaf)
    subtrees = prefix_def._up_to(full_tree, "full_tree")
    return prefix_def.unflatten([tree_map(lambda _: leaf, sub, is_leaf=is_leaf)
                                 for leaf, sub in zip(prefix_leaves, subtrees)])


def tree_reduce_associative(operation, tree, *, identity=_no_initializer, is_leaf=None):
    """Reduce the leaves with an associative `operation`, pairwise (a balanced tree)."""
    items = tree_leaves(tree, is_leaf)
    if not items:
        if identity is _no_initializer:
            raise TypeError("Must specify identity for parallel reduction of empty sequence.")
        return identity
    while len(items) > 1:
        pairs = [operation(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


class Partial(functools.partial):
    """functools.partial as a pytree: the arguments are its children, the function its aux
    data (so a Partial can pass through compiled functions and transformations)."""


_register(Partial, lambda p: ((p.args, p.keywords), p.func), lambda func, xs: Partial(func, *xs[0], **xs[1]))
