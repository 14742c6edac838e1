"""Rendering a report: the doctor's text (marks, findings with fixes, a summary) and JSON."""

from __future__ import annotations

from dataclasses import dataclass

from pnet.diagnose.finding import Finding, Severity
from pnet.engine import Check, Report
from pnet.model import Platform, Workspace
from pnet.secrets import dump_json, shown
from pnet.targets import is_private_host

_ASCII = str.maketrans(
    {
        "✓": "+",
        "✗": "x",
        "•": "*",
        "→": "->",
        "…": "...",
        "·": "-",
        "—": "-",
        "–": "-",
        "≥": ">=",
    }
)


@dataclass(frozen=True)
class Style:
    color: bool = False
    unicode: bool = True

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def mark(self, status: str) -> str:
        marks = {"ok": ("✓", "32"), "warning": ("!", "33"), "error": ("✗", "31")}
        symbol, code = marks.get(status, ("?", "0"))
        return self.paint(symbol, f"1;{code}")

    def finish(self, text: str) -> str:
        if self.unicode:
            return text
        return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def _ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms"


def _severity_code(sev: Severity) -> str:
    return {"error": "31", "warning": "33"}.get(sev.value, "36")


def _finding_lines(f: Finding, style: Style, indent: str = "    ") -> list[str]:
    head = style.paint(f"{f.severity.value} {f.kind}", f"1;{_severity_code(f.severity)}")
    lines = [f"{indent}{head}: {f.message}"]
    for ev in f.evidence:
        lines.append(f"{indent}  {style.paint('· ' + ev, '2')}")
    fix = [line for line in f.fix.splitlines() if line.strip()]
    for i, line in enumerate(fix):
        label = style.paint("fix:", "1;32") if i == 0 else "    "
        lines.append(f"{indent}  {label} {line}")
    return lines


def external_target(check: Check, workspace: Workspace) -> bool:
    t = check.target
    return (
        t.service is None
        and not check.results
        and not check.findings
        and not is_private_host(workspace, t.host)
    )


def _check_line(check: Check, style: Style, width: int, workspace: Workspace) -> str:
    t = check.target
    arrow = f" → {t.service}" if t.service and t.origin != "service" else ""
    origin = f" (from {t.source})" if t.source else ""
    subject = t.subject.ljust(width)
    value = t.display
    if t.origin == "service" or value == t.subject:
        value = ""
    probes = ""
    if check.results:
        probes = "  " + style.paint(_ms(check.ms), "2")
    elif check.target.how != "public-url":
        probes = ""
    external = ""
    if external_target(check, workspace):
        external = style.paint("  (not on the private network: not checked)", "2")
    text = f"{style.mark(check.status)} {subject}  {value}{arrow}{origin}{probes}{external}"
    return text.rstrip()


def render_text(report: Report, style: Style | None = None) -> str:
    style = style or Style()
    ws = report.workspace
    lines: list[str] = []
    where = "region" if ws.platform is Platform.RENDER else "environment"
    src = report.source
    head = f"pnet-doctor: {ws.name} ({ws.platform.value})"
    if src is not None:
        head += f", from {src.name} ({src.type.label}, {where} {src.location or '-'})"
    elif any(c.target.source for c in report.checks):
        head += ", every service"
    if report.offline:
        head += ", offline: static rules only"
    lines.append(style.paint(head, "1"))
    width = min(28, max((len(c.target.subject) for c in report.checks), default=0))
    subjects = set()
    for check in report.checks:
        subjects.add(check.target.subject)
        lines.append(_check_line(check, style, width, ws))
        for f in check.findings:
            lines.extend(_finding_lines(f, style))
    extra: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.subject not in subjects:
            extra.setdefault(f.subject, []).append(f)
    for subject, found in extra.items():
        worst = "error" if any(f.severity is Severity.ERROR for f in found) else "warning"
        lines.append(f"{style.mark(worst)} {subject}")
        for f in found:
            lines.extend(_finding_lines(f, style))
    s = report.summary
    summary = (
        f"{s['errors']} error{'s' if s['errors'] != 1 else ''}, "
        f"{s['warnings']} warning{'s' if s['warnings'] != 1 else ''}, "
        f"{s['ok']} ok"
    )
    n = len(report.checks)
    tail = f" ({n} check{'s' if n != 1 else ''}"
    tail += f" in {_ms(report.elapsed_ms)})" if not report.offline else ")"
    if not report.checks and not report.findings:
        summary = "nothing to check"
        tail = ""
    code = "1;31" if s["errors"] else "1;33" if s["warnings"] else "1;32"
    lines.append(style.paint(summary, code) + tail)
    return style.finish(shown("\n".join(lines) + "\n"))


def render_json(report: Report, *, unicode: bool = True) -> str:
    """The JSON contract; with `unicode` False every non-ASCII character is escaped."""
    return dump_json(report.to_json(), unicode=unicode) + "\n"
