"""What the app asks of the core: probe a service, read a service's env, sweep, check a path.

The app talks to an `Engine`; `CoreEngine` is the real one: the same target selection
(`pnet.targets.select`) and the same pipeline (`pnet.checks`) as `pnet-doctor`, with this
machine's listening sockets, so the two give one verdict on one socket. Tests give the app a
double that yields the same events with fixed results, so no socket is opened from a snapshot.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pnet.diagnose.finding import Finding
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult

if TYPE_CHECKING:
    from pnet.checks import Options
    from pnet.pathcheck import Verdict


@dataclass(frozen=True)
class Landed:
    """One probe result, as it lands. In a sweep, `owner` is the service whose view it belongs
    to and `env` says it checks one of that service's variables (else the service itself)."""

    subject: str
    result: ProbeResult
    owner: str | None = None
    env: bool = False


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

    def own(self, workspace: Workspace, service: Service) -> Sequence[Finding]:
        """What the model alone says of the service itself (an open database, too many ports)."""
        ...

    def check_env(
        self, workspace: Workspace, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        """Probe every address the service's env vars point at, from the service's side."""
        ...

    def sweep(self, workspace: Workspace) -> AsyncGenerator[EngineEvent, None]:
        """Every service and every service's variables, as `pnet-doctor --all` checks them."""
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
    note: str = ""


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
    """The real engine: pnet.targets.select, pnet.checks, pnet.pathcheck, and this machine's
    listening sockets (pnet.probes.listeners). `inside` names the service this machine is an
    instance of, so its runs from that service diagnose its own listeners as pnet-doctor does."""

    def __init__(
        self,
        options: Options,
        *,
        listeners: Callable[[], Sequence[Any]] | None = None,
        inside: str | None = None,
    ) -> None:
        self.options = options
        self.listeners = listeners
        self.inside = inside

    def _listening(self) -> Sequence[Any] | None:
        if self.listeners is not None:
            return tuple(self.listeners())
        try:
            from pnet.probes.listeners import listening

            return tuple(listening())
        except Exception:
            return None

    async def probe(
        self, workspace: Workspace, source: Service | None, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        from pnet.targets import select

        targets = select(workspace, source, service=service)
        async for event in self._stream(workspace, source, targets):
            yield event

    async def check_env(
        self, workspace: Workspace, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        from pnet.targets import select

        targets = select(workspace, service, own=False)
        async for event in self._stream(workspace, service, targets):
            yield event

    async def sweep(self, workspace: Workspace) -> AsyncGenerator[EngineEvent, None]:
        import asyncio
        import functools

        from pnet.targets import select

        targets = await asyncio.to_thread(functools.partial(select, workspace, None, every=True))
        owners = {t.subject: (t.source or t.service or "", t.source is not None) for t in targets}
        async for event in self._stream(workspace, None, targets):
            if isinstance(event, Landed):
                owner, env = owners.get(event.subject, ("", False))
                yield Landed(event.subject, event.result, owner, env)
            else:
                yield event

    async def _stream(
        self, workspace: Workspace, source: Service | None, targets: Sequence[Any]
    ) -> AsyncGenerator[EngineEvent, None]:
        from pnet import checks

        inside = source is not None and source.name == self.inside
        events = checks.stream(
            workspace, source, targets, self.options, listeners=self._listening(), inside=inside
        )
        try:
            async for event in events:
                if isinstance(event, checks.ProbeEvent):
                    yield Landed(event.subject, event.result)
                else:
                    report = event.report
                    yield Finished(tuple(report.findings), report, tuple(report.checks))
        finally:
            close = getattr(events, "aclose", None)
            if close is not None:
                await close()

    def env(self, workspace: Workspace, service: Service) -> Sequence[EnvPointer]:
        from pnet import checks
        from pnet.targets import select

        targets = select(workspace, service, own=False)
        report = checks.run_offline(workspace, service, targets)
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
                var.note,
            )
            for var in service.env
        ]

    def own(self, workspace: Workspace, service: Service) -> Sequence[Finding]:
        from pnet import checks

        report = checks.run_offline(workspace, service, [])
        return [f for f in report.findings if f.subject == f"service:{service.name}"]

    async def path(
        self, workspace: Workspace, source: Service | None, target: str
    ) -> AsyncGenerator[Verdict, None]:
        from pnet.pathcheck import check_path

        async for verdict in check_path(workspace, source, target, self.options):
            yield verdict

    def instance(self, workspace: Workspace, service: Service | None) -> InstanceView:
        from pnet.checks import local_addresses
        from pnet.diagnose import diagnose

        listeners = list(self._listening() or ())
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
    from pnet import platforms

    adapter = platforms.adapter(service.platform)
    return (adapter.scope_word.capitalize(), adapter.location_note(service))


def _host_shown(service: Service) -> str:
    if not service.host:
        return "none"
    if not service.host_known:
        return f"{service.host}? (the slug's suffix is not in the environment)"
    return service.host
