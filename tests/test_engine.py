"""The engine: which probes each target needs, results streamed as they land, the report."""

from __future__ import annotations

from contextlib import aclosing
from pathlib import Path

from pnet import checks
from pnet.lab import Lab
from pnet.probes.result import Outcome, ProbeResult
from pnet.sources.fixture import read
from pnet.targets import parse_target, service_targets, sweep, targets_from_env
from tests.test_diagnose_kit import railway_ws, render_ws, rw, svc

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _plan(ws, source, texts, **options):
    src = ws.service(source) if source else None
    targets = [parse_target(t, ws, src) for t in texts]
    assert all(targets)
    jobs = checks.plan_jobs(ws, src, targets, checks.Options(**options))  # type: ignore[arg-type]
    by: dict[str, list[str]] = {}
    for subject, job in jobs:
        by.setdefault(subject, []).append(job.key.split("|", 1)[1])
    return by


def test_plan_asks_only_what_can_tell_something():
    ws = render_ws(
        svc(
            "api",
            "web",
            host="api-x7f2",
            ports=[8080],
            instances=2,
            health_path="/healthz",
            public_url="https://api-x7f2.onrender.com",
        ),
        svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a", user="app", database="app"),
        svc("kv", "keyvalue", host="red-c0d1e2f3g4h5i6j7k8l9"),
        svc("eu", region="frankfurt", host="eu-m3n4"),
        svc("mailer", "worker"),
    )
    got = _plan(
        ws,
        "api",
        [
            "http://api-x7f2:8080",
            "postgresql://app@dpg-d0a1b2c3d4e5f6g7h8i9-a/app",
            "redis://red-c0d1e2f3g4h5i6j7k8l9:6379",
            "http://eu-m3n4:8000",
            "http://mailer-j8k9:8000",
            "https://api-x7f2.onrender.com",
            "https://api.stripe.com/v1",
            "http://api-x7f2:9999",
        ],
    )
    assert got["http://api-x7f2:8080"] == ["dns", "discovery", "tcp4", "http"]
    assert got["postgresql://app@dpg-d0a1b2c3d4e5f6g7h8i9-a/app"] == ["dns", "tcp4", "postgres"]
    assert got["redis://red-c0d1e2f3g4h5i6j7k8l9:6379"] == ["dns", "tcp4", "redis"]
    assert got["http://eu-m3n4:8000"] == ["dns"]
    assert got["http://api-x7f2:9999"] == ["dns", "tcp4"]
    for silent in (
        "http://mailer-j8k9:8000",
        "https://api-x7f2.onrender.com",
        "https://api.stripe.com/v1",
    ):
        assert silent not in got
    assert checks.plan_jobs(ws, None, [], checks.Options()) == []


def test_plan_per_address_family():
    legacy = railway_ws(rw("api", "web", ports=[3000]), rw("pay", ports=[8080]))
    assert _plan(legacy, "api", ["http://pay.railway.internal:8080"])[
        "http://pay.railway.internal:8080"
    ] == ["dns", "tcp6", "http"]
    dual = railway_ws(rw("api", "web", ports=[3000]), rw("pay", ports=[8080]), legacy=())
    assert _plan(dual, "api", ["http://pay.railway.internal:8080"])[
        "http://pay.railway.internal:8080"
    ] == ["dns", "tcp4", "tcp6", "http"]


def test_offline_plans_nothing_and_reports_static_findings():
    fx = read(FIXTURES / "render-acme.yaml")
    ws = fx.workspace
    api = ws.service("api")
    assert api is not None
    targets = targets_from_env(ws, api)
    assert checks.plan_jobs(ws, api, targets, checks.Options(offline=True)) == []
    report = checks.run_offline(ws, api, targets)
    assert report.offline and report.exit_code == 1
    assert all(c.results == () for c in report.checks)
    assert report.summary["errors"] == sum(f.severity.value == "error" for f in report.findings)


async def test_stream_yields_every_planned_result_then_the_report():
    fx = read(FIXTURES / "render-healthy.yaml")
    ws = fx.workspace
    api = ws.service("api")
    assert api is not None
    targets = targets_from_env(ws, api)
    async with Lab(ws, fx.lab) as lab:
        options = checks.Options(nameserver=lab.nameserver_for("ohio"))
        keys = {job.key for _, job in checks.plan_jobs(ws, api, targets, options)}
        events = [e async for e in checks.stream(ws, api, targets, options)]
    *probes, last = events
    assert isinstance(last, checks.ReportEvent)
    assert all(isinstance(e, checks.ProbeEvent) for e in probes)
    assert {e.result.key for e in probes if isinstance(e, checks.ProbeEvent)} == keys
    assert {e.subject for e in probes if isinstance(e, checks.ProbeEvent)} == {
        t.subject for t in targets
    }
    report = last.report
    assert report.findings == () and report.exit_code == 0
    assert [c.status for c in report.checks] == ["ok"] * len(targets)
    for check in report.checks:
        assert check.results[0].kind == "dns"
        assert check.ms > 0
    data = report.to_json()
    summary = data["summary"]
    assert (summary["errors"], summary["warnings"], summary["ok"]) == (0, 0, len(targets))
    assert summary["checks"] == {
        "total": len(targets),
        "ok": len(targets),
        "warning": 0,
        "error": 0,
        "not_checked": 0,
    }


async def test_every_instance_discovery_lists_gets_its_own_rows():
    fx = read(FIXTURES / "render-acme.yaml")
    ws = fx.workspace
    inventory = ws.service("inventory")
    assert inventory is not None and inventory.instances == 3
    (target,) = [t for t in service_targets(ws, inventory) if t.port == 8000]
    async with Lab(ws, fx.lab) as lab:
        options = checks.Options(nameserver=lab.nameserver_for("oregon"))
        events = [e async for e in checks.stream(ws, None, [target], options)]
        addresses = lab.addresses("inventory")
    landed = [e.result for e in events if isinstance(e, checks.ProbeEvent)]
    each = {tuple(r.key.split("|")[1:]): r for r in landed if "|instance" in r.key}
    tcp = {k[0]: r for k, r in each.items() if k[1] == "tcp"}
    http = {k[0]: r for k, r in each.items() if k[1] == "http"}
    assert sorted(r.evidence["address"] for r in tcp.values()) == sorted(addresses)
    assert [tcp[f"instance{i}"].outcome for i in (1, 2, 3)] == [
        Outcome.OK,
        Outcome.OK,
        Outcome.REFUSED,
    ]
    assert sorted(http) == ["instance1", "instance2"]
    assert all(r.ok and r.evidence["instance"] in (1, 2) for r in http.values())
    report = events[-1].report  # type: ignore[union-attr]
    (check,) = report.checks
    assert {r.key for r in check.results} >= {r.key for r in tcp.values()}
    assert [f.kind for f in report.findings] == ["instance-down"]


async def test_breaking_out_of_the_stream_cancels_cleanly():
    fx = read(FIXTURES / "render-acme.yaml")
    ws = fx.workspace
    api = ws.service("api")
    assert api is not None
    async with Lab(ws, fx.lab) as lab:
        options = checks.Options(nameserver=lab.nameserver_for("oregon"))
        async with aclosing(checks.stream(ws, api, targets_from_env(ws, api), options)) as events:  # type: ignore[type-var]
            async for event in events:
                assert isinstance(event, checks.ProbeEvent)
                break


async def test_a_deadline_bounds_the_whole_run():
    fx = read(FIXTURES / "render-acme.yaml")
    ws = fx.workspace
    api = ws.service("api")
    assert api is not None
    [ledger] = [t for t in targets_from_env(ws, api) if t.subject == "LEDGER_URL"]
    async with Lab(ws, fx.lab) as lab:
        options = checks.Options(
            nameserver=lab.nameserver_for("oregon"), tcp_timeout=30.0, deadline=0.5
        )
        report = await checks.run(ws, api, [ledger], options)
    tcp = [r for r in report.checks[0].results if r.kind == "tcp"]
    assert tcp and tcp[0].outcome is Outcome.TIMEOUT
    assert [f.kind for f in report.findings] == ["unreachable"]


async def test_a_probe_that_crashes_is_an_error_result_not_a_crash(monkeypatch):
    from pnet.probes import tcp

    async def boom(*args: object, **kwargs: object) -> ProbeResult:
        raise RuntimeError("probe bug")

    monkeypatch.setattr(tcp, "connect", boom)
    fx = read(FIXTURES / "render-healthy.yaml")
    ws = fx.workspace
    api = ws.service("api")
    assert api is not None
    async with Lab(ws, fx.lab) as lab:
        options = checks.Options(nameserver=lab.nameserver_for("ohio"))
        seen: list[ProbeResult] = []
        report = await checks.run(
            ws, api, targets_from_env(ws, api), options, on_result=lambda _s, r: seen.append(r)
        )
    errors = [r for r in seen if r.kind == "tcp"]
    assert errors and all(r.outcome is Outcome.ERROR and "probe bug" in r.detail for r in errors)
    assert len(seen) == sum(len(c.results) for c in report.checks)


def test_sweep_targets_cover_every_service_and_every_variable():
    fx = read(FIXTURES / "render-acme.yaml")
    ws = fx.workspace
    targets = sweep(ws)
    subjects = {t.subject for t in targets}
    assert {"service:api", "service:acme-db", "service:cache", "api.DATABASE_URL"} <= subjects
    assert "service:mailer" not in subjects
    assert [t.subject for t in targets if t.subject.startswith("service:gateway")] == [
        "service:gateway"
    ]
    assert all(t.source for t in targets if not t.subject.startswith("service:"))


def test_a_large_workspace_is_diagnosed_whole():
    from pnet.sources.fixture import loads

    lines = ["platform: render", "workspace: big", "services:"]
    n = 600
    for i in range(n):
        nxt = (i + 1) % n
        lines += [
            f"  - name: s{i}",
            "    type: pserv",
            f"    host: s{i}-ab{i % 10}c",
            "    ports: [8000]",
            "    env:",
            f"      NEXT_URL: http://s{nxt}-ab{nxt % 10}c:8000",
            f"      TYPO_URL: http://s{nxt}-zb{nxt % 10}c:8000",
        ]
    ws = loads("\n".join(lines))
    report = checks.run_offline(ws, None, sweep(ws))
    assert len(report.checks) == 3 * n
    typos = [f for f in report.findings if f.kind == "unknown-host"]
    assert len(typos) == n == len(report.findings)
    first = next(f for f in typos if f.subject == "s0.TYPO_URL")
    assert first.service == "s1" and "TYPO_URL=http://s1-ab1c:8000" in first.fix


def test_a_slug_the_model_does_not_know_is_not_asked_for():
    ws = render_ws(
        svc("api", "web", host="api", host_known=False, env={"S": "http://search:9200"}),
        svc("search", host="search", host_known=False, ports=[9200]),
    )
    api = ws.service("api")
    assert api is not None
    assert checks.plan_jobs(ws, api, targets_from_env(ws, api), checks.Options()) == []


async def test_every_question_goes_on_the_wire_once(monkeypatch):
    """The service's own check and the variables pointing at it ask the same questions: each
    connection, GET and handshake is made once, and every check still has its own results."""
    from pnet.probes import http, tcp

    connects: list[tuple[str, int]] = []
    gets: list[tuple[str, str | None]] = []
    real_connect, real_get = tcp.connect, http.get

    async def counting_connect(host: str, port: int, **kw: object) -> ProbeResult:
        connects.append((host, port))
        return await real_connect(host, port, **kw)  # type: ignore[arg-type]

    async def counting_get(url: str, **kw: object) -> ProbeResult:
        gets.append((url, kw.get("address")))  # type: ignore[arg-type]
        return await real_get(url, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(tcp, "connect", counting_connect)
    monkeypatch.setattr(http, "get", counting_get)
    fx = read(FIXTURES / "render-acme.yaml")
    ws = fx.workspace
    targets = sweep(ws)
    async with Lab(ws, fx.lab) as lab:
        options = checks.Options(nameserver=lab.nameserver)
        report = await checks.run(ws, None, targets, options)
    assert connects and len(connects) == len(set(connects))
    assert gets and len(gets) == len(set(gets))
    inventory = next(c for c in report.checks if c.target.subject == "service:inventory")
    keys = {r.key for r in inventory.results}
    assert "service:inventory|tcp4" in keys and "service:inventory|instance1|tcp" in keys


def test_an_overloaded_probe_leaves_its_check_not_checked():
    ws = read(FIXTURES / "render-healthy.yaml").workspace
    api = ws.service("api")
    assert api is not None
    targets = targets_from_env(ws, api)[:1]
    planned = checks.prepare(ws, api, targets)
    subject = targets[0].subject
    dns = ProbeResult(kind="dns", target="x", outcome=Outcome.OK, elapsed_ms=1, key="d")
    busy = ProbeResult(
        kind="tcp",
        target="x:1",
        outcome=Outcome.OVERLOADED,
        elapsed_ms=0,
        detail="not checked (overloaded): busy",
        evidence={"skipped": True, "overloaded": True},
        key="t",
    )
    report = checks.build_report(ws, api, planned, {subject: [dns, busy]}, None, offline=False)
    (check,) = report.checks
    assert check.status == "not-checked" and "overloaded" in check.why_not_checked
    assert report.findings == () and report.exit_code == 0
