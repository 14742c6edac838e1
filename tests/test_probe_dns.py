"""The DNS and discovery probes against a real dnsmasq and misbehaving UDP nameservers."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import dns.nameserver
import dns.resolver
import pytest

from pnet.probes import Outcome, discover, dnswire, resolve
from tests import servers

LOOPBACK = servers.LOOPBACK


async def test_ok_with_ttl(dnsmasq: servers.Dnsmasq) -> None:
    r = await resolve("api-x7f2", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.OK
    assert r.kind == "dns" and r.target == "api-x7f2" and r.key == "dns:api-x7f2"
    assert r.evidence["a"] == ["127.0.0.5"]
    assert r.evidence["ttl"] == servers.DNSMASQ_TTL
    assert r.evidence["nameserver"] == f"{LOOPBACK}:{dnsmasq.port}"
    assert "127.0.0.5" in r.detail
    json.dumps(r.to_json())


async def test_dual_stack_and_ipv6_only(dnsmasq: servers.Dnsmasq) -> None:
    dual = await resolve("dual.test", nameserver=dnsmasq.nameserver)
    assert dual.outcome is Outcome.OK
    assert (dual.evidence["a"], dual.evidence["aaaa"]) == (["127.0.0.5"], ["::1"])
    v6 = await resolve("v6only.test", nameserver=dnsmasq.nameserver)
    assert v6.outcome is Outcome.OK
    assert v6.evidence["a"] == [] and v6.evidence["aaaa"] == ["::1"]
    assert v6.evidence["families"] == {"a": "no-answer"}


async def test_only_the_families_asked(dnsmasq: servers.Dnsmasq) -> None:
    r = await resolve("dual.test", nameserver=dnsmasq.nameserver, families=("A",))
    assert r.evidence["a"] == ["127.0.0.5"] and r.evidence["aaaa"] == []
    assert "families" not in r.evidence


async def test_cname_is_followed(dnsmasq: servers.Dnsmasq) -> None:
    r = await resolve("alias.test", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.OK
    assert r.evidence["a"] == ["127.0.0.5"]
    assert r.evidence["canonical"] == "api.test"


async def test_wildcard_address(dnsmasq: servers.Dnsmasq) -> None:
    r = await resolve("anything.svc.test", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.OK and r.evidence["a"] == ["127.0.0.9"]


async def test_nxdomain(dnsmasq: servers.Dnsmasq) -> None:
    r = await resolve("nope.test", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.NXDOMAIN
    assert r.evidence["a"] == [] and r.evidence["ttl"] is None
    assert "does not exist" in r.detail


async def test_no_answer_for_a_name_with_only_txt(dnsmasq: servers.Dnsmasq) -> None:
    r = await resolve("txtonly.test", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.NO_ANSWER
    assert "no A/AAAA" in r.detail


async def test_refused_by_a_server_without_upstream_is_servfail(
    dnsmasq: servers.Dnsmasq,
) -> None:
    r = await resolve("x.invalid", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.SERVFAIL
    assert "REFUSED" in r.detail


@pytest.mark.parametrize("behaviour, rcode", [("servfail", "SERVFAIL"), ("refused", "REFUSED")])
async def test_servfail_rcodes(behaviour: str, rcode: str) -> None:
    async with servers.dns_server(behaviour) as port:
        r = await resolve("api.test", nameserver=(LOOPBACK, port), timeout=1.0)
    assert r.outcome is Outcome.SERVFAIL
    assert rcode in r.detail and f"{LOOPBACK}:{port}" in r.detail


async def test_timeout_when_the_server_never_answers() -> None:
    async with servers.dns_server("silent") as port:
        r = await resolve("api.test", nameserver=(LOOPBACK, port), timeout=0.3)
    assert r.outcome is Outcome.TIMEOUT
    assert r.evidence["families"] == {"a": "timeout", "aaaa": "timeout"}


@pytest.mark.parametrize(
    "behaviour, words",
    [
        ("garbage", "malformed"),
        ("wrong-id", "does not answer the query"),
        ("truncated", "retry over TCP failed"),
    ],
)
async def test_protocol_error_for_replies_that_are_not_an_answer(
    behaviour: str, words: str
) -> None:
    async with servers.dns_server(behaviour) as port:
        r = await resolve("api.test", nameserver=(LOOPBACK, port), timeout=1.0)
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert words in r.detail


async def test_no_nameserver_when_resolv_conf_is_empty(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# nothing here\nsearch example\n")
    r = await resolve("api-x7f2", resolv_conf=str(conf))
    assert r.outcome is Outcome.NO_NAMESERVER
    assert r.evidence["nameserver"] is None


async def test_no_nameserver_when_resolv_conf_is_missing(tmp_path: Path) -> None:
    r = await resolve("api-x7f2", resolv_conf=str(tmp_path / "absent"))
    assert r.outcome is Outcome.NO_NAMESERVER


async def test_system_configuration_is_read(
    tmp_path: Path, dnsmasq: servers.Dnsmasq, monkeypatch: pytest.MonkeyPatch
) -> None:
    # resolv.conf cannot name a port: the file names dnsmasq's address and the resolver is
    # pointed at its port; the search list turns the single label "api" into api.test
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver {LOOPBACK}\nsearch test\noptions ndots:1\n")
    original = dns.resolver.BaseResolver.read_resolv_conf

    def read_with_port(self: dns.resolver.BaseResolver, f: Any) -> None:
        original(self, f)
        self.nameservers = [
            dns.nameserver.Do53Nameserver(str(getattr(ns, "address", ns)), dnsmasq.port)
            for ns in self.nameservers
        ]

    monkeypatch.setattr(dns.resolver.BaseResolver, "read_resolv_conf", read_with_port)
    r = await resolve("api", resolv_conf=str(conf))
    assert r.outcome is Outcome.OK
    assert r.evidence["a"] == ["127.0.0.5"]
    assert r.evidence["nameserver"] == f"{LOOPBACK}:{dnsmasq.port}"


async def test_an_ip_literal_needs_no_lookup() -> None:
    r = await resolve("::1", nameserver=(LOOPBACK, 9))
    assert r.outcome is Outcome.OK and r.evidence["aaaa"] == ["::1"]


async def test_an_invalid_name_is_an_error_not_an_exception(dnsmasq: servers.Dnsmasq) -> None:
    r = await resolve("a..b", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.ERROR
    r = await resolve("x" * 70 + ".test", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.ERROR


async def test_discovery_lists_every_instance(dnsmasq: servers.Dnsmasq) -> None:
    r = await discover("api-x7f2-discovery", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.OK
    assert r.kind == "discovery" and r.key == "discovery:api-x7f2-discovery"
    assert r.evidence["name"] == "api-x7f2-discovery"
    assert r.evidence["addresses"] == ["127.0.0.5", "127.0.0.6", "127.0.0.7"]
    assert r.evidence["count"] == 3
    assert "3 instances" in r.detail


async def test_discovery_includes_ipv6(dnsmasq: servers.Dnsmasq) -> None:
    r = await discover("dual.test", nameserver=dnsmasq.nameserver)
    assert r.evidence["addresses"] == ["127.0.0.5", "::1"]


async def test_discovery_of_an_unknown_name(dnsmasq: servers.Dnsmasq) -> None:
    r = await discover("nope-discovery.test", nameserver=dnsmasq.nameserver)
    assert r.outcome is Outcome.NXDOMAIN
    assert r.evidence["addresses"] == [] and r.evidence["count"] == 0


async def test_no_nameserver_when_nothing_listens_there() -> None:
    port = servers.free_port(udp_too=True)
    r = await resolve("api.test", nameserver=(LOOPBACK, port), timeout=1.0)
    assert r.outcome is Outcome.NO_NAMESERVER
    assert f"nothing listens at {LOOPBACK}:{port}" in r.detail


@pytest.mark.parametrize("nameserver", [("not-an-ip", 53), (LOOPBACK, 0), (LOOPBACK, 70000)])
async def test_a_nameserver_that_is_not_an_address(nameserver: tuple[str, int]) -> None:
    r = await resolve("api.test", nameserver=nameserver)
    assert r.outcome is Outcome.NO_NAMESERVER
    assert "IP address" in r.detail


# ---- a run's session: one socket per nameserver, replies read without dnspython -------------

NAMES = (
    "api-x7f2",
    "API-X7F2",
    "dual.test",
    "v6only.test",
    "alias.test",
    "anything.svc.test",
    "nope.test",
    "txtonly.test",
    "x.invalid",
    "a..b",
    "x" * 70 + ".test",
    "api-x7f2-discovery",
    "::1",
)


def _same(a: Any, b: Any) -> tuple[Any, ...]:
    return (a.outcome, a.detail, dict(a.evidence)), (b.outcome, b.detail, dict(b.evidence))


async def test_the_session_reads_what_dnspython_reads(dnsmasq: servers.Dnsmasq) -> None:
    session = dnswire.Session()
    try:
        for name in NAMES:
            fast = await dnswire.resolve(name, nameserver=dnsmasq.nameserver, session=session)
            slow = await resolve(name, nameserver=dnsmasq.nameserver)
            mine, theirs = _same(fast, slow)
            assert mine == theirs, name
        assert len(session._channels) == 1
    finally:
        await session.close()


@pytest.mark.parametrize("behaviour", ["garbage", "wrong-id", "silent", "servfail", "truncated"])
async def test_the_session_fails_as_dnspython_fails(behaviour: str) -> None:
    session = dnswire.Session()
    try:
        async with servers.dns_server(behaviour) as port:
            ns = (LOOPBACK, port)
            fast = await dnswire.resolve("api.test", nameserver=ns, session=session, timeout=0.4)
            slow = await resolve("api.test", nameserver=ns, timeout=0.4)
        assert (fast.outcome, fast.detail) == (slow.outcome, slow.detail)
    finally:
        await session.close()


async def test_many_names_share_one_socket(dnsmasq: servers.Dnsmasq) -> None:
    session = dnswire.Session()
    try:
        names = [f"n{i}.svc.test" for i in range(300)]
        results = await asyncio.gather(
            *(dnswire.resolve(n, nameserver=dnsmasq.nameserver, session=session) for n in names)
        )
        assert all(r.ok and r.evidence["a"] == ["127.0.0.9"] for r in results)
        assert len(session._channels) == 1
    finally:
        await session.close()


async def test_a_question_that_never_got_a_slot_is_overloaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dnswire.Channel, "IN_FLIGHT", 1)
    session = dnswire.Session()
    try:
        async with servers.dns_server("silent") as port:
            r = await dnswire.resolve(
                "api.test", nameserver=(LOOPBACK, port), session=session, timeout=0.3
            )
    finally:
        await session.close()
    assert r.outcome is Outcome.OVERLOADED
    assert r.evidence == {"skipped": True, "overloaded": True}
    assert "not asked" in r.detail
