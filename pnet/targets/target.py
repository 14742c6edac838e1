"""A target: one address to check, as written, and the service it maps to."""

from __future__ import annotations

from dataclasses import dataclass

from pnet.secrets import mask_text
from pnet.urls import TLS_SCHEMES, hostport

HOWS = ("exact-host", "slug", "public-url", "database-id", "name", "discovery", "reference")
INTERNAL_HOWS = frozenset({"exact-host", "slug", "discovery", "name", "database-id", "reference"})


@dataclass(frozen=True)
class Target:
    """One address to check.

    `raw` is the value as written, secrets included: show `display`, never `raw`.
    `port` is the explicit port, else the one implied by the scheme or the service's type
    (`port_explicit` says which; `port_assumed` that it is a port pnet assumed for the service,
    not one the workspace states). `how` says how `service` was found from the host.
    `source` is the service the address is used from, when it differs from the run's source
    (the sweep checks every service's variables from that service).
    `line` and `column` say where the workspace's file states the variable it comes from.
    """

    subject: str
    raw: str
    scheme: str | None
    host: str
    port: int | None
    path: str = ""
    user: str | None = None
    has_password: bool = False
    service: str | None = None
    how: str = "unresolved"
    origin: str = "env"
    port_explicit: bool = False
    query: str = ""
    key: str | None = None
    source: str | None = None
    reference: str | None = None
    resolved: bool = True
    note: str = ""
    port_assumed: bool = False
    line: int | None = None
    column: int | None = None

    @property
    def display(self) -> str:
        return mask_text(self.raw)

    @property
    def is_tls(self) -> bool:
        return self.scheme in TLS_SCHEMES

    @property
    def hostport(self) -> str:
        return hostport(self.host, self.port)

    @property
    def internal(self) -> bool:
        """Mapped to a service by one of its private names (not its public URL)."""
        return self.how in INTERNAL_HOWS

    def to_json(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "value": self.display,
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "service": self.service,
            "how": self.how,
            "origin": self.origin,
        }
