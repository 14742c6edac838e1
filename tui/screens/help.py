"""The help screen: every key, what it does, and the marks the app uses."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

MARKS = (
    ("·", "not checked (yet, or it cannot be: the Probes tab says why)"),
    ("…", "checking"),
    ("✔", "checked: every probe answered, no finding"),
    ("i", "a note, nothing wrong"),
    ("!", "a warning"),
    ("✘", "an error: the Findings tab has the fix"),
    (" ", "nothing to check (a worker is not probed; a service with no variables)"),
)
KINDS = (
    ("⇄", "receives private traffic"),
    ("→", "sends only (worker, cron, free web)"),
    ("∅", "not on the private network (static site)"),
)
TREE = (
    "Each service has two marks: the first is the service itself (p probes it: its name, "
    "every instance, the protocol), the second is where its variables point (v checks them "
    "from its side). P does both for every service."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close help")
    ]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.bindings_shown = bindings

    def compose(self) -> ComposeResult:
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold cyan", no_wrap=True)
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        for key, name, tip in self.bindings_shown:
            keys.add_row(key, name, tip)
        marks = Table.grid(padding=(0, 2))
        marks.add_column(style="bold", no_wrap=True)
        marks.add_column()
        for mark, meaning in (*MARKS, *KINDS):
            marks.add_row(mark, meaning)
        with VerticalScroll(id="help-dialog"):
            yield Static(Text("pnet: keys", style="bold underline"))
            yield Static(keys)
            yield Static(Text("\nmarks", style="bold underline"))
            yield Static(Text(TREE))
            yield Static(marks)
            yield Static(
                Text(
                    "\nctrl+p opens the command palette: probe: SERVICE, copy: FIELD, "
                    "check: A -> B, sweep, export, theme. Esc closes this screen.",
                    style="dim",
                )
            )
