"""The lab in network namespaces (Linux, root): every instance its own network stack.

`Lab(workspace, netns=True)` builds, for each private network N, a namespace holding a bridge
(`198.18.N.254`, `2001:2:0:N::fe`, where that network's resolver listens on port 53), and for
each instance a namespace with one veth link to its network's bridge, its own addresses
(`198.18.N.k`, and `2001:2:0:N::k` where the network has IPv6) and its own loopback. The
addresses come from the ranges set aside for benchmarking (RFC 2544, RFC 5180), never routed
on the internet. The listeners bind what the app would bind inside its instance (`0.0.0.0`,
`::`, `127.0.0.1`), and `/etc/netns/NAME/resolv.conf` points the instance at its network's
resolver, so `ip netns exec NAME curl http://api-x7f2:8080/` works as it would inside a Render
instance. Networks share no link: from an oregon instance a frankfurt address has no route.

The host namespace gets `unreachable` routes for both ranges while a lab runs (the last lab
to stop removes them), so that a packet for a lab address sent from outside the namespaces
fails at once instead of leaving the machine. Everything is removed at stop; the namespaces of
a lab that was killed before it could stop are removed by the next lab that starts (each
namespace's `/etc/netns/NAME` folder names the process that owns it).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from pnet.lab.network import Instance, LabError, Plan

CLONE_NEWNET = 0x40000000
NETNS_RUN = Path("/run/netns")
NETNS_ETC = Path("/etc/netns")
V4_RANGE = "198.18.0.0/15"
V6_RANGE = "2001:2::/48"
IP_TIMEOUT_S = 30.0
OWNER_FILE = "pnet-lab.pid"

T = TypeVar("T")


@functools.cache
def available() -> str | None:
    """None when this process can build namespaces; otherwise why not, in one line.

    Tried for real once (a namespace made and deleted): root in a container may still lack
    the rights `ip netns add` needs.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "--netns needs root (it creates network namespaces and links)"
    if shutil.which("ip") is None:
        return "--netns needs the `ip` command (iproute2)"
    name = f"pnetcheck{os.getpid()}"
    try:
        _ip("netns", "add", name)
    except LabError as exc:
        return f"--netns: this machine does not let the lab make network namespaces ({exc})"
    _ip("netns", "del", name, check=False)
    return None


def _ip(*args: str, batch: Iterable[str] | None = None, check: bool = True) -> str:
    ip = shutil.which("ip")
    if ip is None:
        raise LabError("the `ip` command (iproute2) is missing")
    cmd = [ip, *args]
    stdin = None
    if batch is not None:
        cmd += ["-batch", "-"]
        stdin = "\n".join(batch) + "\n"
    try:
        done = subprocess.run(
            cmd, input=stdin, capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LabError(f"ip {' '.join(args)}: {exc}") from None
    if check and done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise LabError(f"ip {' '.join(args)}: {last}")
    return done.stdout


def in_netns(name: str, fn: Callable[[], T]) -> T:
    """Run fn in a thread of its own that has entered namespace `name`.

    Sockets made there belong to that namespace for good, whichever thread uses them later.
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            _enter(NETNS_RUN / name)
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name=f"pnet-netns-{name}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _enter(path: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def _safe(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:40] or "x"


class Fabric:
    """The namespaces, links and routes of one lab; `build()` then `teardown()`."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.tag = secrets.token_hex(2)
        self.network_ns = {net.name: f"pnet{self.tag}-net{net.index}" for net in plan.networks}
        self.instance_ns: dict[str, str] = {}
        used: set[str] = set()
        for inst in plan.instances:
            name = f"pnet{self.tag}-{_safe(inst.id)}"
            while name in used:
                name += "x"
            used.add(name)
            self.instance_ns[inst.id] = name
        self._made: list[str] = []
        self._etc_made = False

    def namespace_of(self, inst: Instance) -> str:
        return self.instance_ns[inst.id]

    def build(self) -> None:
        try:
            self._build()
        except BaseException:
            self.teardown()
            raise

    def _build(self) -> None:
        sweep_stale()
        for family, prefix in (("-4", V4_RANGE), ("-6", V6_RANGE)):
            if not _ip(family, "route", "show", prefix).strip():
                _ip(family, "route", "add", "unreachable", prefix, check=False)
                if not _ip(family, "route", "show", prefix).strip():
                    raise LabError(f"cannot add the host route `unreachable {prefix}`")
        host: list[str] = []
        for name in [*self.network_ns.values(), *self.instance_ns.values()]:
            host.append(f"netns add {name}")
            self._made.append(name)
        links: dict[str, list[tuple[str, Instance]]] = {}
        for k, inst in enumerate(self.plan.instances):
            veth = f"pn{self.tag}v{k:x}"
            host.append(
                f"link add {veth} type veth peer name eth0 netns {self.instance_ns[inst.id]}"
            )
            host.append(f"link set {veth} netns {self.network_ns[inst.network]}")
            links.setdefault(inst.network, []).append((veth, inst))
        _ip(batch=host)
        for net in self.plan.networks:
            cmds = [
                "link set lo up",
                "link add br0 type bridge",
                f"addr add {net.dns_address}/24 dev br0",
                f"addr add {_bridge_v6(net.index)}/64 dev br0 nodad",
                "link set br0 up",
            ]
            for veth, _ in links.get(net.name, []):
                cmds += [f"link set {veth} master br0", f"link set {veth} up"]
            _ip("-n", self.network_ns[net.name], batch=cmds)
        for inst in self.plan.instances:
            cmds = ["link set lo up", f"addr add {inst.ipv4}/24 dev eth0"]
            if inst.ipv6 is not None:
                cmds.append(f"addr add {inst.ipv6}/64 dev eth0 nodad")
            cmds.append("link set eth0 up")
            _ip("-n", self.instance_ns[inst.id], batch=cmds)
        self._write_resolv_conf()

    def _write_resolv_conf(self) -> None:
        if not NETNS_ETC.exists():
            NETNS_ETC.mkdir(mode=0o755)
            self._etc_made = True
        for name in self._made:
            folder = NETNS_ETC / name
            folder.mkdir(exist_ok=True)
            (folder / OWNER_FILE).write_text(f"{os.getpid()}\n")
        for inst in self.plan.instances:
            net = self.plan.network(inst.network)
            assert net is not None
            folder = NETNS_ETC / self.instance_ns[inst.id]
            folder.mkdir(exist_ok=True)
            (folder / "resolv.conf").write_text(
                f"nameserver {net.dns_address}\noptions timeout:1 attempts:2\n"
            )

    def teardown(self) -> None:
        """Delete every namespace (their links go with them), route and file the lab made."""
        for name in reversed(self._made):
            _ip("netns", "del", name, check=False)
            folder = NETNS_ETC / name
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
        self._made.clear()
        if self._etc_made:
            with contextlib.suppress(OSError):
                NETNS_ETC.rmdir()
            self._etc_made = False
        if not _other_labs():
            for family, prefix in (("-4", V4_RANGE), ("-6", V6_RANGE)):
                if "unreachable" in _ip(family, "route", "show", prefix, check=False):
                    _ip(family, "route", "del", "unreachable", prefix, check=False)


def sweep_stale() -> list[str]:
    """Delete the namespaces of labs whose process is gone (killed before it could stop)."""
    removed: list[str] = []
    if not NETNS_ETC.is_dir():
        return removed
    for folder in sorted(NETNS_ETC.glob("pnet*")):
        owner = folder / OWNER_FILE
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            continue
        _ip("netns", "del", folder.name, check=False)
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder.name)
    return removed


def _other_labs() -> bool:
    """Whether a live lab still has namespaces (and so needs the host routes)."""
    if not NETNS_ETC.is_dir():
        return False
    for owner in NETNS_ETC.glob(f"pnet*/{OWNER_FILE}"):
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if _alive(pid):
            return True
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _bridge_v6(index: int) -> str:
    return f"2001:2:0:{index:x}::fe"


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
