"""The TCP probe against real listeners: accepting, closed, full (SYNs dropped), unroutable."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from pnet.probes import Outcome, connect, get, hello, ping
from tests import servers

LOOPBACK = servers.LOOPBACK


def _listener(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen(8)
    return sock


async def test_ok_ipv4() -> None:
    with _listener(LOOPBACK) as sock:
        port = sock.getsockname()[1]
        r = await connect(LOOPBACK, port)
    assert r.outcome is Outcome.OK
    assert r.kind == "tcp" and r.target == f"{LOOPBACK}:{port}"
    assert r.evidence["address"] == LOOPBACK and r.evidence["port"] == port
    assert r.evidence["family"] == 4
    assert r.evidence["local"].startswith(LOOPBACK + ":")
    json.dumps(r.to_json())


async def test_ok_ipv6() -> None:
    with _listener("::1") as sock:
        port = sock.getsockname()[1]
        r = await connect("::1", port)
    assert r.outcome is Outcome.OK
    assert r.target == f"[::1]:{port}" and r.evidence["family"] == 6


async def test_a_name_is_resolved_by_the_system() -> None:
    with _listener(LOOPBACK) as sock:
        port = sock.getsockname()[1]
        r = await connect("localhost", port)
    assert r.outcome is Outcome.OK
    assert r.evidence["address"] == LOOPBACK


async def test_refused_on_a_closed_port() -> None:
    port = servers.free_port()
    r = await connect(LOOPBACK, port)
    assert r.outcome is Outcome.REFUSED
    assert "refused" in r.detail


async def test_refused_on_ipv6_when_only_ipv4_listens() -> None:
    with _listener(LOOPBACK) as sock:
        r = await connect("::1", sock.getsockname()[1])
    assert r.outcome is Outcome.REFUSED and r.evidence["family"] == 6


async def test_timeout_when_the_accept_queue_is_full() -> None:
    with servers.backlog_full() as port:
        r = await connect(LOOPBACK, port, timeout=0.3)
    assert r.outcome is Outcome.TIMEOUT


async def test_the_socket_is_closed_when_cancelled() -> None:
    with servers.backlog_full() as port:
        task = asyncio.create_task(connect(LOOPBACK, port, timeout=5))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_unreachable_in_a_namespace_without_a_network() -> None:
    code = (
        "import asyncio, json\n"
        "from pnet.probes import connect\n"
        "async def main():\n"
        "    for host in ('127.0.0.1', '::1'):\n"
        "        print(json.dumps((await connect(host, 80, timeout=1)).to_json()))\n"
        "asyncio.run(main())\n"
    )
    assert servers.outcomes_without_network(code) == ["unreachable", "unreachable"]


@pytest.mark.parametrize(
    "host, port",
    [
        ("127.0.0.1", 70000),
        ("127.0.0.1", -1),
        ("127.0.0.1", 0),
        ("", 80),
        ("a" * 300, 80),
        ("bad host", 80),
        ("-x", 80),
    ],
)
async def test_what_cannot_be_asked_is_an_error_result(host: str, port: int) -> None:
    # each returns before any lookup or packet
    for probe in (connect, ping, hello):
        r = await probe(host, port, timeout=0.5)
        assert r.outcome is Outcome.ERROR, (probe, r)


async def test_a_peer_that_resets_is_connected_but_not_speaking() -> None:
    async with servers.reset_server() as port:
        assert (await connect(LOOPBACK, port)).outcome is Outcome.OK
        for probe in (ping, hello):
            r = await probe(LOOPBACK, port, timeout=1.0)
            assert r.outcome is Outcome.PROTOCOL_ERROR, (probe, r)
        r = await get(f"http://{LOOPBACK}:{port}/", timeout=1.0)
        assert r.outcome is Outcome.PROTOCOL_ERROR, r
