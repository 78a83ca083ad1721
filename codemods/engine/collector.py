"""Fewer runs of Python's cycle collector while a run holds many long-lived objects.

A run keeps what it learnt while it goes on: the whole-tree indexes, the pre-check summaries, the
CPython trees the index pass hands to the rewriting pass, the findings and the new texts.  With
CPython's default thresholds (700, 10, 10) the collector's youngest generation runs every 700 new
objects, and every hundredth of those runs becomes a full collection that visits every object
alive, those long-lived ones included.  On apache-superset 3.1.0 (903 files, one process) that
was 1,743 young and 12 full collections, 1.3-2.2 s of a 9-11 s run, and the full ones grow with
the size of the tree: a superlinear cost in the number of files.

Almost nothing a run allocates is cyclic (libcst's nodes are immutable and point only to their
children; CPython's trees likewise), so reference counting frees it and the collector finds little.
A young generation of 10,000 objects cuts the collections to 73 young and no full one on superset,
and peak memory stays the same (117 MB).  The older generations keep CPython's ratios, so cyclic
garbage is still collected, later.  The thresholds are put back when the run ends: auditfix may run
inside another program (the tests, a fleet worker), and a worker process forked during the run
inherits them.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNGEST = 10_000  # new objects between two collections of the youngest generation (CPython: 700)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the youngest generation's threshold to :data:`YOUNGEST` (never lower it) for the block."""
    before = gc.get_threshold()
    if before[0] == 0 or before[0] >= YOUNGEST:  # collection off, or already as rare: left alone
        yield
        return
    gc.set_threshold(YOUNGEST, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
