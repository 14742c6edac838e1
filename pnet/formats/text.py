"""The doctor's text, the answer first: one line per target (mark, variable, target, verdict, ms),
then each problem with its fix indented under it, then the summary.

`verbose` adds each problem's evidence, and the documentation links once per kind at the end;
`quiet` prints only the problems and the summary. With a `width` (a terminal's), prose wraps at
spaces with its indent kept, and a word longer than the line (a URL, a command) stays whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
SUBJECT_WIDTH = 24
CAUSE = "nameserver:"  # a fact about the run itself, said first
TARGET_WIDTH = 18
FIX_INDENT = "    "


@dataclass(frozen=True)
class Style:
    color: bool = False
    unicode: bool = True
    width: int | None = None
    verbose: bool = False
    quiet: bool = False

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

    def mark(self, status: str) -> str:
        marks = {
            "ok": ("✓", "32"),
            "warning": ("!", "33"),
            "error": ("✗", "31"),
            "info": ("i", "36"),
            "not-checked": ("·", "2"),
        }
        symbol, code = marks.get(status, ("?", "0"))
        return self.paint(symbol, f"1;{code}")

    def finish(self, text: str) -> str:
        if self.unicode:
            return text
        return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def wrap(text: str, width: int | None, first: int = 0, indent: int = 0) -> list[str]:
    """`text` in lines of at most `width` columns, the first starting at column `first`, the
    others indented by `indent`; broken at spaces only, so a URL is never cut."""
    if width is None or first + len(text) <= width:
        return [text]
    words = text.lstrip(" ")
    line = text[: len(text) - len(words)]
    lines: list[str] = []
    room = width - first
    for word in words.split(" "):
        if line.strip() and word and len(line) + 1 + len(word) > room:
            lines.append(line)
            line = word
            room = width - indent
        else:
            line = f"{line} {word}" if line.strip() else line + word
    lines.append(line)
    return [lines[0], *(" " * indent + rest for rest in lines[1:])]


def _ms(ms: float) -> str:
    if ms >= 1000:
        return f"{ms / 1000:.1f} s"
    return f"{ms:.0f} ms"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _severity_code(sev: Severity) -> str:
    return {"error": "31", "warning": "33"}.get(sev.value, "36")


def _is_link(text: str) -> bool:
    return text.startswith(("https://", "http://")) and " " not in text


def _worst(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: -f.severity.rank)


@dataclass(frozen=True)
class _Row:
    """One line of the table: a check, or a subject only findings name (a service itself)."""

    status: str
    subject: str
    target: str
    verdict: str
    ms: str
    findings: tuple[Finding, ...]
    value: str = ""


def _squeeze(text: str, room: int, cut: str = "…") -> str:
    """`host:port` in `room` columns, the host cut with `…` and the port kept."""
    if len(text) <= room:
        return text
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and room - len(port) - 2 >= 3:
        return f"{host[: room - len(port) - 2]}{cut}:{port}"
    return text[: room - 1] + cut


def _target(check: Check) -> str:
    """What the check reaches: the service it maps to, else the address."""
    t = check.target
    if t.origin == "service":
        where = t.hostport if t.host else (t.service or "")
    elif t.service:
        where = t.service
    else:
        where = t.hostport if t.host else t.display
    return where


def _verdict(status: str, findings: Sequence[Finding], why: str) -> str:
    if findings:
        kinds = list(dict.fromkeys(f.kind for f in _worst(findings)))
        return kinds[0] + (f" +{len(kinds) - 1}" if len(kinds) > 1 else "")
    if status == State.NOT_CHECKED.value:
        return f"not checked: {why}"
    return "ok" if status == State.OK.value else "failed"


def _rows(report: Report) -> list[_Row]:
    rows: list[_Row] = []
    subjects = set()
    for check in report.checks:
        subjects.add(check.target.subject)
        found = _worst(check.findings)
        ms = _ms(check.ms) if check.results and check.state is not State.NOT_CHECKED else ""
        rows.append(
            _Row(
                check.status,
                check.target.subject,
                _target(check),
                _verdict(check.status, found, check.why_not_checked),
                ms,
                tuple(found),
                "" if check.target.origin == "service" else check.target.display,
            )
        )
    extra: dict[str, list[Finding]] = {}
    for f in report.findings:
        if f.subject not in subjects:
            extra.setdefault(f.subject, []).append(f)
    causes: list[_Row] = []
    for subject, found in extra.items():
        found = _worst(found)
        status = "error" if found[0].severity is Severity.ERROR else found[0].severity.value
        verdict = _verdict(status, found, "")
        row = _Row(status, subject, found[0].service or "", verdict, "", tuple(found))
        (causes if subject.startswith(CAUSE) else rows).append(row)
    return [*causes, *rows]


def _table(rows: Sequence[_Row], style: Style) -> list[str]:
    """The rows in columns that fit 80 (or the terminal): an address too long for its column
    keeps its port and loses the middle of its host."""
    subject_w = min(SUBJECT_WIDTH, max((len(r.subject) for r in rows), default=0))
    verdict_w = max((len(r.verdict) for r in rows if r.ms), default=0)
    last = max((verdict_w + 8 if r.ms else len(r.verdict) for r in rows), default=0)
    room = (style.width or 80) - (2 + subject_w + 2 + 2 + min(last, 28))
    longest = max((len(r.target) for r in rows), default=0)
    target_w = max(TARGET_WIDTH, min(longest, room))
    lines = []
    for r in rows:
        target = _squeeze(r.target, target_w, "…" if style.unicode else "~").ljust(target_w)
        verdict = f"{r.verdict.ljust(verdict_w)}  {r.ms}" if r.ms else r.verdict
        plain = f"{r.subject.ljust(subject_w)}  {target}  {verdict}".rstrip()
        body = [plain]
        if style.width is not None and 2 + len(plain) > style.width:
            under = 6 + subject_w + target_w
            if under + len(verdict) > style.width:
                under = 4
            head = f"{r.subject.ljust(subject_w)}  {target}".rstrip()
            body = [head, *wrap(" " * under + verdict, style.width, 0, under)]
        if r.status == State.NOT_CHECKED.value:
            body = [style.paint(line, "2") for line in body]
        lines.append(f"{style.mark(r.status)} {body[0]}")
        lines += body[1:]
    return lines


def _problem(subject: str, f: Finding, style: Style, value: str = "") -> list[str]:
    """`✗ SEARCH_URL  wrong-port: message`, or, when the file places it, the subject and then
    `    render.yaml:22:7: error wrong-port: message` (the form editors and CI logs link); with
    -v the value and the evidence; the fix."""
    kind = style.paint(f.kind, f"1;{_severity_code(f.severity)}")
    if f.location is None:
        head = wrap(f"{subject}  {f.kind}: {f.message}", style.width, 2, 4)
        first = head[0].replace(f"{subject}  {f.kind}", f"{subject}  {kind}", 1)
        lines = [f"{style.mark(f.severity.value)} {first}", *head[1:]]
    else:
        said = f"{f.location}: {f.severity.value} {f.kind}"
        body = wrap(f"{said}: {f.message}", style.width, len(FIX_INDENT), len(FIX_INDENT) + 2)
        first = body[0].replace(said, f"{f.location}: {f.severity.value} {kind}", 1)
        lines = [f"{style.mark(f.severity.value)} {subject}", FIX_INDENT + first, *body[1:]]
    if style.verbose:
        if value and value != subject:
            lines.append(FIX_INDENT + style.paint(f"= {value}", "2"))
        for ev in f.evidence:
            if ev and not _is_link(ev):
                evidence = wrap(f"· {ev}", style.width, len(FIX_INDENT), len(FIX_INDENT) + 2)
                lines.append(FIX_INDENT + style.paint(evidence[0], "2"))
                lines += [style.paint(line, "2") for line in evidence[1:]]
    fix = [line for line in f.fix.splitlines() if line.strip()]
    lead = f"{FIX_INDENT}fix: "
    for i, line in enumerate(fix):
        rows = wrap(line, style.width, len(lead), len(lead))
        label = FIX_INDENT + style.paint("fix:", "1;32") + " " if i == 0 else " " * len(lead)
        lines.append(label + rows[0])
        lines += rows[1:]
    return lines


def _links(findings: Iterable[Finding], style: Style) -> list[str]:
    """The documentation, each link once with the kinds that cite it, at the end."""
    kinds: dict[str, list[str]] = {}
    for f in findings:
        for ev in f.evidence:
            if _is_link(ev):
                cited = kinds.setdefault(ev, [])
                if f.kind not in cited:
                    cited.append(f.kind)
    if not kinds:
        return []
    lines = [style.paint("docs (pnet-doctor --explain KIND says more):", "1")]
    for link, cited in kinds.items():
        lines += wrap(f"  {link}  ({', '.join(cited)})", style.width, 0, 6)
    return lines


def render_text(report: Report, style: Style | None = None) -> str:
    style = style or Style()
    lines: list[str] = []
    rows = _rows(report)
    if not style.quiet:
        lines += [style.paint(line, "1") for line in wrap(_head(report), style.width, 0, 2)]
        if rows:
            lines.append("")
            lines += _table(rows, style)
    problems: list[str] = []
    for r in rows:
        for f in r.findings:
            problems += _problem(r.subject, f, style, r.value)
    sections = [problems]
    if style.verbose:
        sections.append(_links((f for r in rows for f in r.findings), style))
    elif problems and not style.quiet:
        hint = "-v adds the evidence and the docs; --explain KIND says more"
        sections.append([style.paint(hint, "2")])
    sections.append(_summary_lines(report, style))
    for section in sections:
        if section:
            lines += ["", *section] if lines else section
    return style.finish(shown("\n".join(lines).replace("\u00a0", " ") + "\n"))


def _head(report: Report) -> str:
    ws = report.workspace
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
    return head


def _summary_lines(report: Report, style: Style) -> list[str]:
    line = summary_line(report, style)
    plain = summary_line(report, Style())
    if style.width is None or len(plain) <= style.width or " · " not in line:
        return [line]
    head, _, rest = line.partition(" · ")
    return [head, rest]


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
