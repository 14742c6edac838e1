"""Small hand-made workspaces and probe results for the rule tests (no fixture files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pnet import platforms
from pnet.diagnose import Finding, diagnose
from pnet.model import EnvironmentInfo, EnvVar, Kind, Network, Platform, Service, Workspace
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import Target, parse_target, targets_from_env


def svc(
    name: str,
    kind: str = "pserv",
    *,
    platform: Platform = Platform.RENDER,
    region: str | None = "oregon",
    environment: str | None = None,
    plan: str | None = "starter",
    host: str | None = None,
    ports: Sequence[int] | None = None,
    env: Mapping[str, str | None] | None = None,
    **kw: Any,
) -> Service:
    k = Kind(kind)
    stype = platforms.service_type(platform, k, plan)
    if host is None and stype.has_internal_address:
        host = f"{name}-ab12" if platform is Platform.RENDER else f"{name}.railway.internal"
    if ports is None:
        ports = {"postgres": (5432,), "keyvalue": (6379,)}.get(kind, (8000,))
        if not stype.has_internal_address:
            ports = ()
    if platform is Platform.RAILWAY:
        region, environment = None, environment or "production"
    return Service(
        name=name,
        type=stype,
        platform=platform,
        region=region if kind != "static" else None,
        environment=environment,
        plan=plan,
        host=host if stype.has_internal_address else None,
        ports=tuple(ports),
        env=tuple(EnvVar(k2, v) for k2, v in (env or {}).items()),
        **kw,
    )


def render_ws(*services: Service) -> Workspace:
    return Workspace("test", Platform.RENDER, tuple(services))


def railway_ws(*services: Service, legacy: Sequence[str] = ("production",)) -> Workspace:
    envs = {s.environment for s in services if s.environment}
    infos = {
        e: EnvironmentInfo(e, Network.IPV6_ONLY if e in legacy else Network.DUAL_STACK)
        for e in envs
    }
    return Workspace("shop", Platform.RAILWAY, tuple(services), project="shop", environments=infos)


def rw(name: str, kind: str = "pserv", **kw: Any) -> Service:
    return svc(name, kind, platform=Platform.RAILWAY, **kw)


def probe(
    kind: str, outcome: str = "ok", target: str = "", detail: str = "", **evidence: Any
) -> ProbeResult:
    return ProbeResult(
        kind=kind,
        target=target or kind,
        outcome=Outcome(outcome),
        elapsed_ms=1.0,
        detail=detail,
        evidence=evidence,
    )


def dns_ok(a: Sequence[str] = ("10.0.0.5",), aaaa: Sequence[str] = ()) -> ProbeResult:
    return probe("dns", "ok", a=list(a), aaaa=list(aaaa))


def tcp(outcome: str, address: str = "10.0.0.5", port: int = 8000) -> ProbeResult:
    return probe("tcp", outcome, f"{address}:{port}", address=address, port=port)


def instance_tcp(
    index: int, count: int, address: str, outcome: str, port: int = 8000
) -> ProbeResult:
    """One instance's own connection, as the discovery job reports it."""
    return probe(
        "tcp", outcome, f"{address}:{port}", address=address, port=port, instance=index, of=count
    )


@dataclass(frozen=True)
class Listener:
    family: int
    address: str
    port: int
    pid: int | None = None
    process: str | None = None
    v6only: bool = False


def check(
    ws: Workspace,
    source: str | None,
    *,
    results: Mapping[str, Sequence[ProbeResult]] | None = None,
    listeners: Sequence[Any] | None = None,
    targets: Sequence[str] | None = None,
    local: Sequence[str] = (),
    inside: bool = False,
) -> list[Finding]:
    src = ws.service(source) if source else None
    if targets is not None:
        ts: list[Target] = []
        for text in targets:
            t = parse_target(text, ws, src)
            assert t is not None, text
            ts.append(t)
    else:
        assert src is not None
        ts = targets_from_env(ws, src)
    return diagnose(ws, src, ts, results or {}, listeners, local_addresses=local, inside=inside)


def kinds(findings: Sequence[Finding]) -> list[tuple[str, str]]:
    return [(f.kind, f.subject) for f in findings]
