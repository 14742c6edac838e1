"""Running a plan: the probes concurrently, each result streamed as it lands, then the report.

`stream` is the one pipeline every front end drives: targets (from `pnet.targets.select`) ->
plan (static verdicts) -> probes -> diagnosis -> report. `run` collects it; `run_offline` stops
after the static verdicts (a lint for CI, no packet sent).
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from pnet.checks.jobs import Options, Shared, jobs_for
from pnet.checks.plan import Planned, prepare
from pnet.checks.report import Check, Report, order
from pnet.collector import collecting_rarely
from pnet.diagnose import diagnose
from pnet.model import Service, Workspace
from pnet.probes.job import Job, is_overloaded
from pnet.probes.result import ProbeResult
from pnet.targets import Target


@dataclass(frozen=True)
class ProbeEvent:
    subject: str
    result: ProbeResult


@dataclass(frozen=True)
class ReportEvent:
    report: Report


Event = ProbeEvent | ReportEvent


def local_addresses() -> frozenset[str]:
    """This machine's interface addresses, so a refused local connection meets its listener."""
    try:
        import psutil

        return frozenset(
            str(a.address).split("%", 1)[0]
            for addrs in psutil.net_if_addrs().values()
            for a in addrs
            if a.family.name in ("AF_INET", "AF_INET6")
        )
    except (ImportError, OSError, RuntimeError):
        return frozenset()


def build_report(
    workspace: Workspace,
    source: Service | None,
    planned: Sequence[Planned],
    results: Mapping[str, Sequence[ProbeResult]],
    listeners: Sequence[Any] | None,
    *,
    offline: bool,
    inside: bool = False,
    elapsed: Mapping[str, float] | None = None,
    total_ms: float = 0.0,
) -> Report:
    """Diagnose the results of a plan and make one check per target."""
    targets = [p.target for p in planned]
    findings = diagnose(
        workspace,
        source,
        targets,
        results,
        listeners,
        local_addresses=local_addresses() if listeners is not None else (),
        inside=inside,
        static_by_subject={p.target.subject: p.static for p in planned},
    )
    by_subject: dict[str, list[Any]] = {}
    for f in findings:
        by_subject.setdefault(f.subject, []).append(f)
    checks = tuple(
        Check(
            target=p.target,
            results=order(list(results.get(p.target.subject, ()))),
            findings=tuple(by_subject.get(p.target.subject, ())),
            elapsed_ms=(elapsed or {}).get(p.target.subject),
            reason=p.reason or _overloaded(results.get(p.target.subject, ())),
        )
        for p in planned
    )
    return Report(
        workspace=workspace,
        source=source,
        checks=checks,
        findings=tuple(findings),
        offline=offline,
        elapsed_ms=total_ms,
        notes=workspace.notes,
    )


def _overloaded(results: Sequence[ProbeResult]) -> str:
    """Why a check whose probes this machine could not run fairly is not checked."""
    n = sum(1 for r in results if is_overloaded(r))
    if not n:
        return ""
    return (
        f"overloaded: {n} probe{'s' if n > 1 else ''} could not run in time on this machine "
        "(retry with fewer targets or a longer --timeout)"
    )


def plan_jobs(
    workspace: Workspace, source: Service | None, targets: Sequence[Target], options: Options
) -> list[tuple[str, Job]]:
    """The probes a run of these targets starts, as (subject, job), in order."""
    planned = prepare(workspace, source, targets, offline=options.offline)
    return jobs_for(workspace, planned, options, Shared(options))


def _plan(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    options: Options,
    shared: Shared,
) -> tuple[list[Planned], list[tuple[str, Job]]]:
    planned = prepare(workspace, source, targets, offline=options.offline)
    return planned, jobs_for(workspace, planned, options, shared)


def count_jobs(
    workspace: Workspace, source: Service | None, targets: Sequence[Target], options: Options
) -> int:
    """How many probes a run of these targets starts (for a progress line)."""
    return len(plan_jobs(workspace, source, targets, options))


async def stream(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    options: Options,
    *,
    listeners: Sequence[Any] | None = None,
    inside: bool = False,
) -> AsyncIterator[Event]:
    """Yield each probe result as it lands (ProbeEvent), then the report (ReportEvent).

    The plan and the diagnosis (pure, and a few hundred milliseconds for a thousand services)
    run in a worker thread, so the event loop that drives the probes (and the app's screen)
    keeps answering meanwhile.

    `listeners` are this machine's listening sockets (probes.listeners); `inside` says this
    runs in an instance of `source`, so they are its own.
    """
    import asyncio

    from pnet.probes.runner import run_jobs

    with collecting_rarely():
        started = time.perf_counter()
        shared = Shared(options)
        planned, jobs = await asyncio.to_thread(_plan, workspace, source, targets, options, shared)
        subject_of = {job.key: subject for subject, job in jobs}
        results: dict[str, list[ProbeResult]] = {}
        elapsed: dict[str, float] = {}

        def landed(subject: str, result: ProbeResult) -> ProbeEvent:
            results.setdefault(subject, []).append(result)
            elapsed[subject] = (time.perf_counter() - started) * 1000.0
            return ProbeEvent(subject, result)

        try:
            async with aclosing(
                run_jobs(
                    [job for _, job in jobs],
                    concurrency=options.concurrency,
                    deadline=options.deadline,
                )
            ) as running:
                async for result in running:
                    while shared.extra:
                        yield landed(*shared.extra.pop(0))
                    yield landed(subject_of.get(result.key, ""), result)
                while shared.extra:
                    yield landed(*shared.extra.pop(0))
        finally:
            await shared.close()
        report = await asyncio.to_thread(
            functools.partial(
                build_report,
                workspace,
                source,
                planned,
                results,
                listeners,
                offline=options.offline,
                inside=inside,
                elapsed=elapsed,
                total_ms=(time.perf_counter() - started) * 1000.0,
            )
        )
        yield ReportEvent(report)


async def run(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    options: Options | None = None,
    *,
    listeners: Sequence[Any] | None = None,
    inside: bool = False,
    on_result: Callable[[str, ProbeResult], None] | None = None,
) -> Report:
    """Run every check and return the report (`on_result` sees each result as it lands)."""
    report: Report | None = None
    async for event in stream(
        workspace, source, targets, options or Options(), listeners=listeners, inside=inside
    ):
        if isinstance(event, ProbeEvent):
            if on_result is not None:
                on_result(event.subject, event.result)
        else:
            report = event.report
    assert report is not None
    return report


def run_sync(
    workspace: Workspace,
    source: Service | None,
    targets: Sequence[Target],
    options: Options | None = None,
    *,
    listeners: Sequence[Any] | None = None,
    inside: bool = False,
    on_result: Callable[[str, ProbeResult], None] | None = None,
) -> Report:
    """`run` in an event loop of its own, for a program that has none (the doctor).

    The coroutine given to asyncio.run returns nothing: on its way out asyncio formats its
    task (restoring the SIGINT handler), and a task that holds a large report is slow to
    format."""
    import asyncio

    out: list[Report] = []

    async def main() -> None:
        out.append(
            await run(
                workspace,
                source,
                targets,
                options,
                listeners=listeners,
                inside=inside,
                on_result=on_result,
            )
        )

    asyncio.run(main())
    return out[0]


def run_offline(workspace: Workspace, source: Service | None, targets: Sequence[Target]) -> Report:
    """Only the static rules: no packet leaves the machine (a Blueprint lint for CI)."""
    planned = prepare(workspace, source, targets, offline=True)
    return build_report(workspace, source, planned, {}, None, offline=True)
