"""Every shortcut around libcst's internals, in one place, behind one switch.

The modules here make auditfix several times faster than plain libcst (see benchmarks/README.md),
but they rely on details of libcst that are not its public API: the code generator's state
(:mod:`.positions`), the visitors' dispatch hooks (:mod:`.traversal`), the nodes' visiting order
(:mod:`.walk`), the matcher machinery and the import visitors' internals (:mod:`.libcst_hooks`),
what those visitors do to a module (:mod:`.imports`), and the nodes' own checks, which the
parser's nodes do not need (:mod:`.parsing`).  Each was proven equal to libcst's
own behaviour on the versions in :data:`VERIFIED_LIBCST`; on any other version, or with
``AUDITFIX_NO_SPEEDUPS=1`` in the environment, every one of them steps aside and libcst's plain
behaviour is used (one warning says so).  Results are the same either way; only speed differs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import warnings
from pathlib import Path

# The libcst releases the shortcuts were verified on: [lowest, highest) as (major, minor).
# pyproject.toml's dependency range is the same (tests/test_layout.py checks it).
VERIFIED_LIBCST = ((1, 5), (1, 10))
SWITCH = "AUDITFIX_NO_SPEEDUPS"


class UnverifiedLibcstWarning(UserWarning):
    """The installed libcst is not one the speed-ups were verified on: they are off."""


# `__version__ = version = '1.9.0'`: the version file libcst's build generates (setuptools-scm)
_VERSION_LINE = re.compile(r"""^__version__[ \t]*=[ \t]*(?:version[ \t]*=[ \t]*)?['"]([0-9]+)\.([0-9]+)""", re.MULTILINE)


def _libcst_version() -> tuple[int, int] | None:
    """libcst's (major, minor): from its generated version file, read without importing libcst or
    importlib.metadata (which costs about 0.02 s, a tenth of the pre-commit check's own work);
    from its distribution's metadata when that file is missing."""
    try:
        spec = importlib.util.find_spec("libcst")
        if spec is not None and spec.origin is not None:
            match = _VERSION_LINE.search(Path(spec.origin).with_name("_version.py").read_text(encoding="utf-8"))
            if match is not None:
                return int(match[1]), int(match[2])
    except (ImportError, OSError, ValueError):
        pass
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
