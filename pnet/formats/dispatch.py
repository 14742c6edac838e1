"""One way to write a report in any of the doctor's formats."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pnet.checks import Report
from pnet.formats.text import Style
from pnet.secrets import shown

FORMATS = ("text", "json", "github", "sarif", "junit", "mermaid", "dot")


@dataclass(frozen=True)
class Options:
    """What a format may need besides the report: the text style, whether the stream takes
    Unicode, the repository root and the working folder (to make paths relative for CI), and
    a way to read the workspace's file (to keep its quoting in a SARIF fix)."""

    style: Style = field(default_factory=Style)
    unicode: bool = True
    root: str | Path | None = None
    cwd: str | Path | None = None
    read: Callable[[str], str | None] | None = None
    compact: bool = False


def render(fmt: str, report: Report, options: Options | None = None) -> str:
    """The report in format `fmt` (one of FORMATS), masked and valid UTF-8 (pnet.secrets:
    the JSON formats mask each string before they are written)."""
    text = _render(fmt, report, options)
    return text if fmt in ("json", "sarif") else shown(text)


def _render(fmt: str, report: Report, options: Options | None = None) -> str:
    o = options or Options()
    if fmt == "text":
        from pnet.formats.text import render_text

        return render_text(report, o.style)
    if fmt == "json":
        from pnet.formats.contract import render_json

        return render_json(report, unicode=o.unicode, compact=o.compact)
    if fmt == "github":
        from pnet.formats.github import render_github

        return render_github(report, root=o.root, cwd=o.cwd)
    if fmt == "sarif":
        from pnet.formats.sarif import render_sarif

        return render_sarif(report, root=o.root, cwd=o.cwd, read=o.read, unicode=o.unicode)
    if fmt == "junit":
        from pnet.formats.junit import render_junit

        return render_junit(report, unicode=o.unicode)
    if fmt in ("mermaid", "dot"):
        from pnet.formats.graph import build

        graph = build(report)
        if fmt == "mermaid":
            from pnet.formats.mermaid import render_mermaid

            return render_mermaid(graph)
        from pnet.formats.dot import render_dot

        return render_dot(graph)
    raise ValueError(f"unknown format {fmt!r}; the formats are: {', '.join(FORMATS)}")
