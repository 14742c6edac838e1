"""What the rules share: the context of one diagnosis, finding construction, fixes that work."""

from __future__ import annotations

import ipaddress
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pnet.diagnose.finding import Finding
from pnet.diagnose.kinds import severity
from pnet.model import Kind, Network, Platform, Service, Workspace
from pnet.secrets import mask_text
from pnet.targets import Target, internal_url, scheme_for, services_named

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
INTERNAL_HOWS = frozenset({"exact-host", "slug", "discovery", "name", "database-id", "reference"})


class ListenerLike(Protocol):
    """A local listening socket (probes.listeners.Listener)."""

    @property
    def address(self) -> str: ...
    @property
    def port(self) -> int: ...


@dataclass(frozen=True)
class Context:
    workspace: Workspace
    source: Service | None
    listeners: Sequence[Any] | None = None
    local_addresses: frozenset[str] = frozenset()
    auth_required: frozenset[str] = frozenset()

    def service(self, name: str | None) -> Service | None:
        return self.workspace.service(name) if name else None

    def source_for(self, target: Target) -> Service | None:
        if target.source is not None:
            return self.workspace.service(target.source)
        return self.source

    @property
    def render(self) -> bool:
        return self.workspace.platform is Platform.RENDER


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
        evidence=tuple(mask(e) for e in evidence if e),
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


def with_scheme(target: Target, scheme: str, *, port: int | None = None) -> str:
    """The target's URL with another scheme (and port), path and query kept."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    auth = ""
    if target.user:
        auth = f"{target.user}:PASSWORD@" if target.has_password else f"{target.user}@"
    p = port if port is not None else target.port
    url = f"{scheme}://{auth}{host}" + (f":{p}" if p else "")
    url += target.path or ""
    if target.query:
        url += f"?{target.query}"
    return url


def levenshtein(a: str, b: str, bound: int | None = None) -> int:
    """Edit distance; with `bound`, any distance above it is reported as bound + 1 (faster)."""
    if a == b:
        return 0
    if bound is not None and abs(len(a) - len(b)) > bound:
        return bound + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        best = i
        for j, cb in enumerate(b, 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            cur.append(v)
            best = min(best, v)
        if bound is not None and best > bound:
            return bound + 1
        prev = cur
    return prev[-1]


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


@dataclass(frozen=True)
class _Hosts:
    entries: tuple[tuple[str, Service], ...]
    grams: dict[str, tuple[int, ...]]


_HOST_INDEXES: dict[int, tuple[weakref.ref[Workspace], _Hosts]] = {}


def _hosts(workspace: Workspace) -> _Hosts:
    hit = _HOST_INDEXES.get(id(workspace))
    if hit is not None and hit[0]() is workspace:
        return hit[1]
    entries: list[tuple[str, Service]] = []
    for svc in workspace.services:
        if not (svc.host and svc.type.has_internal_address):
            continue
        entries.append((svc.host.lower(), svc))
        if svc.discovery_host and svc.discovery_host != svc.host:
            entries.append((svc.discovery_host.lower(), svc))
    grams: dict[str, list[int]] = {}
    for i, (host, _) in enumerate(entries):
        for g in _bigrams(host):
            grams.setdefault(g, []).append(i)
    index = _Hosts(tuple(entries), {g: tuple(v) for g, v in grams.items()})
    if len(_HOST_INDEXES) > 64:
        _HOST_INDEXES.clear()
    _HOST_INDEXES[id(workspace)] = (weakref.ref(workspace), index)
    return index


def closest_hosts(
    ctx: Context, host: str, *, source: Service | None, limit: int = 3
) -> list[tuple[int, Service]]:
    """Known internal hosts within a few edits of `host`, nearest first (same network first).

    A host whose name part is a service's name (`recs-a1b3` for `recs`) counts as one edit away.
    """
    host = host.lower()
    bound = 2 if len(host) < 12 else 3
    index = _hosts(ctx.workspace)
    grams = _bigrams(host)
    need = len(grams) - 2 * bound
    if need > 0:
        counts: dict[int, int] = {}
        for g in grams:
            for i in index.grams.get(g, ()):
                counts[i] = counts.get(i, 0) + 1
        candidates: Iterable[int] = [i for i, c in counts.items() if c >= need]
    else:
        candidates = range(len(index.entries))
    best: dict[str, tuple[int, Service]] = {}
    for i in candidates:
        name, svc = index.entries[i]
        d = levenshtein(host, name, bound)
        if d <= bound and (svc.name not in best or d < best[svc.name][0]):
            best[svc.name] = (d, svc)
    base = host.split(".")[0]
    name_part = base.rsplit("-", 1)[0] if "-" in base else base
    for svc in services_named(ctx.workspace, name_part):
        named = svc.host and svc.type.has_internal_address
        if named and (svc.name not in best or best[svc.name][0] > 1):
            best[svc.name] = (1, svc)

    def order(item: tuple[int, Service]) -> tuple[int, int, str]:
        d, svc = item
        far = 0 if source is None or svc.location == source.location else 1
        return d, far, svc.name

    return sorted(best.values(), key=order)[:limit]


def isolation_blocks(ws: Workspace, a: Service, b: Service) -> str | None:
    """Render: the isolated environment between two services of one region, if any.

    An environment with `networking.isolation: enabled` blocks private traffic in and out.
    """
    if ws.platform is not Platform.RENDER or a.environment == b.environment:
        return None
    for env in (a.environment, b.environment):
        info = ws.environments.get(env) if env else None
        if info is not None and info.isolated:
            return env
    return None


def reachable(ws: Workspace, a: Service, b: Service) -> bool:
    """Whether `a` and `b` share a private network the platform lets them use."""
    return same_network(a, b) and isolation_blocks(ws, a, b) is None


def same_network(a: Service, b: Service) -> bool:
    if a.platform is Platform.RAILWAY:
        if a.project and b.project and a.project != b.project:
            return False
        return a.environment == b.environment
    if a.name == b.name or a.region is None or b.region is None:
        return True
    return a.region == b.region


def network_word(ws: Workspace) -> str:
    return "region" if ws.platform is Platform.RENDER else "environment"


def railway_reference(svc: Service, *, scheme: str | None = None, path: str = "") -> str:
    """A Railway reference variable that follows the service across renames and environments."""
    if svc.kind is Kind.POSTGRES:
        return f"${{{{{svc.name}.DATABASE_URL}}}}"
    if svc.kind is Kind.KEYVALUE:
        return f"${{{{{svc.name}.REDIS_URL}}}}"
    s = scheme or "http"
    return f"{s}://${{{{{svc.name}.RAILWAY_PRIVATE_DOMAIN}}}}:${{{{{svc.name}.PORT}}}}{path}"


def railway_port_note(svc: Service) -> str:
    port = svc.default_port
    has_port = svc.env_var("PORT") is not None
    if has_port:
        return f"{svc.name}.PORT is set on {svc.name}"
    where = f" (PORT={port})" if port else ""
    return (
        f"{svc.name}.PORT must be set on {svc.name} as a service variable{where}: it does not "
        "resolve to the port the service listens on by itself"
    )


def blueprint_snippet(svc: Service) -> str | None:
    if svc.kind is Kind.POSTGRES:
        return f"fromDatabase: {{name: {svc.ref_name}, property: connectionString}}"
    if svc.kind is Kind.KEYVALUE:
        return f"fromService: {{name: {svc.name}, type: keyvalue, property: connectionString}}"
    if svc.kind in (Kind.WEB, Kind.PSERV):
        return f"fromService: {{name: {svc.name}, type: {svc.kind.value}, property: hostport}}"
    return None


def right_url(
    ctx: Context, svc: Service, target: Target | None = None, *, port: int | None = None
) -> str | None:
    """The internal URL a client should use for `svc`, keeping the target's path and user.

    A Key Value store that asked a probe of this diagnosis for credentials gets them in its URL.
    """
    if svc.kind.is_datastore:
        url = internal_url(svc)
        if url and svc.kind is Kind.KEYVALUE and svc.name in ctx.auth_required:
            url = url.replace("redis://", "redis://default:PASSWORD@", 1)
        if url and target is not None and target.user and svc.kind is Kind.POSTGRES:
            url = url.replace(f"//{svc.user or 'USER'}:", f"//{target.user}:")
        db = target.path if target is not None else ""
        if url and svc.kind is Kind.POSTGRES and not svc.database and db not in ("", "/"):
            url = url.replace("/DATABASE", db, 1)
        return url
    scheme = scheme_for(svc) or "http"
    if target is not None and target.scheme in ("ws", "wss"):
        scheme = "ws"
    path = target.path if target is not None and target.path not in ("", "/") else ""
    p = port or svc.default_port
    return f"{scheme}://{svc.host}:{p}{path}" if p else f"{scheme}://{svc.host}{path}"


def url_fix_lines(svc: Service, url: str | None, target: Target | None = None) -> list[str]:
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
    if svc.platform is Platform.RENDER:
        snippet = blueprint_snippet(svc)
        if snippet and not svc.kind.is_datastore and url and "://" in url:
            lines.append(
                f"in render.yaml: {snippet} gives `{svc.host}:{svc.default_port}` "
                "without a scheme: add `http://` where the app reads it"
            )
        elif snippet:
            lines.append(f"in render.yaml: {snippet}")
    else:
        ref = railway_reference(svc, path=_path_of(target))
        lines.append(f"or the reference variable: {key + '=' if key else ''}{ref}")
        if not svc.kind.is_datastore:
            lines.append(f"({railway_port_note(svc)})")
    return lines


def _path_of(target: Target | None) -> str:
    if target is None or target.path in ("", "/"):
        return ""
    return target.path


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return address == "localhost"


def is_local_address(ctx: Context, address: str) -> bool:
    return is_loopback(address) or address in ctx.local_addresses


def network_of(ctx: Context, svc: Service) -> Network:
    return ctx.workspace.network_of(svc)
