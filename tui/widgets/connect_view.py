"""The Connect tab: what the platform's dashboard shows under Connect, one line per field."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from pnet.model import Service, Workspace
from pnet.platforms import ConnectField, connect_tabs

LABEL_WIDTH = 24


class ConnectView(Vertical):
    """Fields grouped under Internal / External / SSH; enter or `y` copies the highlighted one."""

    @dataclass
    class CopyRequested(Message):
        view: ConnectView
        tab: str
        label: str

        @property
        def control(self) -> ConnectView:
            return self.view

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.service: Service | None = None
        self.reveal = False
        self.narrow = False
        self.shown: list[tuple[str, str, str]] = []
        self.notes: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="connect-title", classes="pane-title")
        yield OptionList(id="connect-fields")

    def show(self, workspace: Workspace, service: Service, *, reveal: bool = False) -> None:
        same = self.service is not None and self.service.name == service.name
        self.service = service
        self.reveal = reveal
        title = Text.assemble(
            (service.name, "bold"),
            f"  {service.type.label}",
            (f"  {service.location or 'global'}", "dim"),
        )
        if service.plan:
            title.append(f"  plan {service.plan}", "dim")
        if reveal:
            title.append("  secrets revealed", "bold red")
        self.query_one("#connect-title", Static).update(title)
        options = self.query_one("#connect-fields", OptionList)
        keep = options.highlighted if same else None
        options.clear_options()
        items: list[Option | None] = []
        tabs = connect_tabs(workspace, service, reveal=reveal)
        self.shown = [(t.name, f.label, f.value) for t in tabs for f in t.fields]
        self.notes = [t.note for t in tabs if t.note]
        for tab in tabs:
            items.append(Option(Text(tab.name, style="bold underline"), disabled=True))
            for f in tab.fields:
                items.append(Option(self._prompt(f), id=f"{tab.name}\t{f.label}"))
            if tab.note:
                items.append(Option(Text(tab.note, style="dim italic"), disabled=True))
            items.append(None)
        if items and items[-1] is None:
            items.pop()
        options.add_options(items)
        if keep is not None and keep < options.option_count:
            options.highlighted = keep
        else:
            options.action_first()

    def show_nothing(self, text: str) -> None:
        """No service is selected (a filter matches none)."""
        self.service = None
        self.shown = []
        self.notes = []
        self.query_one("#connect-title", Static).update(Text(text, style="dim"))
        self.query_one("#connect-fields", OptionList).clear_options()

    def _prompt(self, f: ConnectField) -> Text | Table:
        value = Text(f.value, style="" if f.copyable else "dim")
        if f.secret:
            value.append("  secret", style="dim red")
        if self.narrow:
            return Text.assemble((f.label, "bold"), "\n", value)
        grid = Table.grid(expand=True)
        grid.add_column(width=LABEL_WIDTH, style="bold", no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        grid.add_row(f.label, value)
        return grid

    def plain(self) -> str:
        """What the tab shows, as text: one `Tab / Label: value` line per field, then the notes."""
        lines = [f"{tab} / {label}: {value}" for tab, label, value in self.shown]
        return "\n".join(lines + self.notes)

    @staticmethod
    def values(
        workspace: Workspace, service: Service, tab: str, label: str
    ) -> tuple[ConnectField, ConnectField] | None:
        """A field as it is (to copy) and as it may be shown (secrets masked)."""
        raw = masked = None
        for t in connect_tabs(workspace, service, reveal=True):
            if t.name == tab:
                raw = t.field(label) or raw
        for t in connect_tabs(workspace, service, reveal=False):
            if t.name == tab:
                masked = t.field(label) or masked
        return (raw, masked) if raw is not None and masked is not None else None

    def highlighted_field(self) -> tuple[str, str] | None:
        options = self.query_one("#connect-fields", OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        if option.id is None:
            return None
        tab, _, label = option.id.partition("\t")
        return tab, label

    def field_ids(self) -> list[tuple[str, str]]:
        options = self.query_one("#connect-fields", OptionList)
        out: list[tuple[str, str]] = []
        for i in range(options.option_count):
            oid = options.get_option_at_index(i).id
            if oid:
                tab, _, label = oid.partition("\t")
                out.append((tab, label))
        return out

    def highlight(self, tab: str, label: str) -> None:
        options = self.query_one("#connect-fields", OptionList)
        options.highlighted = options.get_option_index(f"{tab}\t{label}")

    @on(OptionList.OptionSelected, "#connect-fields")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            tab, _, label = event.option.id.partition("\t")
            self.post_message(self.CopyRequested(self, tab, label))
