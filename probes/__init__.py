"""Network probes: async questions about a private network, each answered by a ProbeResult.

Nothing here imports the TUI, Textual, or the core above (diagnosis, sources, lab, doctor).
"""

from .discovery import discover
from .dns import resolve
from .http import get
from .postgres import hello
from .redis import ping
from .result import Outcome, ProbeResult
from .tcp import connect

__all__ = [
    "Outcome",
    "ProbeResult",
    "connect",
    "discover",
    "get",
    "hello",
    "ping",
    "resolve",
]
