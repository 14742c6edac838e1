"""The Map view: every service as a box in its region or environment, an arrow per variable to
what it points at, marked by its verdict; the highlighted arrow's finding and fix below it.
`f` draws one service's neighbourhood, enter follows an arrow, `n` goes to the next finding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static

from pnet.checks import Report
from pnet.formats.graph import Edge, Graph, Node, of_workspace
from pnet.model import Workspace
from pnet.tui.widgets.map_view import MapView, details, headline


class MapScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="map.back", tooltip="Whole map, then close it"),
        Binding("f", "focus_service", "Focus", id="map.focus", tooltip="Only this neighbourhood"),
        Binding("a", "whole", "All", id="map.all", tooltip="The whole map", show=False),
        Binding("q", "close", "Close", id="map.close", tooltip="Close the map", show=False),
    ]

    DEFAULT_CSS = """
    MapScreen {
        layout: vertical;
    }
    MapScreen #map-title {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    MapScreen #map-detail-box {
        height: 9;
        border-top: solid $primary-muted;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        workspace: Workspace,
        reports: Sequence[Report] = (),
        *,
        focus: str | None = None,
        graph: Graph | None = None,
    ) -> None:
        super().__init__()
        self.full = graph if graph is not None else of_workspace(workspace, *reports)
        self.live = bool(reports)
        self.centre = focus if focus is not None and self.full.node(focus) else None

    @property
    def graph(self) -> Graph:
        return self.full.around(self.centre) if self.centre else self.full

    def compose(self) -> ComposeResult:
        yield Static(headline(self.graph, self.centre, self.live), id="map-title")
        yield MapView(self.graph, self.centre, id="map")
        with VerticalScroll(id="map-detail-box"):
            yield Static(details(self.graph, None), id="map-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(MapView).focus()

    @property
    def view(self) -> MapView:
        return self.query_one(MapView)

    @on(OptionList.OptionHighlighted, "#map")
    def _highlighted(self) -> None:
        self.query_one("#map-detail", Static).update(details(self.graph, self.view.current()))
        self.query_one("#map-detail-box", VerticalScroll).scroll_home(animate=False)

    @on(OptionList.OptionSelected, "#map")
    def _selected(self) -> None:
        """Enter on an arrow: the neighbourhood of what it points at."""
        item = self.view.current_item()
        if isinstance(item, Edge):
            target = self.full.node(item.target)
            if target is None or not target.known:
                self.notify(f"{item.target[1:]} is no service of {self.full.name}")
                return
            self.show(target.id, keep=item)
        elif isinstance(item, Node):
            self.show(item.id, keep=item)

    def show(self, focus: str | None, keep: Edge | Node | None = None) -> None:
        """Draw the map around `focus` (None: all of it)."""
        self.centre = focus
        graph = self.graph
        self.query_one("#map-title", Static).update(headline(graph, focus, self.live))
        self.view.show(graph, focus, keep)
        self._highlighted()

    def action_focus_service(self) -> None:
        item = self.view.current_item()
        name = item.source if isinstance(item, Edge) else item.id if item is not None else None
        if name is not None:
            self.show(name, keep=item)

    def action_whole(self) -> None:
        self.show(None, keep=self.view.current_item())

    def action_back(self) -> None:
        if self.centre is not None:
            self.action_whole()
        else:
            self.dismiss()

    def action_close(self) -> None:
        self.dismiss()


class MapCommands(Provider):
    """`map` in the command palette, and `map: SERVICE` for one service's neighbourhood."""

    def _commands(self) -> list[tuple[str, str, str]]:
        out = [("map", "map", "every service and where its variables point")]
        workspace = getattr(self.app, "workspace", None)
        for svc in getattr(workspace, "services", ()):
            out.append((f"map: {svc.name}", f"map('{svc.name}')", "its neighbourhood on the map"))
        return out

    async def discover(self) -> Hits:
        for title, action, help_text in self._commands()[:1]:
            yield DiscoveryHit(title, lambda a=action: self.app.run_action(a), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    lambda a=action: self.app.run_action(a),
                    help=help_text,
                )
