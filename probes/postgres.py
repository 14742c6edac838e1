"""PostgreSQL: is it PostgreSQL, does it offer TLS, how does it want us to authenticate.

The probe sends an SSLRequest (unless `tls="disable"`) and reads 'S' or 'N', upgrades to TLS
when offered and wanted ("prefer", "require"), sends a StartupMessage and reads the
authentication request. It never sends a password unless one is given; with one it completes
cleartext, md5 or SCRAM-SHA-256 authentication for real (and checks the server's SCRAM
signature). It always ends with Terminate.

Outcomes:
- ok: we are in (trust, or the password was accepted); evidence `server_version`
- auth-required: the server asks for a password and none was given, or refused the one given
  (`server_error` says which; `auth` names the method it asked for)
- protocol-error: whatever answered is not PostgreSQL (`banner`: its first bytes, escaped)
- tls-error: `require` and no TLS offered, or the handshake failed
- refused / timeout / unreachable: the connection itself
- error: PostgreSQL answered with another error (no such database, too many clients, ...)

A peer that waits for a line end (Redis, many HTTP servers) leaves a binary SSLRequest
unanswered. PostgreSQL answers one at once, so when nothing comes back within a fraction of the
timeout the probe also sends `PING` and a blank line on a second connection: whatever answers
that (`+PONG`, `HTTP/1.1 400`) names the peer, while the first connection keeps waiting in
case PostgreSQL is merely slow.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import hmac
import os
import ssl
import struct
from collections.abc import Awaitable, Callable
from typing import Any

from ._net import (
    Clock,
    TlsFailure,
    classify_oserror,
    clip,
    close_writer,
    describe_exception,
    escape_bytes,
    hostport,
    insecure_context,
    ip_family,
    open_stream,
    oserror_detail,
    redact,
    result,
    unaskable,
)
from .result import Outcome, ProbeResult

KIND = "postgres"
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
PROTOCOL_3_0 = 196608
TERMINATE = b"X\x00\x00\x00\x04"
SNIFF = b"PING\r\n\r\n"
TLS_MODES = ("disable", "prefer", "require")
SSLMODES = {
    "disable": "disable",
    "allow": "prefer",
    "prefer": "prefer",
    "require": "require",
    "verify-ca": "require",
    "verify-full": "require",
}
AUTH_METHODS = {
    0: "trust",
    2: "kerberos",
    3: "cleartext",
    5: "md5",
    7: "gss",
    9: "sspi",
    10: "sasl",
}
_MESSAGE_TYPES = frozenset(b"RSKZENvI")
_MAX_MESSAGE = 1 << 20
MAX_SCRAM_ITERATIONS = 100_000
"""PostgreSQL uses 4,096; a server asking for millions would hold the probe (and every probe
beside it) in PBKDF2 for seconds, so the probe declines past this."""


class _NotPostgres(Exception):
    def __init__(self, banner: bytes, *, sniffed: bool = False) -> None:
        super().__init__("not PostgreSQL")
        self.banner = banner
        self.sniffed = sniffed


async def _sniff(host: str, port: int, clock: Clock) -> bytes:
    """What the peer answers to a line of text on a fresh connection (b"" for nothing)."""
    try:
        reader, writer = await open_stream(host, port, clock)
    except (OSError, TimeoutError):
        return b""
    try:
        writer.write(SNIFF)
        await writer.drain()
        async with asyncio.timeout(clock.remaining):
            return await reader.read(128)
    except (OSError, TimeoutError):
        return b""
    finally:
        await close_writer(writer)


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def banner(self, first: bytes, clock: Clock) -> bytes:
        """first plus whatever else the peer sends at once (up to 128 bytes)."""
        data = bytearray(first)
        try:
            async with asyncio.timeout(min(0.2, clock.remaining)):
                while len(data) < 128:
                    chunk = await self.reader.read(128 - len(data))
                    if not chunk:
                        break
                    data += chunk
        except (TimeoutError, OSError):
            pass
        return bytes(data)

    async def first_byte(self, clock: Clock, sniff: Callable[[], Awaitable[bytes]]) -> bytes:
        """The first byte of the reply; if it is slow to come, what a sniff reveals."""
        read = asyncio.ensure_future(self.reader.readexactly(1))
        try:
            done, _ = await asyncio.wait({read}, timeout=min(1.0, clock.timeout / 2))
            if read in done:
                return read.result()
            probe = asyncio.ensure_future(sniff())
            try:
                async with asyncio.timeout(clock.remaining):
                    done, _ = await asyncio.wait({read, probe}, return_when=asyncio.FIRST_COMPLETED)
                    if read not in done and probe.result():
                        raise _NotPostgres(probe.result(), sniffed=True)
                    return await read
            finally:
                probe.cancel()
                await asyncio.gather(probe, return_exceptions=True)
        finally:
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)

    async def message(self, clock: Clock, first: bytes | None = None) -> tuple[int, bytes]:
        async with asyncio.timeout(clock.remaining):
            kind = first or await self.reader.readexactly(1)
            if kind[0] not in _MESSAGE_TYPES:
                raise _NotPostgres(await self.banner(kind, clock))
            head = await self.reader.readexactly(4)
            (length,) = struct.unpack("!i", head)
            if length < 4 or length > _MAX_MESSAGE:
                raise _NotPostgres(await self.banner(kind + head, clock))
            body = await self.reader.readexactly(length - 4)
        return kind[0], body


def _packet(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("!i", len(payload) + 4) + payload


def _startup(user: str, database: str) -> bytes:
    params = b"".join(
        k.encode() + b"\x00" + v.encode() + b"\x00"
        for k, v in (("user", user), ("database", database), ("application_name", "pnet-probe"))
    )
    payload = struct.pack("!i", PROTOCOL_3_0) + params + b"\x00"
    return struct.pack("!i", len(payload) + 4) + payload


def _error_fields(body: bytes) -> dict[str, str]:
    """An ErrorResponse's fields, each cut to PEER_TEXT before it is decoded."""
    fields: dict[str, str] = {}
    for part in body.split(b"\x00", 64)[:64]:
        if part:
            fields[chr(part[0])] = clip(part[1:])
    return fields


def _md5_password(user: str, password: str, salt: bytes) -> bytes:
    inner = hashlib.md5((password + user).encode()).hexdigest()
    return b"md5" + hashlib.md5(inner.encode() + salt).hexdigest().encode()


@functools.lru_cache(maxsize=256)
def _salted(password: str, salt: bytes, rounds: int) -> bytes:
    """SCRAM's SaltedPassword: PBKDF2 of the password with the server's salt and iteration
    count. A pure function, costly by design (4096 rounds at least): a sweep that meets the
    same server (the same stored salt) again does not pay for it twice."""
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds)


class _Scram:
    """The client side of SCRAM-SHA-256 (RFC 5802/7677), without channel binding."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = f"n=,r={self.nonce}"
        self.server_signature = b""

    def first(self) -> bytes:
        message = ("n,," + self.first_bare).encode()
        return b"SCRAM-SHA-256\x00" + struct.pack("!i", len(message)) + message

    def final(self, server_first: str) -> bytes:
        attrs = dict(part.split("=", 1) for part in server_first.split(",") if "=" in part)
        rounds_text = attrs["i"]
        if not (rounds_text.isascii() and rounds_text.isdigit()) or len(rounds_text) > 9:
            raise ValueError(
                f"the server's SCRAM iteration count is not a number: {clip(rounds_text, 20)!r}"
            )
        nonce, salt, rounds = attrs["r"], base64.b64decode(attrs["s"]), int(rounds_text)
        if not 1 <= rounds <= MAX_SCRAM_ITERATIONS:
            raise ValueError(
                f"the server asks for {rounds} SCRAM iterations; the probe does 1 to "
                f"{MAX_SCRAM_ITERATIONS}"
            )
        if not nonce.startswith(self.nonce):
            raise ValueError("the server's SCRAM nonce does not extend ours")
        salted = _salted(self.password, salt, rounds)
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c=biws,r={nonce}"
        auth_message = f"{self.first_bare},{server_first},{without_proof}".encode()
        signature = hmac.digest(stored_key, auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self.server_signature = hmac.digest(server_key, auth_message, "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: str) -> bool:
        attrs = dict(part.split("=", 1) for part in server_final.split(",") if "=" in part)
        return hmac.compare_digest(base64.b64decode(attrs.get("v", "")), self.server_signature)


def _not_postgres(banner: bytes) -> str:
    if banner.startswith(b"HTTP/"):
        return "an HTTP server answered"
    if banner.startswith(b"+PONG") or (banner[:1] == b"-" and b"ERR" in banner[:8]):
        return "Redis answered"
    if banner.startswith(b"-NOAUTH"):
        return "Redis answered"
    if banner.startswith(b"SSH-"):
        return "an SSH server answered"
    if banner[:1] == b"\x15":
        return "a TLS server answered (it expects TLS from the first byte)"
    return "the server answered"


async def hello(
    host: str,
    port: int,
    *,
    user: str = "postgres",
    database: str | None = None,
    password: str | None = None,
    tls: str | bool = "prefer",
    timeout: float = 2.0,  # noqa: ASYNC109
    server_hostname: str | None = None,
) -> ProbeResult:
    """Handshake with a PostgreSQL server (kind "postgres"; evidence tls_offered, tls, auth,
    server_error, sqlstate, server_version, banner, user, database).

    tls: "disable" (no SSLRequest), "prefer" (TLS when offered), "require" (tls-error when not);
    any libpq sslmode is accepted (allow as prefer; verify-ca and verify-full as require: the
    probe asks whether TLS works, not who signed the certificate); True means require, False
    prefer.
    database: defaults to "postgres", which every cluster has (libpq would use the user name).
    """
    clock = Clock(timeout)
    target = hostport(host, port)
    mode = ("require" if tls else "prefer") if isinstance(tls, bool) else SSLMODES.get(tls)
    evidence: dict[str, Any] = {
        "address": host,
        "port": port,
        "user": user,
        "database": database or "postgres",
        "tls_offered": None,
        "tls": False,
        "auth": None,
        "server_error": None,
        "connected": False,
    }

    def done(outcome: Outcome, detail: str) -> ProbeResult:
        for key in ("server_error", "banner"):
            if evidence.get(key):
                evidence[key] = redact(str(evidence[key]), password)
        return result(KIND, target, outcome, clock, redact(detail, password), evidence)

    if mode is None:
        return done(Outcome.ERROR, f"{target}: unknown sslmode {tls!r}")
    problem = unaskable(host, port)
    if problem:
        return done(Outcome.ERROR, f"{target}: {problem}")
    name = server_hostname or (host if ip_family(host) is None else None)
    try:
        return done(
            *await _attempt(host, port, clock, evidence, user, database, password, mode, name)
        )
    except TlsFailure as exc:
        return done(Outcome.TLS_ERROR, f"{target}: {exc}")
    except _NotPostgres as exc:
        evidence["banner"] = escape_bytes(exc.banner)
        if exc.sniffed:
            evidence["sniffed"] = True
        return done(
            Outcome.PROTOCOL_ERROR, f"{target}: {_not_postgres(exc.banner)}, not PostgreSQL"
        )
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            evidence["banner"] = escape_bytes(exc.partial)
        return done(
            Outcome.PROTOCOL_ERROR,
            f"{target}: the server closed the connection mid-handshake (not PostgreSQL?)",
        )
    except TimeoutError:
        return done(Outcome.TIMEOUT, _timeout_detail(target, evidence, clock))
    except (ConnectionResetError, BrokenPipeError) as exc:
        if not evidence["connected"]:
            return done(classify_oserror(exc), oserror_detail(exc, target))
        return done(
            Outcome.PROTOCOL_ERROR,
            f"{target}: the server reset the connection mid-handshake (not PostgreSQL?)",
        )
    except (OSError, ssl.SSLError) as exc:
        return done(classify_oserror(exc), oserror_detail(exc, target))
    except (ValueError, KeyError, struct.error) as exc:
        return done(Outcome.PROTOCOL_ERROR, f"{target}: {describe_exception(exc)}")


def _timeout_detail(target: str, evidence: dict[str, Any], clock: Clock) -> str:
    if evidence.get("connected"):
        return f"{target}: connected, but no PostgreSQL answer within {clock.timeout:g} s"
    return f"{target}: no answer within {clock.timeout:g} s"


async def _attempt(
    host: str,
    port: int,
    clock: Clock,
    evidence: dict[str, Any],
    user: str,
    database: str | None,
    password: str | None,
    tls: str,
    name: str | None,
) -> tuple[Outcome, str]:
    target = hostport(host, port)
    reader, writer = await open_stream(host, port, clock)
    evidence["connected"] = True
    conn = _Conn(reader, writer)

    def sniff() -> Awaitable[bytes]:
        return _sniff(host, port, clock)

    try:
        first: bytes | None = None
        if tls != "disable":
            await conn.send(SSL_REQUEST)
            answer = await conn.first_byte(clock, sniff)
            if answer == b"S":
                evidence["tls_offered"] = True
                try:
                    async with asyncio.timeout(clock.remaining):
                        await writer.start_tls(insecure_context(), server_hostname=name)
                except (OSError, TimeoutError, ssl.SSLError) as exc:
                    raise TlsFailure(exc, clock.timeout) from exc
                evidence["tls"] = True
                tls_info = writer.get_extra_info("ssl_object")
                if tls_info is not None:
                    evidence["tls_version"] = tls_info.version()
            elif answer == b"N":
                evidence["tls_offered"] = False
                if tls == "require":
                    return Outcome.TLS_ERROR, f"{target}: the server does not offer TLS"
            elif answer == b"E":
                first = answer
            else:
                raise _NotPostgres(await conn.banner(answer, clock))
        if first is None:
            await conn.send(_startup(user, database or "postgres"))
            if tls == "disable":
                first = await conn.first_byte(clock, sniff)
        return await _authenticate(conn, clock, evidence, user, password, target, first)
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            writer.write(TERMINATE)
        await close_writer(writer)


async def _authenticate(
    conn: _Conn,
    clock: Clock,
    evidence: dict[str, Any],
    user: str,
    password: str | None,
    target: str,
    first: bytes | None,
) -> tuple[Outcome, str]:
    scram: _Scram | None = None
    asked: str | None = None
    authenticated = False
    while True:
        kind, body = await conn.message(clock, first)
        first = None
        if kind == ord("E"):
            return _server_error(body, evidence, target, asked, password)
        if kind == ord("R"):
            (code,) = struct.unpack("!i", body[:4])
            if code == 0:
                authenticated = True
                evidence["auth"] = asked or "trust"
                evidence["authenticated"] = True
                continue
            if code == 10:
                mechanisms = [clip(m, 40) for m in body[4:].split(b"\x00", 16)[:16] if m]
                evidence["sasl_mechanisms"] = mechanisms
                asked = "scram-sha-256" if "SCRAM-SHA-256" in mechanisms else "sasl"
            elif code in (11, 12):
                if scram is None:
                    raise ValueError("unexpected SASL message")
                if code == 11:
                    await conn.send(_packet(b"p", scram.final(body[4:].decode())))
                elif not scram.verify(body[4:].decode()):
                    return Outcome.ERROR, f"{target}: the server's SCRAM signature is wrong"
                continue
            else:
                asked = AUTH_METHODS.get(code, f"method {code}")
            evidence["auth"] = asked
            if password is None:
                return (
                    Outcome.AUTH_REQUIRED,
                    f"{target}: PostgreSQL asks {user} for a password ({asked}); none given",
                )
            if code == 3:
                await conn.send(_packet(b"p", password.encode() + b"\x00"))
            elif code == 5:
                await conn.send(_packet(b"p", _md5_password(user, password, body[4:8]) + b"\x00"))
            elif asked == "scram-sha-256":
                scram = _Scram(password)
                await conn.send(_packet(b"p", scram.first()))
            else:
                return (
                    Outcome.AUTH_REQUIRED,
                    f"{target}: PostgreSQL asks for {asked}, which the probe cannot do",
                )
            continue
        if kind == ord("S"):
            key, _, value = body.partition(b"\x00")
            if key == b"server_version":
                evidence["server_version"] = clip(value.rstrip(b"\x00"), 80)
            continue
        if kind == ord("Z"):
            if not authenticated:
                raise ValueError("ReadyForQuery before authentication")
            version = evidence.get("server_version")
            how = evidence["auth"]
            over = "TLS" if evidence["tls"] else "plain text"
            who = f"PostgreSQL {version}" if version else "PostgreSQL"
            return Outcome.OK, f"{target}: {who}, in as {user} ({how}, {over})"


def _server_error(
    body: bytes, evidence: dict[str, Any], target: str, asked: str | None, password: str | None
) -> tuple[Outcome, str]:
    fields = _error_fields(body)
    message = fields.get("M", "error")
    code = fields.get("C", "")
    evidence["server_error"] = message
    evidence["sqlstate"] = code or None
    if code == "28P01" or (code == "28000" and asked is not None):
        what = "refused the password" if password is not None else "refused the login"
        return Outcome.AUTH_REQUIRED, f"{target}: PostgreSQL {what}: {message}"
    if code == "28000":
        return Outcome.AUTH_REQUIRED, f"{target}: PostgreSQL does not let this login in: {message}"
    return Outcome.ERROR, f"{target}: PostgreSQL says: {message}"
