"""Render's private network (research/PLATFORMS.md section 1): its rules, names and fixes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pnet.model import EnvVar, Kind, Network, Platform, Service, ServiceType, Workspace
from pnet.platforms.base import Address, HostIndex, Problem, Separation
from pnet.platforms.connect import ConnectTab
from pnet.platforms.render_facts import (
    ANYWHERE,
    DEFAULT_PLAN,
    DEFAULT_PORT,
    DEFAULT_REGION,
    DOCS,
    DOCUMENTED_RESERVED_PORTS,
    KEYVALUE_ID,
    KEYVALUE_PORT,
    MAX_OPEN_PORTS,
    POSTGRES_ID,
    POSTGRES_PORT,
    PUBLIC_KEYVALUE,
    PUBLIC_POSTGRES,
    PUBLIC_SUFFIXES,
    PUBLIC_WEB,
    REGIONS,
    RESERVED_PORTS,
    SERVICE_ID,
    SLUG,
    allow_list_lines,
    blueprint_snippet,
    client_scheme,
    is_public_host,
    service_type,
    slug_prefix,
)
from pnet.urls import path_of


def _pick(candidates: list[Service], source: Service | None) -> Service:
    if source is not None:
        for svc in candidates:
            if svc.location == source.location:
                return svc
    return candidates[0]


def _unknown_slug(index: HostIndex, name: str | None) -> Service | None:
    """The service named `name` whose slug the model does not know (or that has none)."""
    if not name:
        return None
    for svc in index.by_name.get(name, []):
        if not (svc.host and svc.host_known):
            return svc
    return None


class Render:
    platform = Platform.RENDER
    title = "Render"
    shared_suffix = ""
    scope_word = "region"
    docs = DOCS
    reserved_ports = RESERVED_PORTS
    max_open_ports: int | None = MAX_OPEN_PORTS
    default_service_port: int | None = DEFAULT_PORT
    builds_reach_private_network = True
    find_address = "copy the address from the target's Connect → Internal tab"
    where_to_learn = (
        "a render.yaml in the repository (pnet reads /opt/render/project/src/render.yaml), "
        "RENDER_API_KEY, or `render services -o json` on your laptop"
    )

    # ---- services and networks -------------------------------------------------------------
    def service_type(self, kind: Kind, plan: str | None) -> ServiceType:
        return service_type(kind, plan)

    def network(self, workspace: Workspace, service: Service) -> Network:
        del workspace, service
        return Network.IPV4_ONLY

    def separation(self, workspace: Workspace, a: Service, b: Service) -> Separation | None:
        if a.name != b.name and a.region and b.region and a.region != b.region:
            return Separation(
                "cross-region",
                f"{b.name} is in {b.region}, {a.name} in {a.region}: different private networks",
                (
                    f"{a.name} is in {a.region}, {b.name} in {b.region}",
                    "each Render region is a separate private network: its names do not "
                    "resolve elsewhere",
                    DOCS.scope,
                    DOCS.datastore(b.kind) if b.kind.is_datastore else "",
                ),
            )
        if a.environment == b.environment:
            return None
        for env in (a.environment, b.environment):
            info = workspace.environments.get(env) if env else None
            if info is not None and info.isolated:
                return Separation(
                    "cross-environment",
                    f"{b.name} is in environment {b.environment}, {a.name} in {a.environment}, "
                    f"and {env} blocks private traffic in and out (network isolation)",
                    (
                        f"{env}: networking.isolation is enabled",
                        "an isolated Render environment accepts and sends no private traffic "
                        "across its edge",
                        DOCS.config,
                    ),
                    isolated=env,
                )
        return None

    # ---- addresses ---------------------------------------------------------------------------
    def client_scheme(self, service: Service) -> str | None:
        return client_scheme(service)

    def internal_url(
        self, service: Service, *, port: int | None = None, path: str = "", auth: bool = False
    ) -> str | None:
        if not (service.host and service.type.has_internal_address and service.type.receives):
            return None
        if service.kind is Kind.POSTGRES:
            user = service.user or "USER"
            return f"postgresql://{user}:PASSWORD@{service.host}/{service.database or 'DATABASE'}"
        p = port or service.default_port
        if service.kind is Kind.KEYVALUE:
            creds = "default:PASSWORD@" if auth or service.internal_auth else ""
            return f"redis://{creds}{service.host}:{p or KEYVALUE_PORT}"
        scheme = client_scheme(service) or "http"
        return f"{scheme}://{service.host}:{p}{path}" if p else f"{scheme}://{service.host}{path}"

    def is_public_host(self, host: str) -> bool:
        return is_public_host(host)

    def is_private_name(self, host: str) -> bool:
        h = host.lower().rstrip(".")
        return bool(POSTGRES_ID.match(h) or KEYVALUE_ID.match(h))

    def could_be_private(self, host: str) -> bool:
        h = host.lower().rstrip(".")
        return "." not in h and bool(SLUG.match(h))

    def internal_host_of(self, public_host: str, source: Service | None = None) -> str | None:
        """`auth-77aq.onrender.com` -> `auth-77aq`: a web service's public name is its slug."""
        del source
        h = public_host.lower().rstrip(".")
        m = PUBLIC_WEB.match(h)
        if m:
            return m["slug"]
        m = PUBLIC_POSTGRES.match(h)
        return m["id"] if m else None

    def map_host(
        self,
        index: HostIndex,
        host: str,
        *,
        source: Service | None,
        scheme: str | None,
        user: str | None,
    ) -> tuple[Service | None, str]:
        del scheme
        h = host
        if h.endswith("-discovery"):
            base = h[: -len("-discovery")]
            svc, how = self.map_host(index, base, source=source, scheme=None, user=user)
            if svc is None and base in index.by_host:
                svc, how = _pick(index.by_host[base], source), "exact-host"
            if svc is not None and how in ("exact-host", "slug"):
                return svc, "discovery"
        m = PUBLIC_WEB.match(h)
        if m:
            slug = m["slug"]
            if slug in index.by_host:
                return index.by_host[slug][0], "public-url"
            if h in index.by_public:
                return index.by_public[h], "public-url"
            found = _unknown_slug(index, slug_prefix(slug))
            if found is not None:
                return found, "public-url"
        m = PUBLIC_POSTGRES.match(h)
        if m:
            for candidate in (m["id"], f"{m['id']}-a"):
                for svc in index.by_host.get(candidate, []):
                    if svc.kind is Kind.POSTGRES:
                        return svc, "public-url"
        m = PUBLIC_KEYVALUE.match(h)
        if m and user:
            for svc in index.by_host.get(user.lower(), []):
                if svc.kind is Kind.KEYVALUE:
                    return svc, "public-url"
        if POSTGRES_ID.match(h) or POSTGRES_ID.match(h + "-a"):
            for svc in index.by_kind.get(Kind.POSTGRES, []):
                if svc.host and svc.host.lower().startswith(h + "-"):
                    return svc, "database-id"
        found = _unknown_slug(index, slug_prefix(h))
        if found is not None:
            return found, "slug"
        return None, "unresolved"

    def resolve(self, value: str, workspace: Workspace, source: Service | None) -> str | None:
        del workspace, source
        return value

    def reference_text(self, var: EnvVar, service: Service | None) -> str:
        """A Blueprint reference as written in render.yaml."""
        block = "fromDatabase" if var.origin == "fromDatabase" else "fromService"
        kind = var.ref_type or (service.kind.value if service else "pserv")
        kind_part = "" if block == "fromDatabase" else f", type: {kind}"
        written = service.ref_name if service is not None else var.ref_service
        what = f"envVarKey: {var.ref_key}" if var.ref_key else f"property: {var.ref_property}"
        return f"{block}: {{name: {written}{kind_part}, {what}}}"

    def other_instance_of(self, index: HostIndex, host: str) -> bool:
        """`dpg-<id>-b` beside a known `dpg-<id>-a`: one database's id with another suffix (a
        replica), which only a lookup can tell apart from a typo."""
        m = re.match(r"^(dpg-[a-z0-9]{20})-[a-z]+$", host.lower().rstrip("."))
        if m is None:
            return False
        return any(
            (s.host or "").lower().startswith(m[1] + "-")
            for s in index.by_kind.get(Kind.POSTGRES, [])
        )

    # ---- fixes -------------------------------------------------------------------------------
    def keep_right(self, service: Service, address: Address | None, url: str | None) -> list[str]:
        del address
        snippet = blueprint_snippet(service)
        if not snippet:
            return []
        if not service.kind.is_datastore and url and "://" in url:
            return [
                f"in render.yaml: {snippet} gives `{service.host}:{service.default_port}` "
                "without a scheme: add `http://` where the app reads it"
            ]
        return [f"in render.yaml: {snippet}"]

    def cross_fix(
        self,
        workspace: Workspace,
        address: Address,
        source: Service,
        service: Service,
        separation: Separation,
    ) -> list[str]:
        del workspace
        key = f"{address.key}=" if address.key else ""
        if separation.isolated is not None:
            fix = [
                f"turn isolation off for {separation.isolated} (render.yaml: projects → "
                "environments → networking: {isolation: disabled}), or keep the two in one "
                "environment"
            ]
            if service.public_url and service.type.has_public_url:
                fix.append(
                    f"or call {service.name} on its public URL: {key}"
                    f"{service.public_url.rstrip('/')}"
                )
            return fix
        move = (
            f"or create {service.name} again in {source.region} and move to it "
            f"(a service's region cannot be changed), or {source.name} in {service.region}"
        )
        unknown = (
            f"(its id is assigned at creation: {service.name}'s Connect → External tab shows "
            "the URL)"
        )
        lines: list[str] = []
        if service.kind.is_datastore and service.host:
            url = self._external_url(service, address)
            lines.append(f"{key}{url}")
            if not service.host_known:
                lines.append(unknown)
            lines.extend(allow_list_lines(source, service))
            lines.append(move)
        elif service.public_url and service.type.has_public_url:
            lines.append(f"{key}{service.public_url.rstrip('/')}{path_of(address)}")
            lines.append(f"(public traffic: through the internet, not the private network) {move}")
        else:
            lines.append(
                f"{service.name} is a {service.type.label} with no public URL: create it again "
                f"in {source.region} (a service's region cannot be changed), move {source.name} "
                f"to {service.region}, or make {service.name} a web service and call its public "
                "URL"
            )
        return lines

    def _external_url(self, service: Service, address: Address) -> str:
        if service.kind is Kind.POSTGRES:
            user = address.user or service.user or "USER"
            db = service.database or "DATABASE"
            host = service.host if service.host_known else "dpg-XXXX-a"
            return (
                f"postgresql://{user}:PASSWORD@{host}.{service.region}-postgres.render.com"
                f":5432/{db}?sslmode=require"
            )
        host = service.host if service.host_known else "red-XXXX"
        return f"rediss://{host}:PASSWORD@{service.region}-keyvalue.render.com:6379"

    def closed_external(self, source: Service, service: Service) -> tuple[list[str], list[str]]:
        """(fix, evidence) for the external URL of a datastore of another region whose allow
        list admits no one."""
        fix = allow_list_lines(source, service)
        fix.append(
            f"or create {service.name} again in {source.region} and use its internal URL (a "
            f"service's region cannot be changed), or move {source.name} to {service.region}"
        )
        evidence = [
            f"{service.name}'s IP allow list is empty: internal connections only",
            "a caller outside the allow list gets: Client IP address is not in the allowlist",
            DOCS.datastore(service.kind),
        ]
        return fix, evidence

    def not_receiving(self, service: Service) -> tuple[list[str], list[str]]:
        fix = [service.type.instead or "make it a service that listens on a port"]
        evidence: list[str] = []
        if service.kind is Kind.WEB and service.public_url:
            fix.append(f"or call it on its public URL: {service.public_url}")
            evidence.append(DOCS.free)
        elif service.kind in (Kind.WORKER, Kind.CRON):
            fix.append(
                f"in render.yaml: `type: pserv` for {service.name}, binding the port it serves"
            )
            evidence.append(DOCS.private_services)
        evidence.append(DOCS.private_network)
        return fix, evidence

    def bind_fix(self, port: int | None, *, dual: bool) -> list[str]:
        p = port or "$PORT"
        if dual:
            return [
                f"bind `::` on {p} (IPv4 and IPv6): Express app.listen({p}, '::'); gunicorn "
                f"--bind [::]:{p}; Next next start --hostname ::",
                f'uvicorn: --host "" --port {p} (uvicorn on :: listens on IPv6 only)',
            ]
        return [
            f"bind 0.0.0.0 on {p}: uvicorn --host 0.0.0.0 --port {p}; gunicorn --bind "
            f"0.0.0.0:{p}; Express app.listen({p}, '0.0.0.0')",
        ]

    def refused_fix(self, name: str, port: int | None) -> tuple[list[str], list[str]]:
        return (
            [
                f"check that {name} is running and listens on {port} on every interface",
                "bind 0.0.0.0 (not 127.0.0.1 or localhost)",
            ],
            [DOCS.port_binding],
        )

    unreachable_hints: tuple[str, ...] = (
        "environments with network isolation enabled block private traffic in and out",
    )

    def network_note(self, network: Network) -> str:
        del network
        return ""

    def port_notes(self, service: Service, port: int) -> list[str]:
        if port == DEFAULT_PORT:
            return [
                "10000 is Render's default PORT for a web service's public traffic; the "
                "service's open ports say where it really listens"
            ]
        if port in RESERVED_PORTS:
            return [f"{port} is also one of the ports Render reserves"]
        return []

    def port_fix(self, service: Service, address: Address, port: int) -> list[str]:
        return []

    def auth_advice(self, service: Service, protocol: str) -> tuple[str, list[str]]:
        if protocol == "redis":
            why = "internal authentication is on (Key Value → Info → Internal Authentication)"
        else:
            why = "the server asks for a password"
        snippet = blueprint_snippet(service)
        fix = [f"in render.yaml: {snippet} (it carries the credentials)"] if snippet else []
        return why, fix

    def auth_beside(self, service: Service, protocol: str, key: str) -> str:
        del key
        if protocol == "postgres":
            return f"in render.yaml: fromDatabase: {{name: {service.ref_name}, property: password}}"
        return (
            f"or give the client the URL: fromService: {{name: {service.name}, type: keyvalue, "
            "property: connectionString}"
        )

    def scheme_advice(
        self, service: Service, address: Address, scheme: str
    ) -> tuple[list[str], list[str]]:
        evidence: list[str] = []
        fix: list[str] = []
        if address.reference and "hostport" in address.reference:
            evidence.append(
                "a Blueprint `property: hostport` reference gives host:port, never a scheme"
            )
            if service.kind is Kind.KEYVALUE:
                fix.append(
                    f"in render.yaml: fromService: {{name: {service.name}, type: keyvalue, "
                    "property: connectionString}} (it carries redis://)"
                )
            else:
                fix.append(
                    f"Blueprints do not interpolate: add `{scheme}://` where the app reads "
                    f"{address.key}"
                )
        evidence.append(DOCS.private_network)
        return fix, evidence

    def client_side_url(self, service: Service, address: Address) -> str | None:
        del address
        if service.public_url and service.type.has_public_url:
            return service.public_url.rstrip("/")
        if service.type.has_public_url and not service.host_known:
            return (
                f"https://{service.host}-XXXX.onrender.com (the slug's suffix is assigned at "
                f"creation: {service.name}'s Connect → External tab shows the URL)"
            )
        return None

    def external_closed(self, service: Service) -> bool:
        allow = service.ip_allow_list
        return service.kind.is_datastore and allow is not None and not allow

    def service_findings(self, service: Service) -> Sequence[Problem]:
        out: list[Problem] = []
        if service.type.has_internal_address and service.ports_known:
            reserved = [p for p in service.ports if p in RESERVED_PORTS]
            if reserved:
                listed = ", ".join(map(str, reserved))
                ev = [
                    f"{service.name} opens {listed}",
                    "Render reserves 18012, 18013 and 19099 on the private network",
                ]
                if DEFAULT_PORT in service.ports:
                    ev.append(
                        "10000, also listed by the docs, is Render's default PORT: the API "
                        "reports it as a private service's open port, so it is trusted here"
                    )
                ev.append(DOCS.private_network)
                out.append(
                    (
                        "reserved-port",
                        f"{service.name} serves on reserved port{'s' if len(reserved) > 1 else ''} "
                        f"{listed}: private traffic to it is not delivered",
                        [
                            f"bind {service.name} to another port (not 18012, 18013 or 19099) "
                            "and update the URLs that point at it"
                        ],
                        ev,
                    )
                )
            if len(service.ports) > MAX_OPEN_PORTS:
                past = service.ports[MAX_OPEN_PORTS:]
                shown = ", ".join(map(str, past[:5])) + (", …" if len(past) > 5 else "")
                out.append(
                    (
                        "too-many-ports",
                        f"{service.name} opens {len(service.ports)} ports; Render allows "
                        f"{MAX_OPEN_PORTS} per service",
                        [
                            f"close the ports it does not need (keep at most {MAX_OPEN_PORTS}); "
                            f"ports past the limit ({shown}) are not reachable"
                        ],
                        [
                            f"Render: at most {MAX_OPEN_PORTS} open ports per service",
                            DOCS.private_network,
                        ],
                    )
                )
        if service.kind.is_datastore and service.ip_allow_list:
            anywhere = sorted(set(service.ip_allow_list) & ANYWHERE)
            if anywhere:
                out.append(
                    (
                        "public-database",
                        f"{service.name} accepts connections from anywhere ({', '.join(anywhere)})",
                        [
                            "ipAllowList: []   # internal connections only (its region's services)",
                            "or list the callers outside the platform: ipAllowList: "
                            "[{source: 203.0.113.4/32, description: office}]",
                        ],
                        [
                            f"{service.name}'s IP allow list: {', '.join(service.ip_allow_list)}",
                            "the password is then all that stands between the internet and "
                            "the data",
                            DOCS.config,
                        ],
                    )
                )
        return out

    def reference_problem(
        self,
        workspace: Workspace,
        source: Service | None,
        address: Address,
        service: Service | None,
    ) -> Problem | None:
        """A Blueprint reference that names a service of another type: it does not resolve."""
        del workspace, source
        reference = address.reference
        if service is None:
            return None
        if not reference or reference.startswith("${{"):
            return None
        m = re.search(r"type: (\w+)", reference)
        wanted = "postgres" if reference.startswith("fromDatabase") else (m[1] if m else None)
        if wanted == "redis":
            wanted = "keyvalue"
        if wanted is None or wanted == service.kind.value:
            return None
        snippet = blueprint_snippet(service)
        return (
            "unknown-host",
            f"{reference} names {service.name}, a {service.type.label}, not a {wanted}: "
            "the reference does not resolve",
            [f"in render.yaml: {snippet}"] if snippet else [],
            [DOCS.config],
        )

    def host_note(self) -> str:
        return "Render's internal hostnames are slugs (name plus a 4-character suffix)"

    def unknown_slug_fix(self, service: Service) -> str:
        return (
            f"the suffix of a Render slug is assigned at creation: copy {service.name}'s "
            "address from its Connect → Internal tab"
        )

    def location_note(self, service: Service) -> str:
        if service.region:
            return service.region
        return "not known (Render does not tell an instance; a render.yaml or an API key does)"

    # ---- screens -----------------------------------------------------------------------------
    def connect_tabs(
        self, workspace: Workspace, service: Service, *, reveal: bool = False
    ) -> list[ConnectTab]:
        from pnet.platforms.render_connect import connect_tabs

        del workspace
        return connect_tabs(service, reveal)


ADAPTER = Render()

__all__ = [
    "ADAPTER",
    "ANYWHERE",
    "DEFAULT_PLAN",
    "DEFAULT_PORT",
    "DEFAULT_REGION",
    "DOCS",
    "DOCUMENTED_RESERVED_PORTS",
    "KEYVALUE_ID",
    "KEYVALUE_PORT",
    "MAX_OPEN_PORTS",
    "POSTGRES_ID",
    "POSTGRES_PORT",
    "PUBLIC_KEYVALUE",
    "PUBLIC_POSTGRES",
    "PUBLIC_SUFFIXES",
    "PUBLIC_WEB",
    "REGIONS",
    "RESERVED_PORTS",
    "SERVICE_ID",
    "SLUG",
    "Render",
    "allow_list_lines",
    "blueprint_snippet",
    "is_public_host",
    "service_type",
    "slug_prefix",
]
