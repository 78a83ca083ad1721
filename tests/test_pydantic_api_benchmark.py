"""benchmarks/pydantic_api.py keeps working: its pieces that need no download or bump-pydantic.

Nothing here is timed; the full script downloads its corpus and is run by hand (benchmarks/README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks import pydantic_api as bench


def test_import_check_classifies_outcomes(tmp_path: Path) -> None:
    files = {
        "clean.py": "from pydantic import BaseModel\nclass A(BaseModel):\n    x: int\n",
        "v1.py": "from pydantic import BaseModel\nclass A(BaseModel):\n    class Config:\n        orm_mode = True\n",
        "missing.py": "import package_that_is_not_installed\n",
        "broken.py": "raise RuntimeError('boom')\n",
    }
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    outcomes = bench.check_imports(tmp_path, sorted(files), sys.executable)
    assert {path: kind for path, (kind, _) in outcomes.items()} == {
        "broken.py": bench.OTHER,
        "clean.py": bench.CLEAN,
        "missing.py": bench.MISSING,
        "v1.py": bench.PYDANTIC,
    }


def test_compare_counts_changed_files_and_lines(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\ny = 2\n")
    (tmp_path / "b.py").write_text("same\n")
    changed, lines = bench.compare({"a.py": b"x = 1\ny = 3\n", "b.py": b"same\n"}, tmp_path)
    assert (changed, lines) == (["a.py"], 2)


def test_markdown_table_has_a_row_per_tool() -> None:
    results = [bench.ToolResult("unconverted (baseline)", imports={bench.CLEAN: 1}), bench.ToolResult("auditfix", 1.5, 1.2, 3, 10, 7, 1)]
    table = bench.markdown("corpus-1.0", results, 2, "docs_src")
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 3 and rows[2].startswith("| auditfix | 1.50 | 1.20 | 3 | 10 | 7 | 1 |")
