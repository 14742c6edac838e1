"""`python -m bench.probes [FIXTURE] [--runs N] [--format text|json] [--in-process]`: how long
each probe kind takes against the lab.

Starts the lab on the fixture (default: the demo, fixtures/render-acme.yaml) in its own
process (`python -m pnet.lab`, so the lab's work does not share the probes' event loop or
interpreter; `--in-process` runs it in the bench's own loop instead), then
- times each probe kind (dns, discovery, tcp, http, redis, postgres) a bounded number of times,
  one after another, and prints the median and 90th percentile in milliseconds;
- sweeps every service at once (DNS of its name, TCP to every instance and port, and the
  service's protocol on its first address), with bounded concurrency, and compares the sweep's
  wall time with its slowest single probe and with the sum of all of them.

The probes are `pnet.probes`; a kind the probes package does not have yet is timed with the
bench's own minimal client, and the table says which client measured it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import importlib.resources
import json
import re
import signal
import statistics
import struct
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pnet.errors import InputError
from pnet.lab import Lab, LabError
from pnet.lab import faults as lab_faults
from pnet.lab.faults import Faults
from pnet.lab.network import Plan, plan, protocol_of
from pnet.model import Kind, Service, Workspace

DEFAULT_FIXTURE = "render-acme.yaml"
DEFAULT_RUNS = 30
MAX_RUNS = 1000
PROBE_TIMEOUT_S = 1.0
SWEEP_CONCURRENCY = 64

LAB_START_S = 60.0
NETWORK_LINE = re.compile(r"^(?:region|environment) (\S+) \(.*\): nameserver (\S+):(\d+)$")

Probe = Callable[[], Awaitable[bool]]


class LabView(Protocol):
    """What the bench needs of a running lab."""

    @property
    def workspace(self) -> Workspace: ...

    @property
    def nameserver(self) -> tuple[str, int]: ...

    @property
    def faults(self) -> Faults: ...

    def nameserver_for(self, location: str | None) -> tuple[str, int]: ...

    def addresses(self, service_name: str) -> list[str]: ...


class LabProcess:
    """`python -m pnet.lab FIXTURE` in a child process; addresses come from the same plan."""

    def __init__(self, workspace: Workspace, faults: Faults, fixture: str) -> None:
        self._workspace = workspace
        self._faults = faults
        self.fixture = fixture
        self.plan: Plan = plan(workspace, faults)
        self._nameserver: tuple[str, int] | None = None
        self._networks: dict[str, tuple[str, int]] = {}
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def faults(self) -> Faults:
        return self._faults

    @property
    def nameserver(self) -> tuple[str, int]:
        assert self._nameserver is not None
        return self._nameserver

    def nameserver_for(self, location: str | None) -> tuple[str, int]:
        return self.nameserver if location is None else self._networks[location]

    def addresses(self, service_name: str) -> list[str]:
        svc = self._workspace.service(service_name)
        if svc is None:
            raise KeyError(service_name)
        return self.plan.addresses(svc)

    async def __aenter__(self) -> LabProcess:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "pnet.lab",
            self.fixture,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        try:
            async with asyncio.timeout(LAB_START_S):
                first = (await self._proc.stdout.readline()).decode().strip()
                if not first.startswith("nameserver "):
                    err = b""
                    if self._proc.stderr is not None:
                        err = await self._proc.stderr.read()
                    raise LabError(err.decode().strip() or "the lab did not start")
                host, _, port = first.split()[1].rpartition(":")
                self._nameserver = (host, int(port))
                for _ in range(100_000):
                    if len(self._networks) == len(self.plan.networks):
                        break
                    line = (await self._proc.stdout.readline()).decode()
                    if not line:
                        raise LabError("the lab stopped before it listed its networks")
                    m = NETWORK_LINE.match(line.strip())
                    if m:
                        self._networks[m.group(1)] = (m.group(2), int(m.group(3)))
                if self.plan.networks:
                    first = self._networks[self.plan.networks[0].name][0]
                    self.plan = plan(self._workspace, first_network=int(first.split(".")[1]))
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop()

    async def _stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        self._proc = None
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(20):
                await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.communicate()


@dataclass
class Timing:
    kind: str
    target: str
    client: str
    ms: list[float]
    failures: int

    @property
    def median(self) -> float:
        return statistics.median(self.ms) if self.ms else float("nan")

    @property
    def p90(self) -> float:
        if len(self.ms) < 2:
            return self.median
        return statistics.quantiles(self.ms, n=10, method="inclusive")[8]


def _probe_module(name: str) -> Any | None:
    try:
        return importlib.import_module(f"pnet.probes.{name}")
    except ImportError:
        return None


async def _timed(probe: Probe) -> tuple[float, bool]:
    start = time.perf_counter()
    try:
        ok = await probe()
    except Exception:
        ok = False
    return (time.perf_counter() - start) * 1000.0, ok


# ---- minimal clients for kinds the probes package does not have ----------------------------


async def _redis_ping(host: str, port: int, password: str | None) -> bool:
    async with asyncio.timeout(PROBE_TIMEOUT_S):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            if password is not None:
                secret = password.encode()
                writer.write(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret))
                if not (await reader.readline()).startswith(b"+OK"):
                    return False
            writer.write(b"*1\r\n$4\r\nPING\r\n")
            return (await reader.readline()) == b"+PONG\r\n"
        finally:
            writer.close()
            await writer.wait_closed()


async def _postgres_hello(
    host: str, port: int, user: str, database: str, password: str | None
) -> bool:
    async with asyncio.timeout(PROBE_TIMEOUT_S):
        reader, writer = await asyncio.open_connection(host, port)
        try:
            params = b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
            body = struct.pack("!I", 196608) + params
            writer.write(struct.pack("!I", len(body) + 4) + body)
            for _ in range(64):
                tag = await reader.readexactly(1)
                (length,) = struct.unpack("!I", await reader.readexactly(4))
                payload = await reader.readexactly(length - 4)
                if tag == b"E":
                    return False
                if tag == b"R":
                    (code,) = struct.unpack("!I", payload[:4])
                    if code == 5 and password is not None:
                        inner = hashlib.md5((password + user).encode()).hexdigest()
                        digest = "md5" + hashlib.md5(inner.encode() + payload[4:8]).hexdigest()
                        secret = digest.encode() + b"\0"
                        writer.write(b"p" + struct.pack("!I", len(secret) + 4) + secret)
                    elif code == 3 and password is not None:
                        secret = password.encode() + b"\0"
                        writer.write(b"p" + struct.pack("!I", len(secret) + 4) + secret)
                    elif code != 0:
                        return False
                if tag == b"Z":
                    writer.write(b"X\0\0\0\4")
                    return True
            return False
        finally:
            writer.close()
            await writer.wait_closed()


# ---- the probes, per kind -------------------------------------------------------------------


class Prober:
    """Builds one probe per kind and target, with pnet.probes where it has them."""

    def __init__(self, lab: LabView) -> None:
        self.lab = lab
        self.dns = _probe_module("dns")
        self.discovery = _probe_module("discovery")
        self.tcp = _probe_module("tcp")
        self.http = _probe_module("http")
        self.redis = _probe_module("redis")
        self.postgres = _probe_module("postgres")

    def client(self, kind: str) -> str:
        names = {
            "dns": (self.dns, "resolve"),
            "discovery": (self.discovery, "discover"),
            "tcp": (self.tcp, "connect"),
            "http": (self.http, "get"),
            "redis": (self.redis, "ping"),
            "postgres": (self.postgres, "hello"),
        }
        module, func = names[kind]
        if module is not None and hasattr(module, func):
            return f"pnet.probes.{kind}.{func}"
        if kind in ("redis", "postgres"):
            return "bench's own client (no pnet.probes." + kind + " yet)"
        return "missing"

    def dns_probe(self, name: str, location: str | None, kind: str = "dns") -> Probe:
        nameserver = self.lab.nameserver_for(location)
        module = self.discovery if kind == "discovery" else self.dns
        func = "discover" if kind == "discovery" else "resolve"

        async def run() -> bool:
            assert module is not None
            result = await getattr(module, func)(
                name, nameserver=nameserver, timeout=PROBE_TIMEOUT_S
            )
            return bool(result.ok)

        return run

    def tcp_probe(self, host: str, port: int) -> Probe:
        async def run() -> bool:
            assert self.tcp is not None
            result = await self.tcp.connect(host, port, timeout=PROBE_TIMEOUT_S)
            return bool(result.ok)

        return run

    def http_probe(self, svc: Service, address: str, port: int) -> Probe:
        path = svc.health_path or "/"
        host = f"[{address}]" if ":" in address else address
        url = f"http://{svc.host or host}:{port}{path}"

        async def run() -> bool:
            assert self.http is not None
            result = await self.http.get(url, address=address, timeout=PROBE_TIMEOUT_S)
            return bool(result.ok)

        return run

    def redis_probe(self, svc: Service, address: str, port: int) -> Probe:
        password = lab_faults.of(self.lab.faults, svc.name).auth
        module = self.redis
        if module is not None and hasattr(module, "ping"):

            async def probe() -> bool:
                assert module is not None
                result = await module.ping(
                    address, port, password=password, timeout=PROBE_TIMEOUT_S
                )
                return bool(result.ok)

            return probe

        async def own() -> bool:
            return await _redis_ping(address, port, password)

        return own

    def postgres_probe(self, svc: Service, address: str, port: int) -> Probe:
        user = svc.user or "postgres"
        database = svc.database or user
        password = lab_faults.of(self.lab.faults, svc.name).auth or svc.password
        module = self.postgres
        if module is not None and hasattr(module, "hello"):

            async def probe() -> bool:
                assert module is not None
                result = await module.hello(
                    address,
                    port,
                    user=user,
                    database=database,
                    password=password,
                    timeout=PROBE_TIMEOUT_S,
                )
                return bool(result.ok)

            return probe

        async def own() -> bool:
            return await _postgres_hello(address, port, user, database, password)

        return own

    def protocol_probe(self, svc: Service, address: str, port: int) -> tuple[str, Probe] | None:
        proto = protocol_of(svc, lab_faults.of(self.lab.faults, svc.name))
        if proto == "redis":
            return "redis", self.redis_probe(svc, address, port)
        if proto == "postgres":
            return "postgres", self.postgres_probe(svc, address, port)
        if proto == "http" and self.http is not None:
            return "http", self.http_probe(svc, address, port)
        return None


def _first(ws: Workspace, faults: Faults, kind: Kind, healthy: bool = True) -> Service:
    for svc in ws.services:
        if svc.kind is kind and svc.host and svc.ports and (not healthy or svc.name not in faults):
            return svc
    for svc in ws.services:
        if svc.kind is kind and svc.host and svc.ports:
            return svc
    raise LabError(f"the workspace has no {kind} service to time")


async def time_kinds(lab: LabView, prober: Prober, runs: int) -> list[Timing]:
    ws = lab.workspace
    web = _first(ws, lab.faults, Kind.WEB)
    redis = _first(ws, lab.faults, Kind.KEYVALUE, healthy=False)
    postgres = _first(ws, lab.faults, Kind.POSTGRES)
    assert web.host is not None
    web_address = lab.addresses(web.name)[0]
    work: list[tuple[str, str, Probe]] = [
        ("dns", web.host, prober.dns_probe(web.host, web.location)),
        (
            "discovery",
            web.discovery_host or web.host,
            prober.dns_probe(web.discovery_host or web.host, web.location, "discovery"),
        ),
        ("tcp", f"{web_address}:{web.ports[0]}", prober.tcp_probe(web_address, web.ports[0])),
        (
            "http",
            f"{web.host}:{web.ports[0]}{web.health_path or '/'}",
            prober.http_probe(web, web_address, web.ports[0]),
        ),
    ]
    for svc, kind in ((redis, "redis"), (postgres, "postgres")):
        address = lab.addresses(svc.name)[0]
        found = prober.protocol_probe(svc, address, svc.ports[0])
        assert found is not None
        work.append((kind, f"{svc.host}:{svc.ports[0]}", found[1]))
    timings = []
    for kind, target, probe in work:
        if prober.client(kind) == "missing":
            timings.append(Timing(kind, target, "missing", [], 0))
            continue
        ms: list[float] = []
        failures = 0
        await _timed(probe)
        for _ in range(runs):
            elapsed, ok = await _timed(probe)
            ms.append(elapsed)
            failures += not ok
        timings.append(Timing(kind, target, prober.client(kind), ms, failures))
    return timings


@dataclass
class Sweep:
    probes: int
    services: int
    wall_ms: float
    slowest_ms: float
    slowest: str
    total_ms: float
    failed: int


async def sweep(lab: LabView, prober: Prober) -> Sweep:
    jobs: list[tuple[str, Probe]] = []
    services = 0
    for svc in lab.workspace.services:
        if not (svc.host and svc.host_known and svc.type.has_internal_address):
            continue
        services += 1
        jobs.append((f"dns {svc.host}", prober.dns_probe(svc.host, svc.location)))
        addresses = lab.addresses(svc.name)
        for address in addresses:
            for port in svc.ports:
                jobs.append((f"tcp {address}:{port}", prober.tcp_probe(address, port)))
        if addresses and svc.ports:
            found = prober.protocol_probe(svc, addresses[0], svc.ports[0])
            if found is not None:
                jobs.append((f"{found[0]} {addresses[0]}:{svc.ports[0]}", found[1]))
    gate = asyncio.Semaphore(SWEEP_CONCURRENCY)

    async def one(probe: Probe) -> tuple[float, bool]:
        async with gate:
            return await _timed(probe)

    start = time.perf_counter()
    results = await asyncio.gather(*(one(probe) for _, probe in jobs))
    wall = (time.perf_counter() - start) * 1000.0
    slowest_index = max(range(len(results)), key=lambda i: results[i][0])
    return Sweep(
        probes=len(jobs),
        services=services,
        wall_ms=wall,
        slowest_ms=results[slowest_index][0],
        slowest=jobs[slowest_index][0],
        total_ms=sum(ms for ms, _ in results),
        failed=sum(1 for _, ok in results if not ok),
    )


def render(
    fixture: str, runs: int, lab: LabView, timings: list[Timing], result: Sweep, where: str
) -> str:
    host, port = lab.nameserver
    lines = [
        f"pnet bench: {fixture}, {runs} runs per kind, lab {where} (nameserver {host}:{port})",
        "",
    ]
    lines.append(f"{'kind':<10} {'median ms':>10} {'p90 ms':>8} {'fail':>5}  target / client")
    for t in timings:
        if not t.ms:
            lines.append(f"{t.kind:<10} {'-':>10} {'-':>8} {'-':>5}  {t.target} / {t.client}")
            continue
        lines.append(
            f"{t.kind:<10} {t.median:>10.2f} {t.p90:>8.2f} {t.failures:>5}  {t.target} / {t.client}"
        )
    lines.append("")
    lines.append(
        f"sweep: {result.probes} probes over {result.services} services, "
        f"at most {SWEEP_CONCURRENCY} at once, timeout {PROBE_TIMEOUT_S:g} s"
    )
    lines.append(f"  wall time            {result.wall_ms:>9.1f} ms")
    lines.append(f"  slowest single probe {result.slowest_ms:>9.1f} ms  ({result.slowest})")
    lines.append(f"  sum of all probes    {result.total_ms:>9.1f} ms")
    lines.append(
        f"  not ok               {result.failed:>9d}     (the fixture's planted faults: "
        "down, blackhole, wrong bind, 5xx...)"
    )
    return "\n".join(lines)


def as_json(
    fixture: str, runs: int, timings: list[Timing], result: Sweep, where: str
) -> dict[str, Any]:
    return {
        "fixture": fixture,
        "runs": runs,
        "lab": where,
        "kinds": [
            {
                "kind": t.kind,
                "target": t.target,
                "client": t.client,
                "median_ms": round(t.median, 3) if t.ms else None,
                "p90_ms": round(t.p90, 3) if t.ms else None,
                "failures": t.failures,
            }
            for t in timings
        ],
        "sweep": {
            "probes": result.probes,
            "services": result.services,
            "concurrency": SWEEP_CONCURRENCY,
            "timeout_s": PROBE_TIMEOUT_S,
            "wall_ms": round(result.wall_ms, 1),
            "slowest_ms": round(result.slowest_ms, 1),
            "slowest": result.slowest,
            "sum_ms": round(result.total_ms, 1),
            "not_ok": result.failed,
        },
    }


async def bench(
    workspace: Workspace,
    faults: Faults,
    fixture: str,
    runs: int,
    in_process: bool = False,
    output: str = "text",
) -> str:
    lab: Lab | LabProcess
    if in_process:
        lab, where = Lab(workspace, faults), "in the bench's event loop"
    else:
        lab, where = LabProcess(workspace, faults, fixture), "in its own process"
    async with lab:
        prober = Prober(lab)
        timings = await time_kinds(lab, prober, runs)
        result = await sweep(lab, prober)
        if output == "json":
            return json.dumps(as_json(fixture, runs, timings, result, where), indent=2)
        return render(fixture, runs, lab, timings, result, where)


def demo_fixture() -> Path:
    """The demo fixture, from the installed package (`pnet.fixtures`)."""
    resource = importlib.resources.files("pnet.fixtures") / DEFAULT_FIXTURE
    return Path(str(resource))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.probes", description="Time each probe kind against the lab."
    )
    parser.add_argument("fixture", nargs="?", metavar="FIXTURE", help="default: the demo fixture")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, metavar="N")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--in-process", action="store_true", help="run the lab in the bench's own event loop"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.runs <= MAX_RUNS:
        print(f"pnet: error: --runs {args.runs}: between 1 and {MAX_RUNS}", file=sys.stderr)
        return 2
    from pnet.sources import fixture

    if args.fixture is None:
        args.fixture = str(demo_fixture())
    try:
        read = fixture.read(args.fixture)
        text = asyncio.run(
            bench(read.workspace, read.lab, args.fixture, args.runs, args.in_process, args.format)
        )
    except (InputError, LabError) as exc:
        print(f"pnet: error: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
