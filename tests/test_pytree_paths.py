"""kiln.tree_util's key paths and the rest of jax.tree_util's API against JAX's."""
import collections
import dataclasses

import numpy as np
import pytest

import kiln
import kiln.numpy as knp
from kiln import tree_util as ktu

jax = pytest.importorskip("jax")
jtu = jax.tree_util

Point = collections.namedtuple("Point", "x y")


def _classes(tu):
    class Opaque:  # a custom node without key names
        def __init__(self, a, b):
            self.a, self.b = a, b
    tu.register_pytree_node(Opaque, lambda o: ((o.a, o.b), "tag"), lambda aux, ch: Opaque(*ch))

    @tu.register_pytree_with_keys_class
    class Named:
        def __init__(self, w, b):
            self.w, self.b = w, b

        def tree_flatten_with_keys(self):
            return ((tu.GetAttrKey("w"), self.w), (tu.DictKey("bias"), self.b)), None

        @classmethod
        def tree_unflatten(cls, aux, children):
            return cls(*children)

    @tu.register_dataclass
    @dataclasses.dataclass
    class Layer:
        weight: object
        size: int = dataclasses.field(metadata=dict(static=True), default=3)
    return Opaque, Named, Layer


K_CLASSES, J_CLASSES = _classes(ktu), _classes(jtu)


def _tree(classes):
    opaque, named, layer = classes
    return {"z": [1, (2.0, None)], "p": Point(3, 4), "o": opaque(5, [6]), "n": named(7, 8),
            "l": layer(np.float32(9)), "od": collections.OrderedDict(b=10, a=11)}


def _paths(tu, tree):
    return [(tu.keystr(p), tu.keystr(p, simple=True, separator="/"), repr(p), leaf)
            for p, leaf in tu.tree_flatten_with_path(tree)[0]]


def test_paths_match_jax():
    got, want = _paths(ktu, _tree(K_CLASSES)), _paths(jtu, _tree(J_CLASSES))
    assert [g[:3] for g in got] == [w[:3] for w in want]
    assert [g[3] for g in got] == [w[3] for w in want]
    assert [p for p, _ in ktu.tree_leaves_with_path([1, {"a": 2}])] == [(ktu.SequenceKey(0),),
                                                                        (ktu.SequenceKey(1), ktu.DictKey("a"))]


def test_map_with_path_and_helpers():
    f = lambda tu: (lambda p, x, y: (tu.keystr(p), x + y))
    assert ktu.tree_map_with_path(f(ktu), [1, {"a": 2}], [10, {"a": 20}]) == \
        jtu.tree_map_with_path(f(jtu), [1, {"a": 2}], [10, {"a": 20}])
    assert ktu.flatten_one_level({"a": 1, "b": [2]}) == jtu.flatten_one_level({"a": 1, "b": [2]})
    with pytest.raises(ValueError):
        ktu.flatten_one_level(1.0)
    assert ktu.tree_broadcast([1, {"a": 2}], [(0, 0), {"a": [0, 0, 0]}]) == \
        jtu.tree_broadcast([1, {"a": 2}], [(0, 0), {"a": [0, 0, 0]}])
    assert ktu.tree_reduce_associative(lambda a, b: a + b, [1, (2, 3), {"x": 4}]) == 10
    td = ktu.treedef_tuple([ktu.tree_structure([0, 0]), ktu.tree_structure({"a": 0})])
    assert td == ktu.tree_structure(([0, 0], {"a": 0}))
    assert ktu.treedef_children(td) == [ktu.tree_structure([0, 0]), ktu.tree_structure({"a": 0})]
    assert ktu.is_tree_node([1]) and not ktu.is_tree_node(1.0)


def test_partial_through_jit_and_static_fields():
    add = ktu.Partial(knp.add, np.float32(2))

    @kiln.jit
    def call(fn, x):
        return fn(x)
    np.testing.assert_allclose(call(add, np.float32(3)), 5.0)
    assert ktu.tree_leaves(add) == [np.float32(2)]

    @ktu.register_dataclass
    @dataclasses.dataclass
    class Config:
        scale: object
        name: str = kiln.tree.static(default="c")
    assert ktu.tree_leaves(Config(1.5)) == [1.5]
    assert kiln.tree.map_with_path(lambda p, x: ktu.keystr(p), Config(1.5)).scale == ".scale"
