"""The workspace model: immutable descriptions of a platform's services and what they allow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property


class Platform(StrEnum):
    RENDER = "render"
    RAILWAY = "railway"


class Kind(StrEnum):
    """What a service is, in the short form Render's Blueprints and env vars use."""

    WEB = "web"
    PSERV = "pserv"
    WORKER = "worker"
    CRON = "cron"
    STATIC = "static"
    POSTGRES = "postgres"
    KEYVALUE = "keyvalue"

    @property
    def is_datastore(self) -> bool:
        return self in (Kind.POSTGRES, Kind.KEYVALUE)


class Network(StrEnum):
    """Address families a private network resolves names to."""

    DUAL_STACK = "dual-stack"
    IPV6_ONLY = "ipv6-only"
    IPV4_ONLY = "ipv4-only"


@dataclass(frozen=True)
class ServiceType:
    """What the platform allows a kind of service (on a given plan) to do on the private network.

    `scope` names the attribute of a service that says which private network it is on (`region`
    on Render, `environment` on Railway); `discovery_suffix` turns its internal host into the
    name that resolves to every instance (Render: `-discovery`; Railway: the host itself).
    """

    kind: Kind
    label: str
    sends: bool
    receives: bool
    has_internal_address: bool
    has_discovery: bool
    has_public_url: bool
    ssh: bool
    why_not_receiving: str = ""
    instead: str = ""
    scope: str = "region"
    discovery_suffix: str = ""


@dataclass(frozen=True)
class EnvVar:
    """A variable a service reads.

    `value` is what the platform would inject; None when the source cannot know it (a generated
    secret, `sync: false`, a slug whose hash is assigned at creation, a reference to something the
    source does not define). `origin` says where it comes from: value, fromService, fromDatabase,
    fromGroup, generateValue, sync, environment, reference (Railway `${{...}}`).
    A reference names what it points at: `ref_service` (the service or database name), `ref_type`
    (its Blueprint type), `ref_property` (host, port, hostport, connectionString, ...) or
    `ref_key` (envVarKey); `resolved` is False when the source does not define that target.
    `line` and `column` (1-based) say where the workspace's file states it: the entry's `key`,
    or for a reference the `fromService` / `fromDatabase` block; None when no file does.
    `value_at` is where the file writes a literal value: its first line and column and the
    line and column just past its end.
    """

    key: str
    value: str | None
    origin: str = "value"
    resolved: bool = True
    note: str = ""
    line: int | None = None
    column: int | None = None
    ref_service: str | None = None
    ref_type: str | None = None
    ref_property: str | None = None
    ref_key: str | None = None
    value_at: tuple[int, int, int, int] | None = None


@dataclass(frozen=True)
class Instance:
    id: str
    address: str | None = None


@dataclass(frozen=True)
class Service:
    name: str
    type: ServiceType
    platform: Platform
    region: str | None = None
    environment: str | None = None
    project: str | None = None
    plan: str | None = None
    host: str | None = None
    host_known: bool = True
    ports: tuple[int, ...] = ()
    public_url: str | None = None
    env: tuple[EnvVar, ...] = ()
    instances: int = 1
    health_path: str | None = None
    ip_allow_list: tuple[str, ...] | None = None
    ports_known: bool = True
    internal_auth: bool = False
    id: str | None = None
    runtime: str | None = None
    database: str | None = None
    user: str | None = None
    password: str | None = None
    build_command: str | None = None
    start_command: str | None = None
    line: int | None = None
    blueprint_name: str | None = None
    column: int | None = None
    spots: tuple[tuple[str, int, int], ...] = ()

    def spot(self, what: str | None = None) -> tuple[int, int | None] | None:
        """Where the workspace's file states `what` of this service (`ipAllowList[0]`,
        `buildCommand`, ...: `spots` holds each as (what, line, column)), or with no `what`
        the service's own entry; None when the file does not say."""
        if what is None:
            return (self.line, self.column) if self.line is not None else None
        for name, line, column in self.spots:
            if name == what:
                return line, column
        return None

    @property
    def ref_name(self) -> str:
        """The name a Blueprint reference (`fromService`, `fromDatabase`) uses for it: the model's
        name is unique in a workspace, a Blueprint's database may share a service's name."""
        return self.blueprint_name or self.name

    @property
    def kind(self) -> Kind:
        return self.type.kind

    @property
    def location(self) -> str | None:
        """Region (Render) or environment (Railway): the private network it belongs to."""
        return self.environment if self.type.scope == "environment" else self.region

    @property
    def default_port(self) -> int | None:
        return self.ports[0] if self.ports else None

    @property
    def discovery_host(self) -> str | None:
        if not (self.type.has_discovery and self.host):
            return None
        return f"{self.host}{self.type.discovery_suffix}"

    def env_var(self, key: str) -> EnvVar | None:
        for var in self.env:
            if var.key == key:
                return var
        return None


@dataclass(frozen=True)
class EnvironmentInfo:
    """A Railway environment (or a Render project environment) and its network."""

    name: str
    network: Network | None = None
    isolated: bool = False


@dataclass(frozen=True)
class Workspace:
    name: str
    platform: Platform
    services: tuple[Service, ...]
    project: str | None = None
    environments: Mapping[str, EnvironmentInfo] = field(default_factory=dict)
    source: str = ""
    notes: tuple[str, ...] = ()
    partial: bool = False

    @cached_property
    def _by_name(self) -> dict[str, Service]:
        out: dict[str, Service] = {}
        for svc in self.services:
            out.setdefault(svc.name, svc)
        return out

    def service(self, name: str) -> Service | None:
        return self._by_name.get(name)

    def groups(self) -> list[tuple[str, list[Service]]]:
        """Services grouped by region (Render) or environment (Railway), in a stable order:
        `global` for what is on no private network (a static site), `<scope> not known` for a
        service whose region or environment the source does not say."""
        order: dict[str, list[Service]] = {}
        for svc in self.services:
            off = not (svc.type.sends or svc.type.receives)
            where = svc.location or ("global" if off else f"{svc.type.scope} not known")
            order.setdefault(where, []).append(svc)
        return [(k, sorted(v, key=lambda s: s.name)) for k, v in sorted(order.items())]
