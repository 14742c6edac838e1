"""HTTP: one GET over a connection of its own, with redirects, phase timings and a hard deadline.

With `address`, the request goes to that IP while the `Host` header (and, for https, the TLS
server name) stay the URL's name: the way to ask one instance of a service. Redirects are
followed by the probe itself (at most `max_redirects`; one that comes back to a URL already
seen is a "redirect loop"); a redirect to the same host keeps the pinned address. The whole
exchange, body included, ends by `timeout`, however slowly the server drips. The body is read
up to `body_limit` bytes and then dropped.

Outcomes: ok (< 400), http-status (>= 400), refused, timeout, unreachable, tls-error (the
handshake fails or never finishes, e.g. a plain-text server behind an https URL),
protocol-error (not HTTP: garbage, HTTP/0.9 noise, a close mid-header, a TLS server behind an
http URL, which the detail names; evidence `banner` holds the first bytes), nxdomain (no
`address` and the URL's name does not resolve), error (a URL the probe cannot ask).
Proxy variables are ignored: a private address is asked directly.

HTTP/1.1 is spoken with h11 over an asyncio connection: no client, pool or task group per
probe, so a sweep of a thousand services spends its time on the sockets.
"""

from __future__ import annotations

import asyncio
import http
import ssl
import time
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import h11

from pnet.secrets import mask_text

from ._net import (
    Clock,
    classify_oserror,
    clip,
    describe_exception,
    escape_bytes,
    hostport,
    insecure_context,
    ip_family,
    result,
    unaskable,
)
from .result import Outcome, ProbeResult

KIND = "http"
USER_AGENT = "pnet-probe/0.1"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
READ_SIZE = 65536
BANNER = 128

_contexts: dict[bool, ssl.SSLContext] = {}


def _ssl_context(verify: bool) -> ssl.SSLContext:
    if verify not in _contexts:
        _contexts[verify] = ssl.create_default_context() if verify else insecure_context()
    return _contexts[verify]


_PHASE_WORDS = {
    "connect": "connecting",
    "tls": "the TLS handshake",
    "request": "sending the request",
    "first_byte": "waiting for the response headers",
    "body": "reading the body",
}


class _Phases:
    """When each phase of the exchange started and how long it took (ms)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.current: str | None = None
        self._started = 0.0

    def reset(self) -> None:
        self.timings.clear()
        self.current = None

    def start(self, name: str) -> None:
        self.current = name
        self._started = time.perf_counter()

    def done(self) -> None:
        if self.current is not None:
            self.timings[self.current] = round((time.perf_counter() - self._started) * 1000.0, 2)
        self.current = None


class _Url:
    """A parsed http(s) URL: scheme, host (no brackets), port (None when default), target."""

    def __init__(self, text: str) -> None:
        parts = urlsplit(text)
        self.parts: SplitResult = parts
        self.scheme = parts.scheme.lower()
        self.host = parts.hostname or ""
        self.port = parts.port
        path = parts.path or "/"
        self.target = path + (f"?{parts.query}" if parts.query else "")
        self.text = text

    @property
    def effective_port(self) -> int:
        return self.port or (443 if self.scheme == "https" else 80)

    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.effective_port

    def join(self, location: str) -> _Url:
        return _Url(urljoin(self.text, location))

    def __str__(self) -> str:
        return self.text


def _host_header(url: _Url) -> str:
    bracketed = f"[{url.host}]" if ":" in url.host else url.host
    default = {"http": 80, "https": 443}.get(url.scheme)
    return bracketed if url.port in (None, default) else f"{bracketed}:{url.port}"


class _NotHttp(Exception):
    """The peer's bytes are not an HTTP response (h11's verdict), or it closed too early."""


class _Lost(Exception):
    """The connection broke while sending or receiving."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(describe_exception(cause))
        self.cause = cause


class _TlsFailed(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(describe_exception(cause))
        self.cause = cause


class _Exchange:
    """One request and its response on a connection of its own."""

    def __init__(self, phases: _Phases, first: bytearray) -> None:
        self.phases = phases
        self.first = first
        self.writer: asyncio.StreamWriter | None = None
        self.reader: asyncio.StreamReader | None = None
        self.conn = h11.Connection(h11.CLIENT)
        self.tls: ssl.SSLObject | None = None

    async def open(self, url: _Url, address: str | None, verify: bool) -> None:
        host = address or url.host
        self.phases.start("connect")
        try:
            self.reader, self.writer = await asyncio.open_connection(
                host, url.effective_port, limit=READ_SIZE
            )
        except OSError as exc:
            raise _Lost(exc) from exc
        self.phases.done()
        if url.scheme == "https":
            self.phases.start("tls")
            name = url.host if ip_family(url.host) is None else None
            try:
                await self.writer.start_tls(_ssl_context(verify), server_hostname=name)
            except (OSError, ssl.SSLError, EOFError) as exc:
                raise _TlsFailed(exc) from exc
            self.phases.done()
            ssl_object = self.writer.get_extra_info("ssl_object")
            self.tls = ssl_object if isinstance(ssl_object, ssl.SSLObject) else None

    async def request(self, url: _Url, headers: list[tuple[str, str]]) -> h11.Response:
        assert self.writer is not None and self.reader is not None
        self.phases.start("request")
        data = self.conn.send(h11.Request(method="GET", target=url.target, headers=headers))
        data = (data or b"") + (self.conn.send(h11.EndOfMessage()) or b"")
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError as exc:
            raise _Lost(exc) from exc
        self.phases.done()
        self.phases.start("first_byte")
        event = await self._next()
        while isinstance(event, h11.InformationalResponse):
            event = await self._next()
        if not isinstance(event, h11.Response):
            raise _NotHttp("the server closed the connection before a response")
        self.phases.done()
        return event

    async def body(self, limit: int, head: bytearray) -> tuple[int, bool]:
        """Read the body up to `limit` bytes: (bytes read, truncated)."""
        self.phases.start("body")
        received = 0
        while True:
            event = await self._next()
            if isinstance(event, h11.Data):
                chunk = bytes(event.data)
                if len(head) < 160:
                    head += chunk[: 160 - len(head)]
                received += len(chunk)
                if received >= limit:
                    self.phases.done()
                    return limit, True
            elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                self.phases.done()
                return received, False

    async def _next(self) -> Any:
        assert self.reader is not None
        while True:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise _NotHttp(describe_exception(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            try:
                data = await self.reader.read(READ_SIZE)
            except OSError as exc:
                raise _Lost(exc) from exc
            if len(self.first) < BANNER:
                self.first += data[: BANNER - len(self.first)]
            self.conn.receive_data(data)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
            self.writer = None


async def _speaks_tls(host: str, port: int, server_name: str, budget: float) -> bool:
    """Whether a TLS handshake succeeds at host:port within budget seconds."""
    if budget <= 0.05:
        return False
    try:
        async with asyncio.timeout(budget):
            _, writer = await asyncio.open_connection(
                host,
                port,
                ssl=_ssl_context(False),
                server_hostname=server_name if ip_family(server_name) is None else None,
            )
    except (OSError, TimeoutError, ssl.SSLError):
        return False
    writer.transport.abort()
    return True


def _failure(exc: BaseException, phase: str | None, timeout: float) -> tuple[Outcome, str]:
    """Outcome and detail for an exception raised while in phase."""
    where = _PHASE_WORDS.get(phase or "", "the exchange")
    if isinstance(exc, TimeoutError):
        if phase == "tls":
            return Outcome.TLS_ERROR, f"the TLS handshake did not finish within {timeout:g} s"
        if phase in (None, "connect"):
            return Outcome.TIMEOUT, f"no answer within {timeout:g} s while connecting"
        return Outcome.TIMEOUT, f"timed out after {timeout:g} s {where}"
    if isinstance(exc, _TlsFailed):
        return Outcome.TLS_ERROR, f"TLS handshake failed: {describe_exception(exc.cause)}"
    if isinstance(exc, _Lost) and phase == "connect":
        cause = exc.cause
        outcome = classify_oserror(cause)
        if outcome is Outcome.REFUSED:
            return outcome, "connection refused (nothing listens on that port)"
        if outcome is Outcome.ERROR:
            outcome = Outcome.UNREACHABLE
        return outcome, f"cannot connect: {describe_exception(cause)}"
    if isinstance(exc, _Lost):
        return Outcome.PROTOCOL_ERROR, (
            f"not a valid HTTP response: connection lost {where}: {describe_exception(exc.cause)}"
        )
    if isinstance(exc, _NotHttp):
        return Outcome.PROTOCOL_ERROR, f"not a valid HTTP response: {exc}"
    if isinstance(exc, h11.LocalProtocolError):
        return Outcome.ERROR, f"cannot ask this URL: {describe_exception(exc)}"
    if isinstance(exc, ssl.SSLError):
        return Outcome.TLS_ERROR, f"TLS failed: {describe_exception(exc)}"
    if isinstance(exc, OSError):
        return classify_oserror(exc), describe_exception(exc)
    return Outcome.ERROR, f"{type(exc).__name__}: {describe_exception(exc)}"


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _header(response: h11.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _parse(url: str) -> _Url | str:
    """The URL, or why it cannot be asked."""
    try:
        parsed = _Url(url)
    except (TypeError, ValueError) as exc:
        return f"not a URL: {describe_exception(exc)}"
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return f"not an http(s) URL: {mask_text(url)}"
    return parsed


async def get(
    url: str,
    *,
    address: str | None = None,
    timeout: float = 5.0,  # noqa: ASYNC109
    max_redirects: int = 5,
    verify: bool = False,
    body_limit: int = 65536,
    headers: dict[str, str] | None = None,
) -> ProbeResult:
    """GET url (kind "http"; evidence status, http_version, timings, location, server, redirects,
    chain, body_bytes, truncated, address, url)."""
    clock = Clock(timeout)
    shown = mask_text(url)
    key = f"{KIND}:{shown}" + (f"@{address}" if address else "")
    evidence: dict[str, Any] = {
        "status": None,
        "http_version": None,
        "timings": {},
        "location": None,
        "server": None,
        "redirects": 0,
        "body_bytes": 0,
        "address": address,
    }
    phases = _Phases()

    def done(outcome: Outcome, detail: str) -> ProbeResult:
        evidence["timings"] = dict(phases.timings, total=round(clock.elapsed_ms, 2))
        r = result(KIND, shown, outcome, clock, detail, evidence)
        return ProbeResult(r.kind, r.target, r.outcome, r.elapsed_ms, r.detail, r.evidence, key)

    parsed = _parse(url)
    if isinstance(parsed, str):
        return done(Outcome.ERROR, parsed)
    current = parsed
    try:
        problem = unaskable(address or current.host, current.port or 443)
    except ValueError as exc:
        problem = describe_exception(exc)
    if problem:
        return done(Outcome.ERROR, f"{shown}: {problem}")
    origin, pin = current.origin(), address
    seen: set[str] = set()
    chain: list[dict[str, Any]] = []
    head = bytearray()
    first = bytearray()
    exchange: _Exchange | None = None
    extra = [("User-Agent", USER_AGENT), *(headers or {}).items()]
    try:
        async with asyncio.timeout(clock.remaining):
            while True:
                phases.reset()
                first.clear()
                seen.add(f"{current}@{pin}")
                exchange = _Exchange(phases, first)
                await exchange.open(current, pin, verify)
                response = await exchange.request(
                    current, [("Host", _host_header(current)), *extra]
                )
                status = response.status_code
                location = _header(response, b"location")
                evidence.update(
                    status=status,
                    http_version=f"HTTP/{bytes(response.http_version).decode()}",
                    server=clip(_header(response, b"server") or "", 200) or None,
                    location=mask_text(clip(location)) if location else None,
                    content_type=clip(_header(response, b"content-type") or "", 200) or None,
                    url=mask_text(str(current)),
                )
                if exchange.tls is not None:
                    evidence["tls_version"] = exchange.tls.version()
                    evidence["tls_server_name"] = exchange.tls.server_hostname
                if status in REDIRECT_STATUSES and location and max_redirects > 0:
                    exchange.close()
                    nxt = current.join(location)
                    chain.append({"status": status, "location": mask_text(clip(str(nxt)))})
                    evidence.update(redirects=len(chain), chain=chain)
                    pin = pin if nxt.origin() == origin else None
                    if f"{nxt}@{pin}" in seen:
                        return done(
                            Outcome.PROTOCOL_ERROR,
                            f"{shown}: redirect loop: {mask_text(clip(str(nxt)))} again after "
                            f"{len(chain)} redirect{'s' if len(chain) > 1 else ''}",
                        )
                    if len(chain) > max_redirects:
                        return done(
                            Outcome.PROTOCOL_ERROR,
                            f"{shown}: more than {max_redirects} redirects (to "
                            f"{mask_text(clip(str(nxt)))})",
                        )
                    if isinstance(_parse(str(nxt)), str):
                        return done(
                            Outcome.ERROR,
                            f"{shown}: cannot follow the redirect to {mask_text(clip(str(nxt)))}",
                        )
                    current = nxt
                    continue
                received, truncated = await exchange.body(body_limit, head)
                if truncated:
                    evidence["truncated"] = True
                evidence["body_bytes"] = received
                break
    except (Exception, TimeoutError) as exc:
        if exchange is not None:
            exchange.close()
        phase = phases.current
        outcome, detail = _failure(exc, phase, timeout)
        evidence["phase"] = phase
        if outcome is Outcome.PROTOCOL_ERROR and first:
            banner = bytes(first)
            evidence["banner"] = escape_bytes(banner)
            if not banner.startswith(b"HTTP/"):
                detail = f"the server sent something that is not HTTP: {escape_bytes(banner, 60)}"
        if (
            outcome is Outcome.PROTOCOL_ERROR
            and current.scheme == "http"
            and evidence["status"] is None
        ):
            host = pin or current.host
            port = current.effective_port
            if await _speaks_tls(host, port, current.host, min(1.0, clock.remaining)):
                evidence["speaks_tls"] = True
                detail = f"{hostport(host, port)} speaks TLS, not plain HTTP: use https://"
        return done(outcome, f"{shown}: {detail}")
    finally:
        if exchange is not None:
            exchange.close()
    status = int(evidence["status"])
    hops = f" after {len(chain)} redirect{'s' if len(chain) > 1 else ''}" if chain else ""
    summary = f"{status} {_reason(status)}".strip()
    if status >= 400:
        snippet = mask_text(head.decode("utf-8", "replace").strip().splitlines()[0]) if head else ""
        if snippet:
            evidence["body_head"] = snippet[:120]
        return done(Outcome.HTTP_STATUS, f"{shown}: {summary}{hops}")
    return done(Outcome.OK, f"{shown}: {summary}{hops}")
