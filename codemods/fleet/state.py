"""The state of a fleet: one SQLite database in the work folder, ``fleet-state.sqlite``.

Only the process that runs ``auditfix fleet`` writes it (workers only return results), one
transaction per repository as its result arrives: a run killed at any moment has recorded
every repository that finished, and nothing else.  A repository's row keeps its last outcome
(``done``, ``failed`` with the reason, or ``skipped``: up to date with an earlier ``done``),
the commit it was run on, the fingerprint of what ran (auditfix's version and code, codemods
chosen, mode) and the result itself (branches, counts per codemod, findings, files not
processed) as JSON.  Each run is a row of ``runs``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from codemods.fleet.results import DONE, FAILED, SKIPPED, Previous, RepoResult

STATE_FILE_NAME = "fleet-state.sqlite"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL,
    finished TEXT,
    mode TEXT NOT NULL,
    settings TEXT NOT NULL,
    version TEXT NOT NULL,
    repositories INTEGER NOT NULL,
    outcome TEXT  -- NULL while running (or killed); 'completed' or 'interrupted'
);
CREATE TABLE IF NOT EXISTS repositories (
    name TEXT PRIMARY KEY,
    location TEXT NOT NULL,
    branch TEXT,
    status TEXT NOT NULL,  -- done, failed or skipped
    reason TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result TEXT NOT NULL,  -- RepoResult as JSON
    run_id INTEGER NOT NULL REFERENCES runs (id),  -- the run that recorded this outcome
    done_run_id INTEGER,  -- the run that last did the work (skipped rows keep it)
    updated TEXT NOT NULL
);
"""


class StateError(Exception):
    """The state database cannot be opened or belongs to another version of auditfix."""


@dataclasses.dataclass(frozen=True)
class Record:
    """A repository's row: its last outcome and the result of the run that did the work."""

    name: str
    location: str
    branch: str | None
    status: str
    reason: str
    commit: str
    fingerprint: str
    result: RepoResult
    run_id: int
    done_run_id: int | None
    updated: str

    def previous(self) -> Previous:
        return Previous(
            self.status,
            self.commit,
            self.fingerprint,
            tuple((b.branch, b.commit) for b in self.result.made_branches),
        )


class StateStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            # isolation_level=None: transactions are explicit, one per recorded repository.
            self.connection = sqlite3.connect(path, isolation_level=None, timeout=30)
            self.connection.execute("PRAGMA foreign_keys = ON")
            self.connection.executescript(_SCHEMA)  # idempotent; executescript commits by itself
            with self._transaction():
                self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{path}: cannot use the fleet state: {exc}") from None

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def _check_schema(self) -> None:
        row = self.connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self.connection.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise StateError(
                f"{self.path}: written by another version of auditfix (state schema {row[0]}, this one reads "
                f"{SCHEMA_VERSION}); use another --workdir"
            )

    # runs ---------------------------------------------------------------------------------------

    def begin_run(self, mode: str, settings: dict[str, Any], version: str, repositories: int) -> int:
        with self._transaction():
            cursor = self.connection.execute(
                "INSERT INTO runs (started, mode, settings, version, repositories) VALUES (?, ?, ?, ?, ?)",
                (_now(), mode, json.dumps(settings, sort_keys=True), version, repositories),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(self, run_id: int, outcome: str) -> None:
        with self._transaction():
            self.connection.execute("UPDATE runs SET finished = ?, outcome = ? WHERE id = ?", (_now(), outcome, run_id))

    def runs(self) -> list[dict[str, Any]]:
        cursor = self.connection.execute("SELECT * FROM runs ORDER BY id")
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row)) for row in cursor.fetchall()]

    # repositories -------------------------------------------------------------------------------

    def record(self, run_id: int, result: RepoResult) -> Record:
        """Store one repository's outcome (its own transaction); a skip keeps the earlier result."""
        with self._transaction():
            earlier = self.connection.execute(
                "SELECT done_run_id, result FROM repositories WHERE name = ?", (result.name,)
            ).fetchone()
            if result.status == SKIPPED and earlier is not None:
                kept = dataclasses.replace(
                    RepoResult.from_dict(json.loads(earlier[1])), status=SKIPPED, reason=result.reason,
                    seconds=result.seconds, worker=result.worker,
                )  # fmt: skip
                done_run_id = earlier[0]
            else:
                kept = result
                done_run_id = run_id if result.status == DONE else earlier[0] if earlier is not None else None
            record = Record(
                result.name, result.location, result.branch, result.status, result.reason, kept.commit, kept.fingerprint,
                kept, run_id, done_run_id, _now(),
            )  # fmt: skip
            self.connection.execute(
                """INSERT INTO repositories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (name) DO UPDATE SET location = excluded.location, branch = excluded.branch,
                   status = excluded.status, reason = excluded.reason, commit_sha = excluded.commit_sha,
                   fingerprint = excluded.fingerprint, result = excluded.result, run_id = excluded.run_id,
                   done_run_id = excluded.done_run_id, updated = excluded.updated""",
                (
                    record.name, record.location, record.branch, record.status, record.reason, record.commit,
                    record.fingerprint, json.dumps(kept.to_dict()), run_id, done_run_id, record.updated,
                ),
            )  # fmt: skip
        return record

    def get(self, name: str) -> Record | None:
        return self._get(name)

    def records(self, names: Sequence[str]) -> dict[str, Record]:
        found = {}
        for name in names:
            record = self._get(name)
            if record is not None:
                found[name] = record
        return found

    def _get(self, name: str) -> Record | None:
        row = self.connection.execute(
            "SELECT name, location, branch, status, reason, commit_sha, fingerprint, result, run_id, done_run_id, updated "
            "FROM repositories WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return None
        name, location, branch, status, reason, commit, fingerprint, result, run_id, done_run_id, updated = row
        return Record(
            name, location, branch, status, reason, commit, fingerprint, RepoResult.from_dict(json.loads(result)),
            run_id, done_run_id, updated,
        )  # fmt: skip


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["DONE", "FAILED", "SKIPPED", "STATE_FILE_NAME", "Record", "StateError", "StateStore"]
