"""The platform adapters: the only code that knows a platform (see `base.Adapter`).

`adapter(platform)` gives a platform's adapter, `of(workspace)` the workspace's; `index(workspace)`
the host, name and id lookups that map an address to a service.
"""

from __future__ import annotations

import weakref

from pnet.model import Kind, Platform, Service, ServiceType, Workspace
from pnet.platforms import railway, render
from pnet.platforms.base import Adapter, Docs, HostIndex, Separation
from pnet.platforms.connect import ConnectField, ConnectTab, all_fields

ADAPTERS: dict[Platform, Adapter] = {
    render.ADAPTER.platform: render.ADAPTER,
    railway.ADAPTER.platform: railway.ADAPTER,
}


def adapter(platform: Platform) -> Adapter:
    return ADAPTERS[platform]


def of(workspace: Workspace) -> Adapter:
    return ADAPTERS[workspace.platform]


def service_type(platform: Platform, kind: Kind, plan: str | None) -> ServiceType:
    return ADAPTERS[platform].service_type(kind, plan)


def connect_tabs(
    workspace: Workspace, service: Service, *, reveal: bool = False
) -> list[ConnectTab]:
    """What the platform's dashboard shows under Connect for a service."""
    return adapter(service.platform).connect_tabs(workspace, service, reveal=reveal)


def is_public_host(host: str) -> bool:
    """A name of any platform's public edge."""
    return any(a.is_public_host(host) for a in ADAPTERS.values())


def separation(workspace: Workspace, a: Service, b: Service) -> Separation | None:
    """None when `a` and `b` share a private network their platform lets them use."""
    return of(workspace).separation(workspace, a, b)


_INDEXES: dict[int, tuple[weakref.ref[Workspace], HostIndex]] = {}


def index(workspace: Workspace) -> HostIndex:
    """The workspace's lookups by host, discovery name, name, id, public host and kind."""
    key = id(workspace)
    hit = _INDEXES.get(key)
    if hit is not None and hit[0]() is workspace:
        return hit[1]
    built = HostIndex({}, {}, {}, {}, {}, {})
    for svc in workspace.services:
        if svc.host:
            built.by_host.setdefault(svc.host.lower(), []).append(svc)
        disc = svc.discovery_host
        if disc and disc != svc.host:
            built.by_discovery.setdefault(disc.lower(), svc)
        built.by_name.setdefault(svc.name.lower(), []).append(svc)
        if svc.id:
            built.by_id.setdefault(svc.id.lower(), svc)
        if svc.public_url:
            host = _url_host(svc.public_url)
            if host:
                built.by_public.setdefault(host, svc)
        built.by_kind.setdefault(svc.kind, []).append(svc)
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    _INDEXES[key] = (weakref.ref(workspace), built)
    return built


def index_host(url: str) -> str:
    """The host of a URL (or of `host[:port]`), lowercased, as the index keys it."""
    return _url_host(url)


def _url_host(url: str) -> str:
    from urllib.parse import urlsplit

    text = url if "://" in url else f"https://{url}"
    try:
        return (urlsplit(text).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


__all__ = [
    "ADAPTERS",
    "Adapter",
    "ConnectField",
    "ConnectTab",
    "Docs",
    "HostIndex",
    "Separation",
    "adapter",
    "all_fields",
    "connect_tabs",
    "index",
    "index_host",
    "is_public_host",
    "of",
    "railway",
    "render",
    "separation",
    "service_type",
]
