"""PostgreSQL's opening exchange (protocol 3.0), enough for `psql -c 'select 1'`.

SSLRequest and GSSENCRequest answered `N` (or `S` and a TLS handshake with `lab.tls`), then
trust, or password authentication when the service has a password (`password:` or
`lab.auth`): SCRAM-SHA-256 as Render's and Railway's PostgreSQL ask for it (MD5 with
`Peer.pg_auth = "md5"`), checked, with ErrorResponse 28P01 on a wrong one; a wrong user is
28P01 too, an unknown database 3D000; then ParameterStatus, BackendKeyData, ReadyForQuery, and
simple queries `SELECT <integer>`, `SELECT version()` and the empty query.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from pnet.lab.peers.base import Peer, delay

PG_MAX_MESSAGE = 1024 * 1024
PG_MAX_MESSAGES = 10_000
PG_IDLE_S = 60.0
PG_VERSION = "16.4"
SCRAM_ITERATIONS = 4096

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
    await delay(peer)
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
