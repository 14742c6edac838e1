"""The lines that sum up what the runs found: the status line, each tab's title, the hint for the
focused widget. Plain Rich text from the app's state; the app puts them on screen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.text import Text

from pnet import platforms
from pnet.model import Service, Workspace
from pnet.tui.status import Status, plural

if TYPE_CHECKING:
    from pnet.tui.runs import Runs

COUNTED = (Status.ERROR, Status.WARNING, Status.OK)
HINTS = {
    "tree": "↑↓/jk services · tab: into the tab · 1-4 tabs",
    "connect-fields": "↑↓/jk fields · y or enter copies",
    "probe-table": "↑↓/jk probes · p probes again · w watches",
    "findings-table": "↑↓/jk findings · tab: the fix and evidence",
    "finding-detail-scroll": "↑↓/jk scroll · shift+tab: the findings",
    "env-table": "↑↓/jk variables · v checks them live",
    "filter": "type to filter · enter keeps it · esc clears it",
    "listeners": "↑↓/jk listeners · tab: the findings",
}


def title(workspace: Workspace, source: Service | None, compact: bool = False) -> Text:
    """The title bar: the workspace, its platform, and where the probes start from."""
    text = Text.assemble(
        ("pnet", "bold"),
        "  ",
        (workspace.project or workspace.name, "bold"),
        " ",
        (f"· {workspace.platform} · {plural(len(workspace.services), 'service')}", "dim"),
    )
    suffix = platforms.of(workspace).shared_suffix
    if suffix and not compact:
        text.append(f" · private names *{suffix}", "dim")
    text.append(" · from" if compact else " · probing from", "dim")
    text.append(" ")
    text.append(source.name if source else "this machine", "bold")
    if source is not None and source.location:
        text.append(f" ({source.location})", "dim")
    return text


def _marks(text: Text, marks: dict[str, Status], names: list[str], compact: bool) -> None:
    for status in COUNTED:
        n = sum(1 for name in names if marks.get(name) is status)
        if n:
            text.append(f" {status.mark}{'' if compact else ' '}{n}", status.style)


def status_line(runs: Runs, width: int) -> Text:
    """`probed 15/18 ✘ 3 ! 4 ✔ 8 │ variables checked 13/18 ✘ 4 ✔ 9 │ watching api`, the two
    marks counted apart over the services each applies to."""
    compact = width < 112
    text = Text()
    if runs.sweep_state is not None:
        done, total = runs.sweep_state
        bar = 20 if not compact else 10
        filled = int(bar * done / total) if total else bar
        text.append("sweep ", "bold")
        text.append("█" * filled + "░" * (bar - filled), "cyan")
        text.append(f" {done}/{total}", "bold")
    else:
        services = runs.workspace.services
        receivers = [s.name for s in services if s.type.receives]
        probed = [n for n in receivers if runs.probed(n)]
        marked = [s.name for s in services]
        text.append(f"probed {len(probed)}/{len(receivers)}", "dim")
        _marks(text, runs.status, marked, compact)
        readers = [s.name for s in services if s.env]
        if readers:
            checked = [n for n in readers if n in runs.env_findings]
            word = "vars" if compact else "variables checked"
            text.append(f" │ {word} {len(checked)}/{len(readers)}", "dim")
            _marks(text, runs.reach, readers, compact)
    if runs.watching:
        every = f" every {runs.watch_interval:g}s" if not compact else ""
        text.append(f" │ ◉ watching {runs.watching}{every}", "bold cyan")
    if getattr(runs, "reveal", False):
        text.append(" │ secrets shown", "bold red")
    text.append_text(read_age(runs))
    return text


def read_age(runs: Runs) -> Text:
    """How old the API's answer is (kept a few minutes on disk), or what a refresh reads."""
    if runs.reading is not None:
        return Text(f" │ {runs.reading}", "bold")
    if runs.read_at is None:
        return Text()
    age = (runs.clock() - datetime.fromtimestamp(runs.read_at, UTC)).total_seconds()
    when = "just now" if age < 60 else f"{plural(int(age // 60), 'min')} ago"
    where = " (cached)" if runs.cached else ""
    return Text(f" │ API read {when}{where} · R refreshes", "dim")


def with_hint(line: Text, hint: str, width: int) -> Text:
    """The status line with the focused widget's keys on its right, when they fit."""
    room = width - 2 - line.cell_len
    if hint and room >= len(hint) + 3:
        line = line.copy()
        line.append(" " * (room - len(hint)))
        line.append(hint, "dim")
    return line


def probe_summary(runs: Runs, svc: Service) -> Text:
    """The Probes tab's title: the service's health, then what its variables found."""
    name = svc.name
    status = runs.status.get(name, Status.UNKNOWN)
    rows = runs.results.get(name, {})
    text = Text.assemble((f"{status.mark} ", status.style), (name, "bold"))
    why = runs.why_not.get(name)
    if not svc.type.receives:
        text.append("  receives no private traffic: ", "dim")
        text.append(svc.type.why_not_receiving or svc.type.label, "dim")
    elif status is Status.RUNNING:
        fresh = len(runs.run_keys.get(name, ()))
        text.append(f"  probing… {fresh} answers so far", "dim")
    elif why:
        text.append(f"  not probed: {why}", "yellow")
    elif rows or name in runs.probed_at:
        good = sum(1 for r in rows.values() if r.ok)
        text.append(f"  {good}/{len(rows)} probes ok", "green" if good == len(rows) else "red")
        found = runs.findings.get(name, ())
        if found:
            text.append(f"  {plural(len(found), 'finding')} (tab 3)", status.style)
        when = runs.probed_at.get(name)
        if when is not None:
            text.append(f"  at {when.strftime('%H:%M:%S')}", "dim")
    else:
        text.append("  not probed yet: p probes it, P every service", "dim")
    reach = runs.reach.get(name)
    if reach is not None:
        from_env = [f for f in runs.variable_findings(name) if f.severity != "info"]
        text.append(f"\n{reach.mark} its variables: ", reach.style)
        if reach is Status.RUNNING:
            text.append("checking…", "dim")
        elif from_env:
            text.append(plural(len(from_env), "finding"), reach.style)
            text.append(" (tabs 3, 4)", "dim")
        elif name in runs.env_findings:
            text.append("no finding", "green")
        else:
            text.append("not checked yet (v)", "dim")
    return text


def env_title(runs: Runs, svc: Service) -> Text:
    if not svc.env:
        return Text(f"{svc.name} reads no variables that pnet knows of.", style="dim")
    reach = runs.reach.get(svc.name, Status.UNKNOWN)
    bad = {f.subject for f in runs.variable_findings(svc.name) if f.severity != "info"}
    text = Text.assemble(
        (f"{reach.mark} ", reach.style),
        (svc.name, "bold"),
        f"  {plural(len(svc.env), 'variable')}, ",
        (f"{len(bad)} with a finding", "red" if bad else "green"),
    )
    if svc.name in runs.env_running:
        text.append("  checking…", "dim")
    elif svc.name not in runs.env_findings:
        text.append("  (from the model: v checks them live)", "dim")
    else:
        text.append("  (checked live: v again)", "dim")
    return text


def findings_empty(runs: Runs, svc: Service) -> str:
    """What the Findings tab says when it lists nothing."""
    name = svc.name
    probed = runs.probed(name)
    checked = name in runs.env_findings or not svc.env
    if probed and not svc.env:
        return f"No finding: {name} answered every probe."
    if probed and checked:
        return f"No finding: {name} answered every probe, and so did what its variables reach."
    if probed:
        return f"No finding: {name} answered every probe. v checks where its variables point."
    if svc.type.receives:
        return f"No finding yet for {name}. p probes it, v checks its variables."
    return f"No finding yet for {name}. v checks where its variables point."
