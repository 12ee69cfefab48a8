"""The runtime stands apart from the compiler's heavy parts.

What runs with compiled code (`kiln.runtime`: arrays, pytrees, dtypes) must load without
libcst (the frontend's parser), llvmlite (code generation) or the frontend itself. Checked in
a fresh interpreter, since this test process has imported everything already.
"""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

HEAVY = ("libcst", "llvmlite", "kiln.frontend.convert")
RUNTIME = pathlib.Path(__file__).resolve().parent.parent / "runtime"


def test_runtime_imports_nothing_heavy():
    code = (
        "import sys\n"
        "import kiln.runtime.array, kiln.runtime.pytree, kiln.runtime.dtypes\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"importing kiln.runtime loaded {result.stdout.strip()}"


def test_runtime_sources_do_not_import_the_frontend_or_llvm():
    # Also imports inside functions: they would load the heavy parts when first called.
    for path in sorted(RUNTIME.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith(("libcst", "llvmlite", "kiln.frontend")), \
                    f"{path.name}:{node.lineno} imports {name}"
