"""Mapping a host to the service it names, and telling private addresses from the rest."""

from __future__ import annotations

import ipaddress

from pnet import platforms
from pnet.model import Service, Workspace


def _pick(candidates: list[Service], source: Service | None) -> Service | None:
    if not candidates:
        return None
    if source is not None:
        for svc in candidates:
            if svc.location == source.location:
                return svc
    return candidates[0]


def services_named(workspace: Workspace, name: str) -> list[Service]:
    """The services called `name` (case-insensitive; Railway allows one per environment)."""
    return list(platforms.index(workspace).by_name.get(name.lower(), []))


def map_host(
    workspace: Workspace,
    host: str,
    *,
    source: Service | None = None,
    scheme: str | None = None,
    user: str | None = None,
) -> tuple[Service | None, str]:
    """The service a host names, and how it was recognised."""
    h = host.lower().rstrip(".")
    if not h:
        return None, "unresolved"
    ix = platforms.index(workspace)
    exact = ix.by_host.get(h)
    if exact:
        return _pick(exact, source), "exact-host"
    if h in ix.by_discovery:
        return ix.by_discovery[h], "discovery"
    found = platforms.of(workspace).map_host(ix, h, source=source, scheme=scheme, user=user)
    if found[0] is not None:
        return found
    if h in ix.by_id:
        return ix.by_id[h], "database-id"
    if h in ix.by_public:
        return ix.by_public[h], "public-url"
    by_name = ix.by_name.get(h)
    if by_name:
        return _pick(by_name, source), "name"
    return None, "unresolved"


def private_ip(host: str) -> bool:
    """An IP address of a private range (RFC 1918, CGNAT, IPv6 ULA)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 4:
        return ip in _V4_PRIVATE_NETS or any(ip in n for n in _V4_PRIVATE)
    return ip in _V6_ULA


_V4_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
_V4_PRIVATE_NETS = ipaddress.ip_network("100.64.0.0/10")
_V6_ULA = ipaddress.ip_network("fc00::/7")


def is_private_host(workspace: Workspace, host: str) -> bool:
    """Whether a host is an address of the platform's private network (not public, not external)."""
    h = host.lower().rstrip(".")
    if any(a.is_private_name(h) for a in platforms.ADAPTERS.values()):
        return True
    if private_ip(h):
        return True
    if platforms.is_public_host(h):
        return False
    svc, how = map_host(workspace, h)
    if svc is not None and how in ("exact-host", "slug", "discovery", "name", "database-id"):
        return True
    return platforms.of(workspace).could_be_private(h)


def looks_internal(workspace: Workspace, host: str) -> bool:
    """Whether a value with no scheme names a host of the platform: a known host, a private
    name of a platform, a platform public host, a private IP."""
    h = host.lower()
    if platforms.is_public_host(h) or any(
        a.is_private_name(h) for a in platforms.ADAPTERS.values()
    ):
        return True
    svc, _ = map_host(workspace, h)
    return svc is not None or private_ip(h)
