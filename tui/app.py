"""The pnet app: the workspace tree, each service's Connect / Probes / Findings / Env tabs,
path checks, sweeps and exports. No socket code here: everything goes through the Engine."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane

from pnet import platforms
from pnet.diagnose.finding import Finding
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.secrets import MASK, mask_text
from pnet.tui import export
from pnet.tui.commands import PnetCommands
from pnet.tui.engine import CoreEngine, Engine, EnvPointer, Finished, InstanceView, Landed
from pnet.tui.redraw import Coalesced
from pnet.tui.screens.help import HelpScreen
from pnet.tui.screens.pathcheck import PathCheckScreen
from pnet.tui.status import Status, worst
from pnet.tui.widgets.connect_view import ConnectView
from pnet.tui.widgets.env_view import EnvTable
from pnet.tui.widgets.findings_view import FindingsView
from pnet.tui.widgets.probe_table import ProbeTable, row_key
from pnet.tui.widgets.service_tree import ServiceTree

if TYPE_CHECKING:
    from pnet.checks import Options

NARROW = 112
TINY = 70
COLLAPSE = 60


@dataclass
class ProbeStarted(Message):
    service: str


@dataclass
class ProbeLanded(Message):
    service: str
    result: ProbeResult


@dataclass
class ProbeFinished(Message):
    service: str
    findings: tuple[Finding, ...]
    report: Any = None


@dataclass
class ProbeFailed(Message):
    service: str
    error: str


@dataclass
class EnvLanded(Message):
    service: str
    subject: str
    result: ProbeResult


@dataclass
class EnvFinished(Message):
    service: str
    findings: tuple[Finding, ...]
    report: Any = None


@dataclass
class SweepProgress(Message):
    done: int
    total: int
    finished: bool = False


@dataclass
class InstanceLoaded(Message):
    view: InstanceView


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


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


def _explain(kind: str) -> str:
    """The --explain text of a finding kind (its one-line meaning when there is no more)."""
    import importlib

    from pnet.diagnose.kinds import KINDS

    try:
        module = importlib.import_module("pnet.diagnose.explain")
    except ImportError:
        module = None
    fn = getattr(module, "explain", None)
    if callable(fn):
        try:
            return str(fn(kind))
        except (KeyError, ValueError):
            pass
    info = KINDS.get(kind)
    return f"{kind}: {info.meaning}" if info else ""


class PnetApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "pnet"
    COMMANDS = App.COMMANDS | {PnetCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit at once (running probes stop)"),
        Binding(
            "slash", "filter", "Filter", id="filter", tooltip="Filter services by name/type/status"
        ),
        Binding("p", "probe", "Probe", id="probe", tooltip="Probe the selected service"),
        Binding("P", "sweep", "Sweep", id="sweep", tooltip="Probe every service"),
        Binding(
            "v",
            "check_env",
            "Vars",
            id="check-env",
            tooltip="Probe every address the service's env vars point at, from its side",
        ),
        Binding("c", "check", "Path", id="check", tooltip="Can A reach B? A staged verdict"),
        Binding("w", "watch", "Watch", id="watch", tooltip="Re-probe every few seconds"),
        Binding("y", "copy", "Copy", id="copy", tooltip="Copy the highlighted Connect field"),
        Binding("r", "reveal", "Reveal", id="reveal", tooltip="Show or hide secrets"),
        Binding("e", "export", "Export", id="export", tooltip="Write Markdown + JSON reports"),
        Binding(
            "t",
            "toggle_tree",
            "Tree",
            id="tree",
            tooltip="Show or hide the service tree",
            show=False,
        ),
        Binding("question_mark", "help", "Help", id="help", tooltip="Every key and mark"),
        Binding(
            "escape",
            "unfilter",
            "Clear filter",
            id="unfilter",
            tooltip="Clear the filter",
            show=False,
        ),
        Binding(
            "1",
            "tab('connect')",
            "Connect",
            id="tab.connect",
            tooltip="Show the Connect tab",
            show=False,
        ),
        Binding(
            "2",
            "tab('probes')",
            "Probes",
            id="tab.probes",
            tooltip="Show the Probes tab",
            show=False,
        ),
        Binding(
            "3",
            "tab('findings')",
            "Findings",
            id="tab.findings",
            tooltip="Show the Findings tab",
            show=False,
        ),
        Binding("4", "tab('env')", "Env", id="tab.env", tooltip="Show the Env tab", show=False),
        Binding(
            "5",
            "tab('instance')",
            "Instance",
            id="tab.instance",
            tooltip="Show the Instance tab (inside an instance)",
            show=False,
        ),
    ]

    def __init__(
        self,
        workspace: Workspace,
        *,
        source: Service | None = None,
        options: Options | None = None,
        engine: Engine | None = None,
        clock: Callable[[], datetime] | None = None,
        theme: str | None = None,
        instance: bool = False,
        export_dir: Path | None = None,
        watch_interval: float = 3.0,
        keymap: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        if keymap:
            self.set_keymap(keymap)
        self.workspace = workspace
        self.source = source
        if engine is None:
            if options is None:
                from pnet.checks import Options as _Options

                options = _Options()
            engine = CoreEngine(options)
        self.engine: Engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        if theme:
            self.theme = theme
        self.instance_mode = instance and source is not None
        self.export_dir = export_dir
        self.watch_interval = watch_interval
        self.current: Service | None = None
        self.reveal = False
        self.watching = False
        self.results: dict[str, dict[str, ProbeResult]] = {}
        self.history: dict[str, dict[str, deque[float]]] = {}
        self.findings: dict[str, tuple[Finding, ...]] = {}
        self.reports: dict[str, Any] = {}
        self.status: dict[str, Status] = {}
        self.probed_at: dict[str, datetime] = {}
        self.env_cache: dict[str, list[EnvPointer]] = {}
        self.run_keys: dict[str, set[str]] = {}
        self.env_live: dict[str, dict[str, list[ProbeResult]]] = {}
        self.env_findings: dict[str, tuple[Finding, ...]] = {}
        self.sweep_state: tuple[int, int] | None = None
        self.last_export: tuple[Path, Path] | None = None
        self.instance_view: InstanceView | None = None
        self._collapsed = False
        self._status_redraw = Coalesced(self, self._draw_status_line)
        self._summary_redraw = Coalesced(self, self._draw_probe_summary)

    # ---- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="titlebar")
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Input(placeholder="filter: name, type or status", id="filter")
                yield ServiceTree(self.workspace, id="tree")
            with TabbedContent(id="tabs"):
                if self.instance_mode:
                    with TabPane("Instance", id="instance"):
                        yield Static("", id="instance-identity")
                        with VerticalScroll(id="instance-env-scroll"):
                            yield Static("", id="instance-env")
                        yield DataTable(id="listeners", cursor_type="row")
                        yield FindingsView(explain=_explain, id="instance-findings")
                with TabPane("Connect", id="connect"):
                    yield ConnectView(id="connect-view")
                with TabPane("Probes", id="probes"):
                    yield Static("", id="probe-summary", classes="pane-title")
                    yield ProbeTable(id="probe-table")
                    yield Static("", id="probe-detail")
                with TabPane("Findings", id="findings"):
                    yield FindingsView(explain=_explain, id="findings-view")
                with TabPane("Env", id="env"):
                    yield Static("", id="env-title", classes="pane-title")
                    yield EnvTable(id="env-table")
        yield Static("", id="statusbar")
        yield Footer()

    def _title(self, compact: bool = False) -> Text:
        ws = self.workspace
        text = Text.assemble(
            ("pnet", "bold"),
            "  ",
            (ws.project or ws.name, "bold"),
            " ",
            (f"· {ws.platform} · {plural(len(ws.services), 'service')}", "dim"),
        )
        suffix = platforms.of(ws).shared_suffix
        if suffix and not compact:
            text.append(f" · private names *{suffix}", "dim")
        src = self.source
        text.append(" · from" if compact else " · probing from", "dim")
        text.append(" ")
        text.append(src.name if src else "this machine", "bold")
        if src is not None and src.location:
            text.append(f" ({src.location})", "dim")
        return text

    def on_mount(self) -> None:
        tree = self.query_one(ServiceTree)
        tree.focus()
        self.query_one("#filter", Input).display = False
        self._layout(self.size.width)
        if self.instance_mode:
            listeners = self.query_one("#listeners", DataTable)
            for key, label in (
                ("family", "Family"),
                ("address", "Address"),
                ("port", "Port"),
                ("bind", "Bind"),
                ("pid", "PID"),
                ("process", "Process"),
            ):
                listeners.add_column(label, key=key)
            self._load_instance()
            assert self.source is not None
            tree.select_service(self.source.name)
            self.call_after_refresh(self._instance_env)
            self.check_env(self.source.name, show=False)
        self._status_line()

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        narrow = width < NARROW
        self.set_class(narrow, "-narrow")
        self.query_one("#titlebar", Static).update(self._title(compact=narrow))
        self.set_class(width < TINY, "-tiny")
        tree = self.query_one(ServiceTree)
        tree.set_compact(narrow)
        sidebar = self.query_one("#sidebar")
        collapse = width < COLLAPSE
        if collapse != self._collapsed:
            self._collapsed = collapse
            sidebar.display = not collapse
        if narrow:
            sidebar.styles.clear_rule("width")
        else:
            columns = max(52, min(tree.preferred_width() + 3, width * 9 // 20))
            sidebar.styles.width = columns
            tree.fit(columns - 3)
        view = self.query_one(ConnectView)
        if view.narrow != narrow:
            view.narrow = narrow
            if self.current is not None:
                view.show(self.workspace, self.current, reveal=self.reveal)

    # ---- selection -----------------------------------------------------------------------

    @on(ServiceTree.Chosen)
    def _chosen(self, message: ServiceTree.Chosen) -> None:
        self.show_service(message.service)

    def show_service(self, service: Service) -> None:
        self.current = service
        self.query_one(ConnectView).show(self.workspace, service, reveal=self.reveal)
        table = self.query_one(ProbeTable)
        table.restore(self.results.get(service.name, {}), self.history.get(service.name, {}))
        table.sort_by_kind()
        self._probe_summary()
        self._probe_detail()
        self._show_findings()
        self._show_env()

    def select_service(self, name: str) -> None:
        tree = self.query_one(ServiceTree)
        if not tree.select_service(name):
            tree.set_filter("")
            self.query_one("#filter", Input).value = ""
            tree.select_service(name)

    def _probe_summary(self) -> None:
        """The summary above the probe table, at most every REDRAW_S while results pour in."""
        self._summary_redraw()

    def _draw_probe_summary(self) -> None:
        svc = self.current
        if svc is None:
            return
        summary = self.query_one("#probe-summary", Static)
        rows = self.results.get(svc.name, {})
        status = self.status.get(svc.name, Status.UNKNOWN)
        text = Text.assemble((f"{status.mark} ", status.style), (svc.name, "bold"))
        if not svc.type.receives:
            text.append("  receives no private traffic: ", "dim")
            text.append(svc.type.why_not_receiving or svc.type.label, "dim")
        elif status is Status.RUNNING:
            fresh = len(self.run_keys.get(svc.name, ()))
            text.append(f"  probing… {fresh} answers so far", "dim")
        elif rows:
            good = sum(1 for r in rows.values() if r.ok)
            text.append(f"  {good}/{len(rows)} probes ok", "green" if good == len(rows) else "red")
            found = self.findings.get(svc.name, ())
            if found:
                text.append(f"  {plural(len(found), 'finding')} (3: Findings)", status.style)
            when = self.probed_at.get(svc.name)
            if when is not None:
                text.append(f"  at {when.strftime('%H:%M:%S')}", "dim")
        else:
            text.append("  not probed yet: press p (or P for every service)", "dim")
        from_env = [f for f in self.env_findings.get(svc.name, ()) if f.severity != "info"]
        if from_env:
            style = worst(from_env).style
            text.append(f"\n  its variables: {plural(len(from_env), 'finding')}", style)
            text.append(" (3: Findings, 4: Env)", "dim")
        if self.watching:
            text.append(f"  watching every {self.watch_interval:g}s (w stops)", "bold cyan")
        summary.update(text)

    def _show_findings(self) -> None:
        svc = self.current
        if svc is None:
            return
        found = list(self.findings.get(svc.name, ()))
        found += list(self.env_findings.get(svc.name, ()))
        static = [f for p in self._env_for(svc) for f in p.findings]
        seen = {(f.kind, f.subject) for f in found}
        found += [f for f in static if (f.kind, f.subject) not in seen]
        if svc.name in self.findings:
            empty = f"No finding: {svc.name} answered every probe."
        else:
            empty = f"No finding yet for {svc.name}. Press p to probe it."
        self.query_one("#findings-view", FindingsView).show(found, empty)

    def _env_for(self, svc: Service) -> list[EnvPointer]:
        if svc.name not in self.env_cache:
            try:
                self.env_cache[svc.name] = list(self.engine.env(self.workspace, svc))
            except Exception as exc:
                self.notify(f"env of {svc.name}: {exc}", severity="error")
                self.env_cache[svc.name] = []
        return self.env_cache[svc.name]

    def _show_env(self) -> None:
        svc = self.current
        if svc is None:
            return
        pointers = self._env_for(svc)
        title = self.query_one("#env-title", Static)
        if not svc.env:
            title.update(Text(f"{svc.name} reads no variables that pnet knows of.", style="dim"))
        else:
            live = {f.subject for f in self.env_findings.get(svc.name, ()) if f.severity != "info"}
            bad = sum(1 for p in pointers if p.findings or p.key in live)
            title.update(
                Text.assemble(
                    (svc.name, "bold"),
                    f"  {plural(len(svc.env), 'variable')}, ",
                    (f"{bad} with a finding", "red" if bad else "green"),
                    ("  v: check live · r: reveal", "dim"),
                )
            )
        self.query_one(EnvTable).show(
            pointers,
            reveal=self.reveal,
            live=self.env_live.get(svc.name),
            live_findings=self.env_findings.get(svc.name),
            live_done=svc.name in self.env_findings,
        )

    # ---- probing -------------------------------------------------------------------------

    def action_probe(self) -> None:
        if self.current is not None:
            self.probe_service(self.current.name)

    def probe_service(self, name: str) -> None:
        svc = self.workspace.service(name)
        if svc is None:
            return
        if not svc.type.receives:
            self.notify(
                f"{svc.name} receives no private traffic: checking where its env vars point.",
                title="checking its variables",
            )
            self.check_env(svc.name)
            return
        self._probe_worker(svc)

    def action_check_env(self) -> None:
        if self.current is not None:
            self.check_env(self.current.name)

    def check_env(self, name: str, *, show: bool = True) -> None:
        svc = self.workspace.service(name)
        if svc is None:
            return
        if not svc.env:
            if show:
                self.notify(f"{svc.name} reads no variables that pnet knows of")
            return
        self.env_live[name] = {}
        self.env_findings.pop(name, None)
        if show:
            self.action_tab("env")
        self._show_env()
        self._env_worker(svc)

    @work(exclusive=True, group="env", exit_on_error=False)
    async def _env_worker(self, service: Service) -> None:
        await self._check_env(service)

    async def _check_env(self, service: Service) -> None:
        try:
            async with aclosing(self.engine.check_env(self.workspace, service)) as events:
                async for event in events:
                    if isinstance(event, Landed):
                        self.post_message(EnvLanded(service.name, event.subject, event.result))
                    elif isinstance(event, Finished):
                        self.post_message(EnvFinished(service.name, event.findings, event.report))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.post_message(ProbeFailed(service.name, f"{type(exc).__name__}: {exc}"))

    @on(EnvLanded)
    def _env_landed(self, message: EnvLanded) -> None:
        rows = self.env_live.setdefault(message.service, {})
        rows.setdefault(message.subject, []).append(message.result)
        if self.current is not None and self.current.name == message.service:
            self._show_env()

    @on(EnvFinished)
    def _env_finished(self, message: EnvFinished) -> None:
        self.env_findings[message.service] = message.findings
        self._set_status(message.service, self._mark_of(message.service))
        if self.current is not None and self.current.name == message.service:
            self._show_env()
            self._show_findings()
        if self.instance_mode and self.source is not None and self.source.name == message.service:
            self._instance_env()
        if self.sweep_state is not None:
            return
        bad = [f for f in message.findings if f.severity != "info"]
        checked = len(self.env_live.get(message.service, {}))
        if not checked and not bad:
            self.notify(
                "none of them points at an address pnet can check",
                title=f"{message.service}'s variables",
            )
            return
        self.notify(
            f"{plural(checked, 'address', 'addresses')} checked, {plural(len(bad), 'finding')}",
            title=f"{message.service}'s variables",
            severity="warning" if bad else "information",
        )

    @work(exclusive=True, group="probe", exit_on_error=False)
    async def _probe_worker(self, service: Service) -> None:
        await self._probe(service)

    async def _probe(self, service: Service) -> None:
        self.post_message(ProbeStarted(service.name))
        try:
            async with aclosing(self.engine.probe(self.workspace, self.source, service)) as events:
                async for event in events:
                    if isinstance(event, Landed):
                        self.post_message(ProbeLanded(service.name, event.result))
                    elif isinstance(event, Finished):
                        self.post_message(ProbeFinished(service.name, event.findings, event.report))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.post_message(ProbeFailed(service.name, f"{type(exc).__name__}: {exc}"))

    @on(ProbeStarted)
    def _started(self, message: ProbeStarted) -> None:
        self.results.setdefault(message.service, {})
        self.run_keys[message.service] = set()
        self._set_status(message.service, Status.RUNNING)
        if self.current is not None and self.current.name == message.service:
            self._probe_summary()

    @on(ProbeLanded)
    def _landed(self, message: ProbeLanded) -> None:
        key = row_key(message.result)
        self.results.setdefault(message.service, {})[key] = message.result
        self.run_keys.setdefault(message.service, set()).add(key)
        hist = self.history.setdefault(message.service, {})
        hist.setdefault(key, deque(maxlen=16)).append(message.result.elapsed_ms)
        if self.current is not None and self.current.name == message.service:
            table = self.query_one(ProbeTable)
            table.history[key] = hist[key]
            table._put(message.result)
            self._probe_summary()
            self._probe_detail()

    @on(ProbeFinished)
    def _finished(self, message: ProbeFinished) -> None:
        name = message.service
        seen = self.run_keys.pop(name, set())
        rows = self.results.setdefault(name, {})
        stale = [k for k in rows if k not in seen]
        for k in stale:
            del rows[k]
        if self.current is not None and self.current.name == name:
            table = self.query_one(ProbeTable)
            if stale:
                table.restore(rows, self.history.get(name, {}))
            table.sort_by_kind()
            self._probe_detail()
        self.findings[name] = message.findings
        self.reports[name] = message.report
        self.probed_at[name] = self.clock()
        self._set_status(name, self._mark_of(name))
        if self.current is not None and self.current.name == name:
            self._probe_summary()
            self._show_findings()

    @on(ProbeFailed)
    def _failed(self, message: ProbeFailed) -> None:
        self._set_status(message.service, Status.UNKNOWN)
        self.notify(mask_text(message.error), title=f"probing {message.service}", severity="error")
        self._probe_summary()

    def _mark_of(self, name: str) -> Status:
        """The worst of what the service's probes and its variables' checks found."""
        rows = self.results.get(name, {})
        probed = name in self.findings and bool(rows or self.findings[name])
        env_checked = bool(self.env_findings.get(name) or self.env_live.get(name))
        own: tuple[Finding, ...] = ()
        if self.instance_view is not None and self.source is not None and self.source.name == name:
            own = self.instance_view.findings
        if not (probed or env_checked or own):
            return Status.UNKNOWN
        status = worst((*self.findings.get(name, ()), *self.env_findings.get(name, ()), *own))
        if status is Status.OK and any(not r.ok for r in rows.values()):
            status = Status.WARNING
        return status

    def _set_status(self, name: str, status: Status) -> None:
        self.status[name] = status
        self.query_one(ServiceTree).set_status(name, status)
        self._status_line()

    @on(DataTable.RowHighlighted, "#probe-table")
    def _probe_row(self, event: DataTable.RowHighlighted) -> None:
        self._probe_detail()

    def _probe_detail(self) -> None:
        """The highlighted probe in full: the latest result of that row, or nothing."""
        table = self.query_one(ProbeTable)
        result = None
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            result = table.results.get(key) if key is not None else None
        self.query_one("#probe-detail", Static).update(probe_detail(result))

    # ---- watch ---------------------------------------------------------------------------

    def action_watch(self) -> None:
        if self.watching:
            self.watching = False
            self.workers.cancel_group(self, "watch")
            self.notify("Stopped watching")
        else:
            if self.current is None or not self.current.type.receives:
                self.notify("Select a service that receives private traffic to watch it")
                return
            self.watching = True
            self._watch_worker()
            self.notify(f"Watching {self.current.name}: re-probing every {self.watch_interval:g}s")
        self._probe_summary()

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def _watch_worker(self) -> None:
        while self.watching:
            svc = self.current
            if svc is not None and svc.type.receives:
                await self._probe(svc)
            await asyncio.sleep(self.watch_interval)

    # ---- sweep ---------------------------------------------------------------------------

    def action_sweep(self) -> None:
        services = [s for s in self.workspace.services if s.type.receives or s.env]
        for svc in services:
            if svc.env:
                self.env_live[svc.name] = {}
                self.env_findings.pop(svc.name, None)
        self.sweep_state = (0, len(services))
        self._sweep_worker(services)

    @work(exclusive=True, group="sweep", exit_on_error=False)
    async def _sweep_worker(self, services: list[Service]) -> None:
        """One run of the doctor's sweep (`pnet-doctor --all`), its results and findings handed
        to each service's own view: its probes, and its variables' checks."""
        total = len(services)
        self.post_message(SweepProgress(0, total))
        for svc in services:
            if svc.type.receives:
                self.post_message(ProbeStarted(svc.name))
        try:
            async with aclosing(self.engine.sweep(self.workspace)) as events:
                async for event in events:
                    if isinstance(event, Landed) and event.owner:
                        if event.env:
                            self.post_message(EnvLanded(event.owner, event.subject, event.result))
                        else:
                            self.post_message(ProbeLanded(event.owner, event.result))
                    elif isinstance(event, Finished):
                        self._sweep_finished(services, event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.post_message(ProbeFailed("sweep", f"{type(exc).__name__}: {exc}"))
        self.post_message(SweepProgress(total, total, finished=True))

    def _sweep_finished(self, services: list[Service], event: Finished) -> None:
        own: dict[str, list[Finding]] = {s.name: [] for s in services}
        env: dict[str, list[Finding]] = {s.name: [] for s in services}
        owner_of: dict[str, tuple[str, bool]] = {}
        for check in event.checks:
            t = check.target
            owner_of[t.subject] = (t.source or t.service or "", t.source is not None)
        for f in event.findings:
            owner, is_env = owner_of.get(f.subject, (f.service or "", False))
            if f.subject.startswith("service:"):
                owner, is_env = f.subject.split(":")[1], False
            if owner in own:
                (env if is_env else own)[owner].append(f)
        for svc in services:
            if svc.type.receives:
                self.post_message(ProbeFinished(svc.name, tuple(own[svc.name]), event.report))
            if svc.env:
                self.post_message(EnvFinished(svc.name, tuple(env[svc.name]), event.report))

    @on(SweepProgress)
    def _sweep_progress(self, message: SweepProgress) -> None:
        self.sweep_state = None if message.finished else (message.done, message.total)
        if message.finished:
            errors = sum(1 for s in self.status.values() if s is Status.ERROR)
            warnings = sum(1 for s in self.status.values() if s is Status.WARNING)
            self.notify(
                f"{plural(message.total, 'service')} checked: "
                f"{errors} with errors, {warnings} with warnings",
                title="sweep done",
            )
        self._status_line()

    def _status_line(self) -> None:
        """The status bar, at most every REDRAW_S while results pour in."""
        self._status_redraw()

    def _draw_status_line(self) -> None:
        bar = self.query_one("#statusbar", Static)
        text = Text()
        if self.sweep_state is not None:
            done, total = self.sweep_state
            width = 20
            filled = int(width * done / total) if total else width
            text.append("sweep ", "bold")
            text.append("█" * filled + "░" * (width - filled), "cyan")
            text.append(f" {done}/{total}", "bold")
        else:
            counts = {s: 0 for s in Status}
            for s in self.status.values():
                counts[s] += 1
            probed = sum(counts[s] for s in (Status.OK, Status.WARNING, Status.ERROR, Status.INFO))
            text.append(f"{probed}/{len(self.workspace.services)} probed", "dim")
            for s in (Status.ERROR, Status.WARNING, Status.OK):
                if counts[s]:
                    text.append(f"  {s.mark} {counts[s]}", s.style)
        if self.reveal:
            text.append("  secrets revealed (r hides)", "bold red")
        bar.update(text)

    # ---- connect, reveal, copy -----------------------------------------------------------

    def connect_fields(self) -> list[tuple[str, str]]:
        return self.query_one(ConnectView).field_ids()

    def action_reveal(self) -> None:
        self.reveal = not self.reveal
        if self.current is not None:
            self.query_one(ConnectView).show(self.workspace, self.current, reveal=self.reveal)
            self._show_env()
        self._status_line()
        self.notify("Secrets revealed: r hides them" if self.reveal else "Secrets masked")

    def action_copy(self) -> None:
        view = self.query_one(ConnectView)
        chosen = view.highlighted_field()
        if chosen is None:
            fields = view.field_ids()
            if not fields:
                self.notify("Nothing to copy here", severity="warning")
                return
            chosen = fields[0]
        self.copy_field(*chosen)

    @on(ConnectView.CopyRequested)
    def _copy_requested(self, message: ConnectView.CopyRequested) -> None:
        self.copy_field(message.tab, message.label)

    def copy_field(self, tab: str, label: str) -> None:
        if self.current is None:
            return
        from pnet.platforms import connect_tabs

        raw = None
        masked = None
        for t in connect_tabs(self.workspace, self.current, reveal=True):
            if t.name == tab:
                f = t.field(label)
                if f is not None:
                    raw = f
        for t in connect_tabs(self.workspace, self.current, reveal=False):
            if t.name == tab:
                masked = t.field(label)
        if raw is None or masked is None:
            return
        if not raw.copyable:
            self.notify(f"{label}: {masked.value}", title="not copyable", severity="warning")
            return
        self.copy_to_clipboard(raw.value)
        shown = raw.value if self.reveal else masked.value
        if raw.secret and not self.reveal:
            shown = mask_text(shown) if MASK in shown else shown
        self.notify(shown, title=f"copied {label}")

    # ---- path check, export, help, filter ------------------------------------------------

    def action_check(self) -> None:
        target = self.current.name if self.current is not None else None
        self.push_screen(
            PathCheckScreen(self.workspace, self.engine, source=self.source, target=target)
        )

    def open_path_check(self, source: str | None, target: str, run: bool = False) -> None:
        svc = self.workspace.service(source) if source else None
        self.push_screen(
            PathCheckScreen(self.workspace, self.engine, source=svc, target=target, run=run)
        )

    def action_export(self) -> None:
        folder = self.export_dir or Path.cwd()
        shown = {
            n for n in (*self.results, *self.env_findings) if self.workspace.service(n) is not None
        }
        if self.current is not None:
            shown.add(self.current.name)
        states = [
            export.ServiceState(
                svc,
                self.status.get(svc.name, Status.UNKNOWN),
                list(self.results.get(svc.name, {}).values()),
                self.findings.get(svc.name, ()),
                self.reports.get(svc.name),
                {k: list(v) for k, v in self.env_live.get(svc.name, {}).items()},
                self.env_findings.get(svc.name, ()),
            )
            for svc in self.workspace.services
            if svc.name in shown
        ]
        path_lines: list[str] = []
        screen = self.screen
        if isinstance(screen, PathCheckScreen) and screen.verdict is not None:
            path_lines = screen.verdict.lines()
        try:
            md, js = export.write(
                folder, self.workspace, self.source, states, self.clock(), path_lines
            )
        except OSError as exc:
            self.notify(f"cannot write to {folder}: {exc.strerror}", severity="error")
            return
        self.last_export = (md, js)
        self.notify(f"{md.name}\n{js.name}\nin {folder}", title="exported")

    def action_help(self) -> None:
        rows: list[tuple[str, str, str]] = []
        for b in self.BINDINGS:
            if isinstance(b, Binding):
                if b.id == "tab.instance" and not self.instance_mode:
                    continue
                key = {"slash": "/", "question_mark": "?"}.get(b.key, b.key)
                rows.append((key, b.description, b.tooltip))
        rows.append(("ctrl+p", "Palette", "Every command by name"))
        rows.append(("enter", "Copy", "On a Connect field: copy it"))
        self.push_screen(HelpScreen(rows))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_unfilter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_one(ServiceTree).set_filter("")
            self.query_one(ServiceTree).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(ServiceTree).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        tree = self.query_one(ServiceTree)
        if not event.value:
            event.input.display = False
        tree.focus()

    def action_toggle_tree(self) -> None:
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display
        if not sidebar.display:
            self.query_one(TabbedContent).focus()

    def action_tab(self, name: str) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.query(f"#{name}"):
            tabs.active = name

    def set_theme(self, theme: str) -> None:
        self.theme = theme

    async def action_quit(self) -> None:
        self.watching = False
        self.workers.cancel_all()
        self.exit(0)

    # ---- inside an instance --------------------------------------------------------------

    @work(thread=True, exclusive=True, group="instance", exit_on_error=False)
    def _load_instance(self) -> None:
        try:
            view = self.engine.instance(self.workspace, self.source)
        except Exception as exc:
            self.call_from_thread(self.notify, f"listeners: {exc}", severity="error")
            return
        self.post_message(InstanceLoaded(view))

    def _instance_env(self) -> None:
        src = self.source
        if src is None:
            return
        box = self.query_one("#instance-env", Static)
        if not src.env:
            box.update(Text("Its variables: none that pnet knows of.", style="dim"))
            return
        text = Text("Where its variables point", style="bold underline")
        findings = self.env_findings.get(src.name)
        if findings is None:
            text.append("  checking…", style="dim")
        by_key: dict[str, Finding] = {}
        for f in findings or ():
            if f.subject not in by_key or f.severity == "error":
                by_key[f.subject] = f
        listed = 0
        for p in self._env_for(src):
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

    @on(InstanceLoaded)
    def _instance_loaded(self, message: InstanceLoaded) -> None:
        view = message.view
        self.instance_view = view
        ident = Text()
        ident.append("This instance\n", "bold underline")
        for label, value in view.identity:
            ident.append(f"{label:<16}", "bold")
            ident.append(f"{value}\n")
        ident.append(plural(len(view.listeners), "listening socket"), "dim")
        self.query_one("#instance-identity", Static).update(ident)
        table = self.query_one("#listeners", DataTable)
        table.clear()
        for row in view.listeners:
            bind = Text(row.bind, style="red" if row.bind == "loopback" else "green")
            table.add_row(
                row.family,
                row.address,
                str(row.port),
                bind,
                str(row.pid or ""),
                row.process or "",
            )
        self.query_one("#instance-findings", FindingsView).show(
            list(view.findings), "The listeners look right: bound on every address, on PORT."
        )
        if self.source is not None and view.findings:
            self._set_status(self.source.name, self._mark_of(self.source.name))
