"""The running instance's environment: which service this is, and what it reads.

Inside a Render instance `RENDER_SERVICE_NAME` is the slug, which is the internal host;
`RENDER_SERVICE_TYPE`, `RENDER_EXTERNAL_URL`, `RENDER_SERVICE_ID` say the rest, but not the
region or the plan: those come from a Blueprint when one is found. Inside a Railway instance
`RAILWAY_SERVICE_NAME`, `RAILWAY_PRIVATE_DOMAIN`, `RAILWAY_ENVIRONMENT_NAME` and
`RAILWAY_PROJECT_NAME` do. `PORT` is the service's port; every other variable, except the
platform's own and the obviously system ones, is one the service reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pnet import platforms
from pnet.errors import InputError
from pnet.model import EnvVar, Kind, Platform, Service, Workspace
from pnet.platforms import railway, render
from pnet.sources.blueprint import slug_base

NOT_INSIDE = (
    "not inside a Render or Railway instance: give --workspace FILE, --blueprint FILE or an API key"
)
BLUEPRINT_NAME = "render.yaml"
RENDER_PROJECT_ROOT = "/opt/render/project/src"
MAX_PARENTS = 32

RENDER_MARKERS = ("RENDER_SERVICE_ID", "RENDER_SERVICE_NAME", "RENDER_INSTANCE_ID")
RAILWAY_MARKERS = (
    "RAILWAY_SERVICE_ID",
    "RAILWAY_SERVICE_NAME",
    "RAILWAY_ENVIRONMENT_ID",
    "RAILWAY_PROJECT_ID",
    "RAILWAY_PRIVATE_DOMAIN",
    "RAILWAY_DEPLOYMENT_ID",
)
RENDER_TYPES = {
    "web": Kind.WEB,
    "pserv": Kind.PSERV,
    "worker": Kind.WORKER,
    "cron": Kind.CRON,
    "static": Kind.STATIC,
    "web_service": Kind.WEB,
    "private_service": Kind.PSERV,
    "background_worker": Kind.WORKER,
    "cron_job": Kind.CRON,
    "static_site": Kind.STATIC,
}
RENDER_OWN = frozenset(
    {
        "RENDER",
        "IS_PULL_REQUEST",
        "PORT",
        # what Render's native runtimes set for the service itself (its own port and workers)
        "GUNICORN_CMD_ARGS",
        "FORWARDED_ALLOW_IPS",
        "WEB_CONCURRENCY",
        "PASSENGER_PORT",
        "ROCKET_PORT",
    }
)
SYSTEM_VARIABLES = frozenset(
    {
        "HOME",
        "PATH",
        "HOSTNAME",
        "PWD",
        "OLDPWD",
        "SHLVL",
        "TERM",
        "TERMINFO",
        "COLORTERM",
        "TERM_PROGRAM",
        "TERM_PROGRAM_VERSION",
        "USER",
        "LOGNAME",
        "SHELL",
        "MAIL",
        "_",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "PS1",
        "PS2",
        "COLUMNS",
        "LINES",
        "DEBIAN_FRONTEND",
        "container",
        "LD_LIBRARY_PATH",
        "LS_COLORS",
        "LESSOPEN",
        "LESSCLOSE",
        "EDITOR",
        "PAGER",
        "SUDO_USER",
        "SUDO_UID",
        "SUDO_GID",
        "SUDO_COMMAND",
        "MOTD_SHOWN",
        "TMUX",
        "TMUX_PANE",
        "STY",
        "WINDOW",
        "NO_COLOR",
        "FORCE_COLOR",
        "VIRTUAL_ENV",
        "VIRTUAL_ENV_PROMPT",
        "GPG_KEY",
        "PIP_NO_CACHE_DIR",
        "MALLOC_ARENA_MAX",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        # language toolchains and build images (Render's native runtimes, Nixpacks, Railpack,
        # the official Docker images)
        "GOPATH",
        "GOROOT",
        "GOFLAGS",
        "GOCACHE",
        "GOMODCACHE",
        "GO111MODULE",
        "GOPROXY",
        "GOPRIVATE",
        "GOSUMDB",
        "GONOSUMDB",
        "GOTOOLCHAIN",
        "GOMAXPROCS",
        "GOMEMLIMIT",
        "GO_VERSION",
        "CGO_ENABLED",
        "GEM_HOME",
        "GEM_PATH",
        "RUBYOPT",
        "RUBYLIB",
        "RUBY_VERSION",
        "RUBY_YJIT_ENABLE",
        "RUST_VERSION",
        "MIX_ENV",
        "MIX_HOME",
        "HEX_HOME",
        "ELIXIR_VERSION",
        "ERLANG_VERSION",
        "JAVA_HOME",
        "JAVA_OPTS",
        "JAVA_TOOL_OPTIONS",
        "JAVA_VERSION",
        "JDK_JAVA_OPTIONS",
        "GOSU_VERSION",
        "PG_MAJOR",
        "PG_VERSION",
        "PGDATA",
        "NGINX_VERSION",
        "NJS_VERSION",
        "PKG_RELEASE",
    }
)
SYSTEM_PREFIXES = (
    "LC_",
    "SSH_",
    "XDG_",
    "KUBERNETES_",
    "DBUS_",
    "TEXTUAL_",
    "PNET_",
    # the interpreters' and package managers' own namespaces
    "PYTHON",
    "PIP_",
    "PIPENV_",
    "POETRY_",
    "UV_",
    "NODE_",
    "NPM_CONFIG_",
    "YARN_",
    "PNPM_",
    "COREPACK_",
    "BUN_",
    "BUNDLE_",
    "CARGO_",
    "RUSTUP_",
    "ERL_",
    "MAVEN_",
    "GRADLE_",
    "NIXPACKS_",
    "NIX_",
    "RAILPACK_",
    "MISE_",
)


def is_system_variable(key: str) -> bool:
    """Variables of the shell, the OS or the container runtime, not ones the service reads."""
    return key in SYSTEM_VARIABLES or key.startswith(SYSTEM_PREFIXES)


def detect(environ: Mapping[str, str]) -> Platform | None:
    """Which platform's instance this environment belongs to, if any."""
    if environ.get("RENDER") == "true" or any(environ.get(k) for k in RENDER_MARKERS):
        return Platform.RENDER
    if any(environ.get(k) for k in RAILWAY_MARKERS):
        return Platform.RAILWAY
    return None


def find_blueprint(
    cwd: str | Path | None,
    environ: Mapping[str, str],
    *,
    roots: Iterable[str | Path] = (RENDER_PROJECT_ROOT,),
) -> Path | None:
    """A `render.yaml` in `cwd` or a folder above it (up to the repository's root), else in
    Render's checkout of the repository when running inside a Render instance."""
    if cwd is not None:
        here = Path(cwd)
        for _ in range(MAX_PARENTS):
            candidate = here / BLUEPRINT_NAME
            if candidate.is_file():
                return candidate
            if (here / ".git").exists() or here.parent == here:
                break
            here = here.parent
    if detect(environ) is Platform.RENDER:
        for root in roots:
            candidate = Path(root) / BLUEPRINT_NAME
            if candidate.is_file():
                return candidate
    return None


def from_environ(
    environ: Mapping[str, str], *, blueprint: Workspace | None = None
) -> tuple[Workspace, Service]:
    """The workspace as seen from inside an instance, and the service this instance is.

    With a Blueprint, this service's entry in it gives the region, plan and type, and the
    other services come from it; without one only this service is known.
    """
    platform = detect(environ)
    if platform is Platform.RENDER:
        return _render(environ, blueprint)
    if platform is Platform.RAILWAY:
        return _railway(environ)
    raise InputError(NOT_INSIDE)


def _value(environ: Mapping[str, str], key: str) -> str | None:
    value = environ.get(key, "").strip()
    return value or None


def _port(environ: Mapping[str, str], key: str = "PORT") -> int | None:
    value = _value(environ, key)
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise InputError(f"{key} is {value!r}: expected a port from 1 to 65535", "environment")
    return int(value)


def _reads(environ: Mapping[str, str], own: Iterable[str], prefix: str) -> tuple[EnvVar, ...]:
    skip = set(own)
    return tuple(
        EnvVar(key, value, "environment")
        for key, value in sorted(environ.items())
        if key not in skip and not key.startswith(prefix) and not is_system_variable(key)
    )


# ---- Render -------------------------------------------------------------------------------


def _render(environ: Mapping[str, str], blueprint: Workspace | None) -> tuple[Workspace, Service]:
    slug = _value(environ, "RENDER_SERVICE_NAME")
    raw_type = (_value(environ, "RENDER_SERVICE_TYPE") or "").lower()
    kind = RENDER_TYPES.get(raw_type)
    notes: list[str] = []
    if kind is None:
        kind = Kind.WEB
        notes.append(
            f"RENDER_SERVICE_TYPE is {raw_type!r}: taken as a web service"
            if raw_type
            else "RENDER_SERVICE_TYPE is not set: taken as a web service"
        )
    if slug is None:
        notes.append("RENDER_SERVICE_NAME is not set: this service's internal host is unknown")
    if blueprint is not None and blueprint.platform is not Platform.RENDER:
        notes.append(f"{blueprint.source or 'the Blueprint'} is not a Render Blueprint: ignored")
        blueprint = None
    entry = _blueprint_entry(blueprint, slug, kind) if blueprint else None
    port = _port(environ)
    env = _reads(environ, RENDER_OWN, "RENDER_")
    public = _value(environ, "RENDER_EXTERNAL_URL")
    if entry is not None:
        stype = entry.type
        ports = (port,) if port else entry.ports
        known = port is not None or entry.ports_known
        me = replace(
            entry,
            host=(slug or entry.host) if stype.has_internal_address else None,
            host_known=slug is not None,
            ports=ports if stype.has_internal_address else (),
            ports_known=known,
            public_url=public or entry.public_url,
            env=_with_references(env, entry.env),
            id=_value(environ, "RENDER_SERVICE_ID"),
        )
    else:
        if blueprint is not None:
            notes.append(
                f"{blueprint.source or 'the Blueprint'} has no {kind.value} service for "
                f"{slug or 'this instance'}: its region and plan are unknown"
            )
        else:
            notes.append(
                "Render does not tell an instance its region or plan: give --blueprint FILE "
                "or RENDER_API_KEY to know them and the other services"
            )
        stype = platforms.service_type(Platform.RENDER, kind, None)
        name = (render.slug_prefix(slug) if slug else None) or slug or "this-service"
        ports = ()
        if kind in (Kind.WEB, Kind.PSERV):
            ports = (port or render.DEFAULT_PORT,)
        me = Service(
            name=name,
            type=stype,
            platform=Platform.RENDER,
            host=slug if stype.has_internal_address else None,
            host_known=slug is not None,
            ports=ports,
            ports_known=port is not None or not ports,
            public_url=public,
            env=env,
            id=_value(environ, "RENDER_SERVICE_ID"),
        )
    others = [s for s in blueprint.services if s is not entry] if blueprint else []
    if entry is not None:
        others = _learn_hosts(entry, environ, others, notes)
    repo = _value(environ, "RENDER_GIT_REPO_SLUG")
    name = (
        (blueprint.project if blueprint else None)
        or repo
        or (blueprint.name if blueprint else me.name)
    )
    workspace = Workspace(
        name=name,
        platform=Platform.RENDER,
        services=(me, *others),
        project=blueprint.project if blueprint else None,
        environments=blueprint.environments if blueprint else {},
        source=blueprint.source if blueprint else "environment",
        notes=(*(blueprint.notes if blueprint else ()), *notes),
        partial=blueprint is None,
    )
    return workspace, me


def _blueprint_entry(blueprint: Workspace | None, slug: str | None, kind: Kind) -> Service | None:
    """This instance's service in a Blueprint: the one whose name gives the slug's prefix."""
    if blueprint is None or slug is None:
        return None
    prefixes = {slug, render.slug_prefix(slug) or slug}
    candidates = [
        s for s in blueprint.services if not s.kind.is_datastore and slug_base(s.name) in prefixes
    ]
    same_kind = [s for s in candidates if s.kind is kind]
    pick = same_kind or candidates
    if len(pick) == 1:
        return pick[0]
    exact = [s for s in pick if slug_base(s.name) == slug]
    return exact[0] if len(exact) == 1 else None


def _with_references(env: tuple[EnvVar, ...], declared: tuple[EnvVar, ...]) -> tuple[EnvVar, ...]:
    """The instance's values, each with what the Blueprint says it refers to."""
    by_key = {v.key: v for v in declared}
    out = []
    for var in env:
        bp = by_key.get(var.key)
        if bp is None or bp.origin not in ("fromService", "fromDatabase", "fromGroup"):
            out.append(var)
            continue
        out.append(
            replace(
                var,
                line=bp.line,
                column=bp.column,
                ref_service=bp.ref_service,
                ref_type=bp.ref_type,
                ref_property=bp.ref_property,
                ref_key=bp.ref_key,
            )
        )
    return tuple(out)


def _learn_hosts(
    entry: Service, environ: Mapping[str, str], others: list[Service], notes: list[str]
) -> list[Service]:
    """Fill in the slugs and ids a Blueprint cannot know from what Render injected here.

    Each `fromService`/`fromDatabase` variable of this service's Blueprint entry holds, in the
    instance's environment, the real host of what it points at. A host is taken only when it
    has the shape Render gives that kind (`name-xxxx`, `dpg-...`, `red-...`).
    """
    learned: dict[str, dict[str, object]] = {}
    for var in entry.env:
        if var.origin not in ("fromService", "fromDatabase") or not var.resolved:
            continue
        actual = _value(environ, var.key)
        if actual is None or var.ref_service is None:
            continue
        target = next(
            (
                s
                for s in others
                if s.name == var.ref_service
                and not s.host_known
                and (s.kind is Kind.POSTGRES) == (var.origin == "fromDatabase")
            ),
            None,
        )
        if target is None:
            continue
        found = _host_in(actual, var.ref_property, var.ref_key)
        if found is None or not _plausible(target, found[0]):
            continue
        host, extra = found
        fields = learned.setdefault(target.name + "\0" + target.kind.value, {})
        if "host" not in fields:
            fields["host"] = host
            notes.append(f"{var.key} shows that {target.name} is {host}")
        for key, value in extra.items():
            fields.setdefault(key, value)
    out = []
    for svc in others:
        got = learned.get(svc.name + "\0" + svc.kind.value)
        if not got:
            out.append(svc)
            continue
        out.append(
            replace(
                svc,
                host=str(got["host"]),
                host_known=True,
                user=_str(got.get("user")) or svc.user,
                password=_str(got.get("password")) or svc.password,
                database=_str(got.get("database")) or svc.database,
            )
        )
    return out


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _host_in(value: str, prop: str | None, key: str | None) -> tuple[str, dict[str, object]] | None:
    if key == "RENDER_DISCOVERY_SERVICE":
        return (value.removesuffix("-discovery"), {}) if value.endswith("-discovery") else None
    if key is not None:
        return None
    if prop == "host":
        return value, {}
    if prop == "hostport":
        host, _, port = value.rpartition(":")
        return (host, {}) if host and port.isdigit() else None
    if prop == "connectionString":
        try:
            url = urlsplit(value)
            hostname = url.hostname
        except ValueError:
            return None
        if not hostname:
            return None
        host = hostname
        extra: dict[str, object] = {}
        if url.username:
            extra["user"] = unquote(url.username)
        if url.password:
            extra["password"] = unquote(url.password)
        database = url.path.lstrip("/")
        if database:
            extra["database"] = database
        return host, extra
    return None


def _plausible(target: Service, host: str) -> bool:
    if target.kind is Kind.POSTGRES:
        return bool(render.POSTGRES_ID.match(host))
    if target.kind is Kind.KEYVALUE:
        return bool(render.KEYVALUE_ID.match(host))
    prefix = render.slug_prefix(host)
    return host == slug_base(target.name) or prefix == slug_base(target.name)


# ---- Railway ------------------------------------------------------------------------------


def environment_name(environ: Mapping[str, str]) -> str | None:
    """The Railway environment's name; older deployments have only `RAILWAY_ENVIRONMENT`."""
    return _value(environ, "RAILWAY_ENVIRONMENT_NAME") or _value(environ, "RAILWAY_ENVIRONMENT")


RAILWAY_OWN = frozenset({"PORT"})


def _railway(environ: Mapping[str, str]) -> tuple[Workspace, Service]:
    name = _value(environ, "RAILWAY_SERVICE_NAME")
    host = _value(environ, "RAILWAY_PRIVATE_DOMAIN")
    if name is None:
        name = host.split(".", 1)[0] if host else "this-service"
    if host is None:
        host = railway.default_host(name)
    environment = environment_name(environ) or "production"
    project = _value(environ, "RAILWAY_PROJECT_NAME")
    public_domain = _value(environ, "RAILWAY_PUBLIC_DOMAIN") or _value(
        environ, "RAILWAY_STATIC_URL"
    )
    port = _port(environ) or _port(environ, "RAILWAY_TCP_APPLICATION_PORT")
    kind = Kind.WEB if public_domain else Kind.PSERV
    notes = [
        "a Railway instance does not see the rest of its project: give RAILWAY_API_TOKEN "
        "to know the other services",
        f"whether environment {environment!r} is dual-stack or IPv6-only (created before "
        f"{railway.LEGACY_CUTOFF}) is not in the environment; DNS answers will tell",
    ]
    proxy = _value(environ, "RAILWAY_TCP_PROXY_DOMAIN")
    proxy_port = _value(environ, "RAILWAY_TCP_PROXY_PORT")
    if proxy and proxy_port:
        notes.append(
            f"public TCP proxy {proxy}:{proxy_port} forwards to port "
            f"{_value(environ, 'RAILWAY_TCP_APPLICATION_PORT') or port or '?'} (billed as egress)"
        )
    me = Service(
        name=name,
        type=platforms.service_type(Platform.RAILWAY, kind, None),
        platform=Platform.RAILWAY,
        region=_value(environ, "RAILWAY_REPLICA_REGION"),
        environment=environment,
        project=project,
        host=host,
        ports=(port,) if port else (),
        public_url=f"https://{public_domain}" if public_domain else None,
        env=_reads(environ, RAILWAY_OWN, "RAILWAY_"),
        id=_value(environ, "RAILWAY_SERVICE_ID"),
    )
    workspace = Workspace(
        name=project or name,
        platform=Platform.RAILWAY,
        services=(me,),
        project=project,
        environments={},
        source="environment",
        notes=tuple(notes),
        partial=True,
    )
    return workspace, me


__all__ = [
    "NOT_INSIDE",
    "detect",
    "environment_name",
    "find_blueprint",
    "from_environ",
    "is_system_variable",
]
