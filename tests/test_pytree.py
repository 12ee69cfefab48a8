"""kiln.runtime.pytree against the reference, jax.tree_util, on the same structures."""
import collections
import copy
import dataclasses
import pickle
import typing

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from jax import tree_util as J

from kiln.runtime import pytree as K

Params = collections.namedtuple("Params", ["weight", "bias"])
Other = collections.namedtuple("Other", ["weight", "bias"])


class Point(typing.NamedTuple):
    x: object
    y: object


@J.register_pytree_node_class
@K.register_pytree_node_class
class Box:
    def __init__(self, a, b, tag="t"):
        self.a, self.b, self.tag = a, b, tag

    def tree_flatten(self):
        return (self.a, self.b), self.tag

    @classmethod
    def tree_unflatten(cls, tag, children):
        return cls(*children, tag=tag)

    def __eq__(self, other):
        return type(other) is Box and (self.a, self.b, self.tag) == (other.a, other.b, other.tag)

    def __repr__(self):
        return f"Box({self.a!r}, {self.b!r}, {self.tag!r})"


class Pair:
    """Registered with plain functions; its unflatten records the children container type."""
    def __init__(self, *xs):
        self.xs = xs

    def __eq__(self, other):
        return type(other) is Pair and self.xs == other.xs


for _m in (J, K):
    _m.register_pytree_node(Pair, lambda p: (iter(p.xs), len(p.xs)), lambda n, xs: Pair(*xs))


@J.register_dataclass
@K.register_dataclass
@dataclasses.dataclass
class DC:
    x: object
    y: object
    name: str = dataclasses.field(default="dc", metadata=dict(static=True))


@dataclasses.dataclass
class Plain:  # unregistered dataclass: a leaf
    x: int = 1


class MyDict(dict):
    pass


SAMPLES = [
    1, None, (), [], {}, (1,), [1, None], (None,), {"a": 1, "b": (2, 3)}, {"b": 1, "a": [2]},
    {2: "x", 1: "y"}, Params(1, (2, 3)), Point(1, [2]), Params(None, {}),
    collections.OrderedDict([("b", 1), ("a", 2)]), collections.defaultdict(list, {"b": 1, "a": 2}),
    Box(1, (2, 3)), Box([1], None, tag=("k", 1)), Pair(), Pair(1, [2, 3]), DC(1, [2, 3]),
    DC({"q": 1}, None, name="z"), Plain(), MyDict(a=1), "str", np.zeros(3), np.float32(2),
    [[1], [2, []]], {"a": {"c": 1}}, [Box(DC(1, 2), Pair(3)), Params(Point(1, 2), None)],
    ((1, 2), [3, (4, 5)], {"x": (6,), "y": [None, 7]}),
]


def eq(a, b):
    """Structural equality that also accepts numpy arrays as leaves."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(eq(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("tree", SAMPLES, ids=[f"sample{i}" for i in range(len(SAMPLES))])  # stable ids for xdist
def test_matches_jax(tree):
    kl, kt = K.tree_flatten(tree)
    jl, jt = J.tree_flatten(tree)
    assert eq(kl, jl)
    assert repr(kt) == repr(jt) and str(kt) == str(jt)
    assert (kt.num_leaves, kt.num_nodes) == (jt.num_leaves, jt.num_nodes)
    assert [repr(c) for c in kt.children()] == [repr(c) for c in jt.children()]
    assert K.treedef_is_leaf(kt) == J.treedef_is_leaf(jt)
    assert eq(K.tree_unflatten(kt, kl), J.tree_unflatten(jt, jl))
    assert eq(kt.unflatten(iter(kl)), J.tree_unflatten(jt, jl))
    assert eq(K.tree_leaves(tree), jl) and K.tree_structure(tree) == kt
    assert eq(K.tree_map(lambda x: [x], tree), J.tree_map(lambda x: [x], tree))


def test_exact_reprs():
    cases = {
        "PyTreeDef({'a': *, 'b': (*, *)})": {"b": (2, 3), "a": 1},
        "PyTreeDef(None)": None, "PyTreeDef(*)": 1, "PyTreeDef([*, None])": [1, None],
        "PyTreeDef((*,))": (1,), "PyTreeDef(CustomNode(namedtuple[Params], [*, *]))": Params(1, 2),
        "PyTreeDef(CustomNode(Box[t], [*, (*, *)]))": Box(1, (2, 3)),
        "PyTreeDef(CustomNode(DC[('dc',)], [*, *]))": DC(1, 2),
        "PyTreeDef(CustomNode(OrderedDict[('b', 'a')], [*, *]))": collections.OrderedDict(b=1, a=2),
    }
    for text, tree in cases.items():
        assert repr(K.tree_structure(tree)) == text == repr(J.tree_structure(tree))


def test_dict_order_and_keys():
    d = {"b": 1, "a": 2, "c": 3}
    assert K.tree_leaves(d) == [2, 1, 3]
    out = K.tree_map(lambda x: x, d)
    assert list(out) == list(J.tree_map(lambda x: x, d)) == ["a", "b", "c"]
    od = collections.OrderedDict(b=1, a=2)
    assert list(K.tree_map(lambda x: x, od)) == ["b", "a"]
    dd = K.tree_map(lambda x: x, collections.defaultdict(list, b=1))
    assert type(dd) is collections.defaultdict and dd.default_factory is list
    with pytest.raises(ValueError, match="sorting pytree dictionary keys"):
        K.tree_leaves({1: 1, "a": 2})
    with pytest.raises(ValueError):
        J.tree_leaves({1: 1, "a": 2})


def test_custom_unflatten_gets_tuple():
    seen = []
    class C:
        pass
    K.register_pytree_node(C, lambda c: ([1, 2], None), lambda aux, ch: seen.append(type(ch)))
    K.tree_map(lambda x: x, C())
    assert seen == [tuple]


def test_leaf_kinds():
    for leaf in [Plain(), MyDict(a=1), type("L", (list,), {})([1]), type("T", (tuple,), {})((1,)),
                 np.ones(2), "abc", b"x", 1.5, 1j, True]:
        assert K.tree_leaves(leaf) == [leaf]
        assert K.treedef_is_leaf(K.tree_structure(leaf))
    sub = type("Sub", (Params,), {})
    assert repr(K.tree_structure(sub(1, 2))) == repr(J.tree_structure(sub(1, 2)))


def test_is_leaf():
    tree = [None, 1, (None,), [2, (3, 4)], {"a": (5,)}]
    for pred in [lambda x: x is None, lambda x: isinstance(x, tuple), lambda x: True,
                 lambda x: isinstance(x, list) and len(x) == 2]:
        kl, kt = K.tree_flatten(tree, is_leaf=pred)
        jl, jt = J.tree_flatten(tree, is_leaf=pred)
        assert kl == jl and repr(kt) == repr(jt)
        assert K.tree_map(repr, tree, is_leaf=pred) == J.tree_map(repr, tree, is_leaf=pred)
    none_leaf = K.tree_structure([None], is_leaf=lambda x: x is None)
    assert none_leaf == K.tree_structure([1]) and hash(none_leaf) == hash(K.tree_structure([1]))
    assert K.all_leaves([1, 2]) and not K.all_leaves([1, [2]]) and not K.all_leaves([None])
    assert K.all_leaves([(1, 2)], is_leaf=lambda x: isinstance(x, tuple))


def test_tree_map_many_trees_and_prefix():
    a = {"x": [1, 2], "y": (3,)}
    b = {"x": [10, 20], "y": (30,)}
    assert K.tree_map(lambda p, q, r: p + q + r, a, b, b) == J.tree_map(lambda p, q, r: p + q + r, a, b, b)
    pre, full = [1, 2], [(1, 2), {"k": 3}]
    assert K.tree_map(lambda p, f: (p, f), pre, full) == J.tree_map(lambda p, f: (p, f), pre, full)
    assert K.tree_map(lambda p, f: f, [1, 2], [1, None]) == [1, None]
    assert K.tree_map(lambda p, f: f, None, None) is None
    assert K.tree_structure(pre).flatten_up_to(full) == J.tree_structure(pre).flatten_up_to(full)


MISMATCHES = [
    ([1, 2], [1, 2, 3], "different lengths of list at key path\n    tree_map tree\n"),
    ([1, 2], (1, 2), "different types"),
    ({"a": 1}, {"b": 1}, "different pytree metadata"),
    ({"a": 1}, {"a": 1, "b": 2}, "different numbers of pytree children"),
    ([1, None], [1, 2], "different types at key path\n    tree_map tree[1]\n"),
    ({"a": [1, (2,)]}, {"a": [1, (2, 3)]}, "key path\n    tree_map tree['a'][1]\n"),
    (Params(1, 2), Other(1, 2), "different types"), (Params(1, 2), (1, 2), "different types"),
    (Box(1, 2), Box(1, 2, tag="u"), "different pytree metadata"),
    (Pair(1), Pair(1, 2), "different numbers of pytree children"),
    (DC(1, (2,)), DC(1, (2, 3)), "key path\n    tree_map tree.y\n"),
    ([1], 5, "different types"), (None, 1, "different types"), ((), [], "different types"),
    (collections.OrderedDict(a=1), collections.OrderedDict(b=1), "different pytree metadata"),
]


@pytest.mark.parametrize("a,b,msg", MISMATCHES, ids=[f"mismatch{i}" for i in range(len(MISMATCHES))])
def test_mismatch_errors(a, b, msg):
    with pytest.raises(ValueError) as jerr:
        J.tree_map(lambda *xs: None, a, b)
    with pytest.raises(ValueError) as kerr:
        K.tree_map(lambda *xs: None, a, b)
    assert msg in str(kerr.value) and msg in str(jerr.value)
    assert str(kerr.value).startswith("pytree structure error: ")
    with pytest.raises(ValueError):
        K.tree_structure(a).flatten_up_to(b)


def test_unflatten_leaf_count_errors():
    for n in (1, 3):
        with pytest.raises(ValueError) as jerr:
            J.tree_unflatten(J.tree_structure([1, 2]), list(range(n)))
        with pytest.raises(ValueError) as kerr:
            K.tree_unflatten(K.tree_structure([1, 2]), list(range(n)))
        assert str(kerr.value) == str(jerr.value)


def test_reduce_all_transpose():
    tree = [1, (2, {"a": 3})]
    assert K.tree_reduce(lambda a, b: a + b, tree) == 6
    assert K.tree_reduce(lambda a, b: a + b, tree, 10) == 16
    assert K.tree_reduce(lambda a, b: a + b, [], 0) == 0
    with pytest.raises(TypeError):
        K.tree_reduce(lambda a, b: a + b, [])
    assert K.tree_all([1, [2]]) and not K.tree_all([1, 0]) and K.tree_all([])
    outer, inner = K.tree_structure([0, 0]), K.tree_structure((0, 0, 0))
    x = [(1, 2, 3), (4, 5, 6)]
    expect = J.tree_transpose(J.tree_structure([0, 0]), J.tree_structure((0, 0, 0)), x)
    assert K.tree_transpose(outer, inner, x) == expect == K.tree_transpose(outer, None, x)
    with pytest.raises(TypeError, match="Mismatch"):
        K.tree_transpose(outer, inner, [(1, 2, 3), (4, 5)])
    assert repr(outer.compose(inner)) == "PyTreeDef([(*, *, *), (*, *, *)])"
    assert K.tree_structure({"a": 1}).node_data() == J.tree_structure({"a": 1}).node_data()
    assert K.tree_structure(Box(1, 2)).node_data() == (Box, "t")
    assert K.tree_structure(1).node_data() is None


def test_treedef_equality_and_hash():
    s = K.tree_structure
    assert s({"b": 1, "a": 2}) == s({"a": 3, "b": 4})
    assert hash(s({"b": 1, "a": 2})) == hash(s({"a": 3, "b": 4}))
    assert s({"a": 1}) != s({"b": 1}) and s(Params(1, 2)) != s(Other(1, 2))
    assert s(Params(1, 2)) != s((1, 2)) and s([1]) != s((1,)) and s([1, None]) != s([1, 2])
    assert s(Box(1, 2)) != s(Box(1, 2, tag="u")) and s(Box(1, 2)) == s(Box(5, 6))
    assert s(DC(1, 2)) != s(DC(1, 2, name="other")) and s([1]) != 3
    unhashable = s(Box(1, 2, tag=["list"]))
    assert hash(unhashable) == hash(s(Box(3, 4, tag=["list"]))) and unhashable == s(Box(3, 4, tag=["list"]))
    cache = {s([1, {"a": 2}]): "hit"}
    assert cache[s([5, {"a": 6}])] == "hit"
    td = s([1, (2, None), Box(3, 4)])
    assert pickle.loads(pickle.dumps(td)) == td and copy.deepcopy(td) is td
    assert pickle.loads(pickle.dumps(td)).unflatten([1, 2, 3, 4]) == [1, (2, None), Box(3, 4)]
    with pytest.raises(AttributeError):
        td.foo = 1
    with pytest.raises(TypeError):
        K.PyTreeDef()


def test_registration_errors():
    for t in (tuple, list, dict, type(None), collections.OrderedDict, Box):
        with pytest.raises(ValueError, match="Duplicate custom PyTreeDef type registration"):
            K.register_pytree_node(t, lambda x: ((), None), lambda a, c: None)

    @dataclasses.dataclass
    class Bad:
        x: int
        z: int = dataclasses.field(default=3, init=False)

    with pytest.raises(ValueError, match="Unexpected fields"):
        K.register_dataclass(Bad)
    with pytest.raises(TypeError, match="not a dataclass"):
        K.register_dataclass(type("NotDC", (), {}))
    with pytest.raises(TypeError, match="both be specified"):
        K.register_dataclass(type("NotDC", (), {}), data_fields=["x"])

    class Manual:
        def __init__(self, x, s):
            self.x, self.s = x, s

    assert K.register_dataclass(Manual, data_fields=["x"], meta_fields=["s"]) is Manual
    m = K.tree_map(lambda v: v + 1, Manual(1, "a"))
    assert (m.x, m.s) == (2, "a") and repr(K.tree_structure(m)) == "PyTreeDef(CustomNode(Manual[('a',)], [*]))"


def test_public_modules():
    tree = pytest.importorskip("kiln.tree")
    tree_util = pytest.importorskip("kiln.tree_util")
    assert tree.map is K.tree_map and tree.leaves([1, (2,)]) == [1, 2]
    for name in ["all", "flatten", "leaves", "map", "reduce", "structure", "transpose", "unflatten"]:
        assert hasattr(tree, name)
    for name in K.__all__:
        assert getattr(tree_util, name) is getattr(K, name)


# Random nested structures, compared with JAX.
_leaf = st.one_of(st.integers(-5, 5), st.floats(allow_nan=False, width=32), st.text("ab", max_size=2))
_key = st.text("abcd", min_size=1, max_size=2)


def _nodes(children):
    return st.one_of(
        st.just(None), st.lists(children, max_size=4), st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_key, children, max_size=4),
        st.dictionaries(_key, children, max_size=3).map(lambda d: collections.OrderedDict(d)),
        st.builds(Params, children, children), st.builds(Point, children, children),
        st.builds(Box, children, children, st.sampled_from(["t", "u"])),
        st.lists(children, max_size=3).map(lambda xs: Pair(*xs)),
        st.builds(DC, children, children, st.sampled_from(["dc", "q"])),
    )


trees = st.recursive(_leaf | st.none(), _nodes, max_leaves=12)


@settings(max_examples=120, deadline=None)
@given(trees)
def test_random_trees_match_jax(tree):
    kl, kt = K.tree_flatten(tree)
    jl, jt = J.tree_flatten(tree)
    assert kl == jl and repr(kt) == repr(jt) and kt.num_nodes == jt.num_nodes
    assert eq(kt.unflatten(kl), jt.unflatten(jl))
    doubled = K.tree_map(lambda x: (x, x), tree)
    assert eq(K.tree_map(lambda a, b: b, tree, doubled), J.tree_map(lambda a, b: b, tree, doubled))
    pred = lambda x: isinstance(x, (list, Pair))
    assert eq(K.tree_leaves(tree, is_leaf=pred), J.tree_leaves(tree, is_leaf=pred))


@settings(max_examples=120, deadline=None)
@given(trees, trees)
def test_random_equality_matches_jax(a, b):
    ka, kb = K.tree_structure(a), K.tree_structure(b)
    same = J.tree_structure(a) == J.tree_structure(b)
    assert (ka == kb) == same
    if same:
        assert hash(ka) == hash(kb)
    try:
        J.tree_map(lambda *xs: None, a, b)
        jax_ok = True
    except ValueError:
        jax_ok = False
    try:
        K.tree_map(lambda *xs: None, a, b)
        kiln_ok = True
    except ValueError:
        kiln_ok = False
    assert kiln_ok == jax_ok
