"""What every probe returns: a frozen, JSON-serialisable record of one question and its answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"
    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no-answer"
    SERVFAIL = "servfail"
    NO_NAMESERVER = "no-nameserver"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TLS_ERROR = "tls-error"
    PROTOCOL_ERROR = "protocol-error"
    HTTP_STATUS = "http-status"
    AUTH_REQUIRED = "auth-required"
    ERROR = "error"
    OVERLOADED = "overloaded"

    @property
    def good(self) -> bool:
        return self is Outcome.OK


@dataclass(frozen=True)
class ProbeResult:
    """One probe's answer.

    kind: dns | discovery | tcp | http | redis | postgres | listeners
    target: what was asked, e.g. `api-x7f2`, `127.0.0.5:8080`, `http://api-x7f2:8080/healthz`
    key: a stable identifier of the question, so a UI can update a row in place
    evidence: JSON-able facts (addresses, ttl, status, banner, timings, auth method, ...)
    detail: one human line that says what happened
    """

    kind: str
    target: str
    outcome: Outcome
    elapsed_ms: float
    detail: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProbeResult:
        """The inverse of to_json (for recorded results, golden files, test fixtures)."""
        return cls(
            kind=str(data["kind"]),
            target=str(data["target"]),
            outcome=Outcome(data["outcome"]),
            elapsed_ms=float(data.get("ms", data.get("elapsed_ms", 0.0))),
            detail=str(data.get("detail", "")),
            evidence=dict(data.get("evidence") or {}),
            key=str(data.get("key", "")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "key": self.key or f"{self.kind}:{self.target}",
            "outcome": str(self.outcome),
            "ms": round(self.elapsed_ms, 1),
            "detail": self.detail,
            "evidence": dict(self.evidence),
        }
