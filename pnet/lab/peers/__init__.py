"""What answers on a lab listener: the service's protocol, or a hostile peer.

Well-behaved peers speak `http` (`pnet.lab.peers.http`), `postgres`
(`pnet.lab.peers.postgres`), `redis` (`pnet.lab.peers.redis`) or `tcp`; the misbehaving ones
(`drip`, `endless-body`, `redirect-loop`, `close-mid-header`, `http09`, `tls-stall`, `silent`)
are in `pnet.lab.peers.hostile`. `blackhole` has no handler: the lab never accepts on it (see
`pnet.lab.server`).

Every loop is bounded in count and time; `lab.delay_ms` delays each first byte.
"""

from __future__ import annotations

from pnet.lab.peers.base import Handler, Peer
from pnet.lab.peers.hostile import (
    DRIP_RESPONSE,
    serve_close_mid_header,
    serve_drip,
    serve_endless,
    serve_http09,
    serve_silent,
    serve_tcp,
)
from pnet.lab.peers.http import serve_http
from pnet.lab.peers.postgres import ScramSecret, pg_md5, pg_query_result, serve_postgres
from pnet.lab.peers.redis import serve_redis

__all__ = [
    "DRIP_RESPONSE",
    "HANDLERS",
    "Handler",
    "Peer",
    "ScramSecret",
    "handler_for",
    "pg_md5",
    "pg_query_result",
    "serve_postgres",
]

HANDLERS: dict[str, Handler] = {
    "http": serve_http,
    "redirect-loop": serve_http,
    "drip": serve_drip,
    "endless-body": serve_endless,
    "close-mid-header": serve_close_mid_header,
    "http09": serve_http09,
    "tls-stall": serve_silent,
    "silent": serve_silent,
    "tcp": serve_tcp,
    "postgres": serve_postgres,
    "redis": serve_redis,
}


def handler_for(protocol: str) -> Handler | None:
    """The handler of a protocol; None for `blackhole`, which never accepts."""
    return HANDLERS.get(protocol)
