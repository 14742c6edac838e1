"""What the app asks of the core: probe a service, read a service's env, check a path.

The app talks to an `Engine`; `CoreEngine` is the real one (pnet.engine underneath). Tests give
the app a double that yields the same events with fixed results, so no socket is ever opened
from a snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pnet.diagnose.finding import Finding
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult

if TYPE_CHECKING:
    from pnet.engine import Options
    from pnet.pathcheck import Verdict


@dataclass(frozen=True)
class Landed:
    """One probe result, as it lands."""

    subject: str
    result: ProbeResult


@dataclass(frozen=True)
class Finished:
    """Every probe of a run has answered: the findings, and the report when there is one."""

    findings: tuple[Finding, ...]
    report: Any = None
    checks: tuple[Any, ...] = field(default_factory=tuple)


EngineEvent = Landed | Finished


class Engine(Protocol):
    def probe(
        self, workspace: Workspace, source: Service | None, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        """Probe one service (its name, discovery, every instance, the protocol) from `source`."""
        ...

    def env(self, workspace: Workspace, service: Service) -> Sequence[EnvPointer]:
        """Where each of the service's env vars points, and the static findings about it."""
        ...

    def check_env(
        self, workspace: Workspace, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        """Probe every address the service's env vars point at, from the service's side."""
        ...

    def path(
        self, workspace: Workspace, source: Service | None, target: str
    ) -> AsyncGenerator[Verdict, None]:
        """A path check from `source` to `target`, refined stage by stage."""
        ...

    def instance(self, workspace: Workspace, service: Service | None) -> InstanceView:
        """This instance: its listeners and what the diagnosis says of them."""
        ...


@dataclass(frozen=True)
class EnvPointer:
    key: str
    value: str | None
    service: str | None
    findings: tuple[Finding, ...] = ()
    origin: str = "value"


@dataclass(frozen=True)
class ListenerRow:
    family: str
    address: str
    port: int
    pid: int | None
    process: str | None
    bind: str = ""


@dataclass(frozen=True)
class InstanceView:
    identity: tuple[tuple[str, str], ...]
    listeners: tuple[ListenerRow, ...]
    findings: tuple[Finding, ...]


class CoreEngine:
    """The real engine: pnet.engine, pnet.targets, pnet.pathcheck, pnet.probes.listeners."""

    def __init__(
        self, options: Options, *, listeners: Callable[[], Sequence[Any]] | None = None
    ) -> None:
        self.options = options
        self.listeners = listeners

    async def probe(
        self, workspace: Workspace, source: Service | None, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        from pnet.targets import service_targets

        targets = service_targets(workspace, service)
        async for event in self._stream(workspace, source, targets):
            yield event

    async def check_env(
        self, workspace: Workspace, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        from pnet.targets import targets_from_env

        targets = targets_from_env(workspace, service)
        async for event in self._stream(workspace, service, targets):
            yield event

    async def _stream(
        self, workspace: Workspace, source: Service | None, targets: Sequence[Any]
    ) -> AsyncGenerator[EngineEvent, None]:
        from pnet import engine

        events = engine.stream(workspace, source, targets, self.options)
        try:
            async for event in events:
                if isinstance(event, engine.ProbeEvent):
                    yield Landed(event.subject, event.result)
                else:
                    report = event.report
                    yield Finished(tuple(report.findings), report, tuple(report.checks))
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()

    def env(self, workspace: Workspace, service: Service) -> Sequence[EnvPointer]:
        from pnet import engine
        from pnet.targets import targets_from_env

        targets = targets_from_env(workspace, service)
        report = engine.run_offline(workspace, service, targets)
        by_key: dict[str, list[Finding]] = {}
        for f in report.findings:
            by_key.setdefault(f.subject, []).append(f)
        pointed: dict[str, str | None] = {}
        for t in targets:
            pointed[t.subject] = t.service
        return [
            EnvPointer(
                var.key,
                var.value,
                pointed.get(var.key) or var.ref_service,
                tuple(by_key.get(var.key, ())),
                var.origin,
            )
            for var in service.env
        ]

    async def path(
        self, workspace: Workspace, source: Service | None, target: str
    ) -> AsyncGenerator[Verdict, None]:
        from pnet.pathcheck import check_path

        async for verdict in check_path(workspace, source, target, self.options):
            yield verdict

    def instance(self, workspace: Workspace, service: Service | None) -> InstanceView:
        from pnet.diagnose import diagnose
        from pnet.engine import local_addresses
        from pnet.probes.listeners import listening

        listeners = list(self.listeners() if self.listeners is not None else listening())
        listeners.sort(key=lambda li: (li.port, li.address))
        if service is not None and service.ports:
            mine = [li for li in listeners if li.port in service.ports]
            listeners = mine + [li for li in listeners if li.port not in service.ports]
        rows = tuple(
            ListenerRow(
                f"ipv{li.family}" if isinstance(li.family, int) else str(li.family),
                li.address,
                li.port,
                li.pid,
                li.process,
                str(getattr(li, "bind", "")),
            )
            for li in listeners
        )
        identity: list[tuple[str, str]] = []
        if service is not None:
            identity = [
                ("Service", service.name),
                ("Platform", str(service.platform)),
                ("Type", service.type.label),
                _location_row(service),
                ("Internal host", _host_shown(service)),
                ("Ports", ", ".join(str(p) for p in service.ports[:8]) or "none"),
            ]
            port = service.env_var("PORT")
            if port is not None and port.value:
                identity.append(("PORT", port.value))
        findings: tuple[Finding, ...] = ()
        if service is not None:
            findings = tuple(
                diagnose(
                    workspace,
                    service,
                    [],
                    {},
                    listeners,
                    local_addresses=local_addresses(),
                    inside=True,
                )
            )
        return InstanceView(tuple(identity), rows, findings)


def _location_row(service: Service) -> tuple[str, str]:
    if service.environment and not service.region:
        return ("Environment", service.environment)
    if service.region:
        return ("Region", service.region)
    if str(service.platform) == "render":
        return ("Region", "not known (Render does not tell an instance; --blueprint does)")
    return ("Environment", "not known")


def _host_shown(service: Service) -> str:
    if not service.host:
        return "none"
    if not service.host_known:
        return f"{service.host}? (the slug's suffix is not in the environment)"
    return service.host
