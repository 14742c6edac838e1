"""The Findings tab: severity, kind, message; the selected one's evidence, fix, explanation."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from pnet.diagnose.finding import Finding, Severity
from pnet.secrets import mask_text
from pnet.tui.status import SEVERITY_STYLES


def reflow(text: str) -> str:
    """Join a body's hard-wrapped lines (indented by two) into one line each paragraph."""
    out: list[str] = []
    for line in text.split("\n"):
        body = line.startswith("  ") and not line.startswith("   ")
        item = line.strip().startswith(("-", "*", "$", "`", "http"))
        prev = out[-1] if out else ""
        if body and not item and prev.startswith("  ") and not prev.strip().startswith("http"):
            out[-1] = f"{prev} {line.strip()}"
        else:
            out.append(line)
    return "\n".join(out)


class FindingsView(Vertical):
    def __init__(
        self, *, explain: Callable[[str], str] | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.findings: list[Finding] = []
        self.explain = explain
        self.detail_plain = ""

    def compose(self) -> ComposeResult:
        table: DataTable[Text | str] = DataTable(id="findings-table", cursor_type="row")
        yield table
        with VerticalScroll(id="finding-detail-scroll"):
            yield Static("", id="finding-detail")

    def on_mount(self) -> None:
        table = self.query_one("#findings-table", DataTable)
        table.add_column("", key="sev")
        table.add_column("Kind", key="kind")
        table.add_column("Subject", key="subject")
        table.add_column("Message", key="message")
        self.show([], "")

    def show(self, findings: Sequence[Finding], empty: str) -> None:
        self.findings = sorted(findings, key=lambda f: (-Severity(f.severity).rank, f.kind))
        table = self.query_one("#findings-table", DataTable)
        table.clear()
        for i, f in enumerate(self.findings):
            sev = Text(str(f.severity), style=SEVERITY_STYLES.get(str(f.severity), ""))
            table.add_row(sev, f.kind, mask_text(f.subject), mask_text(f.message), key=str(i))
        if self.findings:
            table.move_cursor(row=0)
            self._detail(0)
        else:
            self.detail_plain = empty
            self.query_one("#finding-detail", Static).update(Text(empty, style="dim"))

    @on(DataTable.RowHighlighted, "#findings-table")
    def _row(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._detail(event.cursor_row)

    def _detail(self, index: int) -> None:
        if not 0 <= index < len(self.findings):
            return
        f = self.findings[index]
        head = Text.assemble(
            (f"{f.severity} ", SEVERITY_STYLES.get(str(f.severity), "")),
            (f.kind, "bold"),
            f"  {mask_text(f.subject)}",
        )
        parts: list[Text] = [head, Text(mask_text(f.message))]
        if f.fix:
            first, *rest = mask_text(f.fix).split("\n")
            parts.append(Text.assemble(("fix ", "bold green"), first))
            parts += [Text(f"    {line}") for line in rest]
        if f.evidence:
            parts.append(Text("evidence", style="bold dim"))
            parts += [Text(f"  {mask_text(e)}") for e in f.evidence]
        if self.explain is not None:
            text = reflow(self.explain(f.kind))
            if text:
                parts.append(Text(""))
                parts.append(Text(text, style="dim"))
        self.detail_plain = "\n".join(p.plain for p in parts)
        self.query_one("#finding-detail", Static).update(Group(*parts))


def explain_kind(kind: str) -> str:
    """The --explain text of a finding kind (its one-line meaning when there is no more)."""
    from pnet.diagnose.explain import explain
    from pnet.diagnose.kinds import KINDS

    text = explain(kind)
    if text:
        return text
    info = KINDS.get(kind)
    return f"{kind}: {info.meaning}" if info else ""
