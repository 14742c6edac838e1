"""Status marks shared by the tree, the tables and the export: plain Python, no Textual."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pnet.diagnose.finding import Finding, Severity
from pnet.model import Kind, Service
from pnet.secrets import mask_text


class Status(StrEnum):
    UNKNOWN = "unknown"
    RUNNING = "running"
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def mark(self) -> str:
        return MARKS[self]

    @property
    def style(self) -> str:
        return STYLES[self]


MARKS = {
    Status.UNKNOWN: "·",
    Status.RUNNING: "…",
    Status.OK: "✔",
    Status.INFO: "i",
    Status.WARNING: "!",
    Status.ERROR: "✘",
}
STYLES = {
    Status.UNKNOWN: "dim",
    Status.RUNNING: "bold",
    Status.OK: "bold green",
    Status.INFO: "cyan",
    Status.WARNING: "bold yellow",
    Status.ERROR: "bold red",
}
TYPE_MARKS = {
    Kind.WEB: "web",
    Kind.PSERV: "pserv",
    Kind.WORKER: "worker",
    Kind.CRON: "cron",
    Kind.STATIC: "static",
    Kind.POSTGRES: "pg",
    Kind.KEYVALUE: "kv",
}
SEVERITY_STYLES = {"error": "bold red", "warning": "bold yellow", "info": "cyan"}
SEVERITY_MARKS = {"error": "✘", "warning": "!", "info": "i"}
PLACEHOLDER = "PASSWORD"
_KEEP = " \x00kept\x00 "


def shown(text: str) -> str:
    """Text as the app shows it: secrets masked (a fix's `PASSWORD` placeholder is no secret and
    stays as written)."""
    return mask_text(text)


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def worst(findings: Iterable[Finding]) -> Status:
    rank = -1
    for f in findings:
        rank = max(rank, Severity(f.severity).rank)
    return {-1: Status.OK, 0: Status.INFO, 1: Status.WARNING, 2: Status.ERROR}[rank]


def receive_mark(service: Service) -> str:
    """⇄ receives private traffic, → only sends, ∅ not on the private network."""
    if service.type.receives:
        return "⇄"
    if service.type.sends:
        return "→"
    return "∅"


def address(service: Service) -> str:
    if not (service.type.receives and service.host):
        return ""
    if service.kind.is_datastore:
        port = service.default_port or (5432 if service.kind is Kind.POSTGRES else 6379)
        return f"{service.host}:{port}"
    if service.default_port:
        return f"{service.host}:{service.default_port}"
    return service.host


def sparkline(values: Iterable[float]) -> str:
    """Latencies as bars on a scale from 0 to the highest, so noise stays noise: 11 ms to
    26 ms is `▃█`, not the full height of the scale."""
    blocks = "▁▂▃▄▅▆▇█"
    vals = list(values)
    if not vals:
        return ""
    hi = max(vals)
    if hi <= 0:
        return blocks[0] * len(vals)
    return "".join(blocks[min(7, max(0, round(v / hi * 8) - 1))] for v in vals)
