"""Diagnosis: a pure function of the model, the targets, the probe results and the listeners.

`static_findings` says what the model alone proves about one target (the checks plan their
probes from it); `diagnose` takes those, refines them with what the probes saw (`live`), and
makes sure no failed probe is left without a finding (`net`). One finding per cause.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pnet.diagnose import live, live_connect, net, resolver, static, static_service, where
from pnet.diagnose.context import Context, mask
from pnet.diagnose.finding import Finding, Location, Severity
from pnet.diagnose.kinds import KINDS, KindInfo
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.targets import Target


def context(
    workspace: Workspace,
    source: Service | None,
    listeners: Sequence[Any] | None = None,
    *,
    local_addresses: Collection[str] = (),
    auth_required: Collection[str] = (),
) -> Context:
    return Context(
        workspace, source, listeners, frozenset(local_addresses), frozenset(auth_required)
    )


def static_findings(ctx: Context, target: Target) -> list[Finding]:
    """What the model alone proves about one target, the most specific cause first."""
    return static.target_findings(ctx, target)


def diagnose(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    results: Mapping[str, Sequence[ProbeResult]] | None = None,
    listeners: Sequence[Any] | None = None,
    *,
    local_addresses: Collection[str] = (),
    inside: bool = False,
    static_by_subject: Mapping[str, Sequence[Finding]] | None = None,
) -> list[Finding]:
    """Every finding for `targets` checked from `source` (None: from outside any service).

    `results` holds the probe results by target subject (empty or missing: offline, static
    rules only). `listeners` are the local listening sockets (probes.listeners), None when
    unknown; `local_addresses` the addresses of this machine, so a listener can be matched to
    a connection that was refused here. `inside` says this runs in an instance of `source`,
    so the listeners are its own (its ports are then checked against them).
    `static_by_subject` holds the static findings already made for the plan (made here when
    missing), so the static rules run once per target.
    """
    results = results or {}
    silent = resolver.silent_servers(targets, results)
    if silent:
        results = resolver.without(results, silent)
    ctx = context(
        workspace,
        source,
        listeners,
        local_addresses=local_addresses,
        auth_required=_asking_for_credentials(targets, results),
    )
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(found: Sequence[Finding]) -> None:
        for f in found:
            key = (f.kind, f.subject)
            if key not in seen:
                seen.add(key)
                out.append(f)

    add([s.finding() for s in silent])
    mapped: dict[str, None] = {}
    for target in targets:
        got = results.get(target.subject, ())
        planned = static_by_subject.get(target.subject) if static_by_subject else None
        if planned is not None and not _asked(ctx, target):
            found = list(planned)
        else:
            found = static.target_findings(ctx, target)
        if got:
            found = live.target_findings(ctx, target, got, found)
        found += net.uncovered(ctx, target, got, found)
        found = [_in_list(ctx, target, f) for f in found]
        add([where.placed(f, where.of_target(workspace, target, f)) for f in found])
        if target.service:
            mapped.setdefault(target.service)
    sources: dict[str, Service] = {}
    if source is not None:
        sources[source.name] = source
    for target in targets:
        if target.source and target.source not in sources:
            svc = workspace.service(target.source)
            if svc is not None:
                sources[svc.name] = svc
    for src in sources.values():
        at = where.of_service(workspace, src, "build-phase")
        add([where.placed(f, at) for f in static_service.build_phase(ctx, src, targets)])
    said: set[tuple[str, str | None]] = {(f.kind, f.service) for f in out}
    for name in dict.fromkeys([*sources, *mapped]):
        svc = workspace.service(name)
        if svc is None:
            continue
        for f in static_service.service_findings(ctx, svc):
            if (f.kind, f.service) in said:
                continue
            said.add((f.kind, f.service))
            add([where.placed(f, where.of_service(workspace, svc, f.kind))])
    if inside:
        own = live_connect.own_findings(ctx, _own_addresses(source, targets, results))
        if source is not None:
            own = [where.placed(f, where.of_service(workspace, source, f.kind)) for f in own]
        add(own)
    return out


def _asked(ctx: Context, target: Target) -> bool:
    """Whether a probe of this run learnt that the target's service wants credentials (its
    static fixes then carry them, so they are made again)."""
    return bool(ctx.auth_required) and target.service in ctx.auth_required


def _asking_for_credentials(
    targets: Sequence[Target], results: Mapping[str, Sequence[ProbeResult]]
) -> frozenset[str]:
    out = set()
    for target in targets:
        for r in results.get(target.subject, ()):
            auth = r.kind in ("redis", "postgres") and str(r.outcome) == "auth-required"
            if auth and target.service:
                out.add(target.service)
    return frozenset(out)


def _own_addresses(
    source: Service | None,
    targets: Sequence[Target],
    results: Mapping[str, Sequence[ProbeResult]],
) -> frozenset[str]:
    """The addresses the source's own name resolved to (so its own bind is not loopback)."""
    if source is None:
        return frozenset()
    return frozenset(
        str(a)
        for target in targets
        if target.service == source.name
        for r in results.get(target.subject, ())
        if r.kind == "dns"
        for a in (*(r.evidence.get("a") or ()), *(r.evidence.get("aaaa") or ()))
    )


_ITEM = re.compile(r"^(?P<subject>.+)\[(?P<index>\d+)\]$")


def _in_list(ctx: Context, target: Target, f: Finding) -> Finding:
    """A fix for one address of a comma-separated list, given as the whole list rewritten."""
    m = _ITEM.match(target.subject)
    src = ctx.source_for(target)
    var = src.env_var(target.key) if src is not None and target.key else None
    if m is None or var is None or not var.value or "${{" in var.value:
        return f
    parts = [p.strip() for p in var.value.split(",") if p.strip()]
    index = int(m["index"])
    if index >= len(parts):
        return f
    lines = []
    for line in f.fix.splitlines():
        head = f"{target.key}="
        if line.startswith(head) and " " not in line:
            fixed = [*parts]
            fixed[index] = line[len(head) :]
            line = head + ",".join(fixed)
        lines.append(line)
    return dataclasses.replace(f, fix=mask("\n".join(lines)))


def worst(findings: Sequence[Finding]) -> Severity | None:
    if not findings:
        return None
    return max((f.severity for f in findings), key=lambda s: s.rank)


__all__ = [
    "KINDS",
    "Context",
    "Finding",
    "KindInfo",
    "Location",
    "Severity",
    "context",
    "diagnose",
    "static_findings",
    "worst",
]
