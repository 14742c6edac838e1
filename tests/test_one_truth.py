"""One truth: the app and the doctor give the same verdict on the same sockets, every failed
probe is a finding whatever it maps to, and the summary's numbers add up."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.message import Message
from textual.pilot import Pilot

from pnet import checks, doctor
from pnet.checks.report import State, state_of
from pnet.diagnose import diagnose
from pnet.lab import LabThread
from pnet.model import Workspace
from pnet.probes.result import Outcome, ProbeResult
from pnet.sources.fixture import load, loads, reads
from pnet.targets import parse_target, sweep
from pnet.tui.app import PnetApp
from pnet.tui.engine import CoreEngine
from pnet.tui.messages import SweepProgress
from tests.test_tui_support import clock
from tests.test_unseen_workspaces import (
    RAILWAY_BROKEN,
    RAILWAY_HEALTHY,
    RENDER_BROKEN,
    RENDER_HEALTHY,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORKSPACES: dict[str, Callable[[], str]] = {
    "render-acme": lambda: (FIXTURES / "render-acme.yaml").read_text(encoding="utf-8"),
    "render-healthy": lambda: (FIXTURES / "render-healthy.yaml").read_text(encoding="utf-8"),
    "railway-shop": lambda: (FIXTURES / "railway-shop.yaml").read_text(encoding="utf-8"),
    "unseen-render-healthy": lambda: RENDER_HEALTHY,
    "unseen-railway-healthy": lambda: RAILWAY_HEALTHY,
    "unseen-render-broken": lambda: RENDER_BROKEN,
    "unseen-railway-broken": lambda: RAILWAY_BROKEN,
}


def _doctor_pairs(text: str, lab: LabThread, path: Path) -> set[tuple[str, str]]:
    path.write_text(text, encoding="utf-8")
    ns = lab.nameserver
    args = ["--workspace", str(path), "--all", "--timeout", "1"]
    args += ["--nameserver", f"{ns[0]}:{ns[1]}"]
    for net in lab.lab.networks():
        host, port = lab.nameserver_for(net)
        args += ["--nameserver", f"{net}={host}:{port}"]
    out, err = io.StringIO(), io.StringIO()
    rc = doctor.main([*args, "--format", "json"], stdout=out, stderr=err, environ={})
    data = json.loads(out.getvalue())
    assert rc == (1 if data["summary"]["errors"] else 0), err.getvalue()
    return {(f["subject"], f["kind"]) for f in data["findings"]}


async def _app_pairs(ws: Workspace, lab: LabThread) -> set[tuple[str, str]]:
    options = checks.Options(nameserver=lab.nameserver, nameserver_for=lab.nameserver_for)
    app = PnetApp(ws, engine=CoreEngine(options.scaled(0.5)), clock=clock)
    ends: list[SweepProgress] = []

    def hook(message: Message) -> None:
        if isinstance(message, SweepProgress) and message.finished:
            ends.append(message)

    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await _until(pilot, lambda: app.current is not None)
        await pilot.press("P")
        await _until(pilot, lambda: bool(ends) and app.sweep_state is None, rounds=1500)
        pairs = {(f.subject, f.kind) for found in app.findings.values() for f in found}
        pairs |= {  # the app names a service's variable KEY, the sweep SERVICE.KEY
            (f"{name}.{f.subject}", f.kind)
            for name, found in app.env_findings.items()
            for f in found
        }
        await pilot.press("q")
    return pairs


async def _until(pilot: Pilot[Any], cond: Callable[[], bool], rounds: int = 400) -> None:
    for _ in range(rounds):
        if cond():
            return
        await pilot.pause(0.02)
    raise AssertionError("condition never held")


@pytest.mark.parametrize("name", list(WORKSPACES))
async def test_the_app_and_the_doctor_name_the_same_findings(name: str, tmp_path: Path) -> None:
    text = WORKSPACES[name]()
    fx = reads(text)
    ws = fx.workspace
    with LabThread(ws, fx.lab) as lab:
        taken = [n for n in lab.notes if "in use" in n]
        if taken:
            pytest.skip(f"another process holds lab addresses: {taken}")
        app = await _app_pairs(ws, lab)
        doc = await asyncio.to_thread(_doctor_pairs, text, lab, tmp_path / "workspace.yaml")
    assert app == doc
    if "broken" in name or name in ("render-acme", "railway-shop"):
        assert doc, "a workspace with planted faults gives findings"


# ---- every failed outcome, on an address no service has -----------------------------------

UNMAPPED_RENDER = """
platform: render
workspace: w
services:
  - {name: api, type: web, host: api-a1b2, ports: [8080], env: {X: "http://ghost-z9y8:7000/"}}
"""

OUTCOMES: list[tuple[str, Outcome, dict[str, Any], str]] = [
    ("dns", Outcome.NXDOMAIN, {}, "unknown-host"),
    ("dns", Outcome.NO_ANSWER, {}, "unknown-host"),
    ("dns", Outcome.SERVFAIL, {}, "unknown-host"),
    ("dns", Outcome.TIMEOUT, {}, "unknown-host"),
    ("dns", Outcome.NO_NAMESERVER, {}, "unknown-host"),
    ("tcp", Outcome.REFUSED, {}, "refused"),
    ("tcp", Outcome.TIMEOUT, {}, "unreachable"),
    ("tcp", Outcome.UNREACHABLE, {}, "unreachable"),
    ("tcp", Outcome.ERROR, {}, "unreachable"),
    ("http", Outcome.TLS_ERROR, {}, "wrong-protocol"),
    ("http", Outcome.PROTOCOL_ERROR, {}, "wrong-protocol"),
    ("http", Outcome.TIMEOUT, {}, "http-error"),
    ("http", Outcome.HTTP_STATUS, {"status": 503, "path": "/"}, "http-error"),
    ("http", Outcome.ERROR, {}, "unreachable"),
    ("redis", Outcome.AUTH_REQUIRED, {}, "auth-required"),
    ("redis", Outcome.PROTOCOL_ERROR, {}, "wrong-protocol"),
    ("redis", Outcome.TIMEOUT, {}, "unreachable"),
    ("redis", Outcome.ERROR, {"error": "ERR unknown command"}, "handshake-error"),
    ("redis", Outcome.TLS_ERROR, {}, "wrong-protocol"),
    ("postgres", Outcome.AUTH_REQUIRED, {}, "auth-required"),
    ("postgres", Outcome.PROTOCOL_ERROR, {}, "wrong-protocol"),
    ("postgres", Outcome.TIMEOUT, {}, "unreachable"),
    ("postgres", Outcome.ERROR, {"sqlstate": "3D000"}, "handshake-error"),
    ("postgres", Outcome.TLS_ERROR, {}, "tls-on-private"),
]


def _ok(kind: str) -> ProbeResult:
    evidence: dict[str, Any] = {"a": ["10.0.0.9"]} if kind == "dns" else {"address": "10.0.0.9"}
    return ProbeResult(kind, "ghost-z9y8:7000", Outcome.OK, 1.0, "ok", evidence)


@pytest.mark.parametrize(("kind", "outcome", "evidence", "expected"), OUTCOMES)
def test_a_failed_probe_to_an_unknown_address_is_a_finding(
    kind: str, outcome: Outcome, evidence: dict[str, Any], expected: str
) -> None:
    ws = loads(UNMAPPED_RENDER)
    api = ws.service("api")
    assert api is not None
    text = {
        "redis": "redis://ghost-z9y8:7000",
        "postgres": "postgresql://u@ghost-z9y8:7000/db",
    }.get(kind, "http://ghost-z9y8:7000/")
    target = parse_target(text, ws, api)
    assert target is not None and target.service is None
    before = {"dns": [], "tcp": [_ok("dns")]}.get(kind, [_ok("dns"), _ok("tcp")])
    failed = ProbeResult(kind, target.hostport, outcome, 2.0, f"{outcome}", evidence)
    results = {target.subject: [*before, failed]}
    findings = diagnose(ws, api, [target], results)
    kinds = {f.kind for f in findings if f.subject == target.subject}
    assert expected in kinds, (kind, outcome, [(f.kind, f.message) for f in findings])
    mine = tuple(f for f in findings if f.subject == target.subject)
    assert state_of(tuple(results[target.subject]), mine) is not State.OK


def test_a_target_nothing_probed_is_not_checked_never_ok() -> None:
    ws = loads(UNMAPPED_RENDER)
    api = ws.service("api")
    assert api is not None
    stripe = parse_target("https://api.stripe.com/v1", ws, api)
    assert stripe is not None
    report = checks.run_offline(ws, api, [stripe])
    (check,) = report.checks
    assert check.state is State.NOT_CHECKED and check.why_not_checked
    report = checks.build_report(
        ws, api, checks.prepare(ws, api, [stripe]), {}, None, offline=False
    )
    (check,) = report.checks
    assert check.state is State.NOT_CHECKED
    assert check.why_not_checked == "not on the private network"


# ---- the numbers add up, for any workspace and any outcomes ----------------------------------

_BAD = [o for o in Outcome if o is not Outcome.OK]


@st.composite
def _run(draw: st.DrawFn) -> tuple[Workspace, dict[str, list[ProbeResult]]]:
    ws = load(FIXTURES / draw(st.sampled_from(["render-acme.yaml", "railway-shop.yaml"])))
    planned = checks.prepare(ws, None, sweep(ws))
    results: dict[str, list[ProbeResult]] = {}
    for p in planned:
        got = []
        for kind in p.kinds:
            outcome = draw(st.sampled_from([Outcome.OK, Outcome.OK, *_BAD]))
            evidence: dict[str, Any] = {}
            if kind == "dns" and outcome is Outcome.OK:
                evidence = {"a": ["10.0.0.1"]}
            if outcome is Outcome.HTTP_STATUS:
                evidence = {"status": draw(st.sampled_from([404, 500, 503]))}
            got.append(ProbeResult(kind, p.target.host, outcome, 1.0, str(outcome), evidence))
        results[p.target.subject] = got
    return ws, results


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_run())
def test_checks_by_state_and_findings_by_severity_add_up(
    run: tuple[Workspace, dict[str, list[ProbeResult]]],
) -> None:
    ws, results = run
    planned = checks.prepare(ws, None, sweep(ws))
    report = checks.build_report(ws, None, planned, results, None, offline=False)
    counts = report.count_checks()
    assert sum(counts.values()) == len(report.checks)
    found = report.count_findings()
    assert sum(found.values()) == len(report.findings)
    summary = report.summary
    assert summary["checks"]["total"] == len(report.checks)
    assert summary["ok"] == counts["ok"] and summary["errors"] == found["error"]
    for check in report.checks:
        ran = [r for r in check.results if not r.evidence.get("skipped")]
        failed = [
            r
            for r in ran
            if not r.ok
            and not (r.outcome is Outcome.HTTP_STATUS and int(r.evidence["status"]) < 500)
        ]
        if failed:
            assert check.state is not State.OK, check
            assert check.findings, (check.target.subject, failed)
        if check.state is State.OK:
            assert ran and not check.findings
        if not ran:
            assert check.state is not State.OK
