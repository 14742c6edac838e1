"""TCP: does anything accept a connection on host:port.

`host` is an IP literal, or a name resolved with the system resolver (getaddrinfo), as a
program inside an instance would. Every address of a name is tried in turn until one accepts
or the time is up. The socket is always closed.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from ._net import (
    Clock,
    classify_oserror,
    describe_exception,
    hostport,
    ip_family,
    result,
    unaskable,
)
from .result import Outcome, ProbeResult

KIND = "tcp"


async def _addresses(host: str, port: int, clock: Clock) -> list[tuple[int, str]]:
    family = ip_family(host)
    if family is not None:
        return [(family, host)]
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(clock.remaining):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[tuple[int, str]] = []
    for fam, _, _, _, sockaddr in infos:
        entry = (6 if fam == socket.AF_INET6 else 4, str(sockaddr[0]))
        if entry not in seen:
            seen.append(entry)
    return seen


async def _connect_one(family: int, address: str, port: int, clock: Clock) -> str:
    """Connect once and close; the local address:port. Raises the OSError or TimeoutError."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        async with asyncio.timeout(clock.remaining):
            await loop.sock_connect(sock, (address, port))
        local = sock.getsockname()
        return hostport(str(local[0]), int(local[1]))
    finally:
        sock.close()


async def connect(host: str, port: int, *, timeout: float = 2.0) -> ProbeResult:  # noqa: ASYNC109
    """Open and close a TCP connection (kind "tcp"; evidence address, port, family, local)."""
    clock = Clock(timeout)
    target = hostport(host, port)
    evidence: dict[str, Any] = {"address": None, "port": port, "family": ip_family(host)}
    problem = unaskable(host, port)
    if problem:
        return result(KIND, target, Outcome.ERROR, clock, f"{target}: {problem}", evidence)
    try:
        addresses = await _addresses(host, port, clock)
    except (OSError, TimeoutError) as exc:
        outcome = classify_oserror(exc)
        if outcome is Outcome.ERROR:
            outcome = Outcome.NXDOMAIN if isinstance(exc, socket.gaierror) else outcome
        return result(KIND, target, outcome, clock, f"{host}: {describe_exception(exc)}", evidence)
    attempts: list[dict[str, Any]] = []
    last: BaseException | None = None
    for family, address in addresses:
        evidence.update(address=address, family=family)
        try:
            local = await _connect_one(family, address, port, clock)
        except (OSError, TimeoutError) as exc:
            last = exc
            attempts.append({"address": address, "outcome": str(classify_oserror(exc))})
            if clock.remaining <= 0:
                break
            continue
        evidence["local"] = local
        if len(addresses) > 1:
            evidence["tried"] = [*attempts, {"address": address, "outcome": "ok"}]
        return result(
            KIND, target, Outcome.OK, clock, f"{hostport(address, port)} accepts", evidence
        )
    if len(addresses) > 1:
        evidence["tried"] = attempts
    assert last is not None
    outcome = classify_oserror(last)
    where = hostport(str(evidence["address"]), port)
    if outcome is Outcome.REFUSED:
        detail = f"{where}: connection refused (nothing listens on that port)"
    elif outcome is Outcome.TIMEOUT:
        detail = f"{where}: no answer within {clock.timeout:g} s (SYN unanswered)"
    elif outcome is Outcome.UNREACHABLE:
        detail = f"{where}: unreachable ({describe_exception(last)})"
    else:
        detail = f"{where}: {describe_exception(last)}"
    return result(KIND, target, outcome, clock, detail, evidence)
