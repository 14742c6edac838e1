"""Names in a Blueprint: a resource's name, its slug, the workspace's name, and names shared by a
service and a database."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from pnet.model import EnvVar, Service
from pnet.sources.schema import Reader
from pnet.yamlload import Node


def slug_base(name: str) -> str:
    """The part of a slug Render derives from a name: `My.API` -> `my-api`."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return base or name.lower()


def read_name(r: Reader, node: Node, what: str) -> str:
    """The required, non-blank `name` of `node`, stripped."""
    r.require(node, "name", what)
    name = (r.string(node, "name", what) or "").strip()
    if not name:
        r.fail(f"'name' of {what} is empty", node, "name")
    return name


def folder_name(file: str) -> str:
    """A name for the workspace: the repository folder of a `render.yaml`, else the file's stem."""
    path = Path(file)
    if path.name not in ("render.yaml", "render.yml") or file.startswith("<"):
        return path.stem or "blueprint"
    try:
        return path.resolve().parent.name or path.stem
    except OSError:
        return path.stem


def unique_names(services: list[Service], databases: list[Service]) -> list[Service]:
    """Render keeps services and databases apart, so a Blueprint may name one of each `app`; in
    the model a name is unique, so such a database is `app (postgres)`, and the `fromDatabase`
    references to it follow."""
    taken = {svc.name for svc in services}
    renamed = {db.name: f"{db.name} ({db.kind.value})" for db in databases if db.name in taken}
    if not renamed:
        return services + databases

    def follow(var: EnvVar) -> EnvVar:
        if var.origin == "fromDatabase" and var.ref_service in renamed:
            return replace(var, ref_service=renamed[var.ref_service])
        return var

    out = [replace(svc, env=tuple(follow(v) for v in svc.env)) for svc in services]
    for db in databases:
        if db.name in renamed:
            db = replace(db, name=renamed[db.name], blueprint_name=db.name)
        out.append(replace(db, env=tuple(follow(v) for v in db.env)))
    return out
