"""Network probes: async questions about a private network, each answered by a ProbeResult.

- resolve(name, nameserver=, timeout=, families=)        dns: A and AAAA records
- discover(name, nameserver=, timeout=)                  discovery: every instance address
- connect(host, port, timeout=)                          tcp: does anything accept
- get(url, address=, timeout=, max_redirects=, verify=, body_limit=)   http: one GET
- ping(host, port, username=, password=, tls=, timeout=) redis: AUTH and PING
- hello(host, port, user=, database=, password=, tls=, timeout=)       postgres: handshake
- listening(kinds=), probe_listeners(), serves_port(), bind_scope(), reachable_families()
- run_jobs(jobs, concurrency=, deadline=) with Job(key, run, timeout): many at once

Every probe is async (listeners excepted), bounded by its timeout, and returns an outcome
rather than raising for anything the network does. Nothing here imports the TUI, Textual,
or the core above (diagnosis, sources, lab, doctor).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .discovery import discover
    from .dns import resolve
    from .http import get
    from .listeners import (
        Listener,
        bind_scope,
        listeners_result,
        listening,
        probe_listeners,
        reachable_families,
        serves_port,
    )
    from .postgres import hello
    from .redis import ping
    from .result import Outcome, ProbeResult
    from .runner import Job, default_concurrency, run_jobs
    from .tcp import connect

_HOME = {
    "discover": "discovery",
    "resolve": "dns",
    "get": "http",
    "Listener": "listeners",
    "bind_scope": "listeners",
    "listeners_result": "listeners",
    "listening": "listeners",
    "probe_listeners": "listeners",
    "reachable_families": "listeners",
    "serves_port": "listeners",
    "hello": "postgres",
    "ping": "redis",
    "Outcome": "result",
    "ProbeResult": "result",
    "Job": "runner",
    "default_concurrency": "runner",
    "run_jobs": "runner",
    "connect": "tcp",
}


def __getattr__(name: str) -> Any:
    """Each name is imported on first use, so `pnet.probes.result` alone does not load httpx,
    dnspython or psutil (the doctor's offline lint and start-up stay light)."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "Job",
    "Listener",
    "Outcome",
    "ProbeResult",
    "bind_scope",
    "connect",
    "default_concurrency",
    "discover",
    "get",
    "hello",
    "listeners_result",
    "listening",
    "ping",
    "probe_listeners",
    "reachable_families",
    "resolve",
    "run_jobs",
    "serves_port",
]
