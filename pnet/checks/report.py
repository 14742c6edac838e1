"""The result of a run: one check per target, each in exactly one state, and the findings.

A check is **ok** when its probes ran and answered and nothing was found, a **warning** or an
**error** when a finding says so, and **not checked** (with the reason) when no probe ran for it
or one could not run fairly (overloaded: this machine was too busy to tell).
A failed probe never leaves a check ok. The summary counts checks by state and findings by
severity, and both add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pnet import platforms
from pnet.diagnose.finding import Finding, Severity
from pnet.diagnose.live import answered, skipped
from pnet.diagnose.resolver import WHY, unanswered
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.targets import Target

JSON_VERSION = 1
PROBE_ORDER = ("dns", "discovery", "tcp", "http", "redis", "postgres")


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    NOT_CHECKED = "not-checked"


def state_of(results: tuple[ProbeResult, ...], findings: tuple[Finding, ...]) -> State:
    """The one state of a check (see the module doc)."""
    if any(f.severity is Severity.ERROR for f in findings):
        return State.ERROR
    if any(f.severity is Severity.WARNING for f in findings):
        return State.WARNING
    ran = [r for r in results if not skipped(r)]
    if not ran or any(r.evidence.get("overloaded") for r in results):
        return State.NOT_CHECKED
    failed = [r for r in ran if not answered(r)]
    if failed and all(unanswered(r) for r in failed):
        return State.NOT_CHECKED  # a silent name server: its one finding says so
    if failed:
        return State.ERROR
    return State.OK


@dataclass(frozen=True)
class Check:
    target: Target
    results: tuple[ProbeResult, ...]
    findings: tuple[Finding, ...]
    elapsed_ms: float | None = None
    reason: str = ""

    @property
    def state(self) -> State:
        return state_of(self.results, self.findings)

    @property
    def status(self) -> str:
        return self.state.value

    @property
    def why_not_checked(self) -> str:
        if self.state is not State.NOT_CHECKED:
            return ""
        if not self.reason and any(unanswered(r) for r in self.results):
            return WHY
        return self.reason or "no probe ran"

    @property
    def ms(self) -> float:
        if self.elapsed_ms is not None:
            return self.elapsed_ms
        return max((r.elapsed_ms for r in self.results), default=0.0)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "target": self.target.subject,
            "value": self.target.display,
            "service": self.target.service,
            "from": self.target.source,
            "how": self.target.how,
            "status": self.status,
            "ms": round(self.ms, 1),
            "probes": [probe_json(r) for r in self.results],
        }
        if self.state is State.NOT_CHECKED:
            out["reason"] = self.why_not_checked
        if self.target.port_assumed:
            out["assumed"] = ["port"]
        return out


@dataclass(frozen=True)
class Report:
    workspace: Workspace
    source: Service | None
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]
    offline: bool = False
    elapsed_ms: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def count_checks(self) -> dict[str, int]:
        counts = {state.value: 0 for state in State}
        for check in self.checks:
            counts[check.status] += 1
        return counts

    def count_findings(self) -> dict[str, int]:
        counts = {sev.value: 0 for sev in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts

    @property
    def summary(self) -> dict[str, Any]:
        checks = self.count_checks()
        found = self.count_findings()
        return {
            "errors": found["error"],
            "warnings": found["warning"],
            "ok": checks["ok"],
            "not_checked": checks["not-checked"],
            "checks": {
                "total": len(self.checks),
                "ok": checks["ok"],
                "warning": checks["warning"],
                "error": checks["error"],
                "not_checked": checks["not-checked"],
            },
            "findings": {"total": len(self.findings), **found},
        }

    @property
    def exit_code(self) -> int:
        return 1 if any(f.severity is Severity.ERROR for f in self.findings) else 0

    def findings_for(self, subject: str) -> list[Finding]:
        return [f for f in self.findings if f.subject == subject]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "workspace": workspace_json(self.workspace),
            "source": service_json(self.source) if self.source else None,
            "offline": self.offline,
            "checks": [c.to_json() for c in self.checks],
            "findings": [f.to_json() for f in self.findings],
            "summary": self.summary,
        }


def service_json(svc: Service) -> dict[str, Any]:
    out: dict[str, Any] = {"name": svc.name, "type": svc.kind.value}
    out[svc.type.scope] = svc.location
    out["plan"] = svc.plan
    out["host"] = svc.host
    out["ports"] = list(svc.ports)
    assumed = [
        what
        for what, known in (("host", svc.host_known or not svc.host), ("ports", svc.ports_known))
        if not known
    ]
    if assumed:
        out["assumed"] = assumed
    return out


def workspace_json(ws: Workspace) -> dict[str, Any]:
    return {
        "name": ws.name,
        "platform": ws.platform.value,
        "services": [service_json(s) for s in ws.services],
    }


def probe_json(r: ProbeResult) -> dict[str, Any]:
    """A probe result as JSON data. Not masked here: every output masks what it writes
    (pnet.secrets.dump_json, mask_json), once."""
    return r.to_json()


def scope_word(workspace: Workspace) -> str:
    return platforms.of(workspace).scope_word


def order(results: list[ProbeResult]) -> tuple[ProbeResult, ...]:
    return tuple(
        sorted(
            results,
            key=lambda r: (PROBE_ORDER.index(r.kind) if r.kind in PROBE_ORDER else 99, r.key),
        )
    )
