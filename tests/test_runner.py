"""The runner: bounded concurrency, job timeouts, the overall deadline, streaming, cancelling."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import resource
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from pnet.probes import Job, Outcome, ProbeResult, connect, default_concurrency, get, run_jobs
from pnet.probes import runner as runner_mod
from tests import servers

LOOPBACK = servers.LOOPBACK


def _ok(key: str) -> ProbeResult:
    return ProbeResult(kind="fake", target=key, outcome=Outcome.OK, elapsed_ms=0.0)


def _job(key: str, body: Callable[[], Awaitable[ProbeResult]], timeout: float = 5.0) -> Job:
    return Job(key=key, run=body, timeout=timeout)


def _others() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def _collect(
    jobs: list[Job], *, concurrency: int | None = None, deadline: float | None = None
) -> list[ProbeResult]:
    async with contextlib.aclosing(
        run_jobs(jobs, concurrency=concurrency, deadline=deadline)
    ) as results:
        return [r async for r in results]


async def test_concurrency_is_bounded() -> None:
    active = 0
    peak = 0

    def make(i: int) -> Job:
        async def body() -> ProbeResult:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1
            return _ok(str(i))

        return _job(f"fake:{i}", body)

    results = await _collect([make(i) for i in range(20)], concurrency=3)
    assert len(results) == 20
    assert peak == 3
    assert sorted(r.key for r in results) == sorted(f"fake:{i}" for i in range(20))


async def test_jobs_are_taken_lazily() -> None:
    started: list[int] = []

    def gen() -> Iterator[Job]:
        for i in range(5):
            started.append(i)

            async def body(i: int = i) -> ProbeResult:
                return _ok(str(i))

            yield _job(f"fake:{i}", body)

    async with contextlib.aclosing(run_jobs(gen(), concurrency=2)) as results:
        first = await anext(results)
        assert first.outcome is Outcome.OK
        assert len(started) <= 3
        rest = [r async for r in results]
    assert len(rest) == 4


async def test_results_stream_in_completion_order() -> None:
    gates = {key: asyncio.Event() for key in ("a", "b", "c")}

    def make(key: str) -> Job:
        async def body() -> ProbeResult:
            await gates[key].wait()
            return _ok(key)

        return _job(key, body)

    async with contextlib.aclosing(run_jobs([make(k) for k in "abc"])) as results:
        order = []
        for key in "bca":
            gates[key].set()
            order.append((await anext(results)).key)
    assert order == ["b", "c", "a"]


async def test_a_job_that_overruns_its_timeout() -> None:
    cancelled = asyncio.Event()

    async def slow() -> ProbeResult:
        try:
            await asyncio.sleep(30)
        finally:
            cancelled.set()
        return _ok("never")

    async def fast() -> ProbeResult:
        return _ok("fast")

    results = await _collect(
        [
            Job(key="tcp:10.0.0.1:80", run=slow, timeout=0.05),
            _job("fast", fast),
        ]
    )
    by_key = {r.key: r for r in results}
    late = by_key["tcp:10.0.0.1:80"]
    assert late.outcome is Outcome.TIMEOUT
    assert (late.kind, late.target) == ("tcp", "10.0.0.1:80")
    assert "0.05 s" in late.detail
    assert by_key["fast"].ok
    assert cancelled.is_set()


async def test_the_deadline_ends_every_job_unfinished_or_not_started() -> None:
    """A job cut off by the deadline timed out; one that never started was not checked
    (overloaded): it is skipped, never a timeout and never ok."""

    async def forever() -> ProbeResult:
        await asyncio.sleep(30)
        return _ok("never")

    async def quick() -> ProbeResult:
        return _ok("quick")

    jobs = [_job("quick", quick)] + [
        Job(key=f"k{i}", run=forever, timeout=30, kind="dns", target=f"t{i}") for i in range(5)
    ]
    results = await _collect(jobs, concurrency=2, deadline=0.1)
    assert len(results) == 6
    by_key = {r.key: r for r in results}
    assert by_key["quick"].ok
    ended = [by_key[f"k{i}"] for i in range(5)]
    assert {r.kind for r in ended} == {"dns"}
    unfinished = [r for r in ended if "unfinished" in r.detail]
    not_started = [r for r in ended if "not started" in r.detail]
    assert len(unfinished) == 2 and len(not_started) == 3
    assert all(r.outcome is Outcome.TIMEOUT for r in unfinished)
    assert all(r.outcome is Outcome.OVERLOADED for r in not_started)
    assert all(r.evidence == {"skipped": True, "overloaded": True} for r in not_started)
    assert all("overloaded" in r.detail for r in not_started)
    assert not _others()


async def test_a_job_that_raises_is_an_error_result() -> None:
    async def broken() -> ProbeResult:
        raise RuntimeError("boom at postgres://u:hunter22@db:5432/x")

    (r,) = await _collect([Job(key="postgres:db:5432", run=broken, timeout=1)])
    assert r.outcome is Outcome.ERROR and r.key == "postgres:db:5432"
    assert "boom" in r.detail and "hunter22" not in r.detail


async def test_the_job_key_replaces_the_probe_key() -> None:
    async def body() -> ProbeResult:
        return ProbeResult(kind="dns", target="x", outcome=Outcome.OK, elapsed_ms=1, key="dns:x")

    (r,) = await _collect([Job(key="row-7", run=body, timeout=1)])
    assert r.key == "row-7"


async def test_aclose_cancels_running_jobs() -> None:
    before = _others()
    cancelled = 0

    async def forever() -> ProbeResult:
        nonlocal cancelled
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled += 1
            raise
        return _ok("never")

    async def quick() -> ProbeResult:
        return _ok("quick")

    jobs = [_job("quick", quick)] + [_job(f"f{i}", forever) for i in range(4)]
    results = run_jobs(jobs)
    first = await anext(results)
    assert first.key == "quick"
    assert len(_others() - before) == 4
    await results.aclose()
    assert cancelled == 4
    assert _others() - before == set()


async def test_cancelling_the_consumer_cancels_the_jobs() -> None:
    before = _others()
    started = asyncio.Event()

    async def forever() -> ProbeResult:
        started.set()
        await asyncio.sleep(30)
        return _ok("never")

    async def consume() -> None:
        async with contextlib.aclosing(run_jobs([_job(f"f{i}", forever) for i in range(3)])) as rs:
            async for _ in rs:
                pass

    consumer = asyncio.create_task(consume())
    await started.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert _others() - before == set()


async def test_real_probes_leave_no_socket_behind() -> None:
    async with servers.silent_server() as silent:
        closed = servers.free_port()
        jobs = [
            Job(
                key="tls-stall",
                run=lambda: get(f"https://{LOOPBACK}:{silent}/", timeout=5),
                timeout=5,
            ),
            Job(key="refused", run=lambda: connect(LOOPBACK, closed), timeout=5),
            Job(
                key="silent-http",
                run=lambda: get(f"http://{LOOPBACK}:{silent}/", timeout=5),
                timeout=5,
            ),
        ]
        results = await _collect(jobs, deadline=0.3)
    gc.collect()
    by_key = {r.key: r for r in results}
    assert by_key["refused"].outcome is Outcome.REFUSED
    assert by_key["tls-stall"].outcome is Outcome.TIMEOUT
    assert by_key["silent-http"].outcome is Outcome.TIMEOUT


async def test_empty() -> None:
    assert await _collect([]) == []


def test_default_concurrency_follows_the_fd_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    assert 1 <= default_concurrency() <= runner_mod.MAX_CONCURRENCY
    monkeypatch.setattr(resource, "getrlimit", lambda _: (100, 4096))
    assert default_concurrency() == 25
    monkeypatch.setattr(resource, "getrlimit", lambda _: (3, 4096))
    assert default_concurrency() == 1
    monkeypatch.setattr(resource, "getrlimit", lambda _: (resource.RLIM_INFINITY, 0))
    assert default_concurrency() == runner_mod.MAX_CONCURRENCY


async def test_a_timeout_the_busy_loop_explains_is_overloaded() -> None:
    """The loop was held for most of the probe's wait: its timeout says nothing of the network,
    so it is not checked (overloaded), never a timeout; a timeout on time stays a timeout."""

    def hold_the_loop() -> None:
        time.sleep(0.3)

    async def hogged() -> ProbeResult:
        hold_the_loop()
        await asyncio.sleep(0)
        return ProbeResult(kind="tcp", target="x:1", outcome=Outcome.TIMEOUT, elapsed_ms=400)

    async def honest() -> ProbeResult:
        await asyncio.sleep(0.3)
        return ProbeResult(kind="tcp", target="y:1", outcome=Outcome.TIMEOUT, elapsed_ms=400)

    (busy,) = await _collect([Job(key="busy", run=hogged, timeout=5, wait=0.4)])
    assert busy.outcome is Outcome.OVERLOADED and busy.key == "busy"
    assert busy.evidence == {"skipped": True, "overloaded": True}
    assert "overloaded" in busy.detail
    (late,) = await _collect([Job(key="late", run=honest, timeout=5, wait=0.4)])
    assert late.outcome is Outcome.TIMEOUT


async def test_the_bound_grows_while_the_loop_keeps_time() -> None:
    active = 0
    peak = 0

    def make(i: int) -> Job:
        async def body() -> ProbeResult:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.4)
            active -= 1
            return _ok(str(i))

        return _job(f"wait:{i}", body)

    results = await _collect([make(i) for i in range(200)])
    assert len(results) == 200
    assert runner_mod.START_CONCURRENCY < peak <= default_concurrency()
