"""Live rules: what the probe results show, confirming, dropping or refining the static view.

Per-instance results (discovery lists the instances, each gets its own TCP and HTTP probe) carry
`instance` in their evidence; the name-level results do not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pnet.diagnose.closest import closest_hosts
from pnet.diagnose.context import Context, finding, placeholder_url
from pnet.diagnose.finding import Finding
from pnet.diagnose.live_connect import (
    CAUSES,
    connect_failed,
    family_failed,
    has,
    resolved_addresses,
)
from pnet.diagnose.static import unknown_host, with_evidence
from pnet.diagnose.static_ports import ipv6_only_finding, tls_on_private, wrong_protocol
from pnet.model import Network, Service
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import Target, credential_keys

NOT_RESOLVED = frozenset({"cross-region", "cross-environment", "not-receiving", "unknown-host"})


def skipped(result: ProbeResult) -> bool:
    """Not an answer of the target's own probes: a probe not tried, or one that asked about
    the internal name a public address stands for (`internal_of`)."""
    return bool(result.evidence.get("skipped") or result.evidence.get("internal_of"))


def per_instance(result: ProbeResult) -> bool:
    return "instance" in result.evidence


def first(results: Sequence[ProbeResult], kind: str) -> ProbeResult | None:
    for r in results:
        if r.kind == kind and not skipped(r) and not per_instance(r):
            return r
    return None


def every(results: Sequence[ProbeResult], kind: str) -> list[ProbeResult]:
    return [r for r in results if r.kind == kind and not skipped(r) and not per_instance(r)]


def target_findings(
    ctx: Context, t: Target, results: Sequence[ProbeResult], found: Sequence[Finding]
) -> list[Finding]:
    """The final findings of one target: the static ones, confirmed, dropped or refined."""
    out = list(found)
    if not results or has(out, {"client-side-private-url"}):
        return out
    internal = [r for r in results if r.evidence.get("internal_of")]
    if internal:
        out += _public_stands_for(ctx, t, internal)
    src = ctx.source_for(t)
    svc = ctx.service(t.service)
    dns = first(results, "dns")
    if dns is not None:
        if not dns.ok:
            return _unresolved(ctx, t, src, svc, dns, out)
        out = [f for f in out if f.kind != "unknown-host"]
        out = _dns_family(ctx, t, src, svc, dns, out)
    tcps = every(results, "tcp")
    inst = instances(ctx, t, svc, first(results, "discovery"), results)
    if tcps:
        failed = [r for r in tcps if not r.ok]
        if failed and len(failed) == len(tcps):
            out = connect_failed(ctx, t, svc, failed, inst, resolved_addresses(dns), out)
        elif failed:
            out = family_failed(ctx, t, svc, tcps, out)
    if (
        inst is not None
        and inst.finding is not None
        and not has(out, CAUSES | {"refused", "unreachable", "instance-down"})
    ):
        out.append(inst.finding)
    http = first(results, "http")
    if http is not None:
        out = _http(ctx, t, svc, http, out)
    for kind in ("redis", "postgres"):
        r = first(results, kind)
        if r is not None:
            out = _handshake(ctx, t, svc, r, out)
    return out


def _public_stands_for(ctx: Context, t: Target, internal: Sequence[ProbeResult]) -> list[Finding]:
    """A public address whose internal name resolves here: the service is on this private
    network, so the public URL goes out and back in for nothing."""
    dns = next((r for r in internal if r.kind == "dns"), None)
    if dns is None or not dns.ok:
        return []
    name = dns.target
    tcp = next((r for r in internal if r.kind == "tcp" and r.ok), None)
    port = tcp.evidence.get("port") if tcp is not None else None
    port = port or (int(tcp.target.rsplit(":", 1)[1]) if tcp is not None else None)
    path = t.path if t.path not in ("", "/") else ""
    url = f"http://{name}:{port}{path}" if port else f"http://{name}:PORT{path}"
    fix = [f"{t.key}={url}" if t.key else url]
    if port:
        fix.append(f"({name} accepts on {port} from here)")
    else:
        fix.append(f"(PORT: the port {name} listens on: its Connect → Internal tab)")
    found = [str(a) for a in (*(dns.evidence.get("a") or ()), *(dns.evidence.get("aaaa") or ()))]
    return [
        finding(
            "wrong-url",
            t.subject,
            f"a public URL for {name}, which is on this private network",
            fix,
            evidence=[
                f"{t.host} is the public name of {name}",
                f"DNS from here: {name} resolves to {', '.join(found[:4]) or 'an address'}",
                "public traffic leaves the private network: slower, billed as egress, and subject "
                "to IP allow lists and TLS",
                ctx.p.docs.public_urls,
            ],
        )
    ]


# ---------------------------------------------------------------------------------------------
# DNS


def _unresolved(
    ctx: Context,
    t: Target,
    src: Service | None,
    svc: Service | None,
    dns: ProbeResult,
    out: list[Finding],
) -> list[Finding]:
    ev = [f"DNS: {dns.detail}" if dns.detail else f"DNS: {t.host}: {dns.outcome}"]
    if has(out, NOT_RESOLVED):
        return [with_evidence(f, ev) if f.kind in NOT_RESOLVED else f for f in out]
    if dns.outcome not in (Outcome.NXDOMAIN, Outcome.NO_ANSWER):
        out.append(
            finding(
                "unknown-host",
                t.subject,
                f"{t.host} could not be resolved: the name server did not answer ({dns.outcome})",
                [
                    "check the resolver the instance uses (/etc/resolv.conf) and retry; "
                    "private names are only answered inside the platform's network"
                ],
                service=svc.name if svc else None,
                evidence=ev,
            )
        )
        return out
    if svc is not None and svc.host and t.host == svc.host.lower():
        lines = [
            f"the workspace says {svc.name} is at {svc.host}, but the name does not resolve: "
            f"is {svc.name} deployed, running and not suspended?"
        ]
        if not svc.host_known:
            lines.append(ctx.p.unknown_slug_fix(svc))
        out.append(
            finding(
                "unknown-host",
                t.subject,
                f"{t.host} ({svc.name}) does not resolve",
                lines,
                service=svc.name,
                evidence=ev,
            )
        )
        return out
    if svc is not None and t.how == "slug":
        out.append(
            finding(
                "unknown-host",
                t.subject,
                f"{t.host} does not resolve; {svc.name}'s slug has another suffix",
                [
                    f"copy {svc.name}'s internal address from its Connect → Internal tab "
                    "(the suffix is assigned when the service is created)"
                ],
                service=svc.name,
                evidence=[*ev, ctx.p.docs.private_network],
            )
        )
        return out
    close = closest_hosts(ctx, t.host, source=src)
    out.append(unknown_host(ctx, t, close, static=False, evidence=ev))
    return out


def _dns_family(
    ctx: Context,
    t: Target,
    src: Service | None,
    svc: Service | None,
    dns: ProbeResult,
    out: list[Finding],
) -> list[Finding]:
    a = list(dns.evidence.get("a") or [])
    aaaa = list(dns.evidence.get("aaaa") or [])
    if a:
        return [f for f in out if f.kind != "ipv6-only-name"]
    if aaaa and (svc is None or ctx.network(svc) is not Network.IPV4_ONLY):
        ev = [f"DNS: {t.host} has AAAA {', '.join(aaaa)} and no A record"]
        if has(out, {"ipv6-only-name"}):
            return [with_evidence(f, ev) if f.kind == "ipv6-only-name" else f for f in out]
        if not has(out, CAUSES):
            f = ipv6_only_finding(ctx, t, src, svc, ev)
            if f is not None:
                out.append(f)
    return out


# ---------------------------------------------------------------------------------------------
# Instances


@dataclass(frozen=True)
class Instances:
    listed: int
    answering: int
    evidence: tuple[str, ...]
    finding: Finding | None


def instances(
    ctx: Context,
    t: Target,
    svc: Service | None,
    disc: ProbeResult | None,
    results: Sequence[ProbeResult],
) -> Instances | None:
    """What discovery and each instance's own connection show (`instance-down`)."""
    if disc is None or not disc.ok:
        return None
    addresses = [str(a) for a in disc.evidence.get("addresses") or []]
    per = [r for r in results if r.kind == "tcp" and per_instance(r) and not skipped(r)]
    listed = len(addresses) or len(per)
    if not listed:
        return None
    name = svc.name if svc is not None else t.host
    answering = [r for r in per if r.ok]
    failing = [r for r in per if not r.ok]
    ev = [f"discovery: {disc.target} lists {listed} instance{'s' if listed != 1 else ''}"]
    if per:
        ev.append("answering: " + (", ".join(_address(r) for r in answering) or "none"))
    for r in failing:
        ev.append(f"not answering: {_address(r)} ({r.outcome})")
    found: Finding | None = None
    expected = svc.instances if svc is not None else 0
    if per and answering and failing:
        found = finding(
            "instance-down",
            t.subject,
            f"{len(answering)} of {listed} instances of {name} answer on port {t.port}",
            [
                f"look at the failing instance{'s' if len(failing) > 1 else ''} of {name} "
                "(logs, restarts, health check); clients that pick a dead address fail",
            ],
            service=svc.name if svc else None,
            evidence=[*ev, ctx.p.docs.private_network],
        )
    elif expected > listed and not failing and not all(":" in a for a in addresses):
        found = finding(
            "instance-down",
            t.subject,
            f"discovery lists {listed} of the {expected} instances of {name}",
            [f"look at {name}'s instances: some are not running (deploy, crash, suspension)"],
            service=svc.name if svc else None,
            evidence=ev,
        )
    return Instances(listed, len(answering) if per else listed, tuple(ev), found)


def _address(r: ProbeResult) -> str:
    return str(r.evidence.get("address") or r.target)


# ---------------------------------------------------------------------------------------------
# HTTP and handshakes


def answered(r: ProbeResult) -> bool:
    """The application answered: ok, or an HTTP status below 500 (a 404 on an API root is an
    answer; the health path's own status is judged by the rules)."""
    if r.ok:
        return True
    return r.outcome is Outcome.HTTP_STATUS and 0 < int(r.evidence.get("status") or 0) < 500


def _http(
    ctx: Context, t: Target, svc: Service | None, r: ProbeResult, out: list[Finding]
) -> list[Finding]:
    ev = f"HTTP: {r.detail or f'{r.target}: {r.outcome}'}"
    name = svc.name if svc else t.host
    if r.ok:
        if t.is_tls:
            out = [f for f in out if f.kind != "tls-on-private"]
        return out
    if has(out, (CAUSES - {"client-side-private-url"}) | {"refused", "unreachable"}):
        return [
            with_evidence(f, [ev]) if f.kind in CAUSES | {"refused", "unreachable"} else f
            for f in out
        ]
    if r.outcome is Outcome.HTTP_STATUS:
        status = int(r.evidence.get("status") or 0)
        health = svc.health_path if svc else None
        path = str(r.evidence.get("path") or "")
        on_health = bool(health) and (path == health or r.target.endswith(health or "\0"))
        if status >= 500 or on_health:
            where = f" on its health path {health}" if on_health else ""
            out.append(
                finding(
                    "http-error",
                    t.subject,
                    f"{name} answered {status}{where}",
                    [f"look at {name}'s logs around this request; the network path is fine"],
                    service=svc.name if svc else None,
                    evidence=[ev],
                )
            )
        return out
    if r.outcome is Outcome.TLS_ERROR and t.is_tls:
        f = tls_on_private(ctx, t, svc)
        if f is not None:
            out.append(with_evidence(f, [ev]))
        return out
    talks = speaks_from(r)
    if r.outcome is Outcome.PROTOCOL_ERROR and svc is not None and talks not in (None, "http"):
        out.append(wrong_protocol(ctx, t, svc, "http", talks, [ev, f"{name} does not answer HTTP"]))
        return out
    if r.outcome is Outcome.TIMEOUT:
        out.append(
            finding(
                "http-error",
                t.subject,
                f"{name} accepted the connection but sent no HTTP answer in time",
                [f"look at {name}: it accepts connections but does not answer (blocked, slow)"],
                service=svc.name if svc else None,
                evidence=[ev],
            )
        )
    return out


def speaks_from(r: ProbeResult) -> str | None:
    """The protocol the peer's first bytes show, when they show one."""
    banner = str(r.evidence.get("banner") or "").lower()
    detail = r.detail.lower()
    if banner.startswith("http/") or "an http server answered" in detail:
        return "http"
    if banner.startswith(("-err", "+", "-noauth")) or "redis answered" in detail:
        return "redis"
    if "postgresql answered" in detail:
        return "postgres"
    return None


def _handshake(
    ctx: Context, t: Target, svc: Service | None, r: ProbeResult, out: list[Finding]
) -> list[Finding]:
    ev = f"{r.kind}: {r.detail or f'{r.target}: {r.outcome}'}"
    if r.ok and t.is_tls:
        # The service serves TLS itself on its internal address: the handshake proves it.
        return [f for f in out if f.kind != "tls-on-private"]
    if r.ok:
        return out
    if r.outcome is Outcome.AUTH_REQUIRED:
        if has(out, {"auth-required"}):
            return out
        return [*out, _auth_required(ctx, t, svc, r, ev)]
    if r.outcome is Outcome.TLS_ERROR and r.kind == "postgres":
        if has(out, CAUSES):
            return out
        plain = re.sub(r"sslmode=[a-z-]+", "sslmode=prefer", placeholder_url(t))
        name = svc.name if svc is not None else t.host
        return [
            *out,
            finding(
                "tls-on-private",
                t.subject,
                f"the URL requires TLS (sslmode) but {name} offers none on its internal address",
                [f"{t.key}={plain}" if t.key else plain],
                service=svc.name if svc else None,
                evidence=[ev, "private traffic is plain: the internal address needs no TLS"],
            ),
        ]
    if r.outcome is Outcome.TLS_ERROR and t.is_tls:
        f = tls_on_private(ctx, t, svc)
        return [*out, with_evidence(f, [ev])] if f is not None and not has(out, CAUSES) else out
    if r.outcome is Outcome.PROTOCOL_ERROR and svc is not None:
        if has(out, {"wrong-protocol"}):
            return [with_evidence(f, [ev]) if f.kind == "wrong-protocol" else f for f in out]
        talks = speaks_from(r)
        if has(out, CAUSES) or talks is None or talks == r.kind:
            return out
        return [
            *out,
            wrong_protocol(
                ctx,
                t,
                svc,
                r.kind,
                talks,
                [ev, f"{svc.name} did not answer the {r.kind} handshake"],
            ),
        ]
    return out


def _auth_required(
    ctx: Context, t: Target, svc: Service | None, r: ProbeResult, ev: str
) -> Finding:
    name = svc.name if svc is not None else t.host
    if t.scheme is None and t.origin == "env":
        return _auth_beside(ctx, t, svc, r, ev)
    host = f"[{t.host}]" if ":" in t.host else t.host
    port = f":{t.port}" if t.port else ""
    if r.kind == "redis":
        user = t.user or "default"
        url = f"{t.scheme or 'redis'}://{user}:PASSWORD@{host}{port}{t.path}"
    else:
        user = t.user or (svc.user if svc else None) or "USER"
        db = t.path or (f"/{svc.database}" if svc and svc.database else "/DATABASE")
        url = f"{t.scheme or 'postgresql'}://{user}:PASSWORD@{host}{port}{db}"
    message = (
        f"{name} rejected the credentials in the URL"
        if t.has_password
        else f"{name} asks for credentials the URL does not carry"
    )
    fix = [f"{t.key}={url}" if t.key else url, f"(PASSWORD: {name}'s password)"]
    why = "the server asks for a password"
    if svc is not None:
        why, more = ctx.p.auth_advice(svc, r.kind)
        fix.extend(more)
    return finding(
        "auth-required",
        t.subject,
        message,
        fix,
        service=svc.name if svc else None,
        evidence=[ev, why, ctx.p.docs.key_value if r.kind == "redis" else ""],
    )


def _auth_beside(ctx: Context, t: Target, svc: Service | None, r: ProbeResult, ev: str) -> Finding:
    """A host variable (`PGHOST`, `REDIS_HOST`): the credentials live in other variables."""
    src = ctx.source_for(t)
    name = svc.name if svc is not None else t.host
    keys = ["PGPASSWORD"] if r.kind == "postgres" else credential_keys(t.key, "PASSWORD")
    given = next((k for k in keys if src is not None and src.env_var(k) is not None), None)
    var = given or keys[0]
    fix = [f"set {var} to {name}'s password, for the client that reads {t.key}"]
    if svc is not None:
        fix.append(ctx.p.auth_beside(svc, r.kind, var))
    message = (
        f"{name} rejected the password in {given}"
        if given
        else f"{name} asks for a password, and no variable beside {t.key} gives one"
    )
    return finding(
        "auth-required",
        t.subject,
        message,
        fix,
        service=svc.name if svc else None,
        evidence=[ev, f"looked for: {', '.join(keys)}"],
    )
