"""Blueprint Postgres databases (`databases:` entries): read and checked, then built into model
Services, one for the primary and one for each read replica."""

from __future__ import annotations

from dataclasses import replace

from pnet.model import Kind, Platform, Service
from pnet.platforms import render
from pnet.sources.blueprint.context import Context, Raw, Scope
from pnet.sources.blueprint.naming import read_name, slug_base
from pnet.sources.blueprint.schema import (
    DATABASE_KEYS,
    DATABASE_PLAN,
    DEFAULT_DATABASE_PLAN,
    read_allow_list,
    read_region,
)
from pnet.sources.blueprint.spots import resource_spots
from pnet.yamlload import Node


def read_database(ctx: Context, node: Node, scope: Scope) -> Raw:
    """One `databases:` entry and its read replicas, checked as Render checks them."""
    r = ctx.r
    name = read_name(r, node, "a database")
    what = f"database {name!r}"
    r.check_keys(node, DATABASE_KEYS, what, "a Blueprint database (render.com/docs/blueprint-spec)")
    if name in ctx.database_names:
        r.fail(
            f"duplicate database name {name!r} (first on line {ctx.database_names[name]})",
            node,
            "name",
        )
    ctx.database_names[name] = node.line
    given = r.string(node, "plan", what)
    plan = DEFAULT_DATABASE_PLAN
    if given is not None:
        plan = given.strip().lower().replace("_", " ")
        if not DATABASE_PLAN.match(plan):
            r.fail(
                f"'plan' of {what} is {given!r}, expected a Render Postgres instance "
                "type such as free, basic-256mb, basic-1gb, pro-4gb or accelerated-16gb",
                node,
                "plan",
            )
    region = read_region(r, node, what)
    for key in ("postgresMajorVersion", "databaseName", "user", "previewPlan"):
        r.string(node, key, what)
    r.integer(node, "diskSizeGB", what, low=1)
    r.integer(node, "previewDiskSizeGB", what, low=1)
    r.boolean(node, "storageAutoscalingEnabled", what)
    if node.get("previews") is not None:
        r.mapping(node["previews"], f"'previews' of {what}", node.line_of("previews"))
    if node.get("highAvailability") is not None:
        ha = r.mapping(
            node["highAvailability"],
            f"'highAvailability' of {what}",
            node.line_of("highAvailability"),
        )
        r.check_keys(ha, ("enabled",), f"'highAvailability' of {what}")
        r.boolean(ha, "enabled", what)
    if node.get("readReplicas") is not None:
        seq = r.sequence(
            node["readReplicas"], f"'readReplicas' of {what}", node.line_of("readReplicas")
        )
        if len(seq) > 5:
            r.fail(f"{what} has {len(seq)} read replicas; Render allows up to five", seq)
        for i, item in enumerate(seq):
            rep = r.mapping(item, f"each read replica of {what}", seq.line_of(i))
            r.check_keys(rep, ("name",), f"a read replica of {what}")
            rname = read_name(r, rep, f"a read replica of {what}")
            rep["name"] = rname
            if rname in ctx.database_names:
                r.fail(
                    f"duplicate database name {rname!r} (first on line "
                    f"{ctx.database_names[rname]})",
                    rep,
                    "name",
                )
            ctx.database_names[rname] = rep.line
    return Raw(
        node, name, Kind.POSTGRES, plan, region, scope.project, scope.environment, "postgres"
    )


def build_database(ctx: Context, raw: Raw) -> list[Service]:
    """The model Services a read database becomes: the primary, then each read replica."""
    node, what = raw.node, f"database {raw.name!r}"
    allow = read_allow_list(ctx.r, node, what)
    if allow is None:
        allow = ("0.0.0.0/0",)
        ctx.notes.append(
            f"database {raw.name!r} sets no ipAllowList: Render creates it open to every "
            "IP address (credentials still required)"
        )
    stype = render.service_type(Kind.POSTGRES, raw.plan)
    base = Service(
        name=raw.name,
        type=stype,
        platform=Platform.RENDER,
        region=raw.region,
        environment=raw.environment,
        project=raw.project,
        plan=raw.plan,
        host=slug_base(raw.name),
        host_known=False,
        ports=(render.POSTGRES_PORT,),
        ip_allow_list=allow,
        database=ctx.r.string(node, "databaseName", what),
        user=ctx.r.string(node, "user", what),
        line=node.line,
        column=node.column,
        spots=resource_spots(node),
    )
    out = [base]
    for rep in node.get("readReplicas") or []:
        rname = str(rep["name"]).strip()
        out.append(
            replace(
                base,
                name=rname,
                host=slug_base(rname),
                line=rep.line,
                column=rep.column,
                spots=(*resource_spots(rep), *(s for s in base.spots if s[0] not in rep)),
            )
        )
    return out
