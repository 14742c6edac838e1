"""`python -m bench.floor OPS NAMESERVER [--concurrency N] [--timeout S]`: the floor.

A bare asyncio script that asks the lab the same questions a sweep asks (the list made by
`bench.ops` from the doctor's own JSON: each DNS query, connection, HTTP GET and handshake
once) with nothing around them: DNS packets built and read by hand on one UDP socket, plain
connections, a GET read to its end, Redis PING, PostgreSQL's startup with SCRAM-SHA-256. It
judges nothing and prints one line: how many questions, how many answered, in how long.
Every question is bounded by `--timeout`, and at most `--concurrency` are asked at once.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import socket
import struct
import sys
import time
from typing import Any

CONCURRENCY = 128
TIMEOUT_S = 2.0


class _Dns(asyncio.DatagramProtocol):
    """One UDP socket to the nameserver; replies matched by id."""

    def __init__(self) -> None:
        self.transport: Any = None
        self.waiting: dict[int, asyncio.Future[bytes]] = {}
        self.gate = asyncio.Semaphore(64)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        future = self.waiting.pop(int.from_bytes(data[:2], "big"), None)
        if future is not None and not future.done():
            future.set_result(data)

    async def ask(self, name: str, qtype: int) -> bool:
        async with self.gate:
            return await self._ask(name, qtype)

    async def _ask(self, name: str, qtype: int) -> bool:
        qid = random.randrange(65536)
        while qid in self.waiting:
            qid = random.randrange(65536)
        labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split("."))
        packet = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0"
        packet += struct.pack("!HH", qtype, 1)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.waiting[qid] = future
        self.transport.sendto(packet)
        try:
            reply = await future
        finally:
            self.waiting.pop(qid, None)
        flags, _, answers = struct.unpack("!HHH", reply[2:8])
        return bool(flags & 0xF == 0 and answers > 0)


async def _http(op: dict[str, Any]) -> bool:
    reader, writer = await asyncio.open_connection(op["address"], op["port"])
    try:
        writer.write(
            f"GET {op['path']} HTTP/1.1\r\nHost: {op['host']}\r\nUser-Agent: floor\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(min(length, 65536))
        return status < 400
    finally:
        writer.transport.abort()


async def _tcp(op: dict[str, Any]) -> bool:
    _, writer = await asyncio.open_connection(op["address"], op["port"])
    writer.transport.abort()
    return True


async def _redis(op: dict[str, Any]) -> bool:
    reader, writer = await asyncio.open_connection(op["address"], op["port"])
    try:
        if op.get("password"):
            secret = op["password"].encode()
            writer.write(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret))
            await reader.readline()
        writer.write(b"*1\r\n$4\r\nPING\r\n")
        return (await reader.readline()).startswith(b"+PONG")
    finally:
        writer.transport.abort()


async def _postgres(op: dict[str, Any]) -> bool:
    reader, writer = await asyncio.open_connection(op["address"], op["port"])
    try:
        params = f"user\0{op['user']}\0database\0{op['database']}\0\0".encode()
        body = struct.pack("!I", 196608) + params
        writer.write(struct.pack("!I", len(body) + 4) + body)
        nonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n=,r={nonce}"
        signature = b""
        for _ in range(64):
            tag = await reader.readexactly(1)
            (length,) = struct.unpack("!I", await reader.readexactly(4))
            payload = await reader.readexactly(length - 4)
            if tag == b"E":
                return False
            if tag == b"Z":
                writer.write(b"X\0\0\0\4")
                return True
            if tag != b"R":
                continue
            (code,) = struct.unpack("!I", payload[:4])
            if code == 10:
                message = ("n,," + first_bare).encode()
                out = b"SCRAM-SHA-256\0" + struct.pack("!i", len(message)) + message
                writer.write(b"p" + struct.pack("!I", len(out) + 4) + out)
            elif code == 11:
                server_first = payload[4:].decode()
                attrs = dict(p.split("=", 1) for p in server_first.split(","))
                salt, rounds = base64.b64decode(attrs["s"]), int(attrs["i"])
                password = (op.get("password") or "").encode()
                salted = hashlib.pbkdf2_hmac("sha256", password, salt, rounds)
                client_key = hmac.digest(salted, b"Client Key", "sha256")
                without = f"c=biws,r={attrs['r']}"
                auth = f"{first_bare},{server_first},{without}".encode()
                proof = bytes(
                    a ^ b
                    for a, b in zip(
                        client_key,
                        hmac.digest(hashlib.sha256(client_key).digest(), auth, "sha256"),
                        strict=True,
                    )
                )
                server_key = hmac.digest(salted, b"Server Key", "sha256")
                signature = hmac.digest(server_key, auth, "sha256")
                out = f"{without},p={base64.b64encode(proof).decode()}".encode()
                writer.write(b"p" + struct.pack("!I", len(out) + 4) + out)
            elif code == 12:
                final = dict(p.split("=", 1) for p in payload[4:].decode().split(","))
                if base64.b64decode(final.get("v", "")) != signature:
                    return False
            elif code != 0:
                return False
        return False
    finally:
        writer.transport.abort()


async def replay(
    ops: list[dict[str, Any]], nameserver: tuple[str, int], concurrency: int, limit: float
) -> tuple[int, int]:
    loop = asyncio.get_running_loop()
    transport, dns = await loop.create_datagram_endpoint(_Dns, remote_addr=nameserver)
    gate = asyncio.Semaphore(concurrency)

    async def one(op: dict[str, Any]) -> int:
        async with gate:
            try:
                async with asyncio.timeout(limit):
                    kind = op["op"]
                    if kind == "dns":
                        a, aaaa = await asyncio.gather(
                            dns.ask(op["name"], 1), dns.ask(op["name"], 28)
                        )
                        return int(a or aaaa)
                    handler = {"tcp": _tcp, "http": _http, "redis": _redis, "postgres": _postgres}
                    return int(await handler[kind](op))
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, KeyError):
                return 0

    try:
        answered = await asyncio.gather(*(one(op) for op in ops))
    finally:
        transport.close()
    return len(ops), sum(answered)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("ops", metavar="OPS", help="the questions, one JSON object a line")
    parser.add_argument("nameserver", metavar="HOST:PORT")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S)
    args = parser.parse_args(argv)
    host, _, port = args.nameserver.rpartition(":")
    with open(args.ops, encoding="utf-8") as f:
        ops = [json.loads(line) for line in f if line.strip()]
    asked, answered = asyncio.run(
        replay(ops, (host, int(port)), max(1, args.concurrency), args.timeout)
    )
    wall = time.perf_counter() - started
    print(json.dumps({"asked": asked, "answered": answered, "wall_s": round(wall, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
