"""The doctor's JSON: the public contract (`version` 1; fields are added, never renamed)."""

from __future__ import annotations

import json

from pnet.checks import Report


def render_json(report: Report, *, unicode: bool = True, compact: bool = False) -> str:
    """The JSON contract; with `unicode` False every non-ASCII character is escaped; `compact`
    on one line (for a program: a sweep's report is then written several times faster)."""
    indent = None if compact else 2
    return json.dumps(report.to_json(), indent=indent, ensure_ascii=not unicode) + "\n"
