"""What a platform's dashboard shows under Connect, built from the model.

Render (research/PLATFORMS.md 1.2, 1.3): web and private services get Internal (the `<slug>:<port>`
address, the URL with the scheme a client needs, the discovery host), External (web only) and SSH;
Postgres gets its connection fields, the Internal and External Database URLs and the PSQL command;
Key Value its Internal and External URLs and the CLI command. Railway (2.1, 2.3): the private
domain, the reference variables and the public domain.

Secrets are masked unless `reveal` is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pnet.model import Kind, Network, Platform, Service, Workspace
from pnet.platforms import railway, render
from pnet.secrets import MASK, mask_text

EXTERNAL_NOT_ALLOWED = "External traffic not allowed. Add IP addresses in the Networking section."
PASSWORD_PLACEHOLDER = "PASSWORD"


@dataclass(frozen=True)
class ConnectField:
    label: str
    value: str
    copyable: bool = True
    secret: bool = False


@dataclass(frozen=True)
class ConnectTab:
    name: str
    fields: list[ConnectField] = field(default_factory=list)
    note: str = ""

    def field(self, label: str) -> ConnectField | None:
        for f in self.fields:
            if f.label == label:
                return f
        return None


def connect_tabs(
    workspace: Workspace, service: Service, *, reveal: bool = False
) -> list[ConnectTab]:
    """The Connect tabs of one service, in the dashboard's order."""
    if service.platform is Platform.RAILWAY:
        return _railway(workspace, service, reveal)
    return _render(service, reveal)


def all_fields(tabs: list[ConnectTab]) -> list[tuple[str, ConnectField]]:
    return [(tab.name, f) for tab in tabs for f in tab.fields]


def _secret(label: str, value: str, reveal: bool) -> ConnectField:
    masked = mask_text(value)
    return ConnectField(label, value if reveal else masked, copyable=True, secret=masked != value)


def _password(service: Service, reveal: bool) -> ConnectField:
    if service.password is None:
        return ConnectField("Password", "shown in the dashboard", copyable=False)
    return ConnectField("Password", service.password if reveal else MASK, secret=True)


def _pw(service: Service) -> str:
    return service.password if service.password is not None else PASSWORD_PLACEHOLDER


def _not_receiving(service: Service) -> str:
    why = service.type.why_not_receiving or f"a {service.type.label} has no internal address"
    text = f"{why}."
    if service.type.instead:
        text += f" To receive private traffic, {service.type.instead}."
    return text[0].upper() + text[1:]


def _scheme_for(service: Service) -> str:
    if service.kind is Kind.POSTGRES:
        return "postgresql"
    if service.kind is Kind.KEYVALUE:
        return "redis"
    return "http"


# ---- Render ----------------------------------------------------------------------------


def _render(service: Service, reveal: bool) -> list[ConnectTab]:
    kind = service.kind
    if kind is Kind.POSTGRES:
        return _render_postgres(service, reveal)
    if kind is Kind.KEYVALUE:
        return _render_keyvalue(service, reveal)
    tabs = [_render_internal(service)]
    if service.type.has_public_url:
        url = service.public_url or (f"https://{service.host}.onrender.com" if service.host else "")
        if url:
            tabs.append(
                ConnectTab(
                    "External",
                    [ConnectField("External URL", url)],
                    "Reachable from the internet over HTTPS. From a service in the same region "
                    "use the internal address instead: it stays on the private network."
                    if service.type.receives
                    else "Reachable from the internet over HTTPS: the only way other services "
                    "reach it.",
                )
            )
    if service.type.ssh:
        tabs.append(_render_ssh(service))
    return tabs


def _render_internal(service: Service) -> ConnectTab:
    if not (service.type.receives and service.type.has_internal_address):
        return ConnectTab("Internal", [], _not_receiving(service))
    if not service.host:
        return ConnectTab("Internal", [], "The internal hostname is assigned at creation.")
    fields: list[ConnectField] = []
    label = "Service Address" if service.kind is Kind.PSERV else "Internal Address"
    port = service.default_port or render.DEFAULT_PORT
    fields.append(ConnectField(label, f"{service.host}:{port}"))
    fields.append(ConnectField("Internal URL", f"http://{service.host}:{port}"))
    if service.health_path:
        fields.append(
            ConnectField("Health Check", f"http://{service.host}:{port}{service.health_path}")
        )
    if len(service.ports) > 1:
        shown = ", ".join(str(p) for p in service.ports[:8])
        more = f" (+{len(service.ports) - 8} more)" if len(service.ports) > 8 else ""
        fields.append(ConnectField("Open Ports", f"{shown}{more}", copyable=False))
    if service.discovery_host:
        fields.append(ConnectField("Discovery Host", service.discovery_host))
    note = (
        f"Reachable from services in {service.region or 'its region'} on the private network. "
        "Private traffic is plain: use http://, not https://."
    )
    if not service.host_known:
        note += " The slug's hash is assigned at creation: check it in the dashboard."
    return ConnectTab("Internal", fields, note)


def _render_ssh(service: Service) -> ConnectTab:
    region = service.region or render.DEFAULT_REGION
    if service.id:
        return ConnectTab(
            "SSH",
            [
                ConnectField("SSH Address", f"{service.id}@ssh.{region}.render.com"),
                ConnectField("SSH Command", f"ssh {service.id}@ssh.{region}.render.com"),
            ],
            "Add an SSH key to your account first. A specific instance is "
            f"{service.id}-<instance>@ssh.{region}.render.com.",
        )
    return ConnectTab(
        "SSH",
        [ConnectField("SSH Address", f"srv-<service id>@ssh.{region}.render.com", copyable=False)],
        "The service ID (srv-…) is shown in the dashboard; the source does not say it.",
    )


def _external_note(service: Service) -> str:
    allow = service.ip_allow_list
    if allow is not None and len(allow) == 0:
        return EXTERNAL_NOT_ALLOWED
    if allow and any(a in ("0.0.0.0/0", "::/0") for a in allow):
        return "Open to every IP address (0.0.0.0/0): restrict the IP allow list."
    if allow:
        return "Allowed from: " + ", ".join(allow)
    return "Connections from outside Render use TLS."


def _external_blocked(service: Service) -> bool:
    return service.ip_allow_list is not None and len(service.ip_allow_list) == 0


ASSIGNED_AT_CREATION = " The hostname ({host}) is assigned at creation: see the dashboard."


def _render_postgres(service: Service, reveal: bool) -> list[ConnectTab]:
    host = service.host if service.host and service.host_known else "dpg-<id>-a"
    region = service.region or render.DEFAULT_REGION
    db = service.database or "DATABASE"
    user = service.user or "USER"
    pw = _pw(service)
    internal = [
        ConnectField("Hostname", host),
        ConnectField("Port", str(render.POSTGRES_PORT)),
        ConnectField("Database", db),
        ConnectField("Username", user),
        _password(service, reveal),
        _secret("Internal Database URL", f"postgresql://{user}:{pw}@{host}/{db}", reveal),
    ]
    note = f"From services in {region}: the port may be omitted (5432). Plain or TLS both work."
    if host != service.host:
        note += ASSIGNED_AT_CREATION.format(host=host)
    tabs = [ConnectTab("Internal", internal, note)]
    ext_host = f"{host}.{region}-postgres.render.com"
    if _external_blocked(service):
        external = [
            ConnectField("External Database URL", EXTERNAL_NOT_ALLOWED, copyable=False),
            ConnectField("PSQL Command", EXTERNAL_NOT_ALLOWED, copyable=False),
        ]
    else:
        external = [
            _secret(
                "External Database URL",
                f"postgresql://{user}:{pw}@{ext_host}:{render.POSTGRES_PORT}/{db}",
                reveal,
            ),
            _psql(pw, ext_host, user, db, reveal),
        ]
    tabs.append(ConnectTab("External", external, _external_note(service)))
    return tabs


def _psql(pw: str, host: str, user: str, db: str, reveal: bool) -> ConnectField:
    shown = pw if reveal else MASK
    value = f"PGPASSWORD={shown} psql -h {host} -p {render.POSTGRES_PORT} -U {user} {db}"
    return ConnectField("PSQL Command", value, secret=True)


def internal_auth(service: Service) -> bool:
    """Whether the Key Value instance asks for credentials on its internal URL."""
    return service.internal_auth


def _render_keyvalue(service: Service, reveal: bool) -> list[ConnectTab]:
    host = service.host if service.host and service.host_known else "red-<id>"
    region = service.region or render.DEFAULT_REGION
    pw = _pw(service)
    port = render.KEYVALUE_PORT
    if internal_auth(service):
        url = _secret("Internal Key Value URL", f"redis://default:{pw}@{host}:{port}", reveal)
        note = "Internal authentication is on: the URL carries default:PASSWORD@."
    else:
        url = ConnectField("Internal Key Value URL", f"redis://{host}:{port}")
        note = "Internal connections are unauthenticated (internal authentication is off)."
    internal = [ConnectField("Hostname", host), ConnectField("Port", str(port)), url]
    if service.password is not None:
        internal.append(_password(service, reveal))
    if host != service.host:
        note += ASSIGNED_AT_CREATION.format(host=host)
    tabs = [ConnectTab("Internal", internal, f"From services in {region}. {note}")]
    ext_host = f"{region}-keyvalue.render.com"
    if _external_blocked(service):
        external = [
            ConnectField("External Key Value URL", EXTERNAL_NOT_ALLOWED, copyable=False),
            ConnectField("Valkey CLI Command", EXTERNAL_NOT_ALLOWED, copyable=False),
        ]
    else:
        shown = pw if reveal else MASK
        external = [
            _secret("External Key Value URL", f"rediss://{host}:{pw}@{ext_host}:{port}", reveal),
            ConnectField(
                "Valkey CLI Command",
                f"REDISCLI_AUTH={shown} valkey-cli --user {host} -h {ext_host} -p {port} --tls",
                secret=True,
            ),
        ]
    tabs.append(ConnectTab("External", external, _external_note(service)))
    return tabs


# ---- Railway ---------------------------------------------------------------------------


def _family_note(workspace: Workspace, service: Service) -> str:
    legacy = workspace.network_of(service) is Network.IPV6_ONLY
    if service.kind.is_datastore:
        if legacy:
            return (
                f"{service.environment} is a legacy IPv6-only network: clients that look up "
                "A records only (ioredis < 5.8.2, bullmq: add ?family=0) fail with ENOTFOUND."
            )
        return "The name resolves to IPv4 and IPv6."
    if legacy:
        return (
            f"{service.environment or 'This environment'} is a legacy IPv6-only network: "
            "the service must listen on `::`, and clients that look up A records only "
            "(ioredis < 5.8.2: add ?family=0) fail with ENOTFOUND."
        )
    return "The name resolves to IPv4 and IPv6: listen on `::` (or 0.0.0.0 and ::) to serve both."


def _railway(workspace: Workspace, service: Service, reveal: bool) -> list[ConnectTab]:
    name = service.name
    host = service.host or railway.default_host(name)
    env = service.environment or "production"
    scope = f"services in {env} of {workspace.project or workspace.name}"
    if service.kind in (Kind.POSTGRES, Kind.KEYVALUE):
        return _railway_datastore(workspace, service, host, scope, reveal)
    tabs: list[ConnectTab] = []
    if not service.type.receives:
        tabs.append(ConnectTab("Internal", [], _not_receiving(service)))
    else:
        port = service.default_port
        fields = [
            ConnectField("Private Domain", host),
            ConnectField("Reference Variable", f"${{{{{name}.RAILWAY_PRIVATE_DOMAIN}}}}"),
        ]
        if port:
            fields.insert(1, ConnectField("Private URL", f"http://{host}:{port}"))
        fields.append(
            ConnectField(
                "Reference URL",
                f"http://${{{{{name}.RAILWAY_PRIVATE_DOMAIN}}}}:${{{{{name}.PORT}}}}",
            )
        )
        note = (
            f"Reachable from {scope} only, over plain http:// (no TLS internally). "
            f"`{name}.PORT` must be set on {name} by hand: it does not follow the port "
            f"the service listens on. {_family_note(workspace, service)}"
        )
        tabs.append(ConnectTab("Internal", fields, note))
    if service.type.has_public_url:
        if service.public_url:
            tabs.append(
                ConnectTab(
                    "External",
                    [
                        ConnectField("Public Domain", service.public_url),
                        ConnectField(
                            "Reference Variable",
                            f"https://${{{{{name}.RAILWAY_PUBLIC_DOMAIN}}}}",
                        ),
                    ],
                    "Public traffic goes through Railway's edge (billed as egress). From "
                    f"{scope}, use the private domain.",
                )
            )
        else:
            tabs.append(
                ConnectTab("External", [], "No public domain: generate one in the Networking tab.")
            )
    if service.type.ssh:
        tabs.append(
            ConnectTab(
                "SSH",
                [ConnectField("SSH Command", f"railway ssh --service {name} --environment {env}")],
                "Needs a registered key: railway ssh keys add.",
            )
        )
    return tabs


def _railway_datastore(
    workspace: Workspace, service: Service, host: str, scope: str, reveal: bool
) -> list[ConnectTab]:
    name = service.name
    pw = _pw(service)
    if service.kind is Kind.POSTGRES:
        user = service.user or "postgres"
        db = service.database or "railway"
        port = railway.POSTGRES_PORT
        url = f"postgresql://{user}:{pw}@{host}:{port}/{db}"
        var, public_var = "DATABASE_URL", "DATABASE_PUBLIC_URL"
        fields = [
            ConnectField("PGHOST", host),
            ConnectField("PGPORT", str(port)),
            ConnectField("PGDATABASE", db),
            ConnectField("PGUSER", user),
            _password(service, reveal),
        ]
    else:
        user = "default"
        port = railway.REDIS_PORT
        url = f"redis://{user}:{pw}@{host}:{port}"
        var, public_var = "REDIS_URL", "REDIS_PUBLIC_URL"
        fields = [
            ConnectField("REDISHOST", host),
            ConnectField("REDISPORT", str(port)),
            ConnectField("REDISUSER", user),
            _password(service, reveal),
        ]
    fields.append(_secret(var, url, reveal))
    fields.append(ConnectField("Reference Variable", f"${{{{{name}.{var}}}}}"))
    note = f"Reachable from {scope} only. {_family_note(workspace, service)}"
    tabs = [ConnectTab("Internal", fields, note)]
    tabs.append(
        ConnectTab(
            "External",
            [ConnectField("Reference Variable", f"${{{{{name}.{public_var}}}}}")],
            f"{public_var} exists once public networking (a TCP proxy, *.proxy.rlwy.net) is "
            "turned on; traffic through it is billed as egress.",
        )
    )
    return tabs


def scheme_for(service: Service) -> str:
    """The URL scheme a client of this service needs on the private network."""
    return _scheme_for(service)
