"""Static rules: what the model alone proves wrong about a target, before (or without) a packet.

Every rule asks the platform adapter for what the platform says; a value the model only assumed
(a default port, an unknown slug suffix) is never the ground of an error here.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from pnet import platforms
from pnet.diagnose.closest import closest_hosts
from pnet.diagnose.context import (
    Context,
    finding,
    is_browser_key,
    right_url,
    url_fix_lines,
)
from pnet.diagnose.finding import Finding
from pnet.diagnose.static_ports import (
    ipv6_only_name,
    missing_scheme,
    port_findings,
    tls_on_private,
    wrong_protocol_static,
)
from pnet.model import Kind, Service
from pnet.targets import Target, is_private_host

# Variables that hold the address the public reaches a service at (links in emails, CORS and
# redirect allow lists, webhooks registered with a third party), not an address to call.
_PUBLIC_FACING_KEY = re.compile(
    r"PUBLIC|EXTERNAL|FRONTEND|ORIGIN|CORS|CSRF|ALLOWED|CALLBACK|REDIRECT|WEBHOOK|SITE_URL"
    r"|CANONICAL|DOMAIN|TRUSTED",
    re.IGNORECASE,
)


def target_findings(ctx: Context, t: Target) -> list[Finding]:
    """Static findings of one target, the most specific cause first."""
    src = ctx.source_for(t)
    svc = ctx.service(t.service)
    client = _client_side(ctx, t, src, svc)
    if client is not None:
        return [client]
    broken = _reference(ctx, t, src, svc)
    if broken is not None:
        return [broken]
    if svc is None:
        typo = _unmapped(ctx, t, src)
        if typo or not is_private_host(ctx.workspace, t.host):
            return typo
        return [f for f in (tls_on_private(ctx, t, None), missing_scheme(ctx, t, None)) if f]
    if t.how == "public-url":
        return _public(ctx, t, src, svc)
    if t.how in ("name", "database-id") and svc.host and svc.host_known and t.host != svc.host:
        return [_not_the_host(ctx, t, svc)]
    if not (svc.type.receives and svc.type.has_internal_address):
        return [_not_receiving(ctx, t, svc)]
    if src is not None:
        separation = ctx.separation(src, svc)
        if separation is not None:
            fix = ctx.p.cross_fix(ctx.workspace, t, src, svc, separation)
            return [
                finding(
                    separation.kind,
                    t.subject,
                    separation.message,
                    fix,
                    service=svc.name,
                    evidence=separation.evidence,
                )
            ]
    protocol = wrong_protocol_static(ctx, t, svc)
    if protocol is not None:
        return [protocol]
    out: list[Finding] = []
    tls = tls_on_private(ctx, t, svc)
    if tls is not None:
        out.append(tls)
    out.extend(port_findings(ctx, t, svc, tls_fixed=tls is not None))
    scheme = missing_scheme(ctx, t, svc)
    if scheme is not None:
        out.append(scheme)
    v6 = ipv6_only_name(ctx, t, src, svc)
    if v6 is not None:
        out.append(v6)
    return out


def _client_side(
    ctx: Context, t: Target, src: Service | None, svc: Service | None
) -> Finding | None:
    browser = bool(t.key and is_browser_key(t.key))
    static_site = src is not None and src.kind is Kind.STATIC
    if not (browser or static_site):
        return None
    if not is_private_host(ctx.workspace, t.host) and not t.internal:
        return None
    why = (
        f"{t.key} is built into the code sent to the browser"
        if browser
        else f"{src.name if src else 'the source'} is a static site: its code runs in the browser"
    )
    fix: list[str] = []
    public = ctx.p.client_side_url(svc, t) if svc is not None else None
    if svc is not None and public:
        if t.scheme in ("ws", "wss") and "://" in public:
            public = "wss://" + public.split("://", 1)[-1]
        path = t.path if t.path != "/" and svc.public_url else ""
        fix.append(f"{t.key}={public}{path}")
        fix.append("keep the internal address in a server-only variable for server-side calls")
    else:
        target = svc.name if svc else t.host
        fix.append(
            f"call {target} from server code (an API route, SSR or a backend for frontend) "
            f"and give the browser that route's public URL; {target} has no public URL"
        )
    return finding(
        "client-side-private-url",
        t.subject,
        f"{why}, but it holds the private address {t.hostport}",
        fix,
        service=svc.name if svc else None,
        evidence=[
            why,
            f"{t.host} is an address of the private network",
            "browsers (and anything outside the platform) cannot resolve or reach private "
            "addresses",
            ctx.p.docs.private_network,
        ],
    )


def _unmapped(ctx: Context, t: Target, src: Service | None) -> list[Finding]:
    """A host no service of the workspace has: a typo when it is close to a known one."""
    if ctx.partial or not is_private_host(ctx.workspace, t.host):
        return []
    if ctx.p.other_instance_of(platforms.index(ctx.workspace), t.host):
        return []
    close = closest_hosts(ctx, t.host, source=src)
    if not close or close[0][0] > 2:
        return []
    return [unknown_host(ctx, t, close, static=True)]


def unknown_host(
    ctx: Context,
    t: Target,
    close: Sequence[tuple[int, Service]],
    *,
    static: bool,
    evidence: Sequence[str] = (),
) -> Finding:
    ev = list(evidence)
    if static:
        ev.append(f"no service of {ctx.workspace.name} has the internal host {t.host}")
    fix: list[str] = []
    service = None
    message = f"{t.host} is not the internal address of any service"
    if close:
        best = close[0][1]
        service = best.name
        url = right_url(ctx, best, t, port=t.port if t.port in best.ports else None)
        fix.extend(url_fix_lines(ctx, best, url, t))
        fix.insert(1, f"(did you mean {best.host}, the address of {best.name}?)")
        others = ", ".join(f"{s.host} ({s.name})" for _, s in close[1:])
        if others:
            ev.append(f"other close names: {others}")
    elif ctx.partial:
        message = f"{t.host} does not resolve from here"
        fix.append(
            f"pnet sees only this service, so it cannot tell a typo from the name of a service "
            f"that does not receive private traffic (a background worker, a cron job) or one "
            f"in another {ctx.p.scope_word}: the names are in the dashboard (Connect → Internal); "
            f"to let pnet compare, give it {ctx.p.where_to_learn}"
        )
    else:
        fix.append(ctx.p.find_address)
    ev.append(ctx.p.docs.private_network)
    return finding("unknown-host", t.subject, message, fix, service=service, evidence=ev)


def _reference(ctx: Context, t: Target, src: Service | None, svc: Service | None) -> Finding | None:
    """A reference (Blueprint, reference variable) that does not give what it should."""
    if not t.reference or t.resolved:
        return None
    problem = ctx.p.reference_problem(ctx.workspace, src, t, svc)
    if problem is None:
        return None
    kind, message, fix, evidence = problem
    return finding(
        kind,
        t.subject,
        message,
        fix,
        service=svc.name if svc else None,
        evidence=[t.note, *evidence],
    )


def _not_the_host(ctx: Context, t: Target, svc: Service) -> Finding:
    what = "the service's name" if t.how == "name" else "the database's id"
    url = right_url(ctx, svc, t, port=t.port if t.port in svc.ports else None)
    ev = [f"{svc.name}'s internal host is {svc.host}"]
    if t.how == "name":
        ev.append(ctx.p.host_note())
    ev.append(ctx.p.docs.private_network)
    return finding(
        "unknown-host",
        t.subject,
        f"{t.host} is {what}, not its internal host {svc.host}",
        url_fix_lines(ctx, svc, url, t),
        service=svc.name,
        evidence=ev,
    )


def _not_receiving(ctx: Context, t: Target, svc: Service) -> Finding:
    why = svc.type.why_not_receiving or f"a {svc.type.label} cannot receive private traffic"
    fix, evidence = ctx.p.not_receiving(svc)
    return finding(
        "not-receiving",
        t.subject,
        f"{svc.name} is a {svc.type.label}: it cannot receive private traffic",
        fix,
        service=svc.name,
        evidence=[f"{svc.name} is a {svc.type.label}", why, *evidence],
    )


def public_address_is_wrong(src: Service, t: Target) -> bool:
    """Whether a client in `src` reading `t` should use a private address instead of a public
    one: not a browser's variable, not the address the public reaches a service at (CORS,
    callbacks, links), not a static site's."""
    if (t.key and is_browser_key(t.key)) or src.kind is Kind.STATIC or not src.type.sends:
        return False
    if t.key and _PUBLIC_FACING_KEY.search(t.key):
        return False
    own = platforms.index_host(src.public_url) if src.public_url else ""
    return not (own and own == t.host)


def _public(ctx: Context, t: Target, src: Service | None, svc: Service) -> list[Finding]:
    """A public URL of a service: right from outside, wrong from the same private network."""
    separation = ctx.separation(src, svc) if src is not None else None
    if src is None or separation is not None:
        closed = separation is not None and separation.isolated is None
        if src is not None and separation is not None and closed and ctx.p.external_closed(svc):
            return [_closed_external(ctx, t, src, svc, separation.kind)]
        return []
    if not public_address_is_wrong(src, t) or svc is src or svc.name == src.name:
        return []
    if not (svc.type.receives and svc.type.has_internal_address):
        return []
    if not svc.host_known:
        # The public name carries the slug the model could not know (`auth-77aq.onrender.com`).
        slug = ctx.p.internal_host_of(t.host, src)
        if slug:
            svc = dataclasses.replace(svc, host=slug, host_known=True)
    url = right_url(ctx, svc, t)
    ev = [
        f"{t.host} is {svc.name}'s public address",
        f"{src.name} and {svc.name} share the private network of "
        f"{svc.location} ({ctx.p.scope_word})",
        "public traffic leaves the private network: slower, billed as egress, and subject "
        "to IP allow lists and TLS",
    ]
    if ctx.p.external_closed(svc):
        ev.append(
            f"{svc.name}'s IP allow list is empty, so this external URL refuses {src.name} too"
        )
    ev.append(ctx.p.docs.public_urls)
    return [
        finding(
            "wrong-url",
            t.subject,
            f"a public URL for {svc.name}, which is on the same private network",
            url_fix_lines(ctx, svc, url, t),
            service=svc.name,
            evidence=ev,
        )
    ]


def _closed_external(ctx: Context, t: Target, src: Service, svc: Service, kind: str) -> Finding:
    """The external URL of a datastore of another network, whose allow list admits no one."""
    fix, evidence = ctx.p.closed_external(src, svc)
    return finding(
        kind,
        t.subject,
        f"{svc.name} is in {svc.location}, {src.name} in {src.location}, and {svc.name}'s "
        "external URL admits no one: its IP allow list is empty",
        fix,
        service=svc.name,
        evidence=[f"{t.host} is {svc.name}'s external address", *evidence],
    )


def with_evidence(f: Finding, lines: Sequence[str]) -> Finding:
    """The finding with more evidence first (what a probe saw)."""
    extra = tuple(line for line in lines if line and line not in f.evidence)
    return dataclasses.replace(f, evidence=(*extra, *f.evidence)) if extra else f
