"""Network probes: async questions about a private network, each answered by a ProbeResult.

Nothing here imports the TUI, Textual, or the core above (diagnosis, sources, lab, doctor).
"""

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
