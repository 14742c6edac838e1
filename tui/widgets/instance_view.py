"""The Instance tab (inside an instance): who this instance is, where its variables point, what
listens here, and what the diagnosis says of those listeners."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from pnet.diagnose.finding import Finding
from pnet.model import Service
from pnet.tui.engine import EnvPointer, InstanceView
from pnet.tui.status import SEVERITY_MARKS, SEVERITY_STYLES, plural, shown
from pnet.tui.widgets.findings_view import FindingsView

LISTENER_COLUMNS = (
    ("family", "Family"),
    ("address", "Address"),
    ("port", "Port"),
    ("bind", "Bind"),
    ("pid", "PID"),
    ("process", "Process"),
)


class InstancePane(Vertical):
    def __init__(
        self, *, explain: Callable[[str], str] | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.explain = explain

    def compose(self) -> ComposeResult:
        yield Static("", id="instance-identity")
        with VerticalScroll(id="instance-env-scroll"):
            yield Static("", id="instance-env")
        yield DataTable(id="listeners", cursor_type="row")
        yield FindingsView(explain=self.explain, id="instance-findings")

    def on_mount(self) -> None:
        listeners = self.query_one("#listeners", DataTable)
        for key, label in LISTENER_COLUMNS:
            listeners.add_column(label, key=key)

    def show_view(self, view: InstanceView) -> None:
        """Who this instance is, what listens here and, at once under it, what is wrong with
        that (at 80x24 the tables below may have no room for it)."""
        ident = Text()
        ident.append("This instance\n", "bold underline")
        for label, value in view.identity:
            ident.append(f"{label:<16}", "bold")
            ident.append(f"{value}\n")
        ident.append(plural(len(view.listeners), "listening socket"), "dim")
        loopback = [f"{r.address}:{r.port}" for r in view.listeners if r.bind == "loopback"]
        for f in view.findings[:2]:
            style = SEVERITY_STYLES.get(str(f.severity), "")
            ident.append(f"\n{SEVERITY_MARKS.get(str(f.severity), '?')} {f.kind}", style)
            if f.kind == "loopback-bind" and loopback:
                ident.append(f" · bound to {', '.join(loopback[:2])}")
            else:
                ident.append(f" · {shown(f.message)}")
        self.query_one("#instance-identity", Static).update(ident)
        table = self.query_one("#listeners", DataTable)
        table.clear()
        for row in view.listeners:
            bind = Text(row.bind, style="red" if row.bind == "loopback" else "green")
            table.add_row(
                Text(row.family),
                Text(row.address),
                Text(str(row.port)),
                bind,
                Text(str(row.pid or "")),
                Text(row.process or ""),
            )
        self.query_one("#instance-findings", FindingsView).show(
            list(view.findings),
            "The listeners look right: bound on every address, on PORT.",
            service=dict(view.identity).get("Service"),
        )

    def show_env(
        self,
        source: Service,
        pointers: Sequence[EnvPointer],
        findings: Sequence[Finding] | None,
    ) -> None:
        """Where the instance's variables point, each with its verdict once checked."""
        box = self.query_one("#instance-env", Static)
        if not source.env:
            box.update(Text("Its variables: none that pnet knows of.", style="dim"))
            return
        text = Text("Where its variables point", style="bold underline")
        if findings is None:
            text.append("  checking…", style="dim")
        by_key: dict[str, Finding] = {}
        for f in findings or ():
            if f.subject not in by_key or f.severity == "error":
                by_key[f.subject] = f
        listed = 0
        for p in pointers:
            if p.service is None and p.key not in by_key:
                continue
            listed += 1
            text.append(f"\n{p.key:<22}", "bold")
            text.append(f" → {p.service or 'no service':<12}", "cyan" if p.service else "dim")
            found = by_key.get(p.key)
            if found is not None:
                style = "red" if found.severity == "error" else "yellow"
                text.append(f" {found.kind}", style)
            elif findings is not None:
                text.append(" ok", "green")
        if not listed:
            text.append("\nnone of them points at a service pnet knows of", "dim")
        text.append("\nv re-checks them; the Env tab (4) has the values.", "dim")
        box.update(text)
