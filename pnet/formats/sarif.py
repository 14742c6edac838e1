"""SARIF 2.1.0 for code scanning: the finding kinds as rules (with their `--explain` text and
a help URI), each finding a result at the file, line and column it is about, and its fix as a
`fixes` entry where it is a literal replacement of the written value.

Code scanning refuses a result without a location: a finding the file does not place points at
the workspace's file itself (line 1), and with no file at all it is named as a logical location.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pnet import __version__
from pnet.checks import Report
from pnet.diagnose.explain import EXPLANATIONS
from pnet.diagnose.finding import Finding, Location, Severity
from pnet.diagnose.kinds import KINDS
from pnet.formats.fixes import replacement
from pnet.formats.paths import repo_path

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
VERSION = "2.1.0"
ROOT_ID = "%SRCROOT%"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

Read = Callable[[str], str | None]


def _text(text: str) -> dict[str, str]:
    return {"text": text}


def rules() -> list[dict[str, Any]]:
    """Every finding kind as a reporting descriptor, in the order of the contract."""
    out: list[dict[str, Any]] = []
    for kind, info in KINDS.items():
        rule: dict[str, Any] = {
            "id": kind,
            "name": "".join(part.capitalize() for part in kind.split("-")),
            "shortDescription": _text(info.meaning),
            "defaultConfiguration": {"level": LEVEL[info.severity]},
            "properties": {"tags": ["private-network"]},
        }
        e = EXPLANATIONS.get(kind)
        if e is not None:
            rule["fullDescription"] = _text(" ".join(e.meaning.split()))
            rule["help"] = _text(e.text())
            if e.docs:
                rule["helpUri"] = e.docs[0]
        out.append(rule)
    return out


def _artifact(file: str, root: str | Path | None, cwd: str | Path | None) -> dict[str, str]:
    uri = repo_path(file, root, cwd)
    if uri.startswith("/"):
        return {"uri": Path(uri).as_uri()}
    return {"uri": uri, "uriBaseId": ROOT_ID}


def result(
    report: Report,
    f: Finding,
    index: dict[str, int],
    *,
    root: str | Path | None = None,
    cwd: str | Path | None = None,
    read: Read | None = None,
) -> dict[str, Any]:
    fix = "\n".join(line.strip() for line in f.fix.splitlines() if line.strip())
    out: dict[str, Any] = {
        "ruleId": f.kind,
        "level": LEVEL[f.severity],
        "message": _text(f"{f.message}\nfix: {fix}" if fix else f.message),
        "properties": {"subject": f.subject, "evidence": list(f.evidence)},
    }
    if f.kind in index:
        out["ruleIndex"] = index[f.kind]
    if f.service:
        out["properties"]["service"] = f.service
    loc = f.location
    source = report.workspace.source
    if loc is None and source and read is not None and read(source) is not None:
        loc = Location(source, 1)
    if loc is None:
        kind = "variable" if not f.subject.startswith("service:") else "module"
        out["locations"] = [{"logicalLocations": [{"name": f.subject, "kind": kind}]}]
        return out
    artifact = _artifact(loc.file, root, cwd)
    region: dict[str, int] = {"startLine": loc.line}
    if loc.column is not None:
        region["startColumn"] = loc.column
    out["locations"] = [{"physicalLocation": {"artifactLocation": artifact, "region": region}}]
    edit = replacement(report, f, read(loc.file) if read is not None else None)
    if edit is not None:
        out["fixes"] = [
            {
                "description": _text(f"{f.subject}: {edit.text}"),
                "artifactChanges": [
                    {
                        "artifactLocation": artifact,
                        "replacements": [
                            {
                                "deletedRegion": {
                                    "startLine": edit.line,
                                    "startColumn": edit.column,
                                    "endLine": edit.end_line,
                                    "endColumn": edit.end_column,
                                },
                                "insertedContent": _text(edit.text),
                            }
                        ],
                    }
                ],
            }
        ]
    return out


def sarif_log(
    report: Report,
    *,
    root: str | Path | None = None,
    cwd: str | Path | None = None,
    read: Read | None = None,
) -> dict[str, Any]:
    descriptors = rules()
    index = {rule["id"]: i for i, rule in enumerate(descriptors)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "pnet-doctor",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": descriptors,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [
            result(report, f, index, root=root, cwd=cwd, read=read) for f in report.findings
        ],
        "invocations": [{"executionSuccessful": True, "exitCode": report.exit_code}],
        "properties": {"summary": report.summary},
    }
    if root is not None and Path(root).is_absolute():
        run["originalUriBaseIds"] = {ROOT_ID: {"uri": Path(root).as_uri().rstrip("/") + "/"}}
    return {"$schema": SCHEMA, "version": VERSION, "runs": [run]}


def render_sarif(
    report: Report,
    *,
    root: str | Path | None = None,
    cwd: str | Path | None = None,
    read: Read | None = None,
    unicode: bool = True,
) -> str:
    log = sarif_log(report, root=root, cwd=cwd, read=read)
    return json.dumps(log, indent=2, ensure_ascii=not unicode) + "\n"
