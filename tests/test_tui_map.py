"""The Map view: opened with `m`, the demo workspace's boxes and arrows at 80x24 and 120x36,
an arrow's finding and fix under the map, a service's neighbourhood, and 100 services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot

from pnet.checks import State
from pnet.formats.graph import Edge, of_workspace
from pnet.sources import fixture
from pnet.tui.app import PnetApp
from pnet.tui.screens.map import MapScreen
from pnet.tui.widgets.map_view import MapView, map_rows
from tests.test_map_formats import _hundred
from tests.test_tui_snapshots import until
from tests.test_tui_support import clock, script

Snap = Callable[..., bool]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo is loaded by its path in the repository, as findings then name it."""
    monkeypatch.chdir(ROOT)


def make() -> PnetApp:
    return PnetApp(fixture.load("fixtures/render-acme.yaml"), engine=script(), clock=clock)


async def open_map(pilot: Pilot[Any], app: PnetApp) -> MapScreen:
    await until(pilot, lambda: app.current is not None)
    await pilot.press("m")
    await until(pilot, lambda: isinstance(app.screen, MapScreen))
    screen = app.screen
    assert isinstance(screen, MapScreen)
    await until(pilot, lambda: bool(screen.view.rows))
    return screen


def _edge(screen: MapScreen) -> Edge:
    item = screen.view.current_item()
    assert isinstance(item, Edge)
    return item


async def to_arrow(pilot: Pilot[Any], screen: MapScreen, label: str) -> None:
    """Press n until the arrow of that variable is highlighted."""
    for _ in range(60):
        item = screen.view.current_item()
        if isinstance(item, Edge) and item.label == label:
            return
        await pilot.press("n")
    raise AssertionError(f"no arrow {label}")


def test_map_at_80x24(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        await open_map(pilot, app)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_map_cross_region_arrow_and_its_fix(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_map(pilot, app)
        await to_arrow(pilot, screen, "BILLING_URL")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_map_neighbourhood_at_80x24(snap_compare: Snap) -> None:
    app = make()

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_map(pilot, app)
        await pilot.press("n")
        await pilot.press("enter")
        await until(pilot, lambda: screen.centre is not None)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


async def test_keys_walk_the_findings_follow_arrows_and_come_back() -> None:
    app = make()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_map(pilot, app)
        first = _edge(screen)
        assert first.state is State.ERROR  # the map opens on the first broken arrow
        detail = str(screen.query_one("#map-detail").render())
        assert first.label in detail and "fix:" in detail
        seen = []
        for _ in range(12):
            await pilot.press("n")
            item = screen.view.current_item()
            seen.append(item.label if isinstance(item, Edge) else getattr(item, "id", None))
        assert "BILLING_URL" in seen and "metrics" in seen
        await to_arrow(pilot, screen, "BILLING_URL")
        await pilot.press("enter")
        await until(pilot, lambda: screen.centre == "billing")
        assert {n.id for n in screen.graph.nodes} == {"billing", "api"}
        await pilot.press("escape")
        await until(pilot, lambda: screen.centre is None)
        assert _edge(screen).label == "BILLING_URL"
        await pilot.press("f")
        await until(pilot, lambda: screen.centre == "api")
        await pilot.press("escape", "escape")
        await until(pilot, lambda: not isinstance(app.screen, MapScreen))


async def test_the_palette_opens_the_map_around_a_service() -> None:
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.current is not None)
        await app.run_action("map('cache')")
        await until(pilot, lambda: isinstance(app.screen, MapScreen))
        screen = app.screen
        assert isinstance(screen, MapScreen) and screen.centre == "cache"
        assert {n.id for n in screen.graph.nodes} == {"cache", "api"}


def test_every_row_fits_the_width() -> None:
    graph = of_workspace(fixture.load("fixtures/render-acme.yaml"))
    for width in (40, 78, 118, 200):
        rows = map_rows(graph, width)
        for row in rows:
            for line in row.text.plain.split("\n"):
                assert cell_len(line) <= width, (width, line)
        arrows = [r for r in rows if r.edge is not None]
        assert len(arrows) == len(graph.edges)


async def test_a_hundred_services_at_80x24() -> None:
    ws = _hundred()
    app = PnetApp(ws, engine=script(), clock=clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_map(pilot, app)
        view = screen.query_one(MapView)
        assert len([r for r in view.rows if r.edge is not None]) == 160
        for row in view.rows:
            for line in row.text.plain.split("\n"):
                assert cell_len(line) <= view.scrollable_content_region.width
        start = view.highlighted
        for _ in range(30):
            await pilot.press("n")
        assert view.highlighted != start
        assert view.scroll_offset.y > 0
        await pilot.press("f")
        await until(pilot, lambda: screen.centre is not None)
        assert len(screen.graph.nodes) < 10
