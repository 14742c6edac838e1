"""Can A reach B? A staged verdict from the source's side, one line per stage.

1. the name resolves (DNS from the source's network)
2. source and target are on one private network (region / environment, type, port rules)
3. TCP connects (every instance)
4. the application answers (HTTP, Redis, Postgres handshake)

The first stage that fails says why and how to fix it. `network_stage` is a pure function of the
model; `verdict` is a pure function of the model, the probe results and the findings; `check_path`
runs the probes through the engine and yields the verdict as it sharpens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pnet import platforms
from pnet.diagnose.finding import Finding, Severity
from pnet.model import Service, Workspace
from pnet.probes.result import ProbeResult
from pnet.secrets import mask_text

if TYPE_CHECKING:
    from pnet.checks import Options
    from pnet.targets import Target


class State(StrEnum):
    PENDING = "pending"
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def mark(self) -> str:
        return {
            "pending": "…",
            "ok": "✔",
            "warning": "!",
            "failed": "✘",
            "skipped": "·",
        }[self.value]


STAGES = ("resolves", "network", "connects", "answers")
TITLES = {
    "resolves": "name resolves",
    "network": "same private network",
    "connects": "TCP connects",
    "answers": "the application answers",
}
STAGE_KINDS = {
    "resolves": ("unknown-host", "ipv6-only-name"),
    "network": (
        "cross-region",
        "cross-environment",
        "not-receiving",
        "wrong-port",
        "reserved-port",
        "client-side-private-url",
        "build-phase",
    ),
    "connects": (
        "refused",
        "unreachable",
        "instance-down",
        "loopback-bind",
        "ipv4-only-bind",
        "ipv6-only-bind",
    ),
    "answers": ("http-error", "auth-required", "wrong-protocol", "tls-on-private"),
}
ANSWER_KINDS = ("http", "redis", "postgres")
WHY = {
    "resolves": "the name does not resolve",
    "network": "the two are not on one private network",
    "connects": "the TCP connection fails",
    "answers": "the application does not answer",
}


@dataclass(frozen=True)
class Stage:
    name: str
    state: State = State.PENDING
    detail: str = ""
    fix: str = ""
    label: str = ""
    why: str = ""

    @property
    def title(self) -> str:
        return self.label or TITLES.get(self.name, self.name)

    @property
    def reason(self) -> str:
        """Why the path fails when this stage does, in a few words."""
        return self.why or WHY.get(self.name, f"{self.title} failed")


@dataclass(frozen=True)
class Verdict:
    source: str | None
    target: str
    address: str
    service: str | None
    stages: tuple[Stage, ...]
    findings: tuple[Finding, ...] = ()
    done: bool = False

    @property
    def failed(self) -> Stage | None:
        for s in self.stages:
            if s.state is State.FAILED:
                return s
        return None

    @property
    def ok(self) -> bool:
        return self.done and self.failed is None

    @property
    def summary(self) -> str:
        src = self.source or "this machine"
        if not self.done:
            return f"{src} → {self.address}: checking…"
        bad = self.failed
        if bad is not None:
            return f"{src} cannot reach {self.address}: {bad.reason}"
        warned = [s for s in self.stages if s.state is State.WARNING]
        if warned:
            return f"{src} reaches {self.address}, with a warning: {warned[0].detail}"
        return f"{src} reaches {self.address}"

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(name)

    def lines(self) -> list[str]:
        out = [self.summary]
        for s in self.stages:
            line = f"  {s.state.mark} {s.title}"
            if s.detail:
                line += f": {s.detail}"
            out.append(line)
            if s is self.failed and s.fix:
                out.append(f"      -> {s.fix}")
        return out


def network_stage(
    workspace: Workspace,
    source: Service | None,
    target: Service | None,
    port: int | None,
    address: Target | None = None,
) -> Stage:
    """The platform's rule for source → target:port, from the model alone (its adapter)."""
    adapter = platforms.of(workspace)
    if target is None:
        return Stage(
            "network",
            State.SKIPPED,
            "the host is not a service of this workspace",
        )
    if source is not None and not source.type.sends:
        return Stage(
            "network",
            State.FAILED,
            f"{source.name} is a {source.type.label}, which is not on the private network",
            "call it from the browser through the target's public URL, or from a service "
            "that runs on the private network",
            why=f"{source.name} is not on the private network",
        )
    if not target.type.receives:
        why = target.type.why_not_receiving or f"a {target.type.label} cannot receive traffic"
        return Stage(
            "network",
            State.FAILED,
            f"{target.name}: {why}",
            target.type.instead,
            why=f"{target.name} cannot receive private traffic",
        )
    if source is not None:
        separation = adapter.separation(workspace, source, target)
        if separation is not None:
            from pnet.targets import service_targets

            addr = address or next(iter(service_targets(workspace, target)), None)
            fix = adapter.cross_fix(workspace, addr, source, target, separation) if addr else []
            return Stage(
                "network",
                State.FAILED,
                separation.evidence[0] if separation.evidence else separation.message,
                "; ".join(fix),
                why="the two are not on one private network",
            )
    if port is not None and target.ports and port not in target.ports:
        served = ", ".join(str(p) for p in target.ports[:6])
        if not target.ports_known:
            return Stage(
                "network",
                State.WARNING,
                f"{target.name}'s port is not known (pnet assumed {served}); TCP to {port} decides",
                label="the port is one it serves",
            )
        return Stage(
            "network",
            State.FAILED,
            f"{target.name} does not serve port {port} (it serves {served})",
            f"use port {target.ports[0]}: {target.host}:{target.ports[0]}",
            label="the port is one it serves",
            why=f"{target.name} does not serve port {port}",
        )
    if port is not None and port in adapter.reserved_ports:
        reserved = ", ".join(str(p) for p in sorted(adapter.reserved_ports))
        return Stage(
            "network",
            State.FAILED,
            f"port {port} is reserved by {adapter.title} for private traffic",
            f"listen on another port (not {reserved}) and point the URL at it",
            label="the port is not reserved",
            why=f"{adapter.title} does not deliver private traffic to port {port}",
        )
    where = target.location or "the workspace"
    if source is None:
        return Stage("network", State.OK, f"{target.name} receives private traffic in {where}")
    return Stage(
        "network",
        State.OK,
        f"both in {where}; {target.type.label} receives private traffic",
    )


def verdict(
    workspace: Workspace,
    source: Service | None,
    target: Target,
    results: Iterable[ProbeResult],
    findings: Sequence[Finding] = (),
    *,
    done: bool = False,
) -> Verdict:
    """The staged verdict from what is known so far."""
    results = list(results)
    port = target.port
    address = target.hostport or target.display
    svc = workspace.service(target.service) if target.service else None
    net = network_stage(workspace, source, svc, port, target)
    resolves = _resolves([r for r in results if r.kind in ("dns", "discovery")], done)
    connects = _connects([r for r in results if r.kind == "tcp"], done)
    answers = _answers([r for r in results if r.kind in ANSWER_KINDS], done)
    stages = [resolves, net, connects, answers]
    stages = [_with_finding_fix(s, findings) for s in stages]
    if net.state is State.FAILED and stages[0].state is State.FAILED:
        where = f" from {source.location}" if source is not None and source.location else ""
        stages[0] = replace(
            stages[0], detail=f"{stages[0].detail}{where}", fix=net.fix, why=net.reason
        )
    seen_failure = False
    out: list[Stage] = []
    for s in stages:
        unreached = s.state is State.PENDING or (s.state is State.SKIPPED and not s.detail)
        if seen_failure and unreached and done:
            s = replace(s, state=State.SKIPPED, detail="not reached")
        elif s.name == "answers" and s.state is State.SKIPPED and not s.detail and done:
            s = replace(s, detail=_why_no_answer(target))
        if s.state is State.FAILED:
            seen_failure = True
        out.append(s)
    return Verdict(
        source.name if source else None,
        target.display,
        address,
        target.service,
        tuple(out),
        tuple(f for f in findings),
        done,
    )


def _why_no_answer(target: Target) -> str:
    if target.scheme is None:
        return f"not tried: {target.hostport} has no scheme, so TCP is all pnet checks"
    return f"not tried: pnet has no {target.scheme}:// handshake, so TCP is all it checks"


def _ms(results: Sequence[ProbeResult]) -> str:
    return f"{max(r.elapsed_ms for r in results):.0f} ms"


def _resolves(results: list[ProbeResult], done: bool) -> Stage:
    dns = [r for r in results if r.kind == "dns"] or results
    if not dns:
        return Stage("resolves", State.SKIPPED if done else State.PENDING)
    good = [r for r in dns if r.ok]
    if good:
        addrs: list[str] = []
        for r in good:
            addrs += [str(a) for a in r.evidence.get("addresses", ())]
        shown = ", ".join(addrs[:4]) if addrs else good[0].detail
        return Stage("resolves", State.OK, f"{shown} ({_ms(good)})")
    r = dns[0]
    return Stage("resolves", State.FAILED, r.detail or f"{r.target}: {r.outcome}")


def _connects(results: list[ProbeResult], done: bool) -> Stage:
    """TCP: each instance discovery listed counts once; without discovery, each address the
    name gave (one per family) is what was asked."""
    if not results:
        return Stage("connects", State.SKIPPED if done else State.PENDING)
    per = [r for r in results if "instance" in r.evidence]
    asked = per or results
    one, many = ("instance", "instances") if per else ("address", "addresses")
    good = [r for r in asked if r.ok]
    n = len(asked)
    if len(good) == n:
        word = f"{one} accepts" if n == 1 else f"{many} accept"
        return Stage("connects", State.OK, f"{n}/{n} {word} ({_ms(asked)})")
    if good:
        bad = [r for r in asked if not r.ok]
        return Stage(
            "connects",
            State.WARNING,
            f"{len(good)}/{n} {many} accept; {bad[0].target}: {bad[0].outcome}",
        )
    r = results[0]
    return Stage("connects", State.FAILED, r.detail or f"{r.target}: {r.outcome}")


def _answers(results: list[ProbeResult], done: bool) -> Stage:
    if not results:
        return Stage("answers", State.SKIPPED if done else State.PENDING)
    good = [r for r in results if r.ok]
    if len(good) == len(results):
        return Stage("answers", State.OK, f"{good[0].detail or 'ok'} ({_ms(good)})")
    if good:
        bad = next(r for r in results if not r.ok)
        return Stage("answers", State.WARNING, bad.detail or str(bad.outcome))
    r = results[0]
    return Stage("answers", State.FAILED, r.detail or str(r.outcome))


def _with_finding_fix(stage: Stage, findings: Sequence[Finding]) -> Stage:
    if stage.state not in (State.FAILED, State.WARNING):
        return stage
    kinds = STAGE_KINDS.get(stage.name, ())
    matches = sorted(
        (f for f in findings if f.kind in kinds), key=lambda f: -Severity(f.severity).rank
    )
    if not matches:
        return stage
    f = matches[0]
    fix = stage.fix or f.fix
    detail = stage.detail
    if stage.name != "network" and f.message and f.message not in detail:
        detail = f"{detail}; {f.message}" if detail else f.message
    return replace(stage, detail=detail, fix=fix)


Stream = Callable[..., AsyncIterator[Any]]


async def check_path(
    workspace: Workspace,
    source: Service | None,
    target: str | Target,
    options: Options | None = None,
    *,
    stream: Stream | None = None,
) -> AsyncIterator[Verdict]:
    """Run the probes source → target needs and yield the verdict after each result lands."""
    from pnet.checks import Options as _Options
    from pnet.targets import NotATarget, select

    if stream is None:
        from pnet.checks import stream as checks_stream

        stream = checks_stream
    options = options or _Options()
    t: Target | None
    if isinstance(target, str):
        try:
            t = select(workspace, source, texts=[target])[0] if target.strip() else None
        except NotATarget:
            t = None
    else:
        t = target
    if t is None:
        yield Verdict(
            source.name if source else None,
            mask_text(str(target)),
            mask_text(str(target)),
            None,
            (
                Stage(
                    "resolves",
                    State.FAILED,
                    "not a URL, host:port, host or service name",
                    "give a service name (api), host:port (api-x7f2:8080) or a URL",
                ),
                *(Stage(n, State.SKIPPED, "not reached") for n in STAGES[1:]),
            ),
            (),
            True,
        )
        return
    results: list[ProbeResult] = []
    yield verdict(workspace, source, t, results)
    findings: list[Finding] = []
    events = stream(workspace, source, [t], options)
    try:
        async for event in events:
            result = getattr(event, "result", None)
            if isinstance(result, ProbeResult):
                results.append(result)
                yield verdict(workspace, source, t, results)
                continue
            report = getattr(event, "report", None)
            if report is not None:
                findings = list(report.findings)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
    yield verdict(workspace, source, t, results, findings, done=True)
