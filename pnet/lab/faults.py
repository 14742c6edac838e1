"""What the lab serves instead of the truth: a fixture's `lab:` block, per service.

The faults are the lab's own concept, not the workspace's: the fixture loader reads them
beside the workspace (`pnet.sources.fixture.read`), and only the lab and the tests use them.
This module imports nothing of the lab, so reading a fixture does not load the lab.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

BINDS = ("any", "loopback", "ipv4", "ipv6")
PROTOCOLS = (
    "http",
    "tcp",
    "redis",
    "postgres",
    "drip",
    "endless-body",
    "redirect-loop",
    "close-mid-header",
    "http09",
    "tls-stall",
    "silent",
    "blackhole",
)


@dataclass(frozen=True)
class LabFaults:
    """One service's `lab:` block.

    listen: ports served instead of the service's own; bind: what the app binds (`any`,
    `loopback`, `ipv4`, `ipv6`); down: instances that do not answer; http_status: what every
    HTTP request answers; delay_ms: delay before each first byte; protocol: what is spoken
    (see PROTOCOLS); tls: serve TLS (self-signed); auth: the Redis / PostgreSQL password the
    server requires.
    """

    listen: tuple[int, ...] | None = None
    bind: str = "any"
    down: int = 0
    http_status: int | None = None
    delay_ms: int = 0
    protocol: str | None = None
    tls: bool = False
    auth: str | None = None


NO_FAULTS = LabFaults()

Faults = Mapping[str, LabFaults]
"""Service name -> its faults; a service not named serves the truth."""


def of(faults: Faults | None, service: str) -> LabFaults:
    """A service's faults, or none (the defaults) when the fixture gives none."""
    if faults is None:
        return NO_FAULTS
    return faults.get(service, NO_FAULTS)
