"""Render's private-network rules (research/PLATFORMS.md section 1)."""

from __future__ import annotations

import re

from pnet.model import Kind, ServiceType

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

_NOT_RECEIVING = {
    Kind.WORKER: "a background worker has no internal address and cannot receive private traffic",
    Kind.CRON: "a cron job has no internal address and cannot receive private traffic",
    Kind.STATIC: "a static site is served from a CDN and is not on the private network",
}
_INSTEAD = "make it a private service (type: pserv) or a paid web service that binds a port"


def service_type(kind: Kind, plan: str | None) -> ServiceType:
    free = (plan or "").lower() == "free"
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
        )
    if kind is Kind.WEB:
        return ServiceType(kind, "web service", True, True, True, True, True, True)
    if kind is Kind.PSERV:
        return ServiceType(kind, "private service", True, True, True, True, False, True)
    if kind is Kind.WORKER:
        return ServiceType(
            kind,
            "background worker",
            True,
            False,
            False,
            False,
            False,
            True,
            _NOT_RECEIVING[kind],
            _INSTEAD,
        )
    if kind is Kind.CRON:
        return ServiceType(
            kind,
            "cron job",
            True,
            False,
            False,
            False,
            False,
            False,
            _NOT_RECEIVING[kind],
            _INSTEAD,
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
            _NOT_RECEIVING[kind],
            _INSTEAD,
        )
    if kind is Kind.POSTGRES:
        return ServiceType(kind, "postgres", False, True, True, False, True, False)
    return ServiceType(kind, "key value", False, True, True, False, True, False)


def is_public_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host.endswith(PUBLIC_SUFFIXES)


def slug_prefix(host: str) -> str | None:
    """`api-x7f2` -> `api`: the service name part of a Render slug, if it has a hash."""
    m = re.match(r"^(?P<name>.+)-[a-z0-9]{4}$", host)
    return m.group("name") if m else None
