"""The runner: many probes at once, bounded, timed, streamed as they land, cancelled cleanly.

    async with contextlib.aclosing(run_jobs(jobs, deadline=10)) as results:
        async for result in results:
            ...   # one ProbeResult per job, in completion order

- with `concurrency=N`, at most N jobs run at a time; without it the bound adapts to the
  machine: it grows while the event loop keeps time and shrinks when the loop runs late, so
  the loop is never what a probe waits for, and it counts the jobs at work, not those left
  waiting on a silent peer (never above `default_concurrency()` in all); jobs are taken from
  the iterable lazily, as slots free up;
- each job gets `job.timeout` seconds from the moment it starts; one that overruns is cancelled
  and becomes a `timeout` result with the job's key;
- a timeout the machine itself can explain (the event loop ran late for a good part of the
  probe's own wait: other work, or a CPU shared with other processes) is not a timeout: it
  becomes an `overloaded` result, skipped, so its check is not checked rather than failed;
- `deadline` (seconds from the first iteration) bounds the whole run: when it passes, running
  jobs are cancelled and become `timeout` results, and jobs not started become `overloaded`
  results (they could not start in time): none is silently dropped;
- a job that raises becomes an `error` result, never an exception in the consumer;
- every result carries its job's key (when the job has one);
- when the consumer stops (aclose(), leaving an `aclosing` block, or cancellation of the
  consuming task), every running job is cancelled and awaited before the generator returns.

Probes that a job starts on its own (each instance of a discovery) ask `judge()` the same
question through `Load.current()`.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import resource
import time
from collections.abc import AsyncGenerator, Iterable
from dataclasses import replace

from pnet.secrets import mask_text

from .job import Job, is_overloaded, overloaded
from .result import Outcome, ProbeResult

__all__ = ["Job", "Load", "default_concurrency", "judge", "run_jobs"]

MAX_CONCURRENCY = 256
START_CONCURRENCY = 32
MIN_CONCURRENCY = 4
TICK_S = 0.01
LATE_S = 0.02
ON_TIME_S = 0.01
STALL_S = 0.05
WAITING_S = 0.1
BUSY = 0.7
OVERLOAD_SHARE = 0.25
TIMEOUTS = frozenset({Outcome.TIMEOUT})


def default_concurrency() -> int:
    """min(256, soft RLIMIT_NOFILE // 4): room for each probe's sockets below the fd limit."""
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return MAX_CONCURRENCY
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return MAX_CONCURRENCY
    return max(1, min(MAX_CONCURRENCY, soft // 4))


_CURRENT: contextvars.ContextVar[Load | None] = contextvars.ContextVar("pnet_load", default=None)


class Load:
    """How late the event loop runs, measured by a timer every `TICK_S` (not a task).

    `stalled()` adds up the stalls, the times the loop (or the process) could not run for
    `STALL_S` or more, including the current one, so the stalls during a probe are
    `stalled() - mark` with `mark = stalled()` taken as it starts. Shorter lateness is the
    loop at work: a reply that lands meanwhile is read a few milliseconds later, which a
    timeout of a second does not notice.

    `lag` is the lateness of the last ticks (the larger of the last and half the previous);
    `busy`, the share of those ticks this process spent on a CPU: a late loop that is busy is
    doing too much, one that is not waits for a CPU other processes hold, and doing less would
    not make it sooner.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._due = self._loop.time() + TICK_S
        self._handle: asyncio.TimerHandle | None = self._loop.call_at(self._due, self._tick)
        self.total = 0.0
        self.lag = 0.0
        self.busy = 0.0
        self.ticks = 0
        self._clock = (time.perf_counter(), time.process_time())
        self.listeners: list[collections.abc.Callable[[], None]] = []

    @staticmethod
    def current() -> Load | None:
        return _CURRENT.get()

    def _tick(self) -> None:
        now = self._loop.time()
        late = max(0.0, now - self._due)
        if late >= STALL_S:
            self.total += late
        self.lag = max(late, self.lag / 2)
        wall, cpu = time.perf_counter(), time.process_time()
        spent = wall - self._clock[0]
        if spent > 0:
            self.busy = 0.5 * self.busy + 0.5 * min(1.0, (cpu - self._clock[1]) / spent)
        self._clock = (wall, cpu)
        self.ticks += 1
        self._due = now + TICK_S
        self._handle = self._loop.call_at(self._due, self._tick)
        for listener in self.listeners:
            listener()

    def stalled(self) -> float:
        late = self._loop.time() - self._due
        return self.total + (late if late >= STALL_S else 0.0)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def judge(result: ProbeResult, mark: float | None, wait: float, load: Load | None) -> ProbeResult:
    """`result`, or an overloaded one when it is a timeout that the loop's lateness during the
    probe (since `mark`) explains: late for at least `OVERLOAD_SHARE` of the probe's wait."""
    if load is None or mark is None or result.outcome not in TIMEOUTS or is_overloaded(result):
        return result
    late = load.stalled() - mark
    if late < OVERLOAD_SHARE * wait:
        return result
    return overloaded(
        result.kind,
        result.target,
        result.key,
        f"this machine was busy for {late:.1f} s of the probe's {wait:g} s wait, "
        "so no answer in time says nothing of the network",
        result.elapsed_ms,
    )


class _Bound:
    """The concurrency bound: fixed, or adapting to the loop's lateness.

    Adapting, `limit` bounds the jobs at work: those started in the last `WAITING_S`. A job
    older than that is waiting on the network (a silent server holds it for a whole timeout)
    and costs the loop nothing, so it leaves its slot to a new job; `ceiling` bounds them all.
    """

    def __init__(self, fixed: int | None, load: Load) -> None:
        self.ceiling = max(1, fixed if fixed is not None else default_concurrency())
        self.adaptive = fixed is None
        self.limit = self.ceiling if fixed is not None else min(self.ceiling, START_CONCURRENCY)
        self.load = load
        self.wanted = False
        self.wake = asyncio.Event()
        self.recent: collections.deque[tuple[float, asyncio.Task[ProbeResult]]] = (
            collections.deque()
        )
        self.young: set[asyncio.Task[ProbeResult]] = set()

    def started(self, task: asyncio.Task[ProbeResult], now: float) -> None:
        if self.adaptive:
            self.recent.append((now, task))
            self.young.add(task)

    def finished(self, task: asyncio.Task[ProbeResult]) -> None:
        self.young.discard(task)

    def room(self, running: int) -> bool:
        """Whether one more job may start now."""
        if running >= self.ceiling:
            return False
        if not self.adaptive:
            return running < self.limit
        old = time.perf_counter() - WAITING_S
        while self.recent and self.recent[0][0] < old:
            self.young.discard(self.recent.popleft()[1])
        return len(self.young) < self.limit

    def adapt(self) -> None:
        if not self.adaptive:
            return
        if self.wanted and self.young:
            self.wake.set()
        lag, busy = self.load.lag, self.load.busy
        if lag > LATE_S and busy > BUSY:
            self.limit = max(min(MIN_CONCURRENCY, self.ceiling), self.limit * 3 // 4)
        elif (lag < ON_TIME_S or busy < BUSY) and self.wanted and self.limit < self.ceiling:
            self.limit = min(self.ceiling, self.limit + max(1, self.limit // 4))
            self.wake.set()


async def _run_one(job: Job, load: Load) -> ProbeResult:
    started = time.perf_counter()
    mark = load.stalled()

    def elapsed() -> float:
        return (time.perf_counter() - started) * 1000.0

    try:
        async with asyncio.timeout(job.timeout):
            outcome = await job.run()
    except TimeoutError:
        kind, target = job._label()
        late = ProbeResult(
            kind=kind,
            target=target,
            outcome=Outcome.TIMEOUT,
            elapsed_ms=elapsed(),
            detail=f"no result within {job.timeout:g} s",
            key=job.key,
        )
        return judge(late, mark, job.timeout, load)
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
    return judge(outcome, mark, job.wait if job.wait is not None else job.timeout, load)


def _timeout(job: Job, elapsed_ms: float, detail: str) -> ProbeResult:
    kind, target = job._label()
    return ProbeResult(
        kind=kind,
        target=target,
        outcome=Outcome.TIMEOUT,
        elapsed_ms=elapsed_ms,
        detail=detail,
        key=job.key,
    )


async def run_jobs(
    jobs: Iterable[Job],
    *,
    concurrency: int | None = None,
    deadline: float | None = None,
) -> AsyncGenerator[ProbeResult, None]:
    """Run jobs concurrently and yield each result as soon as it lands (see the module doc)."""
    loop = asyncio.get_running_loop()
    end = None if deadline is None else loop.time() + deadline
    load = Load()
    bound = _Bound(concurrency, load)
    load.listeners.append(bound.adapt)
    queue = iter(jobs)
    exhausted = False
    running: dict[asyncio.Task[ProbeResult], tuple[Job, float]] = {}
    done: collections.deque[asyncio.Task[ProbeResult]] = collections.deque()

    def landed(task: asyncio.Task[ProbeResult]) -> None:
        done.append(task)
        bound.wake.set()

    try:
        while True:
            while not exhausted and bound.room(len(running)):
                job = next(queue, None)
                if job is None:
                    exhausted = True
                    break
                context = contextvars.copy_context()
                context.run(_CURRENT.set, load)
                task = loop.create_task(
                    _run_one(job, load), name=f"pnet-probe {job.key}", context=context
                )
                task.add_done_callback(landed)
                now = time.perf_counter()
                running[task] = (job, now)
                bound.started(task, now)
            bound.wanted = not exhausted
            if not running:
                return
            while done:
                task = done.popleft()
                bound.finished(task)
                if running.pop(task, None) is not None:
                    yield task.result()
            if running and (exhausted or not bound.room(len(running))):
                remaining = None if end is None else end - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                bound.wake.clear()
                if not done:
                    try:
                        async with asyncio.timeout(remaining):
                            await bound.wake.wait()
                    except TimeoutError:
                        break
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
                yield _timeout(job, (time.perf_counter() - started) * 1000.0, detail)
        for job in queue:
            kind, target = job._label()
            yield overloaded(
                kind,
                target,
                job.key,
                f"not started before the overall deadline ({deadline:g} s): "
                "too many probes for this machine in that time",
            )
    finally:
        load.stop()
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
