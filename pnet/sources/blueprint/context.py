"""What one reading of a Blueprint collects before the Workspace is built from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from pnet.model import EnvironmentInfo, EnvVar, Kind
from pnet.sources.schema import Reader
from pnet.yamlload import Node


@dataclass
class Raw:
    """One resource as the file gives it, before references are resolved."""

    node: Node
    name: str
    kind: Kind
    plan: str | None
    region: str | None
    project: str | None
    environment: str | None
    bp_type: str
    runtime: str | None = None
    vars: list[tuple[Node, int]] = field(default_factory=list)


@dataclass
class Group:
    """An environment group: its variables, as every service that includes it receives them."""

    name: str
    line: int
    vars: list[EnvVar]


@dataclass
class Scope:
    """Where a resource sits: the project and `project/environment` it belongs to, if any."""

    project: str | None = None
    environment: str | None = None


@dataclass
class Context:
    """The file being read, its reader, and every resource, group and note found so far."""

    file: str
    r: Reader = field(init=False)
    services: list[Raw] = field(default_factory=list)
    databases: list[Raw] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    environments: dict[str, EnvironmentInfo] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    service_names: dict[str, int] = field(default_factory=dict)
    database_names: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.r = Reader(self.file, source_text=True)
