"""The app's behaviour, against an engine that answers from a script (no socket)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList, TabbedContent

from pnet.pathcheck import Verdict
from pnet.secrets import MASK
from pnet.tui.app import PnetApp
from pnet.tui.screens.pathcheck import PathCheckScreen
from pnet.tui.status import Status
from pnet.tui.widgets.connect_view import ConnectView
from pnet.tui.widgets.probe_table import ProbeTable
from pnet.tui.widgets.service_tree import ServiceTree
from tests.test_tui_support import acme, clock, script


async def until(pilot: Pilot[int], cond: Callable[[], bool], rounds: int = 200) -> None:
    for _ in range(rounds):
        if cond():
            return
        await pilot.pause()
    raise AssertionError("condition never held")


def app_for(**kw: object) -> PnetApp:
    engine = kw.pop("engine", None) or script()
    return PnetApp(acme(), engine=engine, clock=clock, **kw)  # type: ignore[arg-type]


async def test_opens_on_the_first_service_with_its_connect_strings() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.pause()
        assert app.current is not None and app.current.name == "api"
        joined = app.query_one(ConnectView).plain()
        assert "api-x7f2:8080" in joined
        assert "http://api-x7f2:8080" in joined
        assert "https://api-x7f2.onrender.com" in joined
        assert "srv-<service id>@ssh.oregon.render.com" in joined


async def test_copy_sends_the_real_value_and_shows_it_masked() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("acme-db")
        await pilot.pause()
        app.query_one("#connect-fields", OptionList).focus()
        app.query_one(ConnectView).highlight("Internal", "Internal Database URL")
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == "postgresql://acme:Hx9sK2pQ7vW4@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme"
        shown = [n.message for n in app._notifications]
        assert any(MASK in m and "Hx9sK2pQ7vW4" not in m for m in shown)
        await pilot.press("enter")
        await pilot.pause()
        assert app.clipboard.startswith("postgresql://acme:Hx9sK2pQ7vW4@")


async def test_reveal_shows_secrets_and_hides_them_again() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("acme-db")
        await pilot.pause()

        def text() -> str:
            return app.query_one(ConnectView).plain()

        assert "Hx9sK2pQ7vW4" not in text()
        await pilot.press("r")
        assert "Hx9sK2pQ7vW4" in text()
        await pilot.press("r")
        assert "Hx9sK2pQ7vW4" not in text()


async def test_probe_fills_rows_and_marks_the_tree() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("inventory")
        await pilot.press("p")
        await until(pilot, lambda: app.status.get("inventory") is Status.WARNING)
        await pilot.press("2")
        assert app.query_one(TabbedContent).active == "probes"
        table = app.query_one(ProbeTable)
        assert table.row_count == 4
        assert [r.outcome for r in table.failed] == ["refused"]
        tree = app.query_one(ServiceTree)
        assert tree.statuses["inventory"] is Status.WARNING
        assert "!" in str(tree.label_for(acme().service("inventory")))  # type: ignore[arg-type]


async def test_findings_tab_shows_the_fix() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("billing")
        await pilot.press("p")
        await until(pilot, lambda: app.status.get("billing") is Status.ERROR)
        await pilot.press("3")
        await pilot.pause()
        from pnet.tui.widgets.findings_view import FindingsView

        detail = app.query_one("#findings-view", FindingsView).detail_plain
        assert "cross-region" in detail
        assert "use its public URL" in detail


async def test_filter_by_type_and_status() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        tree = app.query_one(ServiceTree)
        await pilot.press("slash")
        await pilot.press(*"pserv")
        await pilot.pause()
        assert tree.visible_services
        assert {s.kind.value for s in tree.visible_services} == {"pserv"}
        await pilot.press("escape")
        await pilot.pause()
        assert len(tree.visible_services) == len(acme().services)
        app.select_service("inventory")
        await pilot.press("p")
        await until(pilot, lambda: app.status.get("inventory") is Status.WARNING)
        await pilot.press("slash", *"warning")
        await pilot.pause()
        assert [s.name for s in tree.visible_services] == ["inventory"]


async def test_watch_reprobes_and_keeps_rows_in_place() -> None:
    app = app_for(watch_interval=0)
    engine = app.engine
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("w")
        await until(pilot, lambda: engine.probes_started.count("api") >= 3)  # type: ignore[attr-defined]
        await pilot.press("w")
        await pilot.pause()
        assert not app.watching
        table = app.query_one(ProbeTable)
        assert table.row_count == 6
        assert all(len(h) >= 2 for h in table.history.values())


async def test_export_writes_markdown_and_json_masked(tmp_path: Path) -> None:
    app = app_for(export_dir=tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("inventory")
        await pilot.press("p")
        await until(pilot, lambda: app.status.get("inventory") is Status.WARNING)
        app.select_service("acme-db")
        await pilot.press("e")
        await pilot.pause()
    assert app.last_export is not None
    md, js = app.last_export
    assert md.parent == tmp_path and md.name == "pnet-acme-20260709-120000.md"
    text = md.read_text()
    assert "instance-down" in text and "acme-db" in text
    assert "Hx9sK2pQ7vW4" not in text + js.read_text()
    data = json.loads(js.read_text())
    assert data["workspace"] == "acme"
    assert {s["service"] for s in data["services"]} == {"inventory", "acme-db"}


async def test_quit_mid_sweep_is_immediate() -> None:
    engine = script()
    engine.gate = asyncio.Event()
    app = app_for(engine=engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await until(pilot, lambda: app.sweep_state is not None and len(engine.probes_started) > 0)
        assert app.sweep_state is not None
        assert app.sweep_state[1] == len([s for s in acme().services if s.type.receives or s.env])
        await pilot.press("q")
    assert app.return_code == 0
    assert all(w.is_finished for w in app.workers)


async def test_sweep_marks_every_receiving_service() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await until(pilot, lambda: app.sweep_state is None and len(app.status) > 10, 400)
        receivers = [s.name for s in acme().services if s.type.receives]
        assert all(app.status[n] is not Status.RUNNING for n in receivers)
        assert app.status["billing"] is Status.ERROR


async def verdict_of(pilot: Pilot[int], app: PnetApp, source: str, target: str) -> Verdict:
    app.open_path_check(source, target, run=True)
    await until(pilot, lambda: isinstance(app.screen, PathCheckScreen))
    screen = app.screen
    assert isinstance(screen, PathCheckScreen)
    await until(pilot, lambda: screen.verdict is not None and screen.verdict.done)
    assert screen.verdict is not None
    return screen.verdict


async def test_path_check_verdict_from_a_script() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        verdict = await verdict_of(pilot, app, "api", "inventory")
        assert [s.state.value for s in verdict.stages] == ["ok", "ok", "warning", "skipped"]
        await pilot.press("escape")
        verdict = await verdict_of(pilot, app, "api", "billing")
        assert verdict.failed is not None and verdict.failed.name == "resolves"
        assert "frankfurt" in verdict.stage("network").detail


async def test_small_terminal_is_usable() -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        assert app.has_class("-narrow")
        assert app.query_one(ServiceTree).compact
        await pilot.press("t")
        assert not app.query_one("#sidebar").display
        await pilot.press("t")
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")


async def test_every_binding_has_an_id_and_a_tooltip() -> None:
    from textual.binding import Binding

    from pnet.tui.screens.help import HelpScreen

    for cls in (PnetApp, HelpScreen, PathCheckScreen):
        for b in cls.BINDINGS:
            assert isinstance(b, Binding)
            assert b.id and b.tooltip, b


async def test_command_palette_runs_a_namespaced_command() -> None:
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"probe: inventory")
        from textual.command import CommandList

        def listed() -> bool:
            found = app.screen.query(CommandList)
            return bool(found) and found.first().option_count > 0

        for _ in range(200):
            if listed():
                break
            await pilot.pause(0.02)
        assert listed()
        await pilot.press("enter")
        await until(pilot, lambda: app.status.get("inventory") is Status.WARNING)


async def test_railway_groups_by_environment() -> None:
    from pnet.sources import fixture
    from tests.test_tui_support import FIXTURES

    shop = fixture.load(FIXTURES / "railway-shop.yaml")
    app = PnetApp(shop, engine=script(), clock=clock)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        tree = app.query_one(ServiceTree)
        groups = [str(n.label) for n in tree.root.children]
        assert groups[0].startswith("production") and "environment" in groups[0]
        app.select_service("api")
        await pilot.pause()
        text = app.query_one(ConnectView).plain()
        assert "${{api.RAILWAY_PRIVATE_DOMAIN}}" in text
        assert "api.railway.internal" in text


async def test_a_worker_checks_its_variables_instead() -> None:
    from pnet.probes.result import Outcome
    from tests.test_tui_support import r

    engine = script()
    engine.env_results = {
        "mailer": [("DATABASE_URL", r("tcp", "10.0.0.2:5432", Outcome.OK, 0.5, "connected"))]
    }
    app = app_for(engine=engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("mailer")
        await pilot.press("p")
        await until(pilot, lambda: "mailer" in app.env_findings)
        assert app.query_one(TabbedContent).active == "env"
        assert "DATABASE_URL" in app.env_live["mailer"]


def test_squeeze_keeps_the_port() -> None:
    from pnet.tui.widgets.service_tree import squeeze

    assert squeeze("api-x7f2:8080", 20) == "api-x7f2:8080"
    assert squeeze("dpg-d0a1b2c3d4e5f6g7h8i9-a:5432", 20) == "dpg-d0a1b2c3d4…:5432"
    assert len(squeeze("dpg-d0a1b2c3d4e5f6g7h8i9-a:5432", 20)) == 20
    assert squeeze("no internal address here", 10) == "no intern…"


async def test_path_check_completes_a_typed_address() -> None:
    from textual.widgets import Input

    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PathCheckScreen))
        box = app.screen.query_one("#path-address", Input)
        box.focus()
        await pilot.press(*"http://sea")
        for _ in range(100):
            if box._suggestion:
                break
            await pilot.pause(0.01)
        await pilot.press("right")
        assert box.value == "http://search-q1w2:9200"
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, PathCheckScreen)
        await until(pilot, lambda: screen.verdict is not None and screen.verdict.done)
        assert screen.verdict is not None and screen.verdict.service == "search"


async def test_a_very_small_terminal_collapses_the_tree() -> None:
    app = app_for()
    async with app.run_test(size=(56, 20)) as pilot:
        await until(pilot, lambda: app.current is not None)
        assert not app.query_one("#sidebar").display
        await pilot.press("t")
        assert app.query_one("#sidebar").display
