"""The target's own style: its settings are read, new imports go where its isort puts them,
new lines stay within its line length, and nothing the codemods did not add moves."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from codemods import REGISTRY
from codemods.engine.config import read_code_style, resolve
from codemods.engine.runner import Engine
from codemods.engine import style
from codemods.engine.style import sort_imports, tidy, wrap_new_long_lines
from codemods.speedups.positions import TreePositions
from codemods.options import CodeStyle

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"


def project(root: Path, files: dict[str, str]) -> Path:
    (root / ".git").mkdir(parents=True, exist_ok=True)  # the repository's top: the settings search stops here
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def code(text: str) -> bytes:
    return textwrap.dedent(text).encode()


# -- reading the settings ----------------------------------------------------------------------


def test_nothing_configured_is_ruffs_default(tmp_path: Path) -> None:
    style = read_code_style(project(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\n"}))
    assert style.line_length == 88
    settings = dict(style.isort_settings)
    assert (settings["profile"], settings["line_length"], style.isort_file) == ("black", 88, "")
    assert settings["src_paths"] == (str(tmp_path.resolve()), str((tmp_path / "src").resolve()))


def test_ruff_settings_are_translated(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pyproject.toml": """
            [tool.ruff]
            line-length = 100
            src = ["lib"]

            [tool.ruff.lint.isort]
            known-first-party = ["shared"]
            force-single-line = true
            section-order = ["future", "standard-library", "first-party", "third-party", "local-folder"]
        """,
    })  # fmt: skip
    style = read_code_style(root)
    settings = dict(style.isort_settings)
    assert style.line_length == 100
    assert (settings["known_first_party"], settings["force_single_line"]) == (("shared",), True)
    assert settings["sections"] == ("FUTURE", "STDLIB", "FIRSTPARTY", "THIRDPARTY", "LOCALFOLDER")
    assert settings["src_paths"] == (str((tmp_path / "lib").resolve()),)
    assert style.sources == (str(root / "pyproject.toml"),)


def test_the_smallest_limit_of_the_configured_tools_wins(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pyproject.toml": "[tool.black]\nline-length = 100\n",
        ".flake8": "[flake8]\nmax-line-length = 79\n",
        "app/__init__.py": "",
    })  # fmt: skip
    assert read_code_style(root / "app").line_length == 79


def test_ruffs_own_file_wins_over_pyproject(tmp_path: Path) -> None:
    root = project(tmp_path, {"pyproject.toml": "[tool.ruff]\nline-length = 120\n", "ruff.toml": "line-length = 99\n"})
    assert read_code_style(root).line_length == 99


def test_an_isort_configuration_is_used_as_it_is(tmp_path: Path) -> None:
    root = project(tmp_path, {"setup.cfg": "[isort]\nforce_single_line = true\n"})
    style = read_code_style(root)
    assert style.isort_file == str(root / "setup.cfg")
    new = sort_imports(b"import os\n", b"import os\nfrom typing import Any, List\n", style)
    assert new == b"import os\nfrom typing import Any\nfrom typing import List\n"


def test_settings_are_searched_up_to_the_repository_top_only(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 60\n")
    root = project(tmp_path / "repo", {"app/m.py": ""})
    assert read_code_style(root / "app").line_length == 88


# -- imports ------------------------------------------------------------------------------------


SORTED = code("""\
    \"\"\"Docs.\"\"\"
    from datetime import date

    from pydantic import BaseModel, Field

    from ..services import inventory_service

    x = 1
    """)


def test_new_imports_go_to_their_section_in_sorted_position() -> None:
    new = code("""\
        \"\"\"Docs.\"\"\"
        from datetime import date

        from pydantic import ConfigDict, BaseModel, Field

        from ..services import inventory_service
        import logging
        from ..services import items_service

        logger = logging.getLogger(__name__)

        x = 1
        """)
    assert tidy(SORTED, new, CodeStyle()) == code("""\
        \"\"\"Docs.\"\"\"
        import logging
        from datetime import date

        from pydantic import BaseModel, ConfigDict, Field

        from ..services import inventory_service, items_service

        logger = logging.getLogger(__name__)

        x = 1
        """)


def test_a_file_the_project_left_unsorted_is_not_sorted() -> None:
    unsorted = code("""\
        from pydantic import BaseModel
        import os
        """)
    new = code("""\
        from pydantic import BaseModel
        import os
        import logging
        """)
    assert tidy(unsorted, new, CodeStyle()) == new


def test_an_unsorted_file_prints_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    # isort 9's check_code writes "ERROR: Imports are incorrectly sorted" to stderr whatever
    # its quiet setting: a run over a project that does not sort its imports printed one line
    # per such file among auditfix's own output.
    unsorted = code("""\
        import sys
        import os
        """)
    new = code("""\
        import sys
        import os
        import logging
        """)
    assert tidy(unsorted, new, CodeStyle()) == new
    assert capfd.readouterr() == ("", "")


def test_a_file_the_run_creates_is_sorted() -> None:
    new = code("""\
        from ..models import Item
        from sqlalchemy.orm import Session
        """)
    assert tidy(None, new, CodeStyle()) == code("""\
        from sqlalchemy.orm import Session

        from ..models import Item
        """)


@pytest.mark.parametrize(
    "ending", [pytest.param(b"\r\n", id="crlf"), pytest.param(b"\n", id="lf")]
)
def test_line_endings_come_back(ending: bytes) -> None:
    original = b"import os" + ending + ending + b"x = 1" + ending
    new = b"import os" + ending + b"import logging" + ending + ending + b"x = 1" + ending
    assert tidy(original, new, CodeStyle()) == b"import logging" + ending + b"import os" + ending + ending + b"x = 1" + ending


def test_mixed_line_endings_are_not_normalised() -> None:
    original = b"import os\r\n\nx = 1\ny = 2\r\n"
    new = b"import os\r\nimport logging\n\nx = 1\ny = 2\r\n"
    assert tidy(original, new, CodeStyle()) == new  # isort would rewrite the code lines' endings


# -- long lines ---------------------------------------------------------------------------------


def test_a_new_long_call_is_split_as_black_would() -> None:
    original = code("""\
        def f(bundle):
            print(f"Bundle {bundle['name']!r}: {bundle['percent_off']}% off {len(bundle['skus'])} items")
        """)
    new = code("""\
        def f(bundle):
            logger.info("Bundle %r: %s%% off %s items", bundle['name'], bundle['percent_off'], len(bundle['skus']))
            logger.info("Bundle %r: %s%% off", bundle['name'], bundle['percent_off'], bundle['n'])
        """)
    assert wrap_new_long_lines(original, new, 88) == code("""\
        def f(bundle):
            logger.info(
                "Bundle %r: %s%% off %s items",
                bundle['name'],
                bundle['percent_off'],
                len(bundle['skus']),
            )
            logger.info(
                "Bundle %r: %s%% off", bundle['name'], bundle['percent_off'], bundle['n']
            )
        """)


def test_a_long_line_that_was_already_there_stays() -> None:
    original = code("""\
        def f():
            return compute_something_long(first_argument, second_argument, third_argument, 42)
        """)
    new = b"import logging\n\n" + original
    assert wrap_new_long_lines(original, new, 60) == new


def test_an_awaited_assignment_is_split() -> None:
    new = code("""\
        async def f(db, order, payload):
            result = await orders_service.update_order_status(order, payload, db, notify=True)
        """)
    assert wrap_new_long_lines(None, new, 60) == code("""\
        async def f(db, order, payload):
            result = await orders_service.update_order_status(
                order, payload, db, notify=True
            )
        """)


class _EveryNodeWrapper(style._LongLineWrapper):
    """The wrapper entering every node, as before it left simple statements out."""

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return True

    def visit_SimpleStatementSuite(self, node: cst.SimpleStatementSuite) -> bool:
        return True


class _EveryStart:
    """Every node's start, from one TreePositions of the tree (what the wrapper used to ask)."""

    def __init__(self, tree: cst.Module, nodes: object) -> None:
        self.positions = TreePositions(tree)

    def __getitem__(self, node: cst.CSTNode) -> object:
        return self.positions.range(node).start


@pytest.mark.parametrize("path", sorted(SAMPLE_REPO.rglob("*.py")), ids=lambda p: p.relative_to(SAMPLE_REPO).as_posix())
def test_long_lines_wrap_as_with_every_node_visited_and_positioned(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every line of a file the run creates is new: at small limits most statements are tried."""
    data = path.read_bytes()
    wrapped = [wrap_new_long_lines(None, data, limit) for limit in (30, 60)]
    monkeypatch.setattr(style, "_LongLineWrapper", _EveryNodeWrapper)
    monkeypatch.setattr(style, "start_positions", _EveryStart)
    assert wrapped == [wrap_new_long_lines(None, data, limit) for limit in (30, 60)]


# -- the statements alone: the whole-module wrap's answer without parsing the module ---------------

_BEFORE = code("""\
    import json


    class Views:
        def post(self, request):
            data = json.loads(request.form["x"])
            if data:
                value = 1
            return data
    """)


def _whole_module(original: bytes, new: bytes, limit: int, monkeypatch: pytest.MonkeyPatch) -> bytes:
    with monkeypatch.context() as patch:
        patch.setattr(style, "_wrap_statements_alone", lambda *args: None)
        return wrap_new_long_lines(original, new, limit)


def _with(line_after: str, *new_lines: str) -> bytes:
    """_BEFORE with ``new_lines`` inserted after its line ``line_after``."""
    text = _BEFORE.decode()
    index = text.index(line_after + "\n") + len(line_after) + 1
    return (text[:index] + "".join(line + "\n" for line in new_lines) + text[index:]).encode()


@pytest.mark.parametrize(
    ("new", "wrapped"),
    [
        pytest.param(_with("    def post(self, request):", "        result = tab_state_service.create_tab_state(request.form['queryEditor'], data)"), True, id="call-after-def"),
        pytest.param(_with("        if data:", "            value = table_schema_service.expanded(request.form['expanded'], 1)  # why"), True, id="nested-with-comment"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        mapping = {'first_key': data, 'second_key': data, 'third_key': [1, 2, 3]}"), True, id="dict"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        assert check_everything(data, request) == expected_value_of_the_check_here"), True, id="assert"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        total = first_value_of_the_thing + second_value_of_the_thing + third_one"), False, id="nothing-to-split"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "", "        result = tab_state_service.create_tab_state(request.form['q'], data)"), False, id="leading-blank-line-kept"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        # a comment", "        result = tab_state_service.create_tab_state(request.form['q'], data)"), False, id="leading-comment-kept"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        total = compute(", "            first_value_of_the_thing, second_value_of_the_thing, third_value_of_it", "        )"), False, id="no-statement-starts-on-it"),
    ],
)
def test_a_rewritten_file_wraps_its_lone_statements_without_the_module(
    new: bytes, wrapped: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new long line holding one whole simple statement after a code line: the statement is
    parsed alone, and the result is the whole-module wrap's, byte for byte."""
    alone = style._wrap_statements_alone(new, {number for number, line in enumerate(new.decode().splitlines(), 1) if len(line) > 60}, 60)
    assert alone is not None
    assert (alone != new) is wrapped
    assert wrap_new_long_lines(_BEFORE, new, 60) == alone == _whole_module(_BEFORE, new, 60, monkeypatch)


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(_with("            value = 1", "", "        result = tab_state_service.create_tab_state(request.form['q'], data)"), id="blank-line-after-a-block"),
        pytest.param(_with("            value = 1", "        # a comment", "        result = tab_state_service.create_tab_state(request.form['q'], data)"), id="comment-after-a-block"),
        pytest.param(_with("    def post(self, request):", "", "        result = tab_state_service.create_tab_state(request.form['q'], data)"), id="blank-line-first-in-block"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        if tab_state_service.create_tab_state(request.form['queryEditor'], data):", "            pass"), id="if-test"),
        pytest.param(_with("            value = 1", "    def created(self, first_parameter, second_parameter, third_parameter, fourth):", "        pass"), id="def"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        result = tab_state_service.create_tab_state(request.form['q'], data); x = 1"), id="semicolon"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        if data: result = tab_state_service.create_tab_state(request.form['q'], data)"), id="one-line-suite"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        result = tab_state_service.create_tab_state(request.form['q'], data)").replace(b"\n", b"\r\n"), id="crlf"),
        pytest.param(_with("        data = json.loads(request.form[\"x\"])", "        result = tab_state_service.create_tab_state(request.form['q'], data)", "        x = 1 + \\", "            2"), id="continuation"),
        pytest.param(b"result = tab_state_service.create_tab_state(request.form['queryEditor'], data)\n" + _BEFORE, id="first-line"),
        pytest.param(_BEFORE + b"result = tab_state_service.create_tab_state(request.form['queryEditor'], data)", id="no-last-newline"),
        pytest.param(b"# -*- coding: latin-1 -*-\n" + _with("    def post(self, request):", "        result = tab_state_service.create_tab_state(request.form['queryEditor'], data)"), id="latin-1"),
        pytest.param(_with("    def post(self, request):", "        result = tab_state_service.create_tab_state(request.form['queryEditor'], data)", "\f"), id="form-feed"),
        pytest.param(_with("    def post(self, request):", "        result = tab_state_service.create_tab_state(request.form['queryEditor'],"), id="python-cannot-parse"),
    ],
)
def test_anything_else_takes_the_whole_module_wrap(new: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where parsing the statement alone is not proven to give the module's node (leading lines,
    ``if``/``def`` headers, ``;``, other line endings or encodings), the module is parsed."""
    lines = {number for number, line in enumerate(new.decode("latin-1").splitlines(), 1) if len(line) > 60}
    assert style._wrap_statements_alone(new, lines, 60) is None
    assert wrap_new_long_lines(_BEFORE, new, 60) == _whole_module(_BEFORE, new, 60, monkeypatch)


def test_a_file_the_run_creates_takes_the_whole_module_wrap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its text is not libcst's printing of a tree libcst parsed: the module parse must decide."""
    monkeypatch.setattr(style, "_wrap_statements_alone", lambda *args: pytest.fail("asked"))
    new = _with("    def post(self, request):", "        result = tab_state_service.create_tab_state(request.form['queryEditor'], data)")
    assert wrap_new_long_lines(None, new, 60) != new


# -- end to end ---------------------------------------------------------------------------------


def test_a_run_follows_the_projects_settings(tmp_path: Path) -> None:
    root = project(tmp_path, {
        "pyproject.toml": "[tool.ruff]\nline-length = 60\n",
        # the app configures logging: print-to-logging converts only where records reach a handler
        "app/__init__.py": "import logging\n\nlogging.basicConfig(level=logging.INFO)\n",
        "app/jobs.py": """\
            import os

            from app import models


            def run(rows):
                print(f"Imported {len(rows)} rows from {os.getcwd()} into the table")
            """,
    })  # fmt: skip
    settings = resolve(root, REGISTRY, select=["print-to-logging"], jobs=1, cache=False)
    (change,) = Engine(root, settings).run().changes
    assert change.new.decode() == textwrap.dedent("""\
        import logging
        import os

        from app import models

        logger = logging.getLogger(__name__)


        def run(rows):
            logger.info(
                "Imported %s rows from %s into the table",
                len(rows),
                os.getcwd(),
            )
        """)
