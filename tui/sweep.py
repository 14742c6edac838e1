"""A sweep (`pnet-doctor --all` as one run) handed out to each service's own views.

Each service gets the checks of itself and of its variables, each with its own slice of the
report; a `service:NAME` finding goes to NAME alone, and a finding that belongs to no service
(a name server that does not answer) is handed back to be said once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from pnet.diagnose.finding import Finding
from pnet.model import Service
from pnet.tui.engine import Finished
from pnet.tui.messages import EnvFinished, ProbeFinished

SERVICE = "service:"


def about_itself(f: Finding) -> str | None:
    """The service a finding is about as a whole (`service:NAME`), or None (a variable)."""
    return f.subject[len(SERVICE) :] if f.subject.startswith(SERVICE) else None


def local(subject: str, owner: str) -> str:
    """A sweep names a variable `OWNER.KEY`; the owner's own views name it `KEY`."""
    prefix = f"{owner}."
    return subject[len(prefix) :] if subject.startswith(prefix) else subject


def not_checked(checks: Sequence[Any]) -> str:
    """Why no probe ran, when no check of a run could be made (else "")."""
    if not checks or any(str(getattr(c, "status", "")) != "not-checked" for c in checks):
        return ""
    return str(getattr(checks[0], "why_not_checked", "") or "no probe ran")


def _slice(report: Any, checks: Sequence[Any], findings: Sequence[Finding]) -> Any:
    """The part of a sweep's report that belongs to one service (for its export and map)."""
    if report is None or not dataclasses.is_dataclass(report) or isinstance(report, type):
        return report
    try:
        return dataclasses.replace(report, checks=tuple(checks), findings=tuple(findings))
    except TypeError:
        return report


def hand_out(
    services: Sequence[Service], event: Finished
) -> tuple[list[ProbeFinished | EnvFinished], list[Finding]]:
    """One message per service and per service's variables, and the findings of no service."""
    names = {s.name for s in services}
    own: dict[str, list[Finding]] = {n: [] for n in names}
    env: dict[str, list[Finding]] = {n: [] for n in names}
    own_checks: dict[str, list[Any]] = {n: [] for n in names}
    env_checks: dict[str, list[Any]] = {n: [] for n in names}
    owner_of: dict[str, tuple[str, bool]] = {}
    for check in event.checks:
        t = check.target
        owner, is_env = (t.source or t.service or "", t.source is not None)
        owner_of[t.subject] = (owner, is_env)
        if owner in names:
            (env_checks if is_env else own_checks)[owner].append(check)
    loose: list[Finding] = []
    for f in event.findings:
        owner, is_env = owner_of.get(f.subject, (f.service or "", False))
        itself = about_itself(f)
        if itself is not None:
            owner, is_env = itself, False
        if owner not in names:
            loose.append(f)
        else:
            (env if is_env else own)[owner].append(f)
    out: list[ProbeFinished | EnvFinished] = []
    for svc in services:
        name = svc.name
        if svc.type.receives:
            report = _slice(event.report, own_checks[name], own[name])
            why = not_checked(own_checks[name])
            out.append(ProbeFinished(name, tuple(own[name]), report, why))
        if svc.env:
            report = _slice(event.report, env_checks[name], env[name])
            mine = tuple(dataclasses.replace(f, subject=local(f.subject, name)) for f in env[name])
            out.append(EnvFinished(name, mine, report))
    return out, loose
