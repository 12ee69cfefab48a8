"""IR-to-IR passes. One pass per file, each with a `name` and `run(program) -> program`.

`run_passes(program, names)` applies them in order and verifies the IR after each one, so a
pass that breaks the IR is caught where it happens.
"""
from __future__ import annotations

from kiln.passes import cse, dce, expand_calls, simplify, verify

PASSES = {p.name: p for p in (expand_calls, simplify, cse, dce)}

# What runs after staging and after differentiation: cheap, and makes gradients do only the
# work they need.
CLEANUP = ("simplify", "cse", "dce")


def run_passes(program, names, check: bool = True):
    for name in names:
        try:
            pass_ = PASSES[name]
        except KeyError:
            raise ValueError(f"kiln: unknown pass {name!r}; known passes: {', '.join(PASSES)}") from None
        program = pass_.run(program)
        if check:
            verify.verify(program, after=name)
    return program
