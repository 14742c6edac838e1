"""Session fixtures that start real servers on loopback, for any test that needs one.

Each skips (with the reason) when its binary is missing, and is stopped at the end of the
session. See tests/servers.py for what each serves.

- `redis_server`: redis-server without auth (tests.servers.Redis)
- `redis_auth_server`: redis-server with requirepass `redis-secret` and an ACL user
  `alice` / `alice-secret`
- `redis_tls_server`: redis-server speaking only TLS (the `tls_cert` certificate), no auth
- `tls_cert`: a self-signed certificate for localhost, api.test, 127.0.0.1 (tests.servers.TlsCert)
- `postgres_server`: PostgreSQL, ssl=off; `postgres_tls_server`: the same cluster with
  ssl=on (tests.servers.Postgres: users trusted / scram / md5user / clear, PG_PASSWORDS)
- `dnsmasq`: a dnsmasq resolver with the records of tests.servers.DNSMASQ_RECORDS
  (tests.servers.Dnsmasq; `.nameserver` is the (host, port) for the DNS probes)
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers

# the API fakes' fixtures: api_ca, render_acme, railway_shop, proxied (tests/apifake/fixtures.py)
pytest_plugins = ["tests.apifake.fixtures"]

REDIS_PASSWORD = "redis-secret"
REDIS_USERS = {"alice": "alice-secret"}


def _skip_missing(what: str, exc: BaseException) -> None:
    pytest.skip(f"{what} unavailable: {exc}")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.Redis]:
    try:
        server = servers.start_redis()
    except (FileNotFoundError, servers.ServerError) as exc:
        _skip_missing("redis-server", exc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_auth_server() -> Iterator[servers.Redis]:
    try:
        server = servers.start_redis(password=REDIS_PASSWORD, users=REDIS_USERS)
    except (FileNotFoundError, servers.ServerError) as exc:
        _skip_missing("redis-server", exc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_tls_server(tls_cert: servers.TlsCert) -> Iterator[servers.Redis]:
    try:
        server = servers.start_redis(tls=tls_cert)
    except (FileNotFoundError, servers.ServerError) as exc:
        _skip_missing("redis-server with TLS", exc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> servers.TlsCert:
    try:
        return servers.make_cert(tmp_path_factory.mktemp("tls"))
    except (FileNotFoundError, subprocess.CalledProcessError) as exc:
        _skip_missing("openssl", exc)
        raise


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[Path]:
    try:
        template = servers.init_postgres_template()
    except (FileNotFoundError, servers.ServerError, subprocess.CalledProcessError) as exc:
        _skip_missing("PostgreSQL (initdb)", exc)
    yield template
    subprocess.run(["rm", "-rf", str(template)], check=False)


@pytest.fixture(scope="session")
def postgres_server(_postgres_template: Path) -> Iterator[servers.Postgres]:
    try:
        server = servers.start_postgres(_postgres_template)
    except (FileNotFoundError, servers.ServerError) as exc:
        _skip_missing("PostgreSQL", exc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_tls_server(
    _postgres_template: Path, tls_cert: servers.TlsCert
) -> Iterator[servers.Postgres]:
    try:
        server = servers.start_postgres(_postgres_template, tls=tls_cert)
    except (FileNotFoundError, servers.ServerError) as exc:
        _skip_missing("PostgreSQL", exc)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dnsmasq() -> Iterator[servers.Dnsmasq]:
    try:
        server = servers.start_dnsmasq()
    except (FileNotFoundError, servers.ServerError) as exc:
        _skip_missing("dnsmasq", exc)
    yield server
    server.stop()
