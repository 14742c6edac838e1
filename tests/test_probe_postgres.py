"""The PostgreSQL probe against real clusters (TLS off and on) and peers that are not PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pnet.probes import Outcome, ProbeResult
from pnet.probes import hello as probe_hello
from tests import servers

LOOPBACK = servers.LOOPBACK
PASSWORDS = servers.PG_PASSWORDS


async def hello(host: str, port: int, **options: Any) -> ProbeResult:
    """The probe with a generous timeout unless a test sets one: these tests are about
    answers, not speed, and share two cores with whatever else runs."""
    options.setdefault("timeout", 5.0)
    return await probe_hello(host, port, **options)


async def test_trust_user_is_in(postgres_server: servers.Postgres) -> None:
    r = await hello(postgres_server.host, postgres_server.port, user="trusted")
    assert r.outcome is Outcome.OK
    assert r.kind == "postgres" and r.target == f"{LOOPBACK}:{postgres_server.port}"
    ev = r.evidence
    assert ev["auth"] == "trust" and ev["tls_offered"] is False and ev["tls"] is False
    assert ev["database"] == "postgres" and ev["server_version"].startswith("1")
    assert ev["server_error"] is None
    json.dumps(r.to_json())


async def test_scram_user_without_a_password(postgres_server: servers.Postgres) -> None:
    r = await hello(postgres_server.host, postgres_server.port, user="scram")
    assert r.outcome is Outcome.AUTH_REQUIRED
    assert r.evidence["auth"] == "scram-sha-256"
    assert r.evidence["sasl_mechanisms"] == ["SCRAM-SHA-256"]
    assert "none given" in r.detail


async def test_scram_user_with_the_right_password(postgres_server: servers.Postgres) -> None:
    r = await hello(
        postgres_server.host, postgres_server.port, user="scram", password=PASSWORDS["scram"]
    )
    assert r.outcome is Outcome.OK
    assert r.evidence["auth"] == "scram-sha-256" and r.evidence["authenticated"] is True
    assert PASSWORDS["scram"] not in json.dumps(r.to_json())


async def test_scram_user_with_a_wrong_password(postgres_server: servers.Postgres) -> None:
    r = await hello(postgres_server.host, postgres_server.port, user="scram", password="wrong-1")
    assert r.outcome is Outcome.AUTH_REQUIRED
    assert r.evidence["sqlstate"] == "28P01"
    assert "password authentication failed" in r.evidence["server_error"]
    assert "wrong-1" not in json.dumps(r.to_json())


@pytest.mark.parametrize("user, method", [("md5user", "md5"), ("clear", "cleartext")])
async def test_md5_and_cleartext(postgres_server: servers.Postgres, user: str, method: str) -> None:
    asked = await hello(postgres_server.host, postgres_server.port, user=user)
    assert asked.outcome is Outcome.AUTH_REQUIRED and asked.evidence["auth"] == method
    ok = await hello(
        postgres_server.host, postgres_server.port, user=user, password=PASSWORDS[user]
    )
    assert ok.outcome is Outcome.OK and ok.evidence["auth"] == method
    bad = await hello(postgres_server.host, postgres_server.port, user=user, password="nope-2")
    assert bad.outcome is Outcome.AUTH_REQUIRED and bad.evidence["sqlstate"] == "28P01"


async def test_a_database_that_does_not_exist(postgres_server: servers.Postgres) -> None:
    r = await hello(postgres_server.host, postgres_server.port, user="trusted", database="nodb")
    assert r.outcome is Outcome.ERROR
    assert r.evidence["sqlstate"] == "3D000" and r.evidence["authenticated"] is True


async def test_tls_offered(postgres_tls_server: servers.Postgres) -> None:
    r = await hello(postgres_tls_server.host, postgres_tls_server.port, user="trusted")
    assert r.outcome is Outcome.OK
    assert r.evidence["tls_offered"] is True and r.evidence["tls"] is True
    assert r.evidence["tls_version"].startswith("TLS")
    assert "TLS" in r.detail


async def test_scram_over_tls(postgres_tls_server: servers.Postgres) -> None:
    r = await hello(
        postgres_tls_server.host,
        postgres_tls_server.port,
        user="scram",
        password=PASSWORDS["scram"],
        tls="require",
    )
    assert r.outcome is Outcome.OK and r.evidence["tls"] is True
    assert "SCRAM-SHA-256-PLUS" in r.evidence["sasl_mechanisms"]


async def test_tls_disabled_sends_no_sslrequest(postgres_tls_server: servers.Postgres) -> None:
    r = await hello(
        postgres_tls_server.host, postgres_tls_server.port, user="trusted", tls="disable"
    )
    assert r.outcome is Outcome.OK
    assert r.evidence["tls_offered"] is None and r.evidence["tls"] is False


async def test_tls_required_but_not_offered(postgres_server: servers.Postgres) -> None:
    r = await hello(postgres_server.host, postgres_server.port, user="trusted", tls="require")
    assert r.outcome is Outcome.TLS_ERROR
    assert r.evidence["tls_offered"] is False


async def test_an_unknown_sslmode_is_an_error_result() -> None:
    r = await hello(LOOPBACK, 5432, tls="sometimes")
    assert r.outcome is Outcome.ERROR and "sometimes" in r.detail


@pytest.mark.parametrize("mode", ["verify-full", True])
async def test_libpq_sslmodes_and_booleans(
    postgres_server: servers.Postgres, mode: str | bool
) -> None:
    r = await hello(postgres_server.host, postgres_server.port, user="trusted", tls=mode)
    assert r.outcome is Outcome.TLS_ERROR


async def test_redis_is_not_postgres(redis_server: servers.Redis) -> None:
    r = await hello(redis_server.host, redis_server.port, timeout=1.0)
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert "Redis" in r.detail and r.evidence["banner"].startswith("+PONG")


async def test_redis_without_sslrequest_is_not_postgres(redis_server: servers.Redis) -> None:
    r = await hello(redis_server.host, redis_server.port, tls="disable", timeout=1.0)
    assert r.outcome is Outcome.PROTOCOL_ERROR


async def test_http_is_not_postgres() -> None:
    async with servers.http_server() as port:
        r = await hello(LOOPBACK, port)
    assert r.outcome is Outcome.PROTOCOL_ERROR
    assert "HTTP server" in r.detail and r.evidence["banner"].startswith("HTTP/1.1 400")


async def test_a_peer_that_closes_at_once() -> None:
    async with servers.banner_server(b"") as port:
        r = await hello(LOOPBACK, port)
    assert r.outcome is Outcome.PROTOCOL_ERROR


async def test_silent_peer_times_out() -> None:
    async with servers.silent_server() as port:
        r = await hello(LOOPBACK, port, timeout=0.4)
    assert r.outcome is Outcome.TIMEOUT
    assert "connected" in r.detail


async def test_refused() -> None:
    r = await hello(LOOPBACK, servers.free_port())
    assert r.outcome is Outcome.REFUSED
