"""Render's Connect tabs (research/PLATFORMS.md 1.2, 1.3): what its dashboard shows per service.

Web and private services: Internal (the `<slug>:<port>` address, the URL with the scheme a client
needs, the discovery host), External (web only) and SSH. Postgres: its connection fields, the
Internal and External Database URLs and the PSQL command. Key Value: its Internal and External
URLs and the CLI command.
"""

from __future__ import annotations

from pnet.model import Kind, Service
from pnet.platforms import render_facts as render
from pnet.platforms.connect import (
    ConnectField,
    ConnectTab,
    not_receiving_note,
    password_field,
    password_or_placeholder,
    secret_field,
)
from pnet.secrets import MASK

EXTERNAL_NOT_ALLOWED = "External traffic not allowed. Add IP addresses in the Networking section."


def connect_tabs(service: Service, reveal: bool = False) -> list[ConnectTab]:
    """The Connect tabs of one Render service, in the dashboard's order."""
    kind = service.kind
    if kind is Kind.POSTGRES:
        return _postgres(service, reveal)
    if kind is Kind.KEYVALUE:
        return _keyvalue(service, reveal)
    tabs = [_internal(service)]
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
        tabs.append(_ssh(service))
    return tabs


def _internal(service: Service) -> ConnectTab:
    if not (service.type.receives and service.type.has_internal_address):
        return ConnectTab("Internal", [], not_receiving_note(service))
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
    if not service.ports_known:
        note += (
            f" Port {port} is assumed (Render's default PORT): the service's open ports, in its "
            'deploy log ("Detected a new open port") or the dashboard, say where it listens.'
        )
    return ConnectTab("Internal", fields, note)


def _ssh(service: Service) -> ConnectTab:
    region = service.region or "<region>"
    if service.id and service.region:
        return ConnectTab(
            "SSH",
            [
                ConnectField("SSH Address", f"{service.id}@ssh.{region}.render.com"),
                ConnectField("SSH Command", f"ssh {service.id}@ssh.{region}.render.com"),
            ],
            "Add an SSH key to your account first. A specific instance is "
            f"{service.id}-<instance>@ssh.{region}.render.com.",
        )
    who = service.id or "srv-<service id>"
    return ConnectTab(
        "SSH",
        [ConnectField("SSH Address", f"{who}@ssh.{region}.render.com", copyable=False)],
        "The service ID (srv-…) and its region are in the dashboard, in this service's "
        "Connect → SSH; `render ssh` finds it by name.",
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


def _postgres(service: Service, reveal: bool) -> list[ConnectTab]:
    host = service.host if service.host and service.host_known else "dpg-<id>-a"
    region = service.region or render.DEFAULT_REGION
    db = service.database or "DATABASE"
    user = service.user or "USER"
    pw = password_or_placeholder(service)
    internal = [
        ConnectField("Hostname", host),
        ConnectField("Port", str(render.POSTGRES_PORT)),
        ConnectField("Database", db),
        ConnectField("Username", user),
        password_field(service, reveal),
        secret_field("Internal Database URL", f"postgresql://{user}:{pw}@{host}/{db}", reveal),
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
            secret_field(
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


def _keyvalue(service: Service, reveal: bool) -> list[ConnectTab]:
    host = service.host if service.host and service.host_known else "red-<id>"
    region = service.region or render.DEFAULT_REGION
    pw = password_or_placeholder(service)
    port = render.KEYVALUE_PORT
    if service.internal_auth:
        url = secret_field("Internal Key Value URL", f"redis://default:{pw}@{host}:{port}", reveal)
        note = "Internal authentication is on: the URL carries default:PASSWORD@."
    else:
        url = ConnectField("Internal Key Value URL", f"redis://{host}:{port}")
        note = "Internal connections are unauthenticated (internal authentication is off)."
    internal = [ConnectField("Hostname", host), ConnectField("Port", str(port)), url]
    if service.password is not None:
        internal.append(password_field(service, reveal))
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
            secret_field(
                "External Key Value URL", f"rediss://{host}:{pw}@{ext_host}:{port}", reveal
            ),
            ConnectField(
                "Valkey CLI Command",
                f"REDISCLI_AUTH={shown} valkey-cli --user {host} -h {ext_host} -p {port} --tls",
                secret=True,
            ),
        ]
    tabs.append(ConnectTab("External", external, _external_note(service)))
    return tabs
