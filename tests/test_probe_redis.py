"""The Redis probe against real redis-server instances and peers that are not Redis."""

from __future__ import annotations

import json

import pytest

from pnet.probes import Outcome, ping
from pnet.secrets import MASK
from tests import servers
from tests.conftest import REDIS_PASSWORD, REDIS_USERS

LOOPBACK = servers.LOOPBACK


async def test_pong(redis_server: servers.Redis) -> None:
    r = await ping(redis_server.host, redis_server.port)
    assert r.outcome is Outcome.OK
    assert r.kind == "redis" and r.target == f"{LOOPBACK}:{redis_server.port}"
    assert r.evidence["reply"] == "PONG" and r.evidence["auth"] == "none"
    json.dumps(r.to_json())


async def test_a_password_the_server_does_not_need(redis_server: servers.Redis) -> None:
    r = await ping(redis_server.host, redis_server.port, password="spare-secret")
    assert r.outcome is Outcome.OK
    assert r.evidence["auth"] == "not-configured"


async def test_noauth_without_a_password(redis_auth_server: servers.Redis) -> None:
    r = await ping(redis_auth_server.host, redis_auth_server.port)
    assert r.outcome is Outcome.AUTH_REQUIRED
    assert r.evidence["error"].startswith("NOAUTH")
    assert "NOAUTH" in r.detail


async def test_wrongpass(redis_auth_server: servers.Redis) -> None:
    r = await ping(redis_auth_server.host, redis_auth_server.port, password="not-it-at-all")
    assert r.outcome is Outcome.AUTH_REQUIRED
    assert r.evidence["error"].startswith("WRONGPASS")
    assert r.evidence["auth"] == "refused"
    assert "not-it-at-all" not in json.dumps(r.to_json())


async def test_auth_ok(redis_auth_server: servers.Redis) -> None:
    r = await ping(redis_auth_server.host, redis_auth_server.port, password=REDIS_PASSWORD)
    assert r.outcome is Outcome.OK
    assert r.evidence["auth"] == "ok"
    assert REDIS_PASSWORD not in json.dumps(r.to_json())


async def test_acl_user(redis_auth_server: servers.Redis) -> None:
    user, password = next(iter(REDIS_USERS.items()))
    ok = await ping(
        redis_auth_server.host, redis_auth_server.port, username=user, password=password
    )
    assert ok.outcome is Outcome.OK and ok.evidence["username"] == user
    bad = await ping(redis_auth_server.host, redis_auth_server.port, username=user, password="x1")
    assert bad.outcome is Outcome.AUTH_REQUIRED


async def test_tls(redis_tls_server: servers.Redis) -> None:
    r = await ping(redis_tls_server.host, redis_tls_server.port, tls=True)
    assert r.outcome is Outcome.OK and r.evidence["tls"] is True


async def test_plain_text_to_a_tls_only_redis(redis_tls_server: servers.Redis) -> None:
    r = await ping(redis_tls_server.host, redis_tls_server.port, timeout=1.0)
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert "rediss://" in r.detail


async def test_tls_to_a_plain_redis(redis_server: servers.Redis) -> None:
    r = await ping(redis_server.host, redis_server.port, tls=True, timeout=0.5)
    assert r.outcome is Outcome.TLS_ERROR


async def test_an_http_server_is_a_protocol_error() -> None:
    async with servers.http_server() as port:
        r = await ping(LOOPBACK, port, password="hunter2-secret")
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert r.evidence["banner"].startswith("HTTP/1.1 400")
    assert "HTTP server" in r.detail


async def test_a_banner_that_echoes_the_password_is_masked() -> None:
    async with servers.banner_server(b"HTTP/1.0 400 you said AUTH hunter2-secret\r\n") as port:
        r = await ping(LOOPBACK, port, password="hunter2-secret")
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert "hunter2-secret" not in json.dumps(r.to_json())
    assert MASK in r.evidence["banner"]


async def test_a_peer_that_closes_at_once() -> None:
    async with servers.banner_server(b"") as port:
        r = await ping(LOOPBACK, port)
    assert r.outcome is Outcome.PROTOCOL_ERROR


async def test_silent_peer_times_out() -> None:
    async with servers.silent_server() as port:
        r = await ping(LOOPBACK, port, timeout=0.3)
    assert r.outcome is Outcome.TIMEOUT


async def test_refused() -> None:
    r = await ping(LOOPBACK, servers.free_port())
    assert r.outcome is Outcome.REFUSED


async def test_postgres_is_not_redis(postgres_server: servers.Postgres) -> None:
    r = await ping(postgres_server.host, postgres_server.port, timeout=1.0)
    assert r.outcome is Outcome.PROTOCOL_ERROR


@pytest.mark.parametrize("seconds", [0.0, 0.001])
async def test_a_tiny_timeout_is_an_outcome(redis_server: servers.Redis, seconds: float) -> None:
    r = await ping(redis_server.host, redis_server.port, timeout=seconds)
    assert r.outcome in (Outcome.OK, Outcome.TIMEOUT)


async def test_a_huge_bulk_reply_is_not_buffered() -> None:
    async with servers.banner_server(b"$999999999999\r\nPONG") as port:
        r = await ping(LOOPBACK, port, timeout=1.0)
    assert r.outcome is Outcome.PROTOCOL_ERROR


async def test_a_bulk_pong_is_fine() -> None:
    async with servers.banner_server(b"$4\r\nPONG\r\n") as port:
        r = await ping(LOOPBACK, port, timeout=1.0)
    assert r.outcome is Outcome.OK
