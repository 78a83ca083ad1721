"""`run --write` over one tree of hundreds of generated programs, and killed runs finished.

    python benchmarks/write_runs.py                      # 500 programs, 5 kills
    python benchmarks/write_runs.py --programs 200 --kills 3 --seed 4 --jobs 2

1. Writes ``--programs`` generated programs (route packages with and without their service
   module, and pattern programs) into one folder and runs ``auditfix run --write`` on it:
   the failed files must be 0 (one bad generated file must never fail others).
2. Runs it again: it must change nothing (a fixed point in one run).
3. ``--kills`` times, on a fresh copy: runs ``run --write`` and SIGKILLs it at a moment spread
   over its write phase (just before or just after the nth file replace), then runs
   ``run --write`` again: the tree must equal the uninterrupted result byte for byte.

Prints the figures and the seconds; exit status 1 when a promise was broken.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
if str(REPOSITORY) not in sys.path:
    sys.path.insert(0, str(REPOSITORY))

from tests.fuzz.checks import read_tree, write_tree  # noqa: E402
from tests.fuzz.trees import generated_tree, run_write, summary_numbers  # noqa: E402


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--programs", type=int, default=500)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    return parser.parse_args(argv)


def kill_moments(changed: int, kills: int) -> list[tuple[int, str]]:
    """Moments spread over the write phase: the journal is replace 1, the files 2..changed+1."""
    moments = []
    for number in range(kills):
        call = 1 + round(number * changed / max(kills - 1, 1))
        moments.append((max(call, 1), "before" if number % 2 else "after"))
    return moments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    broken: list[str] = []
    started = time.perf_counter()
    tree = generated_tree(arguments.programs, arguments.seed)
    print(f"auditfix write runs: {arguments.programs} programs ({len(tree)} files), seed {arguments.seed}, "
          f"jobs {arguments.jobs}; generated in {time.perf_counter() - started:.1f} s", flush=True)
    with tempfile.TemporaryDirectory(prefix="auditfix-write-runs-") as scratch:
        original = Path(scratch, "original")
        write_tree(original, tree)
        reference = Path(scratch, "reference")
        shutil.copytree(original, reference)
        clock = time.perf_counter()
        first = run_write(reference, jobs=arguments.jobs)
        first_seconds = time.perf_counter() - clock
        numbers = summary_numbers(first.stderr)
        print(f"first run --write: {numbers['changed']} changed, {numbers['written']} written, "
              f"{numbers['skipped']} skipped, {numbers['failed']} failed; exit {first.returncode}; {first_seconds:.1f} s")
        if numbers["failed"]:
            broken.append(f"{numbers['failed']} failed files")
            print("\n".join(line for line in first.stderr.splitlines() if line.startswith("failed")))
        expected = read_tree(reference)
        clock = time.perf_counter()
        second = run_write(reference, jobs=arguments.jobs)
        again = summary_numbers(second.stderr)
        unchanged = read_tree(reference) == expected
        print(f"second run --write: {again['changed']} changed, {again['failed']} failed, tree unchanged: {unchanged}; "
              f"{time.perf_counter() - clock:.1f} s")
        if again["changed"] or not unchanged:
            broken.append("the second run changed something")
        for number, moment in enumerate(kill_moments(numbers["changed"], arguments.kills), 1):
            folder = Path(scratch, f"killed-{number}")
            shutil.copytree(original, folder)
            killed = run_write(folder, jobs=arguments.jobs, kill=moment)
            halfway = read_tree(folder)
            done = sum(1 for path, data in halfway.items() if expected.get(path) == data and tree.get(path, "").encode() != data)
            finished = run_write(folder, jobs=arguments.jobs)
            equal = read_tree(folder) == expected
            failed = summary_numbers(finished.stderr)["failed"]
            print(f"kill {number}: SIGKILL {moment[1]} replace {moment[0]} (exit {killed.returncode}), "
                  f"{done} of {numbers['changed']} files written; next run: {failed} failed, byte-equal: {equal}")
            if killed.returncode != -signal.SIGKILL:
                broken.append(f"kill {number} did not happen (exit {killed.returncode})")
            if not equal:
                broken.append(f"kill {number} was not finished to the byte")
            if failed != numbers["failed"]:
                broken.append(f"kill {number}: the finishing run failed {failed} files, the uninterrupted one {numbers['failed']}")
    print(f"seconds: {time.perf_counter() - started:.1f}")
    print("every promise kept" if not broken else "BROKEN: " + "; ".join(broken))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
