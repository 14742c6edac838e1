"""The app's runs: probing a service, checking its variables, the sweep, watching, the instance.

`Runs` holds what the runs found, service by service, and the workers that drive the engine;
the app above it (`PnetApp`) decides what is on screen and redraws it when `refresh_service`,
`probe_row`, `show_marks` and `refresh_status` are called. No socket here: everything goes
through the Engine.

Every service has two marks, kept apart because they answer two questions:
- its **health** (`status`): what probing the service itself found, and what the model says of
  the service itself (a database open to the internet, too many ports, its own listeners);
- its **variables** (`reach`): what the addresses its variables point at answered, or what the
  model alone proves about them before they are checked.
A finding about a service (`service:NAME`) counts once, on that service's health, whichever run
found it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.message import Message

from pnet.diagnose.finding import Finding
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.secrets import mask_text
from pnet.tui import sweep
from pnet.tui.engine import CoreEngine, Engine, EnvPointer, Finished, InstanceView, Landed
from pnet.tui.found import Remembering
from pnet.tui.messages import (
    EnvFinished,
    EnvLanded,
    EnvStarted,
    InstanceLoaded,
    ProbeFailed,
    ProbeFinished,
    ProbeLanded,
    ProbeStarted,
    StaticLoaded,
    SweepProgress,
    WorkspaceRead,
)
from pnet.tui.status import Status, plural, worst
from pnet.tui.sweep import about_itself
from pnet.tui.widgets.probe_table import HISTORY, row_key

if TYPE_CHECKING:
    from pnet.checks import Options
    from pnet.sources import Loaded

    Reload = Callable[[Callable[[str], None] | None], Loaded]

POST_BATCH = 32


def unique(findings: Iterable[Finding]) -> list[Finding]:
    """Each (kind, subject) once, in order."""
    seen: set[tuple[str, str]] = set()
    out: list[Finding] = []
    for f in findings:
        if (f.kind, f.subject) not in seen:
            seen.add((f.kind, f.subject))
            out.append(f)
    return out


class Runs(Remembering):
    """The state of every run and the workers behind it (see the module doc)."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        source: Service | None = None,
        options: Options | None = None,
        engine: Engine | None = None,
        clock: Callable[[], datetime] | None = None,
        instance: bool = False,
        export_dir: Path | None = None,
        watch_interval: float = 3.0,
        read_at: float | None = None,
        cached: bool = False,
        reload: Reload | None = None,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.source = source
        if engine is None:
            if options is None:
                from pnet.checks import Options as _Options

                options = _Options()
            engine = CoreEngine(options)
        self.engine: Engine = engine
        self.clock = clock or (lambda: datetime.now(UTC))
        self.instance_mode = instance and source is not None
        self.export_dir = export_dir
        self.watch_interval = watch_interval
        self.current: Service | None = None
        self.watching: str | None = None
        # the service itself
        self.results: dict[str, dict[str, ProbeResult]] = {}
        self.history: dict[str, dict[str, deque[float]]] = {}
        self.findings: dict[str, tuple[Finding, ...]] = {}
        self.reports: dict[str, Any] = {}
        self.probed_at: dict[str, datetime] = {}
        self.why_not: dict[str, str] = {}
        self.run_keys: dict[str, set[str]] = {}
        self.own_static: dict[str, tuple[Finding, ...]] = {}
        self.own_live: dict[str, tuple[Finding, ...]] = {}
        self.status: dict[str, Status] = {}
        # its variables
        self.env_cache: dict[str, list[EnvPointer]] = {}
        self.env_live: dict[str, dict[str, list[ProbeResult]]] = {}
        self.env_findings: dict[str, tuple[Finding, ...]] = {}
        self.env_reports: dict[str, Any] = {}
        self.env_running: set[str] = set()
        self.reach: dict[str, Status] = {}
        self.sweep_state: tuple[int, int] | None = None
        self.instance_view: InstanceView | None = None
        # the platform's API, when the workspace comes from it
        self.read_at = read_at
        self.cached = cached
        self.reload = reload
        self.reading: str | None = None

    def forget(self) -> None:
        """Drop everything the runs found (the workspace was read again)."""
        for cache in (
            self.results,
            self.history,
            self.findings,
            self.reports,
            self.probed_at,
            self.why_not,
            self.run_keys,
            self.own_static,
            self.own_live,
            self.status,
            self.env_cache,
            self.env_live,
            self.env_findings,
            self.env_reports,
            self.reach,
        ):
            cache.clear()
        self.env_running.clear()

    # ---- what the app shows (PnetApp redraws) ----------------------------------------------

    def refresh_service(self, name: str, *parts: str) -> None:
        """Redraw `parts` ("probes", "summary", "findings", "env", "instance") of `name`."""

    def probe_row(self, name: str, key: str, result: ProbeResult) -> None:
        """One probe row of `name` landed."""

    def show_marks(self, name: str) -> None:
        """`name`'s marks changed."""

    def refresh_status(self) -> None:
        """Redraw the status line."""

    def action_tab(self, name: str) -> None:
        """Show a tab (PnetApp has the tabs)."""

    def workspace_changed(self, current: str | None) -> None:
        """The workspace was read again; `current` was selected."""

    def is_current(self, name: str) -> bool:
        return self.current is not None and self.current.name == name

    # ---- the marks -------------------------------------------------------------------------

    def health_findings(self, name: str) -> list[Finding]:
        """Everything found about the service itself."""
        found = [
            *self.findings.get(name, ()),
            *self.own_static.get(name, ()),
            *self.own_live.get(name, ()),
        ]
        view = self.instance_view
        if view is not None and self.source is not None and self.source.name == name:
            found += view.findings
        return unique(found)

    def variable_findings(self, name: str) -> list[Finding]:
        """What its variables' last check found, or what the model proves of them."""
        if name in self.env_findings:
            return unique(f for f in self.env_findings[name] if about_itself(f) is None)
        return unique(f for p in self.env_cache.get(name, ()) for f in p.findings)

    def health_of(self, name: str) -> Status:
        if name in self.run_keys:
            return Status.RUNNING
        found = self.health_findings(name)
        if found:
            return worst(found)
        rows = self.results.get(name, {})
        if self.probed(name):
            return Status.WARNING if any(not r.ok for r in rows.values()) else Status.OK
        return Status.UNKNOWN

    def probed(self, name: str) -> bool:
        """Whether a probe of the service itself ran and was judged."""
        return name in self.probed_at and not self.why_not.get(name)

    def reach_of(self, name: str) -> Status | None:
        """None: the service reads no variable, so there is nothing to check."""
        svc = self.workspace.service(name)
        if svc is None or not svc.env:
            return None
        if name in self.env_running:
            return Status.RUNNING
        found = self.variable_findings(name)
        if found:
            return worst(found)
        live = [r for rs in self.env_live.get(name, {}).values() for r in rs]
        if name in self.env_findings and live:
            return Status.WARNING if any(not r.ok for r in live) else Status.OK
        return Status.UNKNOWN

    def update_marks(self, name: str) -> None:
        self.status[name] = self.health_of(name)
        reach = self.reach_of(name)
        if reach is None:
            self.reach.pop(name, None)
        else:
            self.reach[name] = reach
        self.show_marks(name)
        self.refresh_status()

    def env_for(self, svc: Service) -> list[EnvPointer]:
        """Where each of the service's variables points (the static view), computed once."""
        if svc.name not in self.env_cache:
            try:
                self.env_cache[svc.name] = list(self.engine.env(self.workspace, svc))
            except Exception as exc:
                self.notify(f"env of {svc.name}: {exc}", severity="error")
                self.env_cache[svc.name] = []
        return self.env_cache[svc.name]

    @work(thread=True, exclusive=True, group="static", exit_on_error=False)
    def load_static(self) -> None:
        """What the model alone says of every service, so the marks start from it."""
        pointers: dict[str, list[EnvPointer]] = {}
        own: dict[str, tuple[Finding, ...]] = {}
        try:
            for svc in self.workspace.services:
                own[svc.name] = tuple(self.engine.own(self.workspace, svc))
                if svc.env:
                    pointers[svc.name] = list(self.engine.env(self.workspace, svc))
        except Exception as exc:
            self.call_from_thread(self.notify, f"the static checks: {exc}", severity="error")
        self.post_message(StaticLoaded(pointers, own))

    @on(StaticLoaded)
    def _static_loaded(self, message: StaticLoaded) -> None:
        for name, pointers in message.pointers.items():
            self.env_cache.setdefault(name, pointers)
        self.own_static.update(message.own)
        for svc in self.workspace.services:
            self.update_marks(svc.name)
            self.refresh_service(svc.name, "findings", "env", "summary")

    # ---- probing a service -----------------------------------------------------------------

    def probe_service(self, name: str) -> None:
        svc = self.workspace.service(name)
        if svc is None:
            return
        if not svc.type.receives:
            self.notify(
                f"{svc.name} receives no private traffic: checking where its variables point.",
                title="checking its variables",
            )
            self.check_env(svc.name)
            return
        self._probe_worker(svc)

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
                        why = sweep.not_checked(event.checks)
                        self.post_message(
                            ProbeFinished(service.name, event.findings, event.report, why)
                        )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.post_message(ProbeFailed(service.name, f"{type(exc).__name__}: {exc}"))

    @on(ProbeStarted)
    def _started(self, message: ProbeStarted) -> None:
        self.results.setdefault(message.service, {})
        self.run_keys[message.service] = set()
        self.update_marks(message.service)
        self.refresh_service(message.service, "summary")

    @on(ProbeLanded)
    def _landed(self, message: ProbeLanded) -> None:
        key = row_key(message.result)
        self.results.setdefault(message.service, {})[key] = message.result
        self.run_keys.setdefault(message.service, set()).add(key)
        hist = self.history.setdefault(message.service, {})
        hist.setdefault(key, deque(maxlen=HISTORY)).append(message.result.elapsed_ms)
        self.probe_row(message.service, key, message.result)

    @on(ProbeFinished)
    def _finished(self, message: ProbeFinished) -> None:
        name = message.service
        seen = self.run_keys.pop(name, set())
        rows = self.results.setdefault(name, {})
        for k in [k for k in rows if k not in seen]:
            del rows[k]
        self.findings[name] = tuple(f for f in message.findings if about_itself(f) in (None, name))
        self.reports[name] = message.report
        self.probed_at[name] = self.clock()
        why = message.why_not_checked
        if not (why or rows or self.findings[name]):
            why = "no probe ran"
        self.why_not[name] = why
        self.update_marks(name)
        self.refresh_service(name, "probes", "summary", "findings")
        if why and self.sweep_state is None:
            self.notify(
                why,
                title=f"{name} was not probed",
                severity="warning",
            )

    @on(ProbeFailed)
    def _failed(self, message: ProbeFailed) -> None:
        self.run_keys.pop(message.service, None)
        self.env_running.discard(message.service)
        if self.workspace.service(message.service) is not None:
            self.update_marks(message.service)
        self.notify(mask_text(message.error), title=f"checking {message.service}", severity="error")
        self.refresh_service(message.service, "summary", "env")

    # ---- checking a service's variables ----------------------------------------------------

    def check_env(self, name: str, *, show: bool = True) -> None:
        svc = self.workspace.service(name)
        if svc is None:
            return
        if not svc.env:
            if show:
                self.notify(f"{svc.name} reads no variables that pnet knows of")
            return
        if show:
            self.action_tab("env")
        self._env_worker(svc, show)

    @work(exclusive=True, group="env", exit_on_error=False)
    async def _env_worker(self, service: Service, tell: bool = True) -> None:
        self.post_message(EnvStarted(service.name))
        try:
            async with aclosing(self.engine.check_env(self.workspace, service)) as events:
                async for event in events:
                    if isinstance(event, Landed):
                        self.post_message(EnvLanded(service.name, event.subject, event.result))
                    elif isinstance(event, Finished):
                        self.post_message(
                            EnvFinished(service.name, event.findings, event.report, tell)
                        )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.post_message(ProbeFailed(service.name, f"{type(exc).__name__}: {exc}"))

    @on(EnvStarted)
    def _env_started(self, message: EnvStarted) -> None:
        self.env_live[message.service] = {}
        self.env_findings.pop(message.service, None)
        self.env_running.add(message.service)
        self.update_marks(message.service)
        self.refresh_service(message.service, "env", "summary")

    @on(EnvLanded)
    def _env_landed(self, message: EnvLanded) -> None:
        rows = self.env_live.setdefault(message.service, {})
        rows.setdefault(message.subject, []).append(message.result)
        self.refresh_service(message.service, "env")

    @on(EnvFinished)
    def _env_finished(self, message: EnvFinished) -> None:
        name = message.service
        self.env_running.discard(name)
        self.env_findings[name] = tuple(f for f in message.findings if about_itself(f) is None)
        self.env_reports[name] = message.report
        self.own_live[name] = tuple(f for f in message.findings if about_itself(f) == name)
        self.update_marks(name)
        self.refresh_service(name, "env", "findings", "summary", "instance")
        if self.sweep_state is not None or not message.tell:
            return
        bad = [f for f in self.env_findings[name] if f.severity != "info"]
        checked = len(self.env_live.get(name, {}))
        if not checked and not bad:
            self.notify(
                "none of them points at an address pnet can check",
                title=f"{name}'s variables",
            )
            return
        self.notify(
            f"{plural(checked, 'address', 'addresses')} checked, {plural(len(bad), 'finding')}",
            title=f"{name}'s variables",
            severity="warning" if bad else "information",
        )

    # ---- watch -----------------------------------------------------------------------------

    def watch_service(self, service: Service | None) -> None:
        """Start re-probing `service` every few seconds, or stop (None)."""
        self.watching = service.name if service is not None else None
        self.workers.cancel_group(self, "watch")
        if service is not None:
            self._watch_worker(service)
        self.refresh_status()

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def _watch_worker(self, service: Service) -> None:
        while self.watching == service.name:
            await self._probe(service)
            await asyncio.sleep(self.watch_interval)

    # ---- sweep -----------------------------------------------------------------------------

    def sweep(self) -> None:
        services = [s for s in self.workspace.services if s.type.receives or s.env]
        self.sweep_state = (0, len(services))
        self._sweep_worker(services)

    @work(exclusive=True, group="sweep", exit_on_error=False)
    async def _sweep_worker(self, services: list[Service]) -> None:
        """One run of the doctor's sweep (`pnet-doctor --all`), its results and findings handed
        to each service's own view: its probes, and its variables' checks."""
        total = len(services)
        self.post_message(SweepProgress(0, total))
        await self._post_all(
            [ProbeStarted(s.name) for s in services if s.type.receives]
            + [EnvStarted(s.name) for s in services if s.env]
        )
        heard: set[str] = set()
        try:
            async with aclosing(self.engine.sweep(self.workspace)) as events:
                async for event in events:
                    if isinstance(event, Landed) and event.owner:
                        if event.owner not in heard:
                            # progress: the services whose answers have begun to land
                            heard.add(event.owner)
                            self.post_message(SweepProgress(min(len(heard), total), total))
                        if event.env:
                            subject = sweep.local(event.subject, event.owner)
                            self.post_message(EnvLanded(event.owner, subject, event.result))
                        else:
                            self.post_message(ProbeLanded(event.owner, event.result))
                    elif isinstance(event, Finished):
                        await self._sweep_finished(services, event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.post_message(ProbeFailed("sweep", f"{type(exc).__name__}: {exc}"))
        self.post_message(SweepProgress(total, total, finished=True))

    async def _post_all(self, messages: Sequence[Message]) -> None:
        """Post many messages a few at a time, letting the app handle each batch (and any key
        pressed meanwhile) before the next: a key waits behind one batch, not behind a
        thousand services' updates."""
        for i, message in enumerate(messages):
            if i and i % POST_BATCH == 0:
                await asyncio.sleep(0)
            self.post_message(message)

    async def _sweep_finished(self, services: list[Service], event: Finished) -> None:
        done, loose = sweep.hand_out(services, event)
        await self._post_all(done)
        for f in loose:
            if f.severity == "error" and about_itself(f) is None:
                self.notify(f.message, title=f"{f.kind}: {f.subject}", severity="error")

    @on(SweepProgress)
    def _sweep_progress(self, message: SweepProgress) -> None:
        self.sweep_state = None if message.finished else (message.done, message.total)
        if message.finished:
            self.notify(self.sweep_summary(), title="sweep done")
        self.refresh_status()

    def sweep_summary(self) -> str:
        """`14 services probed: 5 with errors, 4 with warnings; 17 services' variables
        checked: 3 with errors, 2 with warnings`."""
        probed = [s for s in self.workspace.services if s.name in self.probed_at]
        checked = [s for s in self.workspace.services if s.name in self.env_findings]
        parts = []
        for what, services, marks in (
            ("probed", probed, self.status),
            ("variables checked", checked, self.reach),
        ):
            errors = sum(1 for s in services if marks.get(s.name) is Status.ERROR)
            warnings = sum(1 for s in services if marks.get(s.name) is Status.WARNING)
            noun = plural(len(services), "service")
            if what != "probed":
                noun += "'" if len(services) != 1 else "'s"
            parts.append(f"{noun} {what}: {errors} with errors, {warnings} with warnings")
        return ";\n".join(parts)

    # ---- inside an instance ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="instance", exit_on_error=False)
    def load_instance(self) -> None:
        try:
            view = self.engine.instance(self.workspace, self.source)
        except Exception as exc:
            self.call_from_thread(self.notify, f"listeners: {exc}", severity="error")
            return
        self.post_message(InstanceLoaded(view))

    @on(InstanceLoaded)
    def _instance_loaded(self, message: InstanceLoaded) -> None:
        self.instance_view = message.view
        if self.source is not None:
            self.update_marks(self.source.name)
            self.refresh_service(self.source.name, "instance", "findings", "summary")

    # ---- reading the platform's API again ------------------------------------------------

    def refresh_workspace(self) -> None:
        if self.reload is None:
            self.notify("The workspace comes from a file or this instance: nothing to refresh.")
            return
        if self.reading is not None:
            return
        self.reading = "reading the API…"
        self.refresh_status()
        self._refresh_worker()

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False)
    def _refresh_worker(self) -> None:
        assert self.reload is not None

        def say(line: str) -> None:
            self.call_from_thread(self._reading, line)

        try:
            loaded = self.reload(say)
        except Exception as exc:
            self.post_message(WorkspaceRead(error=" ".join(str(exc).split())))
            return
        self.post_message(WorkspaceRead(loaded=loaded))

    def _reading(self, line: str) -> None:
        if self.reading is not None:
            self.reading = line
            self.refresh_status()

    @on(WorkspaceRead)
    def _workspace_read(self, message: WorkspaceRead) -> None:
        self.reading = None
        if message.error:
            self.notify(message.error, title="refresh failed", severity="error")
            self.refresh_status()
            return
        loaded = message.loaded
        current = self.current.name if self.current is not None else None
        self.workspace = loaded.workspace
        if self.source is not None:
            mine = loaded.service if self.instance_mode else None
            self.source = mine or self.workspace.service(self.source.name) or self.source
        self.read_at, self.cached = loaded.read_at, loaded.cached
        self.forget()
        self.workspace_changed(current)
        self.load_static()
        self.notify(plural(len(self.workspace.services), "service"), title="workspace read")
        self.refresh_status()
