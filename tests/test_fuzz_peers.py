"""A peer that writes too much cannot hold a probe or grow its result.

PostgreSQL error messages, Redis replies and HTTP headers of any size (and any bytes) are cut
to probes._net.PEER_TEXT before anything reads them; a SCRAM iteration count that would keep
the event loop in PBKDF2 is declined. The verdicts themselves are tested elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnet.probes import get, hello, ping
from pnet.probes._net import PEER_TEXT
from pnet.probes.postgres import MAX_SCRAM_ITERATIONS, _Scram
from tests import servers
from tests.fuzzing import fuzz

LOOPBACK = servers.LOOPBACK
SECRET = "peer-secret-Xk9pQ2"


def _pg_error(message: bytes) -> bytes:
    body = b"SFATAL\x00C28000\x00M" + message + b"\x00\x00"
    return b"E" + struct.pack("!i", len(body) + 4) + body


def _size(result: object) -> int:
    """Characters of a result as JSON (masks and escapes make it a few times the cut)."""
    return len(json.dumps(result, default=str, ensure_ascii=False))


@pytest.mark.parametrize("size", [40_000, 1_000_000 - 64])
async def test_a_huge_postgres_error_is_cut_before_it_is_read(size: int) -> None:
    message = (b"u:" + SECRET.encode() + b"@host ") * (size // 26)
    async with servers.banner_server(_pg_error(message[:size])) as port:
        started = time.perf_counter()
        r = await hello(LOOPBACK, port, tls="disable", password=SECRET, timeout=2)
    assert time.perf_counter() - started < 1.5
    assert len(r.detail) < 4 * PEER_TEXT
    assert _size(r.to_json()) < 12 * PEER_TEXT
    assert SECRET not in json.dumps(r.to_json())


async def test_a_huge_redis_reply_is_cut() -> None:
    reply = b"-ERR " + b"a:b@c " * 10_000 + b"\r\n"
    async with servers.banner_server(reply) as port:
        started = time.perf_counter()
        r = await ping(LOOPBACK, port, timeout=2)
    assert time.perf_counter() - started < 1.5
    assert len(r.detail) < 4 * PEER_TEXT and _size(r.to_json()) < 12 * PEER_TEXT


async def test_huge_http_headers_are_cut() -> None:
    head = (
        b"HTTP/1.1 302 Found\r\nServer: "
        + b"s" * 5_000
        + b"\r\nContent-Type: "
        + b"t" * 3_000
        + b"\r\nLocation: /"
        + b"x" * 6_000
        + b"\r\nContent-Length: 0\r\n\r\n"
    )
    async with servers.banner_server(head) as port:
        started = time.perf_counter()
        r = await get(f"http://{LOOPBACK}:{port}/", timeout=2, max_redirects=0)
    assert time.perf_counter() - started < 1.5
    assert r.evidence["status"] == 302, r.detail
    assert _size(r.to_json()) < 12 * PEER_TEXT, r.to_json()


def test_scram_iteration_counts_past_the_limit_are_declined() -> None:
    scram = _Scram("pw")
    for rounds in (MAX_SCRAM_ITERATIONS + 1, 10**9, 0, -5):
        first = f"r={scram.nonce}xyz,s=c2FsdA==,i={rounds}"
        started = time.perf_counter()
        with pytest.raises(ValueError, match="SCRAM"):
            scram.final(first)
        assert time.perf_counter() - started < 0.1
    with pytest.raises(ValueError, match="SCRAM"):
        scram.final(f"r={scram.nonce}xyz,s=c2FsdA==,i={'9' * 5000}")
    assert scram.final(f"r={scram.nonce}xyz,s=c2FsdA==,i=4096").startswith(b"c=biws,r=")


async def _against(banner: bytes) -> list[object]:
    async with servers.banner_server(banner) as port:
        return [
            (await ping(LOOPBACK, port, password=SECRET, timeout=0.5)).to_json(),
            (await hello(LOOPBACK, port, password=SECRET, tls="disable", timeout=0.5)).to_json(),
            (await get(f"http://{LOOPBACK}:{port}/", timeout=0.5)).to_json(),
        ]


@fuzz(25)
@given(
    head=st.sampled_from([b"-ERR ", b"+", b"$70000\r\n", b"E", b"HTTP/1.1 500 x\r\nServer: "]),
    body=st.binary(min_size=1, max_size=64),
    repeat=st.integers(100, 3000),
)
def test_long_peer_messages_stay_bounded(head: bytes, body: bytes, repeat: int) -> None:
    payload = head + body * repeat + b"\r\n\r\n"
    if head == b"E":
        payload = _pg_error(body.replace(b"\x00", b"") * repeat)
    started = time.perf_counter()
    results = asyncio.run(_against(payload))
    assert time.perf_counter() - started < 3.0
    for r in results:
        assert _size(r) < 16 * PEER_TEXT
        assert SECRET not in json.dumps(r)
