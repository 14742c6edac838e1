"""Fixed probe results for the app's tests and snapshots: the same events the engine posts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pnet.diagnose.finding import Finding, Severity
from pnet.model import Workspace
from pnet.probes.result import Outcome, ProbeResult
from pnet.sources import fixture
from tests.doubles import ScriptedEngine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NOW = datetime(2026, 7, 9, 12, 0, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def acme() -> Workspace:
    return fixture.load(FIXTURES / "render-acme.yaml")


def r(
    kind: str, target: str, outcome: Outcome, ms: float, detail: str, **ev: object
) -> ProbeResult:
    return ProbeResult(kind, target, outcome, ms, detail, ev, key=f"{kind}:{target}")


def script() -> ScriptedEngine:
    api = [
        r("dns", "api-x7f2", Outcome.OK, 1.4, "2 addresses", addresses=["10.0.0.11", "10.0.0.12"]),
        r("discovery", "api-x7f2-discovery", Outcome.OK, 1.1, "2 instances"),
        r("tcp", "10.0.0.11:8080", Outcome.OK, 0.4, "connected"),
        r("tcp", "10.0.0.12:8080", Outcome.OK, 0.5, "connected"),
        r("http", "http://10.0.0.11:8080/healthz", Outcome.OK, 3.2, "HTTP 200"),
        r("http", "http://10.0.0.12:8080/healthz", Outcome.OK, 2.9, "HTTP 200"),
    ]
    inventory = [
        r("dns", "inventory-k4l5", Outcome.OK, 1.2, "3 addresses"),
        r("tcp", "10.0.0.31:8000", Outcome.OK, 0.4, "connected"),
        r("tcp", "10.0.0.32:8000", Outcome.OK, 0.4, "connected"),
        r("tcp", "10.0.0.33:8000", Outcome.REFUSED, 0.3, "connection refused"),
    ]
    billing = [r("dns", "billing-m3n4", Outcome.NXDOMAIN, 2.0, "billing-m3n4 does not exist")]
    return ScriptedEngine(
        results={"api": api, "inventory": inventory, "billing": billing},
        findings={
            "inventory": [
                Finding(
                    "instance-down",
                    Severity.WARNING,
                    "service:inventory",
                    "discovery lists 3 instances, 2 answer",
                    "look at the logs of the instance that does not answer",
                    "inventory",
                    ("10.0.0.33:8000 refused",),
                )
            ],
            "billing": [
                Finding(
                    "cross-region",
                    Severity.ERROR,
                    "service:billing",
                    "billing is in frankfurt; oregon cannot reach it privately",
                    "use its public URL, or run both in one region",
                    "billing",
                )
            ],
        },
    )
