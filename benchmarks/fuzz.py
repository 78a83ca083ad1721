"""Run auditfix's promise checks on thousands of generated programs.

    python benchmarks/fuzz.py --examples 5000
    python benchmarks/fuzz.py --examples 500 --codemod print-to-logging --alone --seed 7

Every example goes through the full pipeline (all codemods, in registry order); with
``--alone`` also through each codemod by itself.  The checks are those of
``tests/fuzz/checks.py``: no crash, no refusal by the pipeline's safety net, every change
reported, the output parses and compiles, a second run changes nothing; every
``--tree-every``-th example also runs a two-module package through the engine, and every
``--dry-run-every``-th checks that the ``run --dry-run`` diff applies with ``git apply`` to the
bytes ``run --write`` writes.

Prints the examples run, what changed, every distinct violation with a reproducer shrunk
line by line, and the seconds taken.  Exit status 1 when a promise was broken.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from codemods import REGISTRY  # noqa: E402
from codemods.base import Codemod  # noqa: E402
from tests.fuzz import strategies  # noqa: E402
from tests.fuzz.checks import (  # noqa: E402
    Violation,
    check_dry_run_applies_like_write,
    check_program,
    check_tree,
    codemod_by_name,
)

# Share of the examples each kind of program gets (the rest are plain pattern programs).
MIXTURE = {"grammar": 0.08, "prints": 0.07}


@dataclasses.dataclass
class Found:
    count: int
    violation: Violation
    reproducer: str | dict[str, str]
    codemods: tuple[type[Codemod], ...]


@dataclasses.dataclass
class Tally:
    examples: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    changed_by: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    found: dict[str, Found] = dataclasses.field(default_factory=dict)
    done: int = 0

    def record(self, violation: Violation, reproducer: str | dict[str, str], codemods: tuple[type[Codemod], ...]) -> None:
        known = self.found.get(violation.signature)
        if known is None:
            self.found[violation.signature] = Found(1, violation, reproducer, codemods)
            return
        known.count += 1
        if _size(reproducer) < _size(known.reproducer):
            known.reproducer = reproducer


def _size(reproducer: str | dict[str, str]) -> int:
    return len(reproducer) if isinstance(reproducer, str) else sum(map(len, reproducer.values()))


def _guarded(check: Callable[[], object], codemods: Sequence[type[Codemod]]) -> object:
    """Run a check; anything escaping it other than a Violation is a violation too."""
    try:
        return check()
    except Violation:
        raise
    except Exception as exc:  # noqa: BLE001 - an exception escaping the engine breaks the first promise
        raise Violation("escaped", [c.name for c in codemods], f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}") from exc


def check_source(source: str, sets: Sequence[tuple[type[Codemod], ...]], tally: Tally) -> None:
    for codemods in sets:
        try:
            outcome = _guarded(lambda: check_program(source, codemods), codemods)
        except Violation as violation:
            tally.record(violation, source, codemods)
            continue
        if len(codemods) > 1:
            tally.statuses[outcome.status] += 1
            tally.changed_by.update(outcome.changed_by)


def check_files(files: dict[str, str], codemods: tuple[type[Codemod], ...], tally: Tally, dry_run: bool) -> None:
    try:
        _guarded(lambda: check_tree(files, codemods), codemods)
        if dry_run:
            _guarded(lambda: check_dry_run_applies_like_write(files, codemods), codemods)
    except Violation as violation:
        tally.record(violation, files, codemods)


def run_strategy(
    name: str, strategy: st.SearchStrategy, examples: int, run_seed: int, visit: Callable[[object], None], tally: Tally
) -> None:
    if examples <= 0:
        return

    @seed(run_seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def each(example: object) -> None:
        tally.examples[name] += 1
        tally.done += 1
        visit(example)
        if tally.done % 100 == 0:
            print(f"  ... {tally.done} examples, {len(tally.found)} distinct violations", file=sys.stderr, flush=True)

    each()


# -- shrinking a reproducer --------------------------------------------------------------------------


def shrink(source: str, still_fails: Callable[[str], bool], budget_seconds: float) -> str:
    """Delete ever smaller runs of lines while the program still compiles and still fails."""
    deadline = time.monotonic() + budget_seconds
    lines = source.splitlines(keepends=True)
    size = max(len(lines) // 2, 1)
    while size >= 1 and time.monotonic() < deadline:
        start = 0
        while start < len(lines) and time.monotonic() < deadline:
            candidate = lines[:start] + lines[start + size :]
            text = "".join(candidate)
            if candidate and strategies.compiles(text) and strategies.parses_with_libcst(text) and still_fails(text):
                lines = candidate
            else:
                start += size
        size //= 2
    return "".join(lines)


def shrink_found(found: Found, budget_seconds: float) -> None:
    if not isinstance(found.reproducer, str):
        return
    signature = found.violation.signature

    def still_fails(text: str) -> bool:
        try:
            _guarded(lambda: check_program(text, found.codemods), found.codemods)
        except Violation as violation:
            return violation.signature == signature
        return False

    found.reproducer = shrink(found.reproducer, still_fails, budget_seconds)


# -- the command -----------------------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=500, help="programs to generate (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0: the same programs every time)")
    parser.add_argument("--codemod", action="append", default=[], help="codemod to run (repeatable; default: the registry)")
    parser.add_argument("--alone", action="store_true", help="also run each codemod by itself on every program")
    parser.add_argument("--nodes", action="store_true", help="generate modules from libcst nodes too (slow)")
    parser.add_argument("--tree-every", type=int, default=50, help="every Nth example also runs a package through the engine")
    parser.add_argument("--dry-run-every", type=int, default=250, help="every Nth example also checks --dry-run against --write")
    parser.add_argument("--shrink-seconds", type=float, default=60.0, help="time to shrink each distinct violation")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    codemods = tuple(codemod_by_name(n) for n in arguments.codemod) if arguments.codemod else REGISTRY
    if not codemods:
        print("no codemod to run: the registry is empty and no --codemod was given", file=sys.stderr)
        return 2
    sets: list[tuple[type[Codemod], ...]] = [codemods]
    if arguments.alone and len(codemods) > 1:
        sets += [(c,) for c in codemods]
    tally = Tally()
    started = time.perf_counter()
    total = arguments.examples
    shares = {kind: int(total * share) for kind, share in MIXTURE.items()}
    trees = total // arguments.tree_every if arguments.tree_every else 0
    dry_runs = total // arguments.dry_run_every if arguments.dry_run_every else 0
    programs = total - sum(shares.values()) - trees
    print(
        f"auditfix fuzz: {total} examples, seed {arguments.seed}, codemods: {', '.join(c.name for c in codemods)}"
        f"{' (and each alone)' if len(sets) > 1 else ''}",
        flush=True,
    )

    def source_visitor(example: object) -> None:
        check_source(str(example), sets, tally)

    run_strategy("pattern programs", strategies.valid(strategies.programs()), programs, arguments.seed, source_visitor, tally)
    module_strategy = strategies.valid(strategies.grammar_module_with_pattern(from_nodes=arguments.nodes))
    run_strategy("hypothesmith module + pattern", module_strategy, shares["grammar"], arguments.seed, source_visitor, tally)
    prints = strategies.valid(strategies.prints_of_generated_expressions())
    run_strategy("prints of hypothesmith expressions", prints, shares["prints"], arguments.seed, source_visitor, tally)

    tree_number = 0

    def tree_visitor(example: object) -> None:
        nonlocal tree_number
        tree_number += 1
        files = dict(example)  # type: ignore[call-overload]
        wants_dry_run = bool(dry_runs) and tree_number <= dry_runs
        check_files(files, codemods, tally, wants_dry_run)

    packages = st.one_of(
        strategies.model_package(),
        strategies.route_package(),
        st.tuples(strategies.valid(strategies.programs()), strategies.valid(strategies.programs())).map(
            lambda pair: {"app/__init__.py": "", "app/views.py": pair[0], "app/jobs.py": pair[1]}
        ),
    )
    run_strategy("packages through the engine", packages, trees, arguments.seed, tree_visitor, tally)
    generated_seconds = time.perf_counter() - started

    for found in tally.found.values():
        shrink_found(found, arguments.shrink_seconds)
    report(tally, generated_seconds, time.perf_counter() - started, dry_runs)
    return 1 if tally.found else 0


def report(tally: Tally, checked_seconds: float, total_seconds: float, dry_runs: int) -> None:
    print(f"examples: {tally.done} ({', '.join(f'{n} {k}' for k, n in tally.examples.items())})")
    print(f"  of which packages also checked with --dry-run against --write: {min(dry_runs, tally.examples['packages through the engine'])}")
    print(f"full-pipeline outcomes: {', '.join(f'{n} {s}' for s, n in sorted(tally.statuses.items()))}")
    print(f"programs changed per codemod: {', '.join(f'{n} {c}' for c, n in tally.changed_by.most_common()) or 'none'}")
    total_violations = sum(f.count for f in tally.found.values())
    print(f"violations: {total_violations} ({len(tally.found)} distinct)")
    for number, (signature, found) in enumerate(sorted(tally.found.items()), start=1):
        print(f"\n[{number}] {signature}  (x{found.count})")
        print("    " + "\n    ".join(found.violation.message.strip().splitlines()[:12]))
        print("  reproducer:")
        if isinstance(found.reproducer, str):
            print("    | " + "\n    | ".join(found.reproducer.splitlines()))
        else:
            for path, text in found.reproducer.items():
                print(f"    # {path}\n    | " + "\n    | ".join(text.splitlines()))
    print(f"\nseconds: {total_seconds:.1f} ({checked_seconds / max(tally.done, 1):.2f} per example, shrinking included in the total)")


if __name__ == "__main__":
    sys.exit(main())
