"""Reading addresses: a URL, `host:port` or a bare host, as written in a value or a command line."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import unquote, urlsplit

from pnet import platforms
from pnet.model import Kind, Service, Workspace
from pnet.targets.mapping import is_private_host, looks_internal, map_host
from pnet.targets.target import Target
from pnet.urls import DEFAULT_PORTS, KNOWN_SCHEMES

_HOSTNAME = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
HOSTPORT = re.compile(
    rf"^(?P<host>{_HOSTNAME}\.?|\[[0-9A-Fa-f:.]+\]):(?P<port>\d{{1,5}})(?P<path>/\S*)?$"
)
BARE_HOST = re.compile(rf"^{_HOSTNAME}\.?$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")
HOST_KEY = re.compile(r"^(?P<stem>.*?)_?(HOST|HOSTNAME)$")
URL_LIKE_KEY = re.compile(r"(URL|URI|HOST|ADDR|ADDRESS|ENDPOINT|DSN)S?$", re.IGNORECASE)


def build(
    workspace: Workspace,
    subject: str,
    raw: str,
    *,
    key: str | None,
    origin: str,
    source: Service | None,
    port_hint: int | None = None,
    scheme_hint: str | None = None,
) -> Target | None:
    text = raw.strip()
    m = _URL.match(text)
    if m:
        scheme = m["scheme"].lower()
        try:
            parts = urlsplit(text)
            host = parts.hostname or ""
            try:
                port = parts.port
            except ValueError:
                port = None
            path, query = parts.path, parts.query
            user = unquote(parts.username) if parts.username else None
            has_password = bool(parts.password)
        except ValueError:
            return None
        if not host:
            return None
        if scheme not in KNOWN_SCHEMES and not looks_internal(workspace, host):
            return None
        return finish(
            workspace,
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme,
                host=host.lower(),
                port=port,
                path=path,
                user=user,
                has_password=has_password,
                origin=origin,
                port_explicit=port is not None,
                query=query,
                key=key,
            ),
            source,
        )
    hp = HOSTPORT.match(text)
    if hp:
        host = hp["host"].strip("[]").lower()
        if not (re.search(r"[a-z]", host) or _IPV4.match(host) or ":" in host):
            return None
        port = int(hp["port"])
        if not 1 <= port <= 65535:
            return None
        return finish(
            workspace,
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme_hint,
                host=host,
                port=port,
                path=hp["path"] or "",
                origin=origin,
                port_explicit=True,
                key=key,
            ),
            source,
        )
    if BARE_HOST.match(text) and re.search(r"[a-z]", text.lower()):
        host = text.lower().rstrip(".")
        host_key = bool(key and HOST_KEY.match(key.upper()))
        known = looks_internal(workspace, host)
        if known and key and not host_key and not URL_LIKE_KEY.search(key):
            # A bare service name in a variable that holds no address (PGDATABASE=db,
            # APP_NAME=api) is a name, not a target.
            named, how = map_host(workspace, host, source=source)
            if named is not None and how == "name":
                return None
        if not known and not (host_key and ("." in host or "-" in host)):
            return None
        if not known and host_key and not (is_private_host(workspace, host)):
            return None
        return finish(
            workspace,
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme_hint,
                host=host,
                port=port_hint,
                origin=origin,
                port_explicit=port_hint is not None,
                key=key,
            ),
            source,
        )
    return None


def finish(workspace: Workspace, target: Target, source: Service | None) -> Target:
    """The target mapped to its service, with the port a client would use when none is written:
    the scheme's, else the service's own (assumed when the workspace does not state it)."""
    svc, how = map_host(
        workspace, target.host, source=source, scheme=target.scheme, user=target.user
    )
    port = target.port
    assumed = target.port_assumed
    if port is None:
        if target.scheme and DEFAULT_PORTS.get(target.scheme):
            port = DEFAULT_PORTS[target.scheme]
        elif svc is not None and how != "public-url" and svc.default_port:
            port = svc.default_port
            assumed = not svc.ports_known
    return replace(
        target, service=svc.name if svc else None, how=how, port=port, port_assumed=assumed
    )


def parse_target(text: str, workspace: Workspace, source: Service | None = None) -> Target | None:
    """A target given on the command line: a URL, `host:port`, a host or a service name."""
    text = text.strip()
    if not text:
        return None
    svc = workspace.service(text)
    if svc is not None:
        found = service_targets(workspace, svc)
        if found:
            return replace(found[0], subject=text, origin="arg")
        return Target(
            subject=text,
            raw=text,
            scheme=None,
            host=(svc.host or svc.name).lower(),
            port=None,
            service=svc.name,
            how="name",
            origin="arg",
        )
    target = build(workspace, text, text, key=None, origin="arg", source=source)
    if target is not None:
        return target
    if BARE_HOST.match(text) or HOSTPORT.match(text):
        host = text.lower()
        return finish(
            workspace,
            Target(subject=text, raw=text, scheme=None, host=host, port=None, origin="arg"),
            source,
        )
    return None


def service_targets(workspace: Workspace, service: Service) -> list[Target]:
    """The service itself as a target: its internal address on each port, with a client's scheme."""
    adapter = platforms.of(workspace)
    if not (service.host and service.type.has_internal_address and service.type.receives):
        return []
    out: list[Target] = []
    for index, port in enumerate(service.ports):
        scheme = adapter.client_scheme(service)
        if service.kind is Kind.PSERV and not service.health_path:
            scheme = None
        if index > 0 and service.kind in (Kind.WEB, Kind.PSERV):
            scheme = None
        subject = f"service:{service.name}" if index == 0 else f"service:{service.name}:{port}"
        user = None
        if service.kind is Kind.POSTGRES:
            user = service.user
        authority = f"{user}@" if user else ""
        path = ""
        if service.kind is Kind.POSTGRES and service.database:
            path = f"/{service.database}"
        raw = (
            f"{scheme}://{authority}{service.host}:{port}{path}"
            if scheme
            else f"{service.host}:{port}"
        )
        out.append(
            Target(
                subject=subject,
                raw=raw,
                scheme=scheme,
                host=service.host.lower(),
                port=port,
                path=path,
                user=user,
                service=service.name,
                how="exact-host",
                origin="service",
                port_explicit=True,
                port_assumed=not service.ports_known,
            )
        )
    return out
