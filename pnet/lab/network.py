"""The lab's plan of a workspace: private networks, instance addresses, DNS records, listeners.

A pure function of the workspace (`plan(workspace)`), so what the lab serves can be checked
without opening a socket.

Addresses. Each private network (a Render region, a Railway environment) is numbered in
fixture order from 1 and owns `127.N.0.0/16`: its nameserver answers on `127.N.0.53`, and its
instances get `127.N.1.1`, `127.N.1.2`, ... in fixture order (the last octet runs 1..254).
`127.0.0.1` and `127.0.0.53` are never an instance's address. A lab that finds those blocks
taken (another lab serves them) numbers its networks from the next free block instead.

With network namespaces (`plan(..., netns=True)`, see `pnet.lab.netns`) every instance has
addresses of its own instead: `198.18.N.k` (RFC 2544's benchmarking range) and
`fd70:6e65:7400:N::k` (a unique local prefix, RFC 4193, its global ID spelling `pnet`), the
network's resolver `.254` / `::fe`; an IPv6-only network's instances have no IPv4 address.

IPv6. Without root the only IPv6 loopback address is `::1`, so every instance reached over
IPv6 answers on `[::1]:PORT`. The replicas of one service share that listener. When two
services need the same port on `::1`, the first one in this order keeps it: services of
IPv6-only networks (their names have no A record), then services bound to IPv6 only, then the
rest; the others are not served over IPv6, their AAAA record is left out, and the plan says so
in one line each (`Plan.notes`). The same holds for `127.0.0.1`, where services bound to
loopback listen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from pnet import platforms
from pnet.lab.faults import Faults, LabFaults
from pnet.lab.faults import of as faults_of
from pnet.model import Kind, Network, Service, Workspace

V6_LOOPBACK = "::1"
V4_LOOPBACK = "127.0.0.1"
DNS_TTL = 5
MAX_NETWORKS = 254
HOSTS_PER_NETWORK = 254 * 254
NETNS_HOSTS = 253
NETNS_V4 = "198.18.{net}.{host}"
NETNS_V6_PREFIX = "fd70:6e65:7400"
NETNS_V6 = NETNS_V6_PREFIX + ":{net:x}::{host:x}"
NETNS_RESOLVER = 254


class LabError(Exception):
    """The lab cannot serve this workspace on this machine (one line, for the person)."""


@dataclass(frozen=True)
class Instance:
    """One instance of a service and the loopback addresses it has in the lab."""

    service: str
    index: int
    id: str
    network: str
    ipv4: str | None
    ipv6: str | None
    down: bool

    @property
    def addresses(self) -> tuple[str, ...]:
        return tuple(a for a in (self.ipv4, self.ipv6) if a)


@dataclass(frozen=True)
class Served:
    """One thing the lab serves (or, with `listening` False, does not) for an instance.

    address/port: where a client connects (the instance's address, `127.0.0.1` for an app bound
    to loopback, `::1` for IPv6). bind: what the app bound inside its instance, as `ss -ltn`
    there would show it (`0.0.0.0`, `::`, `127.0.0.1`). note: why it is not listening, or with
    whom it shares the socket.
    """

    service: str
    instance: str
    location: str | None
    address: str
    port: int
    protocol: str
    tls: bool
    bind: str
    listening: bool
    note: str = ""

    @property
    def family(self) -> int:
        return 6 if ":" in self.address else 4

    @property
    def endpoint(self) -> str:
        return (
            f"[{self.address}]:{self.port}" if self.family == 6 else f"{self.address}:{self.port}"
        )


@dataclass(frozen=True)
class Records:
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()

    def merged(self, other: Records) -> Records:
        return Records(_unique(self.a + other.a), _unique(self.aaaa + other.aaaa))


@dataclass(frozen=True)
class NetworkPlan:
    """One private network: its name, family, nameserver address and DNS zone.

    With netns, `dns_addresses` are the resolver's addresses on the network's bridge (IPv4
    and IPv6 where the network has them; `dns_address` is the first) and `prefixes` the
    network's subnets."""

    name: str
    index: int
    family: Network
    dns_address: str
    zone: dict[str, Records] = field(default_factory=dict)
    services: tuple[str, ...] = ()
    dns_addresses: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    workspace: Workspace
    networks: tuple[NetworkPlan, ...]
    instances: tuple[Instance, ...]
    served: tuple[Served, ...]
    notes: tuple[str, ...]
    netns: bool = False
    faults: Faults = field(default_factory=dict)

    def faults_of(self, service: str) -> LabFaults:
        return faults_of(self.faults, service)

    def network(self, name: str) -> NetworkPlan | None:
        for net in self.networks:
            if net.name == name:
                return net
        return None

    def all_zone(self) -> dict[str, Records]:
        """Every network's names in one zone; a name in two networks answers both."""
        zone: dict[str, Records] = {}
        for net in self.networks:
            for name, records in net.zone.items():
                zone[name] = zone[name].merged(records) if name in zone else records
        return zone

    def instances_of(self, service: str) -> list[Instance]:
        return [i for i in self.instances if i.service == service]

    def addresses(self, service: Service) -> list[str]:
        """What the service's name resolves to in its network (its instances' addresses)."""
        net = self.network(service.location) if service.location else None
        if net is not None and has_dns(service) and service.host:
            records = net.zone.get(service.host.lower())
            if records is not None:
                return list(records.a + records.aaaa)
        return [a for i in self.instances_of(service.name) for a in i.addresses[:1]]

    def listeners(self) -> list[Served]:
        """One entry per socket to open (replicas sharing `::1` appear once; with netns, one
        per instance, bound address and port, a dual-stack `::` serving both families)."""
        seen: set[tuple[str, str, int]] = set()
        out = []
        for s in self.served:
            key = (s.instance, s.bind, s.port) if self.netns else ("", s.address, s.port)
            if s.listening and key not in seen:
                seen.add(key)
                out.append(s)
        return out


def protocol_of(service: Service, faults: LabFaults | None = None) -> str:
    """What the lab speaks on the service's ports."""
    if faults is not None and faults.protocol:
        return faults.protocol
    if service.kind is Kind.POSTGRES:
        return "postgres"
    if service.kind is Kind.KEYVALUE:
        return "redis"
    return "http"


def has_dns(service: Service) -> bool:
    return bool(
        service.type.has_internal_address
        and service.host
        and service.host_known
        and service.location is not None
    )


def listens(service: Service) -> bool:
    return bool(service.type.receives and service.type.has_internal_address and service.location)


def ports_of(service: Service, faults: LabFaults | None = None) -> tuple[int, ...]:
    if faults is not None and faults.listen is not None:
        return faults.listen
    return service.ports


def plan(
    workspace: Workspace,
    faults: Faults | None = None,
    *,
    first_network: int = 1,
    netns: bool = False,
) -> Plan:
    """The lab's plan; networks are numbered from `first_network` (127.N.0.0/16 each).

    `faults` are the fixture's `lab:` blocks by service name. With `netns`, every instance
    is a network namespace of its own (`pnet.lab.netns`): addresses `198.18.N.k` and
    `fd70:6e65:7400:N::k`, at most 253 instances per network.
    """
    faults = dict(faults or {})
    notes: list[str] = []
    locations: list[str] = []
    for svc in workspace.services:
        if svc.location is not None and svc.location not in locations:
            locations.append(svc.location)
    if first_network < 1 or first_network + len(locations) - 1 > MAX_NETWORKS:
        raise LabError(
            f"networks 127.{first_network}.0.0 to 127.{first_network + len(locations) - 1}.0.0 "
            f"do not fit in 127.1.0.0 to 127.{MAX_NETWORKS}.0.0"
        )
    families = {}
    for loc in locations:
        first = next(s for s in workspace.services if s.location == loc)
        families[loc] = platforms.of(workspace).network(workspace, first)

    counters = dict.fromkeys(locations, 0)
    instances: list[Instance] = []
    by_service: dict[str, list[Instance]] = {}
    for svc in workspace.services:
        if svc.location is None or not (has_dns(svc) or listens(svc)):
            continue
        net_index = locations.index(svc.location) + first_network
        down = min(faults_of(faults, svc.name).down, svc.instances)
        has_v6 = families[svc.location] is not Network.IPV4_ONLY
        has_v4 = families[svc.location] is not Network.IPV6_ONLY
        v6 = V6_LOOPBACK if has_v6 else None
        mine = []
        for i in range(svc.instances):
            k = counters[svc.location]
            if k >= HOSTS_PER_NETWORK:
                raise LabError(
                    f"network {svc.location!r} has more than {HOSTS_PER_NETWORK} instances"
                )
            counters[svc.location] = k + 1
            address: str | None = f"127.{net_index}.{1 + k // 254}.{1 + k % 254}"
            if netns:
                if k >= NETNS_HOSTS:
                    raise LabError(
                        f"network {svc.location!r} has more than {NETNS_HOSTS} instances, "
                        "more than the lab serves with --netns"
                    )
                address = NETNS_V4.format(net=net_index, host=k + 1) if has_v4 else None
                v6 = NETNS_V6.format(net=net_index, host=k + 1) if has_v6 else None
            inst = Instance(
                service=svc.name,
                index=i,
                id=f"{svc.name}-{i + 1}",
                network=svc.location,
                ipv4=address,
                ipv6=v6,
                down=i >= svc.instances - down,
            )
            mine.append(inst)
        instances.extend(mine)
        by_service[svc.name] = mine

    served, v6_lost = _served(workspace, faults, families, by_service, notes, netns)

    networks = []
    for index, loc in enumerate(locations, start=first_network):
        zone: dict[str, Records] = {}
        names = []
        for svc in workspace.services:
            if svc.location != loc:
                continue
            names.append(svc.name)
            if not has_dns(svc) or svc.host is None:
                continue
            records = _records(svc, families[loc], by_service.get(svc.name, []), v6_lost)
            zone[svc.host.lower()] = records
            disco = svc.discovery_host
            if disco and disco.lower() != svc.host.lower():
                zone[disco.lower()] = records
        dns: tuple[str, ...] = (f"127.{index}.0.53",)
        prefixes: tuple[str, ...] = ()
        if netns:
            dns, prefixes = _netns_resolver(index, families[loc])
        networks.append(
            NetworkPlan(
                name=loc,
                index=index,
                family=families[loc],
                dns_address=dns[0],
                zone=zone,
                services=tuple(names),
                dns_addresses=dns,
                prefixes=prefixes,
            )
        )
    return Plan(
        workspace,
        tuple(networks),
        tuple(instances),
        tuple(served),
        tuple(notes),
        netns,
        faults,
    )


def _netns_resolver(index: int, family: Network) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the resolver's addresses, the network's prefixes) of network `index` with netns."""
    dns: list[str] = []
    prefixes: list[str] = []
    if family is not Network.IPV6_ONLY:
        dns.append(NETNS_V4.format(net=index, host=NETNS_RESOLVER))
        prefixes.append(NETNS_V4.format(net=index, host=0) + "/24")
    if family is not Network.IPV4_ONLY:
        dns.append(NETNS_V6.format(net=index, host=NETNS_RESOLVER))
        prefixes.append(f"{NETNS_V6_PREFIX}:{index:x}::/64")
    return tuple(dns), tuple(prefixes)


def _records(svc: Service, family: Network, insts: list[Instance], v6_lost: set[str]) -> Records:
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()
    if family is not Network.IPV6_ONLY:
        a = tuple(i.ipv4 for i in insts if i.ipv4)
    if family is not Network.IPV4_ONLY and svc.name not in v6_lost:
        aaaa = _unique(i.ipv6 for i in insts if i.ipv6)
    return Records(a, aaaa)


def _served(
    workspace: Workspace,
    faults: Faults,
    families: dict[str, Network],
    by_service: dict[str, list[Instance]],
    notes: list[str],
    netns: bool = False,
) -> tuple[list[Served], set[str]]:
    """Decide every listener; shared addresses (`::1`, `127.0.0.1`) go by priority."""
    wanted: list[tuple[int, int, Served]] = []
    order = 0
    for svc in workspace.services:
        if not listens(svc) or svc.location is None:
            continue
        family = families[svc.location]
        lab = faults_of(faults, svc.name)
        bind = lab.bind
        proto = protocol_of(svc, lab)
        tls = lab.tls
        for inst in by_service.get(svc.name, []):
            for port in ports_of(svc, lab):
                where = (
                    _netns_addresses(family, bind, inst)
                    if netns
                    else _addresses(svc, family, bind, inst)
                )
                for address, app_bind, tier in where:
                    order += 1
                    wanted.append(
                        (
                            tier,
                            order,
                            Served(
                                service=svc.name,
                                instance=inst.id,
                                location=svc.location,
                                address=address,
                                port=port,
                                protocol=proto,
                                tls=tls,
                                bind=app_bind,
                                listening=not inst.down,
                                note="down" if inst.down else "",
                            ),
                        )
                    )
    owners: dict[tuple[str, int], Served] = {}
    decided: dict[int, Served] = {}
    lost: dict[str, dict[str, str]] = {}
    for _tier, order, s in sorted(wanted, key=lambda t: (t[0], t[1])):
        key = (s.address, s.port)
        if netns or s.address not in (V6_LOOPBACK, V4_LOOPBACK):
            decided[order] = s
            continue
        owner = owners.get(key)
        if owner is None:
            if s.listening:
                owners[key] = s
            decided[order] = s
        elif owner.service == s.service:
            decided[order] = replace(s, note=s.note or f"shares {s.endpoint} with {owner.instance}")
        else:
            decided[order] = replace(
                s, listening=False, note=f"{s.endpoint} is taken by {_who(owner)}"
            )
            lost.setdefault(s.service, {})[s.endpoint] = _who(owner)
    for svc_name, taken in lost.items():
        notes.append(
            f"{svc_name}: {', '.join(taken)} already served for "
            f"{', '.join(sorted(set(taken.values())))}; without root the lab has only one "
            f"such address, so {svc_name} is not served there"
        )
    result = [decided[k] for k in sorted(decided)]
    v6_lost = {
        name
        for name, taken in lost.items()
        if any(e.startswith("[") for e in taken)
        and not any(s.service == name and s.family == 6 and s.listening for s in result)
    }
    return result, v6_lost


def _who(s: Served) -> str:
    return f"{s.service} ({s.location})" if s.location else s.service


def _addresses(
    svc: Service, family: Network, bind: str, inst: Instance
) -> list[tuple[str, str, int]]:
    """(address the lab listens on, what the app bound, priority tier for shared addresses)."""
    del svc
    v6_tier = 0 if family is Network.IPV6_ONLY else (1 if bind == "ipv6" else 2)
    if bind == "loopback":
        return [(V4_LOOPBACK, V4_LOOPBACK, 1)]
    if bind == "ipv6":
        return [(V6_LOOPBACK, "::", v6_tier)]
    v4 = inst.ipv4 or V4_LOOPBACK
    if bind == "ipv4" or family is Network.IPV4_ONLY:
        return [(v4, "0.0.0.0", 0)]
    if family is Network.IPV6_ONLY:
        return [(V6_LOOPBACK, "::", v6_tier)]
    return [(v4, "::", 0), (V6_LOOPBACK, "::", v6_tier)]


def _netns_addresses(family: Network, bind: str, inst: Instance) -> list[tuple[str, str, int]]:
    """With netns: (address a client reaches, what the app binds in its own namespace, 0).

    An app bound to `0.0.0.0` on an IPv6-only network listens, but on no address another
    instance can reach: the entry's address is then `0.0.0.0`."""
    v6 = inst.ipv6 or V6_LOOPBACK
    if bind == "loopback":
        return [(V4_LOOPBACK, V4_LOOPBACK, 0)]
    if bind == "ipv6":
        return [(v6, "::", 0)]
    if bind == "ipv4" or family is Network.IPV4_ONLY:
        return [(inst.ipv4 or "0.0.0.0", "0.0.0.0", 0)]
    if family is Network.IPV6_ONLY:
        return [(v6, "::", 0)]
    return [(inst.ipv4 or "0.0.0.0", "::", 0), (v6, "::", 0)]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
