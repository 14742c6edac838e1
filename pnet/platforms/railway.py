"""Railway's private network (research/PLATFORMS.md section 2): its rules, names and fixes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pnet.model import EnvVar, Kind, Network, Platform, Service, ServiceType, Workspace
from pnet.platforms.base import Address, Docs, HostIndex, Problem, Separation
from pnet.platforms.connect import ConnectTab
from pnet.platforms.railway_refs import (
    POSTGRES_PORT,
    PROVIDED_PREFIX,
    REDIS_PORT,
    Resolved,
    has_reference,
    parse_reference,
    provided_variables,
    public_domain_of,
    resolve,
)
from pnet.urls import POSTGRES_SCHEMES, REDIS_SCHEMES, path_of

INTERNAL_SUFFIX = ".railway.internal"
PUBLIC_SUFFIXES = (".up.railway.app", ".proxy.rlwy.net")
RESERVED_ENDPOINT_NAMES = frozenset({"health", "internal", "internal-health", "railway", "up"})
REGIONS = ("us-west2", "us-east4-eqdc4a", "europe-west4-drams3a", "asia-southeast1-eqsg3a")
LEGACY_CUTOFF = "2025-10-16"
PUBLIC_DOMAIN = re.compile(r"^(?P<name>[a-z0-9-]+)\.up\.railway\.app$")
TCP_PROXY = re.compile(r"^[a-z0-9-]+\.proxy\.rlwy\.net$")
# A database template's public URL: defined once its TCP proxy is on, billed as egress.
PUBLIC_TEMPLATE_VARS = {"DATABASE_PUBLIC_URL": "DATABASE_URL", "REDIS_PUBLIC_URL": "REDIS_URL"}
# Older names of a database template's private URL.
PRIVATE_ALIASES = {"DATABASE_PRIVATE_URL": "DATABASE_URL", "REDIS_PRIVATE_URL": "REDIS_URL"}

DOCS = Docs(
    plain_traffic="https://docs.railway.com/networking/private-networking/how-it-works",
    ports="https://docs.railway.com/variables/reference",
    private_network="https://docs.railway.com/networking/private-networking",
    scope="https://docs.railway.com/networking/private-networking/how-it-works",
    port_binding=(
        "https://docs.railway.com/networking/troubleshooting/application-failed-to-respond"
    ),
    variables="https://docs.railway.com/variables/reference",
    config="https://docs.railway.com/variables/reference",
    ipv6_names="https://docs.railway.com/databases/troubleshooting/enotfound-redis-railway-internal",
    libraries="https://docs.railway.com/networking/private-networking/library-configuration",
    domains="https://docs.railway.com/networking/domains/working-with-domains",
    public_urls="https://docs.railway.com/networking/domains/working-with-domains",
    failed_to_respond=(
        "https://docs.railway.com/networking/troubleshooting/application-failed-to-respond"
    ),
)


def service_type(kind: Kind, plan: str | None) -> ServiceType:
    del plan
    common = {"scope": "environment", "discovery_suffix": ""}
    if kind is Kind.WEB:
        return ServiceType(
            kind, "service (public domain)", True, True, True, True, True, True, **common
        )
    if kind is Kind.PSERV:
        return ServiceType(kind, "service (private)", True, True, True, True, False, True, **common)
    if kind is Kind.WORKER:
        return ServiceType(kind, "service (no port)", True, True, True, True, False, True, **common)
    if kind is Kind.CRON:
        return ServiceType(
            kind,
            "cron service",
            True,
            False,
            True,
            False,
            False,
            False,
            "a cron service only runs on its schedule and serves nothing between runs",
            "run a long-lived service that listens on a port",
            **common,
        )
    if kind is Kind.STATIC:
        return ServiceType(
            kind,
            "static site",
            False,
            False,
            False,
            False,
            True,
            False,
            "a static site is not on the private network",
            "run a service that listens on a port",
            **common,
        )
    label = "postgres" if kind is Kind.POSTGRES else "redis"
    return ServiceType(kind, label, False, True, True, True, True, False, **common)


def default_host(name: str) -> str:
    return f"{name.lower()}{INTERNAL_SUFFIX}"


def is_internal_host(host: str) -> bool:
    return host.lower().rstrip(".").endswith(INTERNAL_SUFFIX)


def is_public_host(host: str) -> bool:
    return host.lower().rstrip(".").endswith(PUBLIC_SUFFIXES)


def reference(svc: Service, *, scheme: str | None = None, path: str = "") -> str:
    """A reference variable that follows the service across renames and environments."""
    if svc.kind is Kind.POSTGRES:
        return f"${{{{{svc.name}.DATABASE_URL}}}}"
    if svc.kind is Kind.KEYVALUE:
        return f"${{{{{svc.name}.REDIS_URL}}}}"
    s = scheme or "http"
    return f"{s}://${{{{{svc.name}.RAILWAY_PRIVATE_DOMAIN}}}}:${{{{{svc.name}.PORT}}}}{path}"


def port_note(svc: Service) -> str:
    if svc.env_var("PORT") is not None:
        return f"{svc.name}.PORT is set on {svc.name}"
    where = f" (PORT={svc.default_port})" if svc.default_port else ""
    return (
        f"{svc.name}.PORT must be set on {svc.name} as a service variable{where}: it does not "
        "resolve to the port the service listens on by itself"
    )


def _pick(candidates: list[Service], source: Service | None) -> Service:
    if source is not None:
        for svc in candidates:
            if svc.location == source.location:
                return svc
    return candidates[0]


def model_variables(workspace: Workspace, environment: str | None) -> dict[str, dict[str, str]]:
    """What a reference can read in one environment: each service's own variables and the ones
    Railway provides it, from the model."""
    out: dict[str, dict[str, str]] = {}
    for svc in workspace.services:
        if environment is not None and svc.environment not in (None, environment):
            continue
        pool = provided_variables(
            name=svc.name,
            host=svc.host,
            public_domain=public_domain_of(svc.public_url),
            environment=svc.environment,
            project=svc.project or workspace.project,
            kind=svc.kind,
            port=svc.default_port,
            user=svc.user,
            password=svc.password,
            database=svc.database,
        )
        if svc.kind.is_datastore and svc.host and svc.password is None:
            port = svc.default_port or (POSTGRES_PORT if svc.kind is Kind.POSTGRES else REDIS_PORT)
            if svc.kind is Kind.POSTGRES:
                db = svc.database or "railway"
                pool["DATABASE_URL"] = f"postgresql://{svc.host}:{port}/{db}"
            else:
                pool["REDIS_URL"] = f"redis://{svc.host}:{port}"
        for alias, name in (
            ("DATABASE_PRIVATE_URL", "DATABASE_URL"),
            ("REDIS_PRIVATE_URL", "REDIS_URL"),
        ):
            if name in pool:
                pool.setdefault(alias, pool[name])
        for var in svc.env:
            if var.value is not None:
                pool[var.key] = var.value
        out.setdefault(svc.name, pool)
    return out


class Railway:
    platform = Platform.RAILWAY
    title = "Railway"
    shared_suffix = INTERNAL_SUFFIX
    scope_word = "environment"
    docs = DOCS
    reserved_ports: frozenset[int] = frozenset()
    max_open_ports: int | None = None
    default_service_port: int | None = None
    builds_reach_private_network = False
    find_address = "use the target's RAILWAY_PRIVATE_DOMAIN (Settings → Networking)"
    where_to_learn = (
        "RAILWAY_TOKEN (a project token) or RAILWAY_API_TOKEN, or `railway status --json` on "
        "your laptop"
    )

    # ---- services and networks -------------------------------------------------------------
    def service_type(self, kind: Kind, plan: str | None) -> ServiceType:
        return service_type(kind, plan)

    def network(self, workspace: Workspace, service: Service) -> Network:
        info = workspace.environments.get(service.environment) if service.environment else None
        if info is not None and info.network is not None:
            return info.network
        return Network.DUAL_STACK

    def separation(self, workspace: Workspace, a: Service, b: Service) -> Separation | None:
        where_a, where_b = a.environment, b.environment
        if a.project and b.project and a.project != b.project:
            where_a, where_b = f"project {a.project}", f"project {b.project}"
        elif a.environment == b.environment:
            return None
        return Separation(
            "cross-environment",
            f"{b.name} is in {where_b}, {a.name} in {where_a}: different private networks",
            (
                f"{a.name} is in {where_a}, {b.name} in {where_b}",
                "each Railway project environment has its own private network",
                DOCS.scope,
            ),
        )

    # ---- addresses ---------------------------------------------------------------------------
    def client_scheme(self, service: Service) -> str | None:
        if service.kind is Kind.POSTGRES:
            return "postgresql"
        if service.kind is Kind.KEYVALUE:
            return "redis"
        if service.kind in (Kind.WEB, Kind.PSERV, Kind.WORKER):
            return "http"
        return None

    def internal_url(
        self, service: Service, *, port: int | None = None, path: str = "", auth: bool = False
    ) -> str | None:
        del auth
        if not (service.host and service.type.has_internal_address and service.type.receives):
            return None
        p = port or service.default_port
        if service.kind is Kind.POSTGRES:
            user = service.user or "USER"
            db = service.database or "DATABASE"
            return f"postgresql://{user}:PASSWORD@{service.host}:{p or POSTGRES_PORT}/{db}"
        if service.kind is Kind.KEYVALUE:
            return f"redis://default:PASSWORD@{service.host}:{p or REDIS_PORT}"
        scheme = self.client_scheme(service) or "http"
        return f"{scheme}://{service.host}:{p}{path}" if p else f"{scheme}://{service.host}{path}"

    def is_public_host(self, host: str) -> bool:
        return is_public_host(host)

    def is_private_name(self, host: str) -> bool:
        return is_internal_host(host)

    def could_be_private(self, host: str) -> bool:
        del host
        return False

    def internal_host_of(self, public_host: str, source: Service | None = None) -> str | None:
        """`catalog-production.up.railway.app` from production -> `catalog.railway.internal`:
        Railway's generated domain is `<service>-<environment>`, so the name is a guess that
        only a lookup confirms."""
        m = PUBLIC_DOMAIN.match(public_host.lower().rstrip("."))
        env = (source.environment or "").lower() if source is not None else ""
        if m is None or not env or not m["name"].endswith(f"-{env}"):
            return None
        name = m["name"][: -len(env) - 1]
        return default_host(name) if name else None

    def map_host(
        self,
        index: HostIndex,
        host: str,
        *,
        source: Service | None,
        scheme: str | None,
        user: str | None,
    ) -> tuple[Service | None, str]:
        del user
        h = host
        if is_internal_host(h):
            named = index.by_name.get(h[: -len(INTERNAL_SUFFIX)])
            if named:
                return _pick(named, source), "name"
        if h.endswith(".up.railway.app") and h in index.by_public:
            return index.by_public[h], "public-url"
        if TCP_PROXY.match(h) and scheme:
            if h in index.by_public:
                return index.by_public[h], "public-url"
            kind = (
                Kind.POSTGRES
                if scheme in POSTGRES_SCHEMES
                else Kind.KEYVALUE
                if scheme in REDIS_SCHEMES
                else None
            )
            if kind is not None:
                # A datastore whose proxy domain the model knows is not behind another one.
                pool = [s for s in index.by_kind.get(kind, []) if not s.public_url]
                if source is not None:
                    pool = [s for s in pool if s.location == source.location] or pool
                if len(pool) == 1:
                    return pool[0], "public-url"
        return None, "unresolved"

    def resolve(self, value: str, workspace: Workspace, source: Service | None) -> str | None:
        if "${{" not in value:
            return value
        env = source.environment if source is not None else None
        owner = source.name if source is not None else ""
        return resolve(value, service=owner, variables=model_variables(workspace, env)).value

    def reference_text(self, var: EnvVar, service: Service | None) -> str:
        """A reference variable as written in Railway."""
        name = service.name if service is not None else var.ref_service
        return f"${{{{{name}.{var.ref_key}}}}}"

    def other_instance_of(self, index: HostIndex, host: str) -> bool:
        del index, host
        return False

    # ---- fixes -------------------------------------------------------------------------------
    def keep_right(self, service: Service, address: Address | None, url: str | None) -> list[str]:
        del url
        key = f"{address.key}=" if address is not None and address.key else ""
        lines = [f"or the reference variable: {key}{reference(service, path=path_of(address))}"]
        if not service.kind.is_datastore:
            lines.append(f"({port_note(service)})")
        return lines

    def cross_fix(
        self,
        workspace: Workspace,
        address: Address,
        source: Service,
        service: Service,
        separation: Separation,
    ) -> list[str]:
        del separation
        twin = next(
            (
                s
                for s in workspace.services
                if s.name == service.name
                and s is not service
                and self.separation(workspace, s, source) is None
            ),
            None,
        )
        key = f"{address.key}=" if address.key else ""
        if twin is not None:
            url = self.internal_url(twin, path=path_of(address))
            fix = [f"use {service.name} of {source.environment}:"]
            if url:
                fix.append(f"{key}{url}")
            fix.extend(self.keep_right(twin, address, url))
            return fix
        fix = [f"deploy {service.name} in {source.environment}, then:"]
        scheme = None if service.kind.is_datastore else "http"
        fix.append(f"{key}{reference(service, scheme=scheme)}")
        if service.public_url:
            fix.append(
                f"or call {service.name} of {service.environment} on its public domain: "
                f"{service.public_url}"
            )
        return fix

    def not_receiving(self, service: Service) -> tuple[list[str], list[str]]:
        return [service.type.instead or "make it a service that listens on a port"], [
            DOCS.private_network
        ]

    def bind_fix(self, port: int | None, *, dual: bool) -> list[str]:
        del dual
        p = port or "$PORT"
        return [
            f"bind `::` on {p} (IPv4 and IPv6): Express app.listen({p}, '::'); gunicorn "
            f"--bind [::]:{p}; Next next start --hostname ::",
            f'uvicorn: --host "" --port {p} (uvicorn on :: listens on IPv6 only)',
        ]

    def refused_fix(self, name: str, port: int | None) -> tuple[list[str], list[str]]:
        return (
            [
                f"check that {name} is running and listens on {port} on every interface",
                'bind `::` (both families; uvicorn: --host ""), not 0.0.0.0 or 127.0.0.1',
            ],
            [],
        )

    unreachable_hints: tuple[str, ...] = ()

    def network_note(self, network: Network) -> str:
        if network is Network.IPV6_ONLY:
            return (
                "legacy Railway environments (created before 16 Oct 2025) resolve private names "
                "to IPv6 only"
            )
        return ""

    def port_notes(self, service: Service, port: int) -> list[str]:
        del port
        if service.env_var("PORT") is None:
            return [
                f"{service.name} has no PORT variable: ${{{{{service.name}.PORT}}}} would not "
                "resolve"
            ]
        return []

    def port_fix(self, service: Service, address: Address, port: int) -> list[str]:
        fix = [f"or: {reference(service, scheme=address.scheme or 'http', path=path_of(address))}"]
        if service.env_var("PORT") is None and not service.kind.is_datastore:
            fix.append(f"(and {service.name}.PORT={port} set on {service.name})")
        return fix

    def auth_advice(self, service: Service, protocol: str) -> tuple[str, list[str]]:
        why = (
            "the Redis service requires its password"
            if protocol == "redis"
            else "the server asks for a password"
        )
        return why, [f"or the reference variable: {reference(service)}"]

    def auth_beside(self, service: Service, protocol: str, key: str) -> str:
        var = "PGPASSWORD" if protocol == "postgres" else "REDISPASSWORD"
        return f"or the reference variable: {key}=${{{{{service.name}.{var}}}}}"

    def scheme_advice(
        self, service: Service, address: Address, scheme: str
    ) -> tuple[list[str], list[str]]:
        del service, address, scheme
        return [], []

    def client_side_url(self, service: Service, address: Address) -> str | None:
        del address
        if service.public_url and service.type.has_public_url:
            return service.public_url.rstrip("/")
        return None

    def external_closed(self, service: Service) -> bool:
        del service
        return False

    def closed_external(self, source: Service, service: Service) -> tuple[list[str], list[str]]:
        del source, service
        return [], []

    def service_findings(self, service: Service) -> Sequence[Problem]:
        del service
        return ()

    def reference_problem(
        self,
        workspace: Workspace,
        source: Service | None,
        address: Address,
        service: Service | None,
    ) -> tuple[str, str, list[str], list[str]] | None:
        """A `${{service.VAR}}` reference that resolves to nothing."""
        ref = address.reference
        if not ref or not ref.startswith("${{"):
            return None
        name, var = parse_reference(ref[3:-2])
        name = name or ""
        key = address.key or ""
        if service is None:
            close = _close_names(workspace, name)
            fix = [f"{key}=" + ref.replace(name, close[0], 1)] if close else []
            return (
                "unknown-host",
                f"{ref} names no service of {workspace.name}: it resolves to nothing",
                fix or ["name a service of this project and environment in the reference"],
                [DOCS.variables],
            )
        if source is not None:
            separation = self.separation(workspace, source, service)
            if separation is not None:
                return (
                    separation.kind,
                    separation.message,
                    self.cross_fix(workspace, address, source, service, separation),
                    [
                        f"{ref} names {service.name} of {service.environment}: a reference "
                        f"resolves within {source.name}'s own environment, where there is no "
                        f"{service.name}",
                        *separation.evidence,
                    ],
                )
        if var in PUBLIC_TEMPLATE_VARS and service.kind.is_datastore and source is not None:
            return (
                "wrong-url",
                f"{ref} is {service.name}'s public URL (its TCP proxy), and {source.name} shares "
                f"{service.name}'s private network",
                [f"{key}=${{{{{service.name}.{PUBLIC_TEMPLATE_VARS[var]}}}}}"],
                [
                    f"{var} goes through the TCP proxy (*.proxy.rlwy.net): public traffic, billed "
                    "as egress, and it is only defined while public networking is on",
                    f"{source.name} and {service.name} are both in {service.environment}",
                    DOCS.variables,
                ],
            )
        if var == "PORT":
            port = service.default_port
            fix = [
                f"set PORT={port} on {service.name} (its service variables)"
                if port
                else f"set PORT on {service.name} (its service variables) to the port it listens on"
            ]
            if port:
                fix.append(
                    f"or write the port: {key}=http://${{{{{service.name}.RAILWAY_PRIVATE_DOMAIN}}}}"
                    f":{port}"
                )
            return (
                "wrong-port",
                f"{ref} is not set on {service.name}, so {key} has no port",
                fix,
                [
                    f"{service.name} has no PORT variable; Railway does not resolve {ref} to the "
                    "port the service listens on",
                    DOCS.variables,
                ],
            )
        return (
            "unknown-host",
            f"{ref} resolves to nothing: {service.name} has no variable {var}",
            [f"set {var} on {service.name}, or reference one it has"],
            [DOCS.variables],
        )

    def host_note(self) -> str:
        return ""

    def unknown_slug_fix(self, service: Service) -> str:
        return f"use {service.name}'s RAILWAY_PRIVATE_DOMAIN (Settings → Networking)"

    def location_note(self, service: Service) -> str:
        return service.environment or "not known"

    # ---- screens -----------------------------------------------------------------------------
    def connect_tabs(
        self, workspace: Workspace, service: Service, *, reveal: bool = False
    ) -> list[ConnectTab]:
        from pnet.platforms.railway_connect import connect_tabs

        return connect_tabs(workspace, service, self.network(workspace, service), reveal)


def _close_names(workspace: Workspace, name: str) -> list[str]:
    from pnet.textdist import levenshtein

    names = sorted(
        (levenshtein(name.lower(), s.name.lower(), 3), s.name) for s in workspace.services
    )
    return [n for d, n in names if d <= 3][:3]


ADAPTER = Railway()


__all__ = [
    "ADAPTER",
    "DOCS",
    "INTERNAL_SUFFIX",
    "LEGACY_CUTOFF",
    "POSTGRES_PORT",
    "PROVIDED_PREFIX",
    "PUBLIC_DOMAIN",
    "REDIS_PORT",
    "REGIONS",
    "RESERVED_ENDPOINT_NAMES",
    "TCP_PROXY",
    "Railway",
    "Resolved",
    "default_host",
    "has_reference",
    "is_internal_host",
    "is_public_host",
    "model_variables",
    "parse_reference",
    "port_note",
    "provided_variables",
    "public_domain_of",
    "reference",
    "resolve",
    "service_type",
]
