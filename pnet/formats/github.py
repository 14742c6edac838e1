"""GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` per finding, at the
file, line and column it is about, so it shows on the changed line of a pull request.

    ::error file=render.yaml,line=42,col=7,title=cross-region::MESSAGE — FIX

Data is escaped as the runner reads it (`%`, CR, LF; in properties also `:` and `,`).
"""

from __future__ import annotations

from pathlib import Path

from pnet.checks import Report
from pnet.diagnose.finding import Finding, Severity
from pnet.formats.paths import repo_path
from pnet.formats.text import summary_line

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def message(f: Finding) -> str:
    """The message, then the fix: its lines joined as the annotation shows them."""
    fix = "\n".join(line.strip() for line in f.fix.splitlines() if line.strip())
    return f"{f.message} — {fix}" if fix else f.message


def annotation(f: Finding, root: str | Path | None = None, cwd: str | Path | None = None) -> str:
    props: list[tuple[str, str]] = []
    if f.location is not None:
        props.append(("file", repo_path(f.location.file, root, cwd)))
        props.append(("line", str(f.location.line)))
        if f.location.column is not None:
            props.append(("col", str(f.location.column)))
    props.append(("title", f.kind))
    params = ",".join(f"{k}={escape_property(v)}" for k, v in props)
    return f"::{COMMAND[f.severity]} {params}::{escape_data(message(f))}"


def render_github(
    report: Report, *, root: str | Path | None = None, cwd: str | Path | None = None
) -> str:
    """One workflow command per finding, then the summary as a plain log line."""
    lines = [annotation(f, root, cwd) for f in report.findings]
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
