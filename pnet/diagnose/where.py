"""Where a finding points in the workspace's file: the variable's `key` or reference block,
the `ipAllowList` entry that opens a database, the command a fix changes, else the service."""

from __future__ import annotations

import dataclasses
import ipaddress

from pnet.diagnose.finding import Finding, Location
from pnet.model import Service, Workspace
from pnet.targets import Target

BIND_KINDS = frozenset({"loopback-bind", "ipv4-only-bind", "ipv6-only-bind", "refused"})


def _at(workspace: Workspace, spot: tuple[int, int | None] | None) -> Location | None:
    if spot is None or not workspace.source:
        return None
    return Location(workspace.source, spot[0], spot[1])


SERVICE_CAUSES = frozenset({"reserved-port"})
"""Kinds whose cause, and fix, is in the target service's own entry, not in the variable."""


def of_target(workspace: Workspace, target: Target, finding: Finding) -> Location | None:
    """Where a finding about a target points: the variable it comes from, or for a cause in
    the service it maps to (a reserved port), that service's entry; None when no file says."""
    if finding.kind in SERVICE_CAUSES and finding.service:
        svc = workspace.service(finding.service)
        at = of_service(workspace, svc, finding.kind) if svc is not None else None
        if at is not None:
            return at
    if target.line is None:
        return None
    return _at(workspace, (target.line, target.column))


def _open_entry(svc: Service) -> str | None:
    """The `ipAllowList[i]` that lets every address in, if one does."""
    for i, entry in enumerate(svc.ip_allow_list or ()):
        try:
            if ipaddress.ip_network(entry.strip(), strict=False).prefixlen == 0:
                return f"ipAllowList[{i}]"
        except ValueError:
            continue
    return None


def of_service(workspace: Workspace, svc: Service, kind: str) -> Location | None:
    """Where a finding of `kind` about the service itself points."""
    spot: tuple[int, int | None] | None = None
    if kind == "public-database":
        entry = _open_entry(svc)
        spot = svc.spot(entry) if entry else svc.spot("ipAllowList")
    elif kind == "reserved-port":
        port = svc.env_var("PORT")
        if port is not None and port.line is not None:
            spot = (port.line, port.column)
    elif kind == "build-phase":
        spot = svc.spot("buildCommand")
    elif kind in BIND_KINDS:
        spot = svc.spot("startCommand") or svc.spot("dockerCommand")
    return _at(workspace, spot or svc.spot())


def placed(finding: Finding, location: Location | None) -> Finding:
    """The finding with a location, unless it has one already or none is known."""
    if finding.location is not None or location is None:
        return finding
    return dataclasses.replace(finding, location=location)
