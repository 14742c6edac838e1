"""The Env tab: the variables a service reads, masked, each annotated with where it points."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.widgets import DataTable

from pnet.diagnose.finding import Finding, Severity
from pnet.probes.result import ProbeResult
from pnet.secrets import mask_value
from pnet.tui.engine import EnvPointer
from pnet.tui.status import SEVERITY_STYLES


class EnvTable(DataTable[Text | str]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.pointers: list[EnvPointer] = []

    def on_mount(self) -> None:
        self.add_column("Variable", key="key")
        self.add_column("Points at", key="service")
        self.add_column("Finding", key="finding")
        self.add_column("Live", key="live")
        self.add_column("Value", key="value")

    def show(
        self,
        pointers: Sequence[EnvPointer],
        *,
        reveal: bool = False,
        live: Mapping[str, Sequence[ProbeResult]] | None = None,
        live_findings: Sequence[Finding] | None = None,
        live_done: bool = False,
    ) -> None:
        self.pointers = list(pointers)
        self.clear()
        by_subject: dict[str, list[Finding]] = {}
        for f in live_findings or ():
            by_subject.setdefault(f.subject, []).append(f)
        for p in self.pointers:
            if p.value is None:
                value = Text(f"({p.origin}: not known)", style="dim italic")
            else:
                shown = p.value if reveal else (mask_value(p.key, p.value) or "")
                value = Text(shown)
            target = Text(p.service or "", style="cyan")
            findings = list(p.findings)
            seen = {(f.kind, f.subject) for f in findings}
            findings += [f for f in by_subject.get(p.key, ()) if (f.kind, f.subject) not in seen]
            if findings:
                top = max(findings, key=lambda f: Severity(f.severity).rank)
                more = f" +{len(findings) - 1}" if len(findings) > 1 else ""
                finding = Text(
                    f"{top.kind}{more}", style=SEVERITY_STYLES.get(str(top.severity), "")
                )
            elif p.service:
                finding = Text("ok", style="green")
            else:
                finding = Text("")
            address = p.service is not None or bool(findings)
            cell = self._live(live, p.key, live_done, address)
            self.add_row(p.key, target, finding, cell, value, key=p.key)

    @staticmethod
    def _live(
        live: Mapping[str, Sequence[ProbeResult]] | None, key: str, done: bool, address: bool
    ) -> Text:
        if live is None:
            return Text("")
        results = live.get(key)
        if not results and done and not address:
            return Text("")
        if not results:
            return Text("not probed" if done else "…", style="dim")
        bad = [r for r in results if not r.ok]
        if bad:
            return Text(f"{bad[0].kind} {bad[0].outcome}", style="red")
        ms = max(r.elapsed_ms for r in results)
        return Text(f"ok {ms:.0f} ms", style="green")
