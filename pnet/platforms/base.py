"""What every platform adapter provides: the one interface the rest of pnet asks.

An adapter is the only code that knows a platform: its service types and what they send and
receive, which services share a private network, how a service is addressed (internal host,
scheme, URL, discovery name), how public names map back to services, its reference syntax, the
texts of its fixes and its documentation. Adding a platform means one module that implements
`Adapter`, its registration in `pnet.platforms`, and the sources that read its workspaces.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pnet.model import EnvVar, Kind, Network, Platform, Service, ServiceType, Workspace
from pnet.urls import Parts

if TYPE_CHECKING:
    from pnet.platforms.connect import ConnectTab


@dataclass(frozen=True)
class Docs:
    """The platform's pages a finding cites as evidence ("" where it has none)."""

    private_network: str = ""
    scope: str = ""
    port_binding: str = ""
    variables: str = ""
    config: str = ""
    free: str = ""
    private_services: str = ""
    key_value: str = ""
    postgres: str = ""
    ipv6_names: str = ""
    libraries: str = ""
    domains: str = ""
    public_urls: str = ""
    ports: str = ""
    plain_traffic: str = ""
    failed_to_respond: str = ""

    def datastore(self, kind: Kind) -> str:
        return self.key_value if kind is Kind.KEYVALUE else self.postgres

    def all(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v for v in vars(self).values() if v))


@dataclass(frozen=True)
class Separation:
    """Why two services are not on one private network the platform lets them use."""

    kind: str
    message: str
    evidence: tuple[str, ...] = ()
    isolated: str | None = None


class Address(Parts, Protocol):
    """What a fix needs to know of the address it corrects (a `pnet.targets.Target`)."""

    @property
    def key(self) -> str | None: ...
    @property
    def reference(self) -> str | None: ...


@dataclass(frozen=True)
class HostIndex:
    """Lookups over a workspace's services, built once per workspace (`pnet.platforms.index`)."""

    by_host: dict[str, list[Service]]
    by_discovery: dict[str, Service]
    by_name: dict[str, list[Service]]
    by_id: dict[str, Service]
    by_public: dict[str, Service]
    by_kind: dict[Kind, list[Service]]


Problem = tuple[str, str, list[str], list[str]]
"""(finding kind, message, fix lines, evidence lines): what a platform rule found."""


class Adapter(Protocol):
    """One platform's rules and words. Implementations: `render.Render`, `railway.Railway`."""

    platform: Platform
    title: str
    scope_word: str
    shared_suffix: str
    docs: Docs
    reserved_ports: frozenset[int]
    max_open_ports: int | None
    builds_reach_private_network: bool
    default_service_port: int | None
    find_address: str
    where_to_learn: str
    unreachable_hints: tuple[str, ...]

    # ---- services and networks -------------------------------------------------------------
    def service_type(self, kind: Kind, plan: str | None) -> ServiceType:
        """What a service of this kind (on this plan) may do on the private network."""
        ...

    def network(self, workspace: Workspace, service: Service) -> Network:
        """The address families the service's private network resolves names to."""
        ...

    def network_note(self, network: Network) -> str:
        """Why a network has the families it has (a legacy IPv6-only environment), or ""."""
        ...

    def separation(self, workspace: Workspace, a: Service, b: Service) -> Separation | None:
        """None when `a` and `b` share a private network the platform lets them use."""
        ...

    def location_note(self, service: Service) -> str:
        """The service's region or environment, or what pnet cannot know of it and why."""
        ...

    # ---- names and addresses -----------------------------------------------------------------
    def client_scheme(self, service: Service) -> str | None:
        """The scheme a client needs to talk to the service over the private network."""
        ...

    def internal_url(
        self, service: Service, *, port: int | None = None, path: str = "", auth: bool = False
    ) -> str | None:
        """The URL a client on the same private network should use (passwords as PASSWORD)."""
        ...

    def is_public_host(self, host: str) -> bool:
        """A name of the platform's public edge (`*.onrender.com`, `*.up.railway.app`)."""
        ...

    def is_private_name(self, host: str) -> bool:
        """A name only the platform's private network has (`dpg-…`, `*.railway.internal`)."""
        ...

    def could_be_private(self, host: str) -> bool:
        """A name of the shape private names have (a Render slug), which only DNS confirms."""
        ...

    def internal_host_of(self, public_host: str, source: Service | None = None) -> str | None:
        """The internal host a public name stands for, when its shape tells (a guess that a
        lookup from the private network confirms)."""
        ...

    def map_host(
        self,
        index: HostIndex,
        host: str,
        *,
        source: Service | None,
        scheme: str | None,
        user: str | None,
    ) -> tuple[Service | None, str]:
        """The platform's own ways a host names a service, and how (`public-url`, `slug`...)."""
        ...

    def other_instance_of(self, index: HostIndex, host: str) -> bool:
        """A name of another instance of a known datastore (a replica), not a typo."""
        ...

    # ---- references --------------------------------------------------------------------------
    def resolve(self, value: str, workspace: Workspace, source: Service | None) -> str | None:
        """A value with the platform's reference syntax, resolved from the model (None if not)."""
        ...

    def reference_text(self, var: EnvVar, service: Service | None) -> str:
        """A variable's reference, written as the platform's configuration writes it."""
        ...

    def reference_problem(
        self,
        workspace: Workspace,
        source: Service | None,
        address: Address,
        service: Service | None,
    ) -> Problem | None:
        """What is wrong with a reference that does not resolve."""
        ...

    # ---- fixes -------------------------------------------------------------------------------
    def keep_right(self, service: Service, address: Address | None, url: str | None) -> list[str]:
        """After the right URL: the platform's way to keep it right (Blueprint, reference)."""
        ...

    def cross_fix(
        self,
        workspace: Workspace,
        address: Address,
        source: Service,
        service: Service,
        separation: Separation,
    ) -> list[str]:
        """How to reach a service of another private network, or bring the two together."""
        ...

    def external_closed(self, service: Service) -> bool:
        """A datastore whose external URL admits no one (an empty IP allow list)."""
        ...

    def closed_external(self, source: Service, service: Service) -> tuple[list[str], list[str]]:
        """(fix, evidence) for the external URL of such a datastore, called from elsewhere."""
        ...

    def not_receiving(self, service: Service) -> tuple[list[str], list[str]]:
        """(fix, evidence) for a target whose type cannot receive private traffic."""
        ...

    def bind_fix(self, port: int | None, *, dual: bool) -> list[str]:
        """How to bind a server so the private network reaches it."""
        ...

    def refused_fix(self, name: str, port: int | None) -> tuple[list[str], list[str]]:
        """(fix, evidence) when nothing accepts on the port."""
        ...

    def port_notes(self, service: Service, port: int) -> list[str]:
        """What the platform says of a port a client used (a default, a reserved one)."""
        ...

    def port_fix(self, service: Service, address: Address, port: int) -> list[str]:
        """After `KEY=URL-with-the-right-port`: the platform's way to keep the port right."""
        ...

    def auth_advice(self, service: Service, protocol: str) -> tuple[str, list[str]]:
        """(why the server asks for credentials, fix lines that carry them)."""
        ...

    def auth_beside(self, service: Service, protocol: str, key: str) -> str:
        """The platform's way to give a host variable's client its password."""
        ...

    def scheme_advice(
        self, service: Service, address: Address, scheme: str
    ) -> tuple[list[str], list[str]]:
        """(fix, evidence) when host:port lacks a scheme, beyond `KEY=URL`."""
        ...

    def client_side_url(self, service: Service, address: Address) -> str | None:
        """The public URL a browser should use for a service, when the platform gives one."""
        ...

    def service_findings(self, service: Service) -> Sequence[Problem]:
        """What the platform forbids a service itself (reserved ports, too many, open to all)."""
        ...

    def host_note(self) -> str:
        """How the platform names internal hosts, for a name used in place of a host."""
        ...

    def unknown_slug_fix(self, service: Service) -> str:
        """Where to read a service's internal host that the model does not know."""
        ...

    # ---- screens -----------------------------------------------------------------------------
    def connect_tabs(
        self, workspace: Workspace, service: Service, *, reveal: bool = False
    ) -> list[ConnectTab]:
        """What the platform's dashboard shows under Connect."""
        ...
