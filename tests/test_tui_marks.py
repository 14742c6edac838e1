"""Marks and counts that mean one thing, at 80x24 and 120x36: a service's own health and where
its variables point, the status line, the export, and the small things a user notices."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from pnet.checks import Options
from pnet.diagnose.finding import Finding, Severity
from pnet.probes.result import Outcome
from pnet.tui.app import PnetApp
from pnet.tui.engine import CoreEngine
from pnet.tui.status import Status, sparkline
from pnet.tui.widgets.env_view import EnvTable
from pnet.tui.widgets.findings_view import FindingsView
from pnet.tui.widgets.probe_table import ProbeTable
from pnet.tui.widgets.service_tree import ServiceTree
from tests.doubles import ScriptedEngine
from tests.test_tui_support import acme, clock, r, script

SIZES = [(80, 24), (120, 36)]


async def until(pilot: Pilot[int], cond: Callable[[], bool], rounds: int = 300) -> None:
    for _ in range(rounds):
        if cond():
            return
        await pilot.pause()
    raise AssertionError("condition never held")


def finding(kind: str, severity: Severity, subject: str, service: str, fix: str = "") -> Finding:
    return Finding(kind, severity, subject, f"{kind} on {subject}", fix or "fix it", service)


def engine() -> ScriptedEngine:
    """api answers every probe; its variables point at broken things; mailer reads a database
    that is open to the internet (a warning about the database, not about mailer)."""
    e = script()
    e.env_results = {
        "api": [("SEARCH_URL", r("tcp", "10.0.0.5:9300", Outcome.REFUSED, 0.3, "refused"))],
        "mailer": [("DATABASE_URL", r("tcp", "10.0.0.2:5432", Outcome.OK, 0.5, "connected"))],
    }
    open_db = finding("public-database", Severity.WARNING, "service:acme-db", "acme-db")
    e.env_findings = {
        "api": [
            finding(
                "wrong-port",
                Severity.ERROR,
                "SEARCH_URL",
                "search",
                "SEARCH_URL=http://search-q1w2:9200",
            ),
            finding(
                "auth-required",
                Severity.ERROR,
                "CACHE_URL",
                "cache",
                "CACHE_URL=redis://default:PASSWORD@red-c0d1e2f3g4h5i6j7k8l9:6379",
            ),
            open_db,
        ],
        "mailer": [open_db],
    }
    e.own_findings = {"acme-db": [open_db]}
    return e


def text_of(app: PnetApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


@pytest.mark.parametrize("size", SIZES)
async def test_health_and_variables_are_two_marks(size: tuple[int, int]) -> None:
    app = PnetApp(acme(), engine=engine(), clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None and "acme-db" in app.own_static)
        tree = app.query_one(ServiceTree)
        assert app.status["acme-db"] is Status.WARNING, "a database open to anyone, statically"
        assert app.reach.get("acme-db") is None, "it reads no variable"
        app.select_service("api")
        await pilot.press("p")
        await until(pilot, lambda: "api" in app.probed_at)
        assert app.status["api"] is Status.OK
        assert app.reach.get("api") is Status.UNKNOWN
        label = tree.label_for(acme().service("api"))  # type: ignore[arg-type]
        assert label.plain.startswith("✔ · api")
        await pilot.press("v")
        await until(pilot, lambda: "api" in app.env_findings)
        assert app.status.get("api") is Status.OK and app.reach.get("api") is Status.ERROR
        label = tree.label_for(acme().service("api"))  # type: ignore[arg-type]
        assert label.plain.startswith("✔ ✘ api")
        await pilot.press("3")
        await pilot.pause()
        view = app.query_one("#findings-view", FindingsView)
        assert {f.kind for f in view.findings} == {"wrong-port", "auth-required"}
        app.select_service("mailer")
        await pilot.press("v")
        await until(pilot, lambda: "mailer" in app.env_findings)
        assert app.reach["mailer"] is Status.OK, "the open database is acme-db's warning"
        assert app.status["acme-db"] is Status.WARNING
        label = tree.label_for(acme().service("mailer"))  # type: ignore[arg-type]
        assert label.plain.startswith("  ✔ mailer"), "a worker has no health of its own to probe"


@pytest.mark.parametrize("size", SIZES)
async def test_marks_after_a_sweep_and_the_counts_add_up(size: tuple[int, int]) -> None:
    app = PnetApp(acme(), engine=engine(), clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await until(pilot, lambda: app.sweep_state is None and "billing" in app.findings)
        await pilot.pause()
        assert app.status["api"] is Status.OK and app.reach["api"] is Status.ERROR
        assert app.status["billing"] is Status.ERROR
        assert app.status["inventory"] is Status.WARNING
        assert app.reach["mailer"] is Status.OK
        assert app.status["acme-db"] is Status.WARNING
        ws = acme()
        receivers = [s.name for s in ws.services if s.type.receives]
        readers = [s.name for s in ws.services if s.env]
        line = text_of(app, "#statusbar")
        answered = [n for n in receivers if app.probed(n)]
        assert sorted(answered) == ["acme-db", "api", "billing", "inventory"], "the script's"
        assert f"probed {len(answered)}/{len(receivers)}" in line
        assert f"{len(readers)}/{len(readers)}" in line
        errors = sum(1 for s in app.status.values() if s is Status.ERROR)
        assert f"✘{'' if size[0] < 112 else ' '}{errors}" in line


@pytest.mark.parametrize("size", SIZES)
async def test_the_probes_tab_and_the_status_line_agree(size: tuple[int, int]) -> None:
    ws = acme()
    api = ws.service("api")
    assert api is not None
    app = PnetApp(ws, source=api, engine=engine(), clock=clock, instance=True)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.pause()
        assert "probed 0/" in text_of(app, "#statusbar")
        await pilot.press("2")
        assert "not probed yet" in text_of(app, "#probe-summary")
        assert not [n for n in app._notifications if "variables" in n.title], (
            "the start-up check says what it found in the Instance tab, not in a toast"
        )


@pytest.mark.parametrize("size", SIZES)
async def test_p_on_a_service_whose_address_is_unknown_says_so(size: tuple[int, int]) -> None:
    ws = acme()
    api = ws.service("api")
    assert api is not None
    unknown = dataclasses.replace(api, host_known=False)
    ws = dataclasses.replace(
        ws, services=tuple(unknown if s.name == "api" else s for s in ws.services)
    )
    app = PnetApp(ws, engine=CoreEngine(Options(), listeners=list), clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("p")
        await until(pilot, lambda: "api" in app.probed_at)
        await pilot.pause()
        said = [n for n in app._notifications if n.title == "api was not probed"]
        assert said and "internal host is not known" in said[-1].message
        assert app.status["api"] is Status.UNKNOWN
        await pilot.press("2")
        assert "not probed: api's internal host is not known" in text_of(app, "#probe-summary")
        assert "probed 0/" in text_of(app, "#statusbar")


@pytest.mark.parametrize("size", SIZES)
async def test_a_filter_that_matches_nothing_says_so_and_p_probes_nothing(
    size: tuple[int, int],
) -> None:
    e = script()
    app = PnetApp(acme(), engine=e, clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("slash", *"zzz", "enter")
        await pilot.pause()
        tree = app.query_one(ServiceTree)
        assert tree.visible_services == []
        assert "no match for “zzz” (esc clears)" in str(tree.root.children[0].label)
        assert app.current is None
        await pilot.press("p")
        await pilot.pause()
        assert e.probes_started == []
        said = [n.message for n in app._notifications if n.title == "no service selected"]
        assert said and "esc clears it" in said[-1]
        await pilot.press("escape")
        await pilot.pause()
        assert app.current is not None


@pytest.mark.parametrize("size", SIZES)
async def test_watching_shows_in_the_status_line(size: tuple[int, int]) -> None:
    app = PnetApp(acme(), engine=script(), clock=clock, watch_interval=0.05)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("w")
        await pilot.pause()
        assert "◉ watching api" in text_of(app, "#statusbar")
        await pilot.press("w")
        await pilot.pause()
        assert "watching" not in text_of(app, "#statusbar")


def test_sparklines_start_from_zero_and_the_detail_gives_the_scale() -> None:
    from pnet.tui.widgets.probe_table import probe_detail

    noise = sparkline([11, 26, 18, 12])
    assert noise[0] != "▁" and noise[1] == "█"
    result = r("tcp", "10.0.0.11:8080", Outcome.OK, 12.0, "connected")
    shown = probe_detail(result, [11.0, 26.0, 18.0, 12.0]).plain
    assert "min 11 · avg 17 · max 26 ms over 4 probes" in shown


@pytest.mark.parametrize("size", SIZES)
async def test_ipv6_targets_keep_their_brackets(size: tuple[int, int]) -> None:
    e = script()
    e.results = {
        "api": [
            r("tcp", "[::1]:8080", Outcome.OK, 0.4, "[::1]:8080 connected"),
            r("http", "http://[fd12::1]:8080/healthz", Outcome.OK, 1.0, "HTTP 200"),
        ]
    }
    app = PnetApp(acme(), engine=e, clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("p", "2")
        await until(pilot, lambda: "api" in app.probed_at)
        table = app.query_one(ProbeTable)
        cells = [str(table.get_cell(k, "target")) for k in table.results]
        assert any(c.startswith("[::1]:8080") for c in cells)
        assert any(c.startswith("http://[fd1") for c in cells)


@pytest.mark.parametrize("size", SIZES)
async def test_a_fix_keeps_its_password_placeholder(size: tuple[int, int]) -> None:
    app = PnetApp(acme(), engine=engine(), clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("v")
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.press("3")
        view = app.query_one("#findings-view", FindingsView)
        view._detail(next(i for i, f in enumerate(view.findings) if f.kind == "auth-required"))
        assert "redis://default:PASSWORD@red-" in view.detail_plain
        assert "••••••" not in view.detail_plain


@pytest.mark.parametrize("size", SIZES)
async def test_a_value_pnet_cannot_know_says_why(size: tuple[int, int]) -> None:
    from pnet.tui.engine import EnvPointer

    e = script()
    e.env_pointers = {
        "api": [
            EnvPointer("SESSION_SECRET", None, None, (), "generateValue"),
            EnvPointer("STRIPE_KEY", None, None, (), "sync"),
        ]
    }
    app = PnetApp(acme(), engine=e, clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("4")
        await pilot.pause()
        detail = text_of(app, "#env-detail")
        assert "generated by the platform" in detail
        table = app.query_one(EnvTable)
        table.move_cursor(row=1)
        await pilot.pause()
        assert "set in the dashboard (sync: false)" in text_of(app, "#env-detail")


@pytest.mark.parametrize("size", SIZES)
async def test_the_export_lists_every_finding_it_counts(
    size: tuple[int, int], tmp_path: Path
) -> None:
    app = PnetApp(acme(), engine=engine(), clock=clock, export_dir=tmp_path)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await until(pilot, lambda: app.sweep_state is None and "api" in app.env_findings)
        await pilot.press("e")
        await until(pilot, lambda: app.last_export is not None)
        said = [n.message for n in app._notifications if n.title == "exported"]
        assert said and "checked so far" in said[-1]
    assert app.last_export is not None
    md_path, js_path = app.last_export
    md = md_path.read_text()
    listed = [line for line in md.splitlines() if line.startswith("- **")]
    errors = sum(1 for line in listed if line.startswith("- **error "))
    warnings = sum(1 for line in listed if line.startswith("- **warning "))
    assert f"**{errors} error{'s' if errors != 1 else ''}, {warnings} warning" in md
    api = md.split("## ✔ api", 1)[1].split("\n## ", 1)[0]
    assert "`SEARCH_URL`" in api and "wrong-port" in api
    assert "redis://default:PASSWORD@" in api
    assert len([line for line in listed if "public-database" in line]) == 1, "one warning"
    assert "Hx9sK2pQ7vW4" not in md + js_path.read_text()
    data = json.loads(js_path.read_text())
    by_name = {s["service"]: s for s in data["services"]}
    assert by_name["api"]["status"] == "ok" and by_name["api"]["variables"] == "error"
    assert {f["kind"] for f in by_name["api"]["env_findings"]} == {"wrong-port", "auth-required"}
