"""route-commit: the rule (:mod:`.rule`), its route and data-flow analysis (:mod:`.flow`) and the
service modules it writes (:mod:`.services`)."""

from codemods.rules.route_commit.rule import RouteCommit

__all__ = ["RouteCommit"]
