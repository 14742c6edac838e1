"""Misbehaving peers (`lab.protocol`), and the plain `tcp` banner.

- `drip`: an HTTP response, one byte a second.
- `endless-body`: HTTP 200 with a chunked body that never ends (capped at 1 GiB).
- `close-mid-header`: half a status line and header, then the connection closes.
- `http09`: bytes with no status line (an HTTP/0.9 style or non-HTTP server), then close.
- `tls-stall`: accepts and reads the ClientHello, never answers.
- `silent`: accepts, never says anything.
- `tcp`: a one-line banner, then reads until the client closes.

Every loop is bounded in count and time.
"""

from __future__ import annotations

import asyncio
import contextlib

from pnet.lab.peers.base import HOSTILE_MAX_S, Peer, delay, drain_until_eof
from pnet.lab.peers.http import HTTP_IDLE_S, BadRequest, read_request

DRIP_INTERVAL_S = 1.0
ENDLESS_CHUNK = 16 * 1024
ENDLESS_MAX_BYTES = 1024**3
DRIP_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    b"Connection: close\r\n\r\ndrip\n"
)


async def serve_drip(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    drain = asyncio.ensure_future(drain_until_eof(reader, HOSTILE_MAX_S))
    try:
        await delay(peer)
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
    await delay(peer)
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
    await delay(peer)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/pl")
    await writer.drain()


async def serve_http09(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    with contextlib.suppress(TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        async with asyncio.timeout(2.0):
            await reader.readuntil(b"\r\n\r\n")
    await delay(peer)
    writer.write(f"{peer.service} {peer.instance}: no status line here\n".encode())
    await writer.drain()


async def serve_silent(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    del peer, writer
    await drain_until_eof(reader, HOSTILE_MAX_S)


async def serve_tcp(peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await delay(peer)
    writer.write(f"pnet-lab {peer.service} {peer.instance} ready\r\n".encode())
    await writer.drain()
    await drain_until_eof(reader, HOSTILE_MAX_S)
