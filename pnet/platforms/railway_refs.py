"""Railway's reference variables (`${{service.KEY}}`, `${{shared.KEY}}`, `${{ KEY }}`): the one
resolver, and the variables Railway provides a service (research/PLATFORMS.md section 2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pnet.model import Kind

POSTGRES_PORT = 5432
REDIS_PORT = 6379

REFERENCE = re.compile(r"\$\{\{(?P<body>.*?)\}\}")
SHARED = "shared"
MAX_REFERENCE_DEPTH = 8
PROVIDED_PREFIX = "RAILWAY_"


@dataclass(frozen=True)
class Resolved:
    """What Railway would inject for a variable whose value holds `${{...}}` references.

    `value` is None when a reference cannot be resolved (Railway renders those as empty);
    `refs` lists each reference as (namespace, key), namespace None for the service itself.
    """

    value: str | None
    resolved: bool = True
    note: str = ""
    refs: tuple[tuple[str | None, str], ...] = ()
    failed: tuple[str | None, str] | None = None

    def _main(self) -> tuple[str | None, str] | None:
        if self.failed is not None:
            return self.failed
        for ref in self.refs:
            if ref[0] is not None:
                return ref
        return self.refs[0] if self.refs else None

    @property
    def ref_service(self) -> str | None:
        """The other service (or `shared`) a reference points at: the failing one first."""
        main = self._main()
        return main[0] if main else None

    @property
    def ref_key(self) -> str | None:
        main = self._main()
        return main[1] if main else None


def has_reference(value: str | None) -> bool:
    return bool(value) and "${{" in (value or "")


def parse_reference(body: str) -> tuple[str | None, str]:
    """`api.RAILWAY_PRIVATE_DOMAIN` -> ("api", "RAILWAY_PRIVATE_DOMAIN"); ` KEY ` -> (None, "KEY").

    Service names may hold dots, variable names may not, so the split is at the last dot.
    """
    body = body.strip()
    if "." not in body:
        return None, body
    namespace, _, key = body.rpartition(".")
    return namespace.strip(), key.strip()


def _lookup(
    variables: Mapping[str, Mapping[str, str]], name: str
) -> tuple[str, Mapping[str, str]] | None:
    if name in variables:
        return name, variables[name]
    folded = [k for k in variables if k.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0], variables[folded[0]]
    return None


def resolve(
    template: str,
    *,
    service: str,
    variables: Mapping[str, Mapping[str, str]],
    shared: Mapping[str, str] | None = None,
) -> Resolved:
    """Resolve the `${{...}}` references in `template` as seen from `service`.

    `variables` maps each service of the environment to its variables (as set, possibly
    templates themselves, plus the ones Railway provides: `provided_variables`); `shared`
    holds the environment's shared variables. References to references are followed, up to
    a fixed depth. `${{api.PORT}}` resolves only if api sets PORT itself: Railway never
    resolves it to the port the service listens on.
    """
    return _resolve(template, service, variables, shared or {}, ())


def _resolve(
    template: str,
    service: str,
    variables: Mapping[str, Mapping[str, str]],
    shared: Mapping[str, str],
    stack: tuple[tuple[str, str], ...],
) -> Resolved:
    refs: list[tuple[str | None, str]] = []
    problems: list[str] = []
    failed: tuple[str | None, str] | None = None
    parts: list[str] = []
    pos = 0
    for m in REFERENCE.finditer(template):
        parts.append(template[pos : m.start()])
        pos = m.end()
        namespace, key = parse_reference(m["body"])
        refs.append((namespace, key))
        text = m.group(0)
        if problems and failed is None:
            failed = refs[-2]
        if not key:
            problems.append(f"{text} names no variable")
            continue
        if namespace is None:
            owner, pool = service, variables.get(service, {})
        elif namespace == SHARED:
            owner, pool = SHARED, shared
        else:
            found = _lookup(variables, namespace)
            if found is None:
                problems.append(f"{text}: no service named {namespace!r} in this environment")
                continue
            owner, pool = found
        if key not in pool:
            problems.append(_missing(text, owner, key))
            continue
        raw = pool[key]
        if (owner, key) in stack or len(stack) >= MAX_REFERENCE_DEPTH:
            problems.append(f"{text} refers back to itself")
            continue
        if has_reference(raw):
            inner = _resolve(raw, owner, variables, shared, (*stack, (owner, key)))
            if inner.value is None:
                problems.append(inner.note or f"{text} cannot be resolved")
                continue
            raw = inner.value
        parts.append(raw)
    parts.append(template[pos:])
    if problems:
        if failed is None:
            failed = refs[-1]
        return Resolved(None, False, "; ".join(problems), tuple(refs), failed)
    return Resolved("".join(parts), True, "", tuple(refs))


def _missing(text: str, owner: str, key: str) -> str:
    if owner == SHARED:
        return f"{text}: the environment has no shared variable {key!r}"
    if key == "PORT":
        return (
            f"{text}: {owner} does not set PORT itself, and Railway does not resolve it "
            f"to the port {owner} listens on: set PORT on {owner}"
        )
    return f"{text}: {owner} has no variable {key!r}"


def provided_variables(
    *,
    name: str,
    host: str | None,
    public_domain: str | None = None,
    environment: str | None = None,
    project: str | None = None,
    kind: Kind | None = None,
    port: int | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
) -> dict[str, str]:
    """The variables Railway gives a service, and a database template's own connection ones."""
    out: dict[str, str] = {"RAILWAY_SERVICE_NAME": name}
    if host:
        out["RAILWAY_PRIVATE_DOMAIN"] = host
    if public_domain:
        out["RAILWAY_PUBLIC_DOMAIN"] = public_domain
    if environment:
        out["RAILWAY_ENVIRONMENT_NAME"] = environment
    if project:
        out["RAILWAY_PROJECT_NAME"] = project
    if kind is Kind.POSTGRES and host:
        p = port or POSTGRES_PORT
        u, db = user or "postgres", database or "railway"
        out.update(PGHOST=host, PGPORT=str(p), PGUSER=u, PGDATABASE=db)
        if password is not None:
            out["PGPASSWORD"] = password
            out["POSTGRES_PASSWORD"] = password
            out["DATABASE_URL"] = f"postgresql://{u}:{password}@{host}:{p}/{db}"
    if kind is Kind.KEYVALUE and host:
        p = port or REDIS_PORT
        u = user or "default"
        out.update(REDISHOST=host, REDISPORT=str(p), REDISUSER=u)
        if password is not None:
            out["REDISPASSWORD"] = password
            out["REDIS_PASSWORD"] = password
            out["REDIS_URL"] = f"redis://{u}:{password}@{host}:{p}"
        else:
            out["REDIS_URL"] = f"redis://{host}:{p}"
    return out


def public_domain_of(url: str | None) -> str | None:
    """`https://api-production.up.railway.app` -> `api-production.up.railway.app`."""
    if not url:
        return None
    return url.split("://", 1)[-1].split("/", 1)[0] or None
