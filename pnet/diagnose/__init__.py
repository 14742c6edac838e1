"""Diagnosis: a pure function of the model, the targets, the probe results and the listeners.

`diagnose()` returns the findings, one per cause: static rules (`static`) say what the model
alone proves, live rules (`live`) confirm, drop or refine them from what the probes saw.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pnet.diagnose import live, static
from pnet.diagnose.common import Context, mask
from pnet.diagnose.finding import Finding, Severity
from pnet.diagnose.kinds import KINDS, KindInfo
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.targets import Target


def diagnose(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    results: Mapping[str, Sequence[ProbeResult]] | None = None,
    listeners: Sequence[Any] | None = None,
    *,
    local_addresses: Collection[str] = (),
    inside: bool = False,
) -> list[Finding]:
    """Every finding for `targets` checked from `source` (None: from outside any service).

    `results` holds the probe results by target subject (empty or missing: offline, static
    rules only). `listeners` are the local listening sockets (probes.listeners), None when
    unknown; `local_addresses` the addresses of this machine, so a listener can be matched to
    a connection that was refused here. `inside` says this runs in an instance of `source`,
    so the listeners are its own (its ports are then checked against them).
    """
    results = results or {}
    auth = _asking_for_credentials(workspace, targets, results)
    ctx = Context(workspace, source, listeners, frozenset(local_addresses), auth)
    return _diagnose(ctx, targets, results, inside)


def _asking_for_credentials(
    workspace: Workspace, targets: Sequence[Target], results: Mapping[str, Sequence[ProbeResult]]
) -> frozenset[str]:
    out = set()
    for target in targets:
        for r in results.get(target.subject, ()):
            auth = r.kind in ("redis", "postgres") and str(r.outcome) == "auth-required"
            if auth and target.service:
                out.add(target.service)
    return frozenset(out)


def _diagnose(
    ctx: Context,
    targets: Sequence[Target],
    results: Mapping[str, Sequence[ProbeResult]],
    inside: bool,
) -> list[Finding]:
    workspace, source = ctx.workspace, ctx.source
    out: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(found: Sequence[Finding]) -> None:
        for f in found:
            key = (f.kind, f.subject)
            if key not in seen:
                seen.add(key)
                out.append(f)

    mapped: list[str] = []
    for target in targets:
        found = static.target_findings(ctx, target)
        found = live.target_findings(ctx, target, results.get(target.subject, ()), found)
        add([_in_list(ctx, target, f) for f in found])
        if target.service and target.service not in mapped:
            mapped.append(target.service)
    sources: list[Service] = [source] if source is not None else []
    for target in targets:
        if target.source:
            svc = workspace.service(target.source)
            if svc is not None and svc not in sources:
                sources.append(svc)
    for src in sources:
        add(static.build_phase(ctx, src, targets))
    services = [s.name for s in sources] + mapped
    for name in dict.fromkeys(services):
        svc = workspace.service(name)
        if svc is None:
            continue
        for f in static.service_findings(ctx, svc):
            if any(g.kind == f.kind and g.service == f.service for g in out):
                continue
            add([f])
    own = frozenset(
        str(a)
        for target in targets
        if source is not None and target.service == source.name
        for r in results.get(target.subject, ())
        if r.kind == "dns"
        for a in (*(r.evidence.get("a") or ()), *(r.evidence.get("aaaa") or ()))
    )
    if inside:
        add(live.own_findings(ctx, own))
    return out


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


__all__ = ["KINDS", "Finding", "KindInfo", "Severity", "diagnose", "worst"]
