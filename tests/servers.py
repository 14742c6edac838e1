"""Real servers for the tests: redis-server, PostgreSQL, dnsmasq, and small asyncio peers.

Everything binds to loopback only. The process helpers are synchronous (session fixtures in
conftest.py use them); the asyncio peers are async context managers that yield their port and
run in the test's own event loop:

    async with http_server() as port: ...          # a scripted HTTP/1.1 server (see ROUTES)
    async with http_server(tls=cert) as port: ...  # the same behind TLS
    async with silent_server() as port: ...        # accepts, reads, never writes (TLS stall)
    async with reset_server() as port: ...         # accepts, then resets the connection
    async with dns_server("garbage") as port: ...  # a UDP nameserver that misbehaves
    with backlog_full() as port: ...               # a listener whose accept queue is full
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    """A test server could not start."""


def free_port(host: str = LOOPBACK, *, udp_too: bool = False) -> int:
    """A port nothing listens on right now (TCP, and UDP too when asked)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
        if not udp_too:
            return port
        with socket.socket(family, socket.SOCK_DGRAM) as u:
            try:
                u.bind((host, port))
            except OSError:
                continue
        return port
    raise ServerError("no free port")


def wait_tcp(
    host: str, port: int, proc: subprocess.Popen[bytes] | None, timeout: float = 15.0
) -> None:
    """Wait until something accepts on host:port, or fail if proc dies first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"{proc.args!r} exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise ServerError(f"nothing listens on {host}:{port} after {timeout} s")


def which(binary: str, *extra_dirs: str) -> str | None:
    """The path of a binary on PATH or in one of extra_dirs."""
    found = shutil.which(binary)
    if found:
        return found
    for folder in extra_dirs:
        candidate = Path(folder) / binary
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


@dataclass
class Process:
    """A server process started for the tests; stop() terminates it and removes its folder."""

    proc: subprocess.Popen[bytes]
    folder: Path | None = None
    stop_signal: int = signal.SIGTERM

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


# --- redis-server ------------------------------------------------------------------------------


@dataclass
class Redis:
    """A running redis-server on 127.0.0.1:port.

    `password` is the default user's requirepass (None: no auth); `users` maps extra ACL users
    to their passwords.
    """

    host: str
    port: int
    password: str | None
    users: dict[str, str]
    process: Process

    def stop(self) -> None:
        self.process.stop()


def start_redis(
    password: str | None = None,
    users: dict[str, str] | None = None,
    tls: TlsCert | None = None,
) -> Redis:
    """Start redis-server on a free loopback port (TLS only, with the cert, when given one)."""
    binary = which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server")
    folder = Path(tempfile.mkdtemp(prefix="pnet-redis-"))
    port = free_port()
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        LOOPBACK,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        str(folder),
        "--logfile",
        str(folder / "redis.log"),
    ]
    if tls is not None:
        args[1:3] = ["--port", "0", "--tls-port", str(port)]
        args += ["--tls-cert-file", str(tls.cert), "--tls-key-file", str(tls.key)]
        args += ["--tls-ca-cert-file", str(tls.cert), "--tls-auth-clients", "no"]
    if password is not None:
        args += ["--requirepass", password]
    for user, pw in (users or {}).items():
        args += ["--user", user, "on", f">{pw}", "~*", "&*", "+@all"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process = Process(proc, folder)
    try:
        wait_tcp(LOOPBACK, port, proc)
    except BaseException:
        process.stop()
        raise
    return Redis(LOOPBACK, port, password, dict(users or {}), process)


# --- PostgreSQL --------------------------------------------------------------------------------

PG_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin")


@dataclass
class Postgres:
    """A running PostgreSQL cluster on 127.0.0.1:port.

    Users (pg_hba method): `trusted` (trust, no password), `scram` (scram-sha-256),
    `md5user` (md5, stored as md5), `clear` (password: cleartext). `passwords` maps the
    password users to their passwords. `ssl` says whether the server offers TLS.
    """

    host: str
    port: int
    ssl: bool
    passwords: dict[str, str]
    process: Process

    def stop(self) -> None:
        self.process.stop()


PG_PASSWORDS = {"scram": "scram-secret-1", "md5user": "md5-secret-2", "clear": "clear-secret-3"}

_PG_HBA = """\
local all all trust
host all trusted 127.0.0.1/32 trust
host all scram 127.0.0.1/32 scram-sha-256
host all md5user 127.0.0.1/32 md5
host all clear 127.0.0.1/32 password
host all all 127.0.0.1/32 scram-sha-256
"""

_PG_SETUP = f"""\
CREATE ROLE trusted LOGIN;
SET password_encryption = 'scram-sha-256';
CREATE ROLE scram LOGIN PASSWORD '{PG_PASSWORDS["scram"]}';
CREATE ROLE clear LOGIN PASSWORD '{PG_PASSWORDS["clear"]}';
SET password_encryption = 'md5';
CREATE ROLE md5user LOGIN PASSWORD '{PG_PASSWORDS["md5user"]}';
"""


def _pg_user() -> str:
    for user in ("postgres", "nobody"):
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            subprocess.run(["id", "-u", user], check=True, capture_output=True)
            return user
    raise ServerError("no non-root user to run PostgreSQL as")


def _run_as(user: str) -> dict[str, Any]:
    """Popen keywords that run a child as user (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def init_postgres_template(cert: TlsCert | None = None) -> Path:
    """initdb a cluster with the test users into a new folder (owned by the server's user)."""
    initdb = which("initdb", *PG_DIRS)
    postgres = which("postgres", *PG_DIRS)
    if initdb is None or postgres is None:
        raise FileNotFoundError("initdb/postgres")
    user = _pg_user()
    root = Path(tempfile.mkdtemp(prefix="pnet-pg-"))
    root.chmod(0o755)
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, user)
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"],
        check=True,
        capture_output=True,
        cwd=root,
        **_run_as(user),
    )
    (data / "pg_hba.conf").write_text(_PG_HBA)
    subprocess.run(
        [postgres, "--single", "-D", str(data), "postgres"],
        input=_PG_SETUP.encode(),
        check=True,
        capture_output=True,
        cwd=root,
        **_run_as(user),
    )
    return root


def _wait_log(
    path: Path, line: bytes, proc: subprocess.Popen[bytes], timeout: float = 15.0
) -> None:
    """Wait until a server's log says line (PostgreSQL accepts TCP before it takes logins)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise ServerError(f"{proc.args!r} exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            if line in path.read_bytes():
                return
        time.sleep(0.05)
    raise ServerError(f"{path} never said {line.decode()!r}")


def start_postgres(template: Path, *, tls: TlsCert | None = None) -> Postgres:
    """Serve a copy of the template cluster on a free loopback port (TLS when given a cert)."""
    postgres = which("postgres", *PG_DIRS)
    if postgres is None:
        raise FileNotFoundError("postgres")
    user = _pg_user()
    root = Path(tempfile.mkdtemp(prefix="pnet-pg-"))
    root.chmod(0o755)
    data = root / "data"
    shutil.copytree(template / "data", data, symlinks=True)
    data.chmod(0o700)
    settings = ["-c", "ssl=off"]
    if tls is not None:
        shutil.copy(tls.cert, data / "server.crt")
        shutil.copy(tls.key, data / "server.key")
        (data / "server.key").chmod(0o600)
        settings = [
            "-c",
            "ssl=on",
            "-c",
            "ssl_cert_file=server.crt",
            "-c",
            "ssl_key_file=server.key",
        ]
    if os.geteuid() == 0:
        for path in [root, *root.rglob("*")]:
            shutil.chown(path, user)
    port = free_port()
    args = [
        postgres,
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(root),
        "-c",
        f"listen_addresses={LOOPBACK}",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=40",
        *settings,
    ]
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=log, cwd=root, **_run_as(user))
    log.close()
    # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to leave
    process = Process(proc, root, signal.SIGINT)
    try:
        wait_tcp(LOOPBACK, port, proc)
        _wait_log(root / "server.log", b"ready to accept connections", proc)
    except BaseException:
        process.stop()
        raise
    return Postgres(LOOPBACK, port, tls is not None, dict(PG_PASSWORDS), process)


# --- TLS certificate ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsCert:
    """A self-signed certificate for localhost, api.test and 127.0.0.1."""

    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        """A server context that remembers the name each client asked for (SNI)."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)

        def remember(obj: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: object) -> None:
            SNI_SEEN[id(obj)] = name or ""

        ctx.sni_callback = remember
        return ctx


SNI_SEEN: dict[int, str] = {}


def make_cert(folder: Path) -> TlsCert:
    openssl = which("openssl")
    if openssl is None:
        raise FileNotFoundError("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,DNS:api.test,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return TlsCert(cert, key)


# --- dnsmasq -----------------------------------------------------------------------------------

DNSMASQ_TTL = 30
DNSMASQ_RECORDS = (
    # --address: every name under svc.test resolves to 127.0.0.9 (A only)
    "--address=/svc.test/127.0.0.9",
    # single-label Render-style hosts
    "--host-record=api-x7f2,127.0.0.5",
    "--host-record=api-x7f2-discovery,127.0.0.5",
    "--host-record=api-x7f2-discovery,127.0.0.6",
    "--host-record=api-x7f2-discovery,127.0.0.7",
    # dual stack, IPv6 only, a CNAME, a name with only a TXT record
    "--host-record=dual.test,127.0.0.5,::1",
    "--host-record=v6only.test,::1",
    "--host-record=api.test,127.0.0.5",
    "--cname=alias.test,api.test",
    "--txt-record=txtonly.test,hello",
    # .test is local: unknown names in it are NXDOMAIN; other unknown names (single-label
    # ones too) are REFUSED, as dnsmasq has no upstream
    "--local=/test/",
)


@dataclass
class Dnsmasq:
    """A dnsmasq resolver on 127.0.0.1:port serving DNSMASQ_RECORDS with TTL DNSMASQ_TTL.

    api-x7f2 → 127.0.0.5; api-x7f2-discovery → 127.0.0.5-7; dual.test → 127.0.0.5 and ::1;
    v6only.test → ::1; alias.test CNAME api.test; anything.svc.test → 127.0.0.9;
    txtonly.test has no address; nope.test is NXDOMAIN; nope and x.invalid are REFUSED
    (no upstream), as is AAAA for the single-label names.
    """

    host: str
    port: int
    process: Process

    @property
    def nameserver(self) -> tuple[str, int]:
        return (self.host, self.port)

    def stop(self) -> None:
        self.process.stop()


def _dns_query(name: str, qtype: int = 1) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
    return (
        struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
        + labels
        + b"\x00"
        + struct.pack("!HH", qtype, 1)
    )


def _wait_udp_dns(
    host: str, port: int, proc: subprocess.Popen[bytes], timeout: float = 10.0
) -> None:
    end = time.monotonic() + timeout
    query = _dns_query("api-x7f2")
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise ServerError(f"dnsmasq exited with {proc.returncode}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(query, (host, port))
                if s.recv(512)[:2] == query[:2]:
                    return
            except OSError:
                time.sleep(0.05)
    raise ServerError("dnsmasq does not answer")


def start_dnsmasq(extra: Sequence[str] = ()) -> Dnsmasq:
    binary = which("dnsmasq", "/usr/sbin")
    if binary is None:
        raise FileNotFoundError("dnsmasq")
    port = free_port(udp_too=True)
    args = [
        binary,
        "--no-daemon",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--no-poll",
        "--pid-file=",
        f"--port={port}",
        f"--listen-address={LOOPBACK}",
        "--bind-interfaces",
        f"--local-ttl={DNSMASQ_TTL}",
        *DNSMASQ_RECORDS,
        *extra,
    ]
    if os.geteuid() == 0:
        args.append("--user=root")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    process = Process(proc)
    try:
        _wait_udp_dns(LOOPBACK, port, proc)
    except BaseException:
        process.stop()
        if proc.stderr is not None:
            proc.stderr.close()
        raise
    if proc.stderr is not None:
        proc.stderr.close()
    return Dnsmasq(LOOPBACK, port, process)


# --- asyncio peers -----------------------------------------------------------------------------


@dataclass
class _Peers:
    """The connections an asyncio test server accepted, closed when it stops."""

    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    async def close(self) -> None:
        for writer in list(self.writers):
            writer.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def _serve(
    handle: object, *, host: str = LOOPBACK, tls: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    peers = _Peers()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peers.tasks.add(task)
        peers.writers.add(writer)
        try:
            await handle(reader, writer)  # type: ignore[operator]
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            # the server is stopping; ending quietly keeps asyncio from logging the cancel
            pass
        finally:
            peers.writers.discard(writer)
            writer.transport.abort()
            peers.tasks.discard(task)

    server = await asyncio.start_server(on_client, host, 0, ssl=tls)
    port = int(server.sockets[0].getsockname()[1])
    try:
        yield port
    finally:
        server.close()
        await peers.close()
        await server.wait_closed()


_FIRST_BYTE = re.compile(rb"[A-Z]")


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The request head, or None when the first bytes are not an HTTP request."""
    first = await reader.read(8)
    if not _FIRST_BYTE.match(first):
        return None
    return first + await reader.readuntil(b"\r\n\r\n")


def _response(status: int, body: bytes = b"", headers: Sequence[tuple[str, str]] = ()) -> bytes:
    reason = {
        200: "OK",
        302: "Found",
        400: "Bad Request",
        404: "Not Found",
        500: "Internal Server Error",
        503: "Service Unavailable",
    }.get(status, "Status")
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Server: pnet-test",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


ROUTES = """\
/                    200 "ok"
/status/N            status N
/redirect/N          302 to /redirect/N-1, /redirect/0 is 200
/loop                302 to /loop
/elsewhere?to=URL    302 to URL
/host                200, body = the Host header received
/expect-host?h=HOST  200 when the Host header is HOST, else 421 Misdirected Request
/expect-sni?h=NAME   (TLS) 200 when the client's TLS server name was NAME, else 421
/drip                200 with Content-Length 100, then one byte every DRIP_INTERVAL s
/drip-head           the status line, one byte every DRIP_INTERVAL s
/endless             200 without length, 16 KiB chunks until the client leaves (at most 256 MiB)
/close-mid-header    half a header, then close
/http09              a bare body with no status line, then close
/silent              reads the request, never answers
anything not HTTP    400 and close (what nginx does with a TLS ClientHello)
"""
DRIP_INTERVAL = 1.0


async def _http_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await _read_head(reader)
    if head is None:
        writer.write(_response(400, b"not HTTP"))
        await writer.drain()
        return
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    _, target, _ = [*request_line.split(" ", 2), "", ""][:3]
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)
    }
    path, _, query = target.partition("?")
    if path == "/":
        writer.write(_response(200, b"ok"))
    elif path.startswith("/status/"):
        writer.write(_response(int(path.rsplit("/", 1)[1]), b"status body"))
    elif path.startswith("/redirect/"):
        n = int(path.rsplit("/", 1)[1])
        writer.write(
            _response(200, b"arrived")
            if n <= 0
            else _response(302, headers=[("Location", f"/redirect/{n - 1}")])
        )
    elif path == "/loop":
        writer.write(_response(302, headers=[("Location", "/loop")]))
    elif path == "/elsewhere":
        writer.write(_response(302, headers=[("Location", query.removeprefix("to="))]))
    elif path == "/expect-host":
        want = query.removeprefix("h=")
        ok = headers.get("host") == want
        writer.write(_response(200 if ok else 421, headers.get("host", "").encode()))
    elif path == "/expect-sni":
        obj = writer.get_extra_info("ssl_object")
        seen = SNI_SEEN.pop(id(obj), None) if obj is not None else None
        want = query.removeprefix("h=")
        writer.write(_response(200 if seen == want else 421, (seen or "").encode()))
    elif path == "/host":
        writer.write(
            _response(
                200, headers.get("host", "").encode(), [("X-Seen-Host", headers.get("host", ""))]
            )
        )
    elif path == "/drip":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")
        for _ in range(100):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(DRIP_INTERVAL)
    elif path == "/drip-head":
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(DRIP_INTERVAL)
    elif path == "/endless":
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        chunk = b"y" * 16384
        for _ in range(16384):
            writer.write(chunk)
            await writer.drain()
    elif path == "/close-mid-header":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Ty")
    elif path == "/http09":
        writer.write(b"<html>hello from 1991</html>\n")
    elif path == "/silent":
        await reader.read()
    else:
        writer.write(_response(404))
    await writer.drain()


def http_server(
    *, tls: TlsCert | None = None, host: str = LOOPBACK
) -> contextlib.AbstractAsyncContextManager[int]:
    """A scripted HTTP/1.1 server on host (see ROUTES); TLS with the given cert."""
    return _serve(_http_handler, host=host, tls=tls.server_context() if tls else None)


async def _silent_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while await reader.read(4096):
        pass


def silent_server(host: str = LOOPBACK) -> contextlib.AbstractAsyncContextManager[int]:
    """Accepts connections, reads whatever comes, never writes a byte."""
    return _serve(_silent_handler, host=host)


def _banner_handler_for(banner: bytes) -> object:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(4096)
        writer.write(banner)
        await writer.drain()

    return handler


@contextlib.asynccontextmanager
async def banner_server(banner: bytes) -> AsyncIterator[int]:
    """Waits for the client's first bytes, answers with banner, closes."""
    async with _serve(_banner_handler_for(banner)) as port:
        yield port


async def _reset_handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0.05):
            await reader.read(1)
    writer.transport.abort()


def reset_server() -> contextlib.AbstractAsyncContextManager[int]:
    """Accepts, then resets the connection (RST), like a forwarder whose backend is gone."""
    return _serve(_reset_handler)


@contextlib.contextmanager
def backlog_full(host: str = LOOPBACK) -> Iterator[int]:
    """A listener with backlog 0 that never accepts, its queue filled: later SYNs are dropped."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind((host, 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(2):
            filler = socket.socket(family, socket.SOCK_STREAM)
            filler.setblocking(False)
            fillers.append(filler)
            with contextlib.suppress(BlockingIOError):
                filler.connect((host, port))
        time.sleep(0.05)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


class _DnsPeer(asyncio.DatagramProtocol):
    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        if self.transport is None or len(data) < 12 or self.behaviour == "silent":
            return
        if self.behaviour == "garbage":
            reply = b"\xde\xad" + os.urandom(5)
        else:
            qid = struct.unpack("!H", data[:2])[0]
            question = data[12:]
            flags = 0x8180
            if self.behaviour == "wrong-id":
                qid ^= 0xFFFF
            elif self.behaviour == "truncated":
                flags |= 0x0200
            elif self.behaviour == "servfail":
                flags |= 2
            elif self.behaviour == "refused":
                flags |= 5
            reply = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 0) + question
        self.transport.sendto(reply, addr)


@contextlib.asynccontextmanager
async def dns_server(behaviour: str) -> AsyncIterator[int]:
    """A UDP nameserver on 127.0.0.1 that answers every query the same wrong way.

    silent: never answers; garbage: seven random bytes; wrong-id: a reply whose id is not the
    query's; truncated: TC set (and nothing on TCP); servfail / refused: that rcode.
    """
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _DnsPeer(behaviour), local_addr=(LOOPBACK, 0)
    )
    try:
        yield int(transport.get_extra_info("sockname")[1])
    finally:
        transport.close()


def outcomes_without_network(code: str) -> list[str]:
    """Run `code` (which prints one ProbeResult JSON a line) in a new network namespace whose
    only interface, `lo`, is down: no route anywhere. Skips where namespaces cannot be made."""
    import json
    import sys

    import pytest

    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1)")
    run = subprocess.run(
        ["unshare", "--net", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    if run.returncode != 0 and "unshare" in run.stderr:
        pytest.skip(f"cannot make a network namespace: {run.stderr.strip()}")
    return [json.loads(line)["outcome"] for line in run.stdout.splitlines()]
