"""The finding kinds: a stable public contract (JSON output, docs, `pnet-doctor --explain`)."""

from __future__ import annotations

from dataclasses import dataclass

from pnet.diagnose.finding import Severity


@dataclass(frozen=True)
class KindInfo:
    name: str
    severity: Severity
    meaning: str


_E, _W = Severity.ERROR, Severity.WARNING

KINDS: dict[str, KindInfo] = {
    k.name: k
    for k in (
        KindInfo(
            "wrong-url",
            _W,
            "a public URL for a service on the same private network; use the internal URL",
        ),
        KindInfo("wrong-port", _E, "the host is right, the port is not one the service listens on"),
        KindInfo("cross-region", _E, "source and target are in different Render regions"),
        KindInfo(
            "cross-environment", _E, "source and target are in different Railway environments"
        ),
        KindInfo("not-receiving", _E, "the target type cannot receive private traffic"),
        KindInfo("missing-scheme", _W, "`host:port` where the client needs a URL scheme"),
        KindInfo(
            "tls-on-private",
            _E,
            "TLS (https://, rediss://) to an internal address that speaks plain text",
        ),
        KindInfo("unknown-host", _E, "the name does not resolve"),
        KindInfo("refused", _E, "the name resolves, nothing accepts on that port"),
        KindInfo("unreachable", _E, "the name resolves, no answer in time"),
        KindInfo("loopback-bind", _E, "the service listens on 127.0.0.1 / localhost only"),
        KindInfo(
            "ipv4-only-bind",
            _E,
            "the network is IPv6-only and the service listens on IPv4 (0.0.0.0) only",
        ),
        KindInfo(
            "ipv6-only-bind",
            _W,
            "the network is dual-stack and the service listens on IPv6 only",
        ),
        KindInfo(
            "reserved-port", _E, "a port the platform reserves, not usable for private traffic"
        ),
        KindInfo("too-many-ports", _W, "more open ports than the platform allows"),
        KindInfo("instance-down", _W, "discovery lists N instances, fewer answer"),
        KindInfo("http-error", _W, "the HTTP check answered 5xx (or not the expected status)"),
        KindInfo(
            "client-side-private-url", _E, "a browser-exposed variable holds a private address"
        ),
        KindInfo("public-database", _W, "a datastore allows connections from anywhere (0.0.0.0/0)"),
        KindInfo(
            "build-phase", _E, "private networking used during a build, where it is not available"
        ),
        KindInfo(
            "ipv6-only-name",
            _W,
            "the name resolves to IPv6 only; clients that ask for A records only fail",
        ),
        KindInfo("auth-required", _E, "the server asks for credentials the URL does not carry"),
        KindInfo(
            "wrong-protocol", _E, "the URL's scheme does not match what the target is or speaks"
        ),
        KindInfo(
            "handshake-error",
            _E,
            "the server took the protocol handshake and answered with an error "
            "(Redis -ERR, a PostgreSQL error such as a database that does not exist)",
        ),
    )
}


def severity(kind: str) -> Severity:
    return KINDS[kind].severity
