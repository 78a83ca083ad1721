"""What a full run finds and changes, as one JSON file: the proof that a speed-up changed nothing.

    python benchmarks/fingerprint.py CORPUS OUT.json [--jobs N]
    PYTHONPATH=<other checkout> python benchmarks/fingerprint.py CORPUS OTHER.json
    cmp OUT.json OTHER.json

Runs every registered codemod (``Engine.run``, no cache) over a fresh copy of ``CORPUS`` and
writes every finding (path, line, column, codemod, message, fixable), the SHA-256 of every new
file text with the codemods that made it, and every failed file.  The number of files parsed is
printed, not written: a tighter pre-check parses fewer files for the same result.  The auditfix
that runs is whichever ``codemods`` package Python imports (put a checkout first on
``PYTHONPATH`` to fingerprint it).  CPU seconds of the run are printed too (this process only:
with ``--jobs`` above 1 the workers' time is not in them).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path


def fingerprint(corpus: Path, jobs: int = 1) -> tuple[dict[str, list], int, float]:
    from codemods.engine.config import resolve
    from codemods.engine.runner import Engine
    from codemods.registry import REGISTRY

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / corpus.name
        shutil.copytree(corpus, root, ignore=shutil.ignore_patterns(".auditfix_cache", "__pycache__"))
        settings = resolve(root, REGISTRY, jobs=jobs, cache=False)
        started = time.process_time()
        report = Engine(root, settings).run()
        cpu = time.process_time() - started
    data = {
        "findings": sorted([f.path, f.line, f.column, f.codemod, f.message, f.fixable] for f in report.findings),
        "changes": sorted([c.path, hashlib.sha256(c.new).hexdigest(), list(c.codemods)] for c in report.changes),
        "failed": sorted([p.path, p.message] for p in report.failed),
    }
    return data, report.parsed, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="a folder of Python code (copied; never changed)")
    parser.add_argument("out", type=Path, help="where the JSON goes")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"not a folder: {args.corpus}")
    data, parsed, cpu = fingerprint(args.corpus, args.jobs)
    args.out.write_text(json.dumps(data, indent=0) + "\n")
    print(
        f"{args.corpus.name}: {len(data['findings'])} findings, {len(data['changes'])} changes, "
        f"{len(data['failed'])} failed, {parsed} parsed, {cpu:.2f} CPU s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
