"""The known internal hosts closest to a name that does not resolve: `did you mean`."""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from pnet.diagnose.context import Context
from pnet.model import Service, Workspace
from pnet.targets import services_named
from pnet.textdist import bigrams, levenshtein


@dataclass(frozen=True)
class _Hosts:
    entries: tuple[tuple[str, Service], ...]
    grams: dict[str, tuple[int, ...]]
    sets: tuple[frozenset[str], ...]
    by_length: dict[int, tuple[int, ...]]
    spent: list[int]


_HOST_INDEXES: dict[int, tuple[weakref.ref[Workspace], _Hosts]] = {}
MAX_CANDIDATES = 16
MAX_POOL = 400
# Edit distances computed per workspace at most: suggestions are a help, and a workspace of
# thousands of unknown names must not make the diagnosis quadratic.
MAX_SPENT = 20_000


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
    lengths: dict[int, list[int]] = {}
    sets = []
    for i, (host, _) in enumerate(entries):
        mine = frozenset(bigrams(host))
        sets.append(mine)
        for g in mine:
            grams.setdefault(g, []).append(i)
        lengths.setdefault(len(host), []).append(i)
    index = _Hosts(
        tuple(entries),
        {g: tuple(v) for g, v in grams.items()},
        tuple(sets),
        {n: tuple(v) for n, v in lengths.items()},
        [0],
    )
    if len(_HOST_INDEXES) > 64:
        _HOST_INDEXES.clear()
    _HOST_INDEXES[id(workspace)] = (weakref.ref(workspace), index)
    return index


def _candidates(index: _Hosts, host: str, bound: int) -> list[int]:
    """The entries that may be within `bound` edits of `host`, most alike first, at most
    MAX_CANDIDATES: each edit spoils at most two bigrams, so a close name shares one of the
    query's 2*bound+1 rarest bigrams and most of the rest."""
    grams = bigrams(host)
    need = len(grams) - 2 * bound
    if need <= 0:
        pool = [
            i
            for n in range(len(host) - bound, len(host) + bound + 1)
            for i in index.by_length.get(n, ())
        ]
        return pool[:MAX_CANDIDATES]
    rare = sorted(grams, key=lambda g: len(index.grams.get(g, ())))[: 2 * bound + 1]
    near: set[int] = set()
    for g in rare:
        near.update(index.grams.get(g, ())[: MAX_POOL - len(near)])
        if len(near) >= MAX_POOL:
            break
    scored = []
    for i in near:
        if abs(len(index.entries[i][0]) - len(host)) > bound:
            continue
        shared = len(grams & index.sets[i])
        if shared >= need:
            scored.append((-shared, i))
    scored.sort()
    return [i for _, i in scored[:MAX_CANDIDATES]]


def closest_hosts(
    ctx: Context, host: str, *, source: Service | None, limit: int = 3
) -> list[tuple[int, Service]]:
    """Known internal hosts within a few edits of `host`, nearest first (same network first).

    A host whose name part is a service's name (`recs-a1b3` for `recs`) counts as one edit away.
    """
    host = host.lower()[:253]
    bound = 2 if len(host) < 12 else 3
    index = _hosts(ctx.workspace)
    best: dict[str, tuple[int, Service]] = {}
    candidates = _candidates(index, host, bound) if index.spent[0] < MAX_SPENT else []
    index.spent[0] += len(candidates)
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
