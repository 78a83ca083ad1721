"""The console script ``auditfix`` (``[project.scripts]`` in pyproject.toml).

It puts the dataclass code table in place (:mod:`codemods.engine.dataclass_code`) before any
other module of auditfix is imported, so the classes of the engine's own modules come from the
table as well as libcst's, then hands over to :func:`codemods.engine.commandline.entry`.
"""

from __future__ import annotations


def entry() -> None:
    from codemods.engine import dataclass_code

    dataclass_code.install()
    from codemods.engine.commandline import entry as run_the_command_line

    run_the_command_line()
