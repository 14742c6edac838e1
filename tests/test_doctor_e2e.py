"""End to end: pnet-doctor against the lab's real DNS servers and listeners, kind by kind."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pnet import checks, doctor
from pnet.diagnose import KINDS
from pnet.diagnose.explain import explain
from pnet.lab import LabThread
from pnet.lab.faults import LabFaults
from pnet.model import EnvVar, Workspace
from pnet.secrets import secrets_in
from pnet.sources.fixture import load, read
from pnet.targets import parse_target, targets_from_env

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
NAMES = ("render-acme", "render-healthy", "railway-shop")


@pytest.fixture(scope="module")
def labs() -> Iterator[dict[str, LabThread]]:
    started: dict[str, LabThread] = {}
    try:
        for name in NAMES:
            fx = read(FIXTURES / f"{name}.yaml")
            lab = LabThread(fx.workspace, fx.lab)
            lab.start()
            started[name] = lab
        yield started
    finally:
        for lab in started.values():
            lab.stop()


def served(lab: LabThread, service: str) -> bool:
    """Whether the lab serves every listener of a service (another process may hold an address
    such as 127.0.0.1:PORT on a shared machine)."""
    return all(s.listening or "down" in s.note for s in lab.served(service)) and not any(
        "in use" in n and service in n for n in lab.notes
    )


def alone(lab: LabThread, name: str, source: str) -> None:
    """Skip when another process holds addresses this check needs (a shared machine)."""
    ws = load(FIXTURES / f"{name}.yaml")
    src = ws.service(source)
    assert src is not None
    used = {t.service for t in targets_from_env(ws, src) if t.service}
    taken = [n for n in lab.notes if "in use" in n and n.split(":")[0] in used]
    if taken:
        pytest.skip(f"another process holds lab addresses: {taken}")


def need(lab: LabThread, *services: str) -> None:
    for service in services:
        if not served(lab, service):
            pytest.skip(f"the lab could not serve {service} here: {lab.notes}")


def v6_port_free(port: int) -> None:
    """Skip when something else on this machine accepts IPv6 on a port the lab leaves empty."""
    from pnet.probes import listeners

    taken = [li for li in listeners.listening() if li.port == port and ":" in li.address]
    if taken:
        pytest.skip(f"another process listens on IPv6 port {port}: {taken}")


def _ns(ns: tuple[str, int]) -> str:
    return f"{ns[0]}:{ns[1]}"


def _args(lab: LabThread, name: str, source: str | None) -> list[str]:
    ws = load(FIXTURES / f"{name}.yaml")
    args = ["--workspace", str(FIXTURES / f"{name}.yaml"), "--timeout", "1"]
    if source is None:
        args += ["--all", "--nameserver", _ns(lab.nameserver)]
        for net in lab.lab.networks():
            args += ["--nameserver", f"{net}={_ns(lab.nameserver_for(net))}"]
    else:
        svc = ws.service(source)
        assert svc is not None
        args += ["--from", source, "--nameserver", _ns(lab.nameserver_for(svc.location))]
    return args


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = doctor.main(argv, stdout=out, stderr=err, environ=env or {})
    return rc, out.getvalue(), err.getvalue()


def run_json(labs: dict[str, LabThread], name: str, source: str | None) -> dict[str, Any]:
    rc, out, err = run([*_args(labs[name], name, source), "--format", "json"])
    assert err == ""
    data: dict[str, Any] = json.loads(out)
    assert rc == (1 if data["summary"]["errors"] else 0)
    return data


def found(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["kind"], f["subject"]) for f in data["findings"]}


# ---- kind by kind, subject by subject ----------------------------------------------------

ACME_FROM_API = {
    ("wrong-protocol", "SESSION_REDIS_URL"),
    ("wrong-protocol", "SEARCH_DATABASE_URL"),
    ("auth-required", "CACHE_URL"),
    ("wrong-url", "AUTH_URL"),
    ("wrong-port", "SEARCH_URL"),
    ("cross-region", "BILLING_URL"),
    ("cross-region", "BILLING_DATABASE_URL"),
    ("not-receiving", "MAILER_URL"),
    ("missing-scheme", "IMAGES_URL"),
    ("tls-on-private", "GRAPH_URL"),
    ("unknown-host", "RECS_URL"),
    ("refused", "QUEUE_URL"),
    ("unreachable", "LEDGER_URL"),
    ("reserved-port", "METRICS_URL"),
    ("instance-down", "INVENTORY_URL"),
    ("http-error", "PRICING_URL"),
    ("handshake-error", "REPORTING_DATABASE_URL"),
    ("public-database", "service:acme-db"),
    ("too-many-ports", "service:gateway"),
}

SHOP_FROM_API = {
    ("build-phase", "DATABASE_URL"),
    ("ipv6-only-name", "REDIS_URL"),
    ("wrong-url", "CATALOG_URL"),
    ("ipv4-only-bind", "PAYMENTS_URL"),
    ("cross-environment", "STAGING_SEARCH_URL"),
    ("tls-on-private", "INVENTORY_URL"),
}


def test_render_acme_from_api(labs):
    data = run_json(labs, "render-acme", "api")
    assert found(data) == ACME_FROM_API
    assert data["source"]["name"] == "api" and data["source"]["region"] == "oregon"
    assert data["version"] == 1
    checks = {c["target"]: c for c in data["checks"]}
    assert checks["DATABASE_URL"]["status"] == "ok"
    assert {p["kind"] for p in checks["DATABASE_URL"]["probes"]} >= {"dns", "tcp4", "postgres"} - {
        "tcp4"
    }
    assert checks["MAILER_URL"]["probes"] == []
    assert checks["AUTH_URL"]["probes"] == []


def test_render_acme_from_web_and_from_the_cron_job(labs):
    need(labs["render-acme"], "reports")
    assert found(run_json(labs, "render-acme", "web")) == {
        ("client-side-private-url", "NEXT_PUBLIC_API_URL")
    }
    assert found(run_json(labs, "render-acme", "nightly-export")) == {
        ("loopback-bind", "REPORTS_URL")
    }


def test_railway_shop_from_api_and_from_web(labs):
    v6_port_free(8080)
    assert found(run_json(labs, "railway-shop", "api")) == SHOP_FROM_API
    assert found(run_json(labs, "railway-shop", "web")) == {
        ("ipv6-only-bind", "API_URL"),
        ("wrong-port", "SEARCH_URL"),
    }


def test_every_kind_is_produced_across_the_fixtures(labs):
    need(labs["render-acme"], "reports")
    v6_port_free(8080)
    seen: set[str] = set()
    for name in NAMES:
        seen |= {k for k, _ in found(run_json(labs, name, None))}
    assert seen == set(KINDS)


def test_the_sweep_of_acme(labs):
    need(labs["render-acme"], "reports")
    data = run_json(labs, "render-acme", None)
    got = found(data)
    assert {(k, f"api.{s}") for k, s in ACME_FROM_API if not s.startswith("service:")} <= got
    assert {
        ("refused", "service:queue"),
        ("unreachable", "service:ledger"),
        ("reserved-port", "service:metrics"),
        ("instance-down", "service:inventory"),
        ("http-error", "service:pricing"),
        ("loopback-bind", "service:reports"),
        ("too-many-ports", "service:gateway"),
        ("public-database", "service:acme-db"),
    } <= got
    assert ("auth-required", "service:cache") not in got
    gateway = [c for c in data["checks"] if c["target"].startswith("service:gateway")]
    assert len(gateway) == 1


def test_no_finding_at_all_on_the_healthy_workspace(labs):
    for source in (None, "api", "worker"):
        data = run_json(labs, "render-healthy", source)
        assert data["findings"] == [], source
        assert data["summary"]["errors"] == 0
    rc, out, _ = run(_args(labs["render-healthy"], "render-healthy", None))
    assert rc == 0 and "0 errors, 0 warnings" in out


# ---- the fixes work ---------------------------------------------------------------------


def _with_env(ws: Workspace, service: str, key: str, value: str) -> Workspace:
    svc = ws.service(service)
    assert svc is not None
    env = tuple(dataclasses.replace(v, value=value) if v.key == key else v for v in svc.env)
    if all(v.key != key for v in svc.env):
        env = (*env, EnvVar(key, value))
    new = dataclasses.replace(svc, env=env)
    return dataclasses.replace(
        ws, services=tuple(new if s.name == service else s for s in ws.services)
    )


def _report(ws: Workspace, lab: LabThread, source: str, only: str | None = None) -> checks.Report:
    import asyncio

    from pnet.probes import listeners

    src = ws.service(source)
    assert src is not None
    targets = [t for t in targets_from_env(ws, src) if only is None or t.subject == only]
    options = checks.Options(nameserver=lab.nameserver_for(src.location)).scaled(0.5)
    return asyncio.run(checks.run(ws, src, targets, options, listeners=listeners.listening()))


@pytest.mark.parametrize(
    ("name", "source"), [("render-acme", "api"), ("render-acme", "web"), ("railway-shop", "api")]
)
def test_each_url_fix_makes_its_finding_go_away(labs, name, source):
    ws = load(FIXTURES / f"{name}.yaml")
    lab = labs[name]
    before = _report(ws, lab, source)
    tried = 0
    for f in before.findings:
        m = re.match(rf"^{re.escape(f.subject)}=(\S+)$", f.fix.splitlines()[0])
        if m is None:
            continue
        value = m.group(1)
        named = parse_target(value.replace(":PASSWORD@", "@"), ws)
        target = ws.service(named.service or "") if named else None
        if "PASSWORD" in value:
            secret = target.password if target and target.password else ""
            value = value.replace(":PASSWORD@", f":{secret}@" if secret else "@")
        fixed = _with_env(ws, source, f.subject, value)
        if target is not None and "allow list is empty" in f.fix:
            # The fix names two changes: the external URL, and the caller in the allow list.
            fixed = _fault_free(fixed, target.name, ip_allow_list=("203.0.113.0/24",))
        after = _report(fixed, lab, source, only=f.subject)
        left = [g for g in after.findings if g.subject == f.subject]
        assert all(g.kind != f.kind for g in left), (f.kind, f.subject, value, left)
        assert all(g.severity.value != "error" for g in left), (f.subject, value, left)
        tried += 1
    assert tried >= {"render-acme": {"api": 8, "web": 1}, "railway-shop": {"api": 3}}[name][source]


def _fault_free(ws: Workspace, service: str, **changes: Any) -> Workspace:
    svc = ws.service(service)
    assert svc is not None
    new = dataclasses.replace(svc, **changes)
    return dataclasses.replace(
        ws, services=tuple(new if s.name == service else s for s in ws.services)
    )


@pytest.mark.parametrize(
    ("name", "source", "service", "kind"),
    [
        ("render-acme", "nightly-export", "reports", "loopback-bind"),
        ("railway-shop", "api", "payments", "ipv4-only-bind"),
        ("railway-shop", "web", "api-staging", "ipv6-only-bind"),
    ],
)
def test_binding_as_the_fix_says_makes_the_finding_go_away(name, source, service, kind):
    fx = read(FIXTURES / f"{name}.yaml")
    faults = dict(fx.lab)
    assert service in faults
    faults[service] = dataclasses.replace(faults[service], bind="any")
    with LabThread(fx.workspace, faults) as lab:
        report = _report(fx.workspace, lab, source)
    assert kind not in {f.kind for f in report.findings}
    assert not [f for f in report.findings if f.service == service and f.severity.value == "error"]


def test_the_service_fixes_work():
    fx = read(FIXTURES / "render-acme.yaml")
    fixed = _fault_free(fx.workspace, "acme-db", ip_allow_list=())
    fixed = _fault_free(fixed, "gateway", ports=tuple(range(8000, 8075)))
    fixed = _fault_free(fixed, "metrics", ports=(9100,))
    fixed = _with_env(fixed, "api", "METRICS_URL", "http://metrics-h6j7:9100")
    faults = {**fx.lab, "gateway": LabFaults(), "metrics": LabFaults()}
    with LabThread(fixed, faults) as lab:
        report = _report(fixed, lab, "api")
    kinds = {f.kind for f in report.findings}
    assert not kinds & {"public-database", "too-many-ports", "reserved-port"}
    shop = load(FIXTURES / "railway-shop.yaml")
    moved = _fault_free(shop, "api", build_command="npm run build")
    api = moved.service("api")
    assert api is not None
    report = checks.run_offline(moved, api, targets_from_env(moved, api))
    assert "build-phase" not in {f.kind for f in report.findings}


# ---- secrets, golden files, subprocesses ------------------------------------------------


def _secrets() -> set[str]:
    out: set[str] = set()
    for name in NAMES:
        ws = load(FIXTURES / f"{name}.yaml")
        for svc in ws.services:
            if svc.password:
                out.add(svc.password)
            for var in svc.env:
                out.update(secrets_in(var.key, var.value))
    assert len(out) >= 5
    return out


def test_no_secret_in_any_output(labs):
    secrets = _secrets()
    outputs: list[str] = []
    for name in NAMES:
        for fmt in ("text", "json"):
            outputs.append(run([*_args(labs[name], name, None), "--format", fmt])[1])
            path = str(FIXTURES / f"{name}.yaml")
            outputs.append(run(["--workspace", path, "--offline", "--all", "--format", fmt])[1])
    outputs.extend(explain(k) or "" for k in KINDS)
    text = "\n".join(outputs)
    assert "fix:" in text and '"findings"' in text
    for secret in secrets:
        assert secret not in text, secret


def normalise(text: str) -> str:
    text = text.replace(f"{FIXTURES.parent}/", "")
    text = re.sub(r"listening: [^\n\"]*", "listening: (the machine's listeners)", text)
    text = re.sub(r"\b127\.\d+\.(\d+)\.(\d+)\b", r"127.N.\1.\2", text)
    text = re.sub(r"(127\.N\.0\.53|127\.0\.0\.1|\[::1\]|::1):\d{4,5}\b", r"\1:PORT", text)
    text = re.sub(r"\b\d+(\.\d+)? (ms|s)\b", "T", text)
    text = re.sub(r" \(_ssl\.c:\d+\)", "", text)
    text = re.sub(r'"ms": [\d.]+', '"ms": 0', text)
    return text


def _json_golden(data: dict[str, Any]) -> str:
    for check in data["checks"]:
        check["ms"] = 0
        check["probes"] = [{"kind": p["kind"], "outcome": p["outcome"]} for p in check["probes"]]
    return normalise(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


@pytest.mark.parametrize(
    ("name", "source", "fmt"),
    [
        ("render-acme", "api", "text"),
        ("render-acme", "api", "json"),
        ("railway-shop", "api", "text"),
        ("railway-shop", "api", "json"),
        ("render-acme", None, "offline"),
    ],
)
def test_golden(labs, name, source, fmt):
    if fmt == "offline":
        path = str(FIXTURES / f"{name}.yaml")
        text = normalise(run(["--workspace", path, "--offline", "--all"])[1])
        golden = GOLDEN / f"{name}-offline.txt"
    elif fmt == "json":
        alone(labs[name], name, source)
        if name == "railway-shop":
            v6_port_free(8080)
        text = _json_golden(run_json(labs, name, source))
        golden = GOLDEN / f"{name}-{source}.json"
    else:
        alone(labs[name], name, source)
        if name == "railway-shop":
            v6_port_free(8080)
        text = normalise(run(_args(labs[name], name, source))[1])
        golden = GOLDEN / f"{name}-{source}.txt"
    if os.environ.get("PNET_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def _subprocess(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENDER", "RAILWAY"))}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "pnet.doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_real_subprocess_runs(labs):
    lab = labs["render-acme"]
    done = _subprocess([*_args(lab, "render-acme", "api"), "--format", "json"])
    assert done.returncode == 1, done.stderr
    assert found(json.loads(done.stdout)) == ACME_FROM_API
    healthy = _subprocess(_args(labs["render-healthy"], "render-healthy", None))
    assert healthy.returncode == 0 and healthy.stderr == ""
    assert "\x1b[" not in healthy.stdout
    assert "findings: 0 errors, 0 warnings" in healthy.stdout.splitlines()[-1]


def test_the_doctor_never_imports_textual(labs):
    lab = labs["render-healthy"]
    code = (
        "import sys; from pnet import doctor; "
        f"rc = doctor.main({_args(lab, 'render-healthy', 'api')!r}); "
        "assert 'textual' not in sys.modules, 'textual imported'; sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
