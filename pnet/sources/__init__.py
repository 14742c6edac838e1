"""Workspace sources: a fixture, a Render Blueprint, the instance's environment, an API."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pnet.errors import InputError
from pnet.model import Platform, Service, Workspace
from pnet.sources import blueprint, environment, fixture
from pnet.sources import blueprint as _blueprint

__all__ = ["blueprint", "environment", "fixture", "identify", "load_workspace"]


def load_workspace(
    *,
    workspace: str | Path | None = None,
    blueprint: str | Path | None = None,
    api: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> tuple[Workspace, Service | None]:
    """The workspace from the source given, and the service this instance is, when it is one.

    `workspace` is a fixture file, `blueprint` a `render.yaml`, `api` names a platform API
    (`render`, `render:WORKSPACE`, `railway`, `railway:PROJECT_ID`; keys from `environ`).
    With none of them, the running instance's environment is the source, merged with a
    `render.yaml` found in `cwd` or the instance's project root.
    """
    env = os.environ if environ is None else environ
    given = [
        n for n, v in (("--workspace", workspace), ("--blueprint", blueprint), ("--api", api)) if v
    ]
    if len(given) > 1:
        raise InputError(f"give one source, not {' and '.join(given)}")
    inside = environment.detect(env)
    if workspace:
        return fixture.load(workspace), None
    if blueprint:
        bp = _blueprint.load(blueprint)
        if inside is Platform.RENDER:
            return environment.from_environ(env, blueprint=bp)
        return bp, None
    if api:
        from pnet.sources import api as api_source

        ws = api_source.load(api, env)
        return ws, identify(ws, env) if inside is ws.platform else None
    here = cwd if cwd is not None else Path.cwd()
    if inside is None:
        found = environment.find_blueprint(here, env)
        hint = f" (found {found}: try --blueprint {found})" if found else ""
        raise InputError(environment.NOT_INSIDE + hint)
    found = environment.find_blueprint(here, env)
    merged = _blueprint.load(found) if found and inside is Platform.RENDER else None
    return environment.from_environ(env, blueprint=merged)


def identify(workspace: Workspace, environ: Mapping[str, str]) -> Service | None:
    """The service of `workspace` the instance's environment says this is, if any."""
    if workspace.platform is Platform.RENDER:
        sid = environ.get("RENDER_SERVICE_ID")
        slug = environ.get("RENDER_SERVICE_NAME")
        for svc in workspace.services:
            if (sid and svc.id == sid) or (slug and svc.host == slug and svc.host_known):
                return svc
        return None
    sid = environ.get("RAILWAY_SERVICE_ID")
    name = environ.get("RAILWAY_SERVICE_NAME")
    env_name = environment.environment_name(environ)
    for svc in workspace.services:
        if env_name and svc.environment != env_name:
            continue
        if (sid and svc.id == sid) or (name and svc.name == name):
            return svc
    return None
