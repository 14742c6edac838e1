"""The Probes tab: one row per question (DNS, discovery, TCP and HTTP per instance, handshakes).

Rows are keyed by the result's key and updated in place, so watching re-probes without the
table jumping; each row keeps its latency history for the trend column.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import DataTable

from pnet.probes.result import ProbeResult
from pnet.secrets import mask_text
from pnet.tui.status import sparkline

HISTORY = 16
COLUMNS = (
    ("mark", ""),
    ("kind", "Probe"),
    ("outcome", "Outcome"),
    ("ms", "ms"),
    ("trend", "Trend"),
    ("target", "Target"),
    ("detail", "Detail"),
)
KIND_ORDER = {"dns": 0, "discovery": 1, "tcp": 2, "http": 3, "redis": 3, "postgres": 3}


def row_key(result: ProbeResult) -> str:
    return result.key or f"{result.kind}:{result.target}"


class ProbeTable(DataTable[Text | str]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.results: dict[str, ProbeResult] = {}
        self.history: dict[str, deque[float]] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def reset(self, results: list[ProbeResult] | None = None) -> None:
        self.clear()
        self.results.clear()
        self.history.clear()
        for r in results or []:
            self.land(r)

    def restore(self, results: dict[str, ProbeResult], history: dict[str, deque[float]]) -> None:
        self.clear()
        self.results = {}
        self.history = {k: deque(v, maxlen=HISTORY) for k, v in history.items()}
        for r in results.values():
            self._put(r)

    def land(self, result: ProbeResult) -> None:
        key = row_key(result)
        self.history.setdefault(key, deque(maxlen=HISTORY)).append(result.elapsed_ms)
        self._put(result)

    def _put(self, result: ProbeResult) -> None:
        key = row_key(result)
        cells = self._cells(result, key)
        if key in self.results:
            for (col, _), value in zip(COLUMNS, cells, strict=True):
                self.update_cell(key, col, value)
        else:
            self.add_row(*cells, key=key)
        self.results[key] = result

    def _cells(self, r: ProbeResult, key: str) -> list[Text | str]:
        good = r.ok
        style = "bold green" if good else "bold red"
        mark = Text("✔" if good else "✘", style=style)
        outcome = Text(str(r.outcome), style="green" if good else "red")
        ms = Text(f"{r.elapsed_ms:.0f}", justify="right")
        trend = Text(sparkline(self.history.get(key, ())), style="cyan")
        detail = mask_text(r.detail)
        instance = r.evidence.get("instance")
        kind = f"{r.kind} #{instance}" if instance else r.kind
        return [mark, kind, outcome, ms, trend, mask_text(r.target), detail]

    def sort_by_kind(self) -> None:
        """DNS, discovery, TCP, then the application, each in target order."""
        if self.row_count:
            self.sort(
                "kind",
                "target",
                key=lambda cells: (
                    KIND_ORDER.get(str(cells[0]).split()[0], 9),
                    str(cells[0]),
                    str(cells[1]),
                ),
            )

    @property
    def failed(self) -> list[ProbeResult]:
        return [r for r in self.results.values() if not r.ok]


def probe_detail(result: ProbeResult | None) -> Text:
    """The highlighted probe in full: what was asked, the answer, the evidence."""
    if result is None:
        return Text("")
    style = "green" if result.ok else "red"
    text = Text.assemble(
        (f"{result.kind} ", "bold"),
        mask_text(result.target),
        "  ",
        (str(result.outcome), style),
        (f"  {result.elapsed_ms:.1f} ms", "dim"),
    )
    if result.detail:
        text.append(f"\n{mask_text(result.detail)}")
    for k, v in [(k, v) for k, v in result.evidence.items() if v not in (None, "", [], ())][:6]:
        if isinstance(v, dict):
            shown = ", ".join(f"{a} {b}" for a, b in v.items())
        elif isinstance(v, list | tuple):
            shown = ", ".join(str(x) for x in v)
        else:
            shown = str(v)
        text.append(f"\n{k}: ", "dim")
        text.append(mask_text(shown)[:200])
    return text
