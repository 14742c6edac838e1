"""Inside an instance with an API key: the API's workspace, seen from this instance.

The API knows the other services, the regions, plans, ports and live instances; the
instance knows what this service really reads. The merged workspace is the API's, with this
service's variables taken from the instance's environment (its values win, the API's
description of each, such as an environment group it comes from, is kept), and this service
stays the source, so the app opens on it and the doctor checks from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from pnet.model import EnvVar, Service, Workspace
from pnet.sources import environment, identify, replaced

# What the instance alone would say about what it cannot see: moot once the API has been read,
# and, once the API lists this service, what it had to guess about itself.
_MOOT = ("give --blueprint FILE", "RAILWAY_API_TOKEN", "DNS answers will tell")
_GUESSED = ("RENDER_SERVICE_TYPE is", "RENDER_SERVICE_NAME is not set")


def merge(api: Workspace, environ: Mapping[str, str]) -> tuple[Workspace, Service]:
    """The API's workspace with this instance's view of itself, and this instance's service."""
    inside, mine = environment.from_environ(environ)
    kept = tuple(n for n in inside.notes if not any(m in n for m in _MOOT))
    source = f"{api.source} + this instance's environment" if api.source else "environment"
    found = identify(api, environ)
    if found is None:
        where = mine.host or mine.name
        note = (
            f"this instance ({where}) is not among the services the API lists "
            "(a key of another workspace or project?): its service is described from its "
            "environment only"
        )
        ws = replace(
            api,
            services=(mine, *api.services),
            source=source,
            notes=(*api.notes, *kept, note),
        )
        return ws, mine
    env, missing = _variables(found.env, mine.env, environ)
    notes = [n for n in kept if not any(g in n for g in _GUESSED)]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        notes.append(
            f"{len(missing)} variables the API lists for {found.name} are not in this "
            f"instance's environment (set after its deploy?): {shown}"
        )
    me = replace(
        found,
        env=env,
        host=found.host or (mine.host if mine.host_known else None),
        public_url=found.public_url or mine.public_url,
        id=found.id or mine.id,
    )
    ws = replace(replaced(api, found, me), source=source, notes=(*api.notes, *notes))
    return ws, me


def _variables(
    api: tuple[EnvVar, ...], instance: tuple[EnvVar, ...], environ: Mapping[str, str]
) -> tuple[tuple[EnvVar, ...], list[str]]:
    """The instance's variables, each with what the API says of it, and the keys the API lists
    that the instance's environment does not hold."""
    described = {v.key: v for v in api}
    out = []
    for var in instance:
        known = described.get(var.key)
        out.append(replace(known, value=var.value, resolved=True, note="") if known else var)
    present = {v.key for v in instance}
    missing = []
    for var in api:
        if var.key in present:
            continue
        if var.key in environ:
            # one the instance's view sets apart (PORT, the platform's own): still read
            out.append(replace(var, value=environ[var.key], resolved=True, note=""))
        else:
            missing.append(var.key)
    return tuple(out), missing
