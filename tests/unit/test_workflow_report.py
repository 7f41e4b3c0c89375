"""check/lint reports: the text line format, GitHub workflow commands and JUnit XML."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest

from weir.sdk.cli._workflow_report import (
    Problem,
    SubjectResult,
    github,
    junit,
    render,
    text,
    text_line,
    to_json,
)

PROBLEM = Problem(
    file="schemas/a,b.avsc",
    line=7,
    level="BACKWARD",
    rule="TYPE_MISMATCH",
    path="/fields/1",
    message="50% of it: broke\nsecond line",
    against="version 2",
)
BAD = SubjectResult("a-value", "schemas/a,b.avsc", "FULL", "incompatible", (PROBLEM,))
GOOD = SubjectResult("b-value", "schemas/b.json", "BACKWARD", "compatible")


def test_text_line_format() -> None:
    assert text_line(PROBLEM) == (
        "schemas/a,b.avsc:7: BACKWARD TYPE_MISMATCH /fields/1: 50% of it: broke\nsecond line"
        " (against version 2)"
    )
    out = text([BAD, GOOD], "weir schema check")
    assert "schemas/b.json: b-value compatible (BACKWARD)" in out
    assert out.endswith("weir schema check: failed: 2 subjects, 1 with problems, 1 problems")


def test_github_escapes_properties_and_data() -> None:
    (line,) = github([BAD, GOOD]).splitlines()
    assert line == (
        "::error file=schemas/a%2Cb.avsc,line=7,title=BACKWARD TYPE_MISMATCH"
        "::a-value /fields/1: 50%25 of it: broke%0Asecond line (against version 2)"
    )
    assert github([GOOD]) == "::notice::1 subjects passed"


def test_junit_is_valid_xml_with_one_case_per_subject() -> None:
    root = ET.fromstring(junit([BAD, GOOD], "weir schema check").split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = list(suite.iter("testcase"))
    assert [c.get("classname") for c in cases] == ["schemas/a,b.avsc", "schemas/b.json"]
    failure = cases[0].find("failure")
    assert failure is not None
    assert failure.get("type") == "TYPE_MISMATCH"
    assert failure.text is not None
    assert "schemas/a,b.avsc:7:" in failure.text
    assert cases[1].find("failure") is None


def test_json_document() -> None:
    document = to_json([BAD, GOOD])
    assert document["ok"] is False
    assert document["subjects"][0]["problems"][0]["line"] == 7
    assert json.loads(json.dumps(document)) == document


@pytest.mark.parametrize("fmt", ["text", "json", "github", "junit"])
def test_render_exit_codes(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert render([BAD, GOOD], fmt, "t") == 1
    assert render([GOOD], fmt, "t") == 0
    assert capsys.readouterr().out
