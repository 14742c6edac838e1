"""Railway's Connect view (research/PLATFORMS.md 2.1, 2.3): the private domain, the reference
variables and the public domain of each service."""

from __future__ import annotations

from pnet.model import Kind, Network, Service, Workspace
from pnet.platforms.connect import (
    ConnectField,
    ConnectTab,
    not_receiving_note,
    password_field,
    password_or_placeholder,
    secret_field,
)
from pnet.platforms.railway_refs import POSTGRES_PORT, REDIS_PORT


def connect_tabs(
    workspace: Workspace, service: Service, network: Network, reveal: bool = False
) -> list[ConnectTab]:
    """The Connect tabs of one Railway service."""
    return _railway(workspace, service, network, reveal)


def _family_note(service: Service, network: Network) -> str:
    legacy = network is Network.IPV6_ONLY
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


def _railway(
    workspace: Workspace, service: Service, network: Network, reveal: bool
) -> list[ConnectTab]:
    name = service.name
    host = service.host or f"{name.lower()}.railway.internal"
    env = service.environment or "production"
    scope = f"services in {env} of {workspace.project or workspace.name}"
    if service.kind in (Kind.POSTGRES, Kind.KEYVALUE):
        return _railway_datastore(service, network, host, scope, reveal)
    tabs: list[ConnectTab] = []
    if not service.type.receives:
        tabs.append(ConnectTab("Internal", [], not_receiving_note(service)))
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
            f"the service listens on. {_family_note(service, network)}"
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
    service: Service, network: Network, host: str, scope: str, reveal: bool
) -> list[ConnectTab]:
    name = service.name
    pw = password_or_placeholder(service)
    if service.kind is Kind.POSTGRES:
        user = service.user or "postgres"
        db = service.database or "railway"
        port = POSTGRES_PORT
        url = f"postgresql://{user}:{pw}@{host}:{port}/{db}"
        var, public_var = "DATABASE_URL", "DATABASE_PUBLIC_URL"
        fields = [
            ConnectField("PGHOST", host),
            ConnectField("PGPORT", str(port)),
            ConnectField("PGDATABASE", db),
            ConnectField("PGUSER", user),
            password_field(service, reveal),
        ]
    else:
        user = "default"
        port = REDIS_PORT
        url = f"redis://{user}:{pw}@{host}:{port}"
        var, public_var = "REDIS_URL", "REDIS_PUBLIC_URL"
        fields = [
            ConnectField("REDISHOST", host),
            ConnectField("REDISPORT", str(port)),
            ConnectField("REDISUSER", user),
            password_field(service, reveal),
        ]
    fields.append(secret_field(var, url, reveal))
    fields.append(ConnectField("Reference Variable", f"${{{{{name}.{var}}}}}"))
    note = f"Reachable from {scope} only. {_family_note(service, network)}"
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
