"""The doctor's JSON: the public contract (`version` 1; fields are added, never renamed)."""

from __future__ import annotations

import json

from pnet.checks import Report


def render_json(report: Report, *, unicode: bool = True) -> str:
    """The JSON contract; with `unicode` False every non-ASCII character is escaped."""
    return json.dumps(report.to_json(), indent=2, ensure_ascii=not unicode) + "\n"
