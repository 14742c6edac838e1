"""What answers on a lab listener: the service's protocol, or a hostile peer.

Well-behaved peers:
- `http`: HTTP/1.1 with keep-alive. The health path answers 200, `/` answers 200 with a small
  JSON naming the service and instance, other paths 404; with `lab.http_status` both answer
  that status instead, as an app that is failing does everywhere.
- `postgres`: PostgreSQL's opening exchange (protocol 3.0): SSLRequest and GSSENCRequest
  answered `N` (or `S` and a TLS handshake with `lab.tls`), then trust, or password
  authentication when the service has a password (`password:` or `lab.auth`): SCRAM-SHA-256
  as Render's and Railway's PostgreSQL ask for it (MD5 with `Peer.pg_auth = "md5"`), checked,
  with ErrorResponse 28P01 on a wrong one; a wrong user is 28P01 too, an unknown database
  3D000; then ParameterStatus, BackendKeyData, ReadyForQuery, and simple queries
  `SELECT <integer>`, `SELECT version()` and the empty query.
- `redis`: RESP2: PING, ECHO, AUTH, HELLO 2, SELECT, CLIENT, INFO, GET/SET/DEL/EXISTS on a
  small in-memory store, QUIT; NOAUTH until AUTH when `lab.auth` is set.
- `tcp`: a one-line banner, then reads until the client closes.

Hostile peers (`lab.protocol`):
- `drip`: an HTTP response, one byte a second.
- `endless-body`: HTTP 200 with a chunked body that never ends (capped at 1 GiB).
- `redirect-loop`: every request answers 302 to itself.
- `close-mid-header`: half a status line and header, then the connection closes.
- `http09`: bytes with no status line (an HTTP/0.9 style or non-HTTP server), then close.
- `tls-stall`: accepts and reads the ClientHello, never answers.
- `silent`: accepts, never says anything.
- `blackhole` has no handler: the lab never accepts on it (see `pnet.lab`).

Every loop is bounded in count and time; `lab.delay_ms` delays each first byte.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import ssl
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate

from pnet import __version__

HTTP_IDLE_S = 30.0
HTTP_MAX_REQUESTS = 1000
HTTP_MAX_HEAD = 64 * 1024
HTTP_MAX_HEADERS = 100
HTTP_MAX_BODY = 1024 * 1024
HOSTILE_MAX_S = 300.0
DRIP_INTERVAL_S = 1.0
ENDLESS_CHUNK = 16 * 1024
ENDLESS_MAX_BYTES = 1024**3
PG_MAX_MESSAGE = 1024 * 1024
PG_MAX_MESSAGES = 10_000
PG_IDLE_S = 60.0
PG_VERSION = "16.4"
SCRAM_ITERATIONS = 4096
REDIS_MAX_COMMANDS = 100_000
REDIS_MAX_ARGS = 1024
REDIS_MAX_BULK = 512 * 1024
REDIS_IDLE_S = 300.0
REDIS_MAX_KEYS = 10_000
REDIS_VERSION = "7.2.4"

SERVER = f"pnet-lab/{__version__}"
DRIP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\ndrip\n"
)


@dataclass
class Peer:
    """What one listener serves: the service it stands for and how it misbehaves."""

    service: str
    instance: str
    host: str | None
    address: str
    port: int
    protocol: str
    location: str | None = None
    platform: str = "render"
    health_path: str | None = None
    http_status: int | None = None
    delay_s: float = 0.0
    password: str | None = None
    user: str | None = None
    database: str | None = None
    redis_auth: str | None = None
    tls: ssl.SSLContext | None = None
    pg_auth: str = "scram-sha-256"
    scram: ScramSecret | None = None
    store: dict[bytes, bytes] = field(default_factory=dict)

    def identity(self) -> dict[str, object]:
        where = "region" if self.platform == "render" else "environment"
        return {
            "service": self.service,
            "instance": self.instance,
            "host": self.host,
            where: self.location,
            "address": self.address,
            "port": self.port,
            "lab": True,
        }


Handler = Callable[[Peer, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _delay(peer: Peer) -> None:
    if peer.delay_s > 0:
        await asyncio.sleep(peer.delay_s)


async def _drain_until_eof(reader: asyncio.StreamReader, limit_s: float) -> None:
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(limit_s):
            while await reader.read(65536):
                pass


# ---- HTTP -------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        target = self.target
        if target.lower().startswith(("http://", "https://")):
            rest = target.split("://", 1)[1]
            target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        return target.split("?", 1)[0].split("#", 1)[0] or "/"

    @property
    def keep_alive(self) -> bool:
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn


class BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_request(
    reader: asyncio.StreamReader, idle_s: float, writer: asyncio.StreamWriter | None = None
) -> Request | None:
    """One request head (and its body, discarded); None when the client closed first."""
    headers: dict[str, str] = {}
    try:
        async with asyncio.timeout(idle_s):
            lead = await reader.readexactly(1)
            if not (lead.isupper() or lead == b"\r"):
                raise BadRequest(400, "Bad Request")
            first = lead + await reader.readuntil(b"\r\n")
            if first == b"\r\n":
                first = await reader.readuntil(b"\r\n")
            parts = first.decode("latin-1").rstrip("\r\n").split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                raise BadRequest(400, "Bad Request")
            size = len(first)
            for _ in range(HTTP_MAX_HEADERS + 1):
                line = (await reader.readuntil(b"\r\n"))[:-2].decode("latin-1")
                size += len(line) + 2
                if size > HTTP_MAX_HEAD or len(headers) >= HTTP_MAX_HEADERS:
                    raise BadRequest(431, "Request Header Fields Too Large")
                if not line:
                    break
                name, sep, value = line.partition(":")
                if not sep or not name or name != name.strip():
                    raise BadRequest(400, "Bad Request")
                headers[name.lower()] = value.strip()
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip() or headers:
            raise BadRequest(400, "Bad Request") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "Request Header Fields Too Large") from None
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise BadRequest(411, "Length Required")
    length_text = headers.get("content-length", "0") or "0"
    if not length_text.isdigit():
        raise BadRequest(400, "Bad Request")
    length = int(length_text)
    if length > HTTP_MAX_BODY:
        raise BadRequest(413, "Content Too Large")
    if length:
        if writer is not None and headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        async with asyncio.timeout(idle_s):
            await reader.readexactly(length)
    return Request(parts[0], parts[1], parts[2], headers)


REASONS = {
    200: "OK",
    301: "Moved Permanently",
    302: "Found",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def http_response(
    status: int,
    body: bytes,
    *,
    peer: Peer | None = None,
    content_type: str = "application/json",
    keep_alive: bool = True,
    head_only: bool = False,
    extra: dict[str, str] | None = None,
) -> bytes:
    reason = REASONS.get(status, "Unknown")
    headers = {
        "Date": formatdate(usegmt=True),
        "Server": SERVER,
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Connection": "keep-alive" if keep_alive else "close",
    }
    if peer is not None:
        headers["X-Pnet-Service"] = peer.service
        headers["X-Pnet-Instance"] = peer.instance
    headers.update(extra or {})
    text = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return text.encode("latin-1") + b"\r\n" + (b"" if head_only else body)


def route(peer: Peer, request: Request) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, extra headers) for a well-behaved HTTP service."""
    path = request.path
    if path == peer.health_path or path == "/":
        if request.method not in ("GET", "HEAD"):
            return 405, b'{"error": "method not allowed"}\n', {"Allow": "GET, HEAD"}
        status = peer.http_status or 200
        doc = dict(peer.identity())
        doc["status"] = "ok" if status < 400 else "error"
        if path == peer.health_path and path != "/":
            doc = {"status": doc["status"], "service": peer.service, "instance": peer.instance}
        return status, (json.dumps(doc) + "\n").encode(), {}
    return 404, b'{"error": "not found"}\n', {}


async def serve_http(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    redirect = peer.protocol == "redirect-loop"
    for _ in range(HTTP_MAX_REQUESTS):
        try:
            request = await read_request(reader, HTTP_IDLE_S, writer)
        except BadRequest as exc:
            body = (json.dumps({"error": exc.reason.lower()}) + "\n").encode()
            writer.write(http_response(exc.status, body, peer=peer, keep_alive=False))
            await writer.drain()
            return
        if request is None:
            return
        await _delay(peer)
        keep = request.keep_alive
        head_only = request.method == "HEAD"
        if redirect:
            data = http_response(
                302,
                b"",
                peer=peer,
                content_type="text/plain",
                keep_alive=keep,
                head_only=head_only,
                extra={"Location": request.target},
            )
        else:
            status, body, extra = route(peer, request)
            data = http_response(
                status, body, peer=peer, keep_alive=keep, head_only=head_only, extra=extra
            )
        writer.write(data)
        await writer.drain()
        if not keep:
            return


async def serve_drip(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    drain = asyncio.ensure_future(_drain_until_eof(reader, HOSTILE_MAX_S))
    try:
        await _delay(peer)
        for i in range(len(DRIP_RESPONSE)):
            writer.write(DRIP_RESPONSE[i : i + 1])
            await writer.drain()
            if drain.done():
                return
            await asyncio.sleep(DRIP_INTERVAL_S)
    finally:
        drain.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await drain


async def serve_endless(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with contextlib.suppress(BadRequest):
        if await read_request(reader, HTTP_IDLE_S) is None:
            return
    await _delay(peer)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"%x\r\n" % ENDLESS_CHUNK + b"x" * ENDLESS_CHUNK + b"\r\n"
    async with asyncio.timeout(HOSTILE_MAX_S):
        for _ in range(ENDLESS_MAX_BYTES // ENDLESS_CHUNK):
            writer.write(chunk)
            await writer.drain()


async def serve_close_mid_header(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with contextlib.suppress(BadRequest):
        if await read_request(reader, HTTP_IDLE_S) is None:
            return
    await _delay(peer)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")
    await writer.drain()


async def serve_http09(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        async with asyncio.timeout(2.0):
            await reader.readuntil(b"\r\n\r\n")
    await _delay(peer)
    writer.write(f"{peer.service} {peer.instance}: no status line here\n".encode())
    await writer.drain()


async def serve_silent(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    del peer, writer
    await _drain_until_eof(reader, HOSTILE_MAX_S)


async def serve_tcp(peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _delay(peer)
    writer.write(f"pnet-lab {peer.service} {peer.instance} ready\r\n".encode())
    await writer.drain()
    await _drain_until_eof(reader, HOSTILE_MAX_S)


# ---- PostgreSQL --------------------------------------------------------------------------

PG_SSL_REQUEST = 80877103
PG_GSSENC_REQUEST = 80877104
PG_CANCEL_REQUEST = 80877102
PG_PROTOCOL_3 = 196608


def pg_message(tag: bytes, payload: bytes = b"") -> bytes:
    return tag + struct.pack("!I", len(payload) + 4) + payload


def pg_error(code: str, message: str, severity: str = "FATAL") -> bytes:
    fields = b"".join(
        key + value.encode() + b"\0"
        for key, value in ((b"S", severity), (b"V", severity), (b"C", code), (b"M", message))
    )
    return pg_message(b"E", fields + b"\0")


def pg_md5(password: str, user: str, salt: bytes) -> str:
    inner = hashlib.md5((password + user).encode()).hexdigest()
    return "md5" + hashlib.md5(inner.encode() + salt).hexdigest()


def _pg_ready() -> bytes:
    return pg_message(b"Z", b"I")


async def _pg_startup(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    async with asyncio.timeout(PG_IDLE_S):
        (length,) = struct.unpack("!I", await reader.readexactly(4))
        if length < 8 or length > 10_000:
            raise ValueError("bad startup length")
        body = await reader.readexactly(length - 4)
    (code,) = struct.unpack("!I", body[:4])
    return code, body[4:]


async def _pg_read(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    async with asyncio.timeout(PG_IDLE_S):
        tag = await reader.readexactly(1)
        (length,) = struct.unpack("!I", await reader.readexactly(4))
        if length < 4 or length > PG_MAX_MESSAGE:
            raise ValueError("bad message length")
        return tag, await reader.readexactly(length - 4)


def _pg_params(body: bytes) -> dict[str, str]:
    items = body.split(b"\0")
    params: dict[str, str] = {}
    for key, value in zip(items[0::2], items[1::2], strict=False):
        if key:
            params[key.decode(errors="replace")] = value.decode(errors="replace")
    return params


def pg_query_result(sql: str) -> bytes:
    """The messages that answer one simple query (without ReadyForQuery)."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        return pg_message(b"I")
    words = text.split()
    if len(words) == 2 and words[0].lower() == "select":
        value = words[1]
        if value.lstrip("-").isdigit():
            column, oid, cell = "?column?", 23, value.lstrip("+")
        elif value.lower() == "version()":
            column, oid, cell = "version", 25, f"PostgreSQL {PG_VERSION} (pnet lab)"
        else:
            column = ""
        if column:
            desc = struct.pack("!H", 1) + column.encode() + b"\0"
            desc += struct.pack("!IhIhih", 0, 0, oid, 4 if oid == 23 else -1, -1, 0)
            row = struct.pack("!H", 1) + struct.pack("!i", len(cell)) + cell.encode()
            return pg_message(b"T", desc) + pg_message(b"D", row) + pg_message(b"C", b"SELECT 1\0")
    return pg_error(
        "0A000", "the pnet lab answers only SELECT <integer> and SELECT version()", "ERROR"
    )


async def _pg_auth_md5(
    password: str, user: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    salt = os.urandom(4)
    writer.write(pg_message(b"R", struct.pack("!I", 5) + salt))
    await writer.drain()
    tag, payload = await _pg_read(reader)
    given = payload.rstrip(b"\0").decode(errors="replace")
    return tag == b"p" and hmac.compare_digest(given, pg_md5(password, user, salt))


@dataclass(frozen=True)
class ScramSecret:
    """A password as PostgreSQL stores it for SCRAM-SHA-256: salt, iterations, two keys."""

    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes

    @classmethod
    def make(cls, password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> ScramSecret:
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        return cls(
            salt,
            iterations,
            hashlib.sha256(client_key).digest(),
            hmac.digest(salted, b"Server Key", "sha256"),
        )


def _scram_attributes(message: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in message.split(","):
        key, sep, value = part.partition("=")
        if sep and len(key) == 1:
            out.setdefault(key, value)
    return out


async def _pg_auth_scram(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bool:
    """SCRAM-SHA-256 (RFC 5802, 7677) as PostgreSQL does it, without channel binding."""
    assert peer.password is not None
    if peer.scram is None:
        peer.scram = ScramSecret.make(peer.password, os.urandom(16))
    secret = peer.scram
    writer.write(pg_message(b"R", struct.pack("!I", 10) + b"SCRAM-SHA-256\0\0"))
    await writer.drain()
    tag, payload = await _pg_read(reader)
    mechanism, _, rest = payload.partition(b"\0")
    if tag != b"p" or mechanism != b"SCRAM-SHA-256" or len(rest) < 4:
        return False
    client_first = rest[4:].decode(errors="replace")
    if not client_first.startswith(("n,", "y,")):
        return False
    gs2_end = client_first.index(",", 2) + 1 if client_first.count(",") >= 2 else 0
    gs2, client_bare = client_first[:gs2_end], client_first[gs2_end:]
    client_nonce = _scram_attributes(client_bare).get("r", "")
    if not gs2 or not client_nonce:
        return False
    nonce = client_nonce + base64.b64encode(os.urandom(18)).decode()
    server_first = f"r={nonce},s={base64.b64encode(secret.salt).decode()},i={secret.iterations}"
    writer.write(pg_message(b"R", struct.pack("!I", 11) + server_first.encode()))
    await writer.drain()
    tag, payload = await _pg_read(reader)
    if tag != b"p":
        return False
    client_final = payload.decode(errors="replace")
    attrs = _scram_attributes(client_final)
    without_proof, _, _ = client_final.rpartition(",p=")
    if attrs.get("r") != nonce or attrs.get("c") != base64.b64encode(gs2.encode()).decode():
        return False
    try:
        proof = base64.b64decode(attrs.get("p", ""), validate=True)
    except ValueError:
        return False
    auth_message = f"{client_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(secret.stored_key, auth_message, "sha256")
    if len(proof) != len(signature):
        return False
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    if not hmac.compare_digest(hashlib.sha256(client_key).digest(), secret.stored_key):
        return False
    server_signature = hmac.digest(secret.server_key, auth_message, "sha256")
    final = b"v=" + base64.b64encode(server_signature)
    writer.write(pg_message(b"R", struct.pack("!I", 12) + final))
    return True


async def serve_postgres(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    await _delay(peer)
    for _ in range(3):
        code, body = await _pg_startup(reader)
        if code == PG_SSL_REQUEST:
            if peer.tls is not None:
                writer.write(b"S")
                await writer.drain()
                await writer.start_tls(peer.tls)
            else:
                writer.write(b"N")
                await writer.drain()
            continue
        if code == PG_GSSENC_REQUEST:
            writer.write(b"N")
            await writer.drain()
            continue
        break
    else:
        return
    if code == PG_CANCEL_REQUEST:
        return
    if code >> 16 != 3:
        writer.write(
            pg_error(
                "0A000",
                f"unsupported frontend protocol {code >> 16}.{code & 0xFFFF}: "
                "server supports 3.0 to 3.0",
            )
        )
        await writer.drain()
        return
    params = _pg_params(body)
    user = params.get("user", "")
    database = params.get("database", user)
    if peer.user and user != peer.user:
        writer.write(pg_error("28P01", f'password authentication failed for user "{user}"'))
        await writer.drain()
        return
    if peer.password is not None:
        if peer.pg_auth == "md5":
            ok = await _pg_auth_md5(peer.password, user, reader, writer)
        else:
            ok = await _pg_auth_scram(peer, reader, writer)
        if not ok:
            writer.write(pg_error("28P01", f'password authentication failed for user "{user}"'))
            await writer.drain()
            return
    if peer.database and database != peer.database:
        writer.write(pg_error("3D000", f'database "{database}" does not exist'))
        await writer.drain()
        return
    out = pg_message(b"R", struct.pack("!I", 0))
    status = {
        "application_name": params.get("application_name", ""),
        "client_encoding": params.get("client_encoding", "UTF8"),
        "DateStyle": "ISO, MDY",
        "integer_datetimes": "on",
        "IntervalStyle": "postgres",
        "is_superuser": "off",
        "server_encoding": "UTF8",
        "server_version": PG_VERSION,
        "session_authorization": user,
        "standard_conforming_strings": "on",
        "TimeZone": "UTC",
    }
    for key, value in status.items():
        out += pg_message(b"S", key.encode() + b"\0" + value.encode() + b"\0")
    out += pg_message(b"K", struct.pack("!II", os.getpid() & 0x7FFFFFFF, 0x5EC12E7))
    out += _pg_ready()
    writer.write(out)
    await writer.drain()
    failed = False
    for _ in range(PG_MAX_MESSAGES):
        tag, payload = await _pg_read(reader)
        if tag == b"X":
            return
        if tag == b"Q":
            sql = payload.rstrip(b"\0").decode(errors="replace")
            writer.write(pg_query_result(sql) + _pg_ready())
        elif tag == b"S":
            writer.write(_pg_ready())
            failed = False
        elif tag in (b"P", b"B", b"D", b"E", b"C", b"H"):
            if not failed:
                writer.write(pg_error("0A000", "the pnet lab answers simple queries only", "ERROR"))
                failed = True
        else:
            writer.write(pg_error("08P01", f"invalid frontend message type {tag[0]}"))
            await writer.drain()
            return
        await writer.drain()


# ---- Redis --------------------------------------------------------------------------------


def resp_bulk(value: bytes | None) -> bytes:
    if value is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(value), value)


def resp_array(items: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(items)


async def read_command(reader: asyncio.StreamReader) -> list[bytes] | None:
    """One RESP array of bulk strings, or an inline command; None on EOF."""
    async with asyncio.timeout(REDIS_IDLE_S):
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as exc:
            raise ValueError("Protocol error: too big inline request") from exc
        if not line.startswith(b"*"):
            return line.strip().split()
        count = int(line[1:-2])
        if count < 0 or count > REDIS_MAX_ARGS:
            raise ValueError("Protocol error: invalid multibulk length")
        args = []
        for _ in range(count):
            head = await reader.readuntil(b"\r\n")
            if not head.startswith(b"$"):
                raise ValueError(f"Protocol error: expected '$', got '{head[:1].decode()}'")
            size = int(head[1:-2])
            if size < 0 or size > REDIS_MAX_BULK:
                raise ValueError("Protocol error: invalid bulk length")
            data = await reader.readexactly(size + 2)
            args.append(data[:-2])
        return args


def _redis_info(peer: Peer) -> bytes:
    lines = [
        "# Server",
        f"redis_version:{REDIS_VERSION}",
        "redis_mode:standalone",
        "os:pnet lab",
        f"process_id:{os.getpid()}",
        f"tcp_port:{peer.port}",
        f"pnet_service:{peer.service}",
        f"pnet_instance:{peer.instance}",
        "",
    ]
    return "\r\n".join(lines).encode()


async def serve_redis(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    authed = peer.redis_auth is None
    first = True
    for _ in range(REDIS_MAX_COMMANDS):
        try:
            args = await read_command(reader)
        except (ValueError, asyncio.LimitOverrunError) as exc:
            writer.write(b"-ERR " + str(exc).encode() + b"\r\n")
            await writer.drain()
            return
        if args is None:
            return
        if not args:
            continue
        if first:
            await _delay(peer)
            first = False
        name = args[0].decode(errors="replace").upper()
        reply, authed, close = _redis_command(peer, name, args, authed)
        writer.write(reply)
        await writer.drain()
        if close:
            return


def _redis_command(
    peer: Peer, name: str, args: list[bytes], authed: bool
) -> tuple[bytes, bool, bool]:
    """(reply, authenticated now, close after the reply)."""
    arity = len(args) - 1
    if name == "QUIT":
        return b"+OK\r\n", authed, True
    if name == "AUTH":
        if arity not in (1, 2):
            return b"-ERR wrong number of arguments for 'auth' command\r\n", authed, False
        if peer.redis_auth is None:
            return (
                b"-ERR AUTH <password> called without any password configured for the default "
                b"user. Are you sure your configuration is correct?\r\n",
                authed,
                False,
            )
        user = args[1] if arity == 2 else b"default"
        if user == b"default" and hmac.compare_digest(args[-1], peer.redis_auth.encode()):
            return b"+OK\r\n", True, False
        return (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            authed,
            False,
        )
    if name == "HELLO":
        version = args[1] if arity >= 1 else b"2"
        if version not in (b"2",):
            if version == b"3":
                return b"-NOPROTO unsupported protocol version\r\n", authed, False
            return b"-ERR Protocol version is not an integer or out of range\r\n", authed, False
        rest = args[2:]
        if len(rest) >= 3 and rest[0].upper() == b"AUTH":
            if peer.redis_auth is None or not hmac.compare_digest(
                rest[2], peer.redis_auth.encode()
            ):
                return (
                    b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
                    authed,
                    False,
                )
            authed = True
        if not authed:
            return (
                b"-NOAUTH HELLO must be called with the client already authenticated, "
                b"otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                b"authenticate the client and select the RESP protocol version at the same "
                b"time\r\n",
                authed,
                False,
            )
        fields = [
            resp_bulk(b"server"),
            resp_bulk(b"redis"),
            resp_bulk(b"version"),
            resp_bulk(REDIS_VERSION.encode()),
            resp_bulk(b"proto"),
            b":2\r\n",
            resp_bulk(b"id"),
            b":1\r\n",
            resp_bulk(b"mode"),
            resp_bulk(b"standalone"),
            resp_bulk(b"role"),
            resp_bulk(b"master"),
            resp_bulk(b"modules"),
            b"*0\r\n",
        ]
        return resp_array(fields), authed, False
    if not authed:
        return b"-NOAUTH Authentication required.\r\n", authed, False
    if name == "PING":
        if arity == 0:
            return b"+PONG\r\n", authed, False
        if arity == 1:
            return resp_bulk(args[1]), authed, False
    elif name == "ECHO" and arity == 1:
        return resp_bulk(args[1]), authed, False
    elif name == "INFO":
        return resp_bulk(_redis_info(peer)), authed, False
    elif name == "SELECT" and arity == 1:
        if args[1].isdigit() and int(args[1]) < 16:
            return b"+OK\r\n", authed, False
        return b"-ERR DB index is out of range\r\n", authed, False
    elif name == "CLIENT" and arity >= 1:
        return b"+OK\r\n", authed, False
    elif name == "COMMAND":
        return b"*0\r\n", authed, False
    elif name == "GET" and arity == 1:
        return resp_bulk(peer.store.get(args[1])), authed, False
    elif name == "SET" and arity >= 2:
        if args[1] not in peer.store and len(peer.store) >= REDIS_MAX_KEYS:
            return b"-OOM command not allowed when used memory > 'maxmemory'.\r\n", authed, False
        peer.store[args[1]] = args[2]
        return b"+OK\r\n", authed, False
    elif name in ("DEL", "EXISTS") and arity >= 1:
        found = sum(1 for key in args[1:] if key in peer.store)
        if name == "DEL":
            for key in args[1:]:
                peer.store.pop(key, None)
        return b":%d\r\n" % found, authed, False
    elif name in ("PING", "ECHO", "GET", "SET", "DEL", "EXISTS", "SELECT", "CLIENT"):
        return (
            f"-ERR wrong number of arguments for '{name.lower()}' command\r\n".encode(),
            authed,
            False,
        )
    else:
        shown = " ".join(f"'{a.decode(errors='replace')}'" for a in args[1:4])
        return (
            f"-ERR unknown command '{args[0].decode(errors='replace')}', "
            f"with args beginning with: {shown}\r\n".encode(),
            authed,
            False,
        )
    return (
        f"-ERR wrong number of arguments for '{name.lower()}' command\r\n".encode(),
        authed,
        False,
    )


HANDLERS: dict[str, Handler] = {
    "http": serve_http,
    "redirect-loop": serve_http,
    "drip": serve_drip,
    "endless-body": serve_endless,
    "close-mid-header": serve_close_mid_header,
    "http09": serve_http09,
    "tls-stall": serve_silent,
    "silent": serve_silent,
    "tcp": serve_tcp,
    "postgres": serve_postgres,
    "redis": serve_redis,
}


def handler_for(protocol: str) -> Handler | None:
    """The handler of a protocol; None for `blackhole`, which never accepts."""
    return HANDLERS.get(protocol)
