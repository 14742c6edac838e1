"""The probe jobs of a plan: DNS once per name, then TCP per address family, discovery with
each instance's own connection (and HTTP check), and the application's handshake.

Probes that depend on a name wait for that name's DNS answer; a handshake goes only where a
connection was accepted. Each instance a discovery lists gets results of its own, typed like any
other (`instance` in their evidence), delivered through `Shared.extra`.

Every question goes on the wire once per run, whoever asks it: a name's DNS, a connection to an
address and port (a target's first address is also an instance of its discovery, and several
variables point at one service), an HTTP GET of one URL at one address, a handshake with one
set of credentials. Each asker gets the answer under its own key. DNS queries share one socket
per nameserver (`pnet.probes.dnswire.Session`), read without dnspython when a nameserver is
given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from pnet import platforms
from pnet.checks.plan import Planned, discovery_name
from pnet.model import Kind, Network, Service, Workspace
from pnet.probes.job import Job
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import Target, credential_keys
from pnet.urls import POSTGRES_SCHEMES

if TYPE_CHECKING:
    import asyncio

    from pnet.probes.dnswire import Session

MAX_INSTANCES = 100


@dataclass(frozen=True)
class Options:
    nameserver: tuple[str, int] | None = None
    dns_timeout: float = 2.0
    tcp_timeout: float = 2.0
    http_timeout: float = 2.0
    deadline: float | None = None
    concurrency: int | None = None
    offline: bool = False
    nameserver_for: Callable[[str | None], tuple[str, int]] | None = None

    @property
    def dns_budget(self) -> float:
        """How long a job may wait for a name: its own wait, and as long again for a slot on the
        nameserver's socket (a question that gets none is overloaded, not a timeout)."""
        return 2 * self.dns_timeout + 0.25

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


@dataclass
class Shared:
    """Answers shared by several jobs, asked once whoever needs them first (see the module
    doc): DNS per (host, nameserver), a connection per (address, port), an HTTP GET per (URL,
    address), a handshake per (address, port, credentials)."""

    options: Options
    tasks: dict[Any, asyncio.Task[ProbeResult]] = field(default_factory=dict)
    extra: list[tuple[str, ProbeResult]] = field(default_factory=list)
    dns: Session | None = None

    async def once(self, key: Any, make: Callable[[], Awaitable[ProbeResult]]) -> ProbeResult:
        import asyncio

        task = self.tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(make())
            self.tasks[key] = task
        elif task.done() and not task.cancelled() and task.exception() is None:
            return task.result()
        return await asyncio.shield(task)

    def _session(self) -> Session:
        if self.dns is None:
            from pnet.probes.dnswire import Session

            self.dns = Session()
        return self.dns

    async def resolve(self, host: str, nameserver: tuple[str, int] | None) -> ProbeResult:
        return await self.once(("dns", host, nameserver), lambda: self._resolve(host, nameserver))

    async def _resolve(self, host: str, nameserver: tuple[str, int] | None) -> ProbeResult:
        timeout = self.options.dns_timeout
        if nameserver is not None:
            from pnet.probes import dnswire

            return await dnswire.resolve(
                host, nameserver=nameserver, session=self._session(), timeout=timeout
            )
        from pnet.probes import dns

        return await dns.resolve(host, timeout=timeout, session=self._session())

    async def discover(self, name: str, nameserver: tuple[str, int] | None) -> ProbeResult:
        from pnet.probes import discovery

        return await self.once(
            ("discovery", name, nameserver),
            lambda: discovery.discover(
                name,
                nameserver=nameserver,
                timeout=self.options.dns_timeout,
                session=self._session(),
            ),
        )

    async def connect(self, address: str, port: int) -> ProbeResult:
        from pnet.probes import tcp

        return await self.once(
            ("connect", address, port),
            lambda: tcp.connect(address, port, timeout=self.options.tcp_timeout),
        )

    async def get(self, url: str, address: str, timeout: float) -> ProbeResult:  # noqa: ASYNC109
        from pnet.probes import http

        return await self.once(
            ("http", url, address, timeout),
            lambda: http.get(url, address=address, timeout=timeout, max_redirects=5),
        )

    async def close(self) -> None:
        import asyncio

        for task in self.tasks.values():
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        if self.dns is not None:
            await self.dns.close()


def _nameserver(options: Options, source: Service | None) -> tuple[str, int] | None:
    if options.nameserver_for is not None:
        try:
            return options.nameserver_for(source.location if source else None)
        except (KeyError, LookupError):
            return options.nameserver
    return options.nameserver


def _families(workspace: Workspace, svc: Service | None) -> list[int | None]:
    if svc is None:
        return [None]
    network = platforms.of(workspace).network(workspace, svc)
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


def jobs_for(
    workspace: Workspace, planned: Sequence[Planned], options: Options, shared: Shared
) -> list[tuple[str, Job]]:
    """The jobs of every planned target, as (subject, job), in a stable order."""
    out: list[tuple[str, Job]] = []
    for p in planned:
        if p.internal is not None:
            host, port = p.internal
            ns = _nameserver(options, p.source)
            out += [(p.target.subject, j) for j in _internal_jobs(p.target, host, port, ns, shared)]
        if not p.kinds:
            continue
        for job in _jobs(workspace, p.source, p.target, p.kinds, options, shared):
            out.append((p.target.subject, job))
    return out


def _internal_jobs(
    target: Target, host: str, port: int | None, ns: tuple[str, int] | None, shared: Shared
) -> list[Job]:
    """The internal name a public address stands for: does it resolve here, and accept on the
    platform's default port? Results marked `internal_of` (they say whether the public address
    is the wrong one, not whether it works)."""
    subject = target.subject
    options = shared.options
    mark = {"internal_of": target.host}

    async def lookup() -> ProbeResult:
        r = await shared.resolve(host, ns)
        return replace(r, key=f"{subject}|internal-dns", evidence={**r.evidence, **mark})

    out = [Job(f"{subject}|internal-dns", lookup, options.dns_timeout + 0.5, "dns", host)]
    if port:

        async def connect() -> ProbeResult:
            from pnet.probes import tcp

            d = await shared.resolve(host, ns)
            address = _pick(d, None) if d.ok else None
            if address is None:
                why = f"{host} does not resolve here"
                return _skipped("tcp", f"{host}:{port}", why, d.outcome, f"{subject}|internal-tcp")
            r = await tcp.connect(address, port, timeout=options.tcp_timeout)
            return replace(r, key=f"{subject}|internal-tcp", evidence={**r.evidence, **mark})

        budget = options.dns_timeout + options.tcp_timeout + 0.5
        out.append(Job(f"{subject}|internal-tcp", connect, budget, "tcp", f"{host}:{port}"))
    return out


def _jobs(
    workspace: Workspace,
    source: Service | None,
    target: Target,
    kinds: Sequence[str],
    options: Options,
    names: Shared,
) -> list[Job]:
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

        return Job(f"{subject}|dns", run, options.dns_budget, "dns", host, wait=dns_timeout)

    out.append(dns_job())
    if "discovery" in kinds and svc is not None and discovery_name(svc, target):
        out.append(
            _discovery_job(subject, svc, target, ns, options, names, with_http="http" in kinds)
        )
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
        out.append(_http_job(subject, target, svc, accepted, options, names))
    if "redis" in kinds:
        out.append(_redis_job(subject, target, svc, accepted, options, names, source))
    if "postgres" in kinds:
        out.append(_postgres_job(subject, target, svc, accepted, options, names, source))
    return out


Accepted = Callable[[], Awaitable[tuple[str | None, ProbeResult | None]]]


def _not_connected(kind: str, shown: str, failure: ProbeResult | None, key: str) -> ProbeResult:
    if failure is None:
        return _skipped(kind, shown, "no address to connect to", Outcome.ERROR, key)
    why = "no connection" if failure.evidence.get("skipped") else f"TCP {failure.outcome}"
    return _skipped(kind, shown, why, failure.outcome, key)


def _rekey(r: ProbeResult, key: str) -> ProbeResult:
    return ProbeResult(r.kind, r.target, r.outcome, r.elapsed_ms, r.detail, r.evidence, key)


def _hp(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def _tcp_job(
    subject: str,
    host: str,
    port: int,
    family: int | None,
    resolved: Callable[[], Awaitable[ProbeResult]],
    options: Options,
    names: Shared,
) -> tuple[Job, Callable[[], Awaitable[ProbeResult]]]:
    suffix = f"tcp{family}" if family else "tcp"
    key = f"{subject}|{suffix}"

    async def connect() -> ProbeResult:
        d = await resolved()
        if not d.ok:
            return _skipped("tcp", f"{host}:{port}", f"{host} did not resolve", d.outcome, key)
        address = _pick(d, family)
        if address is None:
            fam = f"IPv{family}" if family else "an"
            return _skipped(
                "tcp", f"{host}:{port}", f"{host} has no {fam} address", Outcome.NO_ANSWER, key
            )
        r = await names.connect(address, port)
        return _rekey(r, key)

    async def connected() -> ProbeResult:
        return await names.once(("tcp", key), connect)

    job = Job(
        key,
        connected,
        options.dns_budget + options.tcp_timeout + 0.5,
        "tcp",
        f"{host}:{port}",
        wait=options.tcp_timeout,
    )
    return job, connected


def _discovery_job(
    subject: str,
    svc: Service,
    target: Target,
    ns: tuple[str, int] | None,
    options: Options,
    shared: Shared,
    *,
    with_http: bool,
) -> Job:
    """Discovery, then a TCP connect (and the HTTP check, for HTTP targets) to every instance
    it lists, each a result of its own (key `<subject>|instance<N>|tcp`) in `shared.extra`."""
    key = f"{subject}|discovery"
    name = discovery_name(svc, target) or ""
    port = target.port or 0

    async def one(index: int, count: int, address: str) -> bool:
        from pnet.probes.runner import Load, judge

        load = Load.current()
        base = f"{subject}|instance{index}"
        where = {"instance": index, "of": count, "address": address}
        mark = load.stalled() if load is not None else None
        t = await shared.connect(address, port)
        t = judge(replace(t, key=f"{base}|tcp"), mark, options.tcp_timeout, load)
        shared.extra.append((subject, replace(t, evidence={**t.evidence, **where})))
        if with_http and t.ok:
            url = _health_url(target, svc, target.host)
            mark = load.stalled() if load is not None else None
            h = await shared.get(url, address, options.http_timeout)
            h = judge(replace(h, key=f"{base}|http"), mark, options.http_timeout, load)
            shown = _at_address(h.target, address)
            shared.extra.append(
                (subject, replace(h, target=shown, evidence={**h.evidence, **where}))
            )
        return t.ok

    async def run() -> ProbeResult:
        import asyncio

        d = await shared.discover(name, ns)
        if not d.ok or not port:
            return replace(d, key=key)
        addresses = [str(a) for a in d.evidence.get("addresses") or []][:MAX_INSTANCES]
        count = len(addresses)
        up = await asyncio.gather(*(one(i + 1, count, a) for i, a in enumerate(addresses)))
        detail = f"{d.detail}; {sum(up)} of {count} accept on {port}"
        return replace(d, key=key, evidence={**d.evidence, "port": port}, detail=detail)

    budget = options.dns_budget + options.tcp_timeout + 0.5
    if with_http:
        budget += options.http_timeout
    return Job(key, run, budget, "discovery", name, wait=options.dns_timeout)


def _at_address(url: str, address: Any) -> str:
    """`http://api-x7f2:8080/healthz` sent to 10.0.0.5 -> `http://10.0.0.5:8080/healthz`."""
    parts = urlsplit(url)
    if not address or not parts.hostname:
        return url
    host = f"[{address}]" if ":" in str(address) else str(address)
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()


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
    shared: Shared,
) -> Job:
    key = f"{subject}|http"
    url = _health_url(target, svc, target.host)
    timeout = options.http_timeout
    if target.is_tls and svc is not None:
        timeout = min(timeout, options.tcp_timeout)
    budget = options.dns_budget + options.tcp_timeout + timeout + 0.5

    async def run() -> ProbeResult:
        address, failure = await accepted()
        if not address:
            return _not_connected("http", url, failure, key)
        r = await shared.get(url, address, timeout)
        return _rekey(r, key)

    return Job(key, run, budget, "http", url, wait=timeout)


def _redis_job(
    subject: str,
    target: Target,
    svc: Service | None,
    accepted: Accepted,
    options: Options,
    shared: Shared,
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
        port = target.port or 6379
        r = await shared.once(
            ("redis", address, port, user, password, target.is_tls),
            lambda: redis.ping(
                address,
                port,
                username=user,
                password=password,
                tls=target.is_tls,
                timeout=options.tcp_timeout,
            ),
        )
        return _rekey(r, key)

    budget = options.dns_budget + 2 * options.tcp_timeout + 0.5
    return Job(key, run, budget, "redis", shown, wait=options.tcp_timeout)


def _postgres_job(
    subject: str,
    target: Target,
    svc: Service | None,
    accepted: Accepted,
    options: Options,
    shared: Shared,
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
        port = target.port or 5432
        r = await shared.once(
            ("postgres", address, port, user, database, password, tls),
            lambda: postgres.hello(
                address,
                port,
                user=user,
                database=database,
                password=password,
                tls=tls,
                timeout=options.tcp_timeout,
            ),
        )
        return _rekey(r, key)

    budget = options.dns_budget + 2 * options.tcp_timeout + 0.5
    return Job(key, run, budget, "postgres", shown, wait=options.tcp_timeout)
