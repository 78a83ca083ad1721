"""The code the benchmarks run on: PyPI source distributions and a replicated sample_repo.

Everything lives in a cache folder outside the repository (``~/.cache/auditfix-benchmarks``,
or ``$AUDITFIX_BENCH_CACHE``, or ``--cache-dir``), so no downloaded code is ever committed:

    downloads/<name>-<version>/   the sdist exactly as ``pip download`` fetched it
    src/<name>-<version>/         its ``.py`` files, unpacked once (marked complete by ``.complete``)
    work/<corpus>/                a fresh copy per benchmark run: the runs put their cache here

Only ``.py`` files are unpacked: auditfix and the floor look at nothing else, and superset's
sdist is mostly frontend assets.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

DEFAULT_CACHE = Path("~/.cache/auditfix-benchmarks")
CACHE_ENVIRONMENT_VARIABLE = "AUDITFIX_BENCH_CACHE"
_COMPLETE = ".complete"

# The real-world corpora of issue 7 (pip requirement specifiers).
LANGCHAIN = "langchain==0.0.350"
SUPERSET = "apache-superset==3.1.0"
# Public sdists with Pydantic v1 ``class Config`` blocks on the real v1 API: pydantic-config against
# bump-pydantic.  fastapi 0.99.1 (the last release before Pydantic v2): 47, most in its docs
# examples and its OpenAPI models; openapi-schema-pydantic 1.2.4: 53, with renamed keys
# (schema_extra, allow_population_by_field_name) in most.
PYDANTIC_V1 = ("fastapi==0.99.1", "openapi-schema-pydantic==1.2.4")



class CorpusError(Exception):
    """A corpus could not be downloaded or unpacked; the message says which and why."""


@dataclasses.dataclass(frozen=True)
class Corpus:
    name: str  # shown in the table: "langchain-0.0.350", "sample_repo x10"
    path: Path  # a working copy the benchmark may put caches into
    files: int
    lines: int


def cache_root(override: str | Path | None = None) -> Path:
    chosen = override or os.environ.get(CACHE_ENVIRONMENT_VARIABLE) or DEFAULT_CACHE
    return Path(chosen).expanduser().resolve()


def _folder_name(requirement: str) -> str:
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9._+!-]+)\s*", requirement)
    if match is None:
        raise CorpusError(f"{requirement!r}: expected an exact pin such as 'name==1.2.3'")
    return f"{match.group(1)}-{match.group(2)}"


def fetch_sdist(requirement: str, cache: Path) -> Path:
    """The unpacked ``.py`` files of ``requirement``'s source distribution, downloading it once."""
    name = _folder_name(requirement)
    target = cache / "src" / name
    if (target / _COMPLETE).is_file():
        return target
    downloads = cache / "downloads" / name
    archive = _downloaded_archive(downloads)
    if archive is None:
        downloads.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "--quiet", requirement, "-d", str(downloads)]
        result = subprocess.run(command, capture_output=True, text=True)
        archive = _downloaded_archive(downloads)
        if result.returncode != 0 or archive is None:
            raise CorpusError(f"pip download {requirement} failed: {result.stderr.strip()[-2000:]}")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for relative, data in _python_members(archive):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)
    (target / _COMPLETE).write_text(f"{requirement}\n{archive.name}\n")
    return target


def _downloaded_archive(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    archives = sorted(p for p in folder.iterdir() if p.name.endswith((".tar.gz", ".tgz", ".zip")))
    return archives[0] if archives else None


def _safe_relative(name: str) -> str | None:
    """The member's path below the archive's top folder, or None if it is not a safe .py path."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if len(parts) < 2 or not parts[-1].endswith(".py") or ".." in parts:
        return None
    return "/".join(parts[1:])


def _python_members(archive: Path) -> Iterator[tuple[str, bytes]]:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                relative = _safe_relative(info.filename)
                if relative is not None and not info.is_dir():
                    yield relative, bundle.read(info)
        return
    with tarfile.open(archive, "r:*") as bundle:
        for member in bundle:
            relative = _safe_relative(member.name)
            if relative is None or not member.isreg():
                continue
            handle = bundle.extractfile(member)
            if handle is not None:
                yield relative, handle.read()


def replicate(source: Path, copies: int, target: Path) -> Path:
    """``copies`` copies of ``source``'s ``.py`` files under ``target/copy_NNN/``.

    Each file ends with a comment naming its copy, so no two texts are equal: what auditfix
    shares between equal texts read one after another (a parse) must not make the copies
    cheaper than the original code.
    """
    if target.exists():
        shutil.rmtree(target)
    files = [p for p in sorted(source.rglob("*.py")) if not _in_hidden_or_cache_folder(p.relative_to(source))]
    for number in range(1, copies + 1):
        folder = target / f"copy_{number:03d}"
        for path in files:
            destination = folder / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            ending = b"" if not data or data.endswith(b"\n") else b"\n"
            destination.write_bytes(data + ending + f"# sample_repo copy {number}\n".encode())
    return target


def _in_hidden_or_cache_folder(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts[:-1])


def working_copy(source: Path, target: Path) -> Path:
    """A fresh copy of ``source`` (its ``.py`` files) that runs may leave caches in."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(_COMPLETE, ".auditfix_cache", "__pycache__"))
    return target


MIGRATING_TO_PYDANTIC_2 = """
# Added by auditfix's benchmark: this copy is being migrated to Pydantic 2, so the Pydantic
# codemods convert although its code still uses what only Pydantic 1 has.
[tool.auditfix.pydantic-config]
pydantic-version = 2

[tool.auditfix.pydantic-api]
pydantic-version = 2
"""


def migrating_to_pydantic_2(copy: Path) -> Path:
    """Say in ``copy``'s pyproject.toml (created if missing) that it moves to Pydantic 2 now."""
    project = copy / "pyproject.toml"
    text = project.read_text(encoding="utf-8") if project.is_file() else ""
    if "[tool.auditfix" not in text:
        project.write_text(text.rstrip("\n") + "\n" + MIGRATING_TO_PYDANTIC_2, encoding="utf-8")
    return copy


def measure(name: str, path: Path) -> Corpus:
    """Count files and lines (this also brings every file into the page cache before timing)."""
    files = lines = 0
    for file in path.rglob("*.py"):
        if file.is_file():
            files += 1
            lines += file.read_bytes().count(b"\n")
    return Corpus(name, path, files, lines)
