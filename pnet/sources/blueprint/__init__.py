"""Render Blueprints (`render.yaml`): the workspace a Blueprint describes, as Render would build it.

The file is read the way Render reads it: the whole spec's keys are accepted (YAML or JSON
syntax, `projects[].environments[]`, `ungrouped`, `previews`, the legacy `env:` and
`type: redis`), and what Render would refuse is one `FILE:LINE: message` error.

What a Blueprint cannot know stays unknown rather than guessed: a service's slug gets a
4-character hash at creation (`host` is the name's slug form, `host_known=False`), a
database's `dpg-...` id, generated secrets and `sync: false` values. Such env vars have
`value=None`, name what they point at (`ref_service`, `ref_type`, `ref_property`/`ref_key`)
and say why in `note`. A reference to a resource the file does not define loads with
`resolved=False`: Render accepts it when the resource already exists in the workspace.
A `fromGroup` naming an undefined group is kept as the marker variable `fromGroup:NAME`.

The package reads a Blueprint in two passes over one `Context`: `projects` walks the document
and `services`, `databases` and `envvars` read and check each entry against `schema`; then
each service and database is built, its references resolved by `references`, and `naming`
keeps every name unique in the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pnet.model import Platform, Service, Workspace
from pnet.sources.blueprint.context import Context
from pnet.sources.blueprint.databases import build_database
from pnet.sources.blueprint.naming import folder_name, unique_names
from pnet.sources.blueprint.naming import slug_base as slug_base
from pnet.sources.blueprint.projects import read_document
from pnet.sources.blueprint.schema import ALLOW_KEYS as ALLOW_KEYS
from pnet.sources.blueprint.schema import AUTO_DEPLOY_TRIGGERS as AUTO_DEPLOY_TRIGGERS
from pnet.sources.blueprint.schema import CROSS_SERVICE_BUILTINS as CROSS_SERVICE_BUILTINS
from pnet.sources.blueprint.schema import DATABASE_KEYS as DATABASE_KEYS
from pnet.sources.blueprint.schema import DATABASE_PLAN as DATABASE_PLAN
from pnet.sources.blueprint.schema import DATABASE_PROPERTIES as DATABASE_PROPERTIES
from pnet.sources.blueprint.schema import DEFAULT_DATABASE_PLAN as DEFAULT_DATABASE_PLAN
from pnet.sources.blueprint.schema import DOCKER_ONLY_LANGUAGES as DOCKER_ONLY_LANGUAGES
from pnet.sources.blueprint.schema import ENV_VAR_KEYS as ENV_VAR_KEYS
from pnet.sources.blueprint.schema import ENVIRONMENT_KEYS as ENVIRONMENT_KEYS
from pnet.sources.blueprint.schema import FROM_DATABASE_KEYS as FROM_DATABASE_KEYS
from pnet.sources.blueprint.schema import FROM_SERVICE_KEYS as FROM_SERVICE_KEYS
from pnet.sources.blueprint.schema import GROUP_KEYS as GROUP_KEYS
from pnet.sources.blueprint.schema import GROUPING_KEYS as GROUPING_KEYS
from pnet.sources.blueprint.schema import ISOLATION as ISOLATION
from pnet.sources.blueprint.schema import KEYVALUE_PLANS as KEYVALUE_PLANS
from pnet.sources.blueprint.schema import PREVIEW_GENERATION as PREVIEW_GENERATION
from pnet.sources.blueprint.schema import PROJECT_KEYS as PROJECT_KEYS
from pnet.sources.blueprint.schema import ROOT_KEYS as ROOT_KEYS
from pnet.sources.blueprint.schema import RUNTIMES as RUNTIMES
from pnet.sources.blueprint.schema import SERVICE_KEYS as SERVICE_KEYS
from pnet.sources.blueprint.schema import SERVICE_PLANS as SERVICE_PLANS
from pnet.sources.blueprint.schema import SERVICE_PROPERTIES as SERVICE_PROPERTIES
from pnet.sources.blueprint.schema import SERVICE_TYPES as SERVICE_TYPES
from pnet.sources.blueprint.services import build_service
from pnet.yamlload import load_file, load_text

__all__ = ["load", "loads", "parse", "slug_base"]


def load(path: str | Path) -> Workspace:
    """Read a `render.yaml` file."""
    return parse(load_file(path), str(path))


def loads(text: str, file: str = "render.yaml") -> Workspace:
    """Read Blueprint text; `file` names it in error messages."""
    return parse(load_text(text, file), file)


def parse(doc: Any, file: str) -> Workspace:
    """Build the Workspace a parsed Blueprint document describes."""
    ctx = Context(file)
    projects = read_document(ctx, doc)
    services = [build_service(ctx, raw) for raw in ctx.services]
    databases: list[Service] = []
    for raw in ctx.databases:
        databases.extend(build_database(ctx, raw))
    services = unique_names(services, databases)
    name = projects[0] if len(projects) == 1 else folder_name(file)
    return Workspace(
        name=name,
        platform=Platform.RENDER,
        services=tuple(services),
        project=projects[0] if len(projects) == 1 else None,
        environments=ctx.environments,
        source=file,
        notes=tuple(ctx.notes),
    )
