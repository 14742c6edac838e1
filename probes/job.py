"""A probe to run (`Job`) and the result of one the machine was too busy to run fairly.

Kept apart from the runner so that naming a job (the plan, the offline lint) does not load
asyncio.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .result import Outcome, ProbeResult

OVERLOADED = "overloaded"


@dataclass(frozen=True)
class Job:
    """One probe to run: `run()` makes the awaitable; `kind`/`target` label a timeout result.

    `timeout` bounds the job from the moment it starts. `wait` is the longest network wait of
    the probe itself (default: `timeout`): a timeout is trusted only when the event loop was
    on time for most of that wait.
    """

    key: str
    run: Callable[[], Awaitable[ProbeResult]]
    timeout: float
    kind: str = ""
    target: str = ""
    wait: float | None = None

    def _label(self) -> tuple[str, str]:
        prefix, _, rest = self.key.partition(":")
        kind = self.kind or (prefix if rest else "job")
        return kind, self.target or (rest or self.key)


def overloaded(kind: str, target: str, key: str, why: str, elapsed_ms: float = 0.0) -> ProbeResult:
    """A probe that could not be run fairly: not checked, never a timeout and never ok."""
    return ProbeResult(
        kind=kind,
        target=target,
        outcome=Outcome.OVERLOADED,
        elapsed_ms=elapsed_ms,
        detail=f"not checked ({OVERLOADED}): {why}",
        evidence={"skipped": True, OVERLOADED: True},
        key=key,
    )


def is_overloaded(result: ProbeResult) -> bool:
    return bool(result.evidence.get(OVERLOADED))
