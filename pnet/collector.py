"""The cyclic garbage collector's pace while a sweep runs (`pnet.checks.run.stream`, and the
doctor from reading the workspace to writing its report)."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_SWEEP_THRESHOLD = (20_000, 20, 20)


class _Collector:
    """How many runs are at work, and the thresholds in force before the first of them."""

    def __init__(self) -> None:
        self.running = 0
        self.before = gc.get_threshold()


_COLLECTOR = _Collector()


@contextlib.contextmanager
def collecting_rarely() -> Iterator[None]:
    """While a sweep runs, the cyclic collector runs every 20,000 allocations instead of 700.

    A sweep keeps what it allocates (results, evidence, findings) until its report is made:
    with the default thresholds the collector scans those again and again (at 1,000 services,
    0.35 s of the run, and full collections of up to 140 ms during which the app cannot
    answer a key). Little of it is cyclic garbage: the peak memory is the same. The
    thresholds in force before the first of the runs at work are restored when the last ends.
    """
    if _COLLECTOR.running == 0:
        _COLLECTOR.before = gc.get_threshold()
        gc.set_threshold(*_SWEEP_THRESHOLD)
    _COLLECTOR.running += 1
    try:
        yield
    finally:
        _COLLECTOR.running -= 1
        if _COLLECTOR.running == 0:
            gc.set_threshold(*_COLLECTOR.before)
