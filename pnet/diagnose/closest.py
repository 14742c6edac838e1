"""The known internal hosts closest to a name that does not resolve: `did you mean`."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from dataclasses import dataclass

from pnet.diagnose.context import Context
from pnet.model import Service, Workspace
from pnet.targets import services_named
from pnet.textdist import bigrams, levenshtein


@dataclass(frozen=True)
class _Hosts:
    entries: tuple[tuple[str, Service], ...]
    grams: dict[str, tuple[int, ...]]


_HOST_INDEXES: dict[int, tuple[weakref.ref[Workspace], _Hosts]] = {}


def _hosts(workspace: Workspace) -> _Hosts:
    hit = _HOST_INDEXES.get(id(workspace))
    if hit is not None and hit[0]() is workspace:
        return hit[1]
    entries: list[tuple[str, Service]] = []
    for svc in workspace.services:
        if not (svc.host and svc.type.has_internal_address):
            continue
        entries.append((svc.host.lower(), svc))
        if svc.discovery_host and svc.discovery_host != svc.host:
            entries.append((svc.discovery_host.lower(), svc))
    grams: dict[str, list[int]] = {}
    for i, (host, _) in enumerate(entries):
        for g in bigrams(host):
            grams.setdefault(g, []).append(i)
    index = _Hosts(tuple(entries), {g: tuple(v) for g, v in grams.items()})
    if len(_HOST_INDEXES) > 64:
        _HOST_INDEXES.clear()
    _HOST_INDEXES[id(workspace)] = (weakref.ref(workspace), index)
    return index


def closest_hosts(
    ctx: Context, host: str, *, source: Service | None, limit: int = 3
) -> list[tuple[int, Service]]:
    """Known internal hosts within a few edits of `host`, nearest first (same network first).

    A host whose name part is a service's name (`recs-a1b3` for `recs`) counts as one edit away.
    """
    host = host.lower()
    bound = 2 if len(host) < 12 else 3
    index = _hosts(ctx.workspace)
    grams = bigrams(host)
    need = len(grams) - 2 * bound
    if need > 0:
        counts: dict[int, int] = {}
        for g in grams:
            for i in index.grams.get(g, ()):
                counts[i] = counts.get(i, 0) + 1
        candidates: Iterable[int] = [i for i, c in counts.items() if c >= need]
    else:
        candidates = range(len(index.entries))
    best: dict[str, tuple[int, Service]] = {}
    for i in candidates:
        name, svc = index.entries[i]
        d = levenshtein(host, name, bound)
        if d <= bound and (svc.name not in best or d < best[svc.name][0]):
            best[svc.name] = (d, svc)
    base = host.split(".")[0]
    name_part = base.rsplit("-", 1)[0] if "-" in base else base
    for svc in services_named(ctx.workspace, name_part):
        named = svc.host and svc.type.has_internal_address
        if named and (svc.name not in best or best[svc.name][0] > 1):
            best[svc.name] = (1, svc)

    def order(item: tuple[int, Service]) -> tuple[int, int, str]:
        d, svc = item
        far = 0 if source is None or svc.location == source.location else 1
        return d, far, svc.name

    return sorted(best.values(), key=order)[:limit]
