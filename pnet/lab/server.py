"""The lab: a workspace served as a real network on this machine, without root.

`Lab(workspace, faults)` opens, for every private network of the workspace (a Render region,
a Railway environment), a DNS server on `127.N.0.53` that answers that network's internal and
discovery names only, as the platform's resolver inside an instance would; and one more DNS
server on `127.0.0.1` (`Lab.nameserver`) that answers every network's names, for
convenience. Resolving a frankfurt host through oregon's server (`nameserver_for("oregon")`)
is NXDOMAIN, as it is on Render. All the servers share one port when they can. `faults` are
the fixture's `lab:` blocks by service name (`pnet.sources.fixture.read`).

Each instance has its own loopback address (see `pnet.lab.network` for the numbering and
the IPv6 limits), and real listeners answer there on the service's ports with its protocol
and the faults of its `lab:` block (`pnet.lab.peers`). A down instance has an
address and DNS records but nothing listens on it: connects are refused. An app bound to
loopback listens on `127.0.0.1` only, so its instance address refuses.

`blackhole`: the listener's accept queue is made full by the lab itself (a listen backlog of
0 and one connection the lab opens and never accepts), so the kernel drops later SYNs and
connects time out, as to an address nothing routes to. The lab checks it at start and says
so in `notes` if this kernel answers anyway.

The addresses are fixed once `start()` returns: when another lab on this machine already
serves `127.1.0.0/16` (and the next blocks), this one numbers its networks from the next free
block, and says so in `notes`. `127.0.0.1` and `::1` are shared by every lab, so a service
bound to loopback, or reached over IPv6, is served by the first lab that listens there.

`Lab(workspace, faults, netns=True)` (root) puts every instance in a network namespace of its
own instead, behind a fabric namespace of the lab's own with a bridge per private network and
a dnsmasq as each network's resolver: no shared address, a packet for another network has no
route, and the namespace the lab runs in is not changed (`pnet.lab.netns`).

The lab may raise the process's soft open-file limit towards the hard one when the workspace
needs more sockets than the soft limit allows (it says so in `notes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import resource
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from types import TracebackType

from pnet.lab import netns as _netns
from pnet.lab.dns import DnsServer
from pnet.lab.environ import instance_environment
from pnet.lab.faults import Faults
from pnet.lab.netns import Fabric
from pnet.lab.network import (
    MAX_NETWORKS,
    V4_LOOPBACK,
    V6_LOOPBACK,
    Instance,
    LabError,
    Plan,
    Served,
    plan,
)
from pnet.lab.peers import Handler, Peer, handler_for
from pnet.lab.sockets import listening_socket, make_socket, reason
from pnet.lab.tls import make_certificate
from pnet.model import Kind, Service, Workspace

BLACKHOLE_PROBE_S = 0.2
BLACKHOLE_MAX_FILL = 8
HANDSHAKE_TIMEOUT_S = 10.0
FD_MARGIN = 1024


class Lab:
    """A workspace served for real: DNS servers and listeners on loopback addresses."""

    def __init__(
        self,
        workspace: Workspace,
        faults: Faults | None = None,
        *,
        dns_port: int = 0,
        netns: bool = False,
    ) -> None:
        self.workspace = workspace
        self.faults = dict(faults or {})
        self.dns_port = dns_port
        self.netns = netns
        self.fabric: Fabric | None = None
        self.plan: Plan = plan(workspace, self.faults, netns=netns)
        self.notes: list[str] = list(self.plan.notes)
        self.tls_cert_pem: str | None = None
        self._served: list[Served] = list(self.plan.served)
        self._dns: DnsServer | None = None
        self._network_dns: dict[str, DnsServer] = {}
        self._servers: list[asyncio.Server] = []
        self._raw: list[socket.socket] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._stores: dict[str, dict[bytes, bytes]] = {}
        self._started = False

    # ---- what the lab serves -----------------------------------------------------------

    @property
    def nameserver(self) -> tuple[str, int]:
        """The DNS server that answers every network's names (with netns, where there is no
        such server, the first network's resolver)."""
        if self.fabric is not None and self.plan.networks:
            return self.nameserver_for(self.plan.networks[0].name)
        if self._dns is None:
            raise RuntimeError("the lab is not started")
        return self._dns.nameserver

    def nameserver_for(self, location: str | None) -> tuple[str, int]:
        """The resolver of one private network (region or environment); None: all networks.

        With netns it is that network's dnsmasq, reachable from its instances only."""
        if location is None:
            return self.nameserver
        if self.fabric is not None:
            net = self.plan.network(location)
            if net is not None:
                return net.dns_address, NETNS_DNS_PORT
        server = self._network_dns.get(location)
        if server is None:
            if not self._started:
                raise RuntimeError("the lab is not started")
            known = ", ".join(self.networks()) or "none"
            raise KeyError(f"no private network {location!r} in this lab (networks: {known})")
        return server.nameserver

    def networks(self) -> list[str]:
        return [n.name for n in self.plan.networks]

    def addresses(self, service_name: str) -> list[str]:
        """The addresses the service's name resolves to (its instances' addresses)."""
        return self.plan.addresses(self._service(service_name))

    def listeners_inside(self, service_name: str, instance: int = 0) -> list[tuple[str, int]]:
        """What the app listens on inside one of its instances, as `ss -ltn` there shows it.

        (bound address, port) pairs such as `("0.0.0.0", 8080)`, `("127.0.0.1", 9000)`,
        `("::", 3000)`; empty for a down instance. For the in-instance view of the doctor.
        """
        insts = self.instances(service_name)
        if not 0 <= instance < len(insts) or insts[instance].down:
            return []
        wanted = insts[instance].id
        found = {(s.bind, s.port) for s in self._served if s.instance == wanted}
        return sorted(found, key=lambda pair: (pair[1], pair[0]))

    def instances(self, service_name: str) -> list[Instance]:
        return self.plan.instances_of(self._service(service_name).name)

    def served(self, service_name: str | None = None) -> list[Served]:
        """What listens where (and what does not: down instances, taken addresses)."""
        if service_name is None:
            return list(self._served)
        return [s for s in self._served if s.service == service_name]

    def environment(self, service_name: str, instance: int = 0) -> dict[str, str]:
        """What the platform and the fixture set in one instance's environment."""
        return instance_environment(
            self.workspace, self._service(service_name), self.instances(service_name)[instance]
        )

    def env_file(self, service_name: str, instance: int = 0) -> Path:
        """With netns, the file holding one instance's environment (`KEY=VALUE` lines)."""
        if self.fabric is None:
            raise LabError("this lab runs without network namespaces")
        return self.fabric.env_file(self.instances(service_name)[instance])

    def _service(self, name: str) -> Service:
        svc = self.workspace.service(name)
        if svc is None:
            raise KeyError(f"no service {name!r} in workspace {self.workspace.name!r}")
        return svc

    # ---- life cycle --------------------------------------------------------------------

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Open every DNS server and listener; returns once everything listens."""
        if self._started:
            raise RuntimeError("the lab is already started")
        self._started = True
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        count = len(self.plan.networks)
        self._raise_file_limit(len(self.plan.listeners()) + 2 * count + 2)
        if self.netns:
            sockets = await self._netns_build()
        else:
            sockets = self._claim_block()
        listeners = self.plan.listeners()
        tls_context = await self._tls_context(listeners)
        if not self.netns:
            await self._loopback_dns()
        await self._serve(sockets, tls_context)

    async def _loopback_dns(self) -> None:
        self._dns = DnsServer(self.plan.all_zone(), V4_LOOPBACK, self.dns_port)
        try:
            await self._dns.start()
        except OSError as exc:
            raise LabError(
                f"cannot serve DNS on {V4_LOOPBACK}:{self.dns_port}: {reason(exc)}"
            ) from None
        port = self._dns.port
        for net in self.plan.networks:
            server = DnsServer(net.zone, net.dns_address, port)
            try:
                await server.start()
            except OSError:
                server = DnsServer(net.zone, net.dns_address, 0)
                await server.start()
            self._network_dns[net.name] = server

    async def _netns_build(self) -> list[tuple[Served, socket.socket]]:
        why = _netns.available()
        if why is not None:
            raise LabError(why)
        environments = {
            inst.id: instance_environment(self.workspace, self._service(inst.service), inst)
            for inst in self.plan.instances
        }
        fabric = _netns.Fabric(self.plan, environments)
        self.fabric = fabric
        await asyncio.to_thread(fabric.build)
        by_ns: dict[str, list[Served]] = {}
        for spec in self.plan.listeners():
            by_ns.setdefault(fabric.instance_ns[spec.instance], []).append(spec)
        out: list[tuple[Served, socket.socket]] = []
        for name, specs in by_ns.items():
            made = await asyncio.to_thread(_netns.in_netns, name, lambda s=specs: self._bind_in(s))
            self._raw.extend(sock for _, sock in made)
            out.extend(made)
        return out

    def _bind_in(self, specs: list[Served]) -> list[tuple[Served, socket.socket]]:
        """Bind the listeners of one instance (runs inside its namespace)."""
        made: list[tuple[Served, socket.socket]] = []
        try:
            for spec in specs:
                v6only = self.plan.faults_of(spec.service).bind == "ipv6"
                made.append(
                    (spec, make_socket(socket.SOCK_STREAM, spec.bind, spec.port, v6only=v6only))
                )
        except OSError as exc:
            for _, sock in made:
                sock.close()
            raise LabError(f"cannot listen in {specs[0].instance}: {reason(exc)}") from None
        return made

    def netns_of(self, service_name: str, instance: int = 0) -> str:
        """The network namespace of one instance (with netns): `ip netns exec NAME ...`."""
        if self.fabric is None:
            raise LabError("this lab runs without network namespaces")
        return self.fabric.namespace_of(self.instances(service_name)[instance])

    async def _serve(
        self, sockets: list[tuple[Served, socket.socket]], tls_context: ssl.SSLContext | None
    ) -> None:
        blackholes: list[tuple[Served, socket.socket]] = []
        for spec, sock in sockets:
            svc = self._service(spec.service)
            if spec.protocol == "blackhole":
                sock.listen(0)
                blackholes.append((spec, sock))
                continue
            handler = handler_for(spec.protocol)
            assert handler is not None
            peer = self._peer(svc, spec, tls_context)
            whole_tls = tls_context if spec.tls and spec.protocol not in _STARTTLS else None
            self._raw.remove(sock)
            try:
                listener = await asyncio.start_server(
                    self._client(peer, handler, whole_tls),
                    sock=sock,
                    limit=64 * 1024,
                    backlog=128,
                )
            except BaseException:
                sock.close()
                raise
            self._servers.append(listener)
        if blackholes:
            results = await asyncio.gather(*(self._fill(spec, sock) for spec, sock in blackholes))
            for (spec, _), held in zip(blackholes, results, strict=True):
                if not held:
                    self.notes.append(
                        f"{spec.service}: the blackhole on {spec.endpoint} still accepts "
                        "connections on this kernel; connects will not time out"
                    )

    def _claim_block(self) -> list[tuple[Served, socket.socket]]:
        """Bind every listener, in the first block of 127.N networks no other lab serves.

        Each network is claimed by a socket on `127.N.0.1:CLAIM_PORT` (never an instance
        address); a claim or an instance address already in use moves the lab to the next
        block. The sockets are bound, not yet listening.
        """
        count = len(self.plan.networks)
        extra = self.notes[len(self.plan.notes) :]
        for attempt in range(MAX_NETWORKS):
            first = 1 + attempt * max(count, 1)
            if first + count - 1 > MAX_NETWORKS:
                break
            candidate = (
                self.plan if first == 1 else plan(self.workspace, self.faults, first_network=first)
            )
            bound = self._try_block(candidate)
            if bound is not None:
                if candidate is not self.plan:
                    self.plan = candidate
                    self._served = list(candidate.served)
                    self.notes = [*candidate.notes, *extra]
                    self.notes.append(
                        "another lab serves 127.1.0.0/16 and the next blocks; this lab's "
                        f"networks start at 127.{first}.0.0/16"
                    )
                for spec, why in bound[1]:
                    self._mark(spec, why)
                return bound[0]
        raise LabError("every 127.N.0.0 block is in use by other labs on this machine")

    def _try_block(
        self, candidate: Plan
    ) -> tuple[list[tuple[Served, socket.socket]], list[tuple[Served, str]]] | None:
        claims: list[socket.socket] = []
        bound: list[tuple[Served, socket.socket]] = []
        failed: list[tuple[Served, str]] = []

        def release() -> None:
            for sock in claims + [s for _, s in bound]:
                sock.close()

        try:
            for net in candidate.networks:
                claim_address = net.dns_address.rsplit(".", 1)[0] + ".1"
                try:
                    claims.append(listening_socket(claim_address, CLAIM_PORT, reuse=False))
                except OSError as exc:
                    if exc.errno == errno.EADDRINUSE:
                        release()
                        return None
                    raise
                claims[-1].listen(1)
            for spec in candidate.listeners():
                try:
                    bound.append((spec, listening_socket(spec.address, spec.port)))
                except OSError as exc:
                    if exc.errno == errno.EADDRINUSE and spec.address not in _SHARED:
                        release()
                        return None
                    failed.append((spec, f"cannot listen on {spec.endpoint}: {reason(exc)}"))
        except BaseException:
            release()
            raise
        self._raw.extend(claims)
        self._raw.extend(sock for _, sock in bound)
        return bound, failed

    def _mark(self, spec: Served, why: str) -> None:
        self.notes.append(f"{spec.service}: {why}")
        self._served = [
            replace(s, listening=False, note=why)
            if (s.address, s.port) == (spec.address, spec.port) and s.listening
            else s
            for s in self._served
        ]

    async def _tls_context(self, listeners: list[Served]) -> ssl.SSLContext | None:
        tls = [s for s in listeners if s.tls and s.protocol not in _NO_TLS]
        if not tls:
            return None
        names: list[str] = []
        for s in tls:
            svc = self._service(s.service)
            if svc.host:
                names.append(svc.host)
            names.append(s.address)
        context, pem = await asyncio.to_thread(make_certificate, names)
        self.tls_cert_pem = pem
        return context

    def _peer(self, svc: Service, spec: Served, tls: ssl.SSLContext | None) -> Peer:
        faults = self.plan.faults_of(svc.name)
        password = None
        if svc.kind is Kind.POSTGRES or spec.protocol == "postgres":
            password = faults.auth or svc.password
        return Peer(
            service=svc.name,
            instance=spec.instance,
            host=svc.host,
            address=spec.address,
            port=spec.port,
            protocol=spec.protocol,
            location=svc.location,
            platform=str(svc.platform),
            health_path=svc.health_path,
            http_status=faults.http_status,
            delay_s=faults.delay_ms / 1000.0,
            password=password,
            user=svc.user,
            database=svc.database,
            redis_auth=faults.auth,
            tls=tls if spec.tls else None,
            store=self._stores.setdefault(svc.name, {}),
        )

    def _client(
        self, peer: Peer, handler: Handler, tls: ssl.SSLContext | None = None
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        """The connection handler: TLS first when the whole connection is TLS, every
        connection tracked so that stop() closes it, errors kept inside."""

        async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                if tls is not None:
                    await writer.start_tls(tls, ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S)
                await handler(peer, reader, writer)
            except Exception:
                pass
            finally:
                if task is not None:
                    self._tasks.discard(task)
                writer.close()
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await writer.wait_closed()

        return run

    async def _fill(self, spec: Served, listener: socket.socket) -> bool:
        """Fill a backlog-0 listener's accept queue; True once a further connect hangs."""
        loop = asyncio.get_running_loop()
        address = (spec.address, spec.port)
        family = socket.AF_INET6 if spec.family == 6 else socket.AF_INET
        for _ in range(BLACKHOLE_MAX_FILL):
            if self.fabric is not None:
                name = self.fabric.instance_ns[spec.instance]
                client = await asyncio.to_thread(
                    _netns.in_netns, name, lambda: socket.socket(family, socket.SOCK_STREAM)
                )
            else:
                client = socket.socket(listener.family, socket.SOCK_STREAM)
            client.setblocking(False)
            try:
                async with asyncio.timeout(BLACKHOLE_PROBE_S):
                    await loop.sock_connect(client, address)
            except TimeoutError:
                client.close()
                return True
            except OSError:
                client.close()
                return False
            self._raw.append(client)
        return False

    def _raise_file_limit(self, sockets: int) -> None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        needed = sockets + FD_MARGIN
        if soft == resource.RLIM_INFINITY or soft >= needed:
            return
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise LabError(
                f"the lab needs about {needed} open files and the hard limit is {hard} "
                "(raise it with `ulimit -Hn`)"
            )
        target = needed * 2 if hard == resource.RLIM_INFINITY else min(hard, needed * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        self.notes.append(
            f"raised the open-file limit from {soft} to {target} for {sockets} sockets"
        )

    async def stop(self) -> None:
        """Close every server, connection and socket the lab opened."""
        servers = ([self._dns] if self._dns else []) + list(self._network_dns.values())
        for dns_server in servers:
            await dns_server.stop()
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()
        for sock in self._raw:
            sock.close()
        self._raw.clear()
        for _ in range(3):
            await asyncio.sleep(0)
        if self.fabric is not None:
            await asyncio.to_thread(self.fabric.teardown)


_STARTTLS = ("postgres",)
_SHARED = (V4_LOOPBACK, V6_LOOPBACK)
CLAIM_PORT = 53053
NETNS_DNS_PORT = 53
_NO_TLS = ("tls-stall", "blackhole", "silent")
