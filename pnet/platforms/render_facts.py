"""Render's facts (research/PLATFORMS.md section 1): regions, plans, ports, names and service
types, as its docs and API state them. The adapter (`render.py`) reasons with them."""

from __future__ import annotations

import re

from pnet.model import Kind, Service, ServiceType
from pnet.platforms.base import Docs

REGIONS = ("oregon", "ohio", "virginia", "frankfurt", "singapore")
DEFAULT_REGION = "oregon"
DEFAULT_PLAN = "starter"
RESERVED_PORTS = frozenset({18012, 18013, 19099})
DOCUMENTED_RESERVED_PORTS = frozenset({10000, 18012, 18013, 19099})
MAX_OPEN_PORTS = 75
DEFAULT_PORT = 10000
POSTGRES_PORT = 5432
KEYVALUE_PORT = 6379

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*-[a-z0-9]{4}$")
POSTGRES_ID = re.compile(r"^dpg-[a-z0-9]{20}(-[a-z]+)?$")
KEYVALUE_ID = re.compile(r"^red-[a-z0-9]{20}$")
SERVICE_ID = re.compile(r"^(srv|crn)-[a-z0-9]{20}$")

PUBLIC_WEB = re.compile(r"^(?P<slug>[a-z0-9-]+)\.onrender\.com$")
PUBLIC_POSTGRES = re.compile(
    r"^(?P<id>dpg-[a-z0-9]+(-[a-z]+)?)\.(?P<region>[a-z]+)-postgres\.render\.com$"
)
PUBLIC_KEYVALUE = re.compile(r"^(?P<region>[a-z]+)-(keyvalue|redis)\.render\.com$")
PUBLIC_SUFFIXES = (
    ".onrender.com",
    "-postgres.render.com",
    "-keyvalue.render.com",
    "-redis.render.com",
)
ANYWHERE = frozenset({"0.0.0.0/0", "::/0", "0.0.0.0", "*"})

DOCS = Docs(
    plain_traffic="https://render.com/docs/private-network",
    ports="https://render.com/docs/private-network",
    private_network="https://render.com/docs/private-network",
    public_urls="https://render.com/docs/private-network",
    scope="https://render.com/docs/regions",
    port_binding="https://render.com/docs/web-services#port-binding",
    variables="https://render.com/docs/environment-variables",
    config="https://render.com/docs/blueprint-spec",
    free="https://render.com/docs/free",
    private_services="https://render.com/docs/private-services",
    key_value="https://render.com/docs/key-value",
    postgres="https://render.com/docs/postgresql-creating-connecting",
)

_NOT_RECEIVING = {
    Kind.WORKER: "a background worker has no internal address and cannot receive private traffic",
    Kind.CRON: "a cron job has no internal address and cannot receive private traffic",
    Kind.STATIC: "a static site is served from a CDN and is not on the private network",
}
_INSTEAD = "make it a private service (type: pserv) or a paid web service that binds a port"


def service_type(kind: Kind, plan: str | None) -> ServiceType:
    free = (plan or "").lower() == "free"
    common = {"scope": "region", "discovery_suffix": "-discovery"}
    if kind is Kind.WEB and free:
        return ServiceType(
            kind,
            "web service (free)",
            sends=True,
            receives=False,
            has_internal_address=False,
            has_discovery=False,
            has_public_url=True,
            ssh=False,
            why_not_receiving="a free web service cannot receive private network traffic",
            instead="upgrade it to a paid instance type (starter or above)",
            **common,
        )
    if kind is Kind.WEB:
        return ServiceType(kind, "web service", True, True, True, True, True, True, **common)
    if kind is Kind.PSERV:
        return ServiceType(kind, "private service", True, True, True, True, False, True, **common)
    if kind in (Kind.WORKER, Kind.CRON, Kind.STATIC):
        label = {Kind.WORKER: "background worker", Kind.CRON: "cron job"}.get(kind, "static site")
        return ServiceType(
            kind,
            label,
            sends=kind is not Kind.STATIC,
            receives=False,
            has_internal_address=False,
            has_discovery=False,
            has_public_url=kind is Kind.STATIC,
            ssh=kind is Kind.WORKER,
            why_not_receiving=_NOT_RECEIVING[kind],
            instead=_INSTEAD,
            **common,
        )
    label = "postgres" if kind is Kind.POSTGRES else "key value"
    return ServiceType(kind, label, False, True, True, False, True, False, **common)


def is_public_host(host: str) -> bool:
    return host.lower().rstrip(".").endswith(PUBLIC_SUFFIXES)


def slug_prefix(host: str) -> str | None:
    """`api-x7f2` -> `api`: the service name part of a Render slug, if it has a hash."""
    m = re.match(r"^(?P<name>.+)-[a-z0-9]{4}$", host)
    return m.group("name") if m else None


def blueprint_snippet(svc: Service) -> str | None:
    if svc.kind is Kind.POSTGRES:
        return f"fromDatabase: {{name: {svc.ref_name}, property: connectionString}}"
    if svc.kind is Kind.KEYVALUE:
        return f"fromService: {{name: {svc.name}, type: keyvalue, property: connectionString}}"
    if svc.kind in (Kind.WEB, Kind.PSERV):
        return f"fromService: {{name: {svc.name}, type: {svc.kind.value}, property: hostport}}"
    return None


def client_scheme(service: Service) -> str | None:
    """The URL scheme a client uses for the service (None: it receives no traffic)."""
    if service.kind is Kind.POSTGRES:
        return "postgresql"
    if service.kind is Kind.KEYVALUE:
        return "redis"
    if service.kind in (Kind.WEB, Kind.PSERV):
        return "http"
    return None


def allow_list_lines(source: Service, service: Service) -> list[str]:
    """What the service's IP allow list means for a caller from `source` on its external URL."""
    allow = service.ip_allow_list
    if allow is not None and not allow:
        return [
            f"{service.name}'s IP allow list is empty, so its external URL refuses every caller: "
            f"add {source.name}'s outbound IPs (its Connect → Outbound tab) to {service.name}'s "
            "allow list (ipAllowList in render.yaml)"
        ]
    if allow and not (set(allow) & ANYWHERE):
        return [
            f"{service.name}'s IP allow list admits {', '.join(allow)} only: add {source.name}'s "
            "outbound IPs (its Connect → Outbound tab)"
        ]
    return []
