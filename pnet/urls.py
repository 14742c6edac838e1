"""URL schemes and how clients read them: default ports, TLS, protocol families, rewriting.

Facts of the protocols and their clients, not of any platform.
"""

from __future__ import annotations

from typing import Protocol

DEFAULT_PORTS: dict[str, int] = {
    "http": 80,
    "https": 443,
    "ws": 80,
    "wss": 443,
    "redis": 6379,
    "rediss": 6379,
    "valkey": 6379,
    "valkeys": 6379,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "amqp": 5672,
    "amqps": 5671,
    "mongodb": 27017,
    "nats": 4222,
    "tcp": 0,
}
TLS_SCHEMES = frozenset({"https", "wss", "rediss", "valkeys", "amqps"})
PLAIN_OF = {"https": "http", "wss": "ws", "rediss": "redis", "valkeys": "redis", "amqps": "amqp"}
HTTP_SCHEMES = frozenset({"http", "https", "ws", "wss"})
REDIS_SCHEMES = frozenset({"redis", "rediss", "valkey", "valkeys"})
POSTGRES_SCHEMES = frozenset({"postgres", "postgresql"})
DATABASE_SCHEMES = POSTGRES_SCHEMES | {"mysql", "mongodb", "mongodb+srv"}
KNOWN_SCHEMES = frozenset(DEFAULT_PORTS) | {"mongodb+srv"}
PASSWORD = "PASSWORD"


def family(scheme: str | None) -> str | None:
    """The protocol a scheme speaks: `redis`, `postgres`, `http`, or the scheme itself."""
    if scheme is None:
        return None
    if scheme in REDIS_SCHEMES:
        return "redis"
    if scheme in POSTGRES_SCHEMES:
        return "postgres"
    if scheme in HTTP_SCHEMES:
        return "http"
    if scheme in DATABASE_SCHEMES or scheme in ("amqp", "amqps", "nats"):
        return scheme
    return None


class Parts(Protocol):
    """The parts of an address a URL is rebuilt from (a `pnet.targets.Target`)."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int | None: ...
    @property
    def path(self) -> str: ...
    @property
    def user(self) -> str | None: ...
    @property
    def has_password(self) -> bool: ...
    @property
    def scheme(self) -> str | None: ...
    @property
    def query(self) -> str: ...


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def hostport(host: str, port: int | None) -> str:
    return f"{bracket(host)}:{port}" if port else bracket(host)


def with_scheme(parts: Parts, scheme: str, *, port: int | None = None) -> str:
    """The address as a URL with `scheme` (and `port`), its path and query kept; a password
    it carries becomes the PASSWORD placeholder."""
    auth = ""
    if parts.user:
        auth = f"{parts.user}:{PASSWORD}@" if parts.has_password else f"{parts.user}@"
    p = port if port is not None else parts.port
    url = f"{scheme}://{auth}{bracket(parts.host)}" + (f":{p}" if p else "")
    url += parts.path or ""
    if parts.query:
        url += f"?{parts.query}"
    return url


def with_port(parts: Parts, port: int) -> str:
    """The address with another port: a URL when it has a scheme, else host:port."""
    if parts.scheme:
        return with_scheme(parts, parts.scheme, port=port)
    return f"{hostport(parts.host, port)}{parts.path}"


def path_of(parts: Parts | None) -> str:
    """The address's path, unless it is empty or `/` (nothing worth keeping in a fix)."""
    if parts is None or parts.path in ("", "/"):
        return ""
    return parts.path
