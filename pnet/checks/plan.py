"""The plan: for each target, its static verdict and the probes that can still tell something.

The static rules run once per target, here; the probes follow from what they found (no TCP past
a cross-region finding, no handshake past a wrong port) and from what the model knows (no probe
of a name the model only stands in for). A target that gets no probe says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pnet.diagnose import Context, context, static_findings
from pnet.diagnose.finding import Finding
from pnet.diagnose.static import public_address_is_wrong
from pnet.model import Kind, Service, Workspace
from pnet.targets import Target, is_private_host
from pnet.urls import HTTP_SCHEMES, POSTGRES_SCHEMES, REDIS_SCHEMES

OFFLINE = "offline"


@dataclass(frozen=True)
class Planned:
    """One target: what the model says of it, and which probes to run (`kinds`), or why none.

    `internal` is the internal host (and a port to try) a public address of no known service
    stands for, when its name tells: a lookup from here says whether it is on this network.
    """

    target: Target
    source: Service | None
    static: tuple[Finding, ...]
    kinds: tuple[str, ...]
    reason: str = ""
    internal: tuple[str, int | None] | None = None


def prepare(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    *,
    offline: bool = False,
) -> list[Planned]:
    """Every target's static verdict and probe plan, in order."""
    ctx = context(workspace, source)
    out = []
    for target in targets:
        src = workspace.service(target.source) if target.source else source
        found = tuple(static_findings(ctx, target))
        if offline:
            out.append(Planned(target, src, found, (), OFFLINE))
            continue
        kinds, reason = probe_kinds(ctx, src, target, found)
        internal = None if kinds or found else internal_of(ctx, src, target)
        out.append(Planned(target, src, found, kinds, reason, internal))
    return out


def internal_of(
    ctx: Context, source: Service | None, target: Target
) -> tuple[str, int | None] | None:
    """The internal name a public URL of no known service stands for (Render's
    `<slug>.onrender.com` is `<slug>`), when a client on this network should use it instead."""
    if source is None or target.service is not None or not ctx.p.is_public_host(target.host):
        return None
    if not public_address_is_wrong(source, target):
        return None
    internal = ctx.p.internal_host_of(target.host, source)
    if not internal or internal == (source.host or "").lower():
        return None
    return internal, ctx.p.default_service_port


def discovery_name(svc: Service, target: Target) -> str | None:
    """The name that lists the service's instances: its own, or, when the model only stands in
    for its host (a Blueprint's unknown slug), the one the target's real host gives; never one
    built on a guess."""
    if not (svc.type.has_discovery and svc.host):
        return None
    if svc.host_known:
        return svc.discovery_host
    if target.host != svc.host.lower() and target.how in ("slug", "exact-host", "reference"):
        return f"{target.host}{svc.type.discovery_suffix}"
    return None


def probe_kinds(
    ctx: Context, source: Service | None, target: Target, found: Sequence[Finding]
) -> tuple[tuple[str, ...], str]:
    """The probe kinds a target needs, or the reason it gets none."""
    settled = {f.kind for f in found}
    workspace = ctx.workspace
    svc = workspace.service(target.service) if target.service else None
    if "client-side-private-url" in settled:
        return (), "runs in the browser: not a connection from the private network"
    if target.how == "public-url":
        return (), "a public address: pnet probes the private network"
    if svc is None:
        asked = target.origin == "arg" and "." not in target.host
        if not is_private_host(workspace, target.host) and not asked:
            if ctx.p.is_public_host(target.host):
                return (), "a public address: pnet probes the private network"
            return (), "not on the private network"
    else:
        if not (svc.type.receives and svc.type.has_internal_address):
            return (), f"{svc.name} cannot receive private traffic"
        if not svc.host_known and target.host == (svc.host or "").lower():
            return (), f"{svc.name}'s internal host is not known (its slug suffix)"
    if source is not None and not source.type.sends:
        return (), f"{source.name} is not on the private network"
    if target.port is None:
        return ("dns",), ""
    if settled & {"cross-region", "cross-environment"}:
        return ("dns",), ""
    if svc is not None and source is not None and ctx.separation(source, svc) is not None:
        return ("dns",), ""
    if settled & {"reserved-port", "wrong-port", "wrong-protocol"}:
        return ("dns", "tcp"), ""
    kinds = ["dns"]
    # Inside an instance the count is not known: its discovery name tells.
    several = svc is not None and (svc.instances > 1 or workspace.partial)
    if svc is not None and several and discovery_name(svc, target):
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
        target.scheme is None and svc is not None and svc.kind is Kind.KEYVALUE
    ):
        kinds.append("redis")
    if target.scheme in POSTGRES_SCHEMES or (
        target.scheme is None and svc is not None and svc.kind is Kind.POSTGRES
    ):
        kinds.append("postgres")
    if svc is not None and svc.kind.is_datastore and target.scheme in HTTP_SCHEMES:
        kinds = [k for k in kinds if k != "http"]
    return tuple(kinds), ""
