"""Every Blueprint finding points at what it is about: the env var's `key`, the `fromService`
block, the `ipAllowList` entry, the service's `PORT`; the JSON and the text say where."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pnet import checks
from pnet.sources import blueprint
from pnet.targets import select
from tests import planted
from tests.test_doctor import run


@pytest.fixture
def render_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return planted.write(tmp_path)


def _report(path: Path) -> checks.Report:
    ws = blueprint.load(path)
    return checks.run_offline(ws, None, select(ws, None, every=True, own=False))


def test_every_finding_is_at_its_marked_line(render_yaml: Path) -> None:
    report = _report(Path("render.yaml"))
    marked = planted.expected()
    assert report.findings
    for f in report.findings:
        assert f.location is not None, f
        assert f.location.file == "render.yaml"
        assert (f.kind, f.location.line, f.location.column) in marked, f
    assert {k for k, _, _ in marked} == {f.kind for f in report.findings}


def _marked(kind: str) -> tuple[int, int]:
    return next((line, column) for k, line, column in planted.expected() if k == kind)


def test_the_loader_keeps_columns(render_yaml: Path) -> None:
    ws = blueprint.load(render_yaml)
    frontend, backend, cache = (ws.service(n) for n in ("frontend", "backend", "cache"))
    assert frontend is not None and backend is not None and cache is not None
    api = frontend.env_var("API_URL")
    assert api is not None and (api.line, api.column) == _marked("missing-scheme")
    port = backend.env_var("PORT")
    assert port is not None and (port.line, port.column) == _marked("reserved-port")
    assert cache.spot("ipAllowList[1]") == _marked("public-database")
    rows = planted.PLANTED.splitlines()
    assert cache.line is not None and cache.column == 5
    assert rows[cache.line - 1] == "  - type: keyvalue"
    assert cache.spot("buildCommand") is None
    search = frontend.env_var("SEARCH_URL")
    assert search is not None and search.value_at is not None
    line, column, end_line, end_column = search.value_at
    assert line == end_line
    assert rows[line - 1][column - 1 : end_column - 1] == '"https://search-a1b2:9200/q"'


def test_json_carries_the_location(render_yaml: Path) -> None:
    rc, out, _ = run(["--blueprint", "render.yaml", "--offline", "--all", "--format", "json"])
    assert rc == 1
    found = json.loads(out)["findings"]
    assert found and all(set(f["location"]) == {"file", "line", "column"} for f in found)
    line, column = _marked("not-receiving")
    jobs = next(f for f in found if f["kind"] == "not-receiving")
    assert jobs["location"] == {"file": "render.yaml", "line": line, "column": column}


def test_text_shows_file_line_column(render_yaml: Path) -> None:
    _, out, _ = run(["--blueprint", "render.yaml", "--offline", "--all"])
    line, column = _marked("public-database")
    assert f"    render.yaml:{line}:{column}: warning public-database: cache accepts" in out
    line, column = _marked("cross-region")
    assert f"    render.yaml:{line}:{column}: error cross-region: " in out


def test_no_location_without_a_file() -> None:
    ws = blueprint.loads(planted.PLANTED, file="")
    report = checks.run_offline(ws, None, select(ws, None, every=True, own=False))
    assert report.findings and all(f.location is None for f in report.findings)
    assert all("location" not in f.to_json() for f in report.findings)
