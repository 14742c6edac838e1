"""The map as data (one graph of the report) and as Mermaid and DOT: golden files of the demo
workspace, a DOT that Graphviz draws, and a graph that stays whole with 100 services."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from pnet import checks
from pnet.checks import State
from pnet.formats.dot import render_dot
from pnet.formats.graph import OUTSIDE, build, of_workspace
from pnet.formats.mermaid import render_mermaid
from pnet.model import EnvVar, Kind, Platform, Service, Workspace
from pnet.platforms import render
from pnet.sources import fixture
from pnet.targets import select
from tests.test_doctor import run

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "map"
DEMO = "fixtures/render-acme.yaml"


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PNET_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fixture_name", "fmt", "golden"),
    [
        ("render-acme", "mermaid", "render-acme.mmd"),
        ("render-acme", "dot", "render-acme.dot"),
        ("railway-shop", "mermaid", "railway-shop.mmd"),
        ("railway-shop", "dot", "railway-shop.dot"),
    ],
)
def test_graph_formats_of_the_fixtures(at_root: None, fixture_name: str, fmt: str, golden: str):
    rc, out, err = run(
        ["--workspace", f"fixtures/{fixture_name}.yaml", "--offline", "--all", "--format", fmt]
    )
    assert rc == 1 and err == ""
    _golden(golden, out)


def _demo_graph():
    return of_workspace(fixture.load(DEMO))


def test_the_broken_arrow_and_its_fix(at_root: None) -> None:
    graph = _demo_graph()
    edge = next(e for e in graph.edges if e.label == "BILLING_URL")
    assert (edge.source, edge.target, edge.cross) == ("api", "billing", True)
    assert edge.state is State.ERROR
    assert edge.worst is not None and edge.worst.kind == "cross-region"
    assert "create it again in oregon" in edge.fix
    mermaid = render_mermaid(graph)
    assert "BILLING_URL ✗ cross-region<br/>fix: billing is a private service" in mermaid
    dot = render_dot(graph)
    assert re.search(r'label="BILLING_URL ✗ cross-region\\lfix: billing is a private', dot)
    # the region each arrow leaves: billing is drawn in frankfurt's cluster, api in oregon's
    groups = dict(graph.groups)
    assert "billing" in groups["frankfurt"] and "api" in groups["oregon"]


def test_every_arrow_of_the_sweep_is_on_the_map(at_root: None) -> None:
    ws = fixture.load(DEMO)
    report = checks.run_offline(ws, None, select(ws, None, every=True, own=False))
    graph = build(report)
    env_checks = [c for c in report.checks if c.target.origin == "env"]
    assert len(graph.edges) == len(env_checks) == 23
    assert {(e.source, e.label) for e in graph.edges} == {
        (c.target.source, c.target.subject.split(".", 1)[1]) for c in env_checks
    }
    unknown = [n for n in graph.nodes if not n.known]
    assert [n.label for n in unknown] == ["recs-a1b3:5000"]
    assert dict(graph.groups)[OUTSIDE] == (unknown[0].id,)
    counts = graph.count()
    assert sum(counts.values()) == len(graph.edges)
    metrics = graph.node("metrics")
    assert metrics is not None and metrics.state is State.ERROR
    assert [f.kind for f in metrics.findings] == ["reserved-port"]


def test_a_live_report_replaces_the_static_verdicts(at_root: None) -> None:
    ws = fixture.load(DEMO)
    api = ws.service("api")
    assert api is not None
    baseline = checks.run_offline(ws, None, select(ws, None, every=True, own=False))
    probed = checks.run_offline(ws, api, select(ws, api, texts=[], every=False, own=False))
    graph = build(baseline, probed)
    assert len(graph.edges) == len(build(baseline).edges)
    before = {e.id: e for e in build(baseline).edges}
    for e in graph.edges:
        assert e.target == before[e.id].target


def test_the_neighbourhood_of_a_service(at_root: None) -> None:
    graph = _demo_graph().around("acme-db")
    assert {n.id for n in graph.nodes} == {"acme-db", "api", "mailer"}
    assert {e.label for e in graph.edges} == {
        "DATABASE_URL",
        "SESSION_REDIS_URL",
        "REPORTING_DATABASE_URL",
    }
    assert all("acme-db" in (e.source, e.target) for e in graph.edges)


def test_mermaid_is_well_formed(at_root: None) -> None:
    text = render_mermaid(_demo_graph())
    lines = text.splitlines()
    assert lines[1] == "flowchart LR"
    defined = set(re.findall(r"^\s+(n\d+)[\[(]", text, re.M))
    arrows = re.findall(r'^  (n\d+) (-->|==>|-\.->)\|"([^"]*)"\| (n\d+)$', text, re.M)
    assert len(arrows) == len(_demo_graph().edges)
    for src, _arrow, _label, dst in arrows:
        assert src in defined and dst in defined
    assert len(re.findall(r"^  linkStyle \d+ ", text, re.M)) == len(arrows)
    assert text.count("subgraph") == text.count("\n  end")


def _dot_binary() -> str:
    found = shutil.which("dot")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz `dot` is missing: .ci/run installs graphviz")
        pytest.skip("Graphviz `dot` is not installed")
    return found


def test_graphviz_draws_the_dot(at_root: None, tmp_path: Path) -> None:
    dot = _dot_binary()
    source = tmp_path / "map.dot"
    source.write_text(render_dot(_demo_graph()), encoding="utf-8")
    done = subprocess.run(
        [dot, "-Tsvg", str(source)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    svg = done.stdout
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert "BILLING_URL ✗ cross&#45;region" in svg or "BILLING_URL ✗ cross-region" in svg
    assert "frankfurt" in svg and "oregon" in svg


def _hundred() -> Workspace:
    services = []
    for i in range(100):
        region = ("oregon", "frankfurt", "ohio")[i % 3]
        kind = Kind.PSERV if i % 5 else Kind.POSTGRES
        env = (
            EnvVar("NEXT_URL", f"http://svc{(i + 1) % 100:02d}-a1b2:8000"),
            EnvVar("DB_URL", f"postgresql://u@svc{(i // 5) * 5:02d}-a1b2:5432/db"),
        )
        services.append(
            Service(
                name=f"svc{i:02d}",
                type=render.service_type(kind, "starter"),
                platform=Platform.RENDER,
                region=region,
                host=f"svc{i:02d}-a1b2",
                ports=(5432,) if kind is Kind.POSTGRES else (8000,),
                env=env if kind is not Kind.POSTGRES else (),
                ip_allow_list=() if kind is Kind.POSTGRES else None,
            )
        )
    return Workspace("hundred", Platform.RENDER, tuple(services))


def test_a_hundred_services(tmp_path: Path) -> None:
    ws = _hundred()
    start = time.perf_counter()
    graph = of_workspace(ws)
    took = time.perf_counter() - start
    assert took < 10, took
    assert len(graph.nodes) == 100
    assert len(graph.edges) == 160
    assert any(e.cross and e.state is State.ERROR for e in graph.edges)
    assert {g for g, _ in graph.groups} == {"oregon", "frankfurt", "ohio"}
    text = render_mermaid(graph)
    assert text.count("linkStyle") == 160
    if shutil.which("dot"):
        source = tmp_path / "hundred.dot"
        source.write_text(render_dot(graph), encoding="utf-8")
        done = subprocess.run(
            ["dot", "-Tsvg", "-o", str(tmp_path / "h.svg"), str(source)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_the_readme_shows_the_demo_map() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```mermaid\n(.*?)```", readme, re.S)
    assert block is not None
    assert block[1] == (GOLDEN / "render-acme.mmd").read_text(encoding="utf-8")
