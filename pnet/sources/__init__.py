"""Workspace sources: a fixture, a Render Blueprint, the instance's environment, an API.

`load` is the one place that decides which: the front ends only pass what they were given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pnet.errors import InputError
from pnet.model import Platform, Service, Workspace
from pnet.sources import blueprint, environment, fixture, keys
from pnet.sources import blueprint as _blueprint

if TYPE_CHECKING:
    import httpx

    from pnet.sources.api import CacheUse
    from pnet.sources.api.http import RetryPolicy, Say
    from pnet.sources.keys import Key

__all__ = ["Loaded", "blueprint", "environment", "fixture", "identify", "load", "load_workspace"]


@dataclass(frozen=True)
class Loaded:
    """A workspace, the service this instance is when running inside one, and, when an API was
    read, when (`read_at`, epoch seconds) and whether from the cache (`cached`)."""

    workspace: Workspace
    service: Service | None
    read_at: float | None = None
    cached: bool = False
    secrets_left_out: int = 0


def load_workspace(
    *,
    workspace: str | Path | None = None,
    blueprint: str | Path | None = None,
    api: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    render_key_file: str | Path | None = None,
    railway_token_file: str | Path | None = None,
    cache: CacheUse = "off",
    say: Say | None = None,
) -> tuple[Workspace, Service | None]:
    """The workspace from the source given, and the service this instance is, when it is one."""
    got = load(
        workspace=workspace,
        blueprint=blueprint,
        api=api,
        environ=environ,
        cwd=cwd,
        render_key_file=render_key_file,
        railway_token_file=railway_token_file,
        cache=cache,
        say=say,
    )
    return got.workspace, got.service


def load(
    *,
    workspace: str | Path | None = None,
    blueprint: str | Path | None = None,
    api: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    render_key_file: str | Path | None = None,
    railway_token_file: str | Path | None = None,
    cache: CacheUse = "off",
    say: Say | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Loaded:
    """The workspace from the source given.

    `workspace` is a fixture file, `blueprint` a `render.yaml`, `api` names a platform API
    (`render`, `render:WORKSPACE`, `railway`, `railway:PROJECT_ID`), the key files hold a key.
    With none of them, a key in `environ` (`RENDER_API_KEY`, `RAILWAY_API_TOKEN`,
    `RAILWAY_TOKEN`) reads the platform's API; inside an instance of that platform the API's
    view is merged into the instance's, which stays the source. Inside an instance with no key,
    the instance's environment is the source, with a `render.yaml` found in `cwd` or the
    instance's project root. `cache` says how the API read uses the cache; `say` gets the
    progress line while an API is read.
    """
    env = os.environ if environ is None else environ
    keyed = render_key_file is not None or railway_token_file is not None
    given = [
        n
        for n, v in (
            ("--workspace", workspace),
            ("--blueprint", blueprint),
            ("--api", api),
            ("a key file", keyed),
        )
        if v
    ]
    if len(given) > 1:
        raise InputError(f"give one source, not {' and '.join(given)}")
    if render_key_file is not None and railway_token_file is not None:
        raise InputError("give one key file, not --render-api-key-file and --railway-token-file")
    inside = environment.detect(env)
    if workspace:
        return Loaded(fixture.load(workspace), None)
    if blueprint:
        bp = _blueprint.load(blueprint)
        if inside is Platform.RENDER:
            return Loaded(*environment.from_environ(env, blueprint=bp))
        return Loaded(bp, None)
    key = _key(api, env, inside, render_key_file, railway_token_file)
    if key is not None:
        from pnet.sources import api as api_source

        choice = api or key.platform.value
        here = inside is key.platform
        read = api_source.load(
            choice,
            env,
            key=key,
            service_id=(env.get("RENDER_SERVICE_ID") or None) if here else None,
            cache_use=cache,
            say=say,
            transport=transport,
            retry=retry,
        )
        ws, me = read.workspace, None
        if here:
            from pnet.sources.merge import merge

            ws, me = merge(ws, env)
        return Loaded(ws, me, read.read_at, read.cached, read.secrets_left_out)
    if api:
        raise keys.need_key(keys.parse_choice(api).platform)
    here_path = cwd if cwd is not None else Path.cwd()
    if inside is None:
        found = environment.find_blueprint(here_path, env)
        hint = f" (found {found}: try --blueprint {found})" if found else ""
        raise InputError(environment.NOT_INSIDE + hint)
    found = environment.find_blueprint(here_path, env)
    merged = _blueprint.load(found) if found and inside is Platform.RENDER else None
    return Loaded(*environment.from_environ(env, blueprint=merged))


def _key(
    api: str | None,
    env: Mapping[str, str],
    inside: Platform | None,
    render_key_file: str | Path | None,
    railway_token_file: str | Path | None,
) -> Key | None:
    """The key to read an API with, if any: a key file, the API named, the instance's own
    platform, else whichever key the environment holds (Render first)."""
    find_key = keys.find_key
    if render_key_file is not None:
        return find_key(Platform.RENDER, env, render_key_file)
    if railway_token_file is not None:
        return find_key(Platform.RAILWAY, env, railway_token_file)
    if api:
        return find_key(keys.parse_choice(api).platform, env)
    if inside is not None:
        return find_key(inside, env)
    return find_key(Platform.RENDER, env) or find_key(Platform.RAILWAY, env)


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


def replaced(workspace: Workspace, old: Service, new: Service) -> Workspace:
    """`workspace` with `old` (by identity) replaced by `new`."""
    return replace(workspace, services=tuple(new if s is old else s for s in workspace.services))
