"""Snapshots of the main views, from fixed results: no socket, a frozen clock, no blink."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot

from pnet.diagnose.finding import Finding, Severity
from pnet.tui.app import PnetApp
from pnet.tui.engine import InstanceView, ListenerRow
from pnet.tui.screens.pathcheck import PathCheckScreen
from pnet.tui.status import Status
from tests.test_tui_support import acme, clock, script

Snap = Callable[..., bool]


async def until(pilot: Pilot[Any], cond: Callable[[], bool], rounds: int = 300) -> None:
    for _ in range(rounds):
        if cond():
            await pilot.pause()
            return
        await pilot.pause()
    raise AssertionError("condition never held")


def make(**kw: Any) -> PnetApp:
    return PnetApp(acme(), engine=kw.pop("engine", None) or script(), clock=clock, **kw)


def test_connect_of_a_database(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.current is not None)
        app.select_service("acme-db")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_probes_after_a_sweep(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await until(pilot, lambda: app.sweep_state is None and "billing" in app.findings)
        app.clear_notifications()
        app.select_service("inventory")
        await pilot.press("2")

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_findings_with_the_fix(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.current is not None)
        app.select_service("billing")
        await pilot.press("p")
        await until(pilot, lambda: app.status.get("billing") is Status.ERROR)
        await pilot.press("3")

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_path_check_cross_region(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.current is not None)
        app.open_path_check("api", "billing", run=True)
        await until(pilot, lambda: isinstance(app.screen, PathCheckScreen))
        screen = app.screen
        assert isinstance(screen, PathCheckScreen)
        await until(pilot, lambda: screen.verdict is not None and screen.verdict.done)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_small_terminal(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.current is not None)
        app.select_service("cache")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_inside_an_instance(snap_compare: Snap) -> None:
    ws = acme()
    reports = ws.service("reports")
    engine = script()
    engine.instance_view = InstanceView(
        (("Service", "reports"), ("Type", "private service"), ("Region", "oregon")),
        (ListenerRow("ipv4", "127.0.0.1", 9000, 41, "gunicorn"),),
        (
            Finding(
                "loopback-bind",
                Severity.ERROR,
                "127.0.0.1:9000",
                "reports listens on 127.0.0.1:9000 only: nothing outside the instance reaches it",
                "bind 0.0.0.0:9000 (gunicorn --bind 0.0.0.0:$PORT)",
                "reports",
            ),
        ),
    )
    app = PnetApp(ws, source=reports, engine=engine, clock=clock, instance=True)

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.instance_view is not None and app.current is not None)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_railway_at_80x24(snap_compare: Snap) -> None:
    from pnet.sources import fixture
    from tests.test_tui_support import FIXTURES

    app = PnetApp(fixture.load(FIXTURES / "railway-shop.yaml"), engine=script(), clock=clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: app.current is not None)
        app.select_service("redis")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
