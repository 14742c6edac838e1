"""Targets: the addresses a service's configuration points at, and the service each one maps to."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, replace
from urllib.parse import unquote, urlsplit

from pnet.argcheck import digits
from pnet.model import EnvVar, Kind, Platform, Service, Workspace
from pnet.platforms import railway, render
from pnet.secrets import mask_text

DEFAULT_PORTS: dict[str, int] = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "redis": 6379,
    "rediss": 6379,
    "valkey": 6379,
    "valkeys": 6379,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "amqp": 5672,
    "amqps": 5671,
    "mongodb": 27017,
    "nats": 4222,
    "tcp": 0,
}
TLS_SCHEMES = frozenset({"https", "wss", "rediss", "valkeys", "amqps"})
HTTP_SCHEMES = frozenset({"http", "https", "ws", "wss"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "valkey", "valkeys"})
POSTGRES_SCHEMES = frozenset({"postgres", "postgresql"})
DATABASE_SCHEMES = POSTGRES_SCHEMES | {"mysql", "mongodb", "mongodb+srv"}
KNOWN_SCHEMES = frozenset(DEFAULT_PORTS) | {"mongodb+srv"}

HOWS = ("exact-host", "slug", "public-url", "database-id", "name", "discovery", "reference")

_HOSTNAME = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_HOSTPORT = re.compile(
    rf"^(?P<host>{_HOSTNAME}\.?|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{{1,5}})(?P<path>/\S*)?$"
)
_BARE_HOST = re.compile(rf"^{_HOSTNAME}\.?$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
_REFERENCE = re.compile(
    r"\$\{\{\s*(?:(?P<ns>[A-Za-z0-9_-](?:[A-Za-z0-9_ -]*[A-Za-z0-9_-])?)\s*\.)?"
    r"(?P<var>[A-Za-z0-9_]+)\s*\}\}"
)
_IGNORED_KEYS = frozenset({"HOST", "HOSTNAME", "PORT", "PWD", "HOME", "PATH", "OLDPWD"})
_PLATFORM_PREFIXES = ("RENDER_", "RAILWAY_")
_HOST_KEY = re.compile(r"^(?P<stem>.*?)_?(HOST|HOSTNAME)$")


@dataclass(frozen=True)
class Target:
    """One address to check.

    `raw` is the value as written, secrets included: show `display`, never `raw`.
    `port` is the explicit port, else the one implied by the scheme or the service's type
    (`port_explicit` says which). `how` says how `service` was found from the host.
    `source` is the service the address is used from, when it differs from the run's source
    (the sweep checks every service's variables from that service).
    """

    subject: str
    raw: str
    scheme: str | None
    host: str
    port: int | None
    path: str = ""
    user: str | None = None
    has_password: bool = False
    service: str | None = None
    how: str = "unresolved"
    origin: str = "env"
    port_explicit: bool = False
    query: str = ""
    key: str | None = None
    source: str | None = None
    reference: str | None = None
    resolved: bool = True
    note: str = ""

    @property
    def display(self) -> str:
        return mask_text(self.raw)

    @property
    def is_tls(self) -> bool:
        return self.scheme in TLS_SCHEMES

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "value": self.display,
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "service": self.service,
            "how": self.how,
            "origin": self.origin,
        }


# ---------------------------------------------------------------------------------------------
# Mapping a host to a service


def _network_pick(candidates: list[Service], source: Service | None) -> Service | None:
    if not candidates:
        return None
    if source is not None:
        for svc in candidates:
            if svc.location == source.location:
                return svc
    return candidates[0]


@dataclass(frozen=True)
class _Index:
    """Lookups over a workspace's services, built once per workspace."""

    by_host: dict[str, list[Service]]
    by_discovery: dict[str, Service]
    by_name: dict[str, list[Service]]
    by_id: dict[str, Service]
    by_public: dict[str, Service]
    by_kind: dict[Kind, list[Service]]


_INDEXES: dict[int, tuple[weakref.ref[Workspace], _Index]] = {}


def _index(workspace: Workspace) -> _Index:
    key = id(workspace)
    hit = _INDEXES.get(key)
    if hit is not None and hit[0]() is workspace:
        return hit[1]
    by_host: dict[str, list[Service]] = {}
    by_discovery: dict[str, Service] = {}
    by_name: dict[str, list[Service]] = {}
    by_id: dict[str, Service] = {}
    by_public: dict[str, Service] = {}
    by_kind: dict[Kind, list[Service]] = {}
    for svc in workspace.services:
        if svc.host:
            by_host.setdefault(svc.host.lower(), []).append(svc)
        disc = svc.discovery_host
        if disc and disc != svc.host:
            by_discovery.setdefault(disc.lower(), svc)
        by_name.setdefault(svc.name.lower(), []).append(svc)
        if svc.id:
            by_id.setdefault(svc.id.lower(), svc)
        if svc.public_url:
            by_public.setdefault(_url_host(svc.public_url), svc)
        by_kind.setdefault(svc.kind, []).append(svc)
    index = _Index(by_host, by_discovery, by_name, by_id, by_public, by_kind)
    if len(_INDEXES) > 64:
        _INDEXES.clear()
    _INDEXES[key] = (weakref.ref(workspace), index)
    return index


def services_named(workspace: Workspace, name: str) -> list[Service]:
    """The services called `name` (case-insensitive; Railway allows one per environment)."""
    return list(_index(workspace).by_name.get(name.lower(), []))


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
    ix = _index(workspace)
    exact = ix.by_host.get(h)
    if exact:
        return _network_pick(exact, source), "exact-host"
    if h in ix.by_discovery:
        return ix.by_discovery[h], "discovery"
    if workspace.platform is Platform.RENDER:
        found = _map_render(ix, h, source, user)
    else:
        found = _map_railway(ix, h, source, scheme)
    if found[0] is not None:
        return found
    if h in ix.by_id:
        return ix.by_id[h], "database-id"
    if h in ix.by_public:
        return ix.by_public[h], "public-url"
    by_name = ix.by_name.get(h)
    if by_name:
        return _network_pick(by_name, source), "name"
    return None, "unresolved"


def _unknown_slug(ix: _Index, name: str | None) -> Service | None:
    """The service named `name` whose slug the model does not know (or that has none)."""
    if not name:
        return None
    for svc in ix.by_name.get(name, []):
        if not (svc.host and svc.host_known):
            return svc
    return None


def _map_render(
    ix: _Index, h: str, source: Service | None, user: str | None
) -> tuple[Service | None, str]:
    if h.endswith("-discovery"):
        base = h[: -len("-discovery")]
        svc, how = _map_render(ix, base, source, user)
        if svc is None and base in ix.by_host:
            svc, how = _network_pick(ix.by_host[base], source), "exact-host"
        if svc is not None and how in ("exact-host", "slug"):
            return svc, "discovery"
    m = render.PUBLIC_WEB.match(h)
    if m:
        slug = m["slug"]
        if slug in ix.by_host:
            return ix.by_host[slug][0], "public-url"
        if h in ix.by_public:
            return ix.by_public[h], "public-url"
        svc = _unknown_slug(ix, render.slug_prefix(slug))
        if svc is not None:
            return svc, "public-url"
    m = render.PUBLIC_POSTGRES.match(h)
    if m:
        db = m["id"]
        for candidate in (db, f"{db}-a"):
            for svc in ix.by_host.get(candidate, []):
                if svc.kind is Kind.POSTGRES:
                    return svc, "public-url"
    m = render.PUBLIC_KEYVALUE.match(h)
    if m and user:
        for svc in ix.by_host.get(user.lower(), []):
            if svc.kind is Kind.KEYVALUE:
                return svc, "public-url"
    if render.POSTGRES_ID.match(h) or render.POSTGRES_ID.match(h + "-a"):
        for svc in ix.by_kind.get(Kind.POSTGRES, []):
            if svc.host and svc.host.lower().startswith(h + "-"):
                return svc, "database-id"
    svc = _unknown_slug(ix, render.slug_prefix(h))
    if svc is not None:
        return svc, "slug"
    return None, "unresolved"


def _map_railway(
    ix: _Index, h: str, source: Service | None, scheme: str | None
) -> tuple[Service | None, str]:
    if railway.is_internal_host(h):
        named = ix.by_name.get(h[: -len(railway.INTERNAL_SUFFIX)])
        if named:
            return _network_pick(named, source), "name"
    if h.endswith(".up.railway.app") and h in ix.by_public:
        return ix.by_public[h], "public-url"
    if railway.TCP_PROXY.match(h) and scheme:
        if h in ix.by_public:
            return ix.by_public[h], "public-url"
        kind = (
            Kind.POSTGRES
            if scheme in POSTGRES_SCHEMES
            else Kind.KEYVALUE
            if scheme in REDIS_SCHEMES
            else None
        )
        if kind is not None:
            # A datastore whose proxy domain the model knows is not behind another one.
            pool = [s for s in ix.by_kind.get(kind, []) if not s.public_url]
            if source is not None:
                pool = [s for s in pool if s.location == source.location] or pool
            if len(pool) == 1:
                return pool[0], "public-url"
    return None, "unresolved"


def _url_host(url: str) -> str:
    text = url if "://" in url else f"https://{url}"
    try:
        return (urlsplit(text).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""


# ---------------------------------------------------------------------------------------------
# Recognising addresses in values


def is_private_host(workspace: Workspace, host: str) -> bool:
    """Whether a host is an address of the platform's private network (not public, not external)."""
    h = host.lower().rstrip(".")
    if railway.is_internal_host(h):
        return True
    if render.POSTGRES_ID.match(h) or render.KEYVALUE_ID.match(h):
        return True
    if _IPV4.match(h):
        parts = [int(p) for p in h.split(".")]
        return (
            parts[0] == 10
            or (parts[0] == 172 and 16 <= parts[1] <= 31)
            or (parts[0] == 192 and parts[1] == 168)
            or (parts[0] == 100 and 64 <= parts[1] <= 127)
        )
    if h.startswith(("fd", "fc")) and ":" in h:
        return True
    if render.is_public_host(h) or railway.is_public_host(h):
        return False
    svc, how = map_host(workspace, h)
    if svc is not None and how in ("exact-host", "slug", "discovery", "name", "database-id"):
        return True
    return "." not in h and workspace.platform is Platform.RENDER and bool(render.SLUG.match(h))


def _looks_internal(workspace: Workspace, host: str) -> bool:
    """Whether a value with no scheme names a host of the platform: a known host, a database
    or Key Value id, a Railway internal name, a platform public host, a private IP."""
    h = host.lower()
    if render.is_public_host(h) or railway.is_public_host(h) or railway.is_internal_host(h):
        return True
    if render.POSTGRES_ID.match(h) or render.KEYVALUE_ID.match(h):
        return True
    svc, _ = map_host(workspace, h)
    if svc is not None:
        return True
    return _IPV4.match(h) is not None and is_private_host(workspace, h)


def _build(
    workspace: Workspace,
    subject: str,
    raw: str,
    *,
    key: str | None,
    origin: str,
    source: Service | None,
    port_hint: int | None = None,
    scheme_hint: str | None = None,
) -> Target | None:
    text = raw.strip()
    m = _URL.match(text)
    if m:
        scheme = m["scheme"].lower()
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
            try:
                port = parts.port
            except ValueError:
                port = None
            path, query = parts.path, parts.query
            user = unquote(parts.username) if parts.username else None
            has_password = bool(parts.password)
        except ValueError:
            return None
        if not host:
            return None
        if scheme not in KNOWN_SCHEMES and not _looks_internal(workspace, host):
            return None
        return _finish(
            workspace,
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme,
                host=host.lower(),
                port=port,
                path=path,
                user=user,
                has_password=has_password,
                origin=origin,
                port_explicit=port is not None,
                query=query,
                key=key,
            ),
            source,
        )
    hp = _HOSTPORT.match(text)
    if hp:
        host = hp["host"].strip("[]").lower()
        if not (re.search(r"[a-z]", host) or _IPV4.match(host) or ":" in host):
            return None
        port = int(hp["port"])
        if not 1 <= port <= 65535:
            return None
        return _finish(
            workspace,
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme_hint,
                host=host,
                port=port,
                path=hp["path"] or "",
                origin=origin,
                port_explicit=True,
                key=key,
            ),
            source,
        )
    if _BARE_HOST.match(text) and re.search(r"[a-z]", text.lower()):
        host = text.lower().rstrip(".")
        host_key = bool(key and _HOST_KEY.match(key.upper()))
        known = _looks_internal(workspace, host)
        if known and key and not host_key and not _URL_LIKE_KEY.search(key):
            # A bare service name in a variable that holds no address (PGDATABASE=db,
            # APP_NAME=api) is a name, not a target.
            named, how = map_host(workspace, host, source=source)
            if named is not None and how == "name":
                return None
        if not known and not (host_key and ("." in host or "-" in host)):
            return None
        if not known and host_key and not (is_private_host(workspace, host)):
            return None
        return _finish(
            workspace,
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme_hint,
                host=host,
                port=port_hint,
                origin=origin,
                port_explicit=port_hint is not None,
                key=key,
            ),
            source,
        )
    return None


def _finish(workspace: Workspace, target: Target, source: Service | None) -> Target:
    svc, how = map_host(
        workspace, target.host, source=source, scheme=target.scheme, user=target.user
    )
    port = target.port
    if port is None:
        if target.scheme and DEFAULT_PORTS.get(target.scheme):
            port = DEFAULT_PORTS[target.scheme]
        elif svc is not None and how != "public-url" and svc.default_port:
            port = svc.default_port
    return replace(target, service=svc.name if svc else None, how=how, port=port)


def scheme_for(service: Service) -> str | None:
    """The scheme a client needs to talk to a service over the private network."""
    if service.kind is Kind.POSTGRES:
        return "postgresql"
    if service.kind is Kind.KEYVALUE:
        return "redis"
    if service.kind in (Kind.WEB, Kind.PSERV):
        return "http"
    return None


_KEY_SCHEME = (
    ("PG", "postgresql"),
    ("POSTGRES", "postgresql"),
    ("DATABASE", "postgresql"),
    ("REDIS", "redis"),
    ("VALKEY", "redis"),
    ("MYSQL", "mysql"),
)


def _companion_port(var: EnvVar, env: dict[str, str | None]) -> int | None:
    m = _HOST_KEY.match(var.key.upper())
    if not m:
        return None
    stem = m["stem"]
    for cand in (f"{stem}_PORT", f"{stem}PORT"):
        value = env.get(cand)
        if value and digits(value.strip()):
            return int(value.strip())
    return None


def _key_scheme(key: str) -> str | None:
    upper = key.upper()
    for prefix, scheme in _KEY_SCHEME:
        if upper.startswith(prefix):
            return scheme
    return None


def credential_keys(key: str | None, what: str) -> list[str]:
    """The variables a Redis client is given its password (or user) in, next to a host
    variable: `CACHE_HOST` -> CACHE_PASSWORD, then REDIS_PASSWORD and REDISPASSWORD."""
    out = []
    stem = re.sub(r"_?(HOST|HOSTNAME|ADDR|ADDRESS)$", "", (key or "").upper())
    if stem:
        out.append(f"{stem}_{what}")
    out += [f"REDIS_{what}", f"REDIS{what}"]
    if what == "USER":
        out.append("REDIS_USERNAME")
    return list(dict.fromkeys(out))


def resolve_references(value: str, workspace: Workspace, source: Service | None) -> str | None:
    """A Railway value with `${{service.VAR}}` references, resolved from the model (None if not)."""
    if "${{" not in value:
        return value
    failed = False

    def sub(m: re.Match[str]) -> str:
        nonlocal failed
        ns, var = (m["ns"] or "").strip(), m["var"]
        svc = workspace.service(ns) if ns else source
        if ns and svc is None:
            for candidate in workspace.services:
                if candidate.name.lower() == ns.lower():
                    svc = candidate
        if svc is None:
            failed = True
            return m[0]
        got = _builtin(svc, var)
        if got is None:
            failed = True
            return m[0]
        return got

    out = _REFERENCE.sub(sub, value)
    return None if failed or "${{" in out else out


def _builtin(svc: Service, var: str) -> str | None:
    if var == "RAILWAY_PRIVATE_DOMAIN":
        return svc.host
    if var == "RAILWAY_PUBLIC_DOMAIN":
        return _url_host(svc.public_url) if svc.public_url else None
    if var == "RAILWAY_SERVICE_NAME":
        return svc.name
    env = svc.env_var(var)
    if env is not None and env.value is not None:
        return env.value
    if svc.kind.is_datastore and svc.host:
        port = svc.default_port
        user = svc.user or ("postgres" if svc.kind is Kind.POSTGRES else "default")
        pw = svc.password or ""
        auth = f"{user}:{pw}@" if pw else ""
        if var in ("DATABASE_URL", "DATABASE_PRIVATE_URL") and svc.kind is Kind.POSTGRES:
            return f"postgresql://{auth}{svc.host}:{port}/{svc.database or 'railway'}"
        if var in ("REDIS_URL", "REDIS_PRIVATE_URL") and svc.kind is Kind.KEYVALUE:
            return f"redis://{auth}{svc.host}:{port}"
        if var in ("PGHOST", "REDISHOST"):
            return svc.host
        if var in ("PGPORT", "REDISPORT"):
            return str(port)
    return None


def _reference_target(
    workspace: Workspace, var: EnvVar, subject: str, source: Service | None
) -> Target | None:
    """A Blueprint `fromService` / `fromDatabase` reference whose value the source cannot know."""
    if not var.ref_service or not var.ref_property:
        return None
    prop = var.ref_property
    if prop not in ("host", "hostport", "connectionString", "connectionPoolString"):
        return None
    svc = workspace.service(var.ref_service)
    host = svc.host if svc and svc.host else var.ref_service
    port = svc.default_port if svc else None
    scheme: str | None = None
    if prop in ("connectionString", "connectionPoolString") and svc is not None:
        scheme = scheme_for(svc)
    snippet_type = var.ref_type or (svc.kind.value if svc else "pserv")
    block = "fromDatabase" if var.origin == "fromDatabase" else "fromService"
    kind_part = "" if block == "fromDatabase" else f", type: {snippet_type}"
    written = svc.ref_name if svc is not None else var.ref_service
    reference = f"{block}: {{name: {written}{kind_part}, property: {prop}}}"
    return Target(
        subject=subject,
        raw=reference,
        scheme=scheme,
        host=host.lower(),
        port=port,
        service=svc.name if svc else None,
        how="reference" if svc else "unresolved",
        origin="env",
        port_explicit=prop == "hostport",
        key=var.key,
        reference=reference,
        resolved=var.resolved,
        note=var.note,
    )


_URL_LIKE_KEY = re.compile(r"(URL|URI|HOST|ADDR|ADDRESS|ENDPOINT|DSN)S?$", re.IGNORECASE)


def _broken_railway_reference(
    workspace: Workspace, var: EnvVar, subject: str, source: Service
) -> Target | None:
    """A Railway `${{service.VAR}}` reference that resolves to nothing, in an address variable."""
    if not _URL_LIKE_KEY.search(var.key) and var.ref_key not in (
        "RAILWAY_PRIVATE_DOMAIN",
        "PORT",
    ):
        return None
    named = services_named(workspace, var.ref_service or "")
    svc = _network_pick(named, source) if named else None
    reference = f"${{{{{var.ref_service}.{var.ref_key}}}}}"
    return Target(
        subject=subject,
        raw=reference,
        scheme=None,
        host=(svc.host or svc.name).lower() if svc else (var.ref_service or "").lower(),
        port=None,
        service=svc.name if svc else None,
        how="reference" if svc else "unresolved",
        origin="env",
        key=var.key,
        reference=reference,
        resolved=False,
        note=var.note,
    )


def targets_from_env(
    workspace: Workspace, source: Service, *, qualify: bool = False
) -> list[Target]:
    """Every address among the source's env vars, each mapped to the service it names.

    With `qualify`, subjects are `SERVICE.KEY` so several services' variables can be checked
    together (the sweep).
    """
    env = {v.key: v.value for v in source.env}
    out: list[Target] = []
    for var in source.env:
        if var.key.upper() in _IGNORED_KEYS or var.key.upper().startswith(_PLATFORM_PREFIXES):
            continue
        subject = f"{source.name}.{var.key}" if qualify else var.key
        value = var.value
        if value is None and var.origin == "reference" and var.ref_service and var.ref_key:
            broken = _broken_railway_reference(workspace, var, subject, source)
            if broken is not None:
                out.append(replace(broken, source=source.name) if qualify else broken)
            continue
        if value is None or (var.ref_service and var.ref_property and "${{" not in (value or "")):
            ref = _reference_target(workspace, var, subject, source)
            if ref is not None:
                if value:
                    built = _build(
                        workspace, subject, value, key=var.key, origin="env", source=source
                    )
                    if built is not None:
                        ref = replace(built, reference=ref.reference)
                out.append(replace(ref, source=source.name if qualify else None))
            continue
        if "${{" in value:
            resolved = resolve_references(value, workspace, source)
            if resolved is None:
                continue
            value = resolved
        parts = [p.strip() for p in value.split(",")] if "," in value else [value.strip()]
        parts = [p for p in parts if p]
        built_parts: list[Target] = []
        for index, part in enumerate(parts):
            sub = subject if len(parts) == 1 else f"{subject}[{index}]"
            target = _build(
                workspace,
                sub,
                part,
                key=var.key,
                origin="env",
                source=source,
                port_hint=_companion_port(var, env),
            )
            if target is None and len(parts) > 1:
                built_parts = []
                break
            if target is not None:
                built_parts.append(target)
        if len(parts) == 1 and built_parts and built_parts[0].port is None:
            scheme = _key_scheme(var.key)
            if scheme:
                built_parts[0] = replace(built_parts[0], port=DEFAULT_PORTS[scheme])
        for target in built_parts:
            out.append(replace(target, source=source.name) if qualify else target)
    return out


def parse_target(text: str, workspace: Workspace, source: Service | None = None) -> Target | None:
    """A target given on the command line: a URL, `host:port`, a host or a service name."""
    text = text.strip()
    if not text:
        return None
    svc = workspace.service(text)
    if svc is not None:
        found = service_targets(workspace, svc)
        if found:
            return replace(found[0], subject=text, origin="arg")
        return Target(
            subject=text,
            raw=text,
            scheme=None,
            host=(svc.host or svc.name).lower(),
            port=None,
            service=svc.name,
            how="name",
            origin="arg",
        )
    target = _build(workspace, text, text, key=None, origin="arg", source=source)
    if target is not None:
        return target
    if _BARE_HOST.match(text) or _HOSTPORT.match(text):
        host = text.lower()
        return _finish(
            workspace,
            Target(subject=text, raw=text, scheme=None, host=host, port=None, origin="arg"),
            source,
        )
    return None


def service_targets(workspace: Workspace, service: Service) -> list[Target]:
    """The service itself as a target: its internal address on each port, with a client's scheme."""
    del workspace
    if not (service.host and service.type.has_internal_address and service.type.receives):
        return []
    out: list[Target] = []
    for index, port in enumerate(service.ports):
        scheme = scheme_for(service)
        if service.kind is Kind.PSERV and not service.health_path:
            scheme = None
        if index > 0 and service.kind in (Kind.WEB, Kind.PSERV):
            scheme = None
        subject = f"service:{service.name}" if index == 0 else f"service:{service.name}:{port}"
        user = None
        if service.kind is Kind.POSTGRES:
            user = service.user
        authority = f"{user}@" if user else ""
        path = ""
        if service.kind is Kind.POSTGRES and service.database:
            path = f"/{service.database}"
        raw = (
            f"{scheme}://{authority}{service.host}:{port}{path}"
            if scheme
            else f"{service.host}:{port}"
        )
        out.append(
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme,
                host=service.host.lower(),
                port=port,
                path=path,
                user=user,
                service=service.name,
                how="exact-host",
                origin="service",
                port_explicit=True,
            )
        )
    return out


def internal_url(service: Service, *, port: int | None = None, path: str = "") -> str | None:
    """The URL a client on the same private network should use (passwords as `PASSWORD`)."""
    if not (service.host and service.type.has_internal_address and service.type.receives):
        return None
    p = port or service.default_port
    if service.kind is Kind.POSTGRES:
        user = service.user or "USER"
        db = service.database or "DATABASE"
        if service.platform is Platform.RENDER:
            return f"postgresql://{user}:PASSWORD@{service.host}/{db}"
        return f"postgresql://{user}:PASSWORD@{service.host}:{p}/{db}"
    if service.kind is Kind.KEYVALUE:
        if service.platform is Platform.RAILWAY:
            return f"redis://default:PASSWORD@{service.host}:{p}"
        return f"redis://{service.host}:{p}"
    scheme = scheme_for(service) or "http"
    return f"{scheme}://{service.host}:{p}{path}" if p else f"{scheme}://{service.host}{path}"
