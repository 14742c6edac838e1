"""The doctor's text: one line per check with its mark, each finding with its fix, a summary."""

from __future__ import annotations

from dataclasses import dataclass

from pnet import platforms
from pnet.checks import Check, Report, State
from pnet.diagnose.finding import Finding, Severity
from pnet.secrets import shown

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
        marks = {
            "ok": ("✓", "32"),
            "warning": ("!", "33"),
            "error": ("✗", "31"),
            "not-checked": ("·", "2"),
        }
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
    where = f"{f.location}: " if f.location is not None else ""
    lines = [f"{indent}{where}{head}: {f.message}"]
    for ev in f.evidence:
        lines.append(f"{indent}  {style.paint('· ' + ev, '2')}")
    fix = [line for line in f.fix.splitlines() if line.strip()]
    for i, line in enumerate(fix):
        label = style.paint("fix:", "1;32") if i == 0 else "    "
        lines.append(f"{indent}  {label} {line}")
    return lines


def _check_line(check: Check, style: Style, width: int) -> str:
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
    why = ""
    if check.state is State.NOT_CHECKED:
        why = style.paint(f"  (not checked: {check.why_not_checked})", "2")
    text = f"{style.mark(check.status)} {subject}  {value}{arrow}{origin}{probes}{why}"
    return text.rstrip()


def render_text(report: Report, style: Style | None = None) -> str:
    style = style or Style()
    ws = report.workspace
    lines: list[str] = []
    adapter = platforms.of(ws)
    where = adapter.scope_word
    src = report.source
    head = f"pnet-doctor: {ws.name} ({ws.platform.value})"
    if src is not None:
        head += f", from {src.name} ({src.type.label}, {where} {adapter.location_note(src)})"
    elif any(c.target.source for c in report.checks):
        head += ", every service"
    if report.offline:
        head += ", offline: static rules only"
    lines.append(style.paint(head, "1"))
    width = min(28, max((len(c.target.subject) for c in report.checks), default=0))
    subjects = set()
    for check in report.checks:
        subjects.add(check.target.subject)
        lines.append(_check_line(check, style, width))
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
    lines.append(summary_line(report, style))
    return style.finish(shown("\n".join(lines) + "\n"))


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def summary_line(report: Report, style: Style | None = None) -> str:
    """`19 checks: 3 ok, 4 warning, 9 error, 3 not checked · findings: 12 errors, 6 warnings`:
    checks by state and findings by severity, each adding up to its total."""
    style = style or Style()
    if not report.checks and not report.findings:
        return style.paint("nothing to check", "1;32")
    c = report.count_checks()
    f = report.count_findings()
    parts = [f"{c['ok']} ok", f"{c['warning']} warning", f"{c['error']} error"]
    if c["not-checked"]:
        parts.append(f"{c['not-checked']} not checked")
    head = f"{_n(len(report.checks), 'check')}: {', '.join(parts)}"
    found = f"findings: {_n(f['error'], 'error')}, {_n(f['warning'], 'warning')}"
    if f["info"]:
        found += f", {f['info']} info"
    code = "1;31" if f["error"] else "1;33" if f["warning"] else "1;32"
    took = f" in {_ms(report.elapsed_ms)}" if not report.offline else ""
    return f"{head} · {style.paint(found, code)}{took}"
