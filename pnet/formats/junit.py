"""JUnit XML for the CI systems that read test reports, shaped as pytest's `--junitxml` writes
it: one test case per check (an error finding fails it, a warning is written to its output, a
check that ran no probe is skipped with the reason), one more per finding no check holds."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import UTC, datetime

from pnet.checks import Check, Report, State
from pnet.diagnose.finding import Finding, Severity


def _finding_text(f: Finding) -> str:
    where = f"{f.location}: " if f.location is not None else ""
    lines = [f"{where}{f.severity.value} {f.kind}: {f.message}"]
    lines += [f"  · {ev}" for ev in f.evidence]
    fix = [line.strip() for line in f.fix.splitlines() if line.strip()]
    lines += [f"  fix: {line}" if i == 0 else f"       {line}" for i, line in enumerate(fix)]
    return "\n".join(lines)


def _case(
    suite: ET.Element,
    classname: str,
    name: str,
    seconds: float,
    findings: Sequence[Finding],
    skipped: str | None = None,
) -> str:
    """One test case; returns its outcome (passed, failed, skipped)."""
    case = ET.SubElement(suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}")
    errors = [f for f in findings if f.severity is Severity.ERROR]
    others = [f for f in findings if f.severity is not Severity.ERROR]
    outcome = "passed"
    if errors:
        first = errors[0]
        failure = ET.SubElement(case, "failure", message=f"{first.kind}: {first.message}")
        failure.text = "\n\n".join(_finding_text(f) for f in errors)
        outcome = "failed"
    elif skipped is not None:
        ET.SubElement(case, "skipped", type="pnet.not-checked", message=skipped)
        outcome = "skipped"
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = "\n\n".join(_finding_text(f) for f in others)
    return outcome


def _classname(report: Report, check: Check) -> str:
    owner = check.target.source or (report.source.name if report.source else None)
    parts = ["pnet", report.workspace.name, *([owner] if owner else [])]
    return ".".join(parts)


def junit_tree(
    report: Report, *, timestamp: datetime | None = None, hostname: str | None = None
) -> ET.ElementTree[ET.Element]:
    root = ET.Element("testsuites", name="pnet-doctor")
    suite = ET.SubElement(root, "testsuite", name="pnet-doctor")
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    held: set[str] = set()
    for check in report.checks:
        held.add(check.target.subject)
        skipped = None
        if check.state is State.NOT_CHECKED:
            skipped = f"not checked: {check.why_not_checked}"
        outcome = _case(
            suite,
            _classname(report, check),
            check.target.subject,
            check.ms / 1000,
            check.findings,
            skipped,
        )
        counts[outcome] += 1
    extra: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.subject not in held:
            extra.setdefault(f.subject, []).append(f)
    for subject, found in extra.items():
        counts[_case(suite, f"pnet.{report.workspace.name}", subject, 0.0, found)] += 1
    when = timestamp or datetime.now(UTC)
    suite.attrib.update(
        {
            "errors": "0",
            "failures": str(counts["failed"]),
            "skipped": str(counts["skipped"]),
            "tests": str(sum(counts.values())),
            "time": f"{report.elapsed_ms / 1000:.3f}",
            "timestamp": when.isoformat(timespec="microseconds"),
            "hostname": hostname if hostname is not None else socket.gethostname(),
        }
    )
    ET.indent(root)
    return ET.ElementTree(root)


def render_junit(
    report: Report,
    *,
    timestamp: datetime | None = None,
    hostname: str | None = None,
    unicode: bool = True,
) -> str:
    """The XML; with `unicode` False every non-ASCII character is a character reference."""
    tree = junit_tree(report, timestamp=timestamp, hostname=hostname)
    body = ET.tostring(tree.getroot(), encoding="unicode")
    if not unicode:
        body = body.encode("ascii", "xmlcharrefreplace").decode("ascii")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'
