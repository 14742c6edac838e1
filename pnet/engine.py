"""The engine: which probes each target needs, run concurrently, then the diagnosis.

Used by `pnet-doctor` and by the app. `plan()` says what will be asked (one job per probe,
keyed so a UI can show a row per job before it lands), `stream()` runs the jobs and yields
each result as it lands, then the final `Report`. Probes that depend on a name (TCP, HTTP,
handshakes) wait for that name's DNS answer, asked once per host and network.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pnet.diagnose import diagnose
from pnet.diagnose.finding import Finding, Severity
from pnet.model import Kind, Network, Platform, Service, Workspace
from pnet.platforms import railway, render
from pnet.probes.result import Outcome, ProbeResult
from pnet.probes.runner import Job, run_jobs
from pnet.secrets import mask_text
from pnet.targets import (
    HTTP_SCHEMES,
    POSTGRES_SCHEMES,
    REDIS_SCHEMES,
    Target,
    credential_keys,
    is_private_host,
)

JSON_VERSION = 1
SWEEP_PORTS = 8
PROBE_ORDER = ("dns", "discovery", "tcp", "http", "redis", "postgres")
MAX_INSTANCES = 100


@dataclass(frozen=True)
class Options:
    nameserver: tuple[str, int] | None = None
    dns_timeout: float = 2.0
    tcp_timeout: float = 2.0
    http_timeout: float = 5.0
    deadline: float | None = None
    concurrency: int | None = None
    offline: bool = False
    nameserver_for: Callable[[str | None], tuple[str, int]] | None = None

    def scaled(self, factor: float) -> Options:
        return Options(
            nameserver=self.nameserver,
            dns_timeout=self.dns_timeout * factor,
            tcp_timeout=self.tcp_timeout * factor,
            http_timeout=self.http_timeout * factor,
            deadline=self.deadline,
            concurrency=self.concurrency,
            offline=self.offline,
            nameserver_for=self.nameserver_for,
        )


@dataclass(frozen=True)
class Check:
    target: Target
    results: tuple[ProbeResult, ...]
    findings: tuple[Finding, ...]
    elapsed_ms: float | None = None

    @property
    def status(self) -> str:
        if any(f.severity is Severity.ERROR for f in self.findings):
            return "error"
        if any(f.severity is Severity.WARNING for f in self.findings):
            return "warning"
        return "ok"

    @property
    def ms(self) -> float:
        if self.elapsed_ms is not None:
            return self.elapsed_ms
        return max((r.elapsed_ms for r in self.results), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target.subject,
            "value": self.target.display,
            "service": self.target.service,
            "from": self.target.source,
            "how": self.target.how,
            "status": self.status,
            "ms": round(self.ms, 1),
            "probes": [_probe_json(r) for r in self.results],
        }


@dataclass(frozen=True)
class Report:
    workspace: Workspace
    source: Service | None
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]
    offline: bool = False
    elapsed_ms: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "errors": sum(1 for f in self.findings if f.severity is Severity.ERROR),
            "warnings": sum(1 for f in self.findings if f.severity is Severity.WARNING),
            "ok": sum(1 for c in self.checks if c.status == "ok"),
        }

    @property
    def exit_code(self) -> int:
        return 1 if self.summary["errors"] else 0

    def findings_for(self, subject: str) -> list[Finding]:
        return [f for f in self.findings if f.subject == subject]

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "workspace": workspace_json(self.workspace),
            "source": service_json(self.source) if self.source else None,
            "offline": self.offline,
            "checks": [c.to_json() for c in self.checks],
            "findings": [f.to_json() for f in self.findings],
            "summary": self.summary,
        }


@dataclass(frozen=True)
class ProbeEvent:
    subject: str
    result: ProbeResult


@dataclass(frozen=True)
class ReportEvent:
    report: Report


Event = ProbeEvent | ReportEvent


def service_json(svc: Service) -> dict[str, Any]:
    out: dict[str, Any] = {"name": svc.name, "type": svc.kind.value}
    if svc.platform is Platform.RENDER:
        out["region"] = svc.region
    else:
        out["environment"] = svc.environment
    out["plan"] = svc.plan
    out["host"] = svc.host
    out["ports"] = list(svc.ports)
    return out


def workspace_json(ws: Workspace) -> dict[str, Any]:
    return {
        "name": ws.name,
        "platform": ws.platform.value,
        "services": [service_json(s) for s in ws.services],
    }


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    return value


def _probe_json(r: ProbeResult) -> dict[str, Any]:
    out = r.to_json()
    out["target"] = mask_text(str(out["target"]))
    out["key"] = mask_text(str(out["key"]))
    out["detail"] = mask_text(str(out["detail"]))
    out["evidence"] = _masked(out["evidence"])
    return dict(out)


# ---------------------------------------------------------------------------------------------
# Planning


@dataclass
class _Names:
    """Answers shared by several jobs, asked once whoever needs them first.

    DNS per (host, nameserver), and each target's TCP connection per address family (its
    HTTP and handshake jobs go only where a connection was accepted).
    """

    options: Options
    tasks: dict[Any, asyncio.Task[ProbeResult]] = field(default_factory=dict)

    async def once(self, key: Any, make: Callable[[], Awaitable[ProbeResult]]) -> ProbeResult:
        task = self.tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self.tasks[key] = task
        return await asyncio.shield(task)

    async def resolve(self, host: str, nameserver: tuple[str, int] | None) -> ProbeResult:
        from pnet.probes import dns

        return await self.once(
            ("dns", host, nameserver),
            lambda: dns.resolve(host, nameserver=nameserver, timeout=self.options.dns_timeout),
        )

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)


def _nameserver(options: Options, source: Service | None) -> tuple[str, int] | None:
    if options.nameserver_for is not None:
        try:
            return options.nameserver_for(source.location if source else None)
        except (KeyError, LookupError):
            return options.nameserver
    return options.nameserver


def _probe_plan(workspace: Workspace, source: Service | None, target: Target) -> list[str]:
    """The probe kinds a target needs: none for what static rules already settle, nor for a
    name the model only stands in for (a Blueprint service whose slug suffix is not known)."""
    svc = workspace.service(target.service) if target.service else None
    if target.how == "public-url":
        return []
    if svc is None:
        if not is_private_host(workspace, target.host):
            return []
    else:
        addressable = svc.type.receives and svc.type.has_internal_address
        stand_in = not svc.host_known and target.host == (svc.host or "").lower()
        if stand_in or not addressable:
            return []
    if target.port is None:
        return ["dns"]
    if svc is not None and source is not None and svc.location != source.location:
        return ["dns"]
    if (
        svc is not None
        and source is not None
        and source.project
        and svc.project
        and source.project != svc.project
    ):
        return ["dns"]
    settled = _settled(workspace, source, target)
    if "client-side-private-url" in settled:
        return []
    if settled & {"cross-region", "cross-environment"}:
        return ["dns"]
    if settled & {"reserved-port", "wrong-port", "wrong-protocol"}:
        return ["dns", "tcp"]
    kinds = ["dns"]
    if svc is not None and svc.type.has_discovery and svc.discovery_host and svc.instances > 1:
        kinds.append("discovery")
    kinds.append("tcp")
    if target.scheme in ("http", "https") or (
        target.scheme is None
        and svc is not None
        and svc.kind in (Kind.WEB, Kind.PSERV)
        and svc.health_path
        and target.origin == "service"
    ):
        kinds.append("http")
    if target.scheme in REDIS_SCHEMES or (
        target.scheme is None and svc and svc.kind is Kind.KEYVALUE
    ):
        kinds.append("redis")
    if target.scheme in POSTGRES_SCHEMES or (
        target.scheme is None and svc and svc.kind is Kind.POSTGRES
    ):
        kinds.append("postgres")
    if svc is not None and svc.kind.is_datastore and target.scheme in HTTP_SCHEMES:
        kinds = [k for k in kinds if k != "http"]
    return kinds


def _settled(workspace: Workspace, source: Service | None, target: Target) -> set[str]:
    """The kinds static rules already find for a target: probes past them prove nothing."""
    from pnet.diagnose import static
    from pnet.diagnose.common import Context

    return {f.kind for f in static.target_findings(Context(workspace, source), target)}


def _families(workspace: Workspace, svc: Service | None) -> list[int | None]:
    if svc is None:
        return [None]
    network = workspace.network_of(svc)
    if network is Network.IPV6_ONLY:
        return [6]
    if network is Network.DUAL_STACK:
        return [4, 6]
    return [4]


def _pick(dns_result: ProbeResult, family: int | None) -> str | None:
    a = [str(x) for x in dns_result.evidence.get("a") or []]
    aaaa = [str(x) for x in dns_result.evidence.get("aaaa") or []]
    if family == 4:
        return a[0] if a else None
    if family == 6:
        return aaaa[0] if aaaa else None
    both = a + aaaa
    return both[0] if both else None


def _skipped(kind: str, target: str, why: str, outcome: Outcome, key: str) -> ProbeResult:
    return ProbeResult(
        kind=kind,
        target=target,
        outcome=outcome,
        elapsed_ms=0.0,
        detail=f"not tried: {why}",
        evidence={"skipped": True},
        key=key,
    )


def _credentials(
    target: Target, svc: Service | None = None, source: Service | None = None
) -> tuple[str | None, str | None, str | None]:
    """(user, password, database) for the protocol handshakes: from the target's value, or for
    the service itself (the sweep) from the model, as the platform's own clients would.

    What the value lacks comes from the variables a client reads beside it: libpq's PGPASSWORD,
    PGUSER and PGDATABASE for Postgres, and for a Redis host variable its password variable.
    """
    if target.origin == "service" and svc is not None:
        return svc.user or target.user, svc.password, svc.database
    password: str | None = None
    database: str | None = None
    if target.scheme is not None:
        try:
            parts = urlsplit(target.raw.strip())
        except ValueError:
            return target.user, None, None
        password = unquote(parts.password) if parts.password else None
        database = parts.path.lstrip("/") or None
    user = target.user
    if source is not None and password is None and svc is not None:
        env = {v.key: v.value for v in source.env if v.value}
        if svc.kind is Kind.POSTGRES and (
            target.scheme is None or target.scheme in POSTGRES_SCHEMES
        ):
            password = env.get("PGPASSWORD")
            user = user or env.get("PGUSER")
            database = database or env.get("PGDATABASE")
        elif svc.kind is Kind.KEYVALUE and target.scheme is None:
            for key in credential_keys(target.key, "PASSWORD"):
                password = password or env.get(key)
            for key in credential_keys(target.key, "USER"):
                user = user or env.get(key)
    return user, password, database


def plan(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    options: Options,
    *,
    names: _Names | None = None,
) -> list[tuple[str, Job]]:
    """The probes each target needs, as (subject, job), in a stable order."""
    if options.offline:
        return []
    names = names or _Names(options)
    jobs: list[tuple[str, Job]] = []
    for target in targets:
        src = workspace.service(target.source) if target.source else source
        for job in _jobs(workspace, src, target, options, names):
            jobs.append((target.subject, job))
    return jobs


def _jobs(
    workspace: Workspace,
    source: Service | None,
    target: Target,
    options: Options,
    names: _Names,
) -> list[Job]:
    kinds = _probe_plan(workspace, source, target)
    if not kinds:
        return []
    svc = workspace.service(target.service) if target.service else None
    ns = _nameserver(options, source)
    host = target.host
    port = target.port or 0
    subject = target.subject
    out: list[Job] = []
    dns_timeout = options.dns_timeout

    async def resolved() -> ProbeResult:
        return await names.resolve(host, ns)

    def dns_job() -> Job:
        async def run() -> ProbeResult:
            r = await resolved()
            return _rekey(r, f"{subject}|dns")

        return Job(f"{subject}|dns", run, dns_timeout + 0.5, "dns", host)

    out.append(dns_job())
    if "discovery" in kinds and svc is not None and svc.discovery_host:
        out.append(_discovery_job(subject, svc, target, ns, options, with_http="http" in kinds))
    connections: list[Callable[[], Awaitable[ProbeResult]]] = []
    if "tcp" in kinds:
        for family in _families(workspace, svc):
            job, connected = _tcp_job(subject, host, port, family, resolved, options, names)
            out.append(job)
            connections.append(connected)

    async def accepted() -> tuple[str | None, ProbeResult | None]:
        """The first address that accepted a connection, else the failure to report."""
        first: ProbeResult | None = None
        for connected in connections:
            r = await connected()
            if r.ok:
                return str(r.evidence.get("address") or ""), None
            first = first or r
        return None, first

    if "http" in kinds:
        out.append(_http_job(subject, target, svc, accepted, options))
    if "redis" in kinds:
        out.append(_redis_job(subject, target, svc, accepted, options, source))
    if "postgres" in kinds:
        out.append(_postgres_job(subject, target, svc, accepted, options, source))
    return out


Accepted = Callable[[], Awaitable[tuple[str | None, ProbeResult | None]]]


def _not_connected(kind: str, shown: str, failure: ProbeResult | None, key: str) -> ProbeResult:
    if failure is None:
        return _skipped(kind, shown, "no address to connect to", Outcome.ERROR, key)
    why = "no connection" if failure.evidence.get("skipped") else f"TCP {failure.outcome}"
    return _skipped(kind, shown, why, failure.outcome, key)


def _rekey(r: ProbeResult, key: str) -> ProbeResult:
    from dataclasses import replace

    return replace(r, key=key)


def _hp(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _tcp_job(
    subject: str,
    host: str,
    port: int,
    family: int | None,
    resolved: Callable[[], Awaitable[ProbeResult]],
    options: Options,
    names: _Names,
) -> tuple[Job, Callable[[], Awaitable[ProbeResult]]]:
    suffix = f"tcp{family}" if family else "tcp"
    key = f"{subject}|{suffix}"

    async def connect() -> ProbeResult:
        from pnet.probes import tcp

        d = await resolved()
        if not d.ok:
            return _skipped("tcp", f"{host}:{port}", f"{host} did not resolve", d.outcome, key)
        address = _pick(d, family)
        if address is None:
            fam = f"IPv{family}" if family else "an"
            return _skipped(
                "tcp", f"{host}:{port}", f"{host} has no {fam} address", Outcome.NO_ANSWER, key
            )
        r = await tcp.connect(address, port, timeout=options.tcp_timeout)
        return _rekey(r, key)

    async def connected() -> ProbeResult:
        return await names.once(("tcp", key), connect)

    job = Job(
        key, connected, options.dns_timeout + options.tcp_timeout + 0.5, "tcp", f"{host}:{port}"
    )
    return job, connected


def _discovery_job(
    subject: str,
    svc: Service,
    target: Target,
    ns: tuple[str, int] | None,
    options: Options,
    *,
    with_http: bool,
) -> Job:
    """Discovery, then a TCP connect (and the HTTP check, for HTTP targets) to every instance
    it lists; the per-instance results travel in the evidence (see `instance_results`)."""
    key = f"{subject}|discovery"
    name = svc.discovery_host or ""
    port = target.port or 0

    async def one(index: int, address: str) -> dict[str, Any]:
        from pnet.probes import http, tcp

        base = f"{subject}|instance{index}"
        t = _rekey(await tcp.connect(address, port, timeout=options.tcp_timeout), f"{base}|tcp")
        entry: dict[str, Any] = {
            "address": address,
            "outcome": str(t.outcome),
            "ms": round(t.elapsed_ms, 1),
            "tcp": t.to_json(),
        }
        if with_http and t.ok:
            url = _health_url(target, svc, target.host)
            h = await http.get(url, address=address, timeout=options.http_timeout)
            entry["http"] = _rekey(h, f"{base}|http").to_json()
        return entry

    async def run() -> ProbeResult:
        from dataclasses import replace

        from pnet.probes import discovery

        d = await discovery.discover(name, nameserver=ns, timeout=options.dns_timeout)
        if not d.ok or not port:
            return replace(d, key=key)
        addresses = [str(a) for a in d.evidence.get("addresses") or []][:MAX_INSTANCES]
        instances = await asyncio.gather(*(one(i + 1, a) for i, a in enumerate(addresses)))
        up = sum(1 for i in instances if i["outcome"] == "ok")
        detail = f"{d.detail}; {up} of {len(addresses)} accept on {port}"
        evidence = {**d.evidence, "instances": instances, "port": port}
        return replace(d, key=key, evidence=evidence, detail=detail)

    budget = options.dns_timeout + options.tcp_timeout + 0.5
    if with_http:
        budget += options.http_timeout
    return Job(key, run, budget, "discovery", name)


def _at_address(url: str, address: Any) -> str:
    """`http://api-x7f2:8080/healthz` sent to 10.0.0.5 -> `http://10.0.0.5:8080/healthz`."""
    parts = urlsplit(url)
    if not address or not parts.hostname:
        return url
    host = f"[{address}]" if ":" in str(address) else str(address)
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


def instance_results(discovery: ProbeResult) -> list[ProbeResult]:
    """The TCP and HTTP results of each instance a discovery probe listed, as results of their
    own (key `<subject>|instance<N>|tcp`), so a report and a table show one row per instance."""
    from dataclasses import replace

    out = []
    instances = discovery.evidence.get("instances") or []
    for index, entry in enumerate(instances, start=1):
        for kind in ("tcp", "http"):
            raw = entry.get(kind) if isinstance(entry, Mapping) else None
            if isinstance(raw, Mapping):
                r = ProbeResult.from_json(dict(raw))
                evidence = {**r.evidence, "instance": index, "of": len(instances)}
                shown = r.target if kind == "tcp" else _at_address(r.target, entry.get("address"))
                out.append(replace(r, target=shown, evidence=evidence))
    return out


def _health_url(target: Target, svc: Service | None, host: str) -> str:
    scheme = target.scheme if target.scheme in ("http", "https") else "http"
    path = target.path
    if svc is not None and svc.health_path and path in ("", "/"):
        path = svc.health_path
    path = path or "/"
    h = f"[{host}]" if ":" in host else host
    return f"{scheme}://{h}:{target.port}{path}"


def _http_job(
    subject: str,
    target: Target,
    svc: Service | None,
    accepted: Accepted,
    options: Options,
) -> Job:
    key = f"{subject}|http"
    url = _health_url(target, svc, target.host)
    timeout = options.http_timeout
    if target.is_tls and svc is not None:
        timeout = min(timeout, options.tcp_timeout)
    budget = options.dns_timeout + options.tcp_timeout + timeout + 0.5

    async def run() -> ProbeResult:
        from pnet.probes import http

        address, failure = await accepted()
        if not address:
            return _not_connected("http", url, failure, key)
        r = await http.get(url, address=address, timeout=timeout, max_redirects=5)
        return _rekey(r, key)

    return Job(key, run, budget, "http", url)


def _redis_job(
    subject: str,
    target: Target,
    svc: Service | None,
    accepted: Accepted,
    options: Options,
    source: Service | None = None,
) -> Job:
    key = f"{subject}|redis"
    user, password, _ = _credentials(target, svc, source)
    if target.origin == "service" and password and not target.user:
        user = None
    shown = target.hostport

    async def run() -> ProbeResult:
        from pnet.probes import redis

        address, failure = await accepted()
        if not address:
            return _not_connected("redis", shown, failure, key)
        r = await redis.ping(
            address,
            target.port or 6379,
            username=user,
            password=password,
            tls=target.is_tls,
            timeout=options.tcp_timeout,
        )
        return _rekey(r, key)

    return Job(key, run, options.dns_timeout + 2 * options.tcp_timeout + 0.5, "redis", shown)


def _postgres_job(
    subject: str,
    target: Target,
    svc: Service | None,
    accepted: Accepted,
    options: Options,
    source: Service | None = None,
) -> Job:
    key = f"{subject}|postgres"
    user, password, database = _credentials(target, svc, source)
    user = user or (svc.user if svc else None) or "postgres"
    database = database or (svc.database if svc else None) or user
    sslmode = (parse_qs(target.query).get("sslmode") or ["prefer"])[0]
    tls = {"verify-ca": "require", "verify-full": "require", "allow": "prefer"}.get(
        sslmode, sslmode if sslmode in ("disable", "prefer", "require") else "prefer"
    )
    shown = target.hostport

    async def run() -> ProbeResult:
        from pnet.probes import postgres

        address, failure = await accepted()
        if not address:
            return _not_connected("postgres", shown, failure, key)
        r = await postgres.hello(
            address,
            target.port or 5432,
            user=user,
            database=database,
            password=password,
            tls=tls,
            timeout=options.tcp_timeout,
        )
        return _rekey(r, key)

    return Job(key, run, options.dns_timeout + 2 * options.tcp_timeout + 0.5, "postgres", shown)


# ---------------------------------------------------------------------------------------------
# Running


def local_addresses() -> frozenset[str]:
    """This machine's interface addresses, so a refused local connection meets its listener."""
    try:
        import psutil

        return frozenset(
            str(a.address).split("%", 1)[0]
            for addrs in psutil.net_if_addrs().values()
            for a in addrs
            if a.family.name in ("AF_INET", "AF_INET6")
        )
    except (ImportError, OSError, RuntimeError):
        return frozenset()


def _build_report(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    results: Mapping[str, Sequence[ProbeResult]],
    listeners: Sequence[Any] | None,
    *,
    offline: bool,
    inside: bool = False,
    elapsed: Mapping[str, float] | None = None,
    total_ms: float = 0.0,
    per_instance: Mapping[str, Sequence[ProbeResult]] | None = None,
) -> Report:
    """Diagnose the results; a check then lists them with each instance's own (`per_instance`,
    which the diagnosis reads from the discovery evidence instead)."""
    findings = diagnose(
        workspace,
        source,
        targets,
        results,
        listeners,
        local_addresses=local_addresses() if listeners is not None else (),
        inside=inside,
    )
    checks = []
    for target in targets:
        got = sorted(
            [*results.get(target.subject, ()), *(per_instance or {}).get(target.subject, ())],
            key=lambda r: (PROBE_ORDER.index(r.kind) if r.kind in PROBE_ORDER else 99, r.key),
        )
        mine = tuple(f for f in findings if f.subject == target.subject)
        checks.append(
            Check(
                target=target,
                results=tuple(got),
                findings=mine,
                elapsed_ms=(elapsed or {}).get(target.subject),
            )
        )
    return Report(
        workspace=workspace,
        source=source,
        checks=tuple(checks),
        findings=tuple(findings),
        offline=offline,
        elapsed_ms=total_ms,
    )


async def stream(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    options: Options,
    *,
    listeners: Sequence[Any] | None = None,
    inside: bool = False,
) -> AsyncIterator[Event]:
    """Yield each probe result as it lands (ProbeEvent), then the report (ReportEvent).

    `listeners` are this machine's listening sockets (probes.listeners); `inside` says this
    runs in an instance of `source`, so they are its own.
    """
    if not options.offline:
        from pnet.probes import discovery, dns, http, postgres, redis, tcp

        del discovery, dns, http, postgres, redis, tcp
    started = time.perf_counter()
    names = _Names(options)
    jobs = plan(workspace, source, targets, options, names=names)
    subject_of = {job.key: subject for subject, job in jobs}
    results: dict[str, list[ProbeResult]] = {}
    per_instance: dict[str, list[ProbeResult]] = {}
    elapsed: dict[str, float] = {}
    try:
        async with aclosing(
            run_jobs(
                [job for _, job in jobs],
                concurrency=options.concurrency,
                deadline=options.deadline,
            )
        ) as landed:
            async for result in landed:
                subject = subject_of.get(result.key, "")
                results.setdefault(subject, []).append(result)
                elapsed[subject] = (time.perf_counter() - started) * 1000.0
                yield ProbeEvent(subject, result)
                if result.kind == "discovery":
                    for each in instance_results(result):
                        per_instance.setdefault(subject, []).append(each)
                        yield ProbeEvent(subject, each)
    finally:
        await names.close()
    report = _build_report(
        workspace,
        source,
        targets,
        results,
        listeners,
        offline=options.offline,
        inside=inside,
        elapsed=elapsed,
        total_ms=(time.perf_counter() - started) * 1000.0,
        per_instance=per_instance,
    )
    yield ReportEvent(report)


async def run(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    options: Options | None = None,
    *,
    listeners: Sequence[Any] | None = None,
    inside: bool = False,
    on_result: Callable[[str, ProbeResult], None] | None = None,
) -> Report:
    """Run every check and return the report (`on_result` sees each result as it lands)."""
    report: Report | None = None
    async for event in stream(
        workspace, source, targets, options or Options(), listeners=listeners, inside=inside
    ):
        if isinstance(event, ProbeEvent):
            if on_result is not None:
                on_result(event.subject, event.result)
        else:
            report = event.report
    assert report is not None
    return report


def run_offline(workspace: Workspace, source: Service | None, targets: Sequence[Target]) -> Report:
    """Only the static rules: no packet leaves the machine (a Blueprint lint for CI)."""
    return _build_report(workspace, source, targets, {}, None, offline=True)


def sweep_targets(workspace: Workspace) -> list[Target]:
    """`--all`: every service as a target from nowhere, and each service's variables from it.

    A service with more than SWEEP_PORTS ports is checked on its first one.
    """
    from pnet.targets import service_targets, targets_from_env

    out: list[Target] = []
    for svc in workspace.services:
        own = service_targets(workspace, svc)
        out.extend(own if len(own) <= SWEEP_PORTS else own[:1])
    for svc in workspace.services:
        out.extend(targets_from_env(workspace, svc, qualify=True))
    return out


__all__ = [
    "Check",
    "Event",
    "Job",
    "Options",
    "ProbeEvent",
    "Report",
    "ReportEvent",
    "plan",
    "railway",
    "render",
    "run",
    "run_offline",
    "stream",
    "sweep_targets",
]
