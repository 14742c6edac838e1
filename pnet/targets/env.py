"""The addresses among a service's env vars, each mapped to the service it names."""

from __future__ import annotations

import re
from dataclasses import replace

from pnet import platforms
from pnet.model import EnvVar, Service, Workspace
from pnet.targets.mapping import _pick, services_named
from pnet.targets.parse import HOST_KEY, URL_LIKE_KEY, build
from pnet.targets.target import Target
from pnet.urls import DEFAULT_PORTS

IGNORED_KEYS = frozenset({"HOST", "HOSTNAME", "PORT", "PWD", "HOME", "PATH", "OLDPWD"})
PLATFORM_PREFIXES = ("RENDER_", "RAILWAY_")


_KEY_SCHEME = (
    ("PG", "postgresql"),
    ("POSTGRES", "postgresql"),
    ("DATABASE", "postgresql"),
    ("REDIS", "redis"),
    ("VALKEY", "redis"),
    ("MYSQL", "mysql"),
)


def _companion_port(var: EnvVar, env: dict[str, str | None]) -> int | None:
    m = HOST_KEY.match(var.key.upper())
    if not m:
        return None
    stem = m["stem"]
    for cand in (f"{stem}_PORT", f"{stem}PORT"):
        value = env.get(cand)
        if value and value.strip().isdigit():
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
    adapter = platforms.of(workspace)
    scheme: str | None = None
    if prop in ("connectionString", "connectionPoolString") and svc is not None:
        scheme = adapter.client_scheme(svc)
    reference = adapter.reference_text(var, svc)
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
        port_assumed=svc is not None and not svc.ports_known,
        key=var.key,
        reference=reference,
        resolved=var.resolved,
        note=var.note,
    )


def _broken_railway_reference(
    workspace: Workspace, var: EnvVar, subject: str, source: Service
) -> Target | None:
    """A Railway `${{service.VAR}}` reference that resolves to nothing, in an address variable."""
    if not URL_LIKE_KEY.search(var.key) and var.ref_key not in (
        "RAILWAY_PRIVATE_DOMAIN",
        "PORT",
    ):
        return None
    named = services_named(workspace, var.ref_service or "")
    svc = _pick(named, source) if named else None
    reference = platforms.of(workspace).reference_text(var, svc)
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
        if var.key.upper() in IGNORED_KEYS or var.key.upper().startswith(PLATFORM_PREFIXES):
            continue
        subject = f"{source.name}.{var.key}" if qualify else var.key
        value = var.value
        if value is None and var.origin == "reference" and var.ref_service and var.ref_key:
            broken = _broken_railway_reference(workspace, var, subject, source)
            if broken is not None:
                out.append(_placed(replace(broken, source=source.name if qualify else None), var))
            continue
        if value is None or (var.ref_service and var.ref_property and "${{" not in (value or "")):
            ref = _reference_target(workspace, var, subject, source)
            if ref is not None:
                if value:
                    built = build(
                        workspace, subject, value, key=var.key, origin="env", source=source
                    )
                    if built is not None:
                        ref = replace(built, reference=ref.reference)
                out.append(_placed(replace(ref, source=source.name if qualify else None), var))
            continue
        resolved = platforms.of(workspace).resolve(value, workspace, source)
        if resolved is None:
            continue
        value = resolved
        parts = [p.strip() for p in value.split(",")] if "," in value else [value.strip()]
        parts = [p for p in parts if p]
        built_parts: list[Target] = []
        for index, part in enumerate(parts):
            sub = subject if len(parts) == 1 else f"{subject}[{index}]"
            target = build(
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
            out.append(_placed(replace(target, source=source.name) if qualify else target, var))
    return out


def _placed(target: Target, var: EnvVar) -> Target:
    """The target, with where the workspace's file states its variable."""
    if var.line is None:
        return target
    return replace(target, line=var.line, column=var.column)
