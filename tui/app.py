"""The pnet app: the workspace tree, each service's Connect / Probes / Findings / Env tabs,
path checks, sweeps and exports. No socket code here: everything goes through the Engine, and
the runs (probe, variables, sweep, watch) and what they found live in `Runs`.

Focus is never lost: the tree, or the main list of the tab on show. A tab key moves focus into
the new tab when it was in the tabs; closing a screen, hiding the tree or emptying the filter
puts it back where keys work.
"""

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
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane
from textual.widgets._tabbed_content import ContentTabs

from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.secrets import MASK, mask_text
from pnet.tui import export, summary
from pnet.tui.commands import PnetCommands
from pnet.tui.engine import Engine
from pnet.tui.keys import BINDINGS, footer_hidden, help_rows
from pnet.tui.panes import PANE_FOCUS, TABS, pane_widgets
from pnet.tui.redraw import Coalesced
from pnet.tui.runs import Runs
from pnet.tui.screens.help import HelpScreen
from pnet.tui.screens.map import MapCommands, MapScreen
from pnet.tui.screens.pathcheck import PathCheckScreen
from pnet.tui.status import plural
from pnet.tui.widgets.connect_view import ConnectView
from pnet.tui.widgets.env_view import EnvTable
from pnet.tui.widgets.findings_view import FindingsView
from pnet.tui.widgets.instance_view import InstancePane
from pnet.tui.widgets.probe_table import ProbeTable, probe_detail
from pnet.tui.widgets.service_tree import ServiceTree

if TYPE_CHECKING:
    from pnet.checks import Options
    from pnet.tui.runs import Reload

NARROW = 112
TINY = 70
COLLAPSE = 60


class PnetApp(Runs):
    CSS_PATH = "app.tcss"
    TITLE = "pnet"
    COMMANDS = App.COMMANDS | {PnetCommands, MapCommands}
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
        read_at: float | None = None,
        cached: bool = False,
        reload: Reload | None = None,
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
            read_at=read_at,
            cached=cached,
            reload=reload,
        )
        if keymap:
            self.set_keymap(keymap)
        if theme:
            self.theme = theme
        self.reveal = False
        self.last_export: tuple[Path, Path] | None = None
        self._collapsed = False
        self._status_redraw = Coalesced(self, self._draw_status)
        self._summary_redraw = Coalesced(self, self._draw_probe_summary)

    # ---- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(summary.title(self.workspace, self.source), id="titlebar")
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Input(placeholder="filter: name, type or mark", id="filter")
                yield Static("", id="tree-legend")
                yield ServiceTree(self.workspace, id="tree")
            with TabbedContent(id="tabs"):
                for pane, label in TABS:
                    if pane == "instance" and not self.instance_mode:
                        continue
                    with TabPane(label, id=pane):
                        yield from pane_widgets(pane)
        yield Static("", id="statusbar")
        yield Footer()

    def on_mount(self) -> None:
        tree = self.query_one(ServiceTree)
        tree.focus()
        box = self.query_one("#filter", Input)
        box.display = False
        box.can_focus = False
        self.query_one(ContentTabs).can_focus = False
        self._layout(self.size.width)
        self.watch(self.screen, "focused", self._focus_moved, init=False)
        self.load_static()
        if self.instance_mode:
            self.load_instance()
            assert self.source is not None
            tree.select_service(self.source.name)
            self.call_after_refresh(self._instance_env)
            self.check_env(self.source.name, show=False)
        if self.read_at is not None:
            self.set_interval(30, self.refresh_status)
        self.refresh_status()

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width)
        self.refresh_status()

    def _layout(self, width: int) -> None:
        narrow = width < NARROW
        self.set_class(narrow, "-narrow")
        self.query_one("#titlebar", Static).update(
            summary.title(self.workspace, self.source, compact=narrow)
        )
        self.set_class(width < TINY, "-tiny")
        footer = self.query_one(Footer)
        footer.compact = narrow
        footer.show_command_palette = not narrow
        tree = self.query_one(ServiceTree)
        tree.set_compact(narrow)
        legend = (
            "marks: itself, its variables"
            if narrow
            else ("marks: the service itself, then its variables")
        )
        self.query_one("#tree-legend", Static).update(Text(legend, style="dim"))
        sidebar = self.query_one("#sidebar")
        collapse = width < COLLAPSE
        if collapse != self._collapsed:
            self._collapsed = collapse
            sidebar.display = not collapse
            if collapse:
                self._focus_pane()
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        called = f"{action}({', '.join(repr(p) for p in parameters)})"
        return not footer_hidden(called, self.instance_mode)

    # ---- focus -----------------------------------------------------------------------------

    def _in_tabs(self, widget: Widget | None) -> bool:
        return widget is not None and self.query_one("#tabs") in widget.ancestors

    def _focus_pane(self) -> None:
        """Focus the main list of the tab on show."""
        active = self.query_one(TabbedContent).active
        selector = PANE_FOCUS.get(active)
        if selector:
            self.query_one(selector).focus()

    def ensure_focus(self) -> None:
        """Put focus where keys work: the tree when it shows, else the tab's list."""
        if self.screen is not self.screen_stack[0]:
            return
        focused = self.screen.focused
        if (
            focused is not None
            and focused.focusable
            and all(w.display for w in (focused, *focused.ancestors) if isinstance(w, Widget))
        ):
            return
        if self.query_one("#sidebar").display:
            self.query_one(ServiceTree).focus()
        else:
            self._focus_pane()

    def _focus_moved(self, focused: Widget | None) -> None:
        self.refresh_status()

    def action_move(self, direction: str) -> None:
        """j and k: what ↓ and ↑ do in the focused list, table or scroll."""
        widget = self.focused
        for name in (f"action_cursor_{direction}", f"action_scroll_{direction}"):
            act = getattr(widget, name, None)
            if callable(act):
                act()
                return

    def _screen_closed(self, _result: object = None) -> None:
        """A screen of the app closed: focus goes back where keys work."""
        self.call_after_refresh(self.ensure_focus)

    # ---- selection -----------------------------------------------------------------------

    @on(ServiceTree.Chosen)
    def _chosen(self, message: ServiceTree.Chosen) -> None:
        self.show_service(message.service)

    @on(ServiceTree.Emptied)
    def _emptied(self, message: ServiceTree.Emptied) -> None:
        self.current = None
        text = f"No service matches the filter “{message.filter_text.strip()}”: esc clears it."
        self.query_one(ConnectView).show_nothing(text)
        self.query_one(ProbeTable).restore({}, {})
        self.query_one("#probe-summary", Static).update(Text(text, style="dim"))
        self.query_one("#probe-detail", Static).update("")
        self.query_one("#findings-view", FindingsView).show([], text)
        self.query_one("#env-title", Static).update(Text(text, style="dim"))
        self.query_one(EnvTable).show([])
        self.query_one("#env-detail", Static).update("")

    def selected(self) -> Service | None:
        """The selected service, or None after saying why there is none."""
        if self.current is None:
            box = self.query_one("#filter", Input)
            self.notify(
                f"The filter “{box.value.strip()}” matches no service: esc clears it.",
                title="no service selected",
                severity="warning",
            )
        return self.current

    def show_service(self, service: Service) -> None:
        self.current = service
        self.query_one(ConnectView).show(self.workspace, service, reveal=self.reveal)
        self.refresh_service(service.name, "probes", "findings", "env")

    def select_service(self, name: str) -> None:
        tree = self.query_one(ServiceTree)
        if not tree.select_service(name):
            tree.set_filter("")
            self.query_one("#filter", Input).value = ""
            tree.select_service(name)

    # ---- what the runs found, on screen ----------------------------------------------------

    def refresh_service(self, name: str, *parts: str) -> None:
        if not self._views_up():
            return
        if "instance" in parts and self.instance_mode:
            self._instance_view()
        if not self.is_current(name) or self.current is None:
            return
        svc = self.current
        if "probes" in parts:
            table = self.query_one(ProbeTable)
            table.restore(self.results.get(name, {}), self.history.get(name, {}))
            table.sort_by_kind()
            self._probe_detail()
        if {"probes", "summary", "env", "findings"} & set(parts):
            self.query_one("#probe-summary", Static).update(summary.probe_summary(self, svc))
        if "findings" in parts:
            found = [*self.health_findings(name), *self.variable_findings(name)]
            view = self.query_one("#findings-view", FindingsView)
            view.show(found, summary.findings_empty(self, svc), service=name)
        if "env" in parts:
            self._show_env()

    def probe_row(self, name: str, key: str, result: ProbeResult) -> None:
        if not self.is_current(name) or self.current is None or not self._views_up():
            return
        table = self.query_one(ProbeTable)
        table.history[key] = self.history[name][key]
        table._put(result)
        self._summary_redraw()
        self._probe_detail()

    def _draw_probe_summary(self) -> None:
        """The summary above the probe table (at most every REDRAW_S while results pour in)."""
        if self.current is None or not self._views_up():
            return
        summ = summary.probe_summary(self, self.current)
        self.query_one("#probe-summary", Static).update(summ)

    def show_marks(self, name: str) -> None:
        if not self._views_up():
            return
        self.query_one(ServiceTree).set_marks(name, self.status[name], self.reach.get(name))

    def _show_env(self) -> None:
        svc = self.current
        if svc is None:
            return
        self.query_one("#env-title", Static).update(summary.env_title(self, svc))
        table = self.query_one(EnvTable)
        table.show(
            self.env_for(svc),
            reveal=self.reveal,
            live=self.env_live.get(svc.name),
            live_findings=self.env_findings.get(svc.name),
            live_done=svc.name in self.env_findings,
        )
        self.query_one("#env-detail", Static).update(table.detail())

    @on(DataTable.RowHighlighted, "#env-table")
    def _env_row(self, event: DataTable.RowHighlighted) -> None:
        if not self._views_up():
            return
        self.query_one("#env-detail", Static).update(self.query_one(EnvTable).detail())

    @on(DataTable.RowHighlighted, "#probe-table")
    def _probe_row(self, event: DataTable.RowHighlighted) -> None:
        if self._views_up():
            self._probe_detail()

    def _probe_detail(self) -> None:
        """The highlighted probe in full: the latest result of that row, or nothing."""
        table = self.query_one(ProbeTable)
        result = None
        history: list[float] = []
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            result = table.results.get(key) if key is not None else None
            history = list(table.history.get(key, ())) if key is not None else []
        self.query_one("#probe-detail", Static).update(probe_detail(result, history))

    def refresh_status(self) -> None:
        """The status bar, at most every REDRAW_S while results pour in."""
        self._status_redraw()

    def _draw_status(self) -> None:
        if not self._views_up():
            return
        width = self.size.width
        line = summary.status_line(self, width)
        focused = self.screen.focused if self.screen_stack else None
        hint = summary.HINTS.get(focused.id or "", "") if focused is not None else ""
        if self.instance_mode:
            hint = hint.replace("1-4 tabs", "1-5 tabs")
        self.query_one("#statusbar", Static).update(summary.with_hint(line, hint, width))

    # ---- the keys: probe, variables, sweep, watch -------------------------------------------

    def action_probe(self) -> None:
        svc = self.selected()
        if svc is not None:
            self.probe_service(svc.name)

    def action_check_env(self) -> None:
        svc = self.selected()
        if svc is not None:
            self.check_env(svc.name)

    def action_sweep(self) -> None:
        self.sweep()

    def action_watch(self) -> None:
        if self.watching:
            name = self.watching
            self.watch_service(None)
            self.notify(f"Stopped watching {name}")
            return
        svc = self.selected()
        if svc is None:
            return
        if not svc.type.receives:
            self.notify(
                f"{svc.name} receives no private traffic: there is nothing of it to watch",
                severity="warning",
            )
            return
        self.watch_service(svc)
        self.notify(f"Watching {svc.name}: re-probing every {self.watch_interval:g}s (w stops)")

    # ---- connect, reveal, copy -----------------------------------------------------------

    def connect_fields(self) -> list[tuple[str, str]]:
        return self.query_one(ConnectView).field_ids()

    def action_reveal(self) -> None:
        self.reveal = not self.reveal
        if self.current is not None:
            self.query_one(ConnectView).show(self.workspace, self.current, reveal=self.reveal)
            self._show_env()
        self.refresh_status()
        self.notify("Secrets shown: r hides them" if self.reveal else "Secrets masked")

    def action_copy(self) -> None:
        """Copy the highlighted Connect field. From elsewhere, the Connect tab takes focus
        with the highlight on show, so the next y copies what the person picks."""
        if self.selected() is None:
            return
        view = self.query_one(ConnectView)
        fields = view.field_ids()
        if not fields:
            self.notify("Nothing to copy here", severity="warning")
            return
        chosen = view.highlighted_field() or fields[0]
        options = self.query_one("#connect-fields")
        hint = ""
        if self.focused is not options:
            self.action_tab("connect")
            options.focus()
            if len(fields) > 1:
                hint = "\n↑↓ picks another field, y copies it"
        self.copy_field(*chosen, hint=hint)

    @on(ConnectView.CopyRequested)
    def _copy_requested(self, message: ConnectView.CopyRequested) -> None:
        self.copy_field(message.tab, message.label)

    def copy_field(self, tab: str, label: str, hint: str = "") -> None:
        if self.current is None:
            return
        found = self.query_one(ConnectView).values(self.workspace, self.current, tab, label)
        if found is None:
            return
        raw, masked = found
        if not raw.copyable:
            self.notify(f"{label}: {masked.value}", title="not copyable", severity="warning")
            return
        self.copy_to_clipboard(raw.value)
        shown = raw.value if self.reveal else masked.value
        if raw.secret and not self.reveal:
            shown = mask_text(shown) if MASK in shown else shown
        self.notify(shown + hint, title=f"copied {label}")

    # ---- path check, export, help, filter, tabs --------------------------------------------

    def action_check(self) -> None:
        target = self.current.name if self.current is not None else None
        self.push_screen(
            PathCheckScreen(self.workspace, self.engine, source=self.source, target=target),
            callback=self._screen_closed,
        )

    def open_path_check(self, source: str | None, target: str, run: bool = False) -> None:
        svc = self.workspace.service(source) if source else None
        self.push_screen(
            PathCheckScreen(self.workspace, self.engine, source=svc, target=target, run=run),
            callback=self._screen_closed,
        )

    def action_export(self) -> None:
        folder = self.export_dir or Path.cwd()
        states = export.states(self)
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
        self.notify(
            f"{plural(len(states), 'service')} checked so far\n{md.name}\n{js.name}\nin {folder}",
            title="exported",
        )

    def action_help(self) -> None:
        rows = help_rows(self.instance_mode, self.reload is not None)
        self.push_screen(HelpScreen(rows), callback=self._screen_closed)

    def action_map(self, focus: str | None = None) -> None:
        found = [*self.reports.values(), *self.env_reports.values()]
        reports = list({id(r): r for r in found if r is not None}.values())
        self.push_screen(
            MapScreen(self.workspace, reports, focus=focus), callback=self._screen_closed
        )

    def action_refresh(self) -> None:
        self.refresh_workspace()

    def workspace_changed(self, current: str | None) -> None:
        tree = self.query_one(ServiceTree)
        tree.workspace = self.workspace
        tree.statuses.clear()
        tree.reach.clear()
        tree.rebuild()
        self._layout(self.size.width)
        if current is not None and self.workspace.service(current) is not None:
            self.select_service(current)

    def action_filter(self) -> None:
        if not self.query_one("#sidebar").display:
            self.action_toggle_tree()
        box = self.query_one("#filter", Input)
        box.display = True
        box.can_focus = True
        box.focus()

    def action_unfilter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            box.can_focus = False
            self.query_one(ServiceTree).set_filter("")
            self.query_one(ServiceTree).focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(ServiceTree).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.display = False
            event.input.can_focus = False
        self.query_one(ServiceTree).focus()

    def action_toggle_tree(self) -> None:
        sidebar = self.query_one("#sidebar")
        sidebar.display = not sidebar.display
        if sidebar.display:
            self.query_one(ServiceTree).focus()
        elif not self._in_tabs(self.focused):
            self._focus_pane()

    def action_tab(self, name: str) -> None:
        """Show a tab; when focus was in the tabs, it moves into the new one's list."""
        tabs = self.query_one(TabbedContent)
        if not tabs.query(f"#{name}"):
            return
        into = self._in_tabs(self.focused) or self.focused is None
        tabs.active = name
        if into:
            self._focus_pane()

    def set_theme(self, theme: str) -> None:
        self.theme = theme

    async def action_quit(self) -> None:
        self.watching = None
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
