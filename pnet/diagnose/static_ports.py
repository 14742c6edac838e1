"""Static rules on how an address reaches its service: port, scheme, TLS, protocol, families."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pnet.diagnose.context import Context, finding, placeholder_url, right_url, url_fix_lines
from pnet.diagnose.finding import Finding
from pnet.model import Kind, Network, Service
from pnet.targets import Target
from pnet.urls import PLAIN_OF, REDIS_SCHEMES, bracket, family, path_of, with_port, with_scheme

URL_KEY = re.compile(r"(URL|URI|ENDPOINT|DSN|ORIGIN|BASE)S?(_\d+)?$", re.IGNORECASE)
_NODE_RUNTIMES = frozenset({"node", "bun", "deno"})
_FAMILY_PARAM = re.compile(r"(^|&)family=(0|6)(&|$)")
_LABELS = {"postgres": "Postgres", "redis": "Redis", "http": "HTTP"}
GUESSED_SCHEMES = {5432: "postgresql", 6379: "redis", 6380: "redis"}


def speaks(svc: Service) -> str | None:
    """The protocol a datastore speaks (None for a service: it speaks what its app speaks)."""
    if svc.kind is Kind.POSTGRES:
        return "postgres"
    if svc.kind is Kind.KEYVALUE:
        return "redis"
    return None


def wrong_protocol_static(ctx: Context, t: Target, svc: Service) -> Finding | None:
    talks = speaks(svc)
    asked = family(t.scheme)
    if talks is None or asked is None or asked == talks:
        return None
    return wrong_protocol(ctx, t, svc, asked, talks, [f"{svc.name} is a {svc.type.label}"])


def wrong_protocol(
    ctx: Context, t: Target, svc: Service, asked: str, talks: str, evidence: Sequence[str]
) -> Finding:
    fix: list[str] = []
    want = {"redis": Kind.KEYVALUE, "postgres": Kind.POSTGRES}.get(asked)
    src = ctx.source_for(t)
    alt = None
    if want is not None:
        pool = [
            s
            for s in ctx.workspace.services
            if s.kind is want and (src is None or ctx.separation(s, src) is None)
        ]
        alt = pool[0] if len(pool) == 1 else None
    if alt is not None:
        fix.extend(url_fix_lines(ctx, alt, right_url(ctx, alt), t))
        fix.insert(1, f"({alt.name} speaks {_LABELS.get(asked, asked)})")
    right = right_url(ctx, svc, t)
    if right:
        fix.append(
            f"{'or, ' if alt else ''}to talk to {svc.name} itself: "
            f"{t.key + '=' if t.key else ''}{right}"
        )
    return finding(
        "wrong-protocol",
        t.subject,
        f"a {t.scheme}:// URL for {svc.name}, which speaks {_LABELS.get(talks, talks)}",
        fix,
        service=svc.name,
        evidence=list(evidence),
    )


def tls_on_private(ctx: Context, t: Target, svc: Service | None) -> Finding | None:
    """TLS to an internal address: the platform issues no certificate for internal names.

    With no service known, this holds for any private name (inside an instance with no model).
    """
    if not t.is_tls or (svc is not None and not t.internal):
        return None
    scheme = PLAIN_OF.get(t.scheme or "", "http")
    port = t.port
    if svc is not None and (not t.port_explicit or (svc.ports and t.port not in svc.ports)):
        port = svc.default_port if svc.ports_known or not t.port_explicit else t.port
    url = with_scheme(t, scheme, port=port)
    fix = [f"{t.key}={url}" if t.key else url]
    if svc is None and not t.port_explicit:
        url = with_scheme(t, scheme, port=0).replace(
            f"{bracket(t.host)}", f"{bracket(t.host)}:PORT", 1
        )
        fix = [
            f"{t.key}={url}" if t.key else url,
            f"(PORT: the port {t.host} listens on; there is no TLS proxy on {t.port} inside "
            "the private network)",
        ]
    return finding(
        "tls-on-private",
        t.subject,
        f"{t.scheme}:// to the internal address {t.host}, which speaks plain text",
        fix,
        service=svc.name if svc else None,
        evidence=[
            f"{t.host} is an internal address: private traffic is plain, no certificate is "
            "issued for internal names",
            ctx.p.docs.plain_traffic,
        ],
    )


def port_findings(ctx: Context, t: Target, svc: Service, *, tls_fixed: bool) -> list[Finding]:
    """Reserved ports, and a port the service does not listen on (only when its ports are known:
    an assumed port is never the ground of an error)."""
    port = t.port
    if port is None or not svc.ports:
        return []
    if port in ctx.p.reserved_ports and port in svc.ports:
        return [_reserved(ctx, t, svc, port)]
    if port in svc.ports or not svc.ports_known:
        return []
    if tls_fixed and not t.port_explicit:
        return []
    listens = ", ".join(map(str, svc.ports))
    right = svc.ports[0]
    ev = [f"{svc.name} listens on {listens} (its open ports)"]
    message = f"{svc.name} does not listen on port {port}; it listens on {listens}"
    if not t.port_explicit and t.scheme:
        message = (
            f"no port in the URL, so {t.scheme}:// means {port}; {svc.name} listens on {listens}"
        )
        ev.append("internal addresses need the service's own port: there is no proxy on 80/443")
    ev.extend(ctx.p.port_notes(svc, port))
    ev.append(ctx.p.docs.ports)
    url = with_port(t, right)
    fix = [f"{t.key}={url}" if t.key else url, *ctx.p.port_fix(svc, t, right)]
    return [finding("wrong-port", t.subject, message, fix, service=svc.name, evidence=ev)]


def _reserved(ctx: Context, t: Target, svc: Service, port: int) -> Finding:
    reserved = ", ".join(map(str, sorted(ctx.p.reserved_ports)))
    others = [p for p in svc.ports if p not in ctx.p.reserved_ports]
    key = f"{t.key}=" if t.key else ""
    if others:
        fix = [f"{key}{with_port(t, others[0])}"]
    else:
        fix = [
            f"make {svc.name} listen on a port {ctx.p.title} delivers (e.g. 9100; not "
            f"{reserved}), then {key}{with_port(t, 9100)}"
        ]
    return finding(
        "reserved-port",
        t.subject,
        f"port {port} is reserved by {ctx.p.title}: private traffic to it is not delivered",
        fix,
        service=svc.name,
        evidence=[
            f"{ctx.p.title} reserves ports {reserved} on the private network",
            ctx.p.docs.private_network,
        ],
    )


def missing_scheme(ctx: Context, t: Target, svc: Service | None) -> Finding | None:
    """host:port in a variable a URL client reads. With no service known, the scheme is said
    only when the port names the protocol (5432, 6379) or is one the client cannot guess."""
    if t.scheme is not None or not t.key or not URL_KEY.search(t.key) or t.port is None:
        return None
    guessed = GUESSED_SCHEMES.get(t.port, "http")
    scheme = ctx.p.client_scheme(svc) if svc is not None else guessed
    if scheme is None:
        return None
    port = t.port if t.port else (svc.default_port if svc else None)
    url = with_scheme(t, scheme, port=port)
    fix = [f"{t.key}={url}"] if not t.reference else []
    ev = [f"{t.key} holds {t.hostport}: a URL client needs the scheme ({scheme}://)"]
    if svc is None:
        ev.append(f"{scheme}:// is what a client of port {t.port} most likely needs")
    else:
        more_fix, more_ev = ctx.p.scheme_advice(svc, t, scheme)
        fix.extend(more_fix)
        ev.extend(more_ev)
    return finding(
        "missing-scheme",
        t.subject,
        f"{t.key} is host:port with no scheme; a client needs {scheme}://"
        if svc is not None
        else f"{t.key} is host:port with no scheme; a client needs one (likely {scheme}://)",
        fix,
        service=svc.name if svc else None,
        evidence=ev,
    )


def ipv6_only_name(ctx: Context, t: Target, src: Service | None, svc: Service) -> Finding | None:
    if ctx.network(svc) is not Network.IPV6_ONLY:
        return None
    return ipv6_only_finding(
        ctx, t, src, svc, [f"{svc.location} is a legacy IPv6-only environment"]
    )


def ipv6_only_finding(
    ctx: Context, t: Target, src: Service | None, svc: Service | None, evidence: Sequence[str]
) -> Finding | None:
    redis = t.scheme in REDIS_SCHEMES or (svc is not None and svc.kind is Kind.KEYVALUE)
    if not redis or _FAMILY_PARAM.search(t.query) or t.origin == "service":
        return None
    if src is not None and src.runtime and src.runtime.lower() not in _NODE_RUNTIMES:
        return None
    sep = "&" if t.query else "?"
    url = placeholder_url(t) + f"{sep}family=0"
    fix = [f"{t.key}={url}" if t.key else url]
    if svc is not None:
        fix.extend(f"{line}?family=0" for line in ctx.p.keep_right(svc, None, None)[:1])
    fix.append("or upgrade ioredis to >= 5.8.2 (family 0 by default); bullmq: family: 0")
    return finding(
        "ipv6-only-name",
        t.subject,
        f"{t.host} resolves to IPv6 only; Redis clients that ask for IPv4 (ioredis < 5.8.2, "
        "bullmq) fail with ENOTFOUND",
        fix,
        service=svc.name if svc else None,
        evidence=[*evidence, ctx.p.docs.ipv6_names, ctx.p.docs.libraries],
    )


__all__ = [
    "URL_KEY",
    "ipv6_only_finding",
    "ipv6_only_name",
    "missing_scheme",
    "path_of",
    "port_findings",
    "speaks",
    "tls_on_private",
    "wrong_protocol",
    "wrong_protocol_static",
]
