"""What a person in trouble reads at 80x24: counts that agree with the marks, fixes in view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from pnet.checks import Options
from pnet.diagnose.finding import Finding, Severity
from pnet.pathcheck import verdict
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import parse_target
from pnet.tui.app import PnetApp
from pnet.tui.engine import EnvPointer
from pnet.tui.messages import ProbeLanded
from pnet.tui.screens.help import HelpScreen
from pnet.tui.screens.pathcheck import render_verdict
from pnet.tui.status import Status
from pnet.tui.widgets.findings_view import FindingsView
from pnet.tui.widgets.probe_table import probe_detail
from pnet.tui.widgets.service_tree import ServiceTree
from tests.doubles import ScriptedEngine
from tests.test_tui_support import acme, clock, r, script


async def until(pilot: Pilot[int], cond: Callable[[], bool], rounds: int = 200) -> None:
    for _ in range(rounds):
        if cond():
            return
        await pilot.pause()
    raise AssertionError("condition never held")


def wrong_port() -> Finding:
    return Finding(
        "wrong-port",
        Severity.ERROR,
        "SEARCH_URL",
        "search does not listen on port 9300; it listens on 9200",
        "SEARCH_URL=http://search-q1w2:9200",
        "search",
        ("TCP: 10.0.0.5:9300: connection refused", "search listens on 9200"),
    )


def engine_with_env() -> ScriptedEngine:
    engine = script()
    engine.env_results = {
        "api": [("SEARCH_URL", r("tcp", "10.0.0.5:9300", Outcome.REFUSED, 0.3, "refused"))]
    }
    engine.env_findings = {"api": [wrong_port()]}
    return engine


def app_for(engine: ScriptedEngine | None = None) -> PnetApp:
    return PnetApp(acme(), engine=engine or script(), clock=clock)


def text_of(app: PnetApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def test_probes_summary_names_the_findings_of_its_variables() -> None:
    app = app_for(engine_with_env())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await until(pilot, lambda: app.sweep_state is None and "api" in app.env_findings)
        app.select_service("api")
        await pilot.press("2")
        await pilot.pause()
        assert app.status["api"] is Status.OK
        assert app.reach["api"] is Status.ERROR
        summary = text_of(app, "#probe-summary")
        assert "6/6 probes ok" in summary
        assert "its variables: 1 finding " in summary


async def test_env_title_counts_what_the_live_check_found() -> None:
    app = app_for(engine_with_env())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.pause()
        before = text_of(app, "#env-title")
        await pilot.press("v")
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.pause()
        after = text_of(app, "#env-title")
        count = int(before.split(", ")[1].split()[0])
        assert f"{count + 1} with a finding" in after


async def test_sweep_says_services_checked_not_probed() -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await until(pilot, lambda: app.sweep_state is None and "billing" in app.findings)
        await pilot.pause()
        done = [n.message for n in app._notifications if n.title == "sweep done"]
        assert done and " services probed: " in done[-1]
        assert " services' variables checked: " in done[-1]


async def test_a_finding_shows_its_fix_before_the_evidence() -> None:
    app = app_for(engine_with_env())
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("v")
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.press("3")
        await pilot.pause()
        view = app.query_one("#findings-view", FindingsView)
        view.query_one("#findings-table").focus()
        row = next(i for i, f in enumerate(view.findings) if f.kind == "wrong-port")
        view._detail(row)
        detail = view.detail_plain
        assert detail.index("fix SEARCH_URL=http://search-q1w2:9200") < detail.index("evidence")


async def test_help_lists_only_keys_that_do_something_here() -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        keys = [k for k, _, _ in screen.bindings_shown]
        assert "5" not in keys
        assert "1" in keys


async def test_help_lists_the_instance_tab_inside_an_instance() -> None:
    ws = acme()
    app = PnetApp(ws, source=ws.service("api"), engine=script(), clock=clock, instance=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        assert "5" in [k for k, _, _ in screen.bindings_shown]


def test_help_explains_every_tree_mark() -> None:
    from pnet.tui.screens.help import MARKS

    shown = {m for m, _ in MARKS}
    assert {s.mark for s in Status} <= shown


def test_probe_detail_shows_a_mapping_as_words() -> None:
    result = ProbeResult(
        "dns",
        "api-x7f2",
        Outcome.OK,
        2.0,
        "api-x7f2 → 10.0.0.11",
        {"families": {"aaaa": "no-answer"}},
    )
    shown = probe_detail(result).plain
    assert "families: aaaa no-answer" in shown
    assert "{" not in shown


def test_a_wrapped_verdict_line_stays_under_its_stage() -> None:
    ws = acme()
    source = ws.service("api")
    target = parse_target("http://search-q1w2:9300", ws, source)
    assert target is not None
    results = [
        r("dns", "search-q1w2", Outcome.OK, 1.0, "search-q1w2 → 10.0.0.5", addresses=["10.0.0.5"]),
        r("tcp", "10.0.0.5:9300", Outcome.REFUSED, 0.3, "10.0.0.5:9300: connection refused"),
    ]
    final = verdict(ws, source, target, results, done=True)
    console = Console(width=50, record=True, color_system=None)
    console.print(render_verdict(final))
    lines = console.export_text().splitlines()
    stage_lines = [line.rstrip() for line in lines[lines.index("") + 1 :]]
    assert stage_lines
    for line in stage_lines:
        assert line.startswith("   ") or line[:2].strip() in {"✔", "✘", "!", "·", "…", "→"}


def lone_api() -> tuple[PnetApp, ScriptedEngine]:
    from dataclasses import replace

    ws = acme()
    api = ws.service("api")
    assert api is not None
    ws = replace(ws, services=type(ws.services)([api]))
    engine = script()
    engine.env_pointers = {"api": [EnvPointer("DATABASE_URL", "postgresql://x@dpg-zz-a/x", None)]}
    return PnetApp(ws, source=api, engine=engine, clock=clock, instance=True), engine


async def test_one_service_is_not_services() -> None:
    app, _ = lone_api()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "1 service " in text_of(app, "#titlebar") + " "
        assert "1 services" not in text_of(app, "#titlebar")


async def test_variables_that_point_nowhere_leave_the_mark_unknown() -> None:
    app, _ = lone_api()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.pause()
        assert app.status["api"] is Status.UNKNOWN
        assert "points at a service pnet knows of" in text_of(app, "#instance-env")
        app.check_env("api")
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.pause()
        shown = [n.message for n in app._notifications]
        assert any("none of them points at an address" in m for m in shown)
        assert not any("0 addresses" in m for m in shown)


async def test_probe_detail_follows_the_service_and_the_latest_result() -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("2")
        await pilot.press("p")
        await until(pilot, lambda: "api" in app.findings)
        await pilot.pause()
        assert "api-x7f2" in text_of(app, "#probe-detail")
        app.select_service("auth")
        await pilot.pause()
        assert text_of(app, "#probe-detail").strip() == ""
        app.select_service("api")
        await pilot.pause()
        newer = r("dns", "api-x7f2", Outcome.OK, 42.0, "2 addresses", addresses=["10.0.0.11"])
        app.post_message(ProbeLanded("api", newer))
        await pilot.pause()
        assert "42.0 ms" in text_of(app, "#probe-detail")


async def test_export_counts_only_what_was_probed(tmp_path: Path) -> None:
    app = PnetApp(acme(), engine=script(), clock=clock, export_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("billing")
        await pilot.press("p")
        await until(pilot, lambda: "billing" in app.findings)
        app.select_service("auth")
        await pilot.pause()
        await pilot.press("e")
        await until(pilot, lambda: app.last_export is not None)
        assert app.last_export is not None
        md = app.last_export[0].read_text()
        assert "probed: 1 of the" in md
        assert "**1 error, 0 warnings**" in md


async def test_a_filtered_group_says_how_many_of_its_services_show() -> None:
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.press("slash", *"pserv")
        await pilot.pause()
        tree = app.query_one(ServiceTree)
        labels = [str(n.label) for n in tree.root.children]
        oregon = next(label for label in labels if label.startswith("oregon"))
        shown = sum(1 for s in tree.visible_services if s.region == "oregon")
        assert f"({shown} of 19)" in oregon
        await pilot.press("escape")
        await pilot.pause()
        labels = [str(n.label) for n in tree.root.children]
        assert any(label == "oregon (19)" for label in labels)


async def test_at_100_columns_the_tabs_keep_most_of_the_width() -> None:
    app = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.pause()
        assert app.query_one("#tabs").size.width >= 60
    app = app_for()
    async with app.run_test(size=(120, 36)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await pilot.pause()
        assert not app.query_one(ServiceTree).compact


async def test_a_variable_that_is_no_address_is_not_called_unprobed() -> None:
    app = app_for(engine_with_env())
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("v")
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.pause()
        table = app.query_one("#env-table", DataTable)
        assert str(table.get_cell("PORT", "verdict")) == ""
        assert str(table.get_cell("SESSION_SECRET", "verdict")) == ""
        assert "wrong-port" in str(table.get_cell("SEARCH_URL", "verdict"))
        table.move_cursor(row=table.get_row_index("SEARCH_URL"))
        await pilot.pause()
        assert "refused" in text_of(app, "#env-detail")


def test_inside_a_render_instance_an_unknown_region_says_so() -> None:
    from dataclasses import replace

    from pnet.tui.engine import CoreEngine

    ws = acme()
    api = ws.service("api")
    assert api is not None
    here = replace(api, region=None, host="api", host_known=False)
    engine = CoreEngine(Options(), listeners=list)
    identity = dict(engine.instance(ws, here).identity)
    assert identity["Region"].startswith("not known")
    assert "Environment" not in identity
    assert identity["Internal host"].startswith("api?")
    assert dict(engine.instance(ws, api).identity)["Region"] == "oregon"


def test_inside_an_instance_a_loopback_listener_is_a_finding() -> None:
    from pnet.probes.listeners import Listener
    from pnet.tui.engine import CoreEngine

    ws = acme()
    reports = ws.service("reports")
    assert reports is not None

    def listeners() -> list[Listener]:
        return [Listener(4, "127.0.0.1", reports.ports[0], 41, "gunicorn", None)]

    view = CoreEngine(Options(), listeners=listeners).instance(ws, reports)
    assert [f.kind for f in view.findings] == ["loopback-bind"]


async def test_the_instance_findings_mark_the_tree() -> None:
    from pnet.tui.engine import InstanceView, ListenerRow

    ws = acme()
    engine = script()
    bad = Finding(
        "loopback-bind",
        Severity.ERROR,
        "service:reports",
        "reports listens on localhost only (port 9000)",
        "bind 0.0.0.0 on 9000",
        "reports",
    )
    row = ListenerRow("ipv4", "127.0.0.1", 9000, 41, "gunicorn", "loopback")
    engine.instance_view = InstanceView((("Service", "reports"),), (row,), (bad,))
    app = PnetApp(ws, source=ws.service("reports"), engine=engine, clock=clock, instance=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.instance_view is not None)
        await pilot.pause()
        assert app.status.get("reports") is Status.ERROR
        assert "1 listening socket" in text_of(app, "#instance-identity")
        assert "1 listening sockets" not in text_of(app, "#instance-identity")


async def test_copy_on_another_service_takes_its_first_field_not_the_old_position() -> None:
    from textual.widgets import OptionList

    from pnet.tui.widgets.connect_view import ConnectView

    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("acme-db")
        await pilot.pause()
        view = app.query_one(ConnectView)
        view.highlight("Internal", "Internal Database URL")
        await pilot.press("r")
        await pilot.pause()
        assert view.highlighted_field() == ("Internal", "Internal Database URL")
        await pilot.press("r")
        app.select_service("api")
        await pilot.pause()
        app.query_one(ServiceTree).focus()
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == "api-x7f2:8080"
        assert app.query_one("#connect-fields", OptionList).highlighted is not None


async def test_each_line_of_a_fix_sits_under_the_first() -> None:
    engine = script()
    engine.env_findings = {
        "api": [
            Finding(
                "refused",
                Severity.ERROR,
                "QUEUE_URL",
                "nothing accepts on port 7000",
                "check that queue is running\nbind 0.0.0.0 (not 127.0.0.1)",
                "queue",
            )
        ]
    }
    app = app_for(engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.current is not None)
        app.select_service("api")
        await pilot.press("v")
        await until(pilot, lambda: "api" in app.env_findings)
        await pilot.press("3")
        await pilot.pause()
        detail = app.query_one("#findings-view", FindingsView).detail_plain
        assert "fix check that queue is running\n    bind 0.0.0.0 (not 127.0.0.1)" in detail
