"""The platform APIs served for real on loopback: HTTPS with a test CA, behind a CONNECT proxy.

`FakeApis` runs, in a thread of its own, one TLS server holding a certificate for
`api.render.com` and `backboard.railway.com` (signed by a CA the tests make) and an HTTP
proxy that answers `CONNECT api.render.com:443` by tunnelling to it, as a corporate proxy
would. A client reaches it the way a person behind a proxy does, with nothing but
`HTTPS_PROXY` and `SSL_CERT_FILE` (`FakeApis.env`). Each request is routed by its Host
header to a handler (tests.apifake.render, tests.apifake.railway) and recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

RENDER_HOST = "api.render.com"
RAILWAY_HOST = "backboard.railway.com"
MAX_HEAD = 64 * 1024
MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class ApiCa:
    """A CA and a server certificate it signed for the platforms' API hosts."""

    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


def make_ca(folder: Path, openssl: str = "openssl") -> ApiCa:
    """A throwaway CA (`ca.pem`) and a certificate for both API hosts signed by it."""
    ca_key, ca = folder / "ca.key", folder / "ca.pem"
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    ext = folder / "server.ext"
    ext.write_text(
        f"subjectAltName=DNS:{RENDER_HOST},DNS:{RAILWAY_HOST}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )

    def quiet(args: list[str]) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=60)

    quiet(
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(ca_key), "-out", str(ca), "-subj", "/CN=pnet test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash",
        ]
    )  # fmt: skip
    quiet(
        [
            openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
            "-out", str(csr), "-subj", f"/CN={RENDER_HOST}",
        ]
    )  # fmt: skip
    quiet(
        [
            openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "2", "-out", str(cert), "-extfile", str(ext),
        ]
    )  # fmt: skip
    return ApiCa(ca, cert, key)


@dataclass(frozen=True)
class Request:
    method: str
    host: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            payload, kind = self.body, "text/plain"
        elif isinstance(self.body, str):
            payload, kind = self.body.encode(), "text/html"
        else:
            payload, kind = json.dumps(self.body).encode(), "application/json; charset=utf-8"
        head = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Status')}"]
        head += [f"{k}: {v}" for k, v in self.headers]
        head += [f"Content-Type: {kind}", f"Content-Length: {len(payload)}", "", ""]
        return "\r\n".join(head).encode() + payload


REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

Handler = Callable[[Request], Response]


class FakeApis:
    """The fakes of Render's and Railway's APIs, served over HTTPS behind a CONNECT proxy."""

    def __init__(self, ca: ApiCa, handlers: dict[str, Handler]) -> None:
        self.ca = ca
        self.handlers = handlers
        self.requests: list[Request] = []
        self.connects: list[str] = []
        self.proxy_port = 0
        self.tls_port = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to reach the fakes: the proxy and the CA, nothing else."""
        return {
            "HTTPS_PROXY": f"http://127.0.0.1:{self.proxy_port}",
            "SSL_CERT_FILE": str(self.ca.ca),
            "NO_PROXY": "",
        }

    def seen(self, host: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if host is None or r.host == host]

    def __enter__(self) -> FakeApis:
        self._thread.start()
        done = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        done.result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _start(self) -> None:
        tls = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ca.server_context())
        proxy = await asyncio.start_server(self._proxy, "127.0.0.1", 0)
        self._servers = [tls, proxy]
        self.tls_port = tls.sockets[0].getsockname()[1]
        self.proxy_port = proxy.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        for server in self._servers:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ---- the proxy ---------------------------------------------------------------------

    async def _proxy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            method, target, _ = [*line.split(" "), "", ""][:3]
            host, _, port = target.rpartition(":")
            with self._lock:
                self.connects.append(target)
            if method != "CONNECT" or host not in self.handlers or port != "443":
                writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.tls_port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    # ---- the APIs ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                handler = self.handlers.get(request.host)
                if handler is None:
                    response = Response(404, {"message": f"no API at {request.host}"})
                else:
                    try:
                        response = handler(request)
                    except Exception as exc:  # a bug in a fake answers 500, visibly
                        response = Response(500, {"message": f"fake failed: {exc!r}"})
                if response.delay:
                    await asyncio.sleep(response.delay)
                writer.write(response.encode())
                await writer.drain()
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    if len(head) > MAX_HEAD:
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = [*lines[0].split(" "), "", ""][:3]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(min(length, MAX_BODY)) if length else b""
    url = urlsplit(target)
    return Request(
        method=method,
        host=headers.get("host", "").split(":")[0],
        path=url.path,
        query=dict(parse_qsl(url.query, keep_blank_values=True)),
        headers=headers,
        body=body,
    )


@contextlib.contextmanager
def serving(ca: ApiCa, handlers: dict[str, Handler]) -> Iterator[FakeApis]:
    with FakeApis(ca, handlers) as fake:
        yield fake
