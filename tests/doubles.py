"""An engine that answers from a script: fixed results, no socket. For tests and snapshots.

It yields the same events the real engine does, in the same order, so the app cannot tell.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pnet.diagnose.finding import Finding
from pnet.model import Service, Workspace
from pnet.pathcheck import Verdict, check_path
from pnet.probes.result import ProbeResult
from pnet.tui.engine import EngineEvent, EnvPointer, Finished, InstanceView, Landed


@dataclass
class _Report:
    findings: list[Finding]


@dataclass
class _ProbeEvent:
    subject: str
    result: ProbeResult


@dataclass
class _ReportEvent:
    report: _Report


@dataclass(frozen=True)
class _Owner:
    subject: str
    source: str | None
    service: str | None


@dataclass(frozen=True)
class _Check:
    target: _Owner


@dataclass
class ScriptedEngine:
    results: Mapping[str, Sequence[ProbeResult]] = field(default_factory=dict)
    findings: Mapping[str, Sequence[Finding]] = field(default_factory=dict)
    env_pointers: Mapping[str, Sequence[EnvPointer]] = field(default_factory=dict)
    env_results: Mapping[str, Sequence[tuple[str, ProbeResult]]] = field(default_factory=dict)
    env_findings: Mapping[str, Sequence[Finding]] = field(default_factory=dict)
    own_findings: Mapping[str, Sequence[Finding]] = field(default_factory=dict)
    instance_view: InstanceView | None = None
    gate: asyncio.Event | None = None
    probes_started: list[str] = field(default_factory=list)

    async def probe(
        self, workspace: Workspace, source: Service | None, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        self.probes_started.append(service.name)
        for r in self.results.get(service.name, ()):
            if self.gate is not None:
                await self.gate.wait()
            await asyncio.sleep(0)
            yield Landed(f"service:{service.name}", r)
        yield Finished(tuple(self.findings.get(service.name, ())))

    async def check_env(
        self, workspace: Workspace, service: Service
    ) -> AsyncGenerator[EngineEvent, None]:
        for subject, r in self.env_results.get(service.name, ()):
            await asyncio.sleep(0)
            yield Landed(subject, r)
        yield Finished(tuple(self.env_findings.get(service.name, ())))

    async def sweep(self, workspace: Workspace) -> AsyncGenerator[EngineEvent, None]:
        """The scripted results of every service and of its variables, as one run."""
        findings: list[Finding] = []
        checks: list[Any] = []
        for svc in workspace.services:
            name = svc.name
            if svc.type.receives:
                self.probes_started.append(name)
            for r in self.results.get(name, ()) if svc.type.receives else ():
                if self.gate is not None:
                    await self.gate.wait()
                await asyncio.sleep(0)
                yield Landed(f"service:{name}", r, name, False)
            for subject, r in self.env_results.get(name, ()):
                await asyncio.sleep(0)
                yield Landed(subject, r, name, True)
            if svc.type.receives:
                for f in self.findings.get(name, ()):
                    findings.append(f)
                    checks.append(_Check(_Owner(f.subject, None, name)))
            for f in self.env_findings.get(name, ()):
                findings.append(f)
                checks.append(_Check(_Owner(f.subject, name, f.service)))
        yield Finished(tuple(findings), None, tuple(checks))

    def env(self, workspace: Workspace, service: Service) -> Sequence[EnvPointer]:
        if service.name in self.env_pointers:
            return self.env_pointers[service.name]
        return [EnvPointer(v.key, v.value, v.ref_service, (), v.origin) for v in service.env]

    def own(self, workspace: Workspace, service: Service) -> Sequence[Finding]:
        return self.own_findings.get(service.name, ())

    async def path(
        self, workspace: Workspace, source: Service | None, target: str
    ) -> AsyncGenerator[Verdict, None]:
        async def stream(
            ws: Workspace, src: Service | None, targets: Any, options: Any
        ) -> AsyncGenerator[Any, None]:
            name = targets[0].service if targets else None
            for r in self.results.get(name or "", ()):
                yield _ProbeEvent(targets[0].subject, r)
            yield _ReportEvent(_Report(list(self.findings.get(name or "", ()))))

        async for verdict in check_path(workspace, source, target, None, stream=stream):
            yield verdict

    def instance(self, workspace: Workspace, service: Service | None) -> InstanceView:
        return self.instance_view or InstanceView((), (), ())
