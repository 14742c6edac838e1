"""The Env tab: the variables a service reads, masked, each annotated with where it points."""

from __future__ import annotations

from collections.abc import Sequence

from pnet.tui.engine import EnvPointer
from pnet.tui.status import SEVERITY_STYLES
from rich.text import Text
from textual.widgets import DataTable

from pnet.diagnose.finding import Severity
from pnet.secrets import mask_value


class EnvTable(DataTable[Text | str]):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.pointers: list[EnvPointer] = []

    def on_mount(self) -> None:
        self.add_column("Variable", key="key")
        self.add_column("Points at", key="service")
        self.add_column("Finding", key="finding")
        self.add_column("Value", key="value")

    def show(self, pointers: Sequence[EnvPointer], *, reveal: bool = False) -> None:
        self.pointers = list(pointers)
        self.clear()
        for p in self.pointers:
            if p.value is None:
                value = Text(f"({p.origin}: not known)", style="dim italic")
            else:
                shown = p.value if reveal else (mask_value(p.key, p.value) or "")
                value = Text(shown)
            target = Text(p.service or "", style="cyan")
            if p.findings:
                top = max(p.findings, key=lambda f: Severity(f.severity).rank)
                more = f" +{len(p.findings) - 1}" if len(p.findings) > 1 else ""
                finding = Text(
                    f"{top.kind}{more}", style=SEVERITY_STYLES.get(str(top.severity), "")
                )
            elif p.service:
                finding = Text("ok", style="green")
            else:
                finding = Text("")
            self.add_row(p.key, target, finding, value, key=p.key)
