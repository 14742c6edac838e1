"""Export what is on screen: a Markdown report for people and a JSON report for tools.

Plain Python (no Textual): secrets are masked in both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pnet.diagnose.finding import Finding, Severity
from pnet.model import Service, Workspace
from pnet.platforms import connect_tabs
from pnet.probes.result import ProbeResult
from pnet.secrets import mask_text
from pnet.tui.status import Status


@dataclass(frozen=True)
class ServiceState:
    service: Service
    status: Status
    results: Sequence[ProbeResult]
    findings: Sequence[Finding]
    report: Any = None
    env: Mapping[str, Sequence[ProbeResult]] | None = None
    env_findings: Sequence[Finding] = ()


def _probed(states: Sequence[ServiceState]) -> int:
    return sum(1 for s in states if s.status not in (Status.UNKNOWN, Status.RUNNING))


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(
    workspace: Workspace,
    source: Service | None,
    states: Sequence[ServiceState],
    when: datetime,
    path_lines: Sequence[str] = (),
) -> str:
    title = workspace.project or workspace.name
    out = [
        f"# pnet report: {title} ({workspace.platform})",
        "",
        f"- generated: {when.isoformat(timespec='seconds')}",
        f"- probed from: {source.name if source else 'this machine'}",
        f"- services: {len(workspace.services)}, probed: {_probed(states)}",
        "",
    ]
    every = [f for s in states for f in (*s.findings, *s.env_findings)]
    errors = sum(1 for f in every if f.severity == Severity.ERROR)
    warnings = sum(1 for f in every if f.severity == Severity.WARNING)
    out += [f"**{_count(errors, 'error')}, {_count(warnings, 'warning')}**", ""]
    if path_lines:
        out += ["## Path check", "", "```", *path_lines, "```", ""]
    for st in states:
        svc = st.service
        out += [f"## {st.status.mark} {svc.name}", ""]
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
        for f in st.findings:
            out.append(
                f"- **{f.severity} {f.kind}** `{mask_text(f.subject)}`: {mask_text(f.message)}"
            )
            for e in f.evidence:
                out.append(f"  - {mask_text(e)}")
            if f.fix:
                out.append(f"  - fix: {mask_text(f.fix)}")
        if st.findings or st.env_findings:
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _mask_json(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: _mask_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_json(v) for v in value]
    return value


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
            "report": body,
        }
        if st.env:
            entry["env"] = {k: [r.to_json() for r in v] for k, v in st.env.items()}
            entry["env_findings"] = [f.to_json() for f in st.env_findings]
        reports.append(entry)
    masked: dict[str, Any] = _mask_json(
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
