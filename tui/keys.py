"""Every key of the app, in one place: the bindings, and what the help screen lists.

A binding's id is what `[keys]` in the config file remaps; every binding has a tooltip, which the
help screen shows.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit", id="quit", tooltip="Quit at once (running probes stop)"),
    Binding(
        "slash", "filter", "Filter", id="filter", tooltip="Filter services by name/type/status"
    ),
    Binding("p", "probe", "Probe", id="probe", tooltip="Probe the selected service"),
    Binding("P", "sweep", "Sweep", id="sweep", tooltip="Probe every service"),
    Binding(
        "v",
        "check_env",
        "Vars",
        id="check-env",
        tooltip="Probe every address the service's env vars point at, from its side",
    ),
    Binding("c", "check", "Path", id="check", tooltip="Can A reach B? A staged verdict"),
    Binding("w", "watch", "Watch", id="watch", tooltip="Re-probe every few seconds"),
    Binding("y", "copy", "Copy", id="copy", tooltip="Copy the highlighted Connect field"),
    Binding("r", "reveal", "Reveal", id="reveal", tooltip="Show or hide secrets"),
    Binding("e", "export", "Export", id="export", tooltip="Write Markdown + JSON reports"),
    Binding(
        "t",
        "toggle_tree",
        "Tree",
        id="tree",
        tooltip="Show or hide the service tree",
        show=False,
    ),
    Binding("question_mark", "help", "Help", id="help", tooltip="Every key and mark"),
    Binding(
        "escape",
        "unfilter",
        "Clear filter",
        id="unfilter",
        tooltip="Clear the filter",
        show=False,
    ),
    Binding(
        "1",
        "tab('connect')",
        "Connect",
        id="tab.connect",
        tooltip="Show the Connect tab",
        show=False,
    ),
    Binding(
        "2",
        "tab('probes')",
        "Probes",
        id="tab.probes",
        tooltip="Show the Probes tab",
        show=False,
    ),
    Binding(
        "3",
        "tab('findings')",
        "Findings",
        id="tab.findings",
        tooltip="Show the Findings tab",
        show=False,
    ),
    Binding("4", "tab('env')", "Env", id="tab.env", tooltip="Show the Env tab", show=False),
    Binding(
        "5",
        "tab('instance')",
        "Instance",
        id="tab.instance",
        tooltip="Show the Instance tab (inside an instance)",
        show=False,
    ),
]


def help_rows(instance: bool) -> list[tuple[str, str, str]]:
    """(key, name, what it does) for every binding that does something here."""
    rows: list[tuple[str, str, str]] = []
    for b in BINDINGS:
        if isinstance(b, Binding):
            if b.id == "tab.instance" and not instance:
                continue
            key = {"slash": "/", "question_mark": "?"}.get(b.key, b.key)
            rows.append((key, b.description, b.tooltip))
    rows.append(("ctrl+p", "Palette", "Every command by name"))
    rows.append(("enter", "Copy", "On a Connect field: copy it"))
    return rows
