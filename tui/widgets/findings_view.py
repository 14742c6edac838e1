"""The Findings tab: what is wrong, the service's own health first, then its variables; the
selected finding's fix, evidence and explanation below."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from pnet.diagnose.finding import Finding, Severity
from pnet.tui.status import SEVERITY_MARKS, SEVERITY_STYLES, shown
from pnet.tui.widgets.service_tree import ellipsis

KIND_WIDTH = 23
NARROW_KIND = 17
SUBJECT_WIDTH = 18
NARROW = 64


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


def _rank(f: Finding) -> tuple[int, int, str]:
    """The service's own health first, then its variables; the worst first in each."""
    return (0 if f.subject.startswith("service:") else 1, -Severity(f.severity).rank, f.kind)


class FindingsView(Vertical):
    def __init__(
        self, *, explain: Callable[[str], str] | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.findings: list[Finding] = []
        self.explain = explain
        self.detail_plain = ""
        self.service: str | None = None
        self._width = 0

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(id="findings-table", cursor_type="row")
        yield table
        with VerticalScroll(id="finding-detail-scroll"):
            yield Static("", id="finding-detail")

    def on_mount(self) -> None:
        self._columns(self.size.width)
        self.show([], "")

    def on_resize(self) -> None:
        width = self.size.width
        if abs(width - self._width) >= 1:
            self._columns(width)
            self._rows()

    def _columns(self, width: int) -> None:
        """Mark, Kind, Subject and Message fitted to `width`; narrower, the subject leads the
        message in one column (`SEARCH_URL: search does not…`), so the kind stays whole."""
        self._width = width
        table = self.query_one("#findings-table", DataTable)
        table.clear(columns=True)
        table.add_column("", key="sev", width=1)
        table.add_column("Kind", key="kind", width=self._kind_width(width))
        if width >= NARROW:
            table.add_column("Subject", key="subject", width=self._subject_width())
        label = "Message" if width >= NARROW else "Subject: message"
        table.add_column(label, key="message", width=self._message_width(width))

    def _kind_width(self, width: int) -> int:
        longest = max((len(f.kind) for f in self.findings), default=4)
        return max(4, min(KIND_WIDTH if width >= NARROW else NARROW_KIND, longest))

    def _subject_width(self) -> int:
        longest = max((len(self._subject(f)) for f in self.findings), default=7)
        return max(7, min(SUBJECT_WIDTH, longest))

    def _message_width(self, width: int) -> int:
        used = 1 + self._kind_width(width) + 2 * 3 + 3
        if width >= NARROW:
            used += self._subject_width() + 2
        return max(12, width - used)

    def _subject(self, f: Finding) -> str:
        if self.service is not None and f.subject == f"service:{self.service}":
            return "itself"
        return shown(f.subject)

    def show(self, findings: Sequence[Finding], empty: str, service: str | None = None) -> None:
        self.service = service
        self.findings = sorted(findings, key=_rank)
        self._columns(self.size.width or self._width)
        self._rows()
        if not self.findings:
            self.detail_plain = empty
            self.query_one("#finding-detail", Static).update(Text(empty, style="dim"))

    def _rows(self) -> None:
        table = self.query_one("#findings-table", DataTable)
        table.clear()
        width = self._width
        kind_w = self._kind_width(width)
        subject_w = self._subject_width()
        message_w = self._message_width(width)
        for i, f in enumerate(self.findings):
            style = SEVERITY_STYLES.get(str(f.severity), "")
            cells = [Text(SEVERITY_MARKS.get(str(f.severity), "?"), style=style)]
            cells.append(Text(ellipsis(f.kind, kind_w)))
            if width >= NARROW:
                cells.append(Text(ellipsis(self._subject(f), subject_w)))
                message = shown(f.message)
            else:
                message = f"{self._subject(f)}: {shown(f.message)}"
            cells.append(Text(ellipsis(message, message_w)))
            table.add_row(*cells, key=str(i))
        if self.findings:
            table.move_cursor(row=0)
            self._detail(0)

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
            f"  {self._subject(f)}",
        )
        if f.location is not None:
            head.append(f"  at {f.location}", "dim")
        parts: list[Text | Table] = [head, Text(shown(f.message))]
        plain = [head.plain, shown(f.message)]
        if f.fix:
            first, *rest = shown(f.fix).split("\n")
            fix = Table.grid(padding=(0, 1))
            fix.add_column(width=3, no_wrap=True)
            fix.add_column(ratio=1, overflow="fold")
            fix.add_row(Text("fix", style="bold green"), Text(first))
            for line in rest:
                fix.add_row("", Text(line))
            parts.append(fix)
            plain += [f"fix {first}", *(f"    {line}" for line in rest)]
        if f.evidence:
            evidence = [Text(f"  {shown(e)}") for e in f.evidence if e]
            parts += [Text("evidence", style="bold dim"), *evidence]
            plain += ["evidence", *(e.plain for e in evidence)]
        if self.explain is not None:
            text = reflow(self.explain(f.kind))
            if text:
                parts += [Text(""), Text(text, style="dim")]
                plain += ["", text]
        self.detail_plain = "\n".join(plain)
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
