"""Every listener and fault the lab serves, seen for real: curl, redis-cli, psql, raw sockets."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pnet.lab import LabThread
from pnet.lab.peers import DRIP_RESPONSE, Peer, pg_md5, pg_query_result, serve_postgres
from pnet.probes.http import get
from pnet.probes.postgres import hello
from pnet.probes.redis import ping
from pnet.probes.result import Outcome
from pnet.sources.fixture import read, reads
from tests.labspaces import RAILWAY, lab_thread

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CURL = shutil.which("curl")
REDIS_CLI = shutil.which("redis-cli")
PSQL = shutil.which("psql")

HOSTILE = """
platform: render
workspace: hostile
services:
  - {name: drip, type: pserv, host: drip-0001, ports: [7001], lab: {protocol: drip}}
  - {name: endless, type: pserv, host: endless-0002, ports: [7002], lab: {protocol: endless-body}}
  - {name: loop, type: pserv, host: loop-0003, ports: [7003], lab: {protocol: redirect-loop}}
  - {name: cut, type: pserv, host: cut-0004, ports: [7004], lab: {protocol: close-mid-header}}
  - {name: old, type: pserv, host: old-0005, ports: [7005], lab: {protocol: http09}}
  - {name: stall, type: pserv, host: stall-0006, ports: [7006], lab: {protocol: tls-stall}}
  - {name: quiet, type: pserv, host: quiet-0007, ports: [7007], lab: {protocol: silent}}
  - {name: hole, type: pserv, host: hole-0008, ports: [7008], lab: {protocol: blackhole}}
  - {name: slow, type: pserv, host: slow-0009, ports: [7009], lab: {delay_ms: 1000}}
  - {name: moved, type: pserv, host: moved-0010, ports: [7010], lab: {listen: [7011]}}
  - name: secure
    type: pserv
    host: secure-0011
    ports: [7012]
    health_path: /healthz
    lab: {tls: true}
  - name: tlsdb
    type: postgres
    host: dpg-tls00000000000000000-a
    user: app
    password: s3cret
    database: app
    lab: {tls: true}
  - {name: fake-redis, type: keyvalue, host: red-http0000000000000000, lab: {protocol: http}}
  - {name: open-redis, type: keyvalue, host: red-open0000000000000000}
  - {name: trustdb, type: postgres, host: dpg-trust000000000000000-a}
  - {name: tls-redis, type: keyvalue, host: red-tls00000000000000000, lab: {tls: true, auth: pw}}
  - {name: local, type: pserv, host: local-0012, ports: [LOOPBACK_PORT], lab: {bind: loopback}}
"""


@pytest.fixture(scope="module")
def acme() -> Iterator[LabThread]:
    with lab_thread(read(FIXTURES / "render-acme.yaml")) as lab:
        yield lab


@pytest.fixture(scope="module")
def hostile() -> Iterator[LabThread]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with lab_thread(reads(HOSTILE.replace("LOOPBACK_PORT", str(port)))) as lab:
        yield lab


@pytest.fixture(scope="module")
def shop() -> Iterator[LabThread]:
    with lab_thread(reads(RAILWAY, "shop.yaml")) as lab:
        yield lab


def addr(lab: LabThread, service: str, index: int = 0) -> str:
    return lab.addresses(service)[index]


def endpoint(lab: LabThread, service: str) -> tuple[str, int]:
    (s,) = [s for s in lab.served(service) if s.listening][:1]
    return s.address, s.port


def connect(host: str, port: int, timeout: float = 2.0) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def refused(host: str, port: int) -> bool:
    try:
        connect(host, port, 2.0).close()
    except ConnectionRefusedError:
        return True
    return False


def read_all(sock: socket.socket, limit: int = 1 << 20) -> bytes:
    data = b""
    for _ in range(10_000):
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
        if len(data) >= limit:
            break
    return data


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    assert CURL is not None
    return subprocess.run(
        [CURL, "-sS", "--max-time", "5", *args],
        capture_output=True,
        text=True,
        timeout=15,
        check=False,
    )


# ---- HTTP -------------------------------------------------------------------------------


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_reaches_each_instance_by_its_internal_name(acme: LabThread) -> None:
    seen = set()
    for address in acme.addresses("api"):
        done = curl("--resolve", f"api-x7f2:8080:{address}", "http://api-x7f2:8080/")
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert doc["service"] == "api" and doc["region"] == "oregon" and doc["address"] == address
        seen.add(doc["instance"])
    assert seen == {"api-1", "api-2"}


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_health_path_unknown_path_and_status_fault(acme: LabThread) -> None:
    api = addr(acme, "api")
    ok = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://{api}:8080/healthz")
    assert ok.stdout == "200"
    missing = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://{api}:8080/nope")
    assert missing.stdout == "404"
    pricing = addr(acme, "pricing")
    bad = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://{pricing}:8000/healthz")
    assert bad.stdout == "503"


def test_keep_alive_serves_several_requests(acme: LabThread) -> None:
    with httpx.Client(timeout=2) as client:
        base = f"http://{addr(acme, 'web')}:3000"
        replies = [client.get(base + "/") for _ in range(3)]
        head = client.head(base + "/")
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert replies[0].headers["x-pnet-service"] == "web"
    assert head.status_code == 200 and head.content == b""


def test_a_request_that_is_not_http_gets_400(acme: LabThread) -> None:
    with connect(addr(acme, "api"), 8080) as sock:
        sock.sendall(b"HELLO\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 400 ")


async def test_a_tls_client_on_a_plain_http_port_is_told_at_once(acme: LabThread) -> None:
    result = await get(f"https://{addr(acme, 'graph')}:4000/", timeout=30.0)
    assert result.outcome is Outcome.TLS_ERROR
    assert "did not finish" not in result.detail


# ---- faults -------------------------------------------------------------------------------


def test_down_instances_refuse(acme: LabThread) -> None:
    queue = acme.addresses("queue")
    assert len(queue) == 2
    assert all(refused(a, 7000) for a in queue)
    inventory = acme.addresses("inventory")
    assert [refused(a, 8000) for a in inventory] == [False, False, True]


def test_loopback_bind_refuses_on_the_instance_address(hostile: LabThread) -> None:
    (served,) = hostile.served("local")
    assert served.bind == "127.0.0.1" and served.address == "127.0.0.1"
    assert served.listening, served.note
    (instance,) = hostile.addresses("local")
    assert refused(instance, served.port)
    with connect("127.0.0.1", served.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: local-0012\r\nConnection: close\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")


def test_the_demo_plants_a_loopback_bind(acme: LabThread) -> None:
    (served,) = acme.served("reports")
    assert served.bind == "127.0.0.1" and served.address == "127.0.0.1"
    (instance,) = acme.addresses("reports")
    assert refused(instance, 9000)


def test_wrong_port_listens_where_the_lab_says(hostile: LabThread) -> None:
    (moved,) = hostile.addresses("moved")
    assert refused(moved, 7010)
    with connect(moved, 7011):
        pass


def test_delay_holds_the_first_byte(hostile: LabThread) -> None:
    with connect(addr(hostile, "slow"), 7009, timeout=0.3) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\nConnection: close\r\n\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1)
        sock.settimeout(10)
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")


def test_tcp_banner(acme: LabThread) -> None:
    with connect(addr(acme, "metrics"), 18012) as sock:
        assert sock.recv(100).startswith(b"pnet-lab metrics metrics-1")


def test_a_keyvalue_port_that_speaks_http(hostile: LabThread) -> None:
    with connect(addr(hostile, "fake-redis"), 6379) as sock:
        sock.sendall(b"PING\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 400 ")


# ---- hostile peers -------------------------------------------------------------------------


def test_drip_sends_one_byte_at_a_time(hostile: LabThread) -> None:
    with connect(addr(hostile, "drip"), 7001, timeout=3) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: drip\r\n\r\n")
        first = sock.recv(100)
        assert DRIP_RESPONSE.startswith(first) and 1 <= len(first) <= 3
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(100)


def test_endless_body_never_ends(hostile: LabThread) -> None:
    with connect(addr(hostile, "endless"), 7002) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: endless\r\n\r\n")
        data = read_all(sock, limit=1 << 20)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Transfer-Encoding: chunked" in data
    assert len(data) >= 1 << 20
    assert not data.endswith(b"0\r\n\r\n")


def test_redirect_loop(hostile: LabThread) -> None:
    with httpx.Client(timeout=2, follow_redirects=True, max_redirects=5) as client:
        with pytest.raises(httpx.TooManyRedirects):
            client.get(f"http://{addr(hostile, 'loop')}:7003/start")
        first = client.get(f"http://{addr(hostile, 'loop')}:7003/start", follow_redirects=False)
    assert first.status_code == 302 and first.headers["location"] == "/start"


def test_close_mid_header(hostile: LabThread) -> None:
    with connect(addr(hostile, "cut"), 7004) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: cut\r\n\r\n")
        data = read_all(sock)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\n\r\n" not in data
    with httpx.Client(timeout=2) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get(f"http://{addr(hostile, 'cut')}:7004/")


def test_http09_noise_has_no_status_line(hostile: LabThread) -> None:
    with connect(addr(hostile, "old"), 7005) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: old\r\n\r\n")
        data = read_all(sock)
    assert data and not data.startswith(b"HTTP/")


def test_tls_stall_never_handshakes(hostile: LabThread) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with connect(addr(hostile, "stall"), 7006, timeout=0.5) as sock, pytest.raises(TimeoutError):
        context.wrap_socket(sock, server_hostname="stall-0006")


def test_silent_accepts_and_says_nothing(hostile: LabThread) -> None:
    with connect(addr(hostile, "quiet"), 7007, timeout=0.3) as sock:
        sock.sendall(b"hello?\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(1)


def test_blackhole_connects_time_out(hostile: LabThread) -> None:
    assert not [n for n in hostile.notes if "blackhole" in n]
    for _ in range(2):
        with pytest.raises(TimeoutError):
            connect(addr(hostile, "hole"), 7008, timeout=0.5)


# ---- TLS ------------------------------------------------------------------------------


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_tls_listener_has_a_self_signed_certificate(hostile: LabThread, tmp_path: Path) -> None:
    secure = addr(hostile, "secure")
    url = "https://secure-0011:7012/healthz"
    resolve = f"secure-0011:7012:{secure}"
    rejected = curl("--resolve", resolve, url)
    assert rejected.returncode == 60, rejected.stderr
    assert curl("-k", "--resolve", resolve, url).returncode == 0
    pem = hostile.lab.tls_cert_pem
    assert pem is not None
    ca = tmp_path / "lab.pem"
    ca.write_text(pem)
    trusted = curl("--cacert", str(ca), "--resolve", resolve, url)
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["status"] == "ok"
    plain = curl(f"http://{secure}:7012/healthz")
    assert plain.returncode != 0


# ---- Redis ---------------------------------------------------------------------------------


def redis_cli(*args: str) -> str:
    assert REDIS_CLI is not None
    done = subprocess.run(
        [REDIS_CLI, *args], capture_output=True, text=True, timeout=10, check=False
    )
    return (done.stdout + done.stderr).strip()


@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli is not installed")
def test_redis_cli_auth(acme: LabThread) -> None:
    cache = addr(acme, "cache")
    assert "NOAUTH" in redis_cli("-h", cache, "-p", "6379", "ping")
    auth = ("-h", cache, "-p", "6379", "--no-auth-warning", "-a")
    assert redis_cli(*auth, "Rq3mZ8tY1nB6", "ping") == "PONG"
    assert "WRONGPASS" in redis_cli(*auth, "nope", "ping")
    assert redis_cli(*auth, "Rq3mZ8tY1nB6", "set", "k", "v") == "OK"
    assert redis_cli(*auth, "Rq3mZ8tY1nB6", "get", "k") == "v"
    info = redis_cli(*auth, "Rq3mZ8tY1nB6", "info", "server")
    assert "redis_version:" in info


@pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli is not installed")
def test_redis_cli_without_auth(hostile: LabThread) -> None:
    server = ("-h", addr(hostile, "open-redis"), "-p", "6379")
    assert redis_cli(*server, "ping") == "PONG"
    assert redis_cli(*server, "echo", "hi there") == "hi there"
    assert "without any password configured" in redis_cli(*server, "auth", "x")
    assert "unknown command" in redis_cli(*server, "flushall")


async def test_redis_over_tls(hostile: LabThread) -> None:
    address = addr(hostile, "tls-redis")
    good = await ping(address, 6379, password="pw", tls=True)
    assert good.outcome is Outcome.OK, good.detail
    plain = await ping(address, 6379, password="pw", timeout=1.0)
    assert plain.outcome is not Outcome.OK


# ---- PostgreSQL -------------------------------------------------------------------------


def psql(host: str, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    assert PSQL is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "3"
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [PSQL, "-X", "-w", "-h", host, *args],
        capture_output=True,
        text=True,
        timeout=15,
        env=env,
        check=False,
    )


@pytest.mark.skipif(PSQL is None, reason="psql is not installed")
def test_psql_select_1_with_a_password(acme: LabThread) -> None:
    db = addr(acme, "acme-db")
    ok = psql(db, "-U", "acme", "-d", "acme", "-tAc", "select 1", password="Hx9sK2pQ7vW4")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "1"
    wrong = psql(db, "-U", "acme", "-d", "acme", "-c", "select 1", password="nope")
    assert wrong.returncode == 2
    assert 'password authentication failed for user "acme"' in wrong.stderr
    missing = psql(db, "-U", "acme", "-d", "acme", "-c", "select 1")
    assert missing.returncode == 2 and "password" in missing.stderr
    other_db = psql(db, "-U", "acme", "-d", "nope", "-c", "select 1", password="Hx9sK2pQ7vW4")
    assert 'database "nope" does not exist' in other_db.stderr


@pytest.mark.skipif(PSQL is None, reason="psql is not installed")
def test_psql_trust_and_tls(hostile: LabThread) -> None:
    trust = psql(addr(hostile, "trustdb"), "-U", "anyone", "-d", "x", "-tAc", "select version()")
    assert trust.returncode == 0, trust.stderr
    assert trust.stdout.startswith("PostgreSQL")
    tls = psql(
        addr(hostile, "tlsdb"),
        "-d",
        "sslmode=require dbname=app user=app",
        "-tAc",
        "select 1",
        password="s3cret",
    )
    assert tls.returncode == 0, tls.stderr
    plain = psql(addr(hostile, "trustdb"), "-d", "sslmode=require dbname=x user=x", "-c", "")
    assert plain.returncode == 2 and "SSL" in plain.stderr


def test_postgres_wire_helpers() -> None:
    assert pg_md5("pw", "u", b"salt").startswith("md5") and len(pg_md5("pw", "u", b"salt")) == 35
    assert pg_query_result("SELECT 1;").startswith(b"T")
    assert pg_query_result("").startswith(b"I")
    assert pg_query_result("drop table x").startswith(b"E")


# ---- Railway: IPv6 --------------------------------------------------------------------------


def test_railway_ipv6_only_service_answers_on_loopback_v6(shop: LabThread) -> None:
    assert shop.addresses("catalog") == ["::1"]
    with httpx.Client(timeout=2) as client:
        reply = client.get("http://[::1]:18000/healthz")
    assert reply.status_code == 200 and reply.json()["service"] == "catalog"


def test_railway_ipv4_bind_refuses_over_ipv6(shop: LabThread) -> None:
    assert shop.addresses("payments") == ["::1"]
    assert refused("::1", 18080)
    (served,) = shop.served("payments")
    assert served.bind == "0.0.0.0" and served.listening
    with connect(served.address, 18080):
        pass


def test_railway_ipv6_bind_refuses_over_ipv4(shop: LabThread) -> None:
    (v4,) = shop.addresses("search")[:1]
    with connect(v4, 17700):
        pass
    staging_v4 = [a for a in shop.addresses("api-staging") if ":" not in a]
    assert staging_v4 and refused(staging_v4[0], 18000)


async def _serve_one_peer(peer: Peer) -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve_postgres(peer, reader, writer)
        except Exception:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("method", ["scram-sha-256", "md5"])
async def test_postgres_password_methods_with_the_probe(method: str) -> None:
    peer = Peer(
        service="db",
        instance="db-1",
        host="dpg-x",
        address="127.0.0.1",
        port=0,
        protocol="postgres",
        password="pw",
        user="app",
        database="app",
        pg_auth=method,
    )
    server, port = await _serve_one_peer(peer)
    async with server:
        good = await hello("127.0.0.1", port, user="app", database="app", password="pw")
        bad = await hello("127.0.0.1", port, user="app", database="app", password="nope")
        none = await hello("127.0.0.1", port, user="app", database="app")
    assert good.outcome is Outcome.OK, good.detail
    assert good.evidence["auth"] == method
    assert bad.outcome is not Outcome.OK and "28P01" in json.dumps(bad.to_json())
    assert none.outcome is Outcome.AUTH_REQUIRED, none.detail
