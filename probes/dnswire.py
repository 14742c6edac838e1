"""DNS on the wire, for a run that asks one nameserver many names (the sweep).

`Session` keeps one UDP socket per nameserver for the whole run (replies matched by id, at
most `Channel.IN_FLIGHT` questions waiting on a socket at once; one that cannot be sent within
its timeout is `overloaded`, not a timeout). `ask()` puts one A or AAAA
question to a given nameserver and reads the reply itself (header, question, answers,
CNAME chain, TTL), with the outcomes and words of `pnet.probes.dns`; it answers None for
what it leaves to dnspython: a truncated reply (the retry over TCP), a name that is not
plain ASCII. Nothing here imports dnspython, so a sweep does not load it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from ._net import Clock, hostport, ip_family, result
from .job import overloaded
from .result import Outcome, ProbeResult

RESOLV_CONF = "/etc/resolv.conf"
TYPES = {"A": 1, "AAAA": 28}
CNAME = 5
CLASS_IN = 1
RCODES = {1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
FAILURE_ORDER = (
    Outcome.NXDOMAIN,
    Outcome.SERVFAIL,
    Outcome.PROTOCOL_ERROR,
    Outcome.TIMEOUT,
    Outcome.NO_NAMESERVER,
    Outcome.ERROR,
)
MAX_CHAIN = 16
SHORT = "The DNS packet passed to from_wire() is too short."


@dataclass
class Family:
    """What one record type's question came back with."""

    rdtype: str
    outcome: Outcome
    addresses: list[str] = field(default_factory=list)
    ttl: int | None = None
    canonical: str | None = None
    why: str = ""


class Stray(Exception):
    """A datagram from the nameserver that answers no question asked on the socket."""


class Queued(Exception):
    """The question waited its whole timeout for a slot on the socket and was never sent."""


class Channel(asyncio.DatagramProtocol):
    """One connected UDP socket to a nameserver, shared by the questions of a session.

    At most `IN_FLIGHT` questions wait on it at once, so a burst does not overflow the
    receive buffer of either end (a dropped datagram would read as a timeout); a question that
    cannot get a slot within its timeout is never sent (`Queued`): the machine had too much to
    ask, which says nothing of the nameserver. A reply goes
    to the question of its id. A datagram too short to carry one, or whose id was never
    asked, says the server answers wrong: every question waiting on the socket fails with it
    (as a socket of its own would have). A late reply to a question that gave up is dropped.
    An ICMP error (nothing listens there) fails every waiting question with it.
    """

    SPENT = 4096
    IN_FLIGHT = 128
    RECEIVE_BUFFER = 1 << 20

    def __init__(self) -> None:
        self.gate = asyncio.Semaphore(self.IN_FLIGHT)
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: dict[int, asyncio.Future[bytes]] = {}
        self.spent: dict[int, None] = {}
        self.broken: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.RECEIVE_BUFFER)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        qid = int.from_bytes(data[:2], "big") if len(data) >= 12 else None
        waiting = self.pending.pop(qid, None) if qid is not None else None
        if waiting is not None:
            if not waiting.done():
                waiting.set_result(data)
            return
        if qid is not None and qid in self.spent:
            return
        self._fail(Stray(data))

    def error_received(self, exc: Exception) -> None:
        self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.broken = exc or ConnectionResetError("the socket was closed")
        self._fail(self.broken)

    def _fail(self, exc: BaseException) -> None:
        waiting, self.pending = self.pending, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(exc)

    def _spend(self, qid: int) -> None:
        self.spent[qid] = None
        if len(self.spent) > self.SPENT:
            del self.spent[next(iter(self.spent))]

    def _new_id(self) -> int:
        qid = random.getrandbits(16)
        while qid in self.pending:
            qid = random.getrandbits(16)
        return qid

    async def exchange(
        self,
        make: Callable[[int], bytes],
        timeout: float,  # noqa: ASYNC109
    ) -> tuple[int, bytes]:
        """Send the query `make(id)` and wait `timeout` for its reply: (id, reply).

        Raises Queued when no slot freed up within `timeout` (the question was never sent),
        TimeoutError when the reply did not come in time, Stray or an OSError."""
        try:
            async with asyncio.timeout(max(0.0, timeout)):
                await self.gate.acquire()
        except TimeoutError:
            raise Queued from None
        try:
            if self.transport is None or self.broken is not None:
                raise self.broken or ConnectionResetError("the socket is closed")
            qid = self._new_id()
            wire = make(qid)
            future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
            self.pending[qid] = future
            try:
                self.transport.sendto(wire)
                async with asyncio.timeout(max(0.0, timeout)):
                    return qid, await future
            finally:
                if self.pending.get(qid) is future:
                    del self.pending[qid]
                self._spend(qid)
        finally:
            self.gate.release()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class Session:
    """The sockets of one run: one UDP socket per nameserver, reused by every question, and
    whatever a resolver library builds once per configuration (`cache`). Close it at the end."""

    def __init__(self) -> None:
        self._channels: dict[tuple[str, int], asyncio.Task[Channel]] = {}
        self.cache: dict[Any, Any] = {}
        self.closed = False

    async def channel(self, address: str, port: int) -> Channel:
        key = (address, port)
        task = self._channels.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.ensure_future(self._open(address, port))
            self._channels[key] = task
        channel = await asyncio.shield(task)
        if channel.broken is not None:
            if self._channels.get(key) is task:
                del self._channels[key]
            return await self.channel(address, port)
        return channel

    async def _open(self, address: str, port: int) -> Channel:
        if self.closed:
            raise ConnectionResetError("the DNS session is closed")
        loop = asyncio.get_running_loop()
        _, channel = await loop.create_datagram_endpoint(
            Channel,
            remote_addr=(address, port),
            family=socket.AF_INET6 if ip_family(address) == 6 else socket.AF_INET,
        )
        return channel

    async def close(self) -> None:
        self.closed = True
        tasks = list(self._channels.values())
        self._channels.clear()
        for task in tasks:
            task.cancel()
        for channel in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(channel, Channel):
                channel.close()
        await asyncio.sleep(0)


class Malformed(Exception):
    """The reply cannot be read as DNS."""


class NotTheAnswer(Exception):
    """The reply is DNS, but not the answer to the question asked."""


def _labels(name: str) -> list[bytes]:
    """The labels of a name, or ValueError with dnspython's words for a name it refuses."""
    text = name[:-1] if name.endswith(".") else name
    if not text:
        return []
    labels = [label.encode("ascii") for label in text.split(".")]
    if any(not label for label in labels):
        raise ValueError("A DNS label is empty.")
    if any(len(label) > 63 for label in labels):
        raise ValueError("A DNS label is > 63 octets long.")
    if sum(len(label) + 1 for label in labels) + 1 > 255:
        raise ValueError("A DNS name is > 255 octets long.")
    return labels


def query(qid: int, name: str, qtype: int) -> bytes:
    """A recursive query for (name, qtype, IN)."""
    wire = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    wire += b"".join(bytes([len(label)]) + label for label in _labels(name)) + b"\0"
    return wire + struct.pack("!HH", qtype, CLASS_IN)


def _name(data: bytes, offset: int) -> tuple[str, int]:
    """The (lower-case, dotted) name at offset, following compression; and the offset after it."""
    labels: list[str] = []
    end: int | None = None
    jumps = 0
    while True:
        if offset >= len(data):
            raise Malformed("a name runs past the end of the reply")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data):
                raise Malformed("a compression pointer runs past the end of the reply")
            if end is None:
                end = offset + 2
            jumps += 1
            if jumps > 64:
                raise Malformed("a compression loop")
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length & 0xC0:
            raise Malformed("an unknown label type")
        offset += 1
        if length == 0:
            break
        if offset + length > len(data):
            raise Malformed("a label runs past the end of the reply")
        labels.append(data[offset : offset + length].decode("ascii", "replace").lower())
        offset += length
    return ".".join(labels), (end if end is not None else offset)


@dataclass
class Reply:
    rcode: int
    truncated: bool
    records: list[tuple[str, int, int, bytes | str]]


def parse(data: bytes, qid: int, name: str, qtype: int) -> Reply:
    """Read a reply to (qid, name, qtype): Malformed, or NotTheAnswer when it answers another
    question, else its rcode, TC bit and answer records (owner, type, ttl, rdata)."""
    if len(data) < 12:
        raise Malformed(SHORT)
    rid, flags, qdcount, ancount, _, _ = struct.unpack("!HHHHHH", data[:12])
    rcode = flags & 0xF
    if rid != qid or not flags & 0x8000 or (flags >> 11) & 0xF != 0:
        raise NotTheAnswer
    offset = 12
    wanted = name.rstrip(".").lower()
    if qdcount != 1 and not (qdcount == 0 and rcode != 0):
        raise NotTheAnswer
    if qdcount == 1:
        qname, offset = _name(data, offset)
        if offset + 4 > len(data):
            raise Malformed("the question runs past the end of the reply")
        rtype, rclass = struct.unpack("!HH", data[offset : offset + 4])
        offset += 4
        if qname != wanted or rtype != qtype or rclass != CLASS_IN:
            raise NotTheAnswer
    truncated = bool(flags & 0x0200)
    records: list[tuple[str, int, int, bytes | str]] = []
    for _ in range(ancount):
        if truncated and offset >= len(data):
            break
        owner, offset = _name(data, offset)
        if offset + 10 > len(data):
            raise Malformed("a record runs past the end of the reply")
        rtype, rclass, ttl, length = struct.unpack("!HHIH", data[offset : offset + 10])
        offset += 10
        if offset + length > len(data):
            raise Malformed("a record's data runs past the end of the reply")
        rdata: bytes | str = data[offset : offset + length]
        if rtype == CNAME and rclass == CLASS_IN:
            rdata, _ = _name(data, offset)
        offset += length
        if rclass == CLASS_IN:
            records.append((owner, rtype, ttl, rdata))
    return Reply(rcode, truncated, records)


def answer(reply: Reply, name: str, rdtype: str) -> Family:
    """The family's result from a reply: the addresses at the end of the CNAME chain."""
    qtype = TYPES[rdtype]
    if reply.rcode == 3:
        return Family(rdtype, Outcome.NXDOMAIN, why="NXDOMAIN: the name does not exist")
    current = name.rstrip(".").lower()
    for _ in range(MAX_CHAIN):
        target = next(
            (r for owner, t, _, r in reply.records if owner == current and t == CNAME), None
        )
        if not isinstance(target, str):
            break
        current = target
    found = [
        (ttl, rdata) for owner, t, ttl, rdata in reply.records if owner == current and t == qtype
    ]
    size = 4 if qtype == 1 else 16
    family = socket.AF_INET if qtype == 1 else socket.AF_INET6
    addresses = sorted(
        {socket.inet_ntop(family, r) for _, r in found if isinstance(r, bytes) and len(r) == size}
    )
    if not addresses:
        return Family(rdtype, Outcome.NO_ANSWER, why=f"no {rdtype} record")
    ttl = min(t for t, _ in found)
    canonical = current if current != name.rstrip(".").lower() else name.rstrip(".")
    return Family(rdtype, Outcome.OK, addresses, ttl, canonical)


async def ask(
    session: Session,
    nameserver: tuple[str, int],
    name: str,
    rdtype: str,
    timeout: float,  # noqa: ASYNC109
) -> Family | None:
    """One question to `nameserver`; None when dnspython should ask it instead (see above)."""
    server = hostport(*nameserver)
    try:
        channel = await session.channel(*nameserver)
    except OSError as exc:
        return Family(rdtype, Outcome.NO_NAMESERVER, why=f"{server}: {exc.strerror or exc}")
    qtype = TYPES[rdtype]
    try:
        query(0, name, qtype)
    except UnicodeError:
        return None
    except ValueError as exc:
        return Family(rdtype, Outcome.ERROR, why=f"not a valid DNS name ({exc})")
    try:
        qid, data = await channel.exchange(lambda qid: query(qid, name, qtype), timeout)
        reply = parse(data, qid, name, qtype)
    except Queued:
        why = f"not asked: {Channel.IN_FLIGHT} questions to {server} were waiting for answers"
        return Family(rdtype, Outcome.OVERLOADED, why=why)
    except TimeoutError:
        return Family(rdtype, Outcome.TIMEOUT, why="no reply in time")
    except Stray as stray:
        bad = stray.args[0]
        if len(bad) < 12:
            why = f"{server} sent a malformed reply ({SHORT})"
            return Family(rdtype, Outcome.PROTOCOL_ERROR, why=why)
        return Family(
            rdtype,
            Outcome.PROTOCOL_ERROR,
            why=f"{server} sent a reply that does not answer the query",
        )
    except NotTheAnswer:
        return Family(
            rdtype,
            Outcome.PROTOCOL_ERROR,
            why=f"{server} sent a reply that does not answer the query",
        )
    except Malformed as exc:
        return Family(
            rdtype, Outcome.PROTOCOL_ERROR, why=f"{server} sent a malformed reply ({exc})"
        )
    except ConnectionRefusedError:
        return Family(rdtype, Outcome.NO_NAMESERVER, why=f"nothing listens at {server}")
    except OSError as exc:
        return Family(rdtype, Outcome.NO_NAMESERVER, why=f"{server}: {exc.strerror or exc}")
    if reply.truncated:
        return None
    if reply.rcode not in (0, 3):
        text = RCODES.get(reply.rcode, f"rcode {reply.rcode}")
        return Family(rdtype, Outcome.SERVFAIL, why=f"{text} from {server}")
    return answer(reply, name, rdtype)


def evidence(families: list[Family], nameserver: str | None, name: str) -> dict[str, Any]:
    by_type = {f.rdtype: f for f in families}
    ttls = [f.ttl for f in families if f.ttl is not None]
    out: dict[str, Any] = {
        "a": by_type["A"].addresses if "A" in by_type else [],
        "aaaa": by_type["AAAA"].addresses if "AAAA" in by_type else [],
        "ttl": min(ttls) if ttls else None,
        "nameserver": nameserver,
    }
    canonical = next((f.canonical for f in families if f.canonical), None)
    if canonical and canonical != name.rstrip("."):
        out["canonical"] = canonical
    failed = {f.rdtype.lower(): str(f.outcome) for f in families if f.outcome is not Outcome.OK}
    if failed:
        out["families"] = failed
    return out


def summary(name: str, families: list[Family]) -> tuple[Outcome, str]:
    found = [f for f in families if f.outcome is Outcome.OK]
    if found:
        addresses = [a for f in found for a in f.addresses]
        ttls = [f.ttl for f in found if f.ttl is not None]
        ttl = min(ttls) if ttls else None
        detail = f"{name} → {', '.join(addresses)}" + (f" (ttl {ttl} s)" if ttl is not None else "")
        missing = [f.rdtype for f in families if f.outcome is not Outcome.OK]
        if missing:
            detail += f"; no {'/'.join(missing)}"
        return Outcome.OK, detail
    if all(f.outcome is Outcome.NO_ANSWER for f in families):
        wanted = "/".join(f.rdtype for f in families)
        return Outcome.NO_ANSWER, f"{name} exists but has no {wanted} record"
    for outcome in FAILURE_ORDER:
        for fam in families:
            if fam.outcome is outcome:
                return outcome, f"{name}: {fam.why}"
    return Outcome.ERROR, f"{name}: no answer"


async def resolve(
    name: str,
    *,
    nameserver: tuple[str, int],
    session: Session,
    timeout: float = 2.0,  # noqa: ASYNC109
    families: tuple[str, ...] = ("A", "AAAA"),
    kind: str = "dns",
) -> ProbeResult:
    """`pnet.probes.dns.resolve` for a nameserver given, on the session's sockets: the same
    result, read without dnspython (which asks whatever this leaves to it)."""
    clock = Clock(timeout)
    empty: dict[str, Any] = {"a": [], "aaaa": [], "ttl": None, "nameserver": None}
    literal = ip_family(name)
    if literal is not None:
        ev = dict(empty, **{"a" if literal == 4 else "aaaa": [name]})
        return result(kind, name, Outcome.OK, clock, f"{name} is an address (no lookup)", ev)
    host, port = nameserver
    if ip_family(host) is None or not 0 < port < 65536:
        why = f"nameserver {nameserver!r}: a nameserver is an IP address and a port"
        return result(
            kind, name, Outcome.NO_NAMESERVER, clock, f"no nameserver to ask ({why})", empty
        )
    label = hostport(host, port)
    answers: list[Family | None]
    try:
        async with asyncio.timeout(2 * timeout + 0.25):
            answers = list(
                await asyncio.gather(
                    *(ask(session, nameserver, name, t, timeout) for t in families)
                )
            )
    except TimeoutError:
        answers = [Family(t, Outcome.TIMEOUT, why="no reply in time") for t in families]
    queued = next((a for a in answers if a is not None and a.outcome is Outcome.OVERLOADED), None)
    if queued is not None:
        return overloaded(kind, name, f"{kind}:{name}", f"{name}: {queued.why}", clock.elapsed_ms)
    known = [a for a in answers if a is not None]
    if len(known) != len(answers):
        from . import dns

        return await dns.resolve(
            name,
            nameserver=nameserver,
            timeout=clock.remaining or timeout,
            families=families,
            kind=kind,
            session=session,
        )
    outcome, detail = summary(name, known)
    return result(kind, name, outcome, clock, detail, evidence(known, label, name))
