"""What every lab peer shares: the listener it stands for, and the bounded waits."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pnet import __version__

if TYPE_CHECKING:
    from pnet.lab.peers.postgres import ScramSecret

HOSTILE_MAX_S = 300.0
SERVER = f"pnet-lab/{__version__}"


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


async def delay(peer: Peer) -> None:
    if peer.delay_s > 0:
        await asyncio.sleep(peer.delay_s)


async def drain_until_eof(reader: asyncio.StreamReader, limit_s: float) -> None:
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(limit_s):
            while await reader.read(65536):
                pass
