"""What the app's workers post to the app: a probe run, a variables check, a sweep, the instance.

Workers never touch a widget: they post one of these, and the app's handlers update its state
and whatever shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from pnet.diagnose.finding import Finding
from pnet.probes.result import ProbeResult
from pnet.tui.engine import EnvPointer, InstanceView


@dataclass
class ProbeStarted(Message):
    """A probe of the service itself started."""

    service: str


@dataclass
class ProbeLanded(Message):
    """One probe of the service itself answered."""

    service: str
    result: ProbeResult


@dataclass
class ProbeFinished(Message):
    """Every probe of the service answered: what the diagnosis says of it, and why it was not
    checked when no probe could run."""

    service: str
    findings: tuple[Finding, ...]
    report: Any = None
    why_not_checked: str = ""


@dataclass
class ProbeFailed(Message):
    """A run stopped on an error of pnet itself (not a network outcome)."""

    service: str
    error: str


@dataclass
class EnvLanded(Message):
    """One probe of an address a service's variable points at answered."""

    service: str
    subject: str
    result: ProbeResult


@dataclass
class EnvStarted(Message):
    """A check of where the service's variables point started."""

    service: str


@dataclass
class EnvFinished(Message):
    """Every address the service's variables point at was checked."""

    service: str
    findings: tuple[Finding, ...]
    report: Any = None
    tell: bool = True


@dataclass
class SweepProgress(Message):
    done: int
    total: int
    finished: bool = False


@dataclass
class InstanceLoaded(Message):
    view: InstanceView


@dataclass
class StaticLoaded(Message):
    """What the model alone says of each service: where its variables point and what that
    proves (by service), and the findings about each service itself."""

    pointers: dict[str, list[EnvPointer]]
    own: dict[str, tuple[Finding, ...]]


@dataclass
class WorkspaceRead(Message):
    """A refresh read the platform's API again (`loaded`), or could not (`error`)."""

    loaded: Any = None
    error: str = ""
