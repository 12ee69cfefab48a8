"""Every primitive with a batching rule has a case in the vmap test tables.

Each table names the primitive a case exercises and checks that its program really contains
it (`vmap_helpers.primitives_of`); this test checks that no registered rule is left out, so a
new primitive's rule cannot go untested.
"""
import kiln.numpy  # noqa: F401 - registers every primitive
import kiln.scipy.special  # noqa: F401
import test_vmap_control_flow
import test_vmap_elementwise
import test_vmap_indexing
import test_vmap_reductions
import test_vmap_structural
from kiln.primitives import vmap_rules


def test_every_batching_rule_is_tested():
    covered = (test_vmap_elementwise.COVERED | test_vmap_structural.COVERED | test_vmap_reductions.COVERED
               | test_vmap_indexing.COVERED | test_vmap_control_flow.COVERED)
    missing = sorted(p.name for p in vmap_rules if p.name not in covered)
    assert not missing, f"batching rules without a vmap test case: {missing}"
