"""kiln's frontend: reads a function's source with libcst and rewrites it to stage kiln IR.

Importing this package is cheap; libcst is loaded by the submodules, on first compile.
"""
