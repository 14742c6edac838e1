"""Export every service checked so far: a Markdown report for people, a JSON report for tools.

Each service comes with its two marks (itself, its variables), its probes, and every finding
once: those about the service itself, then those about its variables. The Markdown's count is
the count of the findings it lists. Plain Python (no Textual): secrets are masked in both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pnet.diagnose.finding import Finding, Severity
from pnet.model import Service, Workspace
from pnet.platforms import connect_tabs
from pnet.probes.result import ProbeResult
from pnet.secrets import mask_json, mask_text
from pnet.tui.status import Status, shown

if TYPE_CHECKING:
    from pnet.tui.runs import Runs


@dataclass(frozen=True)
class ServiceState:
    service: Service
    status: Status
    results: Sequence[ProbeResult]
    findings: Sequence[Finding]
    report: Any = None
    env: Mapping[str, Sequence[ProbeResult]] | None = None
    env_findings: Sequence[Finding] = ()
    reach: Status | None = None
    probed: bool = False
    env_checked: bool = False


def states(runs: Runs) -> list[ServiceState]:
    """Every service probed or whose variables were checked, and the one on screen."""
    wanted = {*runs.probed_at, *runs.env_findings}
    if runs.current is not None:
        wanted.add(runs.current.name)
    out = []
    for svc in runs.workspace.services:
        name = svc.name
        if name not in wanted:
            continue
        out.append(
            ServiceState(
                svc,
                runs.status.get(name, Status.UNKNOWN),
                list(runs.results.get(name, {}).values()),
                runs.health_findings(name),
                runs.reports.get(name),
                {k: list(v) for k, v in runs.env_live.get(name, {}).items()},
                runs.variable_findings(name),
                runs.reach.get(name),
                runs.probed(name),
                name in runs.env_findings,
            )
        )
    return out


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


Key = tuple[str, str, str | None]


def _key(f: Finding, owner: str) -> Key:
    """A finding about a service itself is one fact; one about a variable belongs to the
    service that reads it."""
    return (f.kind, f.subject, None if f.subject.startswith("service:") else owner)


def _listed(states: Sequence[ServiceState]) -> list[Finding]:
    """Every finding the report lists, each once."""
    seen: set[Key] = set()
    out = []
    for st in states:
        for f in (*st.findings, *st.env_findings):
            key = _key(f, st.service.name)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def _finding_lines(f: Finding) -> list[str]:
    out = [f"- **{f.severity} {f.kind}** `{shown(f.subject)}`: {shown(f.message)}"]
    if f.fix:
        first, *rest = shown(f.fix).split("\n")
        out.append(f"  - fix: {first}")
        out += [f"    {line}" for line in rest]
    for e in f.evidence:
        if e:
            out.append(f"  - {shown(e)}")
    return out


def markdown(
    workspace: Workspace,
    source: Service | None,
    states: Sequence[ServiceState],
    when: datetime,
    path_lines: Sequence[str] = (),
) -> str:
    title = workspace.project or workspace.name
    receivers = sum(1 for s in workspace.services if s.type.receives)
    readers = sum(1 for s in workspace.services if s.env)
    out = [
        f"# pnet report: {title} ({workspace.platform})",
        "",
        f"- generated: {when.isoformat(timespec='seconds')}",
        f"- probed from: {source.name if source else 'this machine'}",
        f"- services: {len(workspace.services)}, in this report: {len(states)}",
        f"- probed: {sum(1 for s in states if s.probed)} of the {receivers} that receive "
        "private traffic",
        f"- variables checked: {sum(1 for s in states if s.env_checked)} of the {readers} "
        "services that read variables",
        "",
    ]
    listed = _listed(states)
    errors = sum(1 for f in listed if f.severity == Severity.ERROR)
    warnings = sum(1 for f in listed if f.severity == Severity.WARNING)
    out += [f"**{_count(errors, 'error')}, {_count(warnings, 'warning')}**", ""]
    if path_lines:
        out += ["## Path check", "", "```", *map(mask_text, path_lines), "```", ""]
    written: set[Key] = set()
    for st in states:
        svc = st.service
        reach = f", its variables {st.reach.mark}" if st.reach is not None else ""
        out += [f"## {st.status.mark} {svc.name}{reach}", ""]
        out.append(
            f"{svc.type.label}, {svc.location or 'global'}"
            + (f", plan {svc.plan}" if svc.plan else "")
        )
        out.append("")
        for tab in connect_tabs(workspace, svc):
            out.append(f"**{tab.name}**")
            out.append("")
            for cf in tab.fields:
                out.append(f"- {cf.label}: `{mask_text(cf.value)}`")
            if tab.note:
                out.append(f"- _{mask_text(tab.note)}_")
            out.append("")
        if st.results:
            out += [
                "| probe | target | outcome | ms | detail |",
                "| --- | --- | --- | ---: | --- |",
            ]
            for r in st.results:
                out.append(
                    f"| {r.kind} | {_md_escape(mask_text(r.target))} | {r.outcome} | "
                    f"{r.elapsed_ms:.0f} | {_md_escape(mask_text(r.detail))} |"
                )
            out.append("")
        for heading, found in (
            (f"### {svc.name} itself", st.findings),
            (f"### Where {svc.name}'s variables point", st.env_findings),
        ):
            fresh = []
            for f in found:
                key = _key(f, svc.name)
                if key not in written:
                    written.add(key)
                    fresh.append(f)
            if fresh:
                out += [heading, ""]
                for f in fresh:
                    out += _finding_lines(f)
                out.append("")
    return "\n".join(out).rstrip() + "\n"


def as_json(
    workspace: Workspace, source: Service | None, states: Sequence[ServiceState], when: datetime
) -> dict[str, Any]:
    reports: list[Any] = []
    for st in states:
        if st.report is not None and hasattr(st.report, "to_json"):
            body = st.report.to_json()
        else:
            body = {
                "probes": [r.to_json() for r in st.results],
                "findings": [f.to_json() for f in st.findings],
            }
        entry: dict[str, Any] = {
            "service": st.service.name,
            "status": str(st.status),
            "findings": [f.to_json() for f in st.findings],
            "report": body,
        }
        if st.reach is not None:
            entry["variables"] = str(st.reach)
        if st.env:
            entry["env"] = {k: [r.to_json() for r in v] for k, v in st.env.items()}
        if st.env_findings:
            entry["env_findings"] = [f.to_json() for f in st.env_findings]
        reports.append(entry)
    masked: dict[str, Any] = mask_json(
        {
            "version": 1,
            "generated": when.isoformat(timespec="seconds"),
            "workspace": workspace.project or workspace.name,
            "platform": str(workspace.platform),
            "source": source.name if source else None,
            "services": reports,
        }
    )
    return masked


def write(
    folder: Path,
    workspace: Workspace,
    source: Service | None,
    states: Sequence[ServiceState],
    when: datetime,
    path_lines: Sequence[str] = (),
) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"pnet-{workspace.project or workspace.name}-{when.strftime('%Y%m%d-%H%M%S')}"
    md = folder / f"{stem}.md"
    js = folder / f"{stem}.json"
    md.write_text(markdown(workspace, source, states, when, path_lines), encoding="utf-8")
    js.write_text(
        json.dumps(as_json(workspace, source, states, when), indent=2) + "\n", encoding="utf-8"
    )
    return md, js
