"""Per-platform rules: which service types send and receive, names, ports, regions."""

from __future__ import annotations

from pnet.model import Kind, Platform, ServiceType
from pnet.platforms import railway, render


def service_type(platform: Platform, kind: Kind, plan: str | None) -> ServiceType:
    if platform is Platform.RENDER:
        return render.service_type(kind, plan)
    return railway.service_type(kind, plan)


def is_public_host(platform: Platform, host: str) -> bool:
    return render.is_public_host(host) or railway.is_public_host(host)


__all__ = ["is_public_host", "railway", "render", "service_type"]
