"""The lab in network namespaces (Linux, root): every instance its own network stack.

`Lab(workspace, netns=True)` builds a fabric namespace of its own holding one bridge per
private network N (`198.18.N.254/24` and `fd70:6e65:7400:N::fe/64`, where the network has
that family) and, for each instance, a namespace whose `eth0` is a veth link to its
network's bridge, with its own addresses (`198.18.N.k`, `fd70:6e65:7400:N::k`; see
`pnet.lab.network`), its loopback up and the routes of its network's subnets: it reaches the
other instances of its network and nothing else. An IPv6-only network (a Railway legacy
environment) has no IPv4 at all: no address, no route, AAAA records only.

Each network's resolver is a real dnsmasq in the fabric namespace on the bridge's addresses,
answering the network's internal and discovery names (NXDOMAIN for any other name), and
`/etc/netns/NAME/resolv.conf` makes it each instance's system resolver, so
`ip netns exec NAME getent hosts api-x7f2` and `dig api-x7f2` work as inside a Render
instance. Each instance's platform environment (`pnet.lab.environ`) is written to
`/run/pnet-lab/TAG/INSTANCE.env`, and to `/etc/netns/NAME/environment` (seen as
`/etc/environment`, which pam_env reads for an sshd session there) when this machine has an
`/etc/environment` for it to cover.

Nothing is added to the namespace the lab is started in: every link is made inside the
fabric or an instance namespace, every address and route lives there. What the lab makes on
the file system: `/run/netns/NAME` (the namespaces), `/etc/netns/NAME/` and `/run/pnet-lab/`.

The owner record `/run/pnet-lab/TAG.json` (the process, its start time, every namespace and
folder the lab is about to make) is written before anything is made, so a lab killed at any
moment is swept by the next one (`sweep_stale`): the processes left in its namespaces (its
dnsmasqs, commands run there) are killed, its namespaces and files removed. `teardown()` does
the same for a lab that stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import dns.message
import dns.query

from pnet.lab import environ as _environ
from pnet.lab.network import Instance, LabError, NetworkPlan, Plan, Records

CLONE_NEWNET = 0x40000000
NETNS_RUN = Path("/run/netns")
NETNS_ETC = Path("/etc/netns")
STATE = Path("/run/pnet-lab")
ETC_ENVIRONMENT = Path("/etc/environment")
IP_TIMEOUT_S = 30.0
DNSMASQ_READY_S = 5.0
STOP_WAIT_S = 2.0
PREFIX = "pnet-"

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
    if shutil.which("dnsmasq") is None:
        return "--netns needs dnsmasq, each network's resolver (Debian: dnsmasq-base)"
    existed, mounted = NETNS_RUN.exists(), _is_mount(NETNS_RUN)
    name = f"{PREFIX}check{os.getpid()}"
    try:
        _ip("netns", "add", name)
    except LabError as exc:
        return f"--netns: this machine does not let the lab make network namespaces ({exc})"
    _ip("netns", "del", name, check=False)
    if not mounted:
        _release_run_netns(remove=not existed)
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
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:30] or "x"


def start_time(pid: int) -> str | None:
    """The process's start time (clock ticks since boot): with the pid, who it is."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, started: str | None) -> bool:
    now = start_time(pid)
    return now is not None and (started is None or now == started)


class Fabric:
    """The namespaces, links, resolvers and files of one lab; `build()` then `teardown()`."""

    def __init__(self, plan: Plan, environments: Mapping[str, Mapping[str, str]]) -> None:
        self.plan = plan
        self.environments = environments
        self.tag = secrets.token_hex(3)
        self.fabric_ns = f"{PREFIX}{self.tag}-fabric"
        self.instance_ns: dict[str, str] = {}
        used: set[str] = {self.fabric_ns}
        for inst in plan.instances:
            name = f"{PREFIX}{self.tag}-{_safe(inst.id)}"
            while name in used:
                name += "x"
            used.add(name)
            self.instance_ns[inst.id] = name
        self.state = STATE / self.tag
        self.record = STATE / f"{self.tag}.json"
        self._dnsmasq: list[subprocess.Popen[bytes]] = []
        self._recorded = False

    @property
    def namespaces(self) -> list[str]:
        return [self.fabric_ns, *self.instance_ns.values()]

    def namespace_of(self, inst: Instance) -> str:
        return self.instance_ns[inst.id]

    def env_file(self, inst: Instance) -> Path:
        return self.state / f"{_safe(inst.id)}.env"

    # ---- build ---------------------------------------------------------------------------

    def build(self) -> None:
        try:
            self._build()
        except BaseException:
            self.teardown()
            raise

    def _build(self) -> None:
        sweep_stale()
        self._write_record()
        _ip(batch=[f"netns add {name}" for name in self.namespaces])
        self._links()
        self._files()
        for net in self.plan.networks:
            self._start_dnsmasq(net)

    def _write_record(self) -> None:
        """Say what this lab is about to make, before it makes anything."""
        STATE.mkdir(mode=0o755, exist_ok=True)
        doc = {
            "pid": os.getpid(),
            "started": start_time(os.getpid()),
            "namespaces": self.namespaces,
            "etc": [str(NETNS_ETC / name) for name in self.instance_ns.values()],
            "etc_made": not NETNS_ETC.exists(),
            "run_netns_mounted": _is_mount(NETNS_RUN),
            "run_netns_existed": NETNS_RUN.exists(),
            "state": str(self.state),
            "workspace": self.plan.workspace.name,
            "instances": {
                inst.id: {
                    "service": inst.service,
                    "index": inst.index,
                    "namespace": self.instance_ns[inst.id],
                    "env": str(self.env_file(inst)),
                }
                for inst in self.plan.instances
            },
        }
        tmp = STATE / f".{self.tag}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "w") as out:
            json.dump(doc, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.record)
        self._recorded = True

    def _links(self) -> None:
        fabric = ["link set lo up"]
        by_network: dict[str, list[str]] = {}
        for k, inst in enumerate(self.plan.instances):
            veth = f"pv{k:x}"
            fabric.append(
                f"link add name {veth} type veth peer name eth0 netns {self.instance_ns[inst.id]}"
            )
            by_network.setdefault(inst.network, []).append(veth)
        for net in self.plan.networks:
            bridge = f"br{net.index}"
            fabric.append(f"link add {bridge} type bridge")
            for address, prefix in zip(net.dns_addresses, net.prefixes, strict=True):
                fabric.append(f"addr add {address}/{prefix.rsplit('/', 1)[1]} dev {bridge} nodad")
            fabric.append(f"link set {bridge} up")
            for veth in by_network.get(net.name, []):
                fabric += [f"link set {veth} master {bridge}", f"link set {veth} up"]
        _ip("-n", self.fabric_ns, batch=fabric)
        for inst in self.plan.instances:
            cmds = ["link set lo up"]
            if inst.ipv4 is not None:
                cmds.append(f"addr add {inst.ipv4}/24 dev eth0")
            if inst.ipv6 is not None:
                cmds.append(f"addr add {inst.ipv6}/64 dev eth0 nodad")
            cmds.append("link set eth0 up")
            _ip("-n", self.instance_ns[inst.id], batch=cmds)

    def _files(self) -> None:
        self.state.mkdir(mode=0o755, exist_ok=True)
        NETNS_ETC.mkdir(mode=0o755, exist_ok=True)
        cover_environment = ETC_ENVIRONMENT.is_file()
        for inst in self.plan.instances:
            net = self.plan.network(inst.network)
            assert net is not None
            folder = NETNS_ETC / self.instance_ns[inst.id]
            folder.mkdir(mode=0o755, exist_ok=True)
            lines = [f"nameserver {address}" for address in net.dns_addresses]
            (folder / "resolv.conf").write_text(
                "\n".join([*lines, "options timeout:1 attempts:2", ""])
            )
            environ = self.environments.get(inst.id, {})
            _environ.write_file(self.env_file(inst), environ)
            if cover_environment:
                _environ.write_file(folder / "environment", environ)
        for net in self.plan.networks:
            hosts = self.state / f"net{net.index}.hosts"
            hosts.write_text(hosts_text(net.zone))
            hosts.chmod(0o644)

    def _start_dnsmasq(self, net: NetworkPlan) -> None:
        hosts = self.state / f"net{net.index}.hosts"
        log = self.state / f"net{net.index}.log"
        cmd = [
            shutil.which("ip") or "ip",
            "netns",
            "exec",
            self.fabric_ns,
            shutil.which("dnsmasq") or "dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--local=/#/",
            f"--addn-hosts={hosts}",
            "--bind-interfaces",
            *(f"--listen-address={a}" for a in net.dns_addresses),
            "--port=53",
            "--local-ttl=5",
            "--pid-file",
            "--log-facility=-",
        ]
        with log.open("wb") as err:
            proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
            )
        self._dnsmasq.append(proc)
        self._wait_resolver(net, proc, log)

    def _wait_resolver(self, net: NetworkPlan, proc: subprocess.Popen[bytes], log: Path) -> None:
        """Until dnsmasq answers on the bridge (bounded); its last words if it ended."""
        query = dns.message.make_query("pnet-lab-ready.invalid", "A")
        address = net.dns_addresses[0]

        def ask() -> bool:
            try:
                dns.query.udp(query, address, port=53, timeout=0.2)
            except Exception:
                return False
            return True

        deadline = time.monotonic() + DNSMASQ_READY_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                words = log.read_text(errors="replace").strip().splitlines()
                raise LabError(
                    f"dnsmasq for {net.name} ended: {words[-1] if words else proc.returncode}"
                )
            if in_netns(self.fabric_ns, ask):
                return
            time.sleep(0.05)
        raise LabError(f"dnsmasq for {net.name} did not answer within {DNSMASQ_READY_S:g} s")

    # ---- teardown ------------------------------------------------------------------------

    def teardown(self) -> None:
        """Stop every process in the lab's namespaces, delete them (their links go with
        them) and every file and folder the lab made. Safe to call twice."""
        for proc in self._dnsmasq:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._dnsmasq:
            try:
                proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_WAIT_S)
        self._dnsmasq.clear()
        if self._recorded:
            _sweep(self.record, _read_record(self.record) or {})
            self._recorded = False


def hosts_text(zone: Mapping[str, Records]) -> str:
    """A hosts file of the zone for dnsmasq: one address and name a line."""
    lines = []
    for name, records in zone.items():
        for address in (*records.a, *records.aaaa):
            lines.append(f"{address} {name}")
    return "\n".join(lines) + "\n"


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def live_labs() -> list[dict[str, Any]]:
    """The records of the labs running on this machine, newest first."""
    out: list[tuple[float, dict[str, Any]]] = []
    if not STATE.is_dir():
        return []
    for path in STATE.glob("*.json"):
        doc = _read_record(path)
        if doc and _alive(int(doc.get("pid", 0)), doc.get("started")):
            doc["record"] = str(path)
            out.append((path.stat().st_mtime, doc))
    return [doc for _, doc in sorted(out, key=lambda pair: pair[0], reverse=True)]


def sweep_stale() -> list[str]:
    """Remove what labs whose process is gone left behind (killed before they could stop):
    the processes in their namespaces, the namespaces, their files. Returns the namespaces."""
    removed: list[str] = []
    if NETNS_RUN.is_dir():
        for path in NETNS_RUN.glob(f"{PREFIX}check*"):
            pid = path.name.removeprefix(f"{PREFIX}check")
            if pid.isdigit() and not _alive(int(pid), None):
                _ip("netns", "del", path.name, check=False)
                removed.append(path.name)
    if not STATE.is_dir():
        return removed
    for tmp in STATE.glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if not (pid.isdigit() and _alive(int(pid), None)):
            tmp.unlink(missing_ok=True)
    for path in STATE.glob("*.json"):
        doc = _read_record(path)
        if doc is None:
            continue
        if _alive(int(doc.get("pid", 0)), doc.get("started")):
            continue
        removed += _sweep(path, doc)
    return removed


def _sweep(record: Path, doc: Mapping[str, Any]) -> list[str]:
    names = [str(n) for n in doc.get("namespaces", []) if str(n).startswith(PREFIX)]
    present = [n for n in names if (NETNS_RUN / n).exists()]
    _kill_inside(present)
    for name in present:
        _ip("netns", "del", name, check=False)
    for folder in doc.get("etc", []):
        path = Path(str(folder))
        if path.parent == NETNS_ETC and path.name.startswith(PREFIX):
            shutil.rmtree(path, ignore_errors=True)
    state = Path(str(doc.get("state", "")))
    if state.parent == STATE and state.name:
        shutil.rmtree(state, ignore_errors=True)
    record.unlink(missing_ok=True)
    if doc.get("etc_made"):
        with contextlib.suppress(OSError):
            NETNS_ETC.rmdir()
    if not doc.get("run_netns_mounted"):
        _release_run_netns(remove=not doc.get("run_netns_existed", True))
    with contextlib.suppress(OSError):
        STATE.rmdir()
    return present


def _kill_inside(names: list[str]) -> None:
    """Stop every process whose network namespace is one of `names` (bounded)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _pids_in(names)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline and _pids_in(names):
            time.sleep(0.05)


def _pids_in(names: list[str]) -> list[int]:
    pids: set[int] = set()
    for name in names:
        out = _ip("netns", "pids", name, check=False)
        pids.update(int(p) for p in out.split() if p.isdigit())
    pids.discard(os.getpid())
    return sorted(pids)


def _mount_id(path: Path) -> int | None:
    """The id of the mount that holds `path` as this process sees it (hidden ones aside)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        for line in Path(f"/proc/self/fdinfo/{fd}").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == "mnt_id":
                return int(value)
    except (OSError, ValueError):
        return None
    finally:
        os.close(fd)
    return None


def _is_mount(path: Path) -> bool:
    """Whether a mount sits on `path`, a bind mount on its own file system included (which
    `os.path.ismount` does not see)."""
    mine = _mount_id(path)
    return mine is not None and mine != _mount_id(path.parent)


def _release_run_netns(*, remove: bool) -> None:
    """Unmount `/run/netns` once it holds no namespace, when it was not a mount before a
    lab ran (`ip netns add` makes it one), and remove it when it did not exist; never while
    another namespace is there."""
    try:
        if any(NETNS_RUN.iterdir()):
            return
    except OSError:
        return
    umount = shutil.which("umount")
    if umount is not None:
        for _ in range(2):
            if not _is_mount(NETNS_RUN):
                break
            subprocess.run(
                [umount, str(NETNS_RUN)], capture_output=True, timeout=IP_TIMEOUT_S, check=False
            )
    if remove and not _is_mount(NETNS_RUN):
        with contextlib.suppress(OSError):
            NETNS_RUN.rmdir()
