"""The check of a generated file, kept across runs.

The engine runs the selected codemods over every file a codemod generates (a service module)
and, when they change nothing, checks the text as any rewrite (:func:`verify_rewrite`: it
compiles, a second pass is a fixed point).  A generated module is the same text run after run
(a pre-commit run on a changed route file generates the same services at every commit), so the
verdict is kept in ``.auditfix_cache/generated.pickle``, keyed as a file's result is (the run's
fingerprint, the path, the text) and on what else the check reads: the file's text before the
run.  The index pass's pre-check facts for the path are not read: they are of the text that was
there before, not of the generated one.  The tidied text (imports sorted, new long lines wrapped)
is kept the same way: :func:`codemods.engine.style.tidy` reads the two texts and the style, which
the fingerprint holds (with the isort file's state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from codemods.engine.cache import ResultCache, content_key

if TYPE_CHECKING:
    from pathlib import Path

    from codemods.engine.pipeline import FileOutcome, Plan
    from codemods.options import CodeStyle


class GeneratedChecks:
    """The verdicts of one run, over those kept in ``folder`` (None: nothing kept)."""

    def __init__(self, folder: Path | None, fingerprint: str) -> None:
        self._cache = ResultCache(folder, "generated") if folder is not None else None
        self._fingerprint = fingerprint
        self._used: set[str] = set()
        self._paths: set[str] = set()

    def verdict(self, path: str, old: bytes | None, new: bytes, plan: Plan) -> tuple[FileOutcome, str | None]:
        """The codemods' outcome on ``new`` (generated at ``path``, where ``old`` was) and, when
        it neither fails, generates code nor changes the text, :func:`verify_rewrite`'s verdict."""
        from codemods.engine.pipeline import (
            CHANGED,
            FAILED,
            UNPARSABLE,
            transform_source,
            verify_rewrite,
        )

        self._paths.add(path)
        key = None
        if self._cache is not None:
            before = b"new" if old is None else b"old:" + old
            key = content_key(self._fingerprint, path, before, new)
            kept = self._cache.get(key)
            if isinstance(kept, tuple) and len(kept) == 3:
                self._used.add(key)
                return kept[1], kept[2]
        outcome = transform_source(path, new, plan, indexed=False)
        problem = None
        if outcome.status not in (FAILED, UNPARSABLE) and not outcome.extras and not (outcome.status == CHANGED and outcome.new_source is not None):
            problem = verify_rewrite(path, old, new, plan)
        if key is not None and self._cache is not None and not (outcome.status == FAILED and outcome.detail):
            self._cache.put(key, (path, outcome, problem))  # a codemod crash is not a property of the text
            self._used.add(key)
        return outcome, problem

    def tidied(self, path: str, old: bytes | None, new: bytes, style: CodeStyle) -> bytes:
        """``tidy(old, new, style)`` of the text generated at ``path`` (where ``old`` was)."""
        from codemods.engine.style import tidy

        self._paths.add(path)
        if self._cache is None:
            return tidy(old, new, style)
        before = b"new" if old is None else b"old:" + old
        key = content_key(self._fingerprint, "tidied", path, before, new)
        kept = self._cache.get(key)
        if isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[1], bytes):
            self._used.add(key)
            return kept[1]
        tidied = tidy(old, new, style)
        self._cache.put(key, (path, tidied))
        self._used.add(key)
        return tidied

    def save(self, *, whole_tree: bool) -> None:
        """Keep this run's verdicts; of the others, a run over the whole tree keeps none, a run
        on named files those of the paths it did not generate (each commit's pre-commit run must
        not add an entry for good)."""
        if self._cache is None:
            return
        if whole_tree:
            self._cache.retain(self._used)
        else:
            entries = self._cache.entries
            others = {key for key, kept in entries.items() if isinstance(kept, tuple) and kept and kept[0] not in self._paths}
            self._cache.retain(others | self._used)
        self._cache.save()
