"""vmap and pmap: batching is issue #4 and not implemented yet.

The names exist so that `from kiln import vmap` in a JAX program imports; calling the
batched function raises NotImplementedError saying so.
"""
from __future__ import annotations

import functools


def _not_yet(name):
    def transform(fun, *args, **kwargs):
        @functools.wraps(fun)
        def batched(*a, **k):
            raise NotImplementedError(f"kiln.{name} is not implemented yet (issue #4: control flow and "
                                      "vmap); write the batch dimension by hand for now")
        return batched
    transform.__name__ = name
    return transform


vmap = _not_yet("vmap")
pmap = _not_yet("pmap")
