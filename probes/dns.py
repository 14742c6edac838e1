"""DNS: what a name resolves to, asked the way the platform's own clients ask.

Queries go through dnspython's async resolver. Without `nameserver` the resolver reads the
system configuration (`/etc/resolv.conf`: nameservers, search list, ndots), as glibc would;
with `nameserver=(host, port)` only that server is asked and no system file is read.

A run that asks many names passes one `Session`: every query to a nameserver then goes through
one UDP socket of the session (replies matched by id), and the resolver built from the
configuration is reused; `Session.close()` closes the sockets. Without a session each lookup
opens and closes its own sockets.

A and AAAA are asked concurrently. The result is `ok` when either family has an address;
otherwise the most telling failure wins: `nxdomain` (the name does not exist), `servfail`
(the server answered SERVFAIL or REFUSED), `protocol-error` (a reply that is not DNS, or not
the answer to our question), `timeout`, `no-nameserver` (none configured, or nothing listens
where one is configured), and `no-answer` only when every family came back empty.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import dns.asyncquery
import dns.asyncresolver
import dns.entropy
import dns.exception
import dns.inet
import dns.message
import dns.name
import dns.nameserver
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver

from ._net import Clock, describe_exception, hostport, ip_family, result
from .dnswire import RESOLV_CONF, Family, Queued, Session, Stray, evidence, summary
from .result import Outcome, ProbeResult

__all__ = ["RESOLV_CONF", "Session", "resolve"]

KIND = "dns"


class _StrictDo53(dns.nameserver.Do53Nameserver):
    """A UDP/TCP nameserver whose malformed or mismatched replies are errors, not ignored.

    A resolver library drops such datagrams and keeps waiting; a probe wants to say a server
    at that address is answering, and answering wrong. The UDP socket is connected, so an
    ICMP port-unreachable says at once that nothing listens there.
    """

    session: Session | None = None

    async def async_query(
        self,
        request: dns.message.QueryMessage,
        timeout: float,  # noqa: ASYNC109
        source: str | None,
        source_port: int,
        max_size: bool,
        backend: Any,
        one_rr_per_rrset: bool = False,
        ignore_trailing: bool = False,
    ) -> dns.message.Message:
        if max_size:
            return await super().async_query(
                request,
                timeout,
                source,
                source_port,
                max_size,
                backend,
                one_rr_per_rrset,
                ignore_trailing,
            )
        if self.session is not None and not source and not source_port:
            return await _exchange(
                self.session, self.address, self.port, request, timeout, one_rr_per_rrset
            )
        family = dns.inet.af_for_address(self.address)
        local = (source or ("::" if family == socket.AF_INET6 else "0.0.0.0"), source_port)
        connected = await backend.make_socket(
            family,
            socket.SOCK_DGRAM,
            0,
            local if source or source_port else None,
            (self.address, self.port),
        )
        async with connected as sock:
            return await dns.asyncquery.udp(
                request,
                self.address,
                timeout=timeout,
                port=self.port,
                sock=sock,
                raise_on_truncation=True,
                one_rr_per_rrset=one_rr_per_rrset,
                ignore_trailing=ignore_trailing,
                ignore_errors=False,
                ignore_unexpected=True,
            )


async def _exchange(
    session: Session,
    address: str,
    port: int,
    request: dns.message.QueryMessage,
    timeout: float,  # noqa: ASYNC109
    one_rr_per_rrset: bool,
) -> dns.message.Message:
    """A UDP exchange on the session's socket to that server, read as dnspython reads one."""
    channel = await session.channel(address, port)

    def wire(qid: int) -> bytes:
        request.id = qid
        return bytes(request.to_wire())

    try:
        _, reply_wire = await channel.exchange(wire, timeout)
    except (TimeoutError, Queued):
        raise dns.exception.Timeout(timeout=timeout) from None  # type: ignore[no-untyped-call]
    except Stray as stray:
        dns.message.from_wire(stray.args[0], one_rr_per_rrset=one_rr_per_rrset)
        raise dns.query.BadResponse from None
    reply = dns.message.from_wire(
        reply_wire, one_rr_per_rrset=one_rr_per_rrset, raise_on_truncation=True
    )
    if not request.is_response(reply):
        raise dns.query.BadResponse
    return reply


def _strict(address: str, port: int, session: Session | None) -> _StrictDo53:
    ns = _StrictDo53(address, port)
    ns.session = session
    return ns


def _make_resolver(
    nameserver: tuple[str, int] | None,
    timeout: float,
    resolv_conf: str,
    session: Session | None = None,
) -> tuple[dns.asyncresolver.Resolver, str | None, bool]:
    if nameserver is not None:
        resolver = dns.asyncresolver.Resolver(configure=False)
        host, port = nameserver
        if ip_family(host) is None or not 0 < port < 65536:
            raise ValueError("a nameserver is an IP address and a port")
        resolver.nameservers = [_strict(host, port, session)]
        resolver.search = []
        resolver.domain = dns.name.root
        search = False
    else:
        resolver = dns.asyncresolver.Resolver(filename=resolv_conf, configure=True)
        strict: list[dns.nameserver.Nameserver] = []
        for ns in resolver.nameservers:
            if isinstance(ns, str):
                strict.append(_strict(ns, resolver.port, session))
            elif type(ns) is dns.nameserver.Do53Nameserver:
                strict.append(_strict(ns.address, ns.port, session))
            else:
                strict.append(ns)
        resolver.nameservers = strict
        search = True
    resolver.lifetime = timeout
    resolver.timeout = timeout
    resolver.cache = None
    first = resolver.nameservers[0] if resolver.nameservers else None
    label = None
    if isinstance(first, dns.nameserver.Do53Nameserver):
        label = hostport(first.address, first.port)
    elif first is not None:
        label = str(first)
    return resolver, label, search


def _server_label(text: str) -> str:
    """`Do53:127.0.0.1@53` as `127.0.0.1:53`."""
    if text.startswith("Do53:") and "@" in text:
        address, _, port = text[5:].rpartition("@")
        return hostport(address, int(port))
    return text


def _classify_no_nameservers(exc: dns.resolver.NoNameservers) -> tuple[Outcome, str]:
    errors: list[Any] = list(exc.kwargs.get("errors") or [])
    rcodes: list[str] = []
    malformed: list[str] = []
    unreachable: list[str] = []
    other: list[str] = []
    for entry in errors:
        server, problem = _server_label(str(entry[0])), entry[3]
        if isinstance(problem, str):
            rcodes.append(f"{problem} from {server}")
        elif isinstance(problem, dns.query.BadResponse):
            malformed.append(f"{server} sent a reply that does not answer the query")
        elif isinstance(problem, dns.message.Truncated):
            tcp_failed = any(e[1] and not isinstance(e[3], str) for e in errors)
            if tcp_failed:
                malformed.append(f"{server} truncated its reply and the retry over TCP failed")
        elif isinstance(problem, dns.exception.FormError | EOFError):
            malformed.append(f"{server} sent a malformed reply ({describe_exception(problem)})")
        elif isinstance(problem, ConnectionRefusedError):
            unreachable.append(f"nothing listens at {server}")
        elif isinstance(problem, OSError):
            unreachable.append(f"{server}: {describe_exception(problem)}")
        else:
            other.append(f"{server}: {describe_exception(problem)}")
    if rcodes:
        return Outcome.SERVFAIL, "; ".join(rcodes)
    if malformed:
        return Outcome.PROTOCOL_ERROR, "; ".join(malformed)
    if unreachable:
        return Outcome.NO_NAMESERVER, "; ".join(unreachable)
    return Outcome.SERVFAIL, "; ".join(other) or "every nameserver failed"


async def _query(
    resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, search: bool
) -> Family:
    try:
        answer = await resolver.resolve(name, rdtype, search=search, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return Family(rdtype, Outcome.NXDOMAIN, why="NXDOMAIN: the name does not exist")
    except dns.resolver.NoAnswer:
        return Family(rdtype, Outcome.NO_ANSWER, why=f"no {rdtype} record")
    except dns.resolver.NoNameservers as exc:
        outcome, why = _classify_no_nameservers(exc)
        return Family(rdtype, outcome, why=why)
    except dns.exception.Timeout:
        return Family(rdtype, Outcome.TIMEOUT, why="no reply in time")
    except dns.resolver.NoResolverConfiguration as exc:
        return Family(rdtype, Outcome.NO_NAMESERVER, why=describe_exception(exc))
    except (dns.name.NameTooLong, dns.name.LabelTooLong, dns.name.EmptyLabel) as exc:
        return Family(rdtype, Outcome.ERROR, why=f"not a valid DNS name ({exc})")
    except (dns.exception.DNSException, OSError, ValueError) as exc:
        return Family(rdtype, Outcome.ERROR, why=describe_exception(exc))
    rrset = answer.rrset
    if rrset is None:
        return Family(rdtype, Outcome.NO_ANSWER, why=f"no {rdtype} record")
    addresses = sorted({rdata.to_text() for rdata in rrset})
    canonical = answer.canonical_name.to_text(omit_final_dot=True)
    return Family(rdtype, Outcome.OK, addresses, rrset.ttl, canonical)


async def resolve(
    name: str,
    *,
    nameserver: tuple[str, int] | None = None,
    timeout: float = 2.0,  # noqa: ASYNC109
    families: tuple[str, ...] = ("A", "AAAA"),
    resolv_conf: str = RESOLV_CONF,
    kind: str = KIND,
    session: Session | None = None,
) -> ProbeResult:
    """Resolve `name` to its A and AAAA records (kind "dns"; evidence a, aaaa, ttl, nameserver).

    `resolv_conf` names the system configuration file read when no nameserver is given;
    `session` shares sockets and resolvers with the other lookups of a run.
    """
    clock = Clock(timeout)
    empty: dict[str, Any] = {"a": [], "aaaa": [], "ttl": None, "nameserver": None}
    literal = ip_family(name)
    if literal is not None:
        found = dict(empty, **{"a" if literal == 4 else "aaaa": [name]})
        return result(kind, name, Outcome.OK, clock, f"{name} is an address (no lookup)", found)
    try:
        if session is not None:
            made = session.cache.get((nameserver, timeout, resolv_conf))
            if made is None:
                made = _make_resolver(nameserver, timeout, resolv_conf, session)
                session.cache[(nameserver, timeout, resolv_conf)] = made
            resolver, label, search = made
        else:
            resolver, label, search = _make_resolver(nameserver, timeout, resolv_conf)
    except (dns.resolver.NoResolverConfiguration, OSError, ValueError) as exc:
        where = resolv_conf if nameserver is None else f"nameserver {nameserver!r}"
        return result(
            kind,
            name,
            Outcome.NO_NAMESERVER,
            clock,
            f"no nameserver to ask ({where}: {describe_exception(exc)})",
            empty,
        )
    if nameserver is not None:
        label = hostport(*nameserver)
    empty["nameserver"] = label
    if not resolver.nameservers:
        return result(kind, name, Outcome.NO_NAMESERVER, clock, "no nameserver configured", empty)
    answers: list[Family] = []
    try:
        async with asyncio.timeout(timeout + 0.25):
            answers = list(
                await asyncio.gather(*(_query(resolver, name, t, search) for t in families))
            )
    except TimeoutError:
        answers = [Family(t, Outcome.TIMEOUT, why="no reply in time") for t in families]
    outcome, detail = summary(name, answers)
    return result(kind, name, outcome, clock, detail, evidence(answers, label, name))
