"""Redis: is it Redis, and does it let us in (AUTH when a password is given, then PING).

Outcomes: ok (PONG), auth-required (NOAUTH: a password is needed and none was given; or the
credentials were refused: WRONGPASS, in evidence `error`), protocol-error (whatever answered
is not Redis: its first bytes are in evidence `banner`, escaped), refused, timeout,
unreachable, tls-error, error (Redis answered with another error: LOADING, DENIED...).
The password is never in the result: not in the detail, the evidence, or a banner echo.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from ._net import (
    Clock,
    TlsFailure,
    classify_oserror,
    clip,
    close_writer,
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

KIND = "redis"
_RESP_TYPES = b"+-:$*_,#%=(!|>~"
_MAX_LINE = 1 << 16


class _NotRedis(Exception):
    """The peer's bytes are not RESP."""


def _command(*parts: str) -> bytes:
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class _Replies:
    """Reads RESP2 replies (simple strings, errors, integers, bulk strings) from a stream."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buf = bytearray()
        self.first = bytearray()

    async def _fill(self) -> None:
        chunk = await self.reader.read(4096)
        if not chunk:
            raise EOFError
        if len(self.first) < 128:
            self.first += chunk[: 128 - len(self.first)]
        self.buf += chunk

    async def next(self) -> tuple[str, str]:
        while not self.buf:
            await self._fill()
        if self.buf[0] not in _RESP_TYPES:
            raise _NotRedis
        while b"\r\n" not in self.buf:
            if len(self.buf) > _MAX_LINE:
                raise _NotRedis
            await self._fill()
        line, _, rest = bytes(self.buf).partition(b"\r\n")
        self.buf = bytearray(rest)
        kind, body = chr(line[0]), clip(line[1:])
        if kind == "$":
            try:
                size = int(body)
            except ValueError as exc:
                raise _NotRedis from exc
            if size < 0:
                return kind, ""
            if size > _MAX_LINE:
                raise _NotRedis
            while len(self.buf) < size + 2:
                await self._fill()
            body = clip(bytes(self.buf[:size]))
            self.buf = self.buf[size + 2 :]
        return kind, body


def _looks_like(banner: bytes) -> str:
    if banner.startswith(b"HTTP/"):
        return "an HTTP server answered"
    if banner.startswith(b"SSH-"):
        return "an SSH server answered"
    if banner[:1] == b"E" and b"SFATAL" in banner:
        return "PostgreSQL answered"
    if banner[:1] in (b"\x15", b"\x16"):
        return "a TLS server answered (use rediss://)"
    return "the server answered"


async def ping(
    host: str,
    port: int,
    *,
    username: str | None = None,
    password: str | None = None,
    tls: bool = False,
    timeout: float = 2.0,  # noqa: ASYNC109
    server_hostname: str | None = None,
) -> ProbeResult:
    """AUTH (when a password is given) and PING (kind "redis"; evidence address, port, tls,
    reply, auth, error, banner, username)."""
    clock = Clock(timeout)
    target = hostport(host, port)
    evidence: dict[str, Any] = {
        "address": host,
        "port": port,
        "tls": tls,
        "reply": None,
        "auth": "sent" if password is not None else "none",
    }
    if username is not None:
        evidence["username"] = username

    def done(outcome: Outcome, detail: str) -> ProbeResult:
        for key in ("error", "banner"):
            if key in evidence:
                evidence[key] = redact(str(evidence[key]), password)
        return result(KIND, target, outcome, clock, redact(detail, password), evidence)

    problem = unaskable(host, port)
    if problem:
        return done(Outcome.ERROR, f"{target}: {problem}")
    name = server_hostname or (host if ip_family(host) is None else None)
    try:
        reader, writer = await open_stream(
            host, port, clock, tls=insecure_context() if tls else None, server_hostname=name
        )
    except TlsFailure as exc:
        return done(Outcome.TLS_ERROR, f"{target}: {exc}")
    except (OSError, TimeoutError) as exc:
        return done(classify_oserror(exc), oserror_detail(exc, target))
    replies = _Replies(reader)
    try:
        async with asyncio.timeout(clock.remaining):
            commands = []
            if password is not None:
                commands.append(
                    _command("AUTH", username, password) if username else _command("AUTH", password)
                )
            commands.append(_command("PING"))
            writer.write(b"".join(commands))
            await writer.drain()
            auth_reply = await replies.next() if password is not None else None
            ping_reply = await replies.next()
    except _NotRedis:
        banner = bytes(replies.first)
        evidence["banner"] = escape_bytes(banner)
        return done(Outcome.PROTOCOL_ERROR, f"{target}: {_looks_like(banner)}, not Redis")
    except EOFError:
        if replies.first:
            evidence["banner"] = escape_bytes(bytes(replies.first))
        return done(
            Outcome.PROTOCOL_ERROR,
            f"{target}: the server closed the connection without a Redis reply",
        )
    except TimeoutError:
        if replies.first:
            evidence["banner"] = escape_bytes(bytes(replies.first))
        return done(Outcome.TIMEOUT, f"{target}: connected, but no reply to PING in time")
    except ConnectionResetError:
        if replies.first:
            evidence["banner"] = escape_bytes(bytes(replies.first))
        hint = "" if tls else " (does it speak only TLS? try rediss://)"
        return done(
            Outcome.PROTOCOL_ERROR,
            f"{target}: the server reset the connection without a Redis reply{hint}",
        )
    except (OSError, ssl.SSLError) as exc:
        outcome = classify_oserror(exc)
        return done(
            Outcome.PROTOCOL_ERROR if outcome is Outcome.REFUSED else outcome,
            oserror_detail(exc, target),
        )
    finally:
        await close_writer(writer)
    return done(*_judge(target, auth_reply, ping_reply, evidence, username))


def _judge(
    target: str,
    auth: tuple[str, str] | None,
    pong: tuple[str, str],
    evidence: dict[str, Any],
    username: str | None,
) -> tuple[Outcome, str]:
    note = ""
    if auth is not None:
        kind, text = auth
        if kind == "+":
            evidence["auth"] = "ok"
            note = f" (authenticated as {username})" if username else " (authenticated)"
        elif "without any password configured" in text or "no password is set" in text:
            evidence["auth"] = "not-configured"
            note = " (the server has no password: AUTH was not needed)"
        elif kind == "-":
            evidence["auth"] = "refused"
            evidence["error"] = text
            code = text.split(" ", 1)[0]
            return Outcome.AUTH_REQUIRED, f"{target}: Redis refused the credentials ({code})"
    kind, text = pong
    if kind in "+$" and text.upper() == "PONG":
        evidence["reply"] = "PONG"
        return Outcome.OK, f"{target}: PONG{note}"
    if kind == "-":
        evidence["error"] = text
        code = text.split(" ", 1)[0]
        if code in ("NOAUTH", "WRONGPASS") or "Authentication required" in text:
            return Outcome.AUTH_REQUIRED, f"{target}: Redis asks for a password ({code})"
        return Outcome.ERROR, f"{target}: Redis answered {text}"
    evidence["reply"] = text
    return Outcome.PROTOCOL_ERROR, f"{target}: unexpected reply to PING: {text[:60]}"
