"""HTTP: one GET through httpx, with redirects, phase timings and a hard overall deadline.

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
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import replace
from typing import Any, ClassVar

import httpcore
import httpx

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

_contexts: dict[bool, ssl.SSLContext] = {}


def _ssl_context(verify: bool) -> ssl.SSLContext:
    if verify not in _contexts:
        _contexts[verify] = ssl.create_default_context() if verify else insecure_context()
    return _contexts[verify]


class _Recording(httpcore.AsyncNetworkStream):
    """A network stream that keeps the first bytes the server sent (for protocol errors)."""

    LIMIT = 128

    def __init__(self, inner: httpcore.AsyncNetworkStream, first: bytearray) -> None:
        self._inner = inner
        self.first = first

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        data = await self._inner.read(max_bytes, timeout)
        if len(self.first) < self.LIMIT:
            self.first += data[: self.LIMIT - len(self.first)]
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        return _Recording(inner, self.first)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _TrackingBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, remembering every stream so the probe can close them all.

    httpcore does not close the TCP stream when a TLS handshake is cancelled (the overall
    deadline); closing what was opened, at the end of each probe, leaves no socket behind.
    """

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()
        self.streams: list[httpcore.AsyncNetworkStream] = []
        self.first = bytearray()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner.connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        self.streams.append(stream)
        self.first.clear()
        return _Recording(stream, self.first)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def close_all(self) -> None:
        for stream in self.streams:
            try:
                await stream.aclose()
            except Exception:
                sock = stream.get_extra_info("socket")
                if sock is not None:
                    sock.close()
        self.streams.clear()


def _transport(verify: bool, backend: _TrackingBackend) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(verify=_ssl_context(verify), retries=0, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=_ssl_context(verify), retries=0, network_backend=backend
    )
    return transport


class _Phases:
    """Collects httpcore trace events: when each phase started and how long it took."""

    NAMES: ClassVar[dict[str, str]] = {
        "connect_tcp": "connect",
        "start_tls": "tls",
        "send_request_headers": "request",
        "send_request_body": "request",
        "receive_response_headers": "first_byte",
        "receive_response_body": "body",
    }

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.timings: dict[str, float] = {}
        self.current: str | None = None

    def reset(self) -> None:
        self.started.clear()
        self.timings.clear()
        self.current = None

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        step, _, state = event.rpartition(".")
        name = self.NAMES.get(step.rpartition(".")[2])
        if name is None:
            return
        now = time.perf_counter()
        if state == "started":
            self.started.setdefault(name, now)
            self.current = name
        elif state in ("complete", "failed") and name in self.started:
            self.timings[name] = round((now - self.started[name]) * 1000.0, 2)
            if state == "complete" and self.current == name:
                self.current = None

    def body_started(self) -> None:
        self.started.setdefault("body", time.perf_counter())
        self.current = "body"

    def body_done(self) -> None:
        if "body" in self.started:
            self.timings["body"] = round((time.perf_counter() - self.started["body"]) * 1000.0, 2)
        self.current = None


_PHASE_WORDS = {
    "connect": "connecting",
    "tls": "the TLS handshake",
    "request": "sending the request",
    "first_byte": "waiting for the response headers",
    "body": "reading the body",
}


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        nxt = exc.__cause__ or exc.__context__
        if nxt is None:
            break
        exc = nxt
    return exc


def _pinned(
    url: httpx.URL, address: str | None
) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL to send, extra headers, extensions: the IP in the URL, the name in Host and SNI."""
    if address is None:
        return url, {}, {}
    host = url.host
    default = {"http": 80, "https": 443}.get(url.scheme)
    bracketed = f"[{host}]" if ":" in host else host
    host_header = bracketed if url.port in (None, default) else f"{bracketed}:{url.port}"
    extensions: dict[str, Any] = {}
    if url.scheme == "https" and ip_family(host) is None:
        extensions["sni_hostname"] = host
    return url.copy_with(host=address), {"Host": host_header}, extensions


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


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
    cause = _root_cause(exc)
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        if phase == "tls":
            return Outcome.TLS_ERROR, f"the TLS handshake did not finish within {timeout:g} s"
        if phase in (None, "connect"):
            return Outcome.TIMEOUT, f"no answer within {timeout:g} s while connecting"
        return Outcome.TIMEOUT, f"timed out after {timeout:g} s {where}"
    if isinstance(exc, httpx.ConnectError):
        if phase == "tls" or isinstance(cause, ssl.SSLError):
            return Outcome.TLS_ERROR, f"TLS handshake failed: {describe_exception(cause)}"
        outcome = classify_oserror(cause)
        if outcome is Outcome.REFUSED:
            return outcome, "connection refused (nothing listens on that port)"
        if outcome is Outcome.ERROR:
            outcome = Outcome.UNREACHABLE if isinstance(cause, OSError) else Outcome.ERROR
        return outcome, f"cannot connect: {describe_exception(cause)}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        if phase == "tls":
            return Outcome.TLS_ERROR, f"TLS handshake failed: {describe_exception(cause)}"
        text = describe_exception(exc)
        if isinstance(exc, httpx.ReadError | httpx.WriteError):
            text = f"connection lost {where}: {describe_exception(cause)}"
        return Outcome.PROTOCOL_ERROR, f"not a valid HTTP response: {text}"
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return Outcome.ERROR, f"cannot ask this URL: {describe_exception(exc)}"
    if isinstance(exc, ssl.SSLError):
        return Outcome.TLS_ERROR, f"TLS failed: {describe_exception(exc)}"
    if isinstance(exc, OSError):
        return classify_oserror(exc), describe_exception(exc)
    return Outcome.ERROR, f"{type(exc).__name__}: {describe_exception(exc)}"


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

    def done(outcome: Outcome, detail: str) -> ProbeResult:
        evidence["timings"] = dict(phases.timings, total=round(clock.elapsed_ms, 2))
        return replace(result(KIND, shown, outcome, clock, detail, evidence), key=key)

    phases = _Phases()
    try:
        current = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        return done(Outcome.ERROR, f"not a URL: {describe_exception(exc)}")
    if current.scheme not in ("http", "https") or not current.host:
        return done(Outcome.ERROR, f"not an http(s) URL: {shown}")
    problem = unaskable(address or current.host, current.port or 443)
    if problem:
        return done(Outcome.ERROR, f"{shown}: {problem}")
    origin, pin = current, address
    seen: set[str] = set()
    chain: list[dict[str, Any]] = []
    head = b""
    backend = _TrackingBackend()
    client = httpx.AsyncClient(
        transport=_transport(verify, backend),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, **(headers or {})},
    )
    try:
        async with client, asyncio.timeout(clock.remaining):
            while True:
                phases.reset()
                seen.add(f"{current}@{pin}")
                send_url, extra, extensions = _pinned(current, pin)
                extensions["trace"] = phases
                request = client.build_request(
                    "GET", send_url, headers=extra, extensions=extensions
                )
                response = await client.send(request, stream=True)
                try:
                    status = response.status_code
                    location = response.headers.get("location")
                    server = response.headers.get("server")
                    content_type = response.headers.get("content-type")
                    evidence.update(
                        status=status,
                        http_version=response.http_version,
                        server=clip(server, 200) if server else None,
                        location=mask_text(clip(location)) if location else None,
                        content_type=clip(content_type, 200) if content_type else None,
                        url=mask_text(str(current)),
                    )
                    stream = response.extensions.get("network_stream")
                    tls_object = stream.get_extra_info("ssl_object") if stream else None
                    if tls_object is not None:
                        evidence["tls_version"] = tls_object.version()
                        evidence["tls_server_name"] = tls_object.server_hostname
                    if status in REDIRECT_STATUSES and location and max_redirects > 0:
                        nxt = current.join(location)
                        chain.append({"status": status, "location": mask_text(clip(str(nxt)))})
                        evidence.update(redirects=len(chain), chain=chain)
                        pin = pin if _same_origin(nxt, origin) else None
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
                        current = nxt
                        continue
                    phases.body_started()
                    received = 0
                    async for chunk in response.aiter_raw():
                        if len(head) < 160:
                            head += chunk[: 160 - len(head)]
                        received += len(chunk)
                        if received >= body_limit:
                            evidence["truncated"] = True
                            break
                    phases.body_done()
                    evidence["body_bytes"] = min(received, body_limit)
                finally:
                    await response.aclose()
                break
    except (Exception, TimeoutError) as exc:
        await backend.close_all()
        phase = phases.current
        outcome, detail = _failure(exc, phase, timeout)
        evidence["phase"] = phase
        if outcome is Outcome.PROTOCOL_ERROR and backend.first:
            banner = bytes(backend.first)
            evidence["banner"] = escape_bytes(banner)
            if not banner.startswith(b"HTTP/"):
                detail = f"the server sent something that is not HTTP: {escape_bytes(banner, 60)}"
        if (
            outcome is Outcome.PROTOCOL_ERROR
            and current.scheme == "http"
            and evidence["status"] is None
        ):
            host = pin or current.host
            port = current.port or 80
            if await _speaks_tls(host, port, current.host, min(1.0, clock.remaining)):
                evidence["speaks_tls"] = True
                detail = f"{hostport(host, port)} speaks TLS, not plain HTTP: use https://"
        return done(outcome, f"{shown}: {detail}")
    finally:
        await backend.close_all()
    status = int(evidence["status"])
    hops = f" after {len(chain)} redirect{'s' if len(chain) > 1 else ''}" if chain else ""
    summary = f"{status} {httpx.codes.get_reason_phrase(status)}".strip()
    if status >= 400:
        snippet = mask_text(head.decode("utf-8", "replace").strip().splitlines()[0]) if head else ""
        if snippet:
            evidence["body_head"] = snippet[:120]
        return done(Outcome.HTTP_STATUS, f"{shown}: {summary}{hops}")
    return done(Outcome.OK, f"{shown}: {summary}{hops}")
