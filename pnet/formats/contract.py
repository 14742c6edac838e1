"""The doctor's JSON: the public contract (`version` 1; fields are added, never renamed)."""

from __future__ import annotations

from pnet.checks import Report
from pnet.secrets import dump_json


def render_json(report: Report, *, unicode: bool = True) -> str:
    """The JSON contract; with `unicode` False every non-ASCII character is escaped. Every
    string is masked and valid UTF-8 (pnet.secrets.dump_json)."""
    return dump_json(report.to_json(), unicode=unicode) + "\n"
