"""The doctor's JSON: the public contract (`version` 1; fields are added, never renamed)."""

from __future__ import annotations

from pnet.checks import Report
from pnet.secrets import dump_json


def render_json(report: Report, *, unicode: bool = True, compact: bool = False) -> str:
    """The JSON contract; with `unicode` False every non-ASCII character is escaped; `compact`
    on one line (for a program: a sweep's report is then written several times faster). Every
    string is masked and valid UTF-8 (pnet.secrets.dump_json)."""
    return dump_json(report.to_json(), unicode=unicode, indent=None if compact else 2) + "\n"
