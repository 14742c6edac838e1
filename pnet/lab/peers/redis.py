"""Redis as the lab serves it: RESP2, enough for `redis-cli ping`.

PING, ECHO, AUTH, HELLO 2, SELECT, CLIENT, INFO, GET/SET/DEL/EXISTS on a small in-memory
store, QUIT; NOAUTH until AUTH when `lab.auth` is set.
"""

from __future__ import annotations

import asyncio
import hmac
import os

from pnet.lab.peers.base import Peer, delay

REDIS_MAX_COMMANDS = 100_000
REDIS_MAX_ARGS = 1024
REDIS_MAX_BULK = 512 * 1024
REDIS_IDLE_S = 300.0
REDIS_MAX_KEYS = 10_000
REDIS_VERSION = "7.2.4"


def resp_bulk(value: bytes | None) -> bytes:
    if value is None:
        return b"$-1\r\n"
    return b"$%d\r\n%s\r\n" % (len(value), value)


def resp_array(items: list[bytes]) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(items)


async def read_command(reader: asyncio.StreamReader) -> list[bytes] | None:
    """One RESP array of bulk strings, or an inline command; None on EOF."""
    async with asyncio.timeout(REDIS_IDLE_S):
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError as exc:
            raise ValueError("Protocol error: too big inline request") from exc
        if not line.startswith(b"*"):
            return line.strip().split()
        count = int(line[1:-2])
        if count < 0 or count > REDIS_MAX_ARGS:
            raise ValueError("Protocol error: invalid multibulk length")
        args = []
        for _ in range(count):
            head = await reader.readuntil(b"\r\n")
            if not head.startswith(b"$"):
                raise ValueError(f"Protocol error: expected '$', got '{head[:1].decode()}'")
            size = int(head[1:-2])
            if size < 0 or size > REDIS_MAX_BULK:
                raise ValueError("Protocol error: invalid bulk length")
            data = await reader.readexactly(size + 2)
            args.append(data[:-2])
        return args


def _redis_info(peer: Peer) -> bytes:
    lines = [
        "# Server",
        f"redis_version:{REDIS_VERSION}",
        "redis_mode:standalone",
        "os:pnet lab",
        f"process_id:{os.getpid()}",
        f"tcp_port:{peer.port}",
        f"pnet_service:{peer.service}",
        f"pnet_instance:{peer.instance}",
        "",
    ]
    return "\r\n".join(lines).encode()


async def serve_redis(
    peer: Peer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    authed = peer.redis_auth is None
    first = True
    for _ in range(REDIS_MAX_COMMANDS):
        try:
            args = await read_command(reader)
        except (ValueError, asyncio.LimitOverrunError) as exc:
            writer.write(b"-ERR " + str(exc).encode() + b"\r\n")
            await writer.drain()
            return
        if args is None:
            return
        if not args:
            continue
        if first:
            await delay(peer)
            first = False
        name = args[0].decode(errors="replace").upper()
        reply, authed, close = _redis_command(peer, name, args, authed)
        writer.write(reply)
        await writer.drain()
        if close:
            return


def _redis_command(
    peer: Peer, name: str, args: list[bytes], authed: bool
) -> tuple[bytes, bool, bool]:
    """(reply, authenticated now, close after the reply)."""
    arity = len(args) - 1
    if name == "QUIT":
        return b"+OK\r\n", authed, True
    if name == "AUTH":
        if arity not in (1, 2):
            return b"-ERR wrong number of arguments for 'auth' command\r\n", authed, False
        if peer.redis_auth is None:
            return (
                b"-ERR AUTH <password> called without any password configured for the default "
                b"user. Are you sure your configuration is correct?\r\n",
                authed,
                False,
            )
        user = args[1] if arity == 2 else b"default"
        if user == b"default" and hmac.compare_digest(args[-1], peer.redis_auth.encode()):
            return b"+OK\r\n", True, False
        return (
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
            authed,
            False,
        )
    if name == "HELLO":
        version = args[1] if arity >= 1 else b"2"
        if version not in (b"2",):
            if version == b"3":
                return b"-NOPROTO unsupported protocol version\r\n", authed, False
            return b"-ERR Protocol version is not an integer or out of range\r\n", authed, False
        rest = args[2:]
        if len(rest) >= 3 and rest[0].upper() == b"AUTH":
            if peer.redis_auth is None or not hmac.compare_digest(
                rest[2], peer.redis_auth.encode()
            ):
                return (
                    b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
                    authed,
                    False,
                )
            authed = True
        if not authed:
            return (
                b"-NOAUTH HELLO must be called with the client already authenticated, "
                b"otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                b"authenticate the client and select the RESP protocol version at the same "
                b"time\r\n",
                authed,
                False,
            )
        fields = [
            resp_bulk(b"server"),
            resp_bulk(b"redis"),
            resp_bulk(b"version"),
            resp_bulk(REDIS_VERSION.encode()),
            resp_bulk(b"proto"),
            b":2\r\n",
            resp_bulk(b"id"),
            b":1\r\n",
            resp_bulk(b"mode"),
            resp_bulk(b"standalone"),
            resp_bulk(b"role"),
            resp_bulk(b"master"),
            resp_bulk(b"modules"),
            b"*0\r\n",
        ]
        return resp_array(fields), authed, False
    if not authed:
        return b"-NOAUTH Authentication required.\r\n", authed, False
    if name == "PING":
        if arity == 0:
            return b"+PONG\r\n", authed, False
        if arity == 1:
            return resp_bulk(args[1]), authed, False
    elif name == "ECHO" and arity == 1:
        return resp_bulk(args[1]), authed, False
    elif name == "INFO":
        return resp_bulk(_redis_info(peer)), authed, False
    elif name == "SELECT" and arity == 1:
        if args[1].isdigit() and int(args[1]) < 16:
            return b"+OK\r\n", authed, False
        return b"-ERR DB index is out of range\r\n", authed, False
    elif name == "CLIENT" and arity >= 1:
        return b"+OK\r\n", authed, False
    elif name == "COMMAND":
        return b"*0\r\n", authed, False
    elif name == "GET" and arity == 1:
        return resp_bulk(peer.store.get(args[1])), authed, False
    elif name == "SET" and arity >= 2:
        if args[1] not in peer.store and len(peer.store) >= REDIS_MAX_KEYS:
            return b"-OOM command not allowed when used memory > 'maxmemory'.\r\n", authed, False
        peer.store[args[1]] = args[2]
        return b"+OK\r\n", authed, False
    elif name in ("DEL", "EXISTS") and arity >= 1:
        found = sum(1 for key in args[1:] if key in peer.store)
        if name == "DEL":
            for key in args[1:]:
                peer.store.pop(key, None)
        return b":%d\r\n" % found, authed, False
    elif name in ("PING", "ECHO", "GET", "SET", "DEL", "EXISTS", "SELECT", "CLIENT"):
        return (
            f"-ERR wrong number of arguments for '{name.lower()}' command\r\n".encode(),
            authed,
            False,
        )
    else:
        shown = " ".join(f"'{a.decode(errors='replace')}'" for a in args[1:4])
        return (
            f"-ERR unknown command '{args[0].decode(errors='replace')}', "
            f"with args beginning with: {shown}\r\n".encode(),
            authed,
            False,
        )
    return (
        f"-ERR wrong number of arguments for '{name.lower()}' command\r\n".encode(),
        authed,
        False,
    )
