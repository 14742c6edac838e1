"""Local listeners: which sockets listen on this machine, bound to what, owned by whom.

Run inside an instance, this is how pnet sees that a service listens on 127.0.0.1 only, on
0.0.0.0 only (unreachable on an IPv6-only private network), or on `::` with IPV6_V6ONLY
(unreachable over IPv4). Sockets come from the kernel's sock_diag netlink interface, which
lists the listening ones only (a machine holding tens of thousands of connections answers in
milliseconds), each with the process from /proc/PID/fd; from psutil where sock_diag is not
available. Processes the user may not inspect have `pid` and `process` None, never an
exception.

Whether a `::` socket also accepts IPv4 (`v6only`) is a per-socket option psutil cannot see.
The rule, in order (`v6only_source` says which applied):
1. "kernel": on Linux, the kernel's sock_diag netlink interface reports IPV6_V6ONLY for every
   listening socket (what `ss` shows as `[::]:port` versus `*:port`);
2. "paired": otherwise, a `::` socket that shares its port with a `0.0.0.0` socket must be
   v6only, or the second bind would have failed;
3. "default": otherwise `/proc/sys/net/ipv6/bindv6only`, the system default a program gets
   when it does not set the option (many do: asyncio, hence uvicorn `--host ::`, sets it);
   None when that file cannot be read.
IPv4 sockets have `v6only` None.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from .result import Outcome, ProbeResult

KIND = "listeners"
BINDV6ONLY = "/proc/sys/net/ipv6/bindv6only"

_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 0x1
_NLM_F_DUMP = 0x300
_NLMSG_ERROR = 2
_NLMSG_DONE = 3
_INET_DIAG_SKV6ONLY = 11
_TCP_LISTEN = 10
_TCP_CLOSE = 7


@dataclass(frozen=True)
class Listener:
    """A socket that accepts connections (TCP) or datagrams from anyone (UDP)."""

    family: int
    address: str
    port: int
    pid: int | None
    process: str | None
    v6only: bool | None
    kind: str = "tcp"
    v6only_source: str | None = None

    @property
    def bind(self) -> str:
        return bind_scope(self)

    def accepts(self, family: int) -> bool | None:
        """Whether a peer on another host can reach this socket over IPv4 (4) or IPv6 (6).

        None when it depends on an option that is not known (v6only None on `::`).
        """
        scope = bind_scope(self)
        if scope == "loopback":
            return False
        if self.family == 4:
            return family == 4
        if family == 6:
            return True
        if scope == "any-ipv6":
            return None if self.v6only is None else not self.v6only
        return _mapped_v4(self.address) is not None

    def to_json(self) -> dict[str, Any]:
        return dict(asdict(self), bind=self.bind)


def _mapped_v4(address: str) -> ipaddress.IPv4Address | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None


def bind_scope(listener: Listener) -> str:
    """ "loopback" (127.x, ::1, ::ffff:127.x), "any-ipv4" (0.0.0.0), "any-ipv6" (::), "specific"."""
    try:
        ip = ipaddress.ip_address(listener.address.split("%", 1)[0])
    except ValueError:
        return "specific"
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    if ip.is_loopback or (mapped is not None and mapped.is_loopback):
        return "loopback"
    if ip.is_unspecified:
        return "any-ipv4" if ip.version == 4 else "any-ipv6"
    return "specific"


def serves_port(listeners: Iterable[Listener], port: int) -> list[Listener]:
    """The listeners on that port."""
    return [listener for listener in listeners if listener.port == port]


def reachable_families(listeners: Iterable[Listener], port: int) -> dict[int, bool | None]:
    """For IPv4 and IPv6: can a peer on another host reach this port (None: cannot tell)."""
    out: dict[int, bool | None] = {}
    on_port = serves_port(listeners, port)
    for family in (4, 6):
        answers = [listener.accepts(family) for listener in on_port]
        if any(answer is True for answer in answers):
            out[family] = True
        elif any(answer is None for answer in answers):
            out[family] = None
        else:
            out[family] = False
    return out


def _read_bindv6only() -> bool | None:
    try:
        with open(BINDV6ONLY) as f:
            return f.read().strip() == "1"
    except (OSError, ValueError):
        return None


def _diag_dump(family: int, protocol: int) -> list[bytes] | None:
    """The kernel's sock_diag answer for one family and protocol: one inet_diag_msg (with its
    attributes) per listening TCP socket (state LISTEN) or unconnected UDP socket (CLOSE),
    filtered by the kernel, so a machine's thousands of other sockets cost nothing."""
    af_netlink = getattr(socket, "AF_NETLINK", None)
    if af_netlink is None:
        return None
    states = 1 << (_TCP_LISTEN if protocol == socket.IPPROTO_TCP else _TCP_CLOSE)
    request = struct.pack("=BBBBI", family, protocol, 0, 0, states) + bytes(48)
    header = struct.pack(
        "=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST | _NLM_F_DUMP, 1, 0
    )
    found: list[bytes] = []
    try:
        with socket.socket(af_netlink, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as sock:
            sock.settimeout(1.0)
            sock.sendto(header + request, (0, 0))
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                data = sock.recv(1 << 16)
                offset = 0
                while offset + 16 <= len(data):
                    length, mtype = struct.unpack_from("=IH", data, offset)
                    if mtype == _NLMSG_DONE:
                        return found
                    if mtype == _NLMSG_ERROR or length < 16:
                        return None
                    found.append(data[offset + 16 : offset + length])
                    offset += (length + 3) & ~3
    except (OSError, struct.error):
        return None
    return None


def _kernel_v6only(protocol: int) -> dict[tuple[str, int], bool] | None:
    """IPV6_V6ONLY of every IPv6 listening (TCP) or unconnected (UDP) socket, from sock_diag."""
    messages = _diag_dump(socket.AF_INET6, protocol)
    if messages is None:
        return None
    found: dict[tuple[str, int], bool] = {}
    for msg in messages:
        _parse_diag(msg, found)
    return found


def _parse_diag(msg: bytes, found: dict[tuple[str, int], bool]) -> None:
    if len(msg) < 72:
        return
    (port,) = struct.unpack_from("!H", msg, 4)
    address = socket.inet_ntop(socket.AF_INET6, msg[8:24])
    at = 72
    while at + 4 <= len(msg):
        size, kind = struct.unpack_from("=HH", msg, at)
        if size < 4:
            break
        if kind == _INET_DIAG_SKV6ONLY and size >= 5:
            found[(address, port)] = bool(msg[at + 4])
        at += (size + 3) & ~3


_Sockets = tuple[list[tuple[int, str, int, int | None]], dict[tuple[str, int], bool] | None]


def _kernel_sockets(
    protocol: int,
) -> tuple[list[tuple[int, str, int, int]], dict[tuple[str, int], bool]] | None:
    """(family, address, port, inode) of every listening socket of one protocol, and the
    IPV6_V6ONLY of the IPv6 ones, from one sock_diag dump per family; None when the kernel
    does not answer (then psutil reads /proc)."""
    out: list[tuple[int, str, int, int]] = []
    v6only: dict[tuple[str, int], bool] = {}
    for family, size, version in ((socket.AF_INET, 4, 4), (socket.AF_INET6, 16, 6)):
        messages = _diag_dump(family, protocol)
        if messages is None:
            return None
        for msg in messages:
            if len(msg) < 72:
                continue
            (port,) = struct.unpack_from("!H", msg, 4)
            (inode,) = struct.unpack_from("=I", msg, 68)
            out.append((version, socket.inet_ntop(family, msg[8 : 8 + size]), port, inode))
            if version == 6:
                _parse_diag(msg, v6only)
    return out, v6only


def _owners(inodes: set[int]) -> dict[int, int]:
    """The pid holding each socket inode, from /proc/PID/fd (processes this user may read);
    the lowest pid when several share one socket."""
    wanted = {f"socket:[{inode}]": inode for inode in inodes if inode}
    out: dict[int, int] = {}
    try:
        pids = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
    except OSError:
        return out
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                inode = wanted.get(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                continue
            if inode is not None and inode not in out:
                out[inode] = pid
    return out


def _psutil_sockets(kind: str) -> list[tuple[int, str, int, int | None]] | None:
    try:
        conns = psutil.net_connections(kind=kind)
    except (psutil.AccessDenied, OSError):
        return None
    entries: list[tuple[int, str, int, int | None]] = []
    for conn in conns:
        if kind.startswith("tcp") and conn.status != psutil.CONN_LISTEN:
            continue
        if kind.startswith("udp") and conn.raddr:
            continue
        if not isinstance(conn.laddr, tuple) or len(conn.laddr) < 2:
            continue
        family = 6 if conn.family == socket.AF_INET6 else 4
        entries.append((family, str(conn.laddr[0]), int(conn.laddr[1]), conn.pid))
    return entries


def _sockets(kind: str) -> _Sockets | None:
    """(family, address, port, pid) of the listening sockets of "tcp" or "udp", and the
    kernel's IPV6_V6ONLY by (address, port) (None when the kernel does not say)."""
    protocol = socket.IPPROTO_TCP if kind.startswith("tcp") else socket.IPPROTO_UDP
    kernel = _kernel_sockets(protocol) if kind in ("tcp", "udp") else None
    if kernel is None:
        entries = _psutil_sockets(kind)
        if entries is None:
            return None
        return entries, _kernel_v6only(protocol) if any(e[0] == 6 for e in entries) else {}
    found, v6only = kernel
    owners = _owners({inode for *_, inode in found})
    return [(fam, address, port, owners.get(inode)) for fam, address, port, inode in found], v6only


def _process_name(pid: int | None, cache: dict[int, str | None]) -> str | None:
    if pid is None:
        return None
    if pid not in cache:
        try:
            cache[pid] = psutil.Process(pid).name()
        except (psutil.Error, OSError):
            cache[pid] = None
    return cache[pid]


def listening(*, kinds: tuple[str, ...] = ("tcp",)) -> tuple[Listener, ...]:
    """Every listening TCP socket (and unconnected UDP socket, with kinds=("tcp", "udp"))."""
    names: dict[int, str | None] = {}
    default = _read_bindv6only()
    out: dict[tuple[str, int, str, int], Listener] = {}
    for kind in kinds:
        found = _sockets(kind)
        if found is None:
            continue
        entries, kernel = found
        base = "tcp" if kind.startswith("tcp") else "udp"
        v4_any_ports = {port for family, address, port, _ in entries if address == "0.0.0.0"}
        for family, address, port, pid in entries:
            v6only: bool | None = None
            source: str | None = None
            if family == 6:
                if kernel is not None and (address, port) in kernel:
                    v6only, source = kernel[(address, port)], "kernel"
                elif address == "::" and port in v4_any_ports:
                    v6only, source = True, "paired"
                elif default is not None:
                    v6only, source = default, "default"
            key = (base, family, address, port)
            previous = out.get(key)
            # one socket shared by several processes (a pre-fork server): keep the lowest
            # pid that is known, usually the parent
            if previous is not None and (
                pid is None or (previous.pid is not None and previous.pid <= pid)
            ):
                continue
            out[key] = Listener(
                family, address, port, pid, _process_name(pid, names), v6only, base, source
            )
    return tuple(sorted(out.values(), key=lambda x: (x.port, x.kind, x.family, x.address)))


def probe_listeners(*, kinds: tuple[str, ...] = ("tcp",)) -> ProbeResult:
    """listening() as a timed ProbeResult (kind "listeners")."""
    started = time.perf_counter()
    found = listening(kinds=kinds)
    return listeners_result(found, elapsed_ms=(time.perf_counter() - started) * 1000.0)


def listeners_result(listeners: Iterable[Listener], *, elapsed_ms: float = 0.0) -> ProbeResult:
    """The listeners as a ProbeResult (kind "listeners", target "local")."""
    found = list(listeners)
    ports = sorted({listener.port for listener in found})
    shown = ", ".join(str(p) for p in ports[:12]) + (", …" if len(ports) > 12 else "")
    detail = f"{len(found)} listening socket{'s' if len(found) != 1 else ''}"
    detail += f" on port{'s' if len(ports) != 1 else ''} {shown}" if ports else ""
    return ProbeResult(
        kind=KIND,
        target="local",
        outcome=Outcome.OK,
        elapsed_ms=elapsed_ms,
        detail=detail,
        evidence={
            "listeners": [listener.to_json() for listener in found],
            "bindv6only": _read_bindv6only(),
        },
        key=f"{KIND}:local",
    )
