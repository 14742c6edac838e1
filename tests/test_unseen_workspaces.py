"""Workspaces of shapes the project's fixtures do not have: healthy ones must give no alarm,
broken ones the one finding of each cause, and every fix must itself work."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pnet import checks, doctor
from pnet.diagnose import KINDS
from pnet.lab import LabThread
from pnet.model import EnvVar, Workspace
from pnet.sources.fixture import loads, reads
from pnet.targets import service_targets, sweep, targets_from_env

# Render: two regions, each self-contained; several ports; values that look like addresses
# but are not targets (third parties, loopback sidecars, bind addresses, JSON, lists).
RENDER_HEALTHY = """
platform: render
workspace: orbit
services:
  - name: gw
    type: web
    region: frankfurt
    plan: standard
    host: gw-k2m4
    ports: [10000, 9001]
    public_url: https://gw-k2m4.onrender.com
    health_path: /health
    env:
      PORT: "10000"
      BIND: 0.0.0.0:10000
      HOST: 0.0.0.0
      LISTEN_ADDR: "0.0.0.0:9001"
      APP_URL: https://gw-k2m4.onrender.com
      ALLOWED_HOSTS: gw-k2m4.onrender.com,localhost,127.0.0.1
      CORS_ORIGINS: https://gw-k2m4.onrender.com,https://admin.example.com
      DATABASE_URL: postgres://orbit:Qw3rty9xZ@dpg-a1b2c3d4e5f6g7h8i9j0-a/orbit
      READ_DATABASE_URL: postgresql://orbit:Qw3rty9xZ@dpg-a1b2c3d4e5f6g7h8i9j0-a:5432/orbit?sslmode=disable&application_name=gw
      PGHOST: dpg-a1b2c3d4e5f6g7h8i9j0-a
      PGUSER: orbit
      PGPASSWORD: Qw3rty9xZ
      PGDATABASE: orbit
      REDIS_URL: redis://:Pa55word1@red-k1l2m3n4o5p6q7r8s9t0:6379/0
      ADMIN_URL: http://ADMIN-P9Q8:7000/admin/
      ADMIN_GRPC: admin-p9q8.:7001
      APP_NAME: admin
      STRIPE_API: https://api.stripe.com
      SLACK_WEBHOOK_URL: https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX
      S3_BUCKET_URL: https://orbit-assets.s3.eu-central-1.amazonaws.com
      S3_ENDPOINT: s3.eu-central-1.amazonaws.com
      SMTP_URL: smtp://apikey:SG.abcdef@smtp.sendgrid.net:587
      AMQP_URL: amqps://user:pw12345@rattlesnake.rmq.cloudamqp.com/vhost
      MONGO_URL: mongodb+srv://app:pw987654@cluster0.ab1cd.mongodb.net/orbit?retryWrites=true
      SIDECAR_URL: http://localhost:4318
      METRICS_URL: http://127.0.0.1:9090/metrics
      KAFKA_BROKERS: broker-1.kafka.example.net:9092,broker-2.kafka.example.net:9092
      FEATURE_FLAGS: '{"beta": true, "url": "https://flags.example.com"}'
      WEBHOOK_URL: https://example.com/hook?token=abcdef123456
      SENTRY_DSN: https://abc123@o12345.ingest.sentry.io/67890
      IPV6_URL: http://[2001:db8::1]:8080/x
  - name: admin
    type: pserv
    region: frankfurt
    host: admin-p9q8
    ports: [7000, 7001]
    health_path: /admin/
    env:
      GW_ADMIN: http://gw-k2m4:9001/metrics
      GW_GRPC: gw-k2m4:9001
      GW_INSTANCES: gw-k2m4-discovery:9001
  - name: orbit-db
    type: postgres
    region: frankfurt
    host: dpg-a1b2c3d4e5f6g7h8i9j0-a
    database: orbit
    user: orbit
    password: Qw3rty9xZ
    ip_allow_list: []
  - name: cache
    type: keyvalue
    region: frankfurt
    host: red-k1l2m3n4o5p6q7r8s9t0
    password: Pa55word1
    ip_allow_list: ["203.0.113.0/24"]
  - name: sg-api
    type: web
    region: singapore
    plan: starter
    host: sg-api-z7x6
    ports: [8080]
    public_url: https://sg-api-z7x6.onrender.com
    env:
      DATABASE_URL: postgresql://sg:Abc123xyz@dpg-z9y8x7w6v5u4t3s2r1q0-a/sg
      CACHE_URL: rediss://red-k1l2m3n4o5p6q7r8s9t0:Pa55word1@frankfurt-keyvalue.render.com:6379
      GW_PUBLIC: https://gw-k2m4.onrender.com
  - name: sg-db
    type: postgres
    region: singapore
    host: dpg-z9y8x7w6v5u4t3s2r1q0-a
    database: sg
    user: sg
    password: Abc123xyz
    ip_allow_list: []
  - name: nightly
    type: cron
    region: singapore
    env:
      DATABASE_URL: postgresql://sg:Abc123xyz@dpg-z9y8x7w6v5u4t3s2r1q0-a/sg
      API_URL: http://sg-api-z7x6:8080/jobs
"""

# Railway: one dual-stack environment, references, a web service called on its second port.
RAILWAY_HEALTHY = """
platform: railway
project: atlas
environments:
  production: {network: dual-stack}
services:
  - name: frontend
    type: web
    environment: production
    ports: [3000]
    public_url: https://frontend-production.up.railway.app
    env:
      PORT: "3000"
      HOST: "::"
      API_URL: http://${{backend.RAILWAY_PRIVATE_DOMAIN}}:${{backend.PORT}}
      NEXT_PUBLIC_API_URL: https://${{backend.RAILWAY_PUBLIC_DOMAIN}}
      METRICS_URL: http://127.0.0.1:9464/metrics
  - name: backend
    type: web
    environment: production
    ports: [8080, 9090]
    public_url: https://backend-production.up.railway.app
    health_path: /healthz
    env:
      PORT: "8080"
      DATABASE_URL: ${{Postgres.DATABASE_URL}}
      REDIS_URL: ${{Redis.REDIS_URL}}
      GRPC_ADDR: backend-grpc.railway.internal:50051
      ADMIN_METRICS: http://backend.railway.internal:9090/metrics
      QUEUE_URL: redis://default:Rq8pass@Redis.railway.internal:6379/1?family=0
      STRIPE_URL: https://api.stripe.com/v1
      BROKERS: kafka-0.railway.internal:9092,kafka-1.railway.internal:9092
  - {name: backend-grpc, type: pserv, environment: production, ports: [50051]}
  - {name: kafka-0, type: pserv, environment: production, ports: [9092]}
  - {name: kafka-1, type: pserv, environment: production, ports: [9092]}
  - name: Postgres
    type: postgres
    environment: production
    host: postgres.railway.internal
    user: postgres
    password: Pg9secret
    database: railway
  - name: Redis
    type: keyvalue
    environment: production
    host: redis.railway.internal
    password: Rq8pass
    lab: {auth: Rq8pass}
"""

RENDER_BROKEN = """
platform: render
workspace: kilo
services:
  - name: shop
    type: web
    region: virginia
    plan: standard
    host: shop-r5t6
    ports: [3000]
    public_url: https://shop-r5t6.onrender.com
    env:
      PORT: "3000"
      DATABASE_URL: postgresql://kilo:Secr3tPw@dpg-c1c2c3c4c5c6c7c8c9c0-a:5433/kilo
      TYPO_DATABASE_URL: postgresql://kilo:Secr3tPw@dpg-c1c2c3c4c5c6c7c8c9c1-a/kilo
      EU_CACHE_URL: redis://red-e1e2e3e4e5e6e7e8e9e0:6379
      LOCAL_CACHE_URL: rediss://red-v1v2v3v4v5v6v7v8v9v0:6379
      BLOG_URL: http://blog-q2w3:10000
      VITE_API_URL: http://shop-r5t6:3000
      REACT_APP_DB: postgresql://kilo@dpg-c1c2c3c4c5c6c7c8c9c0-a/kilo
      EXPO_PUBLIC_CACHE: redis://red-v1v2v3v4v5v6v7v8v9v0:6379
      CACHE_ADDR_URL: red-v1v2v3v4v5v6v7v8v9v0:6379
      PG_HTTP_URL: http://dpg-c1c2c3c4c5c6c7c8c9c0-a:5432
      SEARCH_URL: https://search-h8j9:9200/idx?pretty
      SEARCH_RESERVED: http://search-h8j9:19099
      UPSTREAMS: https://search-h8j9.onrender.com,https://partner.example.com
      ASIA_DB_URL: postgresql://sg:Abc1@dpg-s1s2s3s4s5s6s7s8s9s0-a.singapore-postgres.render.com/sg
  - name: blog
    type: web
    region: virginia
    plan: free
    public_url: https://blog-q2w3.onrender.com
  - name: search
    type: web
    region: virginia
    host: search-h8j9
    ports: [9200]
    public_url: https://search-h8j9.onrender.com
  - name: kilo-db
    type: postgres
    region: virginia
    host: dpg-c1c2c3c4c5c6c7c8c9c0-a
    database: kilo
    user: kilo
    password: Secr3tPw
    lab: {auth: Secr3tPw}
  - name: local-cache
    type: keyvalue
    region: virginia
    host: red-v1v2v3v4v5v6v7v8v9v0
    ip_allow_list: []
  - name: eu-cache
    type: keyvalue
    region: frankfurt
    host: red-e1e2e3e4e5e6e7e8e9e0
    password: Kv9pass
    ip_allow_list: ["203.0.113.0/24"]
  - name: asia-db
    type: postgres
    region: singapore
    host: dpg-s1s2s3s4s5s6s7s8s9s0-a
    database: sg
    user: sg
    password: Abc1
    ip_allow_list: []
"""

RENDER_BROKEN_FROM_SHOP = {
    ("wrong-port", "DATABASE_URL"),
    ("unknown-host", "TYPO_DATABASE_URL"),
    ("cross-region", "EU_CACHE_URL"),
    ("tls-on-private", "LOCAL_CACHE_URL"),
    ("not-receiving", "BLOG_URL"),
    ("client-side-private-url", "VITE_API_URL"),
    ("client-side-private-url", "REACT_APP_DB"),
    ("client-side-private-url", "EXPO_PUBLIC_CACHE"),
    ("missing-scheme", "CACHE_ADDR_URL"),
    ("wrong-protocol", "PG_HTTP_URL"),
    ("tls-on-private", "SEARCH_URL"),
    ("wrong-port", "SEARCH_RESERVED"),
    ("wrong-url", "UPSTREAMS[0]"),
    ("cross-region", "ASIA_DB_URL"),
}

RAILWAY_BROKEN = """
platform: railway
project: atlas
environments:
  production: {network: ipv6-only}
  staging: {network: dual-stack}
services:
  - name: api
    type: web
    environment: staging
    ports: [8080]
    public_url: https://api-staging.up.railway.app
    runtime: node
    env:
      PORT: "8080"
      DATABASE_URL: ${{Postgres.DATABASE_URL}}
      PROD_DB: postgresql://postgres:Pg9secret@postgres.railway.internal:5432/railway
      VITE_BACKEND: http://api.railway.internal:8080
      REACT_APP_SOCKET: ws://api.railway.internal:8080/ws
      EXPO_PUBLIC_API: http://api.railway.internal:8080
  - name: Postgres
    type: postgres
    environment: production
    host: postgres.railway.internal
    user: postgres
    password: Pg9secret
    database: railway
  - name: jobs
    type: web
    environment: production
    ports: [4000]
    runtime: python
    env:
      PORT: "4000"
      DATABASE_URL: ${{Postgres.DATABASE_URL}}
      CACHE_URL: redis://default:Rq8pass@cache.railway.internal:6379
  - name: bull
    type: pserv
    environment: production
    ports: [4100]
    runtime: node
    env:
      PORT: "4100"
      DATABASE_URL: ${{Postgres.DATABASE_URL}}
      CACHE_URL: redis://default:Rq8pass@cache.railway.internal:6379
      CATALOG: http://jobs.railway.internal:4001
      JOBS_TLS: https://jobs.railway.internal:4000
  - name: cache
    type: keyvalue
    environment: production
    password: Rq8pass
    lab: {auth: Rq8pass}
"""

RAILWAY_BROKEN_EXPECTED = {
    "api": {
        ("cross-environment", "DATABASE_URL"),
        ("cross-environment", "PROD_DB"),
        ("client-side-private-url", "VITE_BACKEND"),
        ("client-side-private-url", "REACT_APP_SOCKET"),
        ("client-side-private-url", "EXPO_PUBLIC_API"),
    },
    # A Python client of Postgres and Redis resolves AAAA: a legacy environment is no problem.
    "jobs": set(),
    "bull": {
        ("ipv6-only-name", "CACHE_URL"),
        ("wrong-port", "CATALOG"),
        ("tls-on-private", "JOBS_TLS"),
    },
}


def _offline(ws: Workspace, source: str | None) -> checks.Report:
    if source is None:
        return checks.run_offline(ws, None, sweep(ws))
    src = ws.service(source)
    assert src is not None
    return checks.run_offline(ws, src, targets_from_env(ws, src))


def _live(ws: Workspace, lab: LabThread, source: str | None) -> checks.Report:
    if source is None:
        options = checks.Options(
            nameserver=lab.nameserver, nameserver_for=lab.nameserver_for
        ).scaled(0.5)
        return asyncio.run(checks.run(ws, None, sweep(ws), options))
    src = ws.service(source)
    assert src is not None
    targets = targets_from_env(ws, src) + service_targets(ws, src)
    options = checks.Options(nameserver=lab.nameserver_for(src.location)).scaled(0.5)
    return asyncio.run(checks.run(ws, src, targets, options))


def _alarms(report: checks.Report) -> list[tuple[str, str, str]]:
    return [(f.kind, f.subject, f.message) for f in report.findings if f.severity.rank > 0]


def _found(report: checks.Report) -> set[tuple[str, str]]:
    return {(f.kind, f.subject) for f in report.findings}


def _with_env(ws: Workspace, service: str, key: str, value: str) -> Workspace:
    svc = ws.service(service)
    assert svc is not None
    env = tuple(dataclasses.replace(v, value=value) if v.key == key else v for v in svc.env)
    if all(v.key != key for v in svc.env):
        env = (*env, EnvVar(key, value))
    return _with(ws, service, env=env)


def _with(ws: Workspace, service: str, **changes: Any) -> Workspace:
    return dataclasses.replace(
        ws,
        services=tuple(
            dataclasses.replace(s, **changes) if s.name == service else s for s in ws.services
        ),
    )


def _apply(ws: Workspace, source: str, f: Any) -> Workspace | None:
    """The workspace with a finding's first fix line applied (None: not a `KEY=value` line)."""
    key = re.sub(r"\[\d+\]$", "", f.subject)
    m = re.match(rf"^{re.escape(key)}=(\S+)$", f.fix.splitlines()[0])
    if m is None:
        return None
    value = m.group(1)
    target = ws.service(f.service or "")
    if "PASSWORD" in value:
        value = value.replace("PASSWORD", target.password if target and target.password else "")
    fixed = _with_env(ws, source, key, value)
    if target is not None and "allow list is empty" in f.fix:
        fixed = _with(fixed, target.name, ip_allow_list=("203.0.113.0/24",))
    return fixed


@pytest.fixture(scope="module")
def labs() -> Iterator[dict[str, tuple[Workspace, LabThread]]]:
    started: dict[str, tuple[Workspace, LabThread]] = {}
    try:
        for name, text in (
            ("render-healthy", RENDER_HEALTHY),
            ("railway-healthy", RAILWAY_HEALTHY),
            ("render-broken", RENDER_BROKEN),
            ("railway-broken", RAILWAY_BROKEN),
        ):
            fx = reads(text, f"<{name}>")
            ws = fx.workspace
            lab = LabThread(ws, fx.lab)
            lab.start()
            started[name] = (ws, lab)
        yield started
    finally:
        for _, lab in started.values():
            lab.stop()


# ---- healthy shapes: no alarm ----------------------------------------------------------------


@pytest.mark.parametrize("text", [RENDER_HEALTHY, RAILWAY_HEALTHY], ids=["render", "railway"])
def test_a_healthy_workspace_of_another_shape_gives_no_alarm_offline(text):
    ws = loads(text)
    assert _alarms(_offline(ws, None)) == []
    for svc in ws.services:
        assert _alarms(_offline(ws, svc.name)) == [], svc.name


@pytest.mark.parametrize("name", ["render-healthy", "railway-healthy"])
def test_a_healthy_workspace_of_another_shape_gives_no_alarm_live(labs, name):
    ws, lab = labs[name]
    assert _alarms(_live(ws, lab, None)) == []
    for svc in ws.services:
        if svc.env:
            assert _alarms(_live(ws, lab, svc.name)) == [], svc.name


def test_values_that_are_not_private_targets_are_not_probed():
    ws = loads(RENDER_HEALTHY)
    src = ws.service("gw")
    assert src is not None
    targets = {t.subject: t for t in targets_from_env(ws, src)}
    probed = {
        subject
        for subject, _ in checks.plan_jobs(ws, src, list(targets.values()), checks.Options())
    }
    for key in ("STRIPE_API", "SIDECAR_URL", "METRICS_URL", "BIND", "IPV6_URL", "MONGO_URL"):
        assert key not in probed, key
    assert "APP_NAME" not in targets and "PGDATABASE" not in targets
    assert targets["ADMIN_GRPC"].service == "admin" and targets["ADMIN_GRPC"].port == 7001


# ---- broken shapes: the one finding of each cause ----------------------------------------------


def test_each_kind_in_a_render_setting_the_fixtures_do_not_have(labs):
    ws, lab = labs["render-broken"]
    assert _found(_offline(ws, "shop")) == RENDER_BROKEN_FROM_SHOP
    live = _live(ws, lab, "shop")
    assert _found(live) == RENDER_BROKEN_FROM_SHOP


@pytest.mark.parametrize("source", ["api", "jobs", "bull"])
def test_each_kind_in_a_railway_setting_the_fixtures_do_not_have(labs, source):
    ws, lab = labs["railway-broken"]
    assert _found(_offline(ws, source)) == RAILWAY_BROKEN_EXPECTED[source]
    assert _found(_live(ws, lab, source)) == RAILWAY_BROKEN_EXPECTED[source]


@pytest.mark.parametrize(
    ("name", "source"),
    [("render-broken", "shop"), ("railway-broken", "api"), ("railway-broken", "bull")],
)
def test_each_fix_makes_its_finding_go_and_brings_no_new_one(labs, name, source):
    ws, lab = labs[name]
    before = _live(ws, lab, source)
    tried = 0
    for f in before.findings:
        fixed = _apply(ws, source, f)
        if fixed is None:
            continue
        offline = _offline(fixed, source).findings_for(f.subject)
        assert offline == [], (f.kind, f.subject, f.fix, offline)
        live = _live(fixed, lab, source).findings_for(f.subject)
        assert live == [], (f.kind, f.subject, f.fix, live)
        tried += 1
    assert tried >= 3


# ---- regressions -------------------------------------------------------------------------------


def test_a_browser_variable_is_one_finding_even_when_the_server_asks_for_a_password(labs):
    ws, lab = labs["render-broken"]
    found = [f for f in _live(ws, lab, "shop").findings if f.subject == "REACT_APP_DB"]
    assert [f.kind for f in found] == ["client-side-private-url"]
    assert "PASSWORD" not in found[0].fix


def test_the_own_public_url_and_public_facing_variables_are_not_wrong_urls():
    ws = loads(RENDER_HEALTHY)
    ws = _with_env(ws, "gw", "FRONTEND_URL", "https://sg-api-z7x6.onrender.com")
    ws = _with_env(ws, "gw", "OAUTH_CALLBACK_URL", "https://gw-k2m4.onrender.com/callback")
    assert _alarms(_offline(ws, "gw")) == []
    ws = _with_env(ws, "gw", "ADMIN_API", "https://gw-k2m4.onrender.com")
    ws = _with(ws, "admin", env=(EnvVar("GW_URL", "https://gw-k2m4.onrender.com/v1"),))
    assert _found(_offline(ws, "admin")) == {("wrong-url", "GW_URL")}


def test_a_fix_for_one_address_of_a_list_keeps_the_others():
    ws = loads(RENDER_BROKEN)
    f = next(f for f in _offline(ws, "shop").findings if f.subject == "UPSTREAMS[0]")
    assert f.fix.splitlines()[0] == (
        "UPSTREAMS=http://search-h8j9:9200,https://partner.example.com"
    )


def test_a_reference_to_a_service_of_another_environment_is_cross_environment():
    ws = loads(RAILWAY_BROKEN)
    f = next(f for f in _offline(ws, "api").findings if f.subject == "DATABASE_URL")
    assert f.kind == "cross-environment" and f.service == "Postgres"
    assert "production" in f.message and "staging" in f.message
    assert "has no variable" not in f.message


def test_the_external_url_of_a_datastore_closed_to_outside_is_no_fix():
    ws = loads(RENDER_BROKEN)
    f = next(f for f in _offline(ws, "shop").findings if f.subject == "ASIA_DB_URL")
    assert f.kind == "cross-region" and "allow list is empty" in f.message
    opened = _with(ws, "asia-db", ip_allow_list=("198.51.100.7/32",))
    assert _offline(opened, "shop").findings_for("ASIA_DB_URL") == []
    healthy = loads(RENDER_HEALTHY)
    assert _offline(healthy, "sg-api").findings_for("CACHE_URL") == []


def test_a_websocket_in_a_browser_variable_gets_the_public_wss_url():
    ws = loads(RAILWAY_BROKEN)
    f = next(f for f in _offline(ws, "api").findings if f.subject == "REACT_APP_SOCKET")
    assert f.fix.splitlines()[0] == "REACT_APP_SOCKET=wss://api-staging.up.railway.app/ws"


def test_a_host_variable_gets_its_password_from_pgpassword(labs):
    ws, lab = labs["render-broken"]
    shop = ws.service("shop")
    assert shop is not None
    host = EnvVar("PGHOST", "dpg-c1c2c3c4c5c6c7c8c9c0-a")
    base = _with(ws, "shop", env=(host, EnvVar("PGUSER", "kilo"), EnvVar("PGDATABASE", "kilo")))
    found = _live(base, lab, "shop").findings_for("PGHOST")
    assert [f.kind for f in found] == ["auth-required"]
    assert "PGHOST=" not in found[0].fix and "PGPASSWORD" in found[0].fix
    right = _with_env(base, "shop", "PGPASSWORD", "Secr3tPw")
    assert _live(right, lab, "shop").findings_for("PGHOST") == []
    wrong = _with_env(base, "shop", "PGPASSWORD", "nope")
    found = _live(wrong, lab, "shop").findings_for("PGHOST")
    assert [f.kind for f in found] == ["auth-required"] and "rejected" in found[0].message


# ---- the doctor's contract on these workspaces -------------------------------------------------


def _doctor(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = doctor.main(argv, stdout=out, stderr=err, environ={})
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("healthy", RENDER_HEALTHY), ("broken", RENDER_BROKEN)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        out[name] = path
    return out


def _contract(data: dict[str, Any]) -> None:
    assert list(data) == [
        "version",
        "workspace",
        "source",
        "offline",
        "checks",
        "findings",
        "summary",
    ]
    assert data["version"] == 1
    assert set(data["workspace"]) == {"name", "platform", "services"}
    for svc in data["workspace"]["services"]:
        where = "region" if data["workspace"]["platform"] == "render" else "environment"
        assert list(svc)[:6] == ["name", "type", where, "plan", "host", "ports"]
        assert set(list(svc)[6:]) <= {"assumed"}
        assert set(svc.get("assumed", [])) <= {"host", "ports"}
    for check in data["checks"]:
        assert {"target", "service", "probes"} <= set(check)
        for probe in check["probes"]:
            assert {"kind", "target", "outcome", "ms"} <= set(probe)
    for f in data["findings"]:
        fields = ["kind", "severity", "subject", "service", "message", "evidence", "fix"]
        assert list(f)[:7] == fields
        assert set(list(f)[7:]) <= {"location"}
        if "location" in f:
            assert list(f["location"]) == ["file", "line", "column"]
        assert f["kind"] in KINDS and f["severity"] == KINDS[f["kind"]].severity.value
    s = data["summary"]
    assert list(s)[:3] == ["errors", "warnings", "ok"]
    assert s["errors"] == sum(1 for f in data["findings"] if f["severity"] == "error")
    assert s["warnings"] == sum(1 for f in data["findings"] if f["severity"] == "warning")
    states = [c["status"] for c in data["checks"]]
    assert set(states) <= {"ok", "warning", "error", "not-checked"}
    assert s["checks"] == {
        "total": len(states),
        "ok": states.count("ok"),
        "warning": states.count("warning"),
        "error": states.count("error"),
        "not_checked": states.count("not-checked"),
    }
    assert s["ok"] == states.count("ok") and s["not_checked"] == states.count("not-checked")
    for check in data["checks"]:
        ran = [p for p in check["probes"] if not p.get("evidence", {}).get("skipped")]
        if check["status"] == "ok":
            assert ran, check
        if check["status"] == "not-checked":
            assert check["reason"] and not ran, check


@pytest.mark.parametrize(
    ("name", "args", "rc"),
    [
        ("healthy", ["--all"], 0),
        ("healthy", ["--from", "gw"], 0),
        ("healthy", ["--from", "sg-api"], 0),
        ("broken", ["--all"], 1),
        ("broken", ["--from", "shop"], 1),
        ("broken", ["search"], 0),
        ("broken", ["kilo-db"], 0),
        ("broken", ["--from", "shop", "http://search-h8j9:9201"], 1),
        ("broken", ["--from", "shop", "search-h8j9:9200"], 0),
        ("broken", ["--from", "shop", "https://shop-r5t6.onrender.com"], 0),
        ("broken", ["--from", "shop", "blog"], 1),
    ],
)
def test_json_contract_and_exit_codes_offline(files, name, args, rc):
    code, out, err = _doctor(
        ["--workspace", str(files[name]), "--offline", "--format", "json", *args]
    )
    assert err == ""
    data = json.loads(out)
    _contract(data)
    assert code == rc == (1 if data["summary"]["errors"] else 0), data["findings"]
    for secret in ("Qw3rty9xZ", "Pa55word1", "Secr3tPw", "Kv9pass", "abcdef123456", "pw12345"):
        assert secret not in out


def test_json_contract_live(files, labs):
    _, lab = labs["render-broken"]
    ns = f"{lab.nameserver_for('virginia')[0]}:{lab.nameserver_for('virginia')[1]}"
    argv = ["--workspace", str(files["broken"]), "--from", "shop", "--nameserver", ns]
    code, out, _ = _doctor([*argv, "--timeout", "1", "--format", "json"])
    data = json.loads(out)
    _contract(data)
    assert code == 1
    assert any(check["probes"] for check in data["checks"])
    assert "Secr3tPw" not in out


@pytest.mark.parametrize(
    ("args", "rc"),
    [
        *[(["--explain", kind], 0) for kind in KINDS],
        (["--explain", "no-such-kind"], 2),
        (["--offline", "--from", "nobody"], 2),
        (["--offline", "not a target!"], 2),
        (["--offline", "--all", "--from", "shop"], 2),
        (["--offline", "--all", "search"], 2),
    ],
)
def test_exit_codes_of_usage(files, args, rc):
    code, out, err = _doctor(["--workspace", str(files["broken"]), *args])
    assert code == rc, (out, err)
    if rc == 2:
        assert out == "" and err.count("\n") == 1


RAILWAY_PUBLIC_TEMPLATE = """
platform: railway
project: p
environments:
  production: {network: dual-stack}
services:
  - name: api
    type: web
    environment: production
    ports: [8080]
    env:
      PORT: "8080"
      DATABASE_URL: ${{Postgres.DATABASE_PUBLIC_URL}}
      DB2: postgresql://postgres:pw@shuttle.proxy.rlwy.net:15140/railway
      SENTINEL: redis.railway.internal:26379
  - {name: Postgres, type: postgres, environment: production, password: pw}
  - {name: redis, type: keyvalue, environment: production}
"""


def test_a_reference_to_a_database_templates_public_url_is_wrong_url_and_its_fix_works():
    ws = loads(RAILWAY_PUBLIC_TEMPLATE)
    found = {f.subject: f for f in _offline(ws, "api").findings}
    f = found["DATABASE_URL"]
    assert f.kind == "wrong-url" and f.fix.splitlines() == [
        "DATABASE_URL=${{Postgres.DATABASE_URL}}"
    ]
    fixed = loads(RAILWAY_PUBLIC_TEMPLATE.replace("DATABASE_PUBLIC_URL", "DATABASE_URL"))
    assert _offline(fixed, "api").findings_for("DATABASE_URL") == []
    # The database the URL names is kept when the model does not know it.
    assert found["DB2"].fix.splitlines()[0].endswith("@postgres.railway.internal:5432/railway")
    # A datastore's reference variable needs no PORT of its own.
    assert "PORT" not in found["SENTINEL"].fix


SERVES_TLS = """
platform: render
workspace: tls
services:
  - name: app
    type: web
    region: ohio
    host: app-t1t2
    ports: [14000]
    env:
      VAULT_URL: https://vault-v1v2:18200
      CACHE_URL: rediss://default:Tl5pass@red-t1t2t3t4t5t6t7t8t9t0:16380
  - {name: vault, type: pserv, region: ohio, host: vault-v1v2, ports: [18200], lab: {tls: true}}
  - name: cache
    type: keyvalue
    region: ohio
    host: red-t1t2t3t4t5t6t7t8t9t0
    ports: [16380]
    password: Tl5pass
    ip_allow_list: []
    lab: {tls: true, auth: Tl5pass}
"""


def test_tls_to_an_internal_address_is_judged_by_the_handshake_not_by_the_lab_block():
    fx = reads(SERVES_TLS)
    ws = fx.workspace
    assert _found(_offline(ws, "app")) == {
        ("tls-on-private", "VAULT_URL"),
        ("tls-on-private", "CACHE_URL"),
    }
    with LabThread(ws, fx.lab) as lab:
        assert _found(_live(ws, lab, "app")) == set()


def test_a_tcp_proxy_of_another_project_is_not_taken_for_the_one_postgres_of_this_one():
    text = """
platform: railway
project: p
environments: {production: {network: dual-stack}}
services:
  - name: api
    type: web
    environment: production
    ports: [8080]
    env:
      LEGACY_DB: postgresql://u:pw@roundhouse.proxy.rlwy.net:11105/legacy
      OWN_DB: postgresql://postgres:pw@shuttle.proxy.rlwy.net:15140/railway
  - name: Postgres
    type: postgres
    environment: production
    public_url: postgresql://shuttle.proxy.rlwy.net:15140
"""
    ws = loads(text)
    assert _found(_offline(ws, "api")) == {("wrong-url", "OWN_DB")}


def test_another_suffix_of_a_known_database_id_is_left_to_the_lookup():
    ws = _with_env(
        loads(RENDER_HEALTHY),
        "gw",
        "REPLICA_URL",
        "postgresql://orbit@dpg-a1b2c3d4e5f6g7h8i9j0-b/orbit",
    )
    assert _offline(ws, "gw").findings_for("REPLICA_URL") == []
    typo = _with_env(ws, "gw", "REPLICA_URL", "postgresql://orbit@dpg-a1b2c3d4e5f6g7h8i9j1-a/orbit")
    assert [f.kind for f in _offline(typo, "gw").findings_for("REPLICA_URL")] == ["unknown-host"]


def test_the_external_url_of_a_closed_datastore_of_the_same_region_says_it_refuses_too():
    ext = "postgresql://orbit:Qw3rty9xZ@dpg-a1b2c3d4e5f6g7h8i9j0-a.frankfurt-postgres.render.com/orbit"
    ws = _with_env(loads(RENDER_HEALTHY), "gw", "EXT_DB_URL", ext)
    [f] = _offline(ws, "gw").findings_for("EXT_DB_URL")
    assert f.kind == "wrong-url"
    assert any("refuses gw too" in e for e in f.evidence)
    assert "Qw3rty9xZ" not in " ".join([f.message, f.fix, *f.evidence])
