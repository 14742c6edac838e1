"""The runner: many probes at once, bounded, timed, streamed as they land, cancelled cleanly.

    async with contextlib.aclosing(run_jobs(jobs, deadline=10)) as results:
        async for result in results:
            ...   # one ProbeResult per job, in completion order

- at most `concurrency` jobs run at a time (default: `default_concurrency()`); jobs are taken
  from the iterable lazily, as slots free up;
- each job gets `job.timeout` seconds from the moment it starts; one that overruns is cancelled
  and becomes a `timeout` result with the job's key;
- `deadline` (seconds from the first iteration) bounds the whole run: when it passes, running
  jobs are cancelled and every job not finished, started or not, yields a `timeout` result:
  none is silently dropped;
- a job that raises becomes an `error` result, never an exception in the consumer;
- every result carries its job's key (when the job has one);
- when the consumer stops (aclose(), leaving an `aclosing` block, or cancellation of the
  consuming task), every running job is cancelled and awaited before the generator returns.
"""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace

from pnet.secrets import mask_text

from .result import Outcome, ProbeResult

MAX_CONCURRENCY = 256


@dataclass(frozen=True)
class Job:
    """One probe to run: `run()` makes the awaitable; `kind`/`target` label a timeout result."""

    key: str
    run: Callable[[], Awaitable[ProbeResult]]
    timeout: float
    kind: str = ""
    target: str = ""

    def _label(self) -> tuple[str, str]:
        prefix, _, rest = self.key.partition(":")
        kind = self.kind or (prefix if rest else "job")
        return kind, self.target or (rest or self.key)


def default_concurrency() -> int:
    """min(256, soft RLIMIT_NOFILE // 4): room for each probe's sockets below the fd limit."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return MAX_CONCURRENCY
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_CONCURRENCY
    return max(1, min(MAX_CONCURRENCY, soft // 4))


def _timeout_result(job: Job, elapsed_ms: float, detail: str) -> ProbeResult:
    kind, target = job._label()
    return ProbeResult(
        kind=kind,
        target=target,
        outcome=Outcome.TIMEOUT,
        elapsed_ms=elapsed_ms,
        detail=detail,
        key=job.key,
    )


async def _run_one(job: Job) -> ProbeResult:
    started = time.perf_counter()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000.0

    try:
        async with asyncio.timeout(job.timeout):
            outcome = await job.run()
    except TimeoutError:
        return _timeout_result(job, elapsed(), f"no result within {job.timeout:g} s")
    except Exception as exc:
        kind, target = job._label()
        return ProbeResult(
            kind=kind,
            target=target,
            outcome=Outcome.ERROR,
            elapsed_ms=elapsed(),
            detail=mask_text(f"the probe failed: {type(exc).__name__}: {exc}"),
            key=job.key,
        )
    if job.key and outcome.key != job.key:
        outcome = replace(outcome, key=job.key)
    return outcome


async def run_jobs(
    jobs: Iterable[Job],
    *,
    concurrency: int | None = None,
    deadline: float | None = None,
) -> AsyncGenerator[ProbeResult, None]:
    """Run jobs concurrently and yield each result as soon as it lands (see the module doc)."""
    limit = max(1, concurrency if concurrency is not None else default_concurrency())
    loop = asyncio.get_running_loop()
    end = None if deadline is None else loop.time() + deadline
    queue = iter(jobs)
    exhausted = False
    running: dict[asyncio.Task[ProbeResult], tuple[Job, float]] = {}
    try:
        while True:
            while not exhausted and len(running) < limit:
                job = next(queue, None)
                if job is None:
                    exhausted = True
                    break
                task = asyncio.create_task(_run_one(job), name=f"pnet-probe {job.key}")
                running[task] = (job, time.perf_counter())
            if not running:
                return
            remaining = None if end is None else end - loop.time()
            if remaining is not None and remaining <= 0:
                break
            done, _ = await asyncio.wait(
                running, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                break
            for task in sorted(done, key=lambda t: running[t][1]):
                running.pop(task)
                yield task.result()
        assert deadline is not None
        detail = f"unfinished at the overall deadline ({deadline:g} s)"
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for task, (job, started) in list(running.items()):
            running.pop(task)
            if not task.cancelled() and task.exception() is None:
                yield task.result()
            else:
                yield _timeout_result(job, (time.perf_counter() - started) * 1000.0, detail)
        for job in queue:
            yield _timeout_result(
                job, 0.0, f"not started before the overall deadline ({deadline:g} s)"
            )
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
