"""Blueprint env vars and environment groups: each entry checked as Render checks it, the
values the file itself gives, and the port a service's `PORT` names."""

from __future__ import annotations

from dataclasses import replace

from pnet.model import EnvVar
from pnet.platforms import render
from pnet.sources.blueprint.context import Context, Group, Raw
from pnet.sources.blueprint.naming import read_name
from pnet.sources.blueprint.schema import (
    DATABASE_PROPERTIES,
    ENV_VAR_KEYS,
    FROM_DATABASE_KEYS,
    FROM_SERVICE_KEYS,
    GROUP_KEYS,
    SERVICE_PROPERTIES,
    SERVICE_TYPES,
)
from pnet.sources.blueprint.spots import var_spot
from pnet.sources.schema import Reader, type_name
from pnet.yamlload import Node


def read_group(ctx: Context, node: Node) -> None:
    """One `envVarGroups:` entry, kept in `ctx.groups` as its services receive it."""
    r = ctx.r
    name = read_name(r, node, "an environment group")
    what = f"environment group {name!r}"
    r.check_keys(node, GROUP_KEYS, what)
    if name in ctx.groups:
        r.fail(
            f"duplicate environment group {name!r} (first on line {ctx.groups[name].line})",
            node,
            "name",
        )
    out: list[EnvVar] = []
    for item, _line in read_env_vars(ctx, node, what, allow_refs=False):
        key = str(item["key"])
        var = plain_var(item)
        if var is None:
            ctx.notes.append(
                f"{what}: {key} uses `sync: false`, which Render ignores in an environment group"
            )
            continue
        out.append(replace(var, origin="fromGroup", ref_service=name))
    ctx.groups[name] = Group(name, node.line, out)


def read_env_vars(
    ctx: Context, node: Node, what: str, *, allow_refs: bool
) -> list[tuple[Node, int]]:
    """The checked `envVars` entries of a service (`allow_refs`) or a group, with their lines."""
    r = ctx.r
    if node.get("envVars") is None:
        return []
    seq = r.sequence(node["envVars"], f"'envVars' of {what}", node.line_of("envVars"))
    out: list[tuple[Node, int]] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(seq):
        var = r.mapping(item, f"each entry of 'envVars' of {what}", seq.line_of(i))
        r.check_keys(var, ENV_VAR_KEYS, f"an env var of {what}")
        sources = [
            k
            for k in (
                "value",
                "generateValue",
                "sync",
                "fromService",
                "fromDatabase",
                "fromGroup",
            )
            if k in var
        ]
        if "fromGroup" in var:
            if not allow_refs:
                r.fail(
                    f"{what}: an environment group cannot include another group (`fromGroup`)",
                    var,
                    "fromGroup",
                )
            if len(var) > 1:
                other = next(k for k in var if k != "fromGroup")
                r.fail(
                    f"{what}: `fromGroup` stands alone in its entry, without {other!r}",
                    var,
                    other,
                )
            group = r.string(var, "fromGroup", what)
            if not group:
                r.fail(
                    f"{what}: `fromGroup` needs the name of an environment group",
                    var,
                    "fromGroup",
                )
            var["fromGroup"] = group
            out.append((var, var.line))
            continue
        key = r.string(var, "key", f"an env var of {what}")
        if not key:
            r.fail(f"an env var of {what} needs 'key'", var)
        var["key"] = key
        vwhat = f"env var {key!r} of {what}"
        if not sources:
            r.fail(
                f"{vwhat} needs one of: value, generateValue, sync: false, fromService, "
                "fromDatabase",
                var,
                "key",
            )
        if len(sources) > 1:
            r.fail(
                f"{vwhat} sets both {sources[0]!r} and {sources[1]!r}: give one",
                var,
                sources[1],
            )
        source = sources[0]
        if not allow_refs and source in ("fromService", "fromDatabase"):
            r.fail(
                f"{vwhat}: an environment group cannot reference a service or database "
                f"(`{source}`)",
                var,
                source,
            )
        if source == "value" and isinstance(var["value"], dict | list):
            r.fail(
                f"'value' of {vwhat} must be a string, not {type_name(var['value'])}",
                var,
                "value",
            )
        if source == "generateValue" and not r.boolean(var, "generateValue", vwhat):
            r.fail(f"{vwhat}: `generateValue` only takes `true`", var, "generateValue")
        if source == "sync" and r.boolean(var, "sync", vwhat, default=True):
            r.fail(f"{vwhat}: `sync` only takes `false` (prompt for the value once)", var, "sync")
        if source == "fromService":
            _check_from_service(r, var, vwhat)
        if source == "fromDatabase":
            _check_from_database(r, var, vwhat)
        if "previewValue" in var and isinstance(var["previewValue"], dict | list):
            r.fail(f"'previewValue' of {vwhat} must be a string", var, "previewValue")
        if key in seen:
            r.fail(f"{what} sets env var {key!r} twice (first on line {seen[key]})", var, "key")
        seen[key] = var.line
        out.append((var, var.line))
    return out


def _check_from_service(r: Reader, var: Node, vwhat: str) -> None:
    ref = r.mapping(var["fromService"], f"'fromService' of {vwhat}", var.line_of("fromService"))
    rwhat = f"'fromService' of {vwhat}"
    r.check_keys(ref, FROM_SERVICE_KEYS, rwhat)
    name = r.string(ref, "name", rwhat)
    if not name:
        r.fail(f"{rwhat} needs 'name'", ref)
    ref["name"] = name
    rtype = r.string(ref, "type", rwhat)
    if rtype is None:
        r.fail(
            f"{rwhat} needs 'type' (the referenced service's type: {', '.join(SERVICE_TYPES)})",
            ref,
        )
    if rtype in ("postgres", "postgresql", "database"):
        r.fail(
            f"{rwhat}: reference a Postgres database with `fromDatabase`, not `fromService`",
            ref,
            "type",
        )
    r.choice(ref, "type", rwhat, SERVICE_TYPES)
    has_prop, has_key = "property" in ref, "envVarKey" in ref
    if has_prop == has_key:
        r.fail(
            f"{rwhat} needs exactly one of 'property' ({', '.join(SERVICE_PROPERTIES)}) "
            "or 'envVarKey'",
            ref,
        )
    if has_prop:
        r.choice(ref, "property", rwhat, SERVICE_PROPERTIES)
    else:
        r.string(ref, "envVarKey", rwhat)


def _check_from_database(r: Reader, var: Node, vwhat: str) -> None:
    ref = r.mapping(var["fromDatabase"], f"'fromDatabase' of {vwhat}", var.line_of("fromDatabase"))
    rwhat = f"'fromDatabase' of {vwhat}"
    r.check_keys(ref, FROM_DATABASE_KEYS, rwhat)
    name = r.string(ref, "name", rwhat)
    if not name:
        r.fail(f"{rwhat} needs 'name'", ref)
    ref["name"] = name
    if "property" not in ref:
        r.fail(f"{rwhat} needs 'property' ({', '.join(DATABASE_PROPERTIES)})", ref)
    r.choice(ref, "property", rwhat, DATABASE_PROPERTIES)


def plain_var(var: Node) -> EnvVar | None:
    """A variable whose value the file gives (`value`) or Render generates; None otherwise."""
    key = str(var["key"])
    line, column = var_spot(var)
    if "value" in var:
        return EnvVar(
            key,
            text_of(var, "value"),
            "value",
            line=line,
            column=column,
            value_at=var.span_of("value"),
        )
    if "generateValue" in var:
        return EnvVar(
            key,
            None,
            "generateValue",
            note="Render generates a random "
            "base64-encoded 256-bit value when the variable is created",
            line=line,
            column=column,
        )
    return None


def port_of(ctx: Context, raw: Raw) -> tuple[int, bool]:
    """The port a web or private service serves, and whether the file says it: its own `PORT`
    value or its group's, else Render's default 10000, assumed."""
    for var, _ in raw.vars:
        if var.get("key") == "PORT" and "value" in var:
            text = text_of(var, "value").strip()
            if text.isdigit() and 1 <= int(text) <= 65535:
                return int(text), True
            note = (
                f"{ctx.file}:{var.line}: PORT of service {raw.name!r} is {text!r}, not a "
                f"port: Render's default {render.DEFAULT_PORT} is assumed"
            )
            if note not in ctx.notes:
                ctx.notes.append(note)
            return render.DEFAULT_PORT, False
    group_port = _group_port(ctx, raw)
    if group_port is not None:
        return group_port, True
    return render.DEFAULT_PORT, False


def _group_port(ctx: Context, raw: Raw) -> int | None:
    """The `PORT` an environment group the service includes gives it, if one does."""
    for var, _ in raw.vars:
        if "fromGroup" in var:
            group = ctx.groups.get(str(var["fromGroup"]))
            for gv in group.vars if group else []:
                if gv.key == "PORT" and gv.value and gv.value.isdigit():
                    return int(gv.value)
    return None


def text_of(node: Node, key: str) -> str:
    """An env var value as Render stores it: the scalar's source text (`yes`, `0755`)."""
    value = node.get(key)
    if value is None:
        return ""
    raw = node.raw_of(key)
    if raw is not None and not isinstance(value, str):
        return raw
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
