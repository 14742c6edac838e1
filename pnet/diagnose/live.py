"""Live rules: what the probe results (and the local listeners) show, refining the static view."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from pnet.diagnose import kinds as K
from pnet.diagnose import static
from pnet.diagnose.common import (
    Context,
    blueprint_snippet,
    closest_hosts,
    finding,
    is_local_address,
    network_of,
    placeholder_url,
    railway_reference,
)
from pnet.diagnose.finding import Finding
from pnet.model import Kind, Network, Platform, Service
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import Target, credential_keys

# Findings that name the cause: a failed probe after one of them is its symptom, not news.
CAUSES = frozenset(
    {
        "wrong-url",
        "wrong-port",
        "cross-region",
        "cross-environment",
        "not-receiving",
        "tls-on-private",
        "unknown-host",
        "loopback-bind",
        "ipv4-only-bind",
        "ipv6-only-bind",
        "reserved-port",
        "wrong-protocol",
        "client-side-private-url",
    }
)
SYMPTOMS = frozenset({"refused", "unreachable", "http-error", "instance-down"})
CANONICAL_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def skipped(result: ProbeResult) -> bool:
    return bool(result.evidence.get("skipped"))


def _first(results: Sequence[ProbeResult], kind: str) -> ProbeResult | None:
    for r in results:
        if r.kind == kind and not skipped(r):
            return r
    return None


def _all(results: Sequence[ProbeResult], kind: str) -> list[ProbeResult]:
    return [r for r in results if r.kind == kind and not skipped(r)]


def family_of(address: str, evidence: Any = None) -> int:
    fam = evidence
    if isinstance(fam, int) and fam in (4, 6):
        return fam
    if isinstance(fam, str):
        low = fam.lower()
        if "6" in low:
            return 6
        if "4" in low or low == "inet":
            return 4
    if fam is not None and hasattr(fam, "name"):
        return 6 if "6" in str(fam.name) else 4
    return 6 if ":" in address else 4


def _with_evidence(f: Finding, lines: Sequence[str]) -> Finding:
    extra = tuple(line for line in lines if line and line not in f.evidence)
    return dataclasses.replace(f, evidence=(*extra, *f.evidence)) if extra else f


def _has(out: Sequence[Finding], kinds: frozenset[str] | set[str]) -> bool:
    return any(f.kind in kinds for f in out)


def target_findings(
    ctx: Context, t: Target, results: Sequence[ProbeResult], found: Sequence[Finding]
) -> list[Finding]:
    """The final findings of one target: the static ones, confirmed, dropped or refined."""
    out = list(found)
    if not results or _has(out, {"client-side-private-url"}):
        return out
    src = ctx.source_for(t)
    svc = ctx.service(t.service)
    dns = _first(results, "dns")
    if dns is not None:
        if not dns.ok:
            return _unresolved(ctx, t, src, svc, dns, out)
        out = [f for f in out if f.kind != "unknown-host"]
        out = _dns_family(ctx, t, src, svc, dns, out)
    tcps = _all(results, "tcp")
    inst = _instances(ctx, t, svc, _first(results, "discovery"))
    if tcps:
        failed = [r for r in tcps if not r.ok]
        if failed and len(failed) == len(tcps):
            resolved = _resolved(dns)
            out = _connect_failed(ctx, t, svc, failed, inst, resolved, out)
        elif failed:
            out = _family_failed(ctx, t, svc, tcps, out)
    if (
        inst is not None
        and inst.finding is not None
        and not _has(out, CAUSES | {"refused", "unreachable", "instance-down"})
    ):
        out.append(inst.finding)
    http = _first(results, "http")
    if http is not None:
        out = _http(ctx, t, svc, http, out)
    for kind in ("redis", "postgres"):
        r = _first(results, kind)
        if r is not None:
            out = _handshake(ctx, t, svc, r, out)
    return out


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
    if _has(out, {"cross-region", "cross-environment", "not-receiving", "unknown-host"}):
        return [
            _with_evidence(f, ev)
            if f.kind in ("cross-region", "cross-environment", "not-receiving", "unknown-host")
            else f
            for f in out
        ]
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
        if not svc.host_known and ctx.render:
            lines.append(
                f"the suffix of a Render slug is assigned at creation: copy {svc.name}'s address "
                "from its Connect → Internal tab"
            )
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
                evidence=[*ev, K.RENDER_PRIVATE_NETWORK],
            )
        )
        return out
    close = closest_hosts(ctx, t.host, source=src)
    out.append(static.unknown_host(ctx, t, close, static=False, evidence=ev))
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
    if aaaa and ctx.workspace.platform is Platform.RAILWAY:
        ev = [f"DNS: {t.host} has AAAA {', '.join(aaaa)} and no A record"]
        if _has(out, {"ipv6-only-name"}):
            return [_with_evidence(f, ev) if f.kind == "ipv6-only-name" else f for f in out]
        if not _has(out, CAUSES):
            f = static.ipv6_only_name(ctx, t, src, svc, ev)
            if f is not None:
                out.append(f)
    return out


# ---------------------------------------------------------------------------------------------
# TCP and listeners


def _addr(r: ProbeResult) -> str:
    return str(r.evidence.get("address") or r.target.rsplit(":", 1)[0].strip("[]"))


def _connect_failed(
    ctx: Context,
    t: Target,
    svc: Service | None,
    failed: Sequence[ProbeResult],
    inst: Instances | None,
    resolved: frozenset[str],
    out: list[Finding],
) -> list[Finding]:
    ev = [f"TCP: {r.detail or f'{r.target}: {r.outcome}'}" for r in failed]
    bind = _listener_cause(ctx, t, svc, failed, resolved)
    if bind is not None:
        out = [f for f in out if f.kind not in SYMPTOMS]
        out.append(bind)
        return out
    if _has(out, CAUSES - {"client-side-private-url"}):
        return [_with_evidence(f, ev) if f.kind in CAUSES else f for f in out]
    if inst is not None and inst.answering > 0 and inst.finding is not None:
        out.append(_with_evidence(inst.finding, ev))
        return out
    refused = [r for r in failed if r.outcome is Outcome.REFUSED]
    name = svc.name if svc else t.host
    if refused:
        fix = [f"check that {name} is running and listens on {t.port} on every interface"]
        if ctx.workspace.platform is Platform.RAILWAY:
            fix.append('bind `::` (both families; uvicorn: --host ""), not 0.0.0.0 or 127.0.0.1')
            if svc is not None and network_of(ctx, svc) is Network.IPV6_ONLY:
                ev.append(
                    f"{svc.environment} is IPv6-only: a server bound to 0.0.0.0 refuses there"
                )
        else:
            fix.append("bind 0.0.0.0 (not 127.0.0.1 or localhost)")
            ev.append(K.RENDER_PORT_BINDING)
        if inst is not None:
            ev.extend(inst.evidence)
        out.append(
            finding(
                "refused",
                t.subject,
                f"{t.hostport} resolves but nothing accepts on port {t.port}",
                fix,
                service=svc.name if svc else None,
                evidence=ev,
            )
        )
        return out
    fix = [
        f"check that {name} is up and not overloaded; a connection that gets no answer is "
        "dropped on the way (isolation, a firewall, an instance that hangs)"
    ]
    if ctx.render:
        fix.append("environments with network isolation enabled block private traffic in and out")
    out.append(
        finding(
            "unreachable",
            t.subject,
            f"{t.hostport} resolves but the connection got no answer in time",
            fix,
            service=svc.name if svc else None,
            evidence=ev,
        )
    )
    return out


def _family_failed(
    ctx: Context,
    t: Target,
    svc: Service | None,
    tcps: Sequence[ProbeResult],
    out: list[Finding],
) -> list[Finding]:
    ok = {family_of(_addr(r), r.evidence.get("family")) for r in tcps if r.ok}
    bad = [r for r in tcps if not r.ok and r.outcome is Outcome.REFUSED]
    bad4 = [r for r in bad if family_of(_addr(r), r.evidence.get("family")) == 4]
    if svc is None or not bad4 or 6 not in ok:
        return out
    if _has(out, {"ipv6-only-bind"}):
        return out
    ev = [f"TCP over IPv4: {r.detail or r.outcome}" for r in bad4]
    ev += [f"TCP over IPv6: {r.detail or r.outcome}" for r in tcps if r.ok]
    out.append(_ipv6_only_bind(ctx, t.subject, svc, t.port, ev))
    return out


def _accepts(listener: Any, address: str) -> bool:
    la = str(getattr(listener, "address", ""))
    fam = family_of(address)
    if la == address:
        return True
    if la in ("0.0.0.0", "") and fam == 4:
        return True
    if la in ("::", ""):
        return fam == 6 or not bool(getattr(listener, "v6only", False))
    return False


def _listener_family(listener: Any) -> int:
    return family_of(str(getattr(listener, "address", "")), getattr(listener, "family", None))


def _resolved(dns: ProbeResult | None) -> frozenset[str]:
    if dns is None:
        return frozenset()
    return frozenset(
        str(a) for a in [*(dns.evidence.get("a") or []), *(dns.evidence.get("aaaa") or [])]
    )


def _listener_cause(
    ctx: Context,
    t: Target,
    svc: Service | None,
    failed: Sequence[ProbeResult],
    resolved: frozenset[str] = frozenset(),
) -> Finding | None:
    """A refused connection explained by a local listener on that port (same machine).

    A listener on one of the addresses the name resolves to is the instance's own address
    (the lab serves IPv6 instances on ::1), not a loopback-only bind.
    """
    if ctx.listeners is None or svc is None:
        return None
    for r in failed:
        if r.outcome is not Outcome.REFUSED:
            continue
        address = _addr(r)
        port = int(r.evidence.get("port") or t.port or 0)
        own = ctx.source is not None and ctx.source.name == svc.name
        if not (own or is_local_address(ctx, address)):
            continue
        cands = [li for li in ctx.listeners if int(getattr(li, "port", -1)) == port]
        if not cands or any(_accepts(li, address) for li in cands):
            continue
        fam = family_of(address, r.evidence.get("family"))
        shown = _shown(cands)
        ev = [f"TCP: {r.detail or f'{address}: refused'}", f"listening: {shown}"]
        loopback = CANONICAL_LOOPBACK - resolved
        if all(str(getattr(li, "address", "")) in loopback for li in cands):
            return _loopback_bind(ctx, t.subject, svc, port, ev)
        if fam == 6 and all(_listener_family(li) == 4 for li in cands):
            return _ipv4_only_bind(ctx, t.subject, svc, port, ev)
        if fam == 4 and all(_listener_family(li) == 6 for li in cands):
            return _ipv6_only_bind(ctx, t.subject, svc, port, ev)
    return None


def _shown(listeners: Sequence[Any], limit: int = 4) -> str:
    names = sorted({_show(li) for li in listeners})
    more = len(names) - limit
    return ", ".join(names[:limit]) + (f" and {more} more" if more > 0 else "")


def _show(listener: Any) -> str:
    address = str(getattr(listener, "address", ""))
    port = getattr(listener, "port", "")
    text = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    if getattr(listener, "v6only", False):
        text += " (IPv6 only)"
    process = getattr(listener, "process", None)
    if process:
        text += f" ({process})"
    return text


def _bind_lines(ctx: Context, port: int | None, *, dual: bool) -> list[str]:
    p = port or "$PORT"
    if ctx.workspace.platform is Platform.RAILWAY or dual:
        return [
            f"bind `::` on {p} (IPv4 and IPv6): Express app.listen({p}, '::'); gunicorn "
            f"--bind [::]:{p}; Next next start --hostname ::",
            f'uvicorn: --host "" --port {p} (uvicorn on :: listens on IPv6 only)',
        ]
    return [
        f"bind 0.0.0.0 on {p}: uvicorn --host 0.0.0.0 --port {p}; gunicorn --bind 0.0.0.0:{p}; "
        f"Express app.listen({p}, '0.0.0.0')",
    ]


def _loopback_bind(
    ctx: Context, subject: str, svc: Service, port: int | None, ev: list[str]
) -> Finding:
    return finding(
        "loopback-bind",
        subject,
        f"{svc.name} listens on localhost only (port {port}): nothing outside its instance "
        "can connect",
        _bind_lines(ctx, port, dual=False),
        service=svc.name,
        evidence=[*ev, K.RENDER_PORT_BINDING if ctx.render else K.RAILWAY_FAILED_TO_RESPOND],
    )


def _ipv4_only_bind(
    ctx: Context, subject: str, svc: Service, port: int | None, ev: list[str]
) -> Finding:
    env = svc.environment or svc.location or "the network"
    return finding(
        "ipv4-only-bind",
        subject,
        f"{svc.name} listens on IPv4 only (port {port}), and {env} is IPv6-only",
        _bind_lines(ctx, port, dual=True),
        service=svc.name,
        evidence=[
            *ev,
            "legacy Railway environments (created before 16 Oct 2025) resolve private names to "
            "IPv6 only",
            K.RAILWAY_HOW_IT_WORKS,
        ],
    )


def _ipv6_only_bind(
    ctx: Context, subject: str, svc: Service, port: int | None, ev: list[str]
) -> Finding:
    return finding(
        "ipv6-only-bind",
        subject,
        f"{svc.name} listens on IPv6 only (port {port}); IPv4 clients of this dual-stack "
        "network are refused",
        _bind_lines(ctx, port, dual=True),
        service=svc.name,
        evidence=[*ev, K.RAILWAY_HOW_IT_WORKS],
    )


_NOT_THE_APP = frozenset({"sshd", "dropbear", "sshd-session"})


def _not_listening(ctx: Context, subject: str, svc: Service, port: int) -> Finding:
    """Inside the instance nothing listens on the service's port: on another one (wrong-port,
    naming it), or on none at all (refused: every connection to it is refused)."""
    others = sorted(
        {
            int(getattr(li, "port", 0))
            for li in ctx.listeners or ()
            if str(getattr(li, "process", "") or "") not in _NOT_THE_APP
            and int(getattr(li, "port", 0)) not in (22, port)
        }
    )
    doc = K.RENDER_PORT_BINDING if ctx.render else K.RAILWAY_FAILED_TO_RESPOND
    var = svc.env_var("PORT")
    told = f" (PORT={var.value})" if var is not None and var.value == str(port) else ""
    if others:
        shown = _shown([li for li in ctx.listeners or () if int(getattr(li, "port", 0)) in others])
        return finding(
            "wrong-port",
            subject,
            f"{svc.name} should serve port {port}{told}, but in this instance it listens on "
            f"{', '.join(map(str, others))}",
            [
                f"listen on {port}: read the PORT variable, e.g. uvicorn --host 0.0.0.0 "
                f"--port $PORT, gunicorn --bind 0.0.0.0:$PORT, app.listen(process.env.PORT)",
                f"or, if {others[0]} is the right port, set PORT={others[0]} on {svc.name}",
            ],
            service=svc.name,
            evidence=[f"listening: {shown}", f"nothing listens on {port}", doc],
        )
    return finding(
        "refused",
        subject,
        f"nothing in this instance listens on port {port}{told}: every connection to "
        f"{svc.name} on {port} is refused",
        [
            f"start the server on 0.0.0.0:{port} (is the process running? its logs say why not)",
            "a service that serves nothing on a port should be a background worker",
        ],
        service=svc.name,
        evidence=["this instance has no listening socket on that port", doc],
    )


def own_findings(ctx: Context, resolved: frozenset[str] = frozenset()) -> list[Finding]:
    """The source's own listeners (inside an instance): is it reachable on its own ports?

    `resolved` holds the addresses the source's own name resolved to (not a loopback bind).
    """
    src = ctx.source
    if src is None or ctx.listeners is None or not src.ports or not src.type.receives:
        return []
    out: list[Finding] = []
    network = network_of(ctx, src)
    subject = f"service:{src.name}"
    for port in src.ports:
        cands = [li for li in ctx.listeners if int(getattr(li, "port", -1)) == port]
        if not cands:
            out.append(_not_listening(ctx, subject, src, port))
            break
        shown = _shown(cands)
        ev = [f"listening: {shown}"]
        addresses = {str(getattr(li, "address", "")) for li in cands}
        if addresses <= CANONICAL_LOOPBACK - resolved:
            out.append(_loopback_bind(ctx, subject, src, port, ev))
            break
        wild4 = any(a in ("0.0.0.0", "") for a in addresses)
        wild6 = [li for li in cands if str(getattr(li, "address", "")) in ("::", "")]
        if network is Network.IPV6_ONLY and all(_listener_family(li) == 4 for li in cands):
            out.append(_ipv4_only_bind(ctx, subject, src, port, ev))
            break
        if (
            network is Network.DUAL_STACK
            and ctx.workspace.platform is Platform.RAILWAY
            and not wild4
            and wild6
            and all(bool(getattr(li, "v6only", False)) for li in wild6)
            and all(_listener_family(li) == 6 for li in cands)
        ):
            out.append(_ipv6_only_bind(ctx, subject, src, port, ev))
            break
    return out


# ---------------------------------------------------------------------------------------------
# Instances, HTTP, handshakes


@dataclasses.dataclass(frozen=True)
class Instances:
    listed: int
    answering: int
    evidence: tuple[str, ...]
    finding: Finding | None


def _instances(
    ctx: Context, t: Target, svc: Service | None, disc: ProbeResult | None
) -> Instances | None:
    if disc is None or svc is None or not disc.ok:
        return None
    instances = list(disc.evidence.get("instances") or [])
    addresses = list(disc.evidence.get("addresses") or [])
    listed = len(instances) or len(addresses)
    if not listed:
        return None
    answering = [i for i in instances if str(i.get("outcome")) == "ok"]
    failing = [i for i in instances if str(i.get("outcome")) != "ok"]
    ev = [f"discovery: {disc.target} lists {listed} instance{'s' if listed != 1 else ''}"]
    if instances:
        ev.append("answering: " + (", ".join(str(i.get("address")) for i in answering) or "none"))
    for i in failing:
        ev.append(f"not answering: {i.get('address')} ({i.get('outcome')})")
    found: Finding | None = None
    if instances and answering and failing:
        found = finding(
            "instance-down",
            t.subject,
            f"{len(answering)} of {listed} instances of {svc.name} answer on port {t.port}",
            [
                f"look at the failing instance{'s' if len(failing) > 1 else ''} of {svc.name} "
                "(logs, restarts, health check); clients that pick a dead address fail",
            ],
            service=svc.name,
            evidence=[*ev, K.RENDER_PRIVATE_NETWORK if ctx.render else K.RAILWAY_HOW_IT_WORKS],
        )
    elif svc.instances > listed and not failing and not all(":" in str(a) for a in addresses):
        found = finding(
            "instance-down",
            t.subject,
            f"discovery lists {listed} of the {svc.instances} instances of {svc.name}",
            [f"look at {svc.name}'s instances: some are not running (deploy, crash, suspension)"],
            service=svc.name,
            evidence=ev,
        )
    return Instances(listed, len(answering) if instances else listed, tuple(ev), found)


def _http(
    ctx: Context, t: Target, svc: Service | None, r: ProbeResult, out: list[Finding]
) -> list[Finding]:
    ev = f"HTTP: {r.detail or f'{r.target}: {r.outcome}'}"
    name = svc.name if svc else t.host
    if r.ok:
        if t.is_tls:
            out = [f for f in out if f.kind != "tls-on-private"]
        return out
    if _has(out, (CAUSES - {"client-side-private-url"}) | {"refused", "unreachable"}):
        return [
            _with_evidence(f, [ev]) if f.kind in CAUSES | {"refused", "unreachable"} else f
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
    if r.outcome is Outcome.TLS_ERROR and t.is_tls and svc is not None:
        f = static._tls_on_private(ctx, t, svc)
        if f is not None:
            out.append(_with_evidence(f, [ev]))
        return out
    if r.outcome is Outcome.PROTOCOL_ERROR and svc is not None:
        out.append(
            static.wrong_protocol(
                ctx, t, svc, "http", _speaks_from(r), [ev, f"{name} does not answer HTTP"]
            )
        )
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


def _speaks_from(r: ProbeResult) -> str:
    banner = str(r.evidence.get("banner") or r.detail or "").lower()
    if "redis" in banner or banner.startswith("-err") or banner.startswith("+"):
        return "redis"
    if "postgres" in banner:
        return "postgres"
    return "something other than HTTP"


def _handshake(
    ctx: Context, t: Target, svc: Service | None, r: ProbeResult, out: list[Finding]
) -> list[Finding]:
    ev = f"{r.kind}: {r.detail or f'{r.target}: {r.outcome}'}"
    if r.ok and t.is_tls:
        # The service serves TLS itself on its internal address: the handshake proves it.
        return [f for f in out if f.kind != "tls-on-private"]
    if r.ok or svc is None:
        return out
    if r.outcome is Outcome.AUTH_REQUIRED:
        if _has(out, {"auth-required"}):
            return out
        return [*out, _auth_required(ctx, t, svc, r, ev)]
    if r.outcome is Outcome.TLS_ERROR and r.kind == "postgres":
        if _has(out, CAUSES):
            return out
        plain = re.sub(r"sslmode=[a-z-]+", "sslmode=prefer", placeholder_url(t))
        return [
            *out,
            finding(
                "tls-on-private",
                t.subject,
                f"the URL requires TLS (sslmode) but {svc.name} offers none on its internal "
                "address",
                [f"{t.key}={plain}" if t.key else plain],
                service=svc.name,
                evidence=[ev, "private traffic is plain: the internal address needs no TLS"],
            ),
        ]
    if r.outcome is Outcome.PROTOCOL_ERROR:
        if _has(out, {"wrong-protocol"}):
            return [_with_evidence(f, [ev]) if f.kind == "wrong-protocol" else f for f in out]
        if _has(out, CAUSES):
            return out
        speaks = "http" if svc.kind in (Kind.WEB, Kind.PSERV) else _speaks_from(r)
        return [
            *out,
            static.wrong_protocol(
                ctx,
                t,
                svc,
                r.kind,
                speaks,
                [ev, f"{svc.name} did not answer the {r.kind} handshake"],
            ),
        ]
    return out


def _auth_required(ctx: Context, t: Target, svc: Service, r: ProbeResult, ev: str) -> Finding:
    if t.scheme is None and t.origin == "env":
        return _auth_beside(ctx, t, svc, r, ev)
    host = f"[{t.host}]" if ":" in t.host else t.host
    port = f":{t.port}" if t.port else ""
    if r.kind == "redis":
        user = t.user or "default"
        url = f"{t.scheme or 'redis'}://{user}:PASSWORD@{host}{port}{t.path}"
        why = (
            "internal authentication is on (Key Value → Info → Internal Authentication)"
            if ctx.render
            else "the Redis service requires its password"
        )
    else:
        user = t.user or svc.user or "USER"
        db = t.path or (f"/{svc.database}" if svc.database else "/DATABASE")
        url = f"{t.scheme or 'postgresql'}://{user}:PASSWORD@{host}{port}{db}"
        why = "the server asks for a password"
    message = (
        f"{svc.name} rejected the credentials in the URL"
        if t.has_password
        else f"{svc.name} asks for credentials the URL does not carry"
    )
    fix = [f"{t.key}={url}" if t.key else url, f"(PASSWORD: {svc.name}'s password)"]
    if ctx.render:
        snippet = blueprint_snippet(svc)
        if snippet:
            fix.append(f"in render.yaml: {snippet} (it carries the credentials)")
    else:
        fix.append(f"or the reference variable: {railway_reference(svc)}")
    return finding(
        "auth-required",
        t.subject,
        message,
        fix,
        service=svc.name,
        evidence=[ev, why, K.RENDER_KEY_VALUE if r.kind == "redis" and ctx.render else ""],
    )


def _auth_beside(ctx: Context, t: Target, svc: Service, r: ProbeResult, ev: str) -> Finding:
    """A host variable (`PGHOST`, `REDIS_HOST`): the credentials live in other variables."""
    src = ctx.source_for(t)
    keys = ["PGPASSWORD"] if r.kind == "postgres" else credential_keys(t.key, "PASSWORD")
    given = next((k for k in keys if src is not None and src.env_var(k) is not None), None)
    name = given or keys[0]
    fix = [f"set {name} to {svc.name}'s password, for the client that reads {t.key}"]
    if ctx.render and r.kind == "postgres":
        fix.append(f"in render.yaml: fromDatabase: {{name: {svc.ref_name}, property: password}}")
    elif ctx.render:
        fix.append(
            f"or give the client the URL: fromService: {{name: {svc.name}, type: keyvalue, "
            "property: connectionString}"
        )
    else:
        var = "PGPASSWORD" if r.kind == "postgres" else "REDISPASSWORD"
        fix.append(f"or the reference variable: {name}=${{{{{svc.name}.{var}}}}}")
    message = (
        f"{svc.name} rejected the password in {given}"
        if given
        else f"{svc.name} asks for a password, and no variable beside {t.key} gives one"
    )
    return finding(
        "auth-required",
        t.subject,
        message,
        fix,
        service=svc.name,
        evidence=[ev, f"looked for: {', '.join(keys)}"],
    )
