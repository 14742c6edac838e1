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
class Location:
    """Where the workspace's file states what a finding is about (1-based line and column)."""

    file: str
    line: int
    column: int | None = None

    def __str__(self) -> str:
        tail = f":{self.column}" if self.column is not None else ""
        return f"{self.file}:{self.line}{tail}"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column}


@dataclass(frozen=True)
class Finding:
    kind: str
    severity: Severity
    subject: str
    message: str
    fix: str
    service: str | None = None
    evidence: tuple[str, ...] = field(default_factory=tuple)
    location: Location | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "severity": str(self.severity),
            "subject": self.subject,
            "service": self.service,
            "message": self.message,
            "evidence": list(self.evidence),
            "fix": self.fix,
        }
        if self.location is not None:
            out["location"] = self.location.to_json()
        return out
