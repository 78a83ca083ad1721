"""Git mode: one reviewed branch per codemod, built in temporary worktrees and refreshed by
every later run (see docs/git-mode.md).

- :mod:`codemods.git.run`: the run, its branches (created, rebuilt, deleted, kept) and worktrees
- :mod:`codemods.git.verify`: ``--verify`` and the per-package split of a large change
- :mod:`codemods.git.safety`: the repository lock, signals, the git environment
"""

from codemods.git.run import (
    BUILT_REFS,
    CACHE_DIR_NAME,
    CREATED,
    DELETED,
    FAILED,
    KEPT,
    LOCK_FILE_NAME,
    NO_CHANGES,
    REFRESHED,
    REFUSED,
    REPLACED,
    UP_TO_DATE,
    WORKTREES_DIR_NAME,
    CategoryChange,
    CategoryResult,
    GitOptions,
    GitRunResult,
    open_repository,
    run_git_mode,
)
from codemods.git.safety import GitModeError, RepositoryLock, Terminated

__all__ = [
    "BUILT_REFS", "CACHE_DIR_NAME", "CREATED", "DELETED", "FAILED", "KEPT", "LOCK_FILE_NAME", "NO_CHANGES",
    "REFRESHED", "REFUSED", "REPLACED", "UP_TO_DATE", "WORKTREES_DIR_NAME", "CategoryChange", "CategoryResult",
    "GitModeError", "GitOptions", "GitRunResult", "RepositoryLock", "Terminated", "open_repository", "run_git_mode",
]  # fmt: skip
