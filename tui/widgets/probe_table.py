"""The Probes tab: one row per question (DNS, discovery, TCP and HTTP per instance, handshakes).

Rows are keyed by the result's key and updated in place, so watching re-probes without the
table jumping; each row keeps its latency history for the trend column.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from pnet.probes.result import ProbeResult
from pnet.secrets import mask_text
from pnet.tui.status import sparkline
from pnet.tui.widgets.service_tree import ellipsis

HISTORY = 16
KIND_ORDER = {"dns": 0, "discovery": 1, "tcp": 2, "http": 3, "redis": 3, "postgres": 3}
FIXED = {"mark": 1, "kind": 9, "outcome": 7, "ms": 5}
LABELS = {
    "mark": "",
    "kind": "Probe",
    "outcome": "Outcome",
    "ms": "ms",
    "trend": "Trend",
    "target": "Target",
    "detail": "Detail",
}


def row_key(result: ProbeResult) -> str:
    return result.key or f"{result.kind}:{result.target}"


class ProbeTable(DataTable[Text]):
    """Mark, probe, outcome, ms, a latency trend from 0, target and detail, fitted to the width
    (the detail column goes first when there is no room: the pane below shows it)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.results: dict[str, ProbeResult] = {}
        self.history: dict[str, deque[float]] = {}
        self.widths: dict[str, int] = {}

    def on_mount(self) -> None:
        self._columns(self.size.width)

    def on_resize(self) -> None:
        if self._fit(self.size.width) != self.widths:
            self._columns(self.size.width)
            self._refill()

    def _fit(self, width: int) -> dict[str, int]:
        """Mark, probe, outcome, ms and target always; the trend and the detail when there is
        room for them (the pane below has both)."""
        out = dict(FIXED)
        outcomes = [len(str(r.outcome)) for r in self.results.values()]
        out["outcome"] = max(7, *outcomes) if outcomes else 7
        longest = max((len(mask_text(r.target)) for r in self.results.values()), default=12)
        room = width - sum(out.values()) - 2 * (len(out) + 1) - 2
        target = max(12, min(longest, 34))
        if room >= 12 + 2 + 8:
            out["trend"] = min(HISTORY, max(8, room - target - 2))
            room -= out["trend"] + 2
        out["target"] = max(12, min(target, room))
        if room - out["target"] - 2 >= 14:
            out["detail"] = room - out["target"] - 2
        return out

    def _columns(self, width: int) -> None:
        self.widths = self._fit(width)
        self.clear(columns=True)
        for key, w in self.widths.items():
            self.add_column(LABELS[key], key=key, width=w)

    def _refill(self) -> None:
        results = list(self.results.values())
        self.results = {}
        for r in results:
            self._put(r)
        self.sort_by_kind()

    def reset(self, results: list[ProbeResult] | None = None) -> None:
        self.clear()
        self.results.clear()
        self.history.clear()
        for r in results or []:
            self.land(r)

    def restore(self, results: dict[str, ProbeResult], history: dict[str, deque[float]]) -> None:
        self.results = dict(results)
        self.history = {k: deque(v, maxlen=HISTORY) for k, v in history.items()}
        self._columns(self.size.width or 80)
        self.results = {}
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
            for col, value in zip(self.widths, cells, strict=True):
                self.update_cell(key, col, value)
        else:
            self.add_row(*cells, key=key)
        self.results[key] = result

    def _cells(self, r: ProbeResult, key: str) -> list[Text]:
        good = r.ok
        style = "bold green" if good else "bold red"
        instance = r.evidence.get("instance")
        kind = f"{r.kind} #{instance}" if instance else r.kind
        trend = list(self.history.get(key, ()))[-self.widths.get("trend", 1) :]
        cells = {
            "mark": Text("✔" if good else "✘", style=style),
            "kind": Text(kind),
            "outcome": Text(str(r.outcome), style="green" if good else "red"),
            "ms": Text(f"{r.elapsed_ms:.0f}", justify="right"),
            "trend": Text(sparkline(trend), style="cyan"),
            "target": Text(ellipsis(mask_text(r.target), self.widths.get("target", 34))),
            "detail": Text(ellipsis(mask_text(r.detail), self.widths.get("detail", 0))),
        }
        return [cells[k] for k in self.widths]

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


def latency(history: Sequence[float]) -> str:
    """`min 11 · avg 18 · max 26 ms over 16 probes`: the scale of the trend column."""
    if len(history) < 2:
        return ""
    lo, hi = min(history), max(history)
    avg = sum(history) / len(history)
    return f"min {lo:.0f} · avg {avg:.0f} · max {hi:.0f} ms over {len(history)} probes"


def probe_detail(result: ProbeResult | None, history: Sequence[float] = ()) -> Text:
    """The highlighted probe in full: what was asked, the answer, the evidence, its latency."""
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
    trend = latency(history)
    if trend:
        text.append(f"\nlatency: {trend}", "dim")
    return text
