"""Path check: pick a source and a target; a staged verdict from the source's side."""

from __future__ import annotations

from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, Static

from pnet.model import Service, Workspace
from pnet.pathcheck import State, Verdict
from pnet.secrets import mask_text

if TYPE_CHECKING:
    from pnet.tui.engine import Engine

STATE_STYLES = {
    State.OK: "bold green",
    State.WARNING: "bold yellow",
    State.FAILED: "bold red",
    State.PENDING: "dim",
    State.SKIPPED: "dim",
}
OUTSIDE = "(this machine)"


def render_verdict(verdict: Verdict) -> Group:
    """The summary, then one row per stage; a wrapped line stays under its stage's text."""
    head_style = "bold green" if verdict.ok else ("bold red" if verdict.failed else "bold")
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=2, justify="right", no_wrap=True)
    grid.add_column(ratio=1)
    for stage in verdict.stages:
        line = Text(stage.title, style="bold" if stage.state is State.FAILED else "")
        if stage.detail:
            shown = mask_text(stage.detail)
            line.append(f"  {shown}", style="dim" if stage.state is State.SKIPPED else "")
        grid.add_row(Text(stage.state.mark, style=STATE_STYLES[stage.state]), line)
        if stage is verdict.failed and stage.fix:
            grid.add_row(Text("→", style="bold green"), Text(mask_text(stage.fix)))
    return Group(Text(mask_text(verdict.summary), style=head_style), Text(""), grid)


class PathCheckScreen(ModalScreen[None]):
    """Two selects (or a typed address) and the verdict, stage by stage."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Close", id="path.close", tooltip="Close the path check"),
        Binding(
            "ctrl+r", "run", "Check", id="path.run", tooltip="Check the path from source to target"
        ),
    ]

    @dataclass
    class Refined(Message):
        """A sharper verdict landed."""

        verdict: Verdict

    def __init__(
        self,
        workspace: Workspace,
        engine: Engine,
        *,
        source: Service | None = None,
        target: str | None = None,
        run: bool = False,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.engine = engine
        self.initial_source = source
        self.initial_target = target
        self.run_at_once = run
        self.verdict: Verdict | None = None

    def compose(self) -> ComposeResult:
        names = [s.name for s in self.workspace.services]
        sources = [(OUTSIDE, OUTSIDE), *((self._label(n), n) for n in names)]
        targets = [(self._label(n), n) for n in names]
        with Vertical(id="path-dialog"):
            yield Label("Path check: can the source reach the target?", id="path-title")
            with Horizontal(classes="path-row"):
                yield Label("from", classes="path-label")
                yield Select(
                    sources,
                    value=self.initial_source.name if self.initial_source else OUTSIDE,
                    allow_blank=False,
                    compact=True,
                    id="path-source",
                )
            with Horizontal(classes="path-row"):
                yield Label("to", classes="path-label")
                target_value = (
                    self.initial_target
                    if self.initial_target in names
                    else (names[0] if names else Select.BLANK)
                )
                yield Select(
                    targets, value=target_value, allow_blank=False, compact=True, id="path-target"
                )
            with Horizontal(classes="path-row"):
                yield Label("or", classes="path-label")
                typed = (
                    self.initial_target
                    if self.initial_target and self.initial_target not in names
                    else ""
                )
                yield Input(
                    typed,
                    placeholder="a URL or host:port (wins over the select)",
                    suggester=SuggestFromList(self._suggestions(), case_sensitive=False),
                    compact=True,
                    id="path-address",
                )
            yield Button("Check (ctrl+r)", id="path-check", variant="primary", compact=True)
            yield Static("", id="path-verdict")

    def _suggestions(self) -> list[str]:
        """Every address a person may type: internal URLs, host:port, public URLs."""
        out: list[str] = []
        for svc in self.workspace.services:
            if svc.host and svc.ports:
                out.append(f"{svc.host}:{svc.ports[0]}")
                if not svc.kind.is_datastore:
                    out.append(f"http://{svc.host}:{svc.ports[0]}")
            elif svc.host:
                out.append(svc.host)
            if svc.public_url:
                out.append(svc.public_url)
        return out

    def _label(self, name: str) -> str:
        svc = self.workspace.service(name)
        if svc is None:
            return name
        return f"{name}  ({svc.kind.value}, {svc.location or 'global'})"

    def on_mount(self) -> None:
        self.query_one("#path-target", Select).focus()
        if self.run_at_once:
            self.action_run()

    @property
    def chosen_source(self) -> Service | None:
        value = self.query_one("#path-source", Select).value
        if not isinstance(value, str) or value == OUTSIDE:
            return None
        return self.workspace.service(value)

    @property
    def chosen_target(self) -> str:
        typed = self.query_one("#path-address", Input).value.strip()
        if typed:
            return typed
        value = self.query_one("#path-target", Select).value
        return value if isinstance(value, str) else ""

    @on(Button.Pressed, "#path-check")
    @on(Input.Submitted, "#path-address")
    def _go(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        target = self.chosen_target
        if not target:
            self.notify("Choose a target first", severity="warning")
            return
        self.query_one("#path-verdict", Static).update(Text("checking…", style="dim"))
        self._check(self.chosen_source, target)

    @work(exclusive=True, group="path")
    async def _check(self, source: Service | None, target: str) -> None:
        async with aclosing(self.engine.path(self.workspace, source, target)) as verdicts:
            async for verdict in verdicts:
                self.post_message(self.Refined(verdict))

    @on(Refined)
    def _refined(self, message: Refined) -> None:
        self.verdict = message.verdict
        self.query_one("#path-verdict", Static).update(render_verdict(message.verdict))
