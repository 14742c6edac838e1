"""What the rules share: the context of one diagnosis, finding construction, fixes that work."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pnet import platforms
from pnet.diagnose.finding import Finding
from pnet.diagnose.kinds import severity
from pnet.model import Kind, Network, Service, Workspace
from pnet.platforms.base import Adapter, Separation
from pnet.secrets import mask_text
from pnet.targets import Target
from pnet.urls import path_of

BROWSER_PREFIXES = (
    "NEXT_PUBLIC_",
    "VITE_",
    "REACT_APP_",
    "NUXT_PUBLIC_",
    "NUXT_ENV_",
    "EXPO_PUBLIC_",
    "GATSBY_",
    "PUBLIC_",
    "VUE_APP_",
    "STORYBOOK_",
)


@dataclass(frozen=True)
class Context:
    workspace: Workspace
    source: Service | None
    listeners: Sequence[Any] | None = None
    local_addresses: frozenset[str] = frozenset()
    auth_required: frozenset[str] = frozenset()

    @cached_property
    def p(self) -> Adapter:
        """The workspace's platform adapter."""
        return platforms.of(self.workspace)

    def service(self, name: str | None) -> Service | None:
        return self.workspace.service(name) if name else None

    def source_for(self, target: Target) -> Service | None:
        if target.source is not None:
            return self.workspace.service(target.source)
        return self.source

    def separation(self, a: Service, b: Service) -> Separation | None:
        return self.p.separation(self.workspace, a, b)

    def network(self, service: Service) -> Network:
        return self.p.network(self.workspace, service)

    @property
    def partial(self) -> bool:
        """The model knows only part of the workspace (inside an instance, with no Blueprint and
        no API key): a name it does not know may still be a service's."""
        return self.workspace.partial


def is_browser_key(key: str) -> bool:
    return key.upper().startswith(BROWSER_PREFIXES)


def finding(
    kind: str,
    subject: str,
    message: str,
    fix: str | Iterable[str],
    *,
    service: str | None = None,
    evidence: Iterable[str] = (),
) -> Finding:
    """A finding, with every text masked: a finding never carries a secret."""
    fix_text = fix if isinstance(fix, str) else "\n".join(line for line in fix if line)
    return Finding(
        kind=kind,
        severity=severity(kind),
        subject=subject,
        message=mask(message),
        fix=mask(fix_text),
        service=service,
        evidence=tuple(dict.fromkeys(mask(e) for e in evidence if e)),
    )


_PLACEHOLDER = ":PASSWORD@"
_SENTINEL = ":\x00/PASSWORD/\x00@"


def mask(text: str) -> str:
    """mask_text, sparing the `PASSWORD` placeholder of a fix (it is no secret)."""
    return mask_text(text.replace(_PLACEHOLDER, _SENTINEL)).replace(_SENTINEL, _PLACEHOLDER)


def placeholder_url(target: Target) -> str:
    """The target's value with its password replaced by `PASSWORD`, so a fix can be pasted."""
    if not target.has_password:
        return target.raw
    scheme_end = target.raw.find("://")
    at = target.raw.find("@", scheme_end + 3)
    colon = target.raw.find(":", scheme_end + 3)
    if scheme_end < 0 or at < 0 or colon < 0 or colon > at:
        return mask_text(target.raw)
    return target.raw[: colon + 1] + "PASSWORD" + target.raw[at:]


def right_url(
    ctx: Context, svc: Service, target: Target | None = None, *, port: int | None = None
) -> str | None:
    """The internal URL a client should use for `svc`, keeping the target's path and user.

    A Key Value store that asked a probe of this diagnosis for credentials gets them in its URL.
    """
    if svc.kind.is_datastore:
        url = ctx.p.internal_url(svc, auth=svc.name in ctx.auth_required)
        if url and target is not None and target.user and svc.kind is Kind.POSTGRES:
            url = url.replace(f"//{svc.user or 'USER'}:", f"//{target.user}:")
        db = target.path if target is not None else ""
        if url and svc.kind is Kind.POSTGRES and not svc.database and db not in ("", "/"):
            url = url.replace("/DATABASE", db, 1)
        return url
    scheme = ctx.p.client_scheme(svc) or "http"
    if target is not None and target.scheme in ("ws", "wss"):
        scheme = "ws"
    path = path_of(target)
    p = port or svc.default_port
    return f"{scheme}://{svc.host}:{p}{path}" if p else f"{scheme}://{svc.host}{path}"


def url_fix_lines(
    ctx: Context, svc: Service, url: str | None, target: Target | None = None
) -> list[str]:
    """The right URL, then the platform's way to keep it right (Blueprint / reference variable)."""
    lines: list[str] = []
    key = target.key if target is not None and target.key else None
    if url and svc.host_known:
        lines.append(f"{key}={url}" if key else url)
    elif url:
        lines.append(
            f"{key + '=' if key else ''}{url.replace(svc.host or svc.name, f'{svc.name}-XXXX', 1)} "
            f"(XXXX: the suffix of {svc.name}'s slug, assigned at creation: Connect → Internal)"
        )
    if url and not svc.ports_known and not svc.kind.is_datastore:
        lines.append(
            f"(port {svc.default_port} is assumed: the workspace does not say which port "
            f"{svc.name} listens on)"
        )
    lines.extend(ctx.p.keep_right(svc, target, url))
    return lines


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address == "localhost"


def is_local_address(ctx: Context, address: str) -> bool:
    return is_loopback(address) or address in ctx.local_addresses
