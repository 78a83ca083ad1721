"""command_reasons: given the module's text, it leaves simple statements and expressions out of
its visit when no add_command occurs, with the same answers."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from codemods.analysis import interfaces

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"

COMMANDS = '''\
import click
from django.core.management.base import BaseCommand


@click.command()
def export():
    print("exported")


class Command(BaseCommand):
    def handle(self, *args, **options):
        if options:
            print("handled")


def ask():
    print("Continue?")
    answer = input()
    return answer


def plain():
    print("log me")
'''


def qualified(node: cst.CSTNode) -> set[str]:
    return set()


def reasons(source: bytes, text: bytes) -> dict[tuple[int, int], str]:
    module = cst.parse_module(source)
    found = interfaces.command_reasons(module, qualified, text)
    calls = list(interfaces.all_print_calls(module))
    return {(index, len(calls)): found[id(call)] for index, call in enumerate(calls) if id(call) in found}


@pytest.mark.parametrize("path", sorted(SAMPLE_REPO.rglob("*.py")), ids=lambda p: p.relative_to(SAMPLE_REPO).as_posix())
def test_reasons_with_the_text_are_those_of_the_full_visit_on_sample_repo(path: Path) -> None:
    source = path.read_bytes()
    assert reasons(source, source) == reasons(source, b"")


def test_reasons_with_the_text_are_those_of_the_full_visit() -> None:
    source = COMMANDS.encode()
    found = reasons(source, source)
    assert len(found) == 3  # export, handle and the prompt; not plain()
    assert found == reasons(source, b"")


def test_a_function_registered_with_add_command_is_found_with_the_text() -> None:
    source = b"def sync():\n    print('synced')\n\n\ncli.add_command(sync)\n"
    assert list(reasons(source, source).values()) == [
        "sync() is a command (registered with add_command): its prints are its output"
    ]
