"""A finding: one thing wrong (or worth knowing), with its evidence and a fix to paste."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: Severity
    subject: str
    message: str
    fix: str
    service: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": str(self.severity),
            "subject": self.subject,
            "service": self.service,
            "message": self.message,
            "evidence": list(self.evidence),
            "fix": self.fix,
        }
