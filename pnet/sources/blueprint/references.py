"""Blueprint references resolved against the file: `fromGroup`, `fromService` (a property or
another service's `envVarKey`) and `fromDatabase`, with what Render injects, or why it cannot be
known before the resources exist."""

from __future__ import annotations

from dataclasses import replace

from pnet.model import EnvVar, Kind
from pnet.platforms import render
from pnet.sources.blueprint.context import Context, Raw
from pnet.sources.blueprint.envvars import plain_var, port_of, text_of
from pnet.sources.blueprint.naming import slug_base
from pnet.sources.blueprint.schema import CROSS_SERVICE_BUILTINS
from pnet.sources.blueprint.spots import var_spot
from pnet.yamlload import Node


def service_env(ctx: Context, raw: Raw) -> tuple[EnvVar, ...]:
    """A service's env vars as Render injects them: its groups' first, then its own over them."""
    out: dict[str, EnvVar] = {}
    group_vars: dict[str, EnvVar] = {}
    for var, _line in raw.vars:
        if "fromGroup" in var:
            gname = str(var["fromGroup"])
            group = ctx.groups.get(gname)
            if group is None:
                marker = f"fromGroup:{gname}"
                line, column = var_spot(var)
                group_vars[marker] = EnvVar(
                    marker,
                    None,
                    "fromGroup",
                    resolved=False,
                    note=f"the Blueprint defines no environment group {gname!r}: Render "
                    "uses the workspace's group of that name if it exists",
                    line=line,
                    column=column,
                    ref_service=gname,
                )
                continue
            for gv in group.vars:
                group_vars.setdefault(gv.key, gv)
            continue
        key = str(var["key"])
        if key in out:
            continue
        out[key] = _service_var(ctx, var, key)
    merged = dict(group_vars)
    merged.update(out)
    return tuple(merged.values())


def _service_var(ctx: Context, var: Node, key: str) -> EnvVar:
    """A service's own variable: its value, or what it refers to."""
    spot = var_spot(var)
    plain = plain_var(var)
    if plain is not None:
        return replace(plain, key=key)
    if "sync" in var:
        return EnvVar(
            key,
            None,
            "sync",
            note="`sync: false`: the value is typed in the "
            "Dashboard when the Blueprint is first created",
            line=spot[0],
            column=spot[1],
        )
    if "fromService" in var:
        return _from_service(ctx, var["fromService"], key, spot)
    return _from_database(ctx, var["fromDatabase"], key, spot)


def _find_service(ctx: Context, name: str) -> Raw | None:
    for raw in ctx.services:
        if raw.name == name:
            return raw
    return None


def _find_database(ctx: Context, name: str) -> tuple[Raw, str | None] | None:
    """The database named `name`, or the one with a read replica of that name (and the replica)."""
    for raw in ctx.databases:
        if raw.name == name:
            return raw, None
        for rep in raw.node.get("readReplicas") or []:
            if str(rep.get("name")) == name:
                return raw, name
    return None


def _from_service(ctx: Context, ref: Node, key: str, spot: tuple[int, int]) -> EnvVar:
    """A `fromService` variable: unresolved when the file has no such service of that type."""
    name = str(ref["name"])
    rtype = str(ref["type"])
    rtype = "keyvalue" if rtype == "redis" else rtype
    prop = str(ref["property"]) if "property" in ref else None
    env_key = str(ref["envVarKey"]) if "envVarKey" in ref else None
    base = EnvVar(
        key,
        None,
        "fromService",
        line=spot[0],
        column=spot[1],
        ref_service=name,
        ref_type=rtype,
        ref_property=prop,
        ref_key=env_key,
    )
    target = _find_service(ctx, name)
    if target is None:
        return replace(
            base,
            resolved=False,
            note=f"the Blueprint defines no service "
            f"{name!r}: Render resolves it if a {rtype} of that name already "
            "exists in the workspace",
        )
    if target.bp_type != rtype and not (rtype == "web" and target.kind is Kind.STATIC):
        return replace(
            base,
            resolved=False,
            note=f"the Blueprint defines {name!r} as "
            f"`type: {target.bp_type}`, not {rtype}: Render looks for an existing "
            f"{rtype} named {name!r}",
        )
    if env_key is not None:
        return _from_env_key(ctx, base, target, env_key)
    assert prop is not None
    return _service_property(ctx, base, target, prop)


def _from_env_key(ctx: Context, base: EnvVar, target: Raw, env_key: str) -> EnvVar:
    """A `fromService` `envVarKey`: the target's own value, its group's, or why neither is known."""
    if env_key in CROSS_SERVICE_BUILTINS:
        return replace(
            base,
            note=f"{env_key} of {target.name} holds its slug, whose hash "
            "Render assigns at creation",
        )
    for var, _ in target.vars:
        if var.get("key") == env_key:
            if "value" in var:
                return replace(base, value=text_of(var, "value"))
            why = {
                "generateValue": "a value Render generates",
                "sync": "a value typed in the Dashboard (`sync: false`)",
            }
            origin = next((k for k in why if k in var), None)
            note = (
                f"{target.name}.{env_key} is {why[origin]}"
                if origin
                else f"{target.name}.{env_key} is itself a reference"
            )
            return replace(base, note=note)
    for gvar, _ in target.vars:
        group = ctx.groups.get(str(gvar.get("fromGroup", "")))
        for gv in group.vars if group else []:
            if gv.key == env_key:
                return replace(base, value=gv.value, note=gv.note)
    if env_key.startswith("RENDER_") or env_key == "IS_PULL_REQUEST":
        return replace(
            base,
            resolved=False,
            note=f"{env_key} is one of {target.name}'s "
            "own built-in variables, which other services cannot read",
        )
    return replace(
        base,
        resolved=False,
        note=f"{target.name} sets no variable {env_key!r} "
        "in the Blueprint (Render keeps variables set in the Dashboard)",
    )


def _service_property(ctx: Context, base: EnvVar, target: Raw, prop: str) -> EnvVar:
    """A `fromService` `property` (host, port, hostport, connectionString) of a defined service."""
    kind = target.kind
    label = render.service_type(kind, target.plan).label
    slug = f"{slug_base(target.name)}-xxxx"
    if kind is Kind.KEYVALUE:
        if prop == "port":
            return replace(base, value=str(render.KEYVALUE_PORT))
        what = {
            "host": "its host",
            "hostport": "its host:port",
            "connectionString": "its internal URL",
        }[prop]
        return replace(
            base,
            note=f"{what} holds the Key Value id (`red-...`), which Render "
            "assigns at creation: redis://red-xxxxxxxxxxxxxxxxxxxx:6379",
        )
    if prop == "connectionString":
        return replace(
            base,
            resolved=False,
            note=f"connectionString is for Postgres and Key Value only; {target.name} is a {label}",
        )
    if (
        kind not in (Kind.WEB, Kind.PSERV)
        or not render.service_type(kind, target.plan).has_internal_address
    ):
        stype = render.service_type(kind, target.plan)
        return replace(
            base,
            note=f"{target.name} is a {label}: "
            f"{stype.why_not_receiving or 'it has no internal address'}",
        )
    port, known = port_of(ctx, target)
    if prop == "port":
        guess = "" if known else f" (assumed: {target.name} sets no PORT; Render's default)"
        return replace(base, value=str(port), note=base.note + guess if guess else base.note)
    if prop == "host":
        return replace(
            base, note=f"the slug's hash is assigned at creation: Render injects `{slug}`"
        )
    return replace(
        base,
        note=f"the slug's hash is assigned at creation: Render injects "
        f"`{slug}:{port}` (host:port, no scheme)",
    )


def _from_database(ctx: Context, ref: Node, key: str, spot: tuple[int, int]) -> EnvVar:
    """A `fromDatabase` variable: the values the file states, notes for what Render assigns."""
    name = str(ref["name"])
    prop = str(ref["property"])
    base = EnvVar(
        key,
        None,
        "fromDatabase",
        line=spot[0],
        column=spot[1],
        ref_service=name,
        ref_type="postgres",
        ref_property=prop,
    )
    found = _find_database(ctx, name)
    if found is None:
        hint = ""
        svc = _find_service(ctx, name)
        if svc is not None and svc.kind is Kind.KEYVALUE:
            hint = f" ({name} is a Key Value instance: use `fromService` with `type: keyvalue`)"
        return replace(
            base,
            resolved=False,
            note=f"the Blueprint defines no database "
            f"{name!r}: Render resolves it if one already exists in the "
            f"workspace{hint}",
        )
    db, _replica = found
    what = f"database {db.name!r}"
    if prop == "port":
        return replace(base, value=str(render.POSTGRES_PORT))
    if prop == "user":
        user = ctx.r.string(db.node, "user", what)
        if user:
            return replace(base, value=user)
        return replace(base, note="the user name is generated from the database name at creation")
    if prop == "database":
        database = ctx.r.string(db.node, "databaseName", what)
        if database:
            return replace(base, value=database, note="Render may add a suffix to it")
        return replace(base, note="the database name is generated at creation")
    if prop == "password":
        return replace(base, note="Render generates the password at creation")
    if prop == "host":
        return replace(base, note="the host is the database id (`dpg-...-a`), assigned at creation")
    return replace(
        base,
        note="holds the database id (`dpg-...-a`) and a password, both "
        "assigned at creation: postgresql://USER:PASSWORD@dpg-...-a:5432/DATABASE",
    )
