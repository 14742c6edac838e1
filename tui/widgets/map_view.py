"""The map as rows of a list: a frame per region or environment, a box per service, and under
each box an arrow per variable to what it points at, coloured and marked by its verdict. An
arrow to another region (or to an address outside the workspace) is drawn leaving its frame.
Arrows, and boxes with findings of their own, can be highlighted; the rest is drawing."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from pnet.checks import State
from pnet.formats.graph import OUTSIDE, Edge, Graph, Node

MARK = {State.OK: "✔", State.WARNING: "!", State.ERROR: "✘", State.NOT_CHECKED: "·"}
COLOUR = {
    State.OK: "green",
    State.WARNING: "yellow",
    State.ERROR: "bold red",
    State.NOT_CHECKED: "dim",
}


@dataclass(frozen=True)
class Row:
    """One option of the list: what it draws, and the arrow or service it stands for."""

    text: Text
    edge: Edge | None = None
    node: Node | None = None

    @property
    def selectable(self) -> bool:
        return self.edge is not None or (self.node is not None and bool(self.node.findings))


def _fit(text: Text, width: int) -> Text:
    """The text cut to `width` cells, with an ellipsis where it was cut."""
    if cell_len(text.plain) <= width:
        return text
    text = text.copy()
    text.truncate(max(width - 1, 0))
    text.append("…", "dim")
    return text


def _closed(line: Text, inner: int) -> Text:
    """A row inside a frame: cut or padded to the frame's inside, then its right side."""
    line = _fit(line, inner + 2)
    line.append(" " * max(inner + 2 - cell_len(line.plain), 0) + "│")
    return line


def group_title(group: str, scope: str) -> str:
    if group == "global":
        return f"no {scope}"
    return f"{group} ({scope})"


def _box_head(node: Node) -> Text:
    head = Text(f" {node.label} ", style="bold")
    if node.state is not None and node.state is not State.NOT_CHECKED:
        head.append(f"{MARK[node.state]} ", COLOUR[node.state])
    head.append(f"· {node.kind} ", "dim")
    for f in node.findings:
        head.append(f"{f.kind} ", COLOUR[State.ERROR if f.severity == "error" else State.WARNING])
    return head


def _box(node: Node, inner: int, focused: bool) -> Text:
    """A service as a three-line box inside its frame."""
    border = "bold cyan" if focused else ("red" if node.state is State.ERROR else "")
    body = _fit(_box_head(node), max(inner - 4, 8))
    span = cell_len(body.plain)
    lines = [
        Text.assemble("│ ", ("┌" + "─" * span + "┐", border)),
        Text.assemble("│ ", ("│", border), body, ("│", border)),
        Text.assemble("│ ", ("└" + "─" * span + "┘", border)),
    ]
    out = Text()
    for i, line in enumerate(lines):
        out.append_text(_closed(line, inner))
        if i < len(lines) - 1:
            out.append("\n")
    return out


def _arrow_parts(edge: Edge, graph: Graph, last: bool) -> tuple[Text, Text | None]:
    """An arrow's part inside its frame (`├─ KEY ─✘─▶ target  kind`) and, for one that leaves
    the frame, its part outside (`┼──▶ target (region)  kind`)."""
    colour = COLOUR[edge.state]
    target = graph.node(edge.target)
    worst = edge.worst
    kind = f"  {worst.kind}" if worst is not None else ""
    head = Text.assemble("│   ", ("└─ " if last else "├─ ", "dim"), (edge.label, "bold"), " ")
    shaft = Text.assemble(("─", colour), (MARK[edge.state], colour), ("─", colour))
    name = target.label if target is not None else edge.target
    if not (edge.cross or (target is not None and not target.known)):
        return Text.assemble(head, shaft, ("─▶ ", colour), (name, "bold"), (kind, colour)), None
    where = OUTSIDE if target is None or not target.known else target.group
    outside = Text.assemble(
        ("┼──▶ ", colour), (name, "bold"), (f" ({where})", "dim"), (kind, colour)
    )
    return Text.assemble(head, shaft), outside


def _arrow(parts: tuple[Text, Text | None], colour: str, inner: int, width: int) -> Text:
    inside, outside = parts
    if outside is None:
        return _closed(inside, inner)
    inside = _fit(inside, inner + 2)
    fill = max(inner + 2 - cell_len(inside.plain), 0)
    return _fit(Text.assemble(inside, ("─" * fill, colour), outside), width)


def frame_width(graph: Graph, width: int) -> int:
    """As wide as the frames' contents need, leaving room on the right for the arrows that
    leave them (at least a third of the width when they need it), and at most `width`."""
    need_in, need_out = 24, 0
    for group, _members in graph.groups:
        need_in = max(need_in, cell_len(group_title(group, graph.scope)) + 6)
    for node in graph.nodes:
        need_in = max(need_in, cell_len(_box_head(node).plain) + 6)
    for edge in graph.edges:
        inside, outside = _arrow_parts(edge, graph, False)
        need_in = max(need_in, cell_len(inside.plain) + (2 if outside is None else 4))
        if outside is not None:
            need_out = max(need_out, cell_len(outside.plain))
    room = min(need_out, width // 3)
    return max(min(need_in, width - room), min(24, width))


def map_rows(graph: Graph, width: int, focus: str | None = None) -> list[Row]:
    """The rows that draw `graph` in `width` cells; `focus` is a service drawn highlighted."""
    frame = frame_width(graph, width)
    inner = frame - 3
    rows: list[Row] = []
    for group, members in graph.groups:
        if group == OUTSIDE:
            continue
        title = f" {group_title(group, graph.scope)} "
        top = Text.assemble("┌─", (title, "bold"), "─" * max(frame - 3 - cell_len(title), 0), "┐")
        rows.append(Row(_fit(top, width)))
        for name in members:
            node = graph.node(name)
            if node is None:
                continue
            rows.append(Row(_box(node, inner, node.id == focus), node=node))
            out = [e for e in graph.edges if e.source == node.id]
            for i, edge in enumerate(out):
                parts = _arrow_parts(edge, graph, i == len(out) - 1)
                line = _arrow(parts, COLOUR[edge.state], inner, width)
                rows.append(Row(line, edge=edge))
        rows.append(Row(Text("└" + "─" * (frame - 2) + "┘")))
    return rows


def headline(graph: Graph, focus: str | None, live: bool) -> Text:
    """`Map · acme · 23 arrows: 2 ✔ 3 ! 9 ✘ 9 · · static rules`, and the focused service."""
    counts = graph.count()
    text = Text.assemble(("Map", "bold"), f" · {graph.name}")
    if focus:
        text.append(" · around ")
        text.append(focus, "bold cyan")
    text.append(f" · {len(graph.edges)} arrows:")
    for state in (State.OK, State.WARNING, State.ERROR, State.NOT_CHECKED):
        text.append(f" {counts[state]} {MARK[state]}", COLOUR[state])
    text.append(" · probed" if live else " · static rules only", "dim")
    return text


def details(graph: Graph, row: Row | None) -> Text:
    """What the highlighted arrow or service is, its findings and their fix."""
    if row is None:
        return Text("↑↓ choose an arrow · enter follow it · f focus · n next finding", "dim")
    if row.edge is not None:
        e = row.edge
        target = graph.node(e.target)
        where = ""
        if target is not None and (e.cross or not target.known):
            where = f" ({target.group if target.known else OUTSIDE})"
        text = Text.assemble(
            (e.source, "bold"),
            " → ",
            (target.label if target else e.target, "bold"),
            where,
            " · ",
            (e.label, "bold"),
            f" = {e.value}" if e.value else "",
            "  ",
            (MARK[e.state] + " " + e.state.value, COLOUR[e.state]),
        )
        if e.state is State.NOT_CHECKED and e.why:
            text.append(f" ({e.why})", "dim")
        _findings(text, e.findings)
        return text
    node = row.node
    if node is None:
        return Text("")
    text = Text.assemble((node.label, "bold"), f" · {node.kind}")
    _findings(text, node.findings)
    return text


def _shown(location: object) -> str:
    """A finding's location, its file relative to the working folder when it lies under it."""
    text = str(location)
    here = os.getcwd().rstrip(os.sep) + os.sep
    return text[len(here) :] if text.startswith(here) else text


def _findings(text: Text, findings: Sequence[object]) -> None:
    from pnet.diagnose.finding import Finding

    for f in findings:
        if not isinstance(f, Finding):
            continue
        style = "bold red" if f.severity == "error" else "yellow"
        text.append("\n")
        if f.location is not None:
            text.append(f"{_shown(f.location)}: ", "dim")
        text.append(f"{f.severity.value} {f.kind}", style)
        text.append(f": {f.message}")
        fix = [line for line in f.fix.splitlines() if line.strip()]
        for i, line in enumerate(fix):
            text.append("\n  ")
            text.append("fix: " if i == 0 else "     ", "bold green")
            text.append(line.strip())


class MapView(OptionList):
    """The map, one option per row; the highlighted one is an arrow or a service with findings."""

    BINDINGS = [  # noqa: RUF012
        Binding("n", "next_finding(1)", "Next finding", id="map.next"),
        Binding("N", "next_finding(-1)", "Previous finding", id="map.previous", show=False),
    ]

    DEFAULT_CSS = """
    MapView, MapView:focus {
        height: 1fr;
        border: none;
        padding: 0;
    }
    MapView > .option-list--option-disabled {
        color: $foreground;
    }
    MapView > .option-list--option {
        padding: 0;
    }
    """

    def __init__(self, graph: Graph, focus: str | None = None, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.graph = graph
        self.centre = focus
        self.rows: list[Row] = []
        self._width = 0

    def show(self, graph: Graph, focus: str | None, keep: Edge | Node | None = None) -> None:
        """Draw `graph` (around `focus`), keeping the highlight on `keep` when it is there."""
        self.graph, self.centre = graph, focus
        self._draw(keep)

    def _draw(self, keep: Edge | Node | None = None) -> None:
        width = max(self.scrollable_content_region.width, 30)
        self._width = width
        self.rows = map_rows(self.graph, width, self.centre)
        self.set_options(Option(r.text, disabled=not r.selectable) for r in self.rows)
        index = self._index_of(keep) if keep is not None else None
        if index is None:
            broken = (i for i, r in enumerate(self.rows) if r.edge and r.edge.state is State.ERROR)
            first = (i for i, r in enumerate(self.rows) if r.selectable)
            index = next(broken, None)
            index = index if index is not None else next(first, None)
        self.highlighted = index

    def _index_of(self, what: Edge | Node) -> int | None:
        for i, r in enumerate(self.rows):
            if isinstance(what, Edge) and r.edge is not None and r.edge.id == what.id:
                return i
            node = r.node if r.edge is None else None
            if isinstance(what, Node) and node is not None and node.id == what.id and r.selectable:
                return i
        return None

    def on_mount(self) -> None:
        self._draw()

    def on_resize(self) -> None:
        if self.scrollable_content_region.width != self._width and self.rows:
            self._draw(self.current_item())

    def current(self) -> Row | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self.rows):
            return None
        return self.rows[self.highlighted]

    def current_item(self) -> Edge | Node | None:
        row = self.current()
        if row is None:
            return None
        return row.edge if row.edge is not None else row.node

    def action_next_finding(self, step: int) -> None:
        """Move to the next (or previous) arrow or service with a finding, round the end."""
        count = len(self.rows)
        if not count:
            return
        start = self.highlighted if self.highlighted is not None else -step
        for k in range(1, count + 1):
            i = (start + step * k) % count
            row = self.rows[i]
            found = row.edge.findings if row.edge is not None else ()
            if row.edge is None and row.node is not None:
                found = row.node.findings
            if found:
                self.highlighted = i
                return
