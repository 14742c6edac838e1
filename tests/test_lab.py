"""The Lab and LabThread: the plan of addresses, life cycle, clean stop, and scale."""

from __future__ import annotations

import asyncio
import resource
import socket
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import psutil
import pytest

from pnet.lab import Lab, LabError, LabThread
from pnet.lab.network import plan
from pnet.probes.dns import resolve
from pnet.probes.result import Outcome
from pnet.probes.tcp import connect
from pnet.sources.fixture import Fixture, reads
from pnet.sources.fixture import read as read_fixture
from tests.labspaces import RAILWAY

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def inet_sockets() -> set[tuple[object, ...]]:
    return {
        (c.fd, c.family, c.type, c.laddr, c.raddr, c.status)
        for c in psutil.Process().net_connections(kind="inet")
    }


def acme() -> Fixture:
    return read_fixture(FIXTURES / "render-acme.yaml")


def lab_of(fx: Fixture, **options: Any) -> Lab:
    return Lab(fx.workspace, fx.lab, **options)


def thread_of(fx: Fixture, **options: Any) -> LabThread:
    return LabThread(fx.workspace, fx.lab, **options)


def big_fixture(count: int) -> str:
    lines = ["platform: render", "workspace: big", "services:"]
    for i in range(count):
        region = "oregon" if i % 2 else "frankfurt"
        if i % 10 == 0:
            lines.append(
                f"  - {{name: db{i}, type: postgres, region: {region}, host: dpg-{i:020d}-a}}"
            )
        elif i % 10 == 1:
            lines.append(
                f"  - {{name: kv{i}, type: keyvalue, region: {region}, host: red-{i:020d}}}"
            )
        else:
            lines.append(
                f"  - {{name: s{i}, type: pserv, region: {region}, host: s{i}-ab12, "
                f"ports: [8000], health_path: /healthz}}"
            )
    return "\n".join(lines) + "\n"


# ---- the plan -----------------------------------------------------------------------------


def test_addresses_are_deterministic_per_network() -> None:
    p = plan(acme().workspace, acme().lab)
    again = plan(acme().workspace, acme().lab)
    assert p.instances == again.instances
    addresses = [i.ipv4 for i in p.instances]
    assert len(addresses) == len(set(addresses))
    assert "127.0.0.1" not in addresses and "127.0.0.53" not in addresses
    oregon = [i.ipv4 for i in p.instances if i.network == "oregon"]
    frankfurt = [i.ipv4 for i in p.instances if i.network == "frankfurt"]
    assert all(a and a.startswith("127.1.") for a in oregon)
    assert all(a and a.startswith("127.2.") for a in frankfurt)
    api = [i for i in p.instances if i.service == "api"]
    assert [i.ipv4 for i in api] == ["127.1.1.1", "127.1.1.2"]
    assert [n.dns_address for n in p.networks] == ["127.1.0.53", "127.2.0.53"]


def test_services_without_a_private_address_are_not_served() -> None:
    p = plan(acme().workspace, acme().lab)
    served = {s.service for s in p.served}
    assert {"mailer", "nightly-export", "docs", "preview"}.isdisjoint(served)
    zone = p.network("oregon")
    assert zone is not None
    assert "preview-n5m6" not in zone.zone
    assert "dpg-d0a1b2c3d4e5f6g7h8i9-a" in zone.zone
    assert "dpg-d0a1b2c3d4e5f6g7h8i9-a-discovery" not in zone.zone


def test_unknown_hosts_listen_but_are_not_in_dns() -> None:
    ws = reads(
        "platform: render\nservices:\n  - {name: api, type: pserv, ports: [8000]}\n", "t.yaml"
    ).workspace
    p = plan(ws)
    assert ws.services[0].host_known is False
    assert p.networks[0].zone == {}
    assert [s.listening for s in p.served] == [True]


def test_railway_v6_conflicts_are_said_in_one_line_each() -> None:
    shop = reads(RAILWAY, "shop.yaml")
    p = plan(shop.workspace, shop.lab)
    assert len(p.notes) == 2
    assert all("\n" not in n for n in p.notes)
    assert any(n.startswith("web: [::1]:13000") and "api (production)" in n for n in p.notes)
    assert any(n.startswith("api-staging: [::1]:18000") for n in p.notes)
    staging = p.network("staging")
    assert staging is not None
    assert staging.zone["web.railway.internal"].aaaa == ()
    assert staging.zone["search.railway.internal"].aaaa == ("::1",)
    production = p.network("production")
    assert production is not None
    assert all(r.a == () and r.aaaa == ("::1",) for r in production.zone.values())


def test_replicas_share_the_v6_listener() -> None:
    ws = reads(
        "platform: railway\nproject: p\nenvironments: {production: {network: ipv6-only}}\n"
        "services:\n  - {name: api, type: pserv, ports: [3000], instances: 3}\n",
        "t.yaml",
    ).workspace
    p = plan(ws)
    assert p.notes == ()
    assert [s.address for s in p.listeners()] == ["::1"]
    assert [s.note for s in p.served][1:] == ["shares [::1]:3000 with api-1"] * 2


# ---- life cycle ---------------------------------------------------------------------------


async def test_async_lab_serves_and_stops_without_a_socket_left() -> None:
    before = inet_sockets()
    async with lab_of(acme()) as lab:
        assert len(inet_sockets()) > len(before) + 90
        found = await resolve("api-x7f2", nameserver=lab.nameserver_for("oregon"))
        assert found.outcome is Outcome.OK
        assert sorted(found.evidence["a"]) == sorted(lab.addresses("api"))
        far = await resolve("billing-m3n4", nameserver=lab.nameserver_for("oregon"))
        assert far.outcome is Outcome.NXDOMAIN
        assert (await connect(lab.addresses("auth")[0], 8000)).outcome is Outcome.OK
        assert (await connect(lab.addresses("queue")[0], 7000)).outcome is Outcome.REFUSED
        ledger = await connect(lab.addresses("ledger")[0], 6000, timeout=0.3)
        assert ledger.outcome is Outcome.TIMEOUT
        # a connection still open when the lab stops is closed by the lab
        reader, writer = await asyncio.open_connection(lab.addresses("metrics")[0], 18012)
        assert (await reader.readline()).startswith(b"pnet-lab metrics")
    assert await reader.read() == b""
    writer.close()
    await writer.wait_closed()
    assert inet_sockets() == before


def test_served_lists_down_instances_as_not_listening() -> None:
    with thread_of(acme()) as lab:
        inventory = lab.served("inventory")
        assert [s.listening for s in inventory] == [True, True, False]
        assert inventory[2].note == "down"
        assert len(lab.served("gateway")) == 76
        with pytest.raises(KeyError):
            lab.addresses("nope")


def test_a_taken_dns_port_is_one_clear_error_and_leaves_nothing_open() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        before = inet_sockets()
        lab = thread_of(acme(), dns_port=port)
        with pytest.raises(LabError, match=rf"cannot serve DNS on 127\.0\.0\.1:{port}"):
            lab.start()
        lab.stop()
        assert inet_sockets() == before


async def test_a_port_taken_by_another_process_is_a_note() -> None:
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        fx = reads(
            "platform: render\nservices:\n"
            f"  - {{name: a, type: pserv, host: a-0001, ports: [{port}],"
            " lab: {bind: loopback}}\n",
            "t.yaml",
        )
        async with lab_of(fx) as lab:
            (served,) = lab.served("a")
            assert not served.listening
            assert [n for n in lab.notes if n.startswith("a: ")] == [
                f"a: cannot listen on 127.0.0.1:{port}: the address is in use by another process"
            ]


async def test_stop_closes_connections_that_never_finished_a_tls_handshake() -> None:
    fx = reads(
        "platform: render\nservices:\n"
        "  - {name: s, type: pserv, host: s-0001, ports: [8443], lab: {tls: true}}\n",
        "t.yaml",
    )
    before = inet_sockets()
    async with lab_of(fx) as lab:
        reader, writer = await asyncio.open_connection(lab.addresses("s")[0], 8443)
        await asyncio.sleep(0.05)
    assert await reader.read() == b""
    writer.close()
    await writer.wait_closed()
    assert inet_sockets() == before


async def test_start_twice_is_an_error() -> None:
    lab = lab_of(reads("platform: render\nservices: []\n", "t.yaml"))
    async with lab:
        with pytest.raises(RuntimeError):
            await lab.start()


def test_lab_thread_in_blocking_code() -> None:
    before = inet_sockets()
    with thread_of(acme()) as lab:
        host, port = lab.nameserver
        reply = dns.query.tcp(dns.message.make_query("web-b8c9", "A"), host, port=port, timeout=2)
        assert reply.rcode() == dns.rcode.NOERROR
        assert [r.address for r in reply.answer[0]] == lab.addresses("web")
    lab.stop()
    assert inet_sockets() == before


# ---- scale ------------------------------------------------------------------------------


async def test_a_thousand_services_start_and_stop_with_no_socket_left() -> None:
    ws = reads(big_fixture(1000), "big.yaml").workspace
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(512, hard), hard))
    before = inet_sockets()
    try:
        async with Lab(ws) as lab:
            assert any("raised the open-file limit" in n for n in lab.notes)
            listening = [s for s in lab.served() if s.listening]
            assert len(listening) == 1000
            for name in ("s2", "db500", "kv991", "s999"):
                svc = ws.service(name)
                assert svc is not None and svc.location is not None
                found = await resolve(svc.host or "", nameserver=lab.nameserver_for(svc.location))
                assert found.outcome is Outcome.OK, found.detail
                probe = await connect(found.evidence["a"][0], svc.ports[0])
                assert probe.outcome is Outcome.OK, probe.detail
        assert inet_sockets() == before
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# ---- the bench ----------------------------------------------------------------------------


async def test_bench_times_every_kind_and_sweeps() -> None:
    from bench.probes import bench, demo_fixture

    fixture = demo_fixture()
    fx = read_fixture(fixture)
    text = await bench(fx.workspace, fx.lab, str(fixture), runs=2, in_process=True)
    lines = text.splitlines()
    for kind in ("dns", "discovery", "tcp", "http", "redis", "postgres"):
        row = next(line for line in lines if line.startswith(kind + " "))
        assert row.split()[3] == "0", row
    slowest = next(line for line in lines if "slowest single probe" in line)
    assert slowest.endswith(":6000)"), slowest


def test_listeners_inside_an_instance() -> None:
    lab = lab_of(acme())
    assert lab.listeners_inside("reports") == [("127.0.0.1", 9000)]
    assert lab.listeners_inside("api", 1) == [("0.0.0.0", 8080)]
    assert lab.listeners_inside("inventory", 2) == []
    assert lab.listeners_inside("mailer") == []
    shop = lab_of(reads(RAILWAY, "shop.yaml"))
    assert shop.listeners_inside("api-staging") == [("::", 18000)]
    assert shop.listeners_inside("payments") == [("0.0.0.0", 18080)]
    assert shop.listeners_inside("web") == [("::", 13000)]


def test_two_labs_of_one_fixture_coexist_in_separate_blocks() -> None:
    before = inet_sockets()
    with thread_of(acme()) as first, thread_of(acme()) as second:
        # other labs may already serve the first blocks on this machine
        block = int(first.addresses("api")[0].split(".")[1])
        assert first.addresses("api") == [f"127.{block}.1.1", f"127.{block}.1.2"]
        assert first.nameserver_for("frankfurt")[0] == f"127.{block + 1}.0.53"
        later = int(second.addresses("api")[0].split(".")[1])
        assert later >= block + 2
        assert second.addresses("api") == [f"127.{later}.1.1", f"127.{later}.1.2"]
        assert second.nameserver_for("frankfurt")[0] == f"127.{later + 1}.0.53"
        assert any(f"networks start at 127.{later}.0.0/16" in n for n in second.notes)
        for lab in (first, second):
            host, port = lab.nameserver_for("oregon")
            reply = dns.query.udp(
                dns.message.make_query("api-x7f2", "A"), host, port=port, timeout=2
            )
            assert sorted(r.address for r in reply.answer[0]) == lab.addresses("api")
        # the loopback-bound service can only be served by one of them
        (taken,) = second.served("reports")
        assert not taken.listening and "in use by another process" in taken.note
    assert inet_sockets() == before


def test_listening_sockets_name_tcp_so_that_asyncio_turns_nagle_off() -> None:
    # asyncio sets TCP_NODELAY on accepted connections only when the socket's proto is TCP;
    # without it, a reply written in two parts waits for the client's delayed ACK (~40 ms)
    from pnet.lab.sockets import listening_socket

    with listening_socket("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
