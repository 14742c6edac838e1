"""The lab's DNS server: a private network's resolver, over UDP and TCP on one port.

It answers the names of one zone (a private network's internal and discovery names) with
A and AAAA records and a short TTL, authoritatively and with recursion marked available, as
the resolver inside an instance would: NXDOMAIN for a name it does not know, NOERROR with no
answer for a known name without a record of the asked type. Names are matched without regard
to case or a trailing dot. A UDP answer that does not fit 512 bytes (or the client's EDNS
size) is sent empty with TC set, and the client retries over TCP.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Mapping
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from pnet.lab.network import DNS_TTL, Records

UDP_LIMIT = 512
EDNS_PAYLOAD = 1232
TCP_IDLE_S = 10.0
TCP_MAX_QUERIES = 1000
TCP_MAX_CLIENTS = 256


def answer(query: dns.message.Message, zone: Mapping[str, Records]) -> dns.message.Message:
    """The response to one query from a zone: a pure function of both."""
    response = dns.message.make_response(query, our_payload=EDNS_PAYLOAD)
    response.flags |= dns.flags.AA | dns.flags.RA
    if query.opcode() != dns.opcode.QUERY:
        response.set_rcode(dns.rcode.NOTIMP)
        return response
    if len(query.question) != 1:
        response.set_rcode(dns.rcode.FORMERR)
        return response
    question = query.question[0]
    if question.rdclass not in (dns.rdataclass.IN, dns.rdataclass.ANY):
        response.set_rcode(dns.rcode.REFUSED)
        return response
    name = question.name.to_text(omit_final_dot=True).lower()
    records = zone.get(name)
    if records is None:
        response.set_rcode(dns.rcode.NXDOMAIN)
        return response
    rdtype = question.rdtype
    if rdtype in (dns.rdatatype.A, dns.rdatatype.ANY) and records.a:
        response.answer.append(
            dns.rrset.from_text_list(question.name, DNS_TTL, "IN", "A", list(records.a))
        )
    if rdtype in (dns.rdatatype.AAAA, dns.rdatatype.ANY) and records.aaaa:
        response.answer.append(
            dns.rrset.from_text_list(question.name, DNS_TTL, "IN", "AAAA", list(records.aaaa))
        )
    return response


def _udp_limit(query: dns.message.Message) -> int:
    if query.edns >= 0:
        return max(UDP_LIMIT, min(query.payload, EDNS_PAYLOAD))
    return UDP_LIMIT


def _error_reply(wire: bytes, rcode: dns.rcode.Rcode) -> bytes | None:
    """A header-only reply to a message that could not be parsed, if its header can be."""
    if len(wire) < 12:
        return None
    msg_id, flags = struct.unpack("!HH", wire[:4])
    if flags & 0x8000:
        return None
    flags = 0x8000 | (flags & 0x7900) | 0x0080 | int(rcode)
    return struct.pack("!HHHHHH", msg_id, flags, 0, 0, 0, 0)


def respond(wire: bytes, zone: Mapping[str, Records], limit: int | None) -> bytes | None:
    """Wire in, wire out; `limit` is the UDP size bound (None over TCP)."""
    try:
        query = dns.message.from_wire(wire)
    except dns.message.UnknownTSIGKey:
        return _error_reply(wire, dns.rcode.REFUSED)
    except Exception:
        return _error_reply(wire, dns.rcode.FORMERR)
    if query.flags & dns.flags.QR:
        return None
    response = answer(query, zone)
    max_size = _udp_limit(query) if limit is not None else 65535
    try:
        return response.to_wire(max_size=max_size)
    except dns.exception.TooBig:
        response.answer.clear()
        response.authority.clear()
        response.additional.clear()
        response.flags |= dns.flags.TC
        return response.to_wire(max_size=max_size)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, zone: Mapping[str, Records]) -> None:
        self.zone = zone
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = respond(data, self.zone, UDP_LIMIT)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        del exc


class DnsServer:
    """A zone served on `address:port` over UDP and TCP (port 0: a free one, the same for both)."""

    def __init__(self, zone: Mapping[str, Records], address: str = "127.0.0.1", port: int = 0):
        self.zone = zone
        self.address = address
        self.requested_port = port
        self.port = 0
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def nameserver(self) -> tuple[str, int]:
        return (self.address, self.port)

    async def start(self, sockets: tuple[socket.socket, socket.socket] | None = None) -> None:
        """Listen; `sockets` (TCP, UDP), bound and non-blocking, instead of binding here."""
        if sockets is not None:
            await self._start_on(*sockets)
            return
        attempts = 1 if self.requested_port else 20
        last: OSError | None = None
        for _ in range(attempts):
            tcp_sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            udp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                tcp_sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp_sock.bind((self.address, self.requested_port))
                port = tcp_sock.getsockname()[1]
                udp_sock.bind((self.address, port))
            except OSError as exc:
                tcp_sock.close()
                udp_sock.close()
                last = exc
                continue
            tcp_sock.setblocking(False)
            udp_sock.setblocking(False)
            await self._start_on(tcp_sock, udp_sock)
            return
        assert last is not None
        raise last

    async def _start_on(self, tcp_sock: socket.socket, udp_sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self.port = tcp_sock.getsockname()[1]
        tcp_sock.listen(64)
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Udp(self.zone), sock=udp_sock
            )
        except BaseException:
            udp_sock.close()
            tcp_sock.close()
            raise
        self._udp = transport
        try:
            self._tcp = await asyncio.start_server(self._serve_tcp, sock=tcp_sock)
        except BaseException:
            tcp_sock.close()
            await self.stop()
            raise

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self._clients) >= TCP_MAX_CLIENTS or task is None:
            writer.close()
            return
        self._clients.add(task)
        self._writers.add(writer)
        try:
            for _ in range(TCP_MAX_QUERIES):
                async with asyncio.timeout(TCP_IDLE_S):
                    head = await reader.readexactly(2)
                    (length,) = struct.unpack("!H", head)
                    wire = await reader.readexactly(length)
                reply = respond(wire, self.zone, None)
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._clients.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._writers):
                writer.close()
            for task in list(self._clients):
                task.cancel()
            if self._clients:
                await asyncio.gather(*self._clients, return_exceptions=True)
            await self._tcp.wait_closed()
            self._tcp = None
        await asyncio.sleep(0)
