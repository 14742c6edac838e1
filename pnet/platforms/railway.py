"""Railway's private-network rules (research/PLATFORMS.md section 2)."""

from __future__ import annotations

import re

from pnet.model import Kind, ServiceType

INTERNAL_SUFFIX = ".railway.internal"
PUBLIC_SUFFIXES = (".up.railway.app", ".proxy.rlwy.net")
RESERVED_ENDPOINT_NAMES = frozenset({"health", "internal", "internal-health", "railway", "up"})
REGIONS = ("us-west2", "us-east4-eqdc4a", "europe-west4-drams3a", "asia-southeast1-eqsg3a")
LEGACY_CUTOFF = "2025-10-16"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
PUBLIC_DOMAIN = re.compile(r"^(?P<name>[a-z0-9-]+)\.up\.railway\.app$")
TCP_PROXY = re.compile(r"^[a-z0-9-]+\.proxy\.rlwy\.net$")


def service_type(kind: Kind, plan: str | None) -> ServiceType:
    del plan
    if kind is Kind.WEB:
        return ServiceType(kind, "service (public domain)", True, True, True, True, True, True)
    if kind is Kind.PSERV:
        return ServiceType(kind, "service (private)", True, True, True, True, False, True)
    if kind is Kind.WORKER:
        return ServiceType(kind, "service (no port)", True, True, True, True, False, True)
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
        )
    if kind is Kind.POSTGRES:
        return ServiceType(kind, "postgres", False, True, True, True, True, False)
    return ServiceType(kind, "redis", False, True, True, True, True, False)


def default_host(name: str) -> str:
    return f"{name.lower()}{INTERNAL_SUFFIX}"


def is_internal_host(host: str) -> bool:
    return host.lower().rstrip(".").endswith(INTERNAL_SUFFIX)


def is_public_host(host: str) -> bool:
    return host.lower().rstrip(".").endswith(PUBLIC_SUFFIXES)
