"""Live rules on connections: refused or silent ports, and the listening sockets that explain
them (a loopback bind, one address family only), here or inside the instance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pnet.diagnose.context import Context, finding, is_local_address
from pnet.diagnose.finding import Finding
from pnet.diagnose.static import with_evidence
from pnet.model import Network, Service
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import Target

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
_NOT_THE_APP = frozenset({"sshd", "dropbear", "sshd-session"})


def has(out: Sequence[Finding], kinds: frozenset[str] | set[str]) -> bool:
    return any(f.kind in kinds for f in out)


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


def _addr(r: ProbeResult) -> str:
    return str(r.evidence.get("address") or r.target.rsplit(":", 1)[0].strip("[]"))


def connect_failed(
    ctx: Context,
    t: Target,
    svc: Service | None,
    failed: Sequence[ProbeResult],
    inst: Any,
    resolved: frozenset[str],
    out: list[Finding],
) -> list[Finding]:
    ev = [f"TCP: {r.detail or f'{r.target}: {r.outcome}'}" for r in failed]
    bind = _listener_cause(ctx, t, svc, failed, resolved)
    if bind is not None:
        out = [f for f in out if f.kind not in SYMPTOMS]
        out.append(bind)
        return out
    if has(out, CAUSES - {"client-side-private-url"}):
        return [with_evidence(f, ev) if f.kind in CAUSES else f for f in out]
    if inst is not None and inst.answering > 0 and inst.finding is not None:
        out.append(with_evidence(inst.finding, ev))
        return out
    refused = [r for r in failed if r.outcome is Outcome.REFUSED]
    name = svc.name if svc else t.host
    if refused:
        fix, more = ctx.p.refused_fix(name, t.port)
        if svc is not None and ctx.network(svc) is Network.IPV6_ONLY:
            ev.append(f"{svc.location} is IPv6-only: a server bound to 0.0.0.0 refuses there")
        ev.extend(more)
        if t.port_assumed and svc is not None:
            ev.append(
                f"port {t.port} is assumed: the workspace does not say which port {svc.name} "
                "listens on"
            )
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
    fix.extend(ctx.p.unreachable_hints)
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


def family_failed(
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
    if has(out, {"ipv6-only-bind"}):
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


def resolved_addresses(dns: ProbeResult | None) -> frozenset[str]:
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


def _loopback_bind(
    ctx: Context, subject: str, svc: Service, port: int | None, ev: list[str]
) -> Finding:
    return finding(
        "loopback-bind",
        subject,
        f"{svc.name} listens on localhost only (port {port}): nothing outside its instance "
        "can connect",
        ctx.p.bind_fix(port, dual=False),
        service=svc.name,
        evidence=[*ev, ctx.p.docs.port_binding],
    )


def _ipv4_only_bind(
    ctx: Context, subject: str, svc: Service, port: int | None, ev: list[str]
) -> Finding:
    env = svc.environment or svc.location or "the network"
    return finding(
        "ipv4-only-bind",
        subject,
        f"{svc.name} listens on IPv4 only (port {port}), and {env} is IPv6-only",
        ctx.p.bind_fix(port, dual=True),
        service=svc.name,
        evidence=[
            *ev,
            ctx.p.network_note(Network.IPV6_ONLY),
            ctx.p.docs.scope,
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
        ctx.p.bind_fix(port, dual=True),
        service=svc.name,
        evidence=[*ev, ctx.p.docs.scope],
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
    doc = ctx.p.docs.port_binding
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


def _network_seen(ctx: Context, src: Service, resolved: frozenset[str]) -> Network:
    """The source's network: as the model says, or, when the model does not know its
    environment's (inside an instance), as its own name resolved: IPv6 only means IPv6-only."""
    network = ctx.network(src)
    known = src.environment is not None and src.environment in ctx.workspace.environments
    if (
        not known
        and resolved
        and all(":" in a for a in resolved)
        and network is not Network.IPV4_ONLY
    ):
        return Network.IPV6_ONLY
    return network


def own_findings(ctx: Context, resolved: frozenset[str] = frozenset()) -> list[Finding]:
    """The source's own listeners (inside an instance): is it reachable on its own ports?

    `resolved` holds the addresses the source's own name resolved to (not a loopback bind).
    """
    src = ctx.source
    if src is None or ctx.listeners is None or not src.ports or not src.type.receives:
        return []
    out: list[Finding] = []
    network = _network_seen(ctx, src, resolved)
    subject = f"service:{src.name}"
    for port in src.ports:
        cands = [li for li in ctx.listeners if int(getattr(li, "port", -1)) == port]
        if not cands:
            if src.ports_known:
                out.append(_not_listening(ctx, subject, src, port))
                break
            continue
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
            and not wild4
            and wild6
            and all(bool(getattr(li, "v6only", False)) for li in wild6)
            and all(_listener_family(li) == 6 for li in cands)
        ):
            out.append(_ipv6_only_bind(ctx, subject, src, port, ev))
            break
    return out
