"""The project's own workspace format (README: "The fixture format")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pnet import platforms
from pnet.model import (
    EnvironmentInfo,
    EnvVar,
    Kind,
    Network,
    Platform,
    Service,
    Workspace,
)
from pnet.platforms import railway, render
from pnet.sources.schema import Reader, scalar_text
from pnet.yamlload import Node, load_file, load_text

TOP_KEYS = ("platform", "workspace", "project", "environments", "services")
SERVICE_KEYS = (
    "name",
    "type",
    "region",
    "environment",
    "plan",
    "host",
    "ports",
    "public_url",
    "instances",
    "health_path",
    "ip_allow_list",
    "env",
    "lab",
    "id",
    "runtime",
    "database",
    "user",
    "password",
    "build_command",
    "start_command",
    "internal_auth",
)
LAB_KEYS = ("listen", "bind", "down", "http_status", "delay_ms", "protocol", "tls", "auth")
LAB_BINDS = ("any", "loopback", "ipv4", "ipv6")
LAB_PROTOCOLS = (
    "http",
    "tcp",
    "redis",
    "postgres",
    "drip",
    "endless-body",
    "redirect-loop",
    "close-mid-header",
    "http09",
    "tls-stall",
    "silent",
    "blackhole",
)
ENVIRONMENT_KEYS = ("network", "isolated", "shared")


@dataclass(frozen=True)
class LabFaults:
    """A service's `lab:` block: what the lab serves instead of the truth.

    The workspace does not hold it; `read` gives it beside the workspace, for the lab
    (`pnet.lab.faults`) and the tests. listen: ports served instead of the service's own;
    bind: what the app binds (LAB_BINDS); down: instances that do not answer; http_status:
    what every HTTP request answers; delay_ms: delay before each first byte; protocol: what
    is spoken (LAB_PROTOCOLS); tls: serve TLS (self-signed); auth: the Redis / PostgreSQL
    password the server requires.
    """

    listen: tuple[int, ...] | None = None
    bind: str = "any"
    down: int = 0
    http_status: int | None = None
    delay_ms: int = 0
    protocol: str | None = None
    tls: bool = False
    auth: str | None = None


@dataclass(frozen=True)
class Fixture:
    """A fixture read whole: the workspace, and what the lab serves instead of the truth
    (each service's `lab:` block, by service name; the lab and the tests read it)."""

    workspace: Workspace
    lab: Mapping[str, LabFaults] = field(default_factory=dict)


def load(path: str | Path) -> Workspace:
    return read(path).workspace


def loads(text: str, file: str = "<fixture>") -> Workspace:
    return reads(text, file).workspace


def read(path: str | Path) -> Fixture:
    return parse_fixture(load_file(path), str(path))


def reads(text: str, file: str = "<fixture>") -> Fixture:
    return parse_fixture(load_text(text, file), file)


def parse(doc: Any, file: str) -> Workspace:
    return parse_fixture(doc, file).workspace


def parse_fixture(doc: Any, file: str) -> Fixture:
    r = Reader(file)
    if doc is None:
        r.fail("the file is empty: expected `platform:` and `services:`")
    top = r.mapping(doc, "a workspace fixture", 1)
    r.check_keys(top, TOP_KEYS, "the fixture")
    platform = Platform(
        r.pick(top, "platform", "the fixture", [p.value for p in Platform], "render")
    )
    name = r.string(top, "workspace", "the fixture") or r.string(top, "project", "the fixture")
    if not name:
        name = Path(file).stem
    environments: dict[str, EnvironmentInfo] = {}
    shared: dict[str, dict[str, str]] = {}
    if "environments" in top and top["environments"] is not None:
        if platform is not Platform.RAILWAY:
            r.fail(
                "`environments:` describes Railway networks; this fixture is for render",
                top,
                "environments",
            )
        envs = r.mapping(top["environments"], "`environments`", top.line_of("environments"))
        for env_name, spec in envs.items():
            spec = spec if spec is not None else Node()
            if not isinstance(spec, Node):
                spec = r.mapping(spec, f"environment {env_name!r}", envs.line_of(env_name))
            if not hasattr(spec, "line"):
                spec.line, spec.key_lines = envs.line_of(env_name), {}
            r.check_keys(spec, ENVIRONMENT_KEYS, f"environment {env_name!r}")
            network = r.pick(
                spec,
                "network",
                f"environment {env_name!r}",
                [n.value for n in Network],
                Network.DUAL_STACK.value,
            )
            environments[env_name] = EnvironmentInfo(
                env_name, Network(network), r.boolean(spec, "isolated", env_name)
            )
            if spec.get("shared") is not None:
                shared_node = r.mapping(
                    spec["shared"], f"'shared' of environment {env_name!r}", spec.line_of("shared")
                )
                shared[env_name] = {
                    str(k): scalar_text(v) for k, v in _env_items(r, shared_node, env_name)
                }
    raw_services = r.sequence(
        r.require(top, "services", "the fixture"), "`services`", top.line_of("services")
    )
    services: list[Service] = []
    faults: dict[str, LabFaults] = {}
    seen: dict[str, int] = {}
    hosts: dict[tuple[str, str | None], int] = {}
    for index, raw in enumerate(raw_services):
        node = r.mapping(raw, "each service", raw_services.line_of(index))
        svc, lab = _service(r, node, platform, environments)
        if svc.name in seen:
            r.fail(
                f"duplicate service name {svc.name!r} (first on line {seen[svc.name]})",
                node,
                "name",
            )
        seen[svc.name] = node.line
        if svc.host and svc.host_known:
            scope = svc.environment if platform is Platform.RAILWAY else None
            if (svc.host, scope) in hosts:
                r.fail(
                    f"host {svc.host!r} is used twice (first on line {hosts[(svc.host, scope)]})",
                    node,
                    "host",
                )
            hosts[(svc.host, scope)] = node.line
        services.append(svc)
        if lab is not None:
            faults[svc.name] = lab
    project = r.string(top, "project", "the fixture")
    if platform is Platform.RAILWAY:
        services = resolve_railway_references(services, shared, project)
    workspace = Workspace(
        name=name,
        platform=platform,
        services=tuple(services),
        project=project,
        environments=environments,
        source=file,
    )
    return Fixture(workspace, faults)


def _service(
    r: Reader, node: Node, platform: Platform, environments: dict[str, EnvironmentInfo]
) -> tuple[Service, LabFaults | None]:
    r.check_keys(node, SERVICE_KEYS, "a service")
    name = r.string(node, "name", "a service")
    if not name:
        r.fail("a service needs 'name'", node)
    what = f"service {name!r}"
    kind = Kind(
        r.choice(node, "type", what, [k.value for k in Kind]) or r.require(node, "type", what)
    )
    plan = r.string(node, "plan", what)
    region: str | None = None
    environment: str | None = None
    if platform is Platform.RENDER:
        if "environment" in node:
            r.fail(
                f"{what}: `environment:` is for Railway; Render services have a `region:`",
                node,
                "environment",
            )
        region = r.choice(node, "region", what, render.REGIONS)
        if kind is Kind.STATIC:
            region = None
        elif region is None:
            region = render.DEFAULT_REGION
        if plan is None and kind is not Kind.STATIC:
            plan = "basic-256mb" if kind is Kind.POSTGRES else render.DEFAULT_PLAN
    else:
        if "region" in node:
            region = r.string(node, "region", what)
        environment = r.string(node, "environment", what) or "production"
        if environments and environment not in environments:
            r.fail(
                f"{what} is in environment {environment!r}, which `environments:` does not list "
                f"({', '.join(environments)})",
                node,
                "environment",
            )
    stype = platforms.service_type(platform, kind, plan)
    host = r.string(node, "host", what)
    host_known = True
    if host is None and stype.has_internal_address:
        if platform is Platform.RAILWAY:
            host = railway.default_host(name)
        else:
            host, host_known = name, False
    ports = r.ports(node, "ports", what)
    ports_known = ports is not None or kind.is_datastore
    if ports is None:
        ports = _default_ports(platform, kind, stype.has_internal_address)
    env = _env(r, node, what)
    lab = _lab(r, node, what)
    service = Service(
        name=name,
        type=stype,
        platform=platform,
        region=region,
        environment=environment,
        plan=plan,
        host=host,
        host_known=host_known,
        ports=ports,
        ports_known=ports_known or not ports,
        internal_auth=r.boolean(node, "internal_auth", what),
        public_url=r.string(node, "public_url", what),
        env=env,
        instances=r.integer(node, "instances", what, 1, low=0, high=100) or 0,
        health_path=r.string(node, "health_path", what),
        ip_allow_list=r.strings(node, "ip_allow_list", what),
        id=r.string(node, "id", what),
        runtime=r.string(node, "runtime", what),
        database=r.string(node, "database", what),
        user=r.string(node, "user", what),
        password=r.string(node, "password", what),
        build_command=r.string(node, "build_command", what),
        start_command=r.string(node, "start_command", what),
        line=node.line,
    )
    return service, lab


def _default_ports(platform: Platform, kind: Kind, addressable: bool) -> tuple[int, ...]:
    if kind is Kind.POSTGRES:
        return (render.POSTGRES_PORT,)
    if kind is Kind.KEYVALUE:
        return (render.KEYVALUE_PORT,)
    if platform is Platform.RENDER and addressable and kind in (Kind.WEB, Kind.PSERV):
        return (render.DEFAULT_PORT,)
    return ()


def resolve_railway_references(
    services: list[Service], shared: dict[str, dict[str, str]], project: str | None
) -> list[Service]:
    """Replace each `${{...}}` env value by what Railway would inject, per environment."""
    by_env: dict[str | None, dict[str, dict[str, str]]] = {}
    for svc in services:
        pool = railway.provided_variables(
            name=svc.name,
            host=svc.host,
            public_domain=railway.public_domain_of(svc.public_url),
            environment=svc.environment,
            project=project,
            kind=svc.kind,
            port=svc.default_port,
            user=svc.user,
            password=svc.password,
            database=svc.database,
        )
        pool.update({v.key: v.value for v in svc.env if v.value is not None})
        by_env.setdefault(svc.environment, {})[svc.name] = pool
    out = []
    for svc in services:
        env = []
        for var in svc.env:
            if not railway.has_reference(var.value):
                env.append(var)
                continue
            res = railway.resolve(
                var.value or "",
                service=svc.name,
                variables=by_env.get(svc.environment, {}),
                shared=shared.get(svc.environment or "", {}),
            )
            env.append(
                replace(
                    var,
                    value=res.value,
                    origin="reference",
                    resolved=res.resolved,
                    note=res.note,
                    ref_service=res.ref_service,
                    ref_key=res.ref_key,
                )
            )
        out.append(replace(svc, env=tuple(env)))
    return out


def _env_items(r: Reader, env: Node, what: str) -> list[tuple[str, Any]]:
    out = []
    for key, value in env.items():
        if isinstance(value, dict | list):
            r.fail(
                f"env var {key!r} of {what} must be a string, not a {type(value).__name__}",
                env,
                key,
            )
        out.append((key, value))
    return out


def _env(r: Reader, node: Node, what: str) -> tuple[EnvVar, ...]:
    if "env" not in node or node["env"] is None:
        return ()
    env = r.mapping(node["env"], f"'env' of {what}", node.line_of("env"))
    out = []
    for key, value in env.items():
        if isinstance(value, dict | list):
            r.fail(
                f"env var {key!r} of {what} must be a string, not a {type(value).__name__}",
                env,
                key,
            )
        out.append(EnvVar(key=key, value=scalar_text(value), line=env.line_of(key)))
    return tuple(out)


def _lab(r: Reader, node: Node, what: str) -> LabFaults | None:
    if "lab" not in node or node["lab"] is None:
        return None
    lab = r.mapping(node["lab"], f"'lab' of {what}", node.line_of("lab"))
    r.check_keys(lab, LAB_KEYS, f"'lab' of {what}")
    return LabFaults(
        listen=r.ports(lab, "listen", f"'lab' of {what}"),
        bind=r.choice(lab, "bind", f"'lab' of {what}", LAB_BINDS, "any") or "any",
        down=r.integer(lab, "down", f"'lab' of {what}", 0, low=0) or 0,
        http_status=r.integer(lab, "http_status", f"'lab' of {what}", None, low=100, high=599),
        delay_ms=r.integer(lab, "delay_ms", f"'lab' of {what}", 0, low=0, high=600_000) or 0,
        protocol=r.choice(lab, "protocol", f"'lab' of {what}", LAB_PROTOCOLS),
        tls=r.boolean(lab, "tls", f"'lab' of {what}"),
        auth=r.string(lab, "auth", f"'lab' of {what}"),
    )
