"""loop-commit: the rule (:mod:`.rule`) and its planner (:mod:`.planner`)."""

from codemods.rules.loop_commit.rule import LoopCommit

__all__ = ["LoopCommit"]
