from datetime import date, datetime, timedelta, timezone

import pytest

from flask_app import helpers


def test_normalize_email():
    assert helpers.normalize_email("  Ana@Example.COM ") == "ana@example.com"


@pytest.mark.parametrize("value, expected", [("2024-02-29", date(2024, 2, 29)), ("29/02/2024", None), (None, None)])
def test_parse_date_swallows_bad_input(value, expected):
    assert helpers.parse_date(value) == expected


@pytest.mark.parametrize("value, expected", [("4", 4), (9, 5), ("-3", 1), ("five", 3), (None, 3)])
def test_parse_rating_falls_back_to_default(value, expected):
    assert helpers.parse_rating(value) == expected


def test_parse_tags_skips_non_strings():
    assert helpers.parse_tags([" Python ", None, 42, "SQL"]) == ["python", "sql"]


def test_parse_salary_range():
    assert helpers.parse_salary_range("50k-70k") == (50000, 70000)
    assert helpers.parse_salary_range("negotiable") is None


def test_completion_percent():
    assert helpers.completion_percent(1, 4) == 25.0
    assert helpers.completion_percent(3, 0) == 0.0


@pytest.mark.parametrize("value, expected", [("12", 12), ("x", 0), (None, 0), (3.9, 3)])
def test_safe_int(value, expected):
    assert helpers.safe_int(value) == expected


def test_project_clock_is_timezone_aware():
    assert helpers.utcnow().tzinfo is timezone.utc
    assert helpers.older_than(datetime.now(timezone.utc) - timedelta(hours=2), timedelta(hours=1))
    assert not helpers.older_than(datetime.now(timezone.utc), timedelta(hours=1))
