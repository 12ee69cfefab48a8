"""``kiln.tree_util``: pytree utilities under the names of ``jax.tree_util``."""
from kiln.runtime.pytree import (
    PyTreeDef,
    all_leaves,
    register_dataclass,
    register_pytree_node,
    register_pytree_node_class,
    tree_all,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_reduce,
    tree_structure,
    tree_transpose,
    tree_unflatten,
    treedef_is_leaf,
)

__all__ = [
    "PyTreeDef", "all_leaves", "register_dataclass", "register_pytree_node",
    "register_pytree_node_class", "tree_all", "tree_flatten", "tree_leaves", "tree_map",
    "tree_reduce", "tree_structure", "tree_transpose", "tree_unflatten", "treedef_is_leaf",
]
