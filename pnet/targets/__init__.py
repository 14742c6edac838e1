"""Targets: the addresses a service's configuration points at, and the service each one maps to.

`select` is the one selection every front end uses; `parse_target` reads a person's address,
`targets_from_env` a service's variables, `service_targets` a service's own addresses.
"""

from __future__ import annotations

from pnet.targets.env import credential_keys, targets_from_env
from pnet.targets.mapping import is_private_host, map_host, private_ip, services_named
from pnet.targets.parse import parse_target, service_targets
from pnet.targets.select import SWEEP_PORTS, NotATarget, select, sweep
from pnet.targets.target import HOWS, INTERNAL_HOWS, Target

__all__ = [
    "HOWS",
    "INTERNAL_HOWS",
    "SWEEP_PORTS",
    "NotATarget",
    "Target",
    "credential_keys",
    "is_private_host",
    "map_host",
    "parse_target",
    "private_ip",
    "select",
    "service_targets",
    "services_named",
    "sweep",
    "targets_from_env",
]
