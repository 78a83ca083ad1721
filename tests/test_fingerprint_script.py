"""benchmarks/fingerprint.py: the same tree gives the same file, any change in what auditfix
finds or writes gives another, and the corpus itself is never touched."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks import fingerprint

SAMPLE = Path(__file__).resolve().parent.parent / "sample_repo"
IGNORED = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".auditfix_cache", "*.db")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(SAMPLE / "flask_app", target / "flask_app", ignore=IGNORED)
    return target


def run(corpus: Path, out: Path) -> dict:
    assert fingerprint.main([str(corpus), str(out)]) == 0
    return json.loads(out.read_text())


def test_the_same_tree_gives_the_same_bytes_and_stays_as_it_was(corpus: Path, tmp_path: Path) -> None:
    before = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    first = run(corpus, tmp_path / "a.json")
    run(corpus, tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert first["findings"] and first["changes"]  # sample_repo's Flask app is full of audited patterns
    assert {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()} == before


def test_a_different_result_gives_different_bytes(corpus: Path, tmp_path: Path) -> None:
    first = run(corpus, tmp_path / "a.json")
    module = corpus / "flask_app" / "extra.py"
    module.write_text("def f():\n    try:\n        g()\n    except:\n        pass\n")
    second = run(corpus, tmp_path / "b.json")
    assert second != first
    assert any(path == "flask_app/extra.py" for path, *_ in second["findings"])


def test_a_missing_corpus_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        fingerprint.main([str(tmp_path / "nowhere"), str(tmp_path / "out.json")])
    assert "not a folder" in capsys.readouterr().err
