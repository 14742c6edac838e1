"""Static rules: what the model alone proves wrong, before (or without) any packet."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from pnet.diagnose import kinds as K
from pnet.diagnose.common import (
    BROWSER_PREFIXES,
    INTERNAL_HOWS,
    Context,
    blueprint_snippet,
    closest_hosts,
    finding,
    isolation_blocks,
    levenshtein,
    network_of,
    placeholder_url,
    railway_reference,
    reachable,
    right_url,
    same_network,
    url_fix_lines,
    with_scheme,
)
from pnet.diagnose.finding import Finding
from pnet.model import Kind, Network, Platform, Service
from pnet.platforms import render
from pnet.targets import (
    DATABASE_SCHEMES,
    HTTP_SCHEMES,
    POSTGRES_SCHEMES,
    REDIS_SCHEMES,
    Target,
    is_private_host,
    scheme_for,
)

_URL_KEY = re.compile(r"(URL|URI|ENDPOINT|DSN|ORIGIN|BASE)S?(_\d+)?$", re.IGNORECASE)
# Variables that hold the address the public reaches a service at (links in emails, CORS and
# redirect allow lists, webhooks registered with a third party), not an address to call.
_PUBLIC_FACING_KEY = re.compile(
    r"PUBLIC|EXTERNAL|FRONTEND|ORIGIN|CORS|CSRF|ALLOWED|CALLBACK|REDIRECT|WEBHOOK|SITE_URL"
    r"|CANONICAL|DOMAIN|TRUSTED",
    re.IGNORECASE,
)
_NODE_RUNTIMES = frozenset({"node", "bun", "deno"})
_FAMILY_PARAM = re.compile(r"(^|&)family=(0|6)(&|$)")
ANYWHERE = frozenset({"0.0.0.0/0", "::/0", "0.0.0.0", "*"})

# Build steps that open connections to a database or another service.
CONNECTING_BUILD_STEPS = re.compile(
    r"(prisma\s+(migrate|db\s+(push|seed|pull)))"
    r"|(manage\.py\s+(migrate|loaddata|createsuperuser))"
    r"|(\b(rails|rake|bin/rails)\s+db:\w+)"
    r"|(\bknex\s+(migrate|seed))"
    r"|(\balembic\s+(upgrade|downgrade|stamp))"
    r"|(\bflask\s+db\s+(upgrade|migrate))"
    r"|(\bsequelize(-cli)?\s+db:\w+)"
    r"|(\btypeorm\s+migration:run)"
    r"|(\bdrizzle-kit\s+(migrate|push))"
    r"|(\bphp\s+artisan\s+(migrate|db:seed))"
    r"|(\bmix\s+ecto\.(migrate|setup|create))"
    r"|(\bmedusa\s+(db:migrate|migrations\s+run))"
    r"|(\b(goose|dbmate|flyway|liquibase|atlas|sqlx)\b.*\b(up|migrate|update|apply)\b)"
    r"|(\bmigrate\s+.*\bup\b)"
    r"|(\b(npm|yarn|pnpm|bun)\s+(run\s+)?(db:)?(migrate|seed)\S*)"
    r"|(\b(psql|pg_dump|pg_restore|redis-cli|valkey-cli|mysql)\s)",
    re.IGNORECASE,
)


def is_browser_key(key: str) -> bool:
    return key.upper().startswith(BROWSER_PREFIXES)


# ---------------------------------------------------------------------------------------------
# Per target


def target_findings(ctx: Context, t: Target) -> list[Finding]:
    """Static findings of one target, the most specific cause first."""
    out: list[Finding] = []
    src = ctx.source_for(t)
    svc = ctx.service(t.service)
    client = _client_side(ctx, t, src, svc)
    if client is not None:
        return [client]
    broken = _broken_reference(ctx, t, svc)
    if broken is not None:
        out.append(broken)
        return out
    if svc is None:
        out.extend(_unmapped(ctx, t, src))
        return out
    wrong_ref = _wrong_reference(ctx, t, svc)
    if wrong_ref is not None:
        out.append(wrong_ref)
        return out
    if t.how == "public-url":
        out.extend(_public(ctx, t, src, svc))
        return out
    if t.how in ("name", "database-id") and svc.host and svc.host_known and t.host != svc.host:
        out.append(_not_the_host(ctx, t, svc))
        return out
    if not (svc.type.receives and svc.type.has_internal_address):
        out.append(_not_receiving(ctx, t, svc))
        return out
    if src is not None and not same_network(src, svc):
        out.append(_cross(ctx, t, src, svc))
        return out
    isolated = isolation_blocks(ctx.workspace, src, svc) if src is not None else None
    if src is not None and isolated is not None:
        out.append(_isolated(ctx, t, src, svc, isolated))
        return out
    protocol = _wrong_protocol(ctx, t, svc)
    if protocol is not None:
        out.append(protocol)
        return out
    tls = _tls_on_private(ctx, t, svc)
    if tls is not None:
        out.append(tls)
    port = _port(ctx, t, svc, tls_fixed=tls is not None)
    if port is not None:
        out.append(port)
    scheme = _missing_scheme(ctx, t, svc)
    if scheme is not None:
        out.append(scheme)
    v6 = _ipv6_only_name(ctx, t, src, svc)
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
    if not is_private_host(ctx.workspace, t.host) and t.how not in INTERNAL_HOWS:
        return None
    why = (
        f"{t.key} is built into the code sent to the browser"
        if browser
        else f"{src.name if src else 'the source'} is a static site: its code runs in the browser"
    )
    fix: list[str] = []
    if svc is not None and svc.public_url and svc.type.has_public_url:
        public = svc.public_url.rstrip("/")
        if t.scheme in ("ws", "wss"):
            public = "wss://" + public.split("://", 1)[-1]
        fix.append(f"{t.key}={public}{t.path if t.path != '/' else ''}")
        fix.append("keep the internal address in a server-only variable for server-side calls")
    elif svc is not None and svc.type.has_public_url and ctx.render and not svc.host_known:
        fix.append(
            f"{t.key}=https://{svc.host}-XXXX.onrender.com (the slug's suffix is assigned at "
            f"creation: {svc.name}'s Connect → External tab shows the URL)"
        )
        fix.append("keep the internal address in a server-only variable for server-side calls")
    else:
        target = svc.name if svc else t.host
        fix.append(
            f"call {target} from server code (an API route, SSR or a backend for frontend) "
            f"and give the browser that route's public URL; {target} has no public URL"
        )
    evidence = [
        f"{t.host} is an address of the private network",
        "browsers (and anything outside the platform) cannot resolve or reach private addresses",
        K.RENDER_PRIVATE_NETWORK if ctx.render else K.RAILWAY_PRIVATE_NETWORK,
    ]
    return finding(
        "client-side-private-url",
        t.subject,
        f"{why}, but it holds the private address {t.hostport}",
        fix,
        service=svc.name if svc else None,
        evidence=[why, *evidence],
    )


def _unmapped(ctx: Context, t: Target, src: Service | None) -> list[Finding]:
    """A host no service of the workspace has: a typo when it is close to a known one."""
    if not is_private_host(ctx.workspace, t.host):
        return []
    if _another_instance_of_a_database(ctx, t.host):
        return []
    close = closest_hosts(ctx, t.host, source=src)
    if not close:
        return []
    if close[0][0] > 2:
        return []
    return [unknown_host(ctx, t, close, static=True)]


def _another_instance_of_a_database(ctx: Context, host: str) -> bool:
    """`dpg-<id>-b` beside a known `dpg-<id>-a`: Render's id of one database with another
    suffix (a replica), which only a lookup can tell apart from a typo."""
    m = re.match(r"^(dpg-[a-z0-9]{20})-[a-z]+$", host.lower().rstrip("."))
    if m is None:
        return False
    return any(
        s.kind is Kind.POSTGRES and (s.host or "").lower().startswith(m[1] + "-")
        for s in ctx.workspace.services
    )


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
    if close:
        best = close[0][1]
        service = best.name
        url = right_url(ctx, best, t, port=t.port if t.port in best.ports else None)
        fix.extend(url_fix_lines(best, url, t))
        fix.insert(1, f"(did you mean {best.host}, the address of {best.name}?)")
        others = ", ".join(f"{s.host} ({s.name})" for _, s in close[1:])
        if others:
            ev.append(f"other close names: {others}")
    else:
        fix.append(
            "copy the address from the target's Connect → Internal tab"
            if ctx.render
            else "use the target's RAILWAY_PRIVATE_DOMAIN (Settings → Networking)"
        )
    ev.append(K.RENDER_PRIVATE_NETWORK if ctx.render else K.RAILWAY_PRIVATE_NETWORK)
    return finding(
        "unknown-host",
        t.subject,
        f"{t.host} is not the internal address of any service",
        fix,
        service=service,
        evidence=ev,
    )


def _broken_reference(ctx: Context, t: Target, svc: Service | None) -> Finding | None:
    """A Railway reference variable that resolves to nothing."""
    if not (t.reference and t.reference.startswith("${{") and not t.resolved):
        return None
    ref = t.reference.strip("${}")
    name, _, var = ref.partition(".")
    if svc is None:
        names = sorted(
            (levenshtein(name.lower(), s.name.lower(), 3), s.name) for s in ctx.workspace.services
        )
        close = [n for d, n in names if d <= 3][:3]
        fix = [f"{t.key}=" + t.reference.replace(name, close[0], 1)] if close else []
        return finding(
            "unknown-host",
            t.subject,
            f"{t.reference} names no service of {ctx.workspace.name}: it resolves to nothing",
            fix or ["name a service of this project and environment in the reference"],
            evidence=[t.note, K.RAILWAY_VARIABLES] if t.note else [K.RAILWAY_VARIABLES],
        )
    src = ctx.source_for(t)
    if src is not None and not same_network(src, svc):
        cross = _cross_environment(ctx, t, src, svc)
        return dataclasses.replace(
            cross,
            evidence=(
                f"{t.reference} names {svc.name} of {svc.environment}: a reference resolves "
                f"within {src.name}'s own environment, where there is no {svc.name}",
                *cross.evidence,
            ),
        )
    if var in _PUBLIC_TEMPLATE_VARS and svc.kind.is_datastore and src is not None:
        return _public_reference(ctx, t, src, svc, var)
    if var == "PORT":
        port = svc.default_port
        fix = [
            f"set PORT={port} on {svc.name} (its service variables)"
            if port
            else f"set PORT on {svc.name} (its service variables) to the port it listens on"
        ]
        if port:
            fix.append(
                f"or write the port: {t.key}=http://${{{{{svc.name}.RAILWAY_PRIVATE_DOMAIN}}}}:{port}"
            )
        return finding(
            "wrong-port",
            t.subject,
            f"{t.reference} is not set on {svc.name}, so {t.key} has no port",
            fix,
            service=svc.name,
            evidence=[
                f"{svc.name} has no PORT variable; Railway does not resolve {t.reference} to the "
                "port the service listens on",
                K.RAILWAY_VARIABLES,
            ],
        )
    return finding(
        "unknown-host",
        t.subject,
        f"{t.reference} resolves to nothing: {svc.name} has no variable {var}",
        [f"set {var} on {svc.name}, or reference one it has"],
        service=svc.name,
        evidence=[t.note, K.RAILWAY_VARIABLES] if t.note else [K.RAILWAY_VARIABLES],
    )


# A Railway database template's public URL: defined once its TCP proxy is on, billed as egress.
_PUBLIC_TEMPLATE_VARS = frozenset({"DATABASE_PUBLIC_URL", "REDIS_PUBLIC_URL"})


def _public_reference(ctx: Context, t: Target, src: Service, svc: Service, var: str) -> Finding:
    """`${{Postgres.DATABASE_PUBLIC_URL}}` from the database's own environment."""
    private = "DATABASE_URL" if var == "DATABASE_PUBLIC_URL" else "REDIS_URL"
    return finding(
        "wrong-url",
        t.subject,
        f"{t.reference} is {svc.name}'s public URL (its TCP proxy), and {src.name} shares "
        f"{svc.name}'s private network",
        [f"{t.key}=${{{{{svc.name}.{private}}}}}"],
        service=svc.name,
        evidence=[
            f"{var} goes through the TCP proxy (*.proxy.rlwy.net): public traffic, billed as "
            "egress, and it is only defined while public networking is on",
            f"{src.name} and {svc.name} are both in {svc.environment}",
            K.RAILWAY_VARIABLES,
        ],
    )


def _wrong_reference(ctx: Context, t: Target, svc: Service) -> Finding | None:
    """A Blueprint reference that names a service of another type: it does not resolve."""
    if not t.reference or t.resolved:
        return None
    m = re.search(r"type: (\w+)", t.reference)
    wanted = "postgres" if t.reference.startswith("fromDatabase") else (m[1] if m else None)
    if wanted == "redis":
        wanted = "keyvalue"
    if wanted is None or wanted == svc.kind.value:
        return None
    snippet = blueprint_snippet(svc)
    fix = [f"in render.yaml: {snippet}"] if snippet else []
    return finding(
        "unknown-host",
        t.subject,
        f"{t.reference} names {svc.name}, a {svc.type.label}, not a {wanted}: "
        "the reference does not resolve",
        fix,
        service=svc.name,
        evidence=[t.note, K.RENDER_BLUEPRINT] if t.note else [K.RENDER_BLUEPRINT],
    )


def _not_the_host(ctx: Context, t: Target, svc: Service) -> Finding:
    what = "the service's name" if t.how == "name" else "the database's id"
    url = right_url(ctx, svc, t, port=t.port if t.port in svc.ports else None)
    ev = [f"{svc.name}'s internal host is {svc.host}"]
    if ctx.render and t.how == "name":
        ev.append("Render's internal hostnames are slugs (name plus a 4-character suffix)")
    ev.append(K.RENDER_PRIVATE_NETWORK if ctx.render else K.RAILWAY_PRIVATE_NETWORK)
    return finding(
        "unknown-host",
        t.subject,
        f"{t.host} is {what}, not its internal host {svc.host}",
        url_fix_lines(svc, url, t),
        service=svc.name,
        evidence=ev,
    )


def _not_receiving(ctx: Context, t: Target, svc: Service) -> Finding:
    why = svc.type.why_not_receiving or f"a {svc.type.label} cannot receive private traffic"
    ev = [f"{svc.name} is a {svc.type.label}", why]
    fix = [svc.type.instead or "make it a service that listens on a port"]
    if ctx.render:
        if svc.kind is Kind.WEB and svc.public_url:
            fix.append(f"or call it on its public URL: {svc.public_url}")
            ev.append(K.RENDER_FREE)
        elif svc.kind in (Kind.WORKER, Kind.CRON):
            fix.append(f"in render.yaml: `type: pserv` for {svc.name}, binding the port it serves")
            ev.append(K.RENDER_PRIVATE_SERVICES)
        ev.append(K.RENDER_PRIVATE_NETWORK)
    else:
        ev.append(K.RAILWAY_PRIVATE_NETWORK)
    return finding(
        "not-receiving",
        t.subject,
        f"{svc.name} is a {svc.type.label}: it cannot receive private traffic",
        fix,
        service=svc.name,
        evidence=ev,
    )


def _cross(ctx: Context, t: Target, src: Service, svc: Service) -> Finding:
    if ctx.render:
        return _cross_region(ctx, t, src, svc)
    return _cross_environment(ctx, t, src, svc)


def _isolated(ctx: Context, t: Target, src: Service, svc: Service, env: str) -> Finding:
    """Render: one region, but an environment with network isolation between the two."""
    fix = [
        f"turn isolation off for {env} (render.yaml: projects → environments → "
        "networking: {isolation: disabled}), or keep the two in one environment"
    ]
    if svc.public_url and svc.type.has_public_url:
        fix.append(
            f"or call {svc.name} on its public URL: {t.key + '=' if t.key else ''}"
            f"{svc.public_url.rstrip('/')}"
        )
    return finding(
        "cross-environment",
        t.subject,
        f"{svc.name} is in environment {svc.environment}, {src.name} in {src.environment}, "
        f"and {env} blocks private traffic in and out (network isolation)",
        fix,
        service=svc.name,
        evidence=[
            f"{env}: networking.isolation is enabled",
            "an isolated Render environment accepts and sends no private traffic across its edge",
            K.RENDER_BLUEPRINT,
        ],
    )


def _cross_region(ctx: Context, t: Target, src: Service, svc: Service) -> Finding:
    ev = [
        f"{src.name} is in {src.region}, {svc.name} in {svc.region}",
        "each Render region is a separate private network: its names do not resolve elsewhere",
        K.RENDER_REGIONS,
    ]
    fix: list[str] = []
    move = (
        f"or create {svc.name} again in {src.region} and move to it "
        f"(a service's region cannot be changed), or {src.name} in {svc.region}"
    )
    unknown = f"(its id is assigned at creation: {svc.name}'s Connect → External tab shows the URL)"
    if svc.kind is Kind.POSTGRES and svc.host:
        user = t.user or svc.user or "USER"
        db = svc.database or "DATABASE"
        host = svc.host if svc.host_known else "dpg-XXXX-a"
        url = (
            f"postgresql://{user}:PASSWORD@{host}.{svc.region}-postgres.render.com"
            f":5432/{db}?sslmode=require"
        )
        fix.append(f"{t.key}={url}" if t.key else url)
        if not svc.host_known:
            fix.append(unknown)
        fix.extend(_allow_list_lines(src, svc))
        fix.append(move)
        ev.append(K.RENDER_POSTGRES)
    elif svc.kind is Kind.KEYVALUE and svc.host:
        host = svc.host if svc.host_known else "red-XXXX"
        url = f"rediss://{host}:PASSWORD@{svc.region}-keyvalue.render.com:6379"
        fix.append(f"{t.key}={url}" if t.key else url)
        if not svc.host_known:
            fix.append(unknown)
        fix.extend(_allow_list_lines(src, svc))
        fix.append(move)
        ev.append(K.RENDER_KEY_VALUE)
    elif svc.public_url and svc.type.has_public_url:
        path = t.path if t.path not in ("", "/") else ""
        url = svc.public_url.rstrip("/") + path
        fix.append(f"{t.key}={url}" if t.key else url)
        fix.append(f"(public traffic: through the internet, not the private network) {move}")
    else:
        fix.append(
            f"{svc.name} is a {svc.type.label} with no public URL: create it again in "
            f"{src.region} (a service's region cannot be changed), move {src.name} to "
            f"{svc.region}, or make {svc.name} a web service and call its public URL"
        )
    return finding(
        "cross-region",
        t.subject,
        f"{svc.name} is in {svc.region}, {src.name} in {src.region}: different private networks",
        fix,
        service=svc.name,
        evidence=ev,
    )


def _allow_list_lines(src: Service, svc: Service) -> list[str]:
    allow = svc.ip_allow_list
    if allow is not None and not allow:
        return [
            f"{svc.name}'s IP allow list is empty, so its external URL refuses every caller: "
            f"add {src.name}'s outbound IPs (its Connect → Outbound tab) to {svc.name}'s "
            "allow list (ipAllowList in render.yaml)"
        ]
    if allow and not (set(allow) & ANYWHERE):
        return [
            f"{svc.name}'s IP allow list admits {', '.join(allow)} only: add {src.name}'s "
            "outbound IPs (its Connect → Outbound tab)"
        ]
    return []


def _cross_environment(ctx: Context, t: Target, src: Service, svc: Service) -> Finding:
    where_src = src.environment
    where_svc = svc.environment
    if src.project and svc.project and src.project != svc.project:
        where_src, where_svc = f"project {src.project}", f"project {svc.project}"
    ev = [
        f"{src.name} is in {where_src}, {svc.name} in {where_svc}",
        "each Railway project environment has its own private network",
        K.RAILWAY_HOW_IT_WORKS,
    ]
    fix: list[str] = []
    twin = next(
        (
            s
            for s in ctx.workspace.services
            if s.name == svc.name and same_network(s, src) and s is not svc
        ),
        None,
    )
    if twin is not None:
        fix.append(f"use {svc.name} of {src.environment}:")
        fix.extend(url_fix_lines(twin, right_url(ctx, twin, t), t))
    else:
        fix.append(f"deploy {svc.name} in {src.environment}, then:")
        fix.append(
            f"{t.key + '=' if t.key else ''}"
            + railway_reference(svc, scheme="http" if not svc.kind.is_datastore else None)
        )
        if svc.public_url:
            fix.append(
                f"or call {svc.name} of {svc.environment} on its public domain: {svc.public_url}"
            )
    return finding(
        "cross-environment",
        t.subject,
        f"{svc.name} is in {where_svc}, {src.name} in {where_src}: different private networks",
        fix,
        service=svc.name,
        evidence=ev,
    )


def _public(ctx: Context, t: Target, src: Service | None, svc: Service) -> list[Finding]:
    """A public URL of a service: right from outside, wrong from the same private network."""
    if src is None or not reachable(ctx.workspace, src, svc):
        if src is not None and not same_network(src, svc) and _closed_to_outside(ctx, svc):
            return [_closed_external(ctx, t, src, svc)]
        return []
    if (t.key and is_browser_key(t.key)) or src.kind is Kind.STATIC:
        return []
    if svc is src or svc.name == src.name or (t.key and _PUBLIC_FACING_KEY.search(t.key)):
        return []
    if not (svc.type.receives and svc.type.has_internal_address) or not src.type.sends:
        return []
    url = right_url(ctx, svc, t)
    ev = [
        f"{t.host} is {svc.name}'s public address",
        f"{src.name} and {svc.name} share the private network of "
        f"{svc.location} ({'region' if ctx.render else 'environment'})",
        "public traffic leaves the private network: slower, billed as egress, and subject "
        "to IP allow lists and TLS",
    ]
    if _closed_to_outside(ctx, svc):
        ev.append(
            f"{svc.name}'s IP allow list is empty, so this external URL refuses {src.name} too"
        )
    ev.append(K.RENDER_PRIVATE_NETWORK if ctx.render else K.RAILWAY_DOMAINS)
    return [
        finding(
            "wrong-url",
            t.subject,
            f"a public URL for {svc.name}, which is on the same private network",
            url_fix_lines(svc, url, t),
            service=svc.name,
            evidence=ev,
        )
    ]


def _closed_to_outside(ctx: Context, svc: Service) -> bool:
    """A Render datastore whose IP allow list is empty: its external URL admits no one."""
    allow = svc.ip_allow_list
    return ctx.render and svc.kind.is_datastore and allow is not None and not allow


def _closed_external(ctx: Context, t: Target, src: Service, svc: Service) -> Finding:
    """The external URL of a datastore of another region, whose allow list admits no one."""
    fix = _allow_list_lines(src, svc)
    fix.append(
        f"or create {svc.name} again in {src.region} and use its internal URL (a service's "
        f"region cannot be changed), or move {src.name} to {svc.region}"
    )
    return finding(
        "cross-region",
        t.subject,
        f"{svc.name} is in {svc.region}, {src.name} in {src.region}, and {svc.name}'s external "
        "URL admits no one: its IP allow list is empty",
        fix,
        service=svc.name,
        evidence=[
            f"{t.host} is {svc.name}'s external address",
            f"{svc.name}'s IP allow list is empty: internal connections only",
            "a caller outside the allow list gets: Client IP address is not in the allowlist",
            K.RENDER_KEY_VALUE if svc.kind is Kind.KEYVALUE else K.RENDER_POSTGRES,
        ],
    )


def _speaks(svc: Service) -> str | None:
    if svc.kind is Kind.POSTGRES:
        return "postgres"
    if svc.kind is Kind.KEYVALUE:
        return "redis"
    return None


def _scheme_family(scheme: str | None) -> str | None:
    if scheme is None:
        return None
    if scheme in REDIS_SCHEMES:
        return "redis"
    if scheme in POSTGRES_SCHEMES:
        return "postgres"
    if scheme in HTTP_SCHEMES:
        return "http"
    if scheme in DATABASE_SCHEMES or scheme in ("amqp", "amqps", "nats"):
        return scheme
    return None


def _wrong_protocol(ctx: Context, t: Target, svc: Service) -> Finding | None:
    speaks = _speaks(svc)
    family = _scheme_family(t.scheme)
    if speaks is None or family is None or family == speaks:
        return None
    return wrong_protocol(ctx, t, svc, family, speaks, [f"{svc.name} is a {svc.type.label}"])


_LABELS = {"postgres": "Postgres", "redis": "Redis", "http": "HTTP"}


def wrong_protocol(
    ctx: Context, t: Target, svc: Service, family: str, speaks: str, evidence: Sequence[str]
) -> Finding:
    fix: list[str] = []
    want = {"redis": Kind.KEYVALUE, "postgres": Kind.POSTGRES}.get(family)
    src = ctx.source_for(t)
    alt = None
    if want is not None:
        pool = [
            s
            for s in ctx.workspace.services
            if s.kind is want and (src is None or same_network(s, src))
        ]
        alt = pool[0] if len(pool) == 1 else None
    if alt is not None:
        fix.extend(url_fix_lines(alt, right_url(ctx, alt), t))
        fix.insert(1, f"({alt.name} speaks {_LABELS.get(family, family)})")
    right = right_url(ctx, svc, t)
    if right:
        fix.append(
            f"{'or, ' if alt else ''}to talk to {svc.name} itself: "
            f"{t.key + '=' if t.key else ''}{right}"
        )
    return finding(
        "wrong-protocol",
        t.subject,
        f"a {t.scheme}:// URL for {svc.name}, which speaks {_LABELS.get(speaks, speaks)}",
        fix,
        service=svc.name,
        evidence=list(evidence),
    )


def _tls_on_private(ctx: Context, t: Target, svc: Service) -> Finding | None:
    if not t.is_tls or t.how not in INTERNAL_HOWS:
        return None
    plain = {"https": "http", "wss": "ws", "rediss": "redis", "valkeys": "redis", "amqps": "amqp"}
    scheme = plain.get(t.scheme or "", "http")
    port = t.port
    if not t.port_explicit or (svc.ports and t.port not in svc.ports):
        port = svc.default_port
    url = with_scheme(t, scheme, port=port)
    ev = [
        f"{t.host} is an internal address: private traffic is plain, no certificate is "
        "issued for internal names",
        K.RENDER_PRIVATE_NETWORK if ctx.render else K.RAILWAY_HOW_IT_WORKS,
    ]
    return finding(
        "tls-on-private",
        t.subject,
        f"{t.scheme}:// to the internal address {t.host}, which speaks plain text",
        [f"{t.key}={url}" if t.key else url],
        service=svc.name,
        evidence=ev,
    )


def _port(ctx: Context, t: Target, svc: Service, *, tls_fixed: bool) -> Finding | None:
    port = t.port
    if port is None or not svc.ports:
        return None
    if ctx.render and port in render.RESERVED_PORTS and port in svc.ports:
        others = [p for p in svc.ports if p not in render.RESERVED_PORTS]
        fix = []
        if others:
            fix.append(
                f"{t.key + '=' if t.key else ''}{with_scheme_or_hostport(t, port=others[0])}"
            )
        else:
            fix.append(
                f"make {svc.name} listen on a port Render delivers (e.g. 9100; not 18012, "
                f"18013 or 19099), then {t.key + '=' if t.key else ''}"
                f"{with_scheme_or_hostport(t, port=9100)}"
            )
        return finding(
            "reserved-port",
            t.subject,
            f"port {port} is reserved by Render: private traffic to it is not delivered",
            fix,
            service=svc.name,
            evidence=[
                f"Render reserves ports {', '.join(map(str, sorted(render.RESERVED_PORTS)))} "
                "on the private network",
                K.RENDER_PRIVATE_NETWORK,
            ],
        )
    if port in svc.ports:
        return None
    if tls_fixed and not t.port_explicit:
        return None
    listens = ", ".join(map(str, svc.ports))
    right = svc.ports[0]
    ev = [f"{svc.name} listens on {listens} (its open ports)"]
    message = f"{svc.name} does not listen on port {port}; it listens on {listens}"
    if not t.port_explicit and t.scheme:
        message = (
            f"no port in the URL, so {t.scheme}:// means {port}; {svc.name} listens on {listens}"
        )
        ev.append("internal addresses need the service's own port: there is no proxy on 80/443")
    if ctx.render and port == render.DEFAULT_PORT:
        ev.append(
            "10000 is Render's default PORT for a web service's public traffic; the service's "
            "open ports say where it really listens"
        )
    elif ctx.render and port in render.RESERVED_PORTS:
        ev.append(f"{port} is also one of the ports Render reserves")
    if not ctx.render and svc.env_var("PORT") is None:
        ev.append(f"{svc.name} has no PORT variable: ${{{{{svc.name}.PORT}}}} would not resolve")
    ev.append(K.RENDER_PRIVATE_NETWORK if ctx.render else K.RAILWAY_VARIABLES)
    url = with_scheme_or_hostport(t, port=right)
    fix = [f"{t.key}={url}" if t.key else url]
    if not ctx.render:
        fix.append(f"or: {railway_reference(svc, scheme=t.scheme or 'http', path=_p(t))}")
        fix.append(
            f"(and {svc.name}.PORT={right} set on {svc.name})"
            if svc.env_var("PORT") is None and not svc.kind.is_datastore
            else ""
        )
    return finding(
        "wrong-port",
        t.subject,
        message,
        [f for f in fix if f],
        service=svc.name,
        evidence=ev,
    )


def _p(t: Target) -> str:
    return t.path if t.path not in ("", "/") else ""


def with_scheme_or_hostport(t: Target, *, port: int) -> str:
    if t.scheme:
        return with_scheme(t, t.scheme, port=port)
    host = f"[{t.host}]" if ":" in t.host else t.host
    return f"{host}:{port}{t.path}"


def _missing_scheme(ctx: Context, t: Target, svc: Service) -> Finding | None:
    if t.scheme is not None or not t.key or not _URL_KEY.search(t.key):
        return None
    scheme = scheme_for(svc)
    if scheme is None:
        return None
    port = t.port if t.port else svc.default_port
    url = with_scheme(t, scheme, port=port)
    fix = [f"{t.key}={url}"] if not t.reference else []
    ev = [f"{t.key} holds {t.hostport}: a URL client needs the scheme ({scheme}://)"]
    if t.reference and "hostport" in t.reference:
        ev.append("a Blueprint `property: hostport` reference gives host:port, never a scheme")
        if svc.kind is Kind.KEYVALUE:
            fix.append(
                f"in render.yaml: fromService: {{name: {svc.name}, type: keyvalue, "
                "property: connectionString}} (it carries redis://)"
            )
        else:
            fix.append(
                f"Blueprints do not interpolate: add `{scheme}://` where the app reads {t.key}"
            )
    if ctx.render:
        ev.append(K.RENDER_PRIVATE_NETWORK)
    return finding(
        "missing-scheme",
        t.subject,
        f"{t.key} is host:port with no scheme; a client needs {scheme}://",
        fix,
        service=svc.name,
        evidence=ev,
    )


def _ipv6_only_name(ctx: Context, t: Target, src: Service | None, svc: Service) -> Finding | None:
    if ctx.workspace.platform is not Platform.RAILWAY:
        return None
    if network_of(ctx, svc) is not Network.IPV6_ONLY:
        return None
    return ipv6_only_name(
        ctx, t, src, svc, [f"{svc.environment} is a legacy IPv6-only environment"]
    )


def ipv6_only_name(
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
        fix.append(f"or the reference variable: {railway_reference(svc)}?family=0")
    fix.append("or upgrade ioredis to >= 5.8.2 (family 0 by default); bullmq: family: 0")
    return finding(
        "ipv6-only-name",
        t.subject,
        f"{t.host} resolves to IPv6 only; Redis clients that ask for IPv4 (ioredis < 5.8.2, "
        "bullmq) fail with ENOTFOUND",
        fix,
        service=svc.name if svc else None,
        evidence=[*evidence, K.RAILWAY_ENOTFOUND, K.RAILWAY_LIBRARIES],
    )


# ---------------------------------------------------------------------------------------------
# Per service and per source


def service_findings(ctx: Context, svc: Service) -> list[Finding]:
    """What is wrong with a service itself: its ports, its allow list."""
    out: list[Finding] = []
    subject = f"service:{svc.name}"
    if ctx.render and svc.type.has_internal_address:
        reserved = [p for p in svc.ports if p in render.RESERVED_PORTS]
        if reserved:
            listed = ", ".join(map(str, reserved))
            ev = [
                f"{svc.name} opens {listed}",
                "Render reserves 18012, 18013 and 19099 on the private network",
            ]
            if render.DEFAULT_PORT in svc.ports:
                ev.append(
                    "10000, also listed by the docs, is Render's default PORT: the API reports "
                    "it as a private service's open port, so it is trusted here"
                )
            ev.append(K.RENDER_PRIVATE_NETWORK)
            out.append(
                finding(
                    "reserved-port",
                    subject,
                    f"{svc.name} serves on reserved port{'s' if len(reserved) > 1 else ''} "
                    f"{listed}: private traffic to it is not delivered",
                    f"bind {svc.name} to another port (not 18012, 18013 or 19099) and update "
                    "the URLs that point at it",
                    service=svc.name,
                    evidence=ev,
                )
            )
        if len(svc.ports) > render.MAX_OPEN_PORTS:
            out.append(
                finding(
                    "too-many-ports",
                    subject,
                    f"{svc.name} opens {len(svc.ports)} ports; Render allows "
                    f"{render.MAX_OPEN_PORTS} per service",
                    f"close the ports it does not need (keep at most {render.MAX_OPEN_PORTS}); "
                    f"ports past the limit ({_past_limit(svc.ports)}) are not reachable",
                    service=svc.name,
                    evidence=[
                        f"Render: at most {render.MAX_OPEN_PORTS} open ports per service",
                        K.RENDER_PRIVATE_NETWORK,
                    ],
                )
            )
    if svc.kind.is_datastore and svc.ip_allow_list:
        anywhere = sorted(set(svc.ip_allow_list) & ANYWHERE)
        if anywhere:
            out.append(
                finding(
                    "public-database",
                    subject,
                    f"{svc.name} accepts connections from anywhere ({', '.join(anywhere)})",
                    [
                        "ipAllowList: []   # internal connections only (services of its region)",
                        "or list the callers outside the platform: ipAllowList: "
                        "[{source: 203.0.113.4/32, description: office}]",
                    ],
                    service=svc.name,
                    evidence=[
                        f"{svc.name}'s IP allow list: {', '.join(svc.ip_allow_list)}",
                        "the password is then all that stands between the internet and the data",
                        K.RENDER_BLUEPRINT,
                    ],
                )
            )
    return out


def _past_limit(ports: Sequence[int]) -> str:
    past = ports[render.MAX_OPEN_PORTS :]
    shown = ", ".join(map(str, past[:5]))
    return shown + (", …" if len(past) > 5 else "")


def build_phase(ctx: Context, src: Service, targets: Sequence[Target]) -> list[Finding]:
    """Railway: a build command that connects to a private address, which builds cannot reach."""
    if src.platform is not Platform.RAILWAY or not src.build_command:
        return []
    m = CONNECTING_BUILD_STEPS.search(src.build_command)
    if m is None:
        return []
    private = [
        t
        for t in targets
        if (t.source is None or t.source == src.name)
        and is_private_host(ctx.workspace, t.host)
        and t.how != "public-url"
    ]
    if not private:
        return []
    chosen = next((t for t in private if t.key == "DATABASE_URL"), None)
    chosen = chosen or next(
        (t for t in private if t.scheme in DATABASE_SCHEMES or _is_db(ctx, t)), None
    )
    if chosen is None:
        return []
    step = _step_of(src.build_command, m.start())
    rest = " && ".join(
        s for s in (p.strip() for p in re.split(r"&&|;", src.build_command)) if s and s != step
    )
    start = src.start_command or "npm start"
    fix = [f"pre-deploy command: {step}"]
    fix.append(f"or start command: {step} && {start}")
    if rest:
        fix.append(f"build command: {rest}")
    return [
        finding(
            "build-phase",
            chosen.subject,
            f"the build command runs `{step}`, which connects to {chosen.host}: private "
            "networking is not available during the build",
            fix,
            service=chosen.service,
            evidence=[
                f"{src.name}'s build command: {src.build_command}",
                f"{chosen.key or chosen.subject} points at the private host {chosen.host}",
                "Railway: build scripts cannot reach other services; run migrations in the "
                "pre-deploy or start command",
                K.RAILWAY_HOW_IT_WORKS,
            ],
        )
    ]


def _is_db(ctx: Context, t: Target) -> bool:
    svc = ctx.service(t.service)
    return svc is not None and svc.kind is Kind.POSTGRES


def _step_of(command: str, pos: int) -> str:
    start = 0
    for m in re.finditer(r"&&|;|\|\|", command):
        if m.end() <= pos:
            start = m.end()
        else:
            end = m.start()
            return command[start:end].strip()
    return command[start:].strip()
