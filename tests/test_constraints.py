"""`.ci/constraints.txt` pins everything a new user's test install resolves.

`.ci/run` installs with PIP_CONSTRAINT pointing at the file.  pip does not complain about a
package the file does not name: it installs the newest release, so a dependency added to
pyproject.toml without `.ci/run --latest --lock` would make CI depend on upstream releases
again, silently.  These tests walk the requirement closure of `auditfix[test,fleet]` as this
environment resolved it and ask for a pin of every package in it.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / ".ci" / "constraints.txt"
EXTRAS = ("test", "fleet")


def read_pins(text: str) -> dict[str, str]:
    """``name==version`` lines by canonical name; comments and blank lines skipped."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        if match is None:
            raise ValueError(f"line {number} is not an exact pin: {raw!r}")
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def requirement_closure(root: str, extras: tuple[str, ...]) -> dict[str, set[str]]:
    """Every installed distribution ``root[extras]`` needs, with who asked for it.

    Markers are evaluated for this interpreter with the extras of the requiring package, as
    pip does.  A requirement whose distribution is not installed is reported by its own test.
    """
    needed: dict[str, set[str]] = {}
    pending: list[tuple[str, frozenset[str], str]] = [(root, frozenset(extras), "")]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, wanted, parent = pending.pop()
        key = (canonicalize_name(name), wanted)
        if key in seen:
            continue
        seen.add(key)
        needed.setdefault(key[0], set()).add(parent)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for text in requires:
            requirement = Requirement(text)
            environments = [{"extra": extra} for extra in wanted] or [{"extra": ""}]
            if requirement.marker is not None and not any(requirement.marker.evaluate(e) for e in environments):
                continue
            pending.append((requirement.name, frozenset(requirement.extras), name))
    return needed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("# c\n\nFlask==3.1.3\nfoo_bar==1.0  # why\n", {"flask": "3.1.3", "foo-bar": "1.0"}, id="pins"),
    ],
)
def test_read_pins(text: str, expected: dict[str, str]) -> None:
    assert read_pins(text) == expected


def test_read_pins_rejects_a_range() -> None:
    # A range would let pip take a new release: the file must be exact.
    with pytest.raises(ValueError, match="line 1"):
        read_pins("flask>=3\n")


def test_every_distribution_of_the_test_install_is_pinned() -> None:
    pins = read_pins(CONSTRAINTS.read_text(encoding="utf-8"))
    needed = requirement_closure("auditfix", EXTRAS)
    needed.pop("auditfix", None)
    assert len(needed) > 20, "the closure walk found too little: is auditfix installed?"
    missing = {name: sorted(p for p in parents if p) for name, parents in needed.items() if name not in pins}
    assert not missing, (
        f"not pinned in .ci/constraints.txt (run '.ci/run --latest --lock'): {missing}"
    )


def test_every_declared_requirement_admits_its_pin() -> None:
    # A pin outside the declared range makes pip fail to resolve on a fresh machine.
    pins = read_pins(CONSTRAINTS.read_text(encoding="utf-8"))
    requires = metadata.distribution("auditfix").requires or []
    wrong = []
    for text in requires:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name in pins and not requirement.specifier.contains(pins[name], prereleases=True):
            wrong.append(f"{requirement} vs =={pins[name]}")
    assert not wrong, wrong


def test_every_installed_requirement_runs_at_its_pin() -> None:
    # The suite is green on the pinned versions only if it ran on them; in CI they are equal.
    pins = read_pins(CONSTRAINTS.read_text(encoding="utf-8"))
    needed = requirement_closure("auditfix", EXTRAS)
    needed.pop("auditfix", None)
    differing = {}
    for name in needed:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if name in pins and version != pins[name]:
            differing[name] = (version, pins[name])
    if differing and not _pinned_install():
        pytest.skip(f"not installed with .ci/constraints.txt (differs: {sorted(differing)})")
    assert not differing, differing


def _pinned_install() -> bool:
    import os

    return Path(os.environ.get("PIP_CONSTRAINT", "")).resolve() == CONSTRAINTS.resolve()
