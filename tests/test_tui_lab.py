"""The app against the lab: a real network on loopback, probed through the real engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from pnet.checks import Options
from pnet.lab import LabThread
from pnet.model import Workspace
from pnet.pathcheck import State
from pnet.sources import fixture
from pnet.tui.app import PnetApp
from pnet.tui.engine import CoreEngine
from pnet.tui.screens.pathcheck import PathCheckScreen
from pnet.tui.status import Status
from pnet.tui.widgets.probe_table import ProbeTable
from tests.test_tui_support import FIXTURES, clock


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Workspace, Options]]:
    fx = fixture.read(FIXTURES / "render-acme.yaml")
    ws = fx.workspace
    with LabThread(ws, fx.lab) as running:
        yield ws, Options(nameserver=running.nameserver, nameserver_for=running.nameserver_for)


async def settle(pilot: Pilot[Any], cond: Callable[[], bool], rounds: int = 400) -> None:
    for _ in range(rounds):
        if cond():
            return
        await pilot.pause(0.02)
    raise AssertionError("never settled")


def done(screen: PathCheckScreen) -> bool:
    return screen.verdict is not None and screen.verdict.done


def make(lab: tuple[Workspace, Options], source: str | None = None) -> PnetApp:
    ws, options = lab
    src = ws.service(source) if source else None
    return PnetApp(ws, source=src, engine=CoreEngine(options), clock=clock)


async def test_probes_turn_ok_and_failed(lab: tuple[Workspace, Options]) -> None:
    app = make(lab)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: app.current is not None)
        app.select_service("search")
        await pilot.press("p")
        await settle(pilot, lambda: app.status.get("search") not in (None, Status.RUNNING))
        table = app.query_one(ProbeTable)
        assert app.status["search"] is Status.OK
        assert table.row_count >= 3 and not table.failed
        app.select_service("reports")
        await pilot.press("p")
        await settle(pilot, lambda: app.status.get("reports") not in (None, Status.RUNNING))
        assert app.status["reports"] is Status.ERROR
        assert any(r.kind == "tcp" and r.outcome == "refused" for r in table.failed)
        assert any(f.kind == "loopback-bind" for f in app.findings["reports"])


async def test_path_checks_against_the_lab(lab: tuple[Workspace, Options]) -> None:
    app = make(lab, "api")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: app.current is not None)
        for target, failed_at in (("search", None), ("billing", "resolves"), ("queue", "connects")):
            app.open_path_check("api", target, run=True)
            await settle(pilot, lambda: isinstance(app.screen, PathCheckScreen))
            screen = app.screen
            assert isinstance(screen, PathCheckScreen)
            await settle(pilot, partial(done, screen))
            verdict = screen.verdict
            assert verdict is not None
            if failed_at is None:
                assert verdict.ok, verdict.lines()
            else:
                assert verdict.failed is not None and verdict.failed.name == failed_at
                assert verdict.failed.fix
            if target == "billing":
                assert verdict.stage("network").state is State.FAILED
            await pilot.press("escape")


async def test_env_vars_checked_live_from_the_service(lab: tuple[Workspace, Options]) -> None:
    app = make(lab)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("v")
        await settle(pilot, lambda: "api" in app.env_findings, 1500)
        kinds = {f.subject: f.kind for f in app.env_findings["api"]}
        assert kinds.get("SEARCH_URL") == "wrong-port"
        assert kinds.get("BILLING_URL") == "cross-region"
        assert "DATABASE_URL" in app.env_live["api"]
        assert all("Hx9sK2pQ7vW4" not in f.message for f in app.env_findings["api"])


async def test_export_after_real_probes(lab: tuple[Workspace, Options], tmp_path: Path) -> None:
    ws, options = lab
    app = PnetApp(ws, engine=CoreEngine(options), clock=clock, export_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: app.current is not None)
        app.select_service("reports")
        await pilot.press("p")
        await settle(pilot, lambda: app.status.get("reports") not in (None, Status.RUNNING))
        app.select_service("mailer")
        await pilot.press("v")
        await settle(pilot, lambda: "mailer" in app.env_findings, 1500)
        await pilot.press("e")
        await pilot.pause()
    assert app.last_export is not None
    md, js = app.last_export
    data = json.loads(js.read_text())
    by_name = {s["service"]: s for s in data["services"]}
    assert by_name["reports"]["report"]["summary"]["errors"] >= 1
    assert "DATABASE_URL" in by_name["mailer"]["env"]
    text = md.read_text() + js.read_text()
    assert "Hx9sK2pQ7vW4" not in text
    assert "refused" in md.read_text()


async def test_a_sweep_of_the_lab_completes_and_keeps_the_two_marks_apart(
    lab: tuple[Workspace, Options],
) -> None:
    ws, _ = lab
    app = make(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await settle(pilot, lambda: app.sweep_state is None and "api" in app.env_findings, 1500)
        receivers = [s.name for s in ws.services if s.type.receives]
        readers = [s.name for s in ws.services if s.env]

        def bar() -> str:
            return str(app.query_one("#statusbar").render())

        # the status line is drawn at most every 0.1 s: the last draw comes just after
        await settle(pilot, lambda: f"probed {len(receivers)}/{len(receivers)}" in bar())
        line = bar()
        assert f"probed {len(receivers)}/{len(receivers)}" in line
        assert f"vars {len(readers)}/{len(readers)}" in line
        assert app.status["api"] is Status.OK, "api answers: its variables are another mark"
        assert app.reach["api"] is Status.ERROR
        assert app.reach["mailer"] is Status.OK, "acme-db's open allow list is acme-db's"
        assert app.status["acme-db"] is Status.WARNING
        assert app.status["mailer"] is Status.UNKNOWN and not ws.service("mailer").type.receives  # type: ignore[union-attr]
        assert all(app.status[n] is not Status.RUNNING for n in receivers)
