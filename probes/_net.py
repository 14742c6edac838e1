"""Shared pieces of the socket probes: clocks, address formatting, error classification."""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any

from pnet.secrets import MASK, mask_text

from .result import Outcome, ProbeResult

UNREACHABLE_ERRNOS = frozenset(
    {
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.EADDRNOTAVAIL,
        errno.EHOSTDOWN,
        errno.ENETDOWN,
        errno.EAFNOSUPPORT,
        errno.EPERM,
        errno.EACCES,
    }
)


class Clock:
    """Monotonic stopwatch and deadline for one probe."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started = time.perf_counter()

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    @property
    def remaining(self) -> float:
        return max(0.0, self.timeout - (time.perf_counter() - self.started))


@functools.lru_cache(maxsize=8192)
def ip_family(host: str) -> int | None:
    """4 or 6 for an IP literal, None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).version
    except ValueError:
        return None


def unaskable(host: str, port: int) -> str | None:
    """Why host:port cannot be asked at all (a usage problem, not a network outcome), or None."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        return f"port {port!r} is not between 1 and 65535"
    if not host:
        return "no host given"
    if ip_family(host) is None:
        try:
            ascii_name = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            return f"{host[:40]!r} is not a valid host name ({describe_exception(exc)})"
        if not _HOSTNAME.match(ascii_name):
            return f"{host[:40]!r} is not a valid host name"
    return None


_HOSTNAME = re.compile(
    r"^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$"
)


def hostport(host: str, port: int) -> str:
    """`host:port`, with IPv6 literals in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def escape_bytes(data: bytes, limit: int = 80) -> str:
    """Printable, escaped form of the first bytes a peer sent (`HTTP/1.1 400 Bad\\r\\n`)."""
    text = repr(bytes(data[:limit]))[2:-1]
    return text + ("…" if len(data) > limit else "")


def redact(text: str, *secrets: str | None) -> str:
    """Mask URL credentials and any of the given secret strings in text."""
    out = mask_text(text)
    for secret in secrets:
        if secret:
            out = out.replace(secret, MASK)
    return out


PEER_TEXT = 512
"""What a peer wrote (an error message, a reply, a header) is cut to this many characters
before anything else reads it: a hostile peer cannot make pnet's output, or the masking of
it, as long as it likes."""


def clip(text: str | bytes, limit: int = PEER_TEXT) -> str:
    """A peer's text, at most `limit` characters (bytes decoded leniently, cut before)."""
    if isinstance(text, bytes | bytearray):
        text = bytes(text[: limit * 4]).decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """One line for an exception: its message (cut to PEER_TEXT), or its type."""
    text = clip(str(exc), PEER_TEXT * 4).strip()
    text = text.splitlines()[0] if text else ""
    return clip(text) or type(exc).__name__


def classify_oserror(exc: BaseException) -> Outcome:
    """Map a connect/read failure onto a probe outcome."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return Outcome.TIMEOUT
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Outcome.TLS_ERROR
    if isinstance(exc, socket.gaierror):
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
            return Outcome.NXDOMAIN
        if exc.errno == socket.EAI_AGAIN:
            return Outcome.SERVFAIL
        return Outcome.ERROR
    if isinstance(exc, ConnectionRefusedError):
        return Outcome.REFUSED
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return Outcome.PROTOCOL_ERROR
    if isinstance(exc, OSError):
        if exc.errno == errno.ECONNREFUSED:
            return Outcome.REFUSED
        if exc.errno == errno.ETIMEDOUT:
            return Outcome.TIMEOUT
        if exc.errno in UNREACHABLE_ERRNOS:
            return Outcome.UNREACHABLE
    return Outcome.ERROR


def oserror_detail(exc: BaseException, what: str) -> str:
    """A human line for a failure to reach `what`."""
    outcome = classify_oserror(exc)
    if outcome is Outcome.REFUSED:
        return f"{what}: connection refused (nothing listens on that port)"
    if outcome is Outcome.TIMEOUT:
        return f"{what}: no answer in time"
    if outcome is Outcome.UNREACHABLE:
        return f"{what}: unreachable ({describe_exception(exc)})"
    if outcome is Outcome.NXDOMAIN:
        return f"{what}: the name does not resolve"
    return f"{what}: {describe_exception(exc)}"


def result(
    kind: str,
    target: str,
    outcome: Outcome,
    clock: Clock,
    detail: str,
    evidence: Mapping[str, Any] | None = None,
) -> ProbeResult:
    """A ProbeResult timed by clock, with the default key `kind:target`."""
    return ProbeResult(
        kind=kind,
        target=target,
        outcome=outcome,
        elapsed_ms=clock.elapsed_ms,
        detail=detail,
        evidence=dict(evidence or {}),
        key=f"{kind}:{target}",
    )


def insecure_context() -> ssl.SSLContext:
    """A client TLS context that does not verify (probes ask whether TLS works, not who it is)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def open_stream(
    host: str,
    port: int,
    clock: Clock,
    *,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect (and handshake TLS when a context is given) within the clock's remaining time."""
    async with asyncio.timeout(clock.remaining):
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 16)
    if tls is None:
        return reader, writer
    try:
        async with asyncio.timeout(clock.remaining):
            await writer.start_tls(tls, server_hostname=server_hostname or None)
    except (OSError, TimeoutError, ssl.SSLError, EOFError) as exc:
        writer.transport.abort()
        raise TlsFailure(exc, clock.timeout) from exc
    except BaseException:
        writer.transport.abort()
        raise
    return reader, writer


class TlsFailure(Exception):
    """The TCP connection worked, the TLS handshake did not."""

    def __init__(self, cause: BaseException, timeout: float) -> None:
        if isinstance(cause, TimeoutError):
            text = f"the TLS handshake did not finish within {timeout:g} s"
        elif isinstance(cause, ConnectionResetError | EOFError | BrokenPipeError):
            text = "the server closed the connection during the TLS handshake (no TLS there?)"
        else:
            text = f"TLS handshake failed: {describe_exception(cause)}"
        super().__init__(text)
        self.cause = cause


async def close_writer(writer: asyncio.StreamWriter) -> None:
    """Close a stream and wait briefly for it; never raises."""
    try:
        writer.close()
        async with asyncio.timeout(0.5):
            await writer.wait_closed()
    except (OSError, TimeoutError, ssl.SSLError, RuntimeError):
        writer.transport.abort()
    except BaseException:
        writer.transport.abort()
        raise
