"""Checks: plan (the static verdicts and the probes they leave to ask), run (the probes,
streamed), report (one check per target in one state, and the findings)."""

from __future__ import annotations

from pnet.checks.jobs import Options
from pnet.checks.plan import OFFLINE, Planned, prepare
from pnet.checks.report import (
    JSON_VERSION,
    Check,
    Report,
    State,
    probe_json,
    service_json,
    workspace_json,
)
from pnet.checks.run import (
    Event,
    ProbeEvent,
    ReportEvent,
    build_report,
    count_jobs,
    local_addresses,
    plan_jobs,
    run,
    run_offline,
    stream,
)

__all__ = [
    "JSON_VERSION",
    "OFFLINE",
    "Check",
    "Event",
    "Options",
    "Planned",
    "ProbeEvent",
    "Report",
    "ReportEvent",
    "State",
    "build_report",
    "count_jobs",
    "local_addresses",
    "plan_jobs",
    "prepare",
    "probe_json",
    "run",
    "run_offline",
    "service_json",
    "stream",
    "workspace_json",
]
