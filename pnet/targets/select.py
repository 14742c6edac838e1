"""Which addresses a run checks: the one selection every front end uses.

`pnet-doctor`, the app's probe, env check and sweep, and the path check all ask `select`, so
they cannot check different things for the same question.
"""

from __future__ import annotations

from collections.abc import Sequence

from pnet.model import Service, Workspace
from pnet.targets.env import targets_from_env
from pnet.targets.parse import parse_target, service_targets
from pnet.targets.target import Target

SWEEP_PORTS = 8


class NotATarget(ValueError):
    """A command-line target that is not a URL, host:port or service name."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def sweep(workspace: Workspace) -> list[Target]:
    """Every service as a target from nowhere, and each service's variables from it.

    A service with more than SWEEP_PORTS ports is checked on its first one.
    """
    out: list[Target] = []
    for svc in workspace.services:
        own = service_targets(workspace, svc)
        out.extend(own if len(own) <= SWEEP_PORTS else own[:1])
    for svc in workspace.services:
        out.extend(targets_from_env(workspace, svc, qualify=True))
    return out


def select(
    workspace: Workspace,
    source: Service | None,
    *,
    texts: Sequence[str] = (),
    every: bool = False,
    service: Service | None = None,
    env: bool = True,
    own: bool = True,
) -> list[Target]:
    """The targets of one run.

    - `texts`: the addresses a person named (URL, host:port, host or service name), from `source`;
    - `every` (or no source and nothing named): the sweep, each service's variables from itself;
    - `service`: that service's own addresses, as `source` reaches them;
    - otherwise `source`'s variables (`env`) and, with `own`, its own addresses.
    """
    if texts:
        out = []
        for text in texts:
            target = parse_target(text, workspace, source)
            if target is None:
                raise NotATarget(text)
            out.append(target)
        return out
    if service is not None:
        return service_targets(workspace, service)
    if every or source is None:
        return sweep(workspace)
    out = targets_from_env(workspace, source) if env else []
    if own:
        out += service_targets(workspace, source)
    return out
