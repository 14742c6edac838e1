"""The lab in network namespaces (root only): instances with their own stacks, networks unlinked."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pnet.lab import LabThread, netns
from pnet.probes.result import Outcome
from pnet.probes.tcp import connect
from pnet.sources.fixture import load, loads

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(netns.available() is not None, reason=str(netns.available())),
]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
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


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


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
    with LabThread(load(FIXTURES / "render-acme.yaml"), netns=True) as lab:
        yield lab


@pytest.fixture(scope="module")
def shop() -> Iterator[LabThread]:
    with LabThread(loads(RAILWAY, "shop.yaml"), netns=True) as lab:
        yield lab


def test_names_resolve_through_the_instances_own_resolver(acme: LabThread) -> None:
    assert acme.nameserver_for("oregon") == ("198.18.1.254", 53)
    dig = inside(acme, "web", "dig", "+short", "+time=2", "+tries=1", "api-x7f2")
    assert sorted(dig.stdout.split()) == sorted(acme.addresses("api"))
    assert acme.addresses("api") == ["198.18.1.1", "198.18.1.2"]
    reply = curl(acme, "web", "http://api-x7f2:8080/")
    assert reply.returncode == 0, reply.stderr
    assert '"service": "api"' in reply.stdout


def test_another_region_is_neither_named_nor_routed(acme: LabThread) -> None:
    unknown = curl(acme, "api", "http://billing-m3n4:8000/")
    assert unknown.returncode == 6
    (billing,) = acme.addresses("billing")
    unrouted = curl(acme, "api", f"http://{billing}:8000/")
    assert unrouted.returncode == 7
    same_region = curl(acme, "eu-db", f"http://{billing}:8000/healthz")
    assert same_region.returncode == 0, same_region.stderr


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


def test_railway_instances_have_their_own_ipv6_addresses(shop: LabThread) -> None:
    assert shop.addresses("catalog") == ["2001:2:0:1::2"]
    a = inside(shop, "api", "dig", "+short", "+time=2", "+tries=1", "catalog.railway.internal", "A")
    assert a.stdout.strip() == ""
    ok = curl(shop, "api", "http://catalog.railway.internal:18000/healthz")
    assert ok.returncode == 0, ok.stderr
    assert curl(shop, "api", "http://payments.railway.internal:18080/").returncode == 7
    assert curl(shop, "api", "http://web.railway.internal:13000/").returncode == 6


def test_ipv6_only_bind_on_a_dual_stack_network(shop: LabThread) -> None:
    url = "http://api-staging.railway.internal:18000/"
    assert curl(shop, "web", url, "-4").returncode == 7
    six = curl(shop, "web", url, "-6")
    assert six.returncode == 0, six.stderr


def test_stop_removes_every_namespace_and_file() -> None:
    before = namespaces()
    lab = LabThread(loads(RAILWAY, "shop.yaml"), netns=True)
    with lab:
        fabric = lab.lab.fabric
        assert fabric is not None
        made = set(fabric.network_ns.values()) | set(fabric.instance_ns.values())
        assert made <= namespaces()
        assert all(
            (netns.NETNS_ETC / name / "resolv.conf").exists()
            for name in fabric.instance_ns.values()
        )
    assert namespaces() == before
    assert not any((netns.NETNS_ETC / name).exists() for name in made)


def test_a_killed_labs_namespaces_are_swept_by_the_next() -> None:
    code = (
        "import os, signal\n"
        "from pnet.lab import LabThread\n"
        "from pnet.sources.fixture import loads\n"
        "import tests.test_lab_netns as t\n"
        "lab = LabThread(loads(t.RAILWAY, 'shop.yaml'), netns=True); lab.start()\n"
        "print(lab.lab.netns_of('api'), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    leftover = done.stdout.strip()
    assert leftover in namespaces(), done.stderr
    with LabThread(loads(RAILWAY, "shop.yaml"), netns=True):
        assert leftover not in namespaces()
    assert not (netns.NETNS_ETC / leftover).exists()
