"""The lab: a workspace fixture served as a real network, so every probe hits a real socket.

`Lab` (`pnet.lab.server`) serves it from an event loop, `LabThread` (`pnet.lab.thread`) from a
thread of its own; `pnet.lab.network` plans the addresses, `pnet.lab.peers` speaks the
protocols, `pnet.lab.netns` builds the network namespaces (root), `pnet.lab.faults` looks up what
a fixture's `lab:` blocks ask for, `pnet.lab.cli` is `pnet lab`.

The names below are loaded on first use, so that importing one small module of the lab
(`pnet.lab.faults`) does not load all of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pnet.lab.network import Instance, LabError, Served
    from pnet.lab.server import Lab
    from pnet.lab.thread import LabThread

__all__ = ["Instance", "Lab", "LabError", "LabThread", "Served"]

_WHERE = {
    "Instance": "pnet.lab.network",
    "LabError": "pnet.lab.network",
    "Served": "pnet.lab.network",
    "Lab": "pnet.lab.server",
    "LabThread": "pnet.lab.thread",
}


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(where), name)
