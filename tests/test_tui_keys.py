"""The keyboard as a new user meets it, at 80x24 and 120x36: where focus is after every key, the
tab keys from every focused widget, j/k, the footer and the help."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Footer, Input, OptionList, TabbedContent
from textual.widgets._footer import FooterKey
from textual.widgets._tabbed_content import ContentTab

from pnet.tui.app import PnetApp
from pnet.tui.screens.help import HelpScreen
from pnet.tui.widgets.connect_view import ConnectView
from pnet.tui.widgets.service_tree import ServiceTree
from tests.test_tui_support import acme, clock, script

SIZES = [(80, 24), (120, 36)]
TAB_KEYS = {"1": "connect", "2": "probes", "3": "findings", "4": "env"}
MAIN = {
    "connect": "connect-fields",
    "probes": "probe-table",
    "findings": "findings-table",
    "env": "env-table",
}


async def until(pilot: Pilot[int], cond: Callable[[], bool], rounds: int = 200) -> None:
    for _ in range(rounds):
        if cond():
            return
        await pilot.pause()
    raise AssertionError("condition never held")


def app_for(**kw: object) -> PnetApp:
    return PnetApp(acme(), engine=script(), clock=clock, **kw)  # type: ignore[arg-type]


def focused_id(app: PnetApp) -> str | None:
    return app.focused.id if app.focused is not None else None


async def started(pilot: Pilot[int], app: PnetApp) -> None:
    await until(pilot, lambda: app.current is not None)
    app.select_service("api")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
async def test_tab_keys_work_from_every_focused_widget(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        tabs = app.query_one(TabbedContent)
        for start_tab, widget in [("connect", "tree"), *MAIN.items()]:
            for key, tab in TAB_KEYS.items():
                tabs.active = start_tab
                await pilot.pause()
                app.query_one(f"#{widget}").focus()
                await pilot.pause()
                await pilot.press(key)
                await pilot.pause()
                await pilot.pause()
                assert tabs.active == tab, (widget, key)
                want = "tree" if widget == "tree" else MAIN[tab]
                assert focused_id(app) == want, (widget, key, focused_id(app))


@pytest.mark.parametrize("size", SIZES)
async def test_the_detail_pane_is_no_trap(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        await pilot.press("3", "tab")
        await pilot.pause()
        assert focused_id(app) == "findings-table"
        await pilot.press("tab")
        assert focused_id(app) == "finding-detail-scroll"
        for key, tab in (("1", "connect"), ("2", "probes"), ("4", "env")):
            await pilot.press("3")
            app.query_one("#finding-detail-scroll").focus()
            await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
            await pilot.pause()
            assert app.query_one(TabbedContent).active == tab
            assert focused_id(app) == MAIN[tab]


@pytest.mark.parametrize("size", SIZES)
async def test_one_tab_reaches_the_tabs_list_from_the_tree(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        assert focused_id(app) == "tree"
        await pilot.press("tab")
        assert focused_id(app) == "connect-fields"
        await pilot.press("shift+tab")
        assert focused_id(app) == "tree"
        await pilot.press("2")
        await pilot.press("tab")
        assert focused_id(app) == "probe-table"


@pytest.mark.parametrize("size", SIZES)
async def test_hiding_and_showing_the_tree_keeps_focus_alive(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        await pilot.press("t")
        assert not app.query_one("#sidebar").display
        assert focused_id(app) == "connect-fields"
        before = app.query_one(ConnectView).highlighted_field()
        await pilot.press("down")
        assert app.query_one(ConnectView).highlighted_field() != before
        await pilot.press("t")
        assert app.query_one("#sidebar").display
        assert focused_id(app) == "tree"
        await pilot.press("down")
        await pilot.pause()
        assert app.current is not None and app.current.name == "auth"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("opener", ["question_mark", "c"])
async def test_closing_a_screen_gives_focus_back_where_keys_work(
    size: tuple[int, int], opener: str
) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        for before, after in (("tree", "tree"), ("t", "connect-fields")):
            if before == "t":
                await pilot.press("t")
            await pilot.press(opener)
            await until(pilot, lambda: len(app.screen_stack) > 1)
            await pilot.press("escape")
            await until(pilot, lambda: len(app.screen_stack) == 1)
            await pilot.pause()
            assert focused_id(app) == after
            assert not isinstance(app.focused, Input)
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("size", SIZES)
async def test_the_filter_box_is_never_a_hidden_trap(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        box = app.query_one("#filter", Input)
        await pilot.press("slash", *"pserv")
        assert focused_id(app) == "filter" and box.value == "pserv"
        await pilot.press("escape")
        await pilot.pause()
        assert focused_id(app) == "tree" and box.value == "" and not box.display
        await pilot.press("shift+tab")
        assert focused_id(app) != "filter"
        await pilot.press("t", "question_mark", "escape")
        await until(pilot, lambda: len(app.screen_stack) == 1)
        await pilot.pause()
        assert focused_id(app) != "filter"
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.parametrize("size", SIZES)
async def test_j_and_k_move_like_the_arrows(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        await pilot.press("j")
        await pilot.pause()
        assert app.current is not None and app.current.name == "auth"
        await pilot.press("k")
        await pilot.pause()
        assert app.current is not None and app.current.name == "api"
        await pilot.press("tab")
        options = app.query_one("#connect-fields", OptionList)
        first = options.highlighted
        await pilot.press("j")
        assert options.highlighted == (first or 0) + 1
        await pilot.press("k")
        assert options.highlighted == first


@pytest.mark.parametrize("size", SIZES)
async def test_y_from_the_tree_copies_and_hands_the_fields_the_keys(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == "api-x7f2:8080"
        assert focused_id(app) == "connect-fields"
        assert app.query_one(TabbedContent).active == "connect"
        said = [n.message for n in app._notifications if n.title.startswith("copied")]
        assert said and "↑↓ picks another field" in said[-1]
        await pilot.press("down", "y")
        await pilot.pause()
        assert app.clipboard == "http://api-x7f2:8080"


@pytest.mark.parametrize("size", SIZES)
async def test_the_footer_shows_every_key_it_names_whole(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        await pilot.pause()
        footer = app.query_one(Footer)
        keys = [k for k in footer.query(FooterKey) if "-command-palette" not in k.classes]
        shown = [(k.key_display, k.description) for k in keys]
        assert shown == [
            ("q", "Quit"),
            ("/", "Find"),
            ("p", "Probe"),
            ("P", "Sweep"),
            ("v", "Env"),
            ("c", "Path"),
            ("w", "Watch"),
            ("y", "Copy"),
            ("r", "Reveal"),
            ("e", "Save"),
            ("?", "Help"),
        ]
        for k in keys:
            assert k.region.right <= size[0], (k.description, k.region)
        labels = [str(t.label) for t in app.query_one(TabbedContent).query(ContentTab)]
        assert labels == ["1 Connect", "2 Probes", "3 Findings", "4 Env"]


async def test_inside_an_instance_the_tab_bar_names_key_5() -> None:
    ws = acme()
    app = PnetApp(ws, source=ws.service("api"), engine=script(), clock=clock, instance=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        labels = [str(t.label) for t in app.query_one(TabbedContent).query(ContentTab)]
        assert labels[0] == "5 Instance"
        await pilot.press("1", "5")
        assert app.query_one(TabbedContent).active == "instance"


def readme_keys() -> str:
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    return readme.split("| key | what it does |", 1)[1].split("\n\n", 1)[0]


async def test_help_lists_what_the_footer_and_the_readme_say() -> None:
    table = readme_keys()
    app = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        keys = {k for k, _, _ in screen.bindings_shown}
        for key in ("q", "/", "p", "P", "v", "c", "w", "y", "r", "e", "?", "t", "j", "k"):
            assert key in keys, key
            assert f"`{key}`" in table, key
        for key in ("1", "2", "3", "4", "esc", "ctrl+p", "enter"):
            assert key in keys or key == "esc", key
            assert f"`{key}`" in table or "`1`-`4`" in table, key


@pytest.mark.parametrize("size", SIZES)
async def test_the_status_line_says_how_to_move(size: tuple[int, int]) -> None:
    app = app_for()
    async with app.run_test(size=size) as pilot:
        await started(pilot, app)
        await pilot.pause()
        line = str(app.query_one("#statusbar").render())
        assert "↑↓/jk services" in line
        await pilot.press("tab")
        await pilot.pause()
        line = str(app.query_one("#statusbar").render())
        assert "y or enter copies" in line
        tree = app.query_one(ServiceTree)
        assert tree.has_focus is False
