"""The platforms' APIs: Render's REST API and Railway's GraphQL API, read-only.

Keys come only from the environment (`RENDER_API_KEY`; `RAILWAY_API_TOKEN` for an account or
workspace token, `RAILWAY_TOKEN` for a project token) or from a file, never from a command
line, and never reach an output, a log or the cache. A read is paced under the platform's rate
limits and retries what a pause can fix (`pnet.sources.api.http`); what it found is kept for a
few minutes without its secrets (`pnet.sources.api.cache`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import httpx

from pnet.model import Platform, Workspace
from pnet.sources.api import cache
from pnet.sources.api.http import RetryPolicy, Say
from pnet.sources.api.railway import RAILWAY_API, fetch_railway, variables_query
from pnet.sources.api.render import RENDER_API, WORKSPACE_VARIABLE, fetch_render
from pnet.sources.keys import (
    GONE_FLAGS,
    ApiChoice,
    Key,
    find_key,
    gone_flag,
    need_key,
    parse_choice,
    read_key_file,
)

CacheUse = Literal["read", "write", "off"]


@dataclass(frozen=True)
class Read:
    """What one API read found, and when: `read_at` is epoch seconds; `cached` when it comes
    from the cache, which left out the values of `secrets_left_out` variables."""

    workspace: Workspace
    read_at: float
    cached: bool = False
    secrets_left_out: int = 0


def load(
    choice: str | ApiChoice,
    environ: Mapping[str, str],
    *,
    key: Key | None = None,
    service_id: str | None = None,
    cache_use: CacheUse = "off",
    say: Say | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
) -> Read:
    """Synchronous entry point: the workspace the named API describes.

    `cache_use`: `read` uses a fresh cache entry and keeps a new read; `write` reads the API and
    keeps what it found; `off` touches no cache. `say` gets the progress line.
    """
    picked = parse_choice(choice) if isinstance(choice, str) else choice
    platform = picked.platform
    key = key or find_key(platform, environ)
    if key is None:
        raise need_key(platform)
    if platform is Platform.RENDER:
        scope = picked.scope or environ.get(WORKSPACE_VARIABLE, "").strip() or None
    else:
        scope = picked.scope or environ.get("RAILWAY_PROJECT_ID", "").strip() or None
    where = cache.entry(platform, key.value, scope, environ) if cache_use != "off" else None
    if cache_use == "read":
        hit = cache.load(where)
        if hit is not None:
            if say is not None:
                say(f"{platform} API: from the cache")
            return Read(hit.workspace, hit.read_at, True, hit.secrets_left_out)
    if platform is Platform.RENDER:
        ws = asyncio.run(
            fetch_render(
                key.value,
                workspace=scope,
                service_id=service_id,
                transport=transport,
                say=say,
                retry=retry,
            )
        )
    else:
        ws = asyncio.run(
            fetch_railway(
                key.value,
                kind=key.kind,
                project_id=scope,
                transport=transport,
                say=say,
                retry=retry,
            )
        )
    return Read(ws, cache.save(where, ws))


__all__ = [
    "GONE_FLAGS",
    "RAILWAY_API",
    "RENDER_API",
    "WORKSPACE_VARIABLE",
    "ApiChoice",
    "CacheUse",
    "Key",
    "Read",
    "fetch_railway",
    "fetch_render",
    "find_key",
    "gone_flag",
    "load",
    "need_key",
    "parse_choice",
    "read_key_file",
    "variables_query",
]
