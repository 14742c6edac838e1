"""The app's runs: probing a service, checking its variables, the sweep, watching, the instance.

`Runs` holds what the runs found, service by service, and the workers that drive the engine;
the app above it (`PnetApp`) decides what is on screen and redraws it when `refresh_service`,
`probe_row` and `refresh_status` are called. No socket here: everything goes through the Engine.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App

from pnet.diagnose.finding import Finding
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.secrets import mask_text
from pnet.tui.engine import CoreEngine, Engine, EnvPointer, Finished, InstanceView, Landed
from pnet.tui.messages import (
    EnvFinished,
    EnvLanded,
    InstanceLoaded,
    ProbeFailed,
    ProbeFinished,
    ProbeLanded,
    ProbeStarted,
    SweepProgress,
)
from pnet.tui.status import Status, plural, worst
from pnet.tui.widgets.probe_table import row_key

if TYPE_CHECKING:
    from pnet.checks import Options


class Runs(App[int]):
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
        self.instance_view: InstanceView | None = None

    # ---- what the app shows (PnetApp redraws) ----------------------------------------------

    def refresh_service(self, name: str, *parts: str) -> None:
        """Redraw `parts` ("probes", "findings", "env", "instance") of `name`'s views."""

    def probe_row(self, name: str, key: str, result: ProbeResult) -> None:
        """One probe row of `name` landed."""

    def refresh_status(self) -> None:
        """Redraw the status line."""

    def set_mark(self, name: str, status: Status) -> None:
        self.status[name] = status
        self.refresh_status()

    def is_current(self, name: str) -> bool:
        return self.current is not None and self.current.name == name

    def env_for(self, svc: Service) -> list[EnvPointer]:
        """Where each of the service's variables points (the static view), computed once."""
        if svc.name not in self.env_cache:
            try:
                self.env_cache[svc.name] = list(self.engine.env(self.workspace, svc))
            except Exception as exc:
                self.notify(f"env of {svc.name}: {exc}", severity="error")
                self.env_cache[svc.name] = []
        return self.env_cache[svc.name]

    # ---- probing a service -----------------------------------------------------------------

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
        self.set_mark(message.service, Status.RUNNING)
        self.refresh_service(message.service, "summary")

    @on(ProbeLanded)
    def _landed(self, message: ProbeLanded) -> None:
        key = row_key(message.result)
        self.results.setdefault(message.service, {})[key] = message.result
        self.run_keys.setdefault(message.service, set()).add(key)
        hist = self.history.setdefault(message.service, {})
        hist.setdefault(key, deque(maxlen=16)).append(message.result.elapsed_ms)
        self.probe_row(message.service, key, message.result)

    @on(ProbeFinished)
    def _finished(self, message: ProbeFinished) -> None:
        name = message.service
        seen = self.run_keys.pop(name, set())
        rows = self.results.setdefault(name, {})
        for k in [k for k in rows if k not in seen]:
            del rows[k]
        self.findings[name] = message.findings
        self.reports[name] = message.report
        self.probed_at[name] = self.clock()
        self.set_mark(name, self.mark_of(name))
        self.refresh_service(name, "probes", "summary", "findings")

    @on(ProbeFailed)
    def _failed(self, message: ProbeFailed) -> None:
        self.set_mark(message.service, Status.UNKNOWN)
        self.notify(mask_text(message.error), title=f"probing {message.service}", severity="error")
        self.refresh_service(message.service, "summary")

    def mark_of(self, name: str) -> Status:
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

    # ---- checking a service's variables ----------------------------------------------------

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
        self.refresh_service(name, "env")
        self._env_worker(svc)

    def action_tab(self, name: str) -> None:
        """Show a tab (PnetApp has the tabs)."""

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
        self.refresh_service(message.service, "env")

    @on(EnvFinished)
    def _env_finished(self, message: EnvFinished) -> None:
        self.env_findings[message.service] = message.findings
        self.set_mark(message.service, self.mark_of(message.service))
        self.refresh_service(message.service, "env", "findings", "instance")
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

    # ---- watch -----------------------------------------------------------------------------

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
        if self.current is not None:
            self.refresh_service(self.current.name, "summary")

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def _watch_worker(self) -> None:
        while self.watching:
            svc = self.current
            if svc is not None and svc.type.receives:
                await self._probe(svc)
            await asyncio.sleep(self.watch_interval)

    # ---- sweep -----------------------------------------------------------------------------

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
        self.refresh_status()

    # ---- inside an instance ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="instance", exit_on_error=False)
    def _load_instance(self) -> None:
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
            self.refresh_service(self.source.name, "instance")
            if message.view.findings:
                self.set_mark(self.source.name, self.mark_of(self.source.name))
