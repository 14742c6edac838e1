"""HTTP/1.1 as the lab serves it: a well-behaved service with keep-alive.

The health path answers 200, `/` answers 200 with a small JSON naming the service and
instance, other paths 404; with `lab.http_status` both answer that status instead, as an app
that is failing does everywhere. `redirect-loop` answers every request 302 to itself.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from email.utils import formatdate

from pnet.lab.peers.base import SERVER, Peer, delay

HTTP_IDLE_S = 30.0
HTTP_MAX_REQUESTS = 1000
HTTP_MAX_HEAD = 64 * 1024
HTTP_MAX_HEADERS = 100
HTTP_MAX_BODY = 1024 * 1024


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
        await delay(peer)
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
