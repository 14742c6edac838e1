"""The lab's DNS servers, asked by `dig` and by dnspython, over UDP and TCP."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from pnet.lab import LabThread
from pnet.lab.dns import answer, respond
from pnet.lab.network import Records
from pnet.sources.fixture import read, reads
from tests.labspaces import RAILWAY, lab_thread

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DIG = shutil.which("dig")
needs_dig = pytest.mark.skipif(DIG is None, reason="dig is not installed")

MANY = """
platform: render
workspace: big
services:
  - name: fleet
    type: pserv
    region: oregon
    host: fleet-a1b2
    ports: [8000]
    instances: 60
    lab: {down: 60}
"""


@pytest.fixture(scope="module")
def acme() -> Iterator[LabThread]:
    with lab_thread(read(FIXTURES / "render-acme.yaml")) as lab:
        yield lab


@pytest.fixture(scope="module")
def shop() -> Iterator[LabThread]:
    with lab_thread(reads(RAILWAY, "shop.yaml")) as lab:
        yield lab


def dig(server: tuple[str, int], *args: str) -> str:
    assert DIG is not None
    cmd = [DIG, f"@{server[0]}", "-p", str(server[1]), "+time=2", "+tries=1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=True).stdout


def short(server: tuple[str, int], *args: str) -> list[str]:
    return sorted(dig(server, "+short", *args).split())


def ask(server: tuple[str, int], name: str, rdtype: str = "A") -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, server[0], port=server[1], timeout=2)


@needs_dig
def test_dig_agrees_with_the_lab_on_a_records(acme: LabThread) -> None:
    ns = acme.nameserver
    assert short(ns, "api-x7f2", "A") == sorted(acme.addresses("api"))
    assert len(acme.addresses("api")) == 2
    assert short(ns, "api-x7f2-discovery", "A") == sorted(acme.addresses("api"))
    assert short(ns, "api-x7f2", "AAAA") == []


@needs_dig
def test_dig_status_lines(acme: LabThread) -> None:
    ns = acme.nameserver
    assert "status: NXDOMAIN" in dig(ns, "nope-0000", "A")
    known_no_aaaa = dig(ns, "api-x7f2", "AAAA")
    assert "status: NOERROR" in known_no_aaaa
    assert "ANSWER: 0" in known_no_aaaa
    assert "flags: qr aa rd ra" in known_no_aaaa


@needs_dig
def test_names_are_case_insensitive_and_take_a_trailing_dot(acme: LabThread) -> None:
    ns = acme.nameserver
    assert short(ns, "API-X7F2.", "A") == sorted(acme.addresses("api"))


def test_down_instances_stay_in_discovery(acme: LabThread) -> None:
    reply = ask(acme.nameserver, "inventory-k4l5-discovery")
    assert len(reply.answer[0]) == 3
    assert sorted(r.address for r in reply.answer[0]) == sorted(acme.addresses("inventory"))
    assert reply.answer[0].ttl <= 30


def test_public_and_unknown_names_are_not_served(acme: LabThread) -> None:
    for name in ("api-x7f2.onrender.com", "docs-s2d3", "mailer", "preview-n5m6"):
        assert ask(acme.nameserver, name).rcode() == dns.rcode.NXDOMAIN, name


def test_each_region_resolves_only_its_own_names(acme: LabThread) -> None:
    oregon = acme.nameserver_for("oregon")
    frankfurt = acme.nameserver_for("frankfurt")
    assert oregon != frankfurt
    assert ask(oregon, "billing-m3n4").rcode() == dns.rcode.NXDOMAIN
    assert ask(frankfurt, "billing-m3n4").rcode() == dns.rcode.NOERROR
    assert ask(frankfurt, "api-x7f2").rcode() == dns.rcode.NXDOMAIN
    assert ask(acme.nameserver, "billing-m3n4").rcode() == dns.rcode.NOERROR
    assert acme.nameserver_for(None) == acme.nameserver
    with pytest.raises(KeyError):
        acme.nameserver_for("mars")


def test_railway_ipv6_only_names_have_no_a_record(shop: LabThread) -> None:
    prod = shop.nameserver_for("production")
    a = ask(prod, "redis.railway.internal", "A")
    assert a.rcode() == dns.rcode.NOERROR and not a.answer
    aaaa = ask(prod, "redis.railway.internal", "AAAA")
    assert [r.address for r in aaaa.answer[0]] == ["::1"]
    staging = shop.nameserver_for("staging")
    assert ask(staging, "search.railway.internal", "A").answer
    assert ask(staging, "search.railway.internal", "AAAA").answer
    assert ask(staging, "redis.railway.internal").rcode() == dns.rcode.NXDOMAIN


@needs_dig
def test_a_large_answer_is_truncated_over_udp_and_whole_over_tcp() -> None:
    with lab_thread(reads(MANY)) as lab:
        ns = lab.nameserver
        udp = dig(ns, "+noedns", "+ignore", "fleet-a1b2-discovery", "A")
        assert "flags: qr aa tc rd ra" in udp
        assert "ANSWER: 0" in udp
        tcp = short(ns, "+tcp", "fleet-a1b2-discovery", "A")
        assert len(tcp) == 60
        assert tcp == sorted(lab.addresses("fleet"))
        # dig without +ignore retries over TCP by itself
        assert len(short(ns, "+noedns", "fleet-a1b2-discovery", "A")) == 60


def test_edns_size_is_honoured() -> None:
    zone = {"many": Records(a=tuple(f"127.1.1.{i}" for i in range(1, 61)))}
    small = dns.message.make_query("many", "A")
    reply = dns.message.from_wire(respond(small.to_wire(), zone, 512) or b"")
    assert reply.flags & dns.flags.TC
    big = dns.message.make_query("many", "A", use_edns=0, payload=4096)
    reply = dns.message.from_wire(respond(big.to_wire(), zone, 512) or b"")
    assert not reply.flags & dns.flags.TC
    assert len(reply.answer[0]) == 60


def test_answer_rules() -> None:
    zone = {"a-1234": Records(a=("127.1.1.1",), aaaa=("::1",))}
    any_reply = answer(dns.message.make_query("A-1234", "ANY"), zone)
    assert {rrset.rdtype for rrset in any_reply.answer} == {
        dns.rdatatype.A,
        dns.rdatatype.AAAA,
    }
    assert any_reply.answer[0].name.to_text() == "A-1234."
    mx = answer(dns.message.make_query("a-1234", "MX"), zone)
    assert mx.rcode() == dns.rcode.NOERROR and not mx.answer
    notify = dns.message.make_query("a-1234", "A")
    notify.set_opcode(dns.opcode.NOTIFY)
    assert answer(notify, zone).rcode() == dns.rcode.NOTIMP


def test_garbage_gets_formerr_or_nothing() -> None:
    assert respond(b"\x01", {}, 512) is None
    header = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    reply = respond(header + b"\xff\xff", {}, 512)
    assert reply is not None
    msg_id, flags = struct.unpack("!HH", reply[:4])
    assert msg_id == 0x1234 and flags & 0xF == dns.rcode.FORMERR


def test_tcp_serves_several_queries_on_one_connection(acme: LabThread) -> None:
    host, port = acme.nameserver
    with socket.create_connection((host, port), timeout=2) as sock:
        for name in ("api-x7f2", "web-b8c9", "nope-0000"):
            wire = dns.message.make_query(name, "A").to_wire()
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            (length,) = struct.unpack("!H", _recv_exactly(sock, 2))
            reply = dns.message.from_wire(_recv_exactly(sock, length))
            expected = dns.rcode.NXDOMAIN if name == "nope-0000" else dns.rcode.NOERROR
            assert reply.rcode() == expected


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    for _ in range(100):
        if len(data) >= n:
            break
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    assert len(data) == n
    return data
