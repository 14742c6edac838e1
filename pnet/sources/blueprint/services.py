"""Blueprint services (`services:` entries): read and checked, then built into model Services."""

from __future__ import annotations

from pnet.model import Kind, Platform, Service
from pnet.platforms import render
from pnet.sources.blueprint.context import Context, Raw, Scope
from pnet.sources.blueprint.envvars import port_of, read_env_vars
from pnet.sources.blueprint.naming import read_name, slug_base
from pnet.sources.blueprint.references import service_env
from pnet.sources.blueprint.schema import (
    KIND,
    SERVICE_KEYS,
    SERVICE_TYPES,
    check_shapes,
    read_allow_list,
    read_region,
    read_runtime,
    read_service_plan,
)
from pnet.sources.blueprint.spots import resource_spots
from pnet.yamlload import Node


def read_service(ctx: Context, node: Node, scope: Scope) -> Raw:
    """One `services:` entry, checked as Render checks it, its env vars read but not resolved."""
    r = ctx.r
    name = read_name(r, node, "a service")
    what = f"service {name!r}"
    if "type" not in node or node["type"] is None:
        r.fail(f"{what} needs 'type' (one of: {', '.join(SERVICE_TYPES)})", node)
    bp_type = r.string(node, "type", what) or ""
    if bp_type in ("postgres", "postgresql", "database"):
        r.fail(
            f"'type' of {what} is {bp_type!r}: Render Postgres databases go in the "
            "`databases:` list, not under `services:`",
            node,
            "type",
        )
    if bp_type == "static":
        r.fail(
            f"'type' of {what} is 'static': a static site is `type: web` with `runtime: static`",
            node,
            "type",
        )
    r.choice(node, "type", what, SERVICE_TYPES)
    r.check_keys(node, SERVICE_KEYS, what, "a Blueprint service (render.com/docs/blueprint-spec)")
    if bp_type == "redis":
        bp_type = "keyvalue"
    kind = KIND[bp_type]
    runtime = read_runtime(r, node, what, kind)
    if kind is Kind.WEB and runtime == "static":
        kind = Kind.STATIC
    elif runtime == "static":
        r.fail(
            f"{what}: `runtime: static` is only for `type: web` (a static site)",
            node,
            "runtime" if "runtime" in node else "env",
        )
    if name in ctx.service_names:
        r.fail(
            f"duplicate service name {name!r} (first on line {ctx.service_names[name]}): "
            "Render needs a unique name for each service",
            node,
            "name",
        )
    ctx.service_names[name] = node.line
    plan = read_service_plan(r, node, what, kind)
    region: str | None = read_region(r, node, what)
    if kind is Kind.STATIC:
        region = None
    if kind is Kind.CRON and node.get("schedule") is None:
        r.fail(f"{what} is a cron job and needs 'schedule' (a cron expression)", node)
    check_shapes(r, node, what)
    if kind is Kind.KEYVALUE and "ipAllowList" not in node:
        r.fail(
            f"{what} is a Key Value instance and needs 'ipAllowList' "
            "(`[]` allows internal connections only)",
            node,
        )
    raw = Raw(node, name, kind, plan, region, scope.project, scope.environment, bp_type, runtime)
    raw.vars = read_env_vars(ctx, node, what, allow_refs=True)
    return raw


def build_service(ctx: Context, raw: Raw) -> Service:
    """The model Service a read service becomes, its references resolved against the file."""
    node, what = raw.node, f"service {raw.name!r}"
    r = ctx.r
    stype = render.service_type(raw.kind, raw.plan)
    env = service_env(ctx, raw)
    ports: tuple[int, ...] = ()
    ports_known = True
    if raw.kind in (Kind.WEB, Kind.PSERV):
        port, ports_known = port_of(ctx, raw)
        ports = (port,)
    elif raw.kind is Kind.KEYVALUE:
        ports = (render.KEYVALUE_PORT,)
    host = slug_base(raw.name) if stype.has_internal_address else None
    instances = r.integer(node, "numInstances", what, 1, low=0, high=100)
    if node.get("scaling") is not None:
        instances = r.integer(node["scaling"], "minInstances", what, 1)
    domains = r.strings(node, "domains", what) or ()
    public_url = f"https://{domains[0]}" if domains and stype.has_public_url else None
    allow = read_allow_list(r, node, what)
    return Service(
        name=raw.name,
        type=stype,
        platform=Platform.RENDER,
        region=raw.region,
        environment=raw.environment,
        project=raw.project,
        plan=raw.plan,
        host=host,
        host_known=False,
        ports=ports,
        ports_known=ports_known,
        public_url=public_url,
        env=env,
        instances=instances if instances is not None else 1,
        health_path=r.string(node, "healthCheckPath", what) if raw.kind is Kind.WEB else None,
        ip_allow_list=allow,
        runtime=raw.runtime,
        build_command=r.string(node, "buildCommand", what),
        start_command=r.string(node, "startCommand", what) or r.string(node, "dockerCommand", what),
        line=node.line,
        column=node.column,
        spots=resource_spots(node),
    )
