"""The lab in network namespaces (root only): instances with their own stacks behind a fabric
namespace of the lab's own, dnsmasq as each network's resolver, the platform's environment in
each instance, and nothing left behind, whether the lab stops, fails, is interrupted or killed.

The life-cycle tests run `pnet lab --netns` in a sandbox (tests.netns_sandbox: fresh mount and
network namespaces), so that before and after can be compared exactly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pnet.lab import LabError, LabThread, netns
from pnet.lab.environ import read_file
from pnet.lab.network import plan
from pnet.probes.result import Outcome
from pnet.probes.tcp import connect
from pnet.sources.fixture import read, reads
from tests import netns_sandbox
from tests.labspaces import lab_thread

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(netns.available() is not None, reason=str(netns.available())),
]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ACME = str(FIXTURES / "render-acme.yaml")
LAB = [sys.executable, "-m", "pnet.lab"]
RAILWAY = """
platform: railway
project: shop
environments:
  production: {network: ipv6-only}
  staging: {network: dual-stack}
services:
  - {name: api, type: web, environment: production, ports: [13000]}
  - {name: catalog, type: web, environment: production, ports: [18000], health_path: /healthz}
  - {name: payments, type: pserv, environment: production, ports: [18080], lab: {bind: ipv4}}
  - {name: web, type: web, environment: staging, ports: [13000]}
  - {name: api-staging, type: pserv, environment: staging, ports: [18000], lab: {bind: ipv6}}
"""


def inside(
    lab: LabThread, service: str, *cmd: str, index: int = 0
) -> subprocess.CompletedProcess[str]:
    name = lab.lab.netns_of(service, index)
    return subprocess.run(
        ["ip", "netns", "exec", name, *cmd], capture_output=True, text=True, timeout=20
    )


def curl(lab: LabThread, service: str, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return inside(lab, service, "curl", "-sS", "-g", "--max-time", "2", *extra, url)


@pytest.fixture(scope="module")
def acme() -> Iterator[LabThread]:
    with lab_thread(read(ACME), netns=True) as lab:
        yield lab


@pytest.fixture(scope="module")
def shop() -> Iterator[LabThread]:
    with lab_thread(reads(RAILWAY, "shop.yaml"), netns=True) as lab:
        yield lab


# ---- the network ----------------------------------------------------------------------------


def test_names_resolve_through_the_instances_system_resolver(acme: LabThread) -> None:
    assert acme.nameserver_for("oregon") == ("198.18.1.254", 53)
    assert acme.addresses("api") == ["198.18.1.1", "198.18.1.2"]
    dig = inside(acme, "web", "dig", "+short", "+time=2", "+tries=1", "api-x7f2")
    assert sorted(dig.stdout.split()) == sorted(acme.addresses("api"))
    hosts = inside(acme, "web", "getent", "hosts", "api-x7f2-discovery")
    assert hosts.returncode == 0, hosts.stderr
    assert {line.split()[0] for line in hosts.stdout.splitlines()} == set(acme.addresses("api"))
    nx = inside(acme, "web", "dig", "+time=2", "+tries=1", "nothing-here")
    assert "status: NXDOMAIN" in nx.stdout
    reply = curl(acme, "web", "http://api-x7f2:8080/")
    assert reply.returncode == 0, reply.stderr
    assert '"service": "api"' in reply.stdout


def test_ip_netns_exec_prints_no_bind_error(acme: LabThread) -> None:
    done = inside(acme, "api", "true")
    assert done.returncode == 0 and done.stderr == ""


def test_another_region_is_neither_named_nor_routed(acme: LabThread) -> None:
    unknown = curl(acme, "api", "http://billing-m3n4:8000/")
    assert unknown.returncode == 6
    (billing,) = acme.addresses("billing")
    unrouted = curl(acme, "api", f"http://{billing}:8000/")
    assert unrouted.returncode == 7
    same_region = curl(acme, "eu-db", f"http://{billing}:8000/healthz")
    assert same_region.returncode == 0, same_region.stderr


def test_an_instance_has_loopback_its_network_and_nothing_else(acme: LabThread) -> None:
    routes = inside(acme, "api", "ip", "-4", "route").stdout.split("\n")
    assert [r.split()[0] for r in routes if r] == ["198.18.1.0/24"]
    lo = inside(acme, "api", "ip", "-o", "link", "show", "lo").stdout
    assert "LOOPBACK,UP" in lo
    assert "127.0.0.1/8" in inside(acme, "api", "ip", "-4", "-o", "addr", "show", "lo").stdout


def test_loopback_bind_inside_its_own_instance(acme: LabThread) -> None:
    assert curl(acme, "api", "http://reports-d3f4:9000/").returncode == 7
    assert curl(acme, "reports", "http://127.0.0.1:9000/").returncode == 0


def test_down_and_blackhole(acme: LabThread) -> None:
    assert curl(acme, "api", "http://queue-r4t5:7000/").returncode == 7
    hole = curl(acme, "api", "http://ledger-w2e3:6000/", "--connect-timeout", "0.5")
    assert hole.returncode == 28


def test_probes_run_inside_an_instance(acme: LabThread) -> None:
    (pricing,) = acme.addresses("pricing")
    name = acme.lab.netns_of("api")
    ok = netns.in_netns(name, lambda: asyncio.run(connect(pricing, 8000, timeout=1)))
    assert ok.outcome is Outcome.OK
    (billing,) = acme.addresses("billing")
    far = netns.in_netns(name, lambda: asyncio.run(connect(billing, 8000, timeout=1)))
    assert far.outcome is not Outcome.OK


def test_an_ipv6_only_network_has_no_ipv4_at_all(shop: LabThread) -> None:
    assert shop.addresses("catalog") == ["fd70:6e65:7400:1::2"]
    assert shop.nameserver_for("production") == ("fd70:6e65:7400:1::fe", 53)
    assert inside(shop, "api", "ip", "-4", "route").stdout.strip() == ""
    every = inside(shop, "api", "ip", "-4", "route", "show", "table", "all").stdout
    assert all(" dev lo " in route for route in every.splitlines())
    v4 = inside(shop, "api", "ip", "-4", "-o", "addr").stdout.split("\n")
    assert [line.split()[1] for line in v4 if line] == ["lo"]
    a = inside(shop, "api", "dig", "+time=2", "+tries=1", "catalog.railway.internal", "A")
    assert "status: NOERROR" in a.stdout and "ANSWER: 0" in a.stdout
    aaaa = inside(
        shop, "api", "dig", "+short", "+time=2", "+tries=1", "catalog.railway.internal", "AAAA"
    )
    assert aaaa.stdout.split() == ["fd70:6e65:7400:1::2"]
    ok = curl(shop, "api", "http://catalog.railway.internal:18000/healthz")
    assert ok.returncode == 0, ok.stderr
    assert curl(shop, "api", "http://payments.railway.internal:18080/").returncode == 7
    assert curl(shop, "api", "http://web.railway.internal:13000/").returncode == 6


def test_ipv6_only_bind_on_a_dual_stack_network(shop: LabThread) -> None:
    url = "http://api-staging.railway.internal:18000/"
    assert curl(shop, "web", url, "-4").returncode == 7
    six = curl(shop, "web", url, "-6")
    assert six.returncode == 0, six.stderr


# ---- the platform's environment ------------------------------------------------------------


def test_each_instance_gets_its_platforms_environment(acme: LabThread, shop: LabThread) -> None:
    env = read_file(acme.lab.env_file("api", 1))
    assert env["RENDER"] == "true" and env["IS_PULL_REQUEST"] == "false"
    assert env["RENDER_SERVICE_NAME"] == "api-x7f2"
    assert env["RENDER_SERVICE_TYPE"] == "web"
    assert env["RENDER_DISCOVERY_SERVICE"] == "api-x7f2-discovery"
    assert env["RENDER_EXTERNAL_URL"] == "https://api-x7f2.onrender.com"
    assert env["RENDER_EXTERNAL_HOSTNAME"] == "api-x7f2.onrender.com"
    assert env["RENDER_SERVICE_ID"].startswith("srv-") and len(env["RENDER_SERVICE_ID"]) == 24
    assert env["RENDER_INSTANCE_ID"].startswith(env["RENDER_SERVICE_ID"] + "-")
    assert env["RENDER_INSTANCE_ID"] != read_file(acme.lab.env_file("api"))["RENDER_INSTANCE_ID"]
    assert env["PORT"] == "8080"
    assert env["DATABASE_URL"].startswith("postgresql://acme:")
    worker = read_file(acme.lab.env_file("reports"))
    assert "RENDER_DISCOVERY_SERVICE" in worker and worker["RENDER_EXTERNAL_URL"] == ""
    assert os.stat(acme.lab.env_file("api")).st_mode & 0o077 == 0
    railway = read_file(shop.lab.env_file("catalog"))
    assert railway["RAILWAY_SERVICE_NAME"] == "catalog"
    assert railway["RAILWAY_PRIVATE_DOMAIN"] == "catalog.railway.internal"
    assert railway["RAILWAY_ENVIRONMENT_NAME"] == "production"
    assert railway["RAILWAY_PROJECT_NAME"] == "shop"
    assert railway["PORT"] == "18000"
    for key in ("RAILWAY_SERVICE_ID", "RAILWAY_REPLICA_ID", "RAILWAY_DEPLOYMENT_ID"):
        assert len(railway[key]) == 36


def test_the_environment_is_etc_environment_inside_when_there_is_one(acme: LabThread) -> None:
    if not Path("/etc/environment").is_file():
        pytest.skip("this machine has no /etc/environment for the lab to cover")
    seen = inside(acme, "api", "cat", "/etc/environment").stdout
    assert "RENDER_SERVICE_NAME=api-x7f2\n" in seen


def test_pnet_lab_exec_runs_in_the_instance_with_its_environment() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pnet.lab", "--netns", ACME],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        first = netns_sandbox._first_line(proc)
        assert first == "nameserver 198.18.1.254:53"
        script = (
            'echo "$RENDER_SERVICE_NAME $PORT $RENDER_INSTANCE_ID"; '
            "getent hosts auth-77aq; dig +short +time=2 +tries=1 api-x7f2-discovery; "
            'echo "home=${HOME:+yes} secret=${PNET_TEST_SECRET:-none}"'
        )
        env = {**os.environ, "PNET_TEST_SECRET": "leak"}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pnet.lab",
                "exec",
                "api",
                "--instance",
                "2",
                "--",
                "sh",
                "-c",
                script,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        name, port, instance = lines[0].split()
        assert (name, port) == ("api-x7f2", "8080") and instance.startswith("srv-")
        fx = read(ACME)
        auth = plan(fx.workspace, fx.lab, netns=True).instances_of("auth")[0].ipv4
        assert lines[1].split() == [auth, "auth-77aq"]
        assert sorted(lines[2:4]) == ["198.18.1.1", "198.18.1.2"]
        assert lines[4] == "home=yes secret=none"
        status = subprocess.run(
            [sys.executable, "-m", "pnet.lab", "exec", "api", "--", "sh", "-c", "exit 3"],
            capture_output=True,
            timeout=30,
            cwd=ROOT,
        )
        assert status.returncode == 3
        path = subprocess.run(
            [sys.executable, "-m", "pnet.lab", "exec", "web", "--env-file"],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
        assert read_file(Path(path.stdout.strip()))["RENDER_SERVICE_NAME"] == "web-b8c9"
        unknown = subprocess.run(
            [sys.executable, "-m", "pnet.lab", "exec", "nope", "--", "true"],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )
        assert unknown.returncode == 2
        assert unknown.stderr.startswith("pnet: error: no instance of 'nope'")
        assert "\n" not in unknown.stderr.strip()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


# ---- nothing left behind ---------------------------------------------------------------------


def _same(before: dict[str, Any], after: dict[str, Any]) -> None:
    for key in before:
        assert before[key] == after[key], key


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Any]:
    def run(scenario: str, fixture: str = ACME) -> dict[str, Any]:
        return netns_sandbox.run(scenario, fixture, tmp_path / "etc")

    yield run


def test_build_and_stop_leave_nothing_and_the_caller_is_unchanged(sandbox: Any) -> None:
    r = sandbox("stop")
    assert r["first"] == "nameserver 198.18.1.254:53"
    assert r["code"] == 0 and "Traceback" not in r["stderr"]
    assert r["during"]["caller"] == r["before"]["caller"]
    assert len(r["during"]["netns"]) == 23
    assert [p.split()[1] for p in r["inside"]] == ["dnsmasq", "dnsmasq"]
    _same(r["before"], r["after"])
    assert r["left"] == []


def test_an_ipv6_only_lab_leaves_the_caller_unchanged(sandbox: Any, tmp_path: Path) -> None:
    fixture = tmp_path / "shop.yaml"
    fixture.write_text(RAILWAY)
    r = sandbox("stop", str(fixture))
    assert r["first"] == "nameserver [fd70:6e65:7400:1::fe]:53"
    assert r["during"]["caller"] == r["before"]["caller"]
    _same(r["before"], r["after"])
    assert r["left"] == []


def test_ctrl_c_twice_ends_cleanly(sandbox: Any) -> None:
    r = sandbox("sigint-twice")
    assert r["code"] == 0 and "Traceback" not in r["stderr"]
    _same(r["before"], r["after"])
    assert r["left"] == []


def test_ctrl_c_twice_while_building_ends_cleanly(sandbox: Any) -> None:
    r = sandbox("interrupt-build")
    assert r["seen"]
    assert r["code"] == 0 and "Traceback" not in r["stderr"]
    _same(r["before"], r["after"])
    assert r["left"] == []


def test_a_build_that_fails_halfway_leaves_nothing_and_says_why(sandbox: Any) -> None:
    r = sandbox("fail")
    assert r["code"] == 2
    assert r["stderr"].strip() == (
        "pnet: error: dnsmasq for oregon ended: dnsmasq: failed to create listening socket"
    )
    _same(r["before"], r["after"])


@pytest.mark.parametrize("moment", ["record", "namespaces", "served"])
def test_a_lab_killed_at_any_moment_is_swept_by_the_next(sandbox: Any, moment: str) -> None:
    r = sandbox(f"kill-{moment}")
    assert r["killed"] != r["before"]
    if moment == "served":
        assert [p.split()[1] for p in r["orphans"]] == ["dnsmasq", "dnsmasq"]
    assert r["swept"] == []
    assert r["first"] == "nameserver 198.18.1.254:53"
    assert r["code"] == 0
    _same(r["before"], r["after"])
    assert r["left"] == []


def test_the_owner_record_is_written_before_anything_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(netns, "STATE", tmp_path / "state")
    monkeypatch.setattr(netns, "NETNS_RUN", tmp_path / "run-netns")
    monkeypatch.setattr(netns, "NETNS_ETC", tmp_path / "etc-netns")
    seen: list[tuple[tuple[str, ...], bool]] = []

    def ip(*args: str, batch: Any = None, check: bool = True) -> str:
        records = list((tmp_path / "state").glob("*.json"))
        seen.append((args + tuple(batch or ()), bool(records)))
        if batch is not None:
            raise LabError("refused")
        return ""

    monkeypatch.setattr(netns, "_ip", ip)
    fx = reads(RAILWAY, "shop.yaml")
    fabric = netns.Fabric(plan(fx.workspace, fx.lab, netns=True), {})
    with pytest.raises(LabError):
        fabric.build()
    made = [recorded for args, recorded in seen if any("netns add" in a for a in args)]
    assert made == [True]
    assert len(fabric.namespaces) == 6
    assert not list((tmp_path / "state").glob("*"))
