"""libcst's ``parse_module`` without validating the nodes its own parser builds.

Every libcst node checks itself when it is built (``CSTNode.__post_init__`` calls ``_validate``:
whitespace against a pattern, parentheses that match, operators with their spaces).  Those checks
exist for trees a program assembles by hand.  The native parser only builds nodes from text it
has just read, so the checks can never fail there, yet they cost a quarter to a third of every
parse (on apache-superset's files: 4.1 s against 2.8-3.1 s for 400 files).

Never, that is, for text CPython's parser accepts.  libcst's grammar is looser than CPython's in a
few places that only the checks catch (``b"x" "y"``, bytes next to str, is read, then rejected
by ``ConcatenatedString``'s check), so the caller says whether CPython parsed this very text; if
not, the parse keeps its checks and fails as libcst's does.

:func:`parse_module` turns the checks off for the parse alone and back on before it returns, in
the main thread only: a node another thread builds in the meantime would go unchecked, so any
other thread (fleet mode's Dask workers) gets libcst's plain parse.  With the speed-ups off (see
:mod:`codemods.speedups`) it is libcst's ``parse_module``.
"""

from __future__ import annotations

import threading

import libcst as cst
from libcst._nodes.base import CSTNode

from codemods.speedups import ENABLED

_VALIDATING = CSTNode.__post_init__


def _unchecked(self: CSTNode) -> None:
    """A node the parser built from text it read is valid by construction."""


def parse_module(source: str | bytes, *, python_parses: bool) -> cst.Module:
    """What ``cst.parse_module(source)`` returns (an equal tree, or the same exception).

    ``python_parses``: CPython's parser accepted ``source`` (the caller parsed it with ``ast``).
    """
    if not (ENABLED and python_parses) or threading.current_thread() is not threading.main_thread():
        return cst.parse_module(source)
    CSTNode.__post_init__ = _unchecked  # type: ignore[method-assign]
    try:
        return cst.parse_module(source)
    finally:
        CSTNode.__post_init__ = _VALIDATING  # type: ignore[method-assign]
