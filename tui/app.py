"""The pnet app: the workspace tree, each service's Connect / Probes / Findings / Env tabs,
path checks, sweeps and exports. No socket code here: everything goes through the Engine, and
the runs (probe, variables, sweep, watch) and what they found live in `Runs`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane

from pnet import platforms
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.secrets import MASK, mask_text
from pnet.tui import export
from pnet.tui.commands import PnetCommands
from pnet.tui.engine import Engine
from pnet.tui.keys import BINDINGS, help_rows
from pnet.tui.runs import Runs
from pnet.tui.screens.help import HelpScreen
from pnet.tui.screens.pathcheck import PathCheckScreen
from pnet.tui.status import Status, plural, worst
from pnet.tui.widgets.connect_view import ConnectView
from pnet.tui.widgets.env_view import EnvTable
from pnet.tui.widgets.findings_view import FindingsView, explain_kind
from pnet.tui.widgets.instance_view import InstancePane
from pnet.tui.widgets.probe_table import ProbeTable, probe_detail
from pnet.tui.widgets.service_tree import ServiceTree

if TYPE_CHECKING:
    from pnet.checks import Options

NARROW = 112
TINY = 70
COLLAPSE = 60


class PnetApp(Runs):
    CSS_PATH = "app.tcss"
    TITLE = "pnet"
    COMMANDS = App.COMMANDS | {PnetCommands}
    BINDINGS: ClassVar[list[BindingType]] = BINDINGS

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
        super().__init__(
            workspace,
            source=source,
            options=options,
            engine=engine,
            clock=clock,
            instance=instance,
            export_dir=export_dir,
            watch_interval=watch_interval,
        )
        if keymap:
            self.set_keymap(keymap)
        if theme:
            self.theme = theme
        self.reveal = False
        self.last_export: tuple[Path, Path] | None = None
        self._collapsed = False

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
                        yield InstancePane(explain=explain_kind, id="instance-pane")
                with TabPane("Connect", id="connect"):
                    yield ConnectView(id="connect-view")
                with TabPane("Probes", id="probes"):
                    yield Static("", id="probe-summary", classes="pane-title")
                    yield ProbeTable(id="probe-table")
                    yield Static("", id="probe-detail")
                with TabPane("Findings", id="findings"):
                    yield FindingsView(explain=explain_kind, id="findings-view")
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
            self._load_instance()
            assert self.source is not None
            tree.select_service(self.source.name)
            self.call_after_refresh(self._instance_env)
            self.check_env(self.source.name, show=False)
        self.refresh_status()

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

    # ---- what the runs found, on screen ----------------------------------------------------

    def refresh_service(self, name: str, *parts: str) -> None:
        if "instance" in parts and self.instance_mode:
            self._instance_view()
        if not self.is_current(name):
            return
        if "probes" in parts:
            table = self.query_one(ProbeTable)
            table.restore(self.results.get(name, {}), self.history.get(name, {}))
            table.sort_by_kind()
            self._probe_detail()
        if {"probes", "summary"} & set(parts):
            self._probe_summary()
        if "findings" in parts:
            self._show_findings()
        if "env" in parts:
            self._show_env()

    def probe_row(self, name: str, key: str, result: ProbeResult) -> None:
        if not self.is_current(name):
            return
        table = self.query_one(ProbeTable)
        table.history[key] = self.history[name][key]
        table._put(result)
        self._probe_summary()
        self._probe_detail()

    def set_mark(self, name: str, status: Status) -> None:
        self.query_one(ServiceTree).set_status(name, status)
        super().set_mark(name, status)

    def _probe_summary(self) -> None:
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
        static = [f for p in self.env_for(svc) for f in p.findings]
        seen = {(f.kind, f.subject) for f in found}
        found += [f for f in static if (f.kind, f.subject) not in seen]
        if svc.name in self.findings:
            empty = f"No finding: {svc.name} answered every probe."
        else:
            empty = f"No finding yet for {svc.name}. Press p to probe it."
        self.query_one("#findings-view", FindingsView).show(found, empty)

    def _show_env(self) -> None:
        svc = self.current
        if svc is None:
            return
        pointers = self.env_for(svc)
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

    def refresh_status(self) -> None:
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

    # ---- probing: the keys ---------------------------------------------------------------

    def action_probe(self) -> None:
        if self.current is not None:
            self.probe_service(self.current.name)

    def action_check_env(self) -> None:
        if self.current is not None:
            self.check_env(self.current.name)

    # ---- connect, reveal, copy -----------------------------------------------------------

    def connect_fields(self) -> list[tuple[str, str]]:
        return self.query_one(ConnectView).field_ids()

    def action_reveal(self) -> None:
        self.reveal = not self.reveal
        if self.current is not None:
            self.query_one(ConnectView).show(self.workspace, self.current, reveal=self.reveal)
            self._show_env()
        self.refresh_status()
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
        self.push_screen(HelpScreen(help_rows(self.instance_mode)))

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

    def _instance_view(self) -> None:
        pane = self.query_one(InstancePane)
        if self.instance_view is not None:
            pane.show_view(self.instance_view)
        self._instance_env()

    def _instance_env(self) -> None:
        src = self.source
        if src is None or not self.instance_mode:
            return
        self.query_one(InstancePane).show_env(
            src, self.env_for(src), self.env_findings.get(src.name)
        )
