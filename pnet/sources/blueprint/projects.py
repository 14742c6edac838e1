"""The shape of a Blueprint document: its root keys, `ungrouped`, `previews`, and
`projects[].environments[]`, each holding services, databases and environment groups."""

from __future__ import annotations

from typing import Any

from pnet.model import EnvironmentInfo
from pnet.sources.blueprint.context import Context, Scope
from pnet.sources.blueprint.databases import read_database
from pnet.sources.blueprint.envvars import read_group
from pnet.sources.blueprint.naming import read_name
from pnet.sources.blueprint.schema import (
    ENVIRONMENT_KEYS,
    GROUPING_KEYS,
    ISOLATION,
    PREVIEW_GENERATION,
    PROJECT_KEYS,
    ROOT_KEYS,
)
from pnet.sources.blueprint.services import read_service
from pnet.sources.schema import Reader
from pnet.yamlload import Node


def read_document(ctx: Context, doc: Any) -> list[str]:
    """Read every resource of the document into `ctx`; the names of its projects, in order."""
    r = ctx.r
    if doc is None:
        r.fail("the Blueprint is empty: expected `services:` or `databases:`")
    top = r.mapping(doc, "a Render Blueprint", 1)
    r.check_keys(top, ROOT_KEYS, "the Blueprint")
    _previews(r, top)
    _grouping(ctx, top, Scope(), "the Blueprint")
    if top.get("ungrouped") is not None:
        ungrouped = r.mapping(top["ungrouped"], "`ungrouped`", top.line_of("ungrouped"))
        r.check_keys(ungrouped, GROUPING_KEYS, "`ungrouped`")
        _grouping(ctx, ungrouped, Scope(), "`ungrouped`")
    return _projects(ctx, top)


def _previews(r: Reader, top: Node) -> None:
    if top.get("previews") is not None:
        previews = r.mapping(top["previews"], "`previews`", top.line_of("previews"))
        r.check_keys(previews, ("generation", "expireAfterDays"), "`previews`")
        r.choice(previews, "generation", "`previews`", PREVIEW_GENERATION)
        r.integer(previews, "expireAfterDays", "`previews`", low=1)
    r.boolean(top, "previewsEnabled", "the Blueprint")
    r.integer(top, "previewsExpireAfterDays", "the Blueprint", low=1)


def _projects(ctx: Context, top: Node) -> list[str]:
    r = ctx.r
    if top.get("projects") is None:
        return []
    seq = r.sequence(top["projects"], "`projects`", top.line_of("projects"))
    names: list[str] = []
    for i, item in enumerate(seq):
        project = r.mapping(item, "each project", seq.line_of(i))
        r.check_keys(project, PROJECT_KEYS, "a project")
        pname = read_name(r, project, "a project")
        names.append(pname)
        what = f"project {pname!r}"
        envs = r.sequence(
            r.require(project, "environments", what),
            f"`environments` of {what}",
            project.line_of("environments"),
        )
        if not envs:
            r.fail(f"{what} needs at least one environment", envs)
        for j, env_item in enumerate(envs):
            env = r.mapping(env_item, f"each environment of {what}", envs.line_of(j))
            r.check_keys(env, ENVIRONMENT_KEYS, f"an environment of {what}")
            ename = read_name(r, env, f"an environment of {what}")
            ewhat = f"environment {ename!r} of {what}"
            isolated = False
            if env.get("networking") is not None:
                net = r.mapping(env["networking"], f"`networking` of {ewhat}", env)
                r.check_keys(net, ("isolation",), f"`networking` of {ewhat}")
                isolated = r.choice(net, "isolation", ewhat, ISOLATION) == "enabled"
            if env.get("permissions") is not None:
                perm = r.mapping(env["permissions"], f"`permissions` of {ewhat}", env)
                r.check_keys(perm, ("protection",), f"`permissions` of {ewhat}")
                r.choice(perm, "protection", ewhat, ISOLATION)
            key = f"{pname}/{ename}"
            if key in ctx.environments:
                r.fail(f"{what} defines environment {ename!r} twice", env, "name")
            ctx.environments[key] = EnvironmentInfo(key, isolated=isolated)
            _grouping(ctx, env, Scope(pname, key), ewhat)
    return names


def _grouping(ctx: Context, node: Node, scope: Scope, where: str) -> None:
    """The groups, services and databases `node` holds, in that order, each where `scope` says."""
    r = ctx.r
    for key in ("envVarGroups", "services", "databases"):
        if node.get(key) is None:
            continue
        seq = r.sequence(node[key], f"`{key}` of {where}", node.line_of(key))
        for i, item in enumerate(seq):
            entry = r.mapping(item, f"each entry of `{key}`", seq.line_of(i))
            if key == "services":
                ctx.services.append(read_service(ctx, entry, scope))
            elif key == "databases":
                ctx.databases.append(read_database(ctx, entry, scope))
            else:
                read_group(ctx, entry)
