"""Sockets the lab binds for its listeners and DNS servers, and why one could not be."""

from __future__ import annotations

import errno
import socket


def listening_socket(address: str, port: int, *, reuse: bool = True) -> socket.socket:
    """A bound TCP socket (not yet listening); IPv6 ones serve IPv6 only."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    # IPPROTO_TCP named, so that asyncio turns Nagle off on the accepted connections
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if reuse:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((address, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def make_socket(kind: int, address: str, port: int, *, v6only: bool = True) -> socket.socket:
    """A bound (not listening) socket; `::` with v6only False is dual-stack."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    proto = socket.IPPROTO_TCP if kind == socket.SOCK_STREAM else socket.IPPROTO_UDP
    # the protocol named, so that asyncio turns Nagle off on the accepted connections
    sock = socket.socket(family, kind, proto)
    try:
        if kind == socket.SOCK_STREAM:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
        sock.bind((address, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the address is in use by another process"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need root)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "this machine has no such address"
    return exc.strerror or str(exc)
