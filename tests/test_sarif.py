"""SARIF 2.1.0 output: valid against the official schema (vendored in tests/data/), one rule
per codemod with its documentation, one result per finding."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from codemods import REGISTRY
from codemods.output import reports
from codemods.engine.config import resolve
from codemods.engine.runner import Engine
from tests.reporting_fixtures import NoneCompare, scan, write_tree

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(SCHEMA)


def sarif_of(root: Path) -> dict:
    report, settings = scan(root)
    return json.loads(reports.render_sarif(report, settings.codemods))


@pytest.fixture
def document(tmp_path: Path) -> dict:
    return sarif_of(write_tree(tmp_path))


def test_validates_against_the_sarif_2_1_0_schema(document: dict) -> None:
    VALIDATOR.validate(document)
    assert document["version"] == "2.1.0"
    assert document["$schema"] == reports.SARIF_SCHEMA_URI


def test_the_schema_check_is_not_vacuous(document: dict) -> None:
    document["runs"][0]["results"][0]["level"] = "severe"
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR.validate(document)


def test_rules_carry_each_codemods_summary_and_documentation(document: dict) -> None:
    (rule,) = document["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "none-compare"
    assert rule["shortDescription"]["text"] == NoneCompare.summary
    assert rule["fullDescription"]["text"] == (
        "Rewrites ``x == None`` to ``x is None`` and ``x != None`` to ``x is not None``."
    )
    assert rule["help"]["text"] == NoneCompare.documentation()
    assert rule["help"]["markdown"].lstrip().startswith("## none-compare")
    assert "### Why is this bad?" in rule["help"]["markdown"]
    assert rule["properties"]["fixSafety"] == NoneCompare.safety


def test_one_result_per_finding_fixable_warning_declined_note(document: dict, tmp_path: Path) -> None:
    results = document["runs"][0]["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [
        ("none-compare", 0, "note"),
        ("none-compare", 0, "warning"),
        ("none-compare", 0, "warning"),
        ("none-compare", 0, "warning"),
    ]
    declined = results[0]
    assert declined["message"]["text"] == (
        "not rewritten: looks like a SQL column expression (not fixed automatically)"
    )
    assert declined["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app/query.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 2, "startColumn": 39},
    }
    assert declined["properties"] == {"fixable": False}
    assert all("fixes" not in r for r in results)
    base = document["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == tmp_path.resolve().as_uri() + "/"


def test_unreadable_files_become_tool_notifications(tmp_path: Path) -> None:
    write_tree(tmp_path, {"broken.py": "x == None\ndef (:\n", "ok.py": "y = x == None\n"})
    document = sarif_of(tmp_path)
    VALIDATOR.validate(document)
    (invocation,) = document["runs"][0]["invocations"]
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["level"] == "warning"
    assert notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.py"
    assert invocation["executionSuccessful"] is True


def test_no_findings_is_still_a_valid_log(tmp_path: Path) -> None:
    write_tree(tmp_path, {"clean.py": "X = None\n"})
    document = sarif_of(tmp_path)
    VALIDATOR.validate(document)
    assert document["runs"][0]["results"] == []


@pytest.mark.parametrize("codemod", REGISTRY, ids=lambda c: c.name)
def test_every_registered_codemod_makes_a_valid_rule(codemod, tmp_path: Path) -> None:
    write_tree(tmp_path, {"clean.py": "X = 1\n"})
    settings = resolve(tmp_path, REGISTRY, jobs=1, cache=False)
    document = json.loads(reports.render_sarif(Engine(tmp_path, settings).run(), REGISTRY))
    VALIDATOR.validate(document)
    rule = next(r for r in document["runs"][0]["tool"]["driver"]["rules"] if r["id"] == codemod.name)
    assert rule["shortDescription"]["text"] == codemod.summary
    assert rule["fullDescription"]["text"]
