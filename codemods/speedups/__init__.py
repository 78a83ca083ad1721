"""Every shortcut around libcst's internals, in one place, behind one switch.

The modules here make auditfix several times faster than plain libcst (see benchmarks/README.md),
but they rely on details of libcst that are not its public API: the code generator's state
(:mod:`.positions`), the visitors' dispatch hooks (:mod:`.traversal`), the nodes' visiting order
(:mod:`.walk`), the matcher machinery and the import visitors' internals (:mod:`.libcst_hooks`),
and what those visitors do to a module (:mod:`.imports`).  Each was proven equal to libcst's
own behaviour on the versions in :data:`VERIFIED_LIBCST`; on any other version, or with
``AUDITFIX_NO_SPEEDUPS=1`` in the environment, every one of them steps aside and libcst's plain
behaviour is used (one warning says so).  Results are the same either way; only speed differs.
"""

from __future__ import annotations

import os
import warnings

# The libcst releases the shortcuts were verified on: [lowest, highest) as (major, minor).
# pyproject.toml's dependency range is the same (tests/test_layout.py checks it).
VERIFIED_LIBCST = ((1, 5), (1, 10))
SWITCH = "AUDITFIX_NO_SPEEDUPS"


class UnverifiedLibcstWarning(UserWarning):
    """The installed libcst is not one the speed-ups were verified on: they are off."""


def _libcst_version() -> tuple[int, int] | None:
    from importlib import metadata

    try:
        parts = metadata.version("libcst").split(".")
        return int(parts[0]), int(parts[1])
    except (metadata.PackageNotFoundError, ValueError, IndexError):
        return None


def _decide() -> bool:
    if os.environ.get(SWITCH, "") not in ("", "0"):
        return False
    version = _libcst_version()
    low, high = VERIFIED_LIBCST
    if version is None or not low <= version < high:
        shown = "unknown" if version is None else ".".join(map(str, version))
        warnings.warn(
            f"auditfix: libcst {shown} is not a version its speed-ups were verified on "
            f"({'.'.join(map(str, low))} to below {'.'.join(map(str, high))}); using libcst's plain behaviour "
            "(same results, slower)",
            UnverifiedLibcstWarning,
            stacklevel=2,
        )
        return False
    return True


ENABLED: bool = _decide()
