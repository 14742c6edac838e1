"""Every key of the app, in one place: the bindings, and what the help screen lists.

A binding's id is what `[keys]` in the config file remaps; every binding has a tooltip, which the
help screen shows. The footer shows the bindings with `show=True`, in this order; at 80 columns
it holds them all (the tab keys are on the tabs themselves: `1 Connect`, `2 Probes`, ...).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit", id="quit", tooltip="Quit at once (running probes stop)"),
    Binding("slash", "filter", "Find", id="filter", tooltip="Filter services by name/type/mark"),
    Binding("p", "probe", "Probe", id="probe", tooltip="Probe the selected service itself"),
    Binding(
        "P",
        "sweep",
        "Sweep",
        id="sweep",
        tooltip="Probe every service and check every service's variables",
    ),
    Binding(
        "v",
        "check_env",
        "Env",
        id="check-env",
        tooltip="Check where the selected service's variables point, from its side (Env tab)",
    ),
    Binding("c", "check", "Path", id="check", tooltip="Can A reach B? A staged verdict"),
    Binding("w", "watch", "Watch", id="watch", tooltip="Re-probe the service every few seconds"),
    Binding("y", "copy", "Copy", id="copy", tooltip="Copy the highlighted Connect field"),
    Binding("r", "reveal", "Reveal", id="reveal", tooltip="Show or hide secrets"),
    Binding(
        "e",
        "export",
        "Save",
        id="export",
        tooltip="Write every service checked so far as Markdown + JSON, secrets masked",
    ),
    Binding("question_mark", "help", "Help", id="help", tooltip="Every key and mark"),
    Binding("m", "map", "Map", id="map", tooltip="Services and their arrows", show=False),
    Binding(
        "R",
        "refresh",
        "Refresh",
        id="refresh",
        tooltip="Read the platform's API again (the workspace is kept a few minutes)",
        show=False,
    ),
    Binding(
        "1",
        "tab('connect')",
        "Connect",
        id="tab.connect",
        tooltip="The Connect tab",
        show=False,
    ),
    Binding(
        "2",
        "tab('probes')",
        "Probes",
        id="tab.probes",
        tooltip="The Probes tab",
        show=False,
    ),
    Binding(
        "3",
        "tab('findings')",
        "Findings",
        id="tab.findings",
        tooltip="The Findings tab",
        show=False,
    ),
    Binding("4", "tab('env')", "Env", id="tab.env", tooltip="The Env tab", show=False),
    Binding(
        "5",
        "tab('instance')",
        "Instance",
        id="tab.instance",
        tooltip="The Instance tab (inside an instance)",
        show=False,
    ),
    Binding(
        "t", "toggle_tree", "Tree", id="tree", tooltip="Hide or show the service tree", show=False
    ),
    Binding(
        "escape",
        "unfilter",
        "Clear filter",
        id="unfilter",
        tooltip="Clear the filter and go back to the tree",
        show=False,
    ),
    Binding("j", "move('down')", "Down", id="down", tooltip="Move down (as ↓)", show=False),
    Binding("k", "move('up')", "Up", id="up", tooltip="Move up (as ↑)", show=False),
]

HELP_EXTRA = (
    ("↑ ↓", "Move", "In the tree, a list or a table (j and k too)"),
    ("tab", "Next", "From the tree to the tab's list, then its detail; shift+tab back"),
    ("enter", "Copy", "On a Connect field: copy it"),
    ("ctrl+p", "Palette", "Every command by name"),
)


def help_rows(instance: bool, refresh: bool = False) -> list[tuple[str, str, str]]:
    """(key, name, what it does) for every binding that does something here: the Instance tab
    inside an instance, a refresh when the workspace comes from a platform's API."""
    rows: list[tuple[str, str, str]] = []
    for b in BINDINGS:
        if isinstance(b, Binding):
            if (b.id == "tab.instance" and not instance) or (b.id == "refresh" and not refresh):
                continue
            key = {"slash": "/", "question_mark": "?"}.get(b.key, b.key)
            rows.append((key, b.description, b.tooltip))
    rows.extend(HELP_EXTRA)
    return rows


def footer_hidden(action: str, instance: bool) -> bool:
    """Whether the footer leaves a binding out here (the Instance tab outside an instance)."""
    return action == "tab('instance')" and not instance
