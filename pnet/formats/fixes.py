"""A finding's fix as a literal edit of the file, where it is one: the variable's written value
replaced by the value the fix gives, with nothing left for a person to fill in."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pnet.checks import Report
from pnet.diagnose.finding import Finding
from pnet.model import EnvVar

PLACEHOLDER = re.compile(r"PASSWORD|XXXX|\bUSER\b|/DATABASE\b|\.\.\.")
PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~:/?&=%+@\-]*$")


@dataclass(frozen=True)
class Replacement:
    """Replace the text from (line, column) up to (end_line, end_column) with `text`."""

    line: int
    column: int
    end_line: int
    end_column: int
    text: str


def _variable(report: Report, finding: Finding) -> EnvVar | None:
    for check in report.checks:
        t = check.target
        if t.subject != finding.subject or t.key is None or t.origin != "env":
            continue
        owner = t.source or (report.source.name if report.source else None)
        svc = report.workspace.service(owner) if owner else None
        return svc.env_var(t.key) if svc is not None else None
    return None


def yaml_scalar(value: str, written: str) -> str:
    """`value` as a YAML scalar, quoted the way the original was (`written` starts with its
    quote, if any) or when a plain scalar could not hold it."""
    if written.startswith("'"):
        return "'" + value.replace("'", "''") + "'"
    if written.startswith('"') or not PLAIN.match(value):
        return json.dumps(value, ensure_ascii=False)
    return value


def replacement(report: Report, finding: Finding, source_text: str | None) -> Replacement | None:
    """The literal edit a finding's fix makes to the file, or None when the fix is not one (it
    has placeholders, more than one step, or the variable's value is not written there).
    `source_text` is the file's text (to keep its quoting)."""
    var = _variable(report, finding)
    if var is None or var.origin != "value" or var.value_at is None or var.value is None:
        return None
    lines = [line for line in finding.fix.splitlines() if line.strip()]
    if not lines:
        return None
    head, sep, value = lines[0].partition("=")
    base_key = re.sub(r"\[\d+\]$", "", head)
    if not sep or base_key != var.key or re.search(r"\s", value) or PLACEHOLDER.search(value):
        return None
    if value == var.value or not value:
        return None
    line, column, end_line, end_column = var.value_at
    written = ""
    if source_text is not None:
        rows = source_text.splitlines()
        if 0 < line <= len(rows):
            written = rows[line - 1][column - 1 :]
    return Replacement(line, column, end_line, end_column, yaml_scalar(value, written))
