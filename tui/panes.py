"""The tabs of a service's view, and what each holds."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from pnet.tui.widgets.connect_view import ConnectView
from pnet.tui.widgets.env_view import EnvTable
from pnet.tui.widgets.findings_view import FindingsView, explain_kind
from pnet.tui.widgets.instance_view import InstancePane
from pnet.tui.widgets.probe_table import ProbeTable

TABS = (
    ("instance", "5 Instance"),
    ("connect", "1 Connect"),
    ("probes", "2 Probes"),
    ("findings", "3 Findings"),
    ("env", "4 Env"),
)
PANE_FOCUS = {
    "connect": "#connect-fields",
    "probes": "#probe-table",
    "findings": "#findings-table",
    "env": "#env-table",
    "instance": "#listeners",
}


def pane_widgets(pane: str) -> ComposeResult:
    if pane == "instance":
        yield InstancePane(explain=explain_kind, id="instance-pane")
    elif pane == "connect":
        yield ConnectView(id="connect-view")
    elif pane == "probes":
        yield Static("", id="probe-summary", classes="pane-title")
        yield ProbeTable(id="probe-table")
        yield Static("", id="probe-detail")
    elif pane == "findings":
        yield FindingsView(explain=explain_kind, id="findings-view")
    else:
        yield Static("", id="env-title", classes="pane-title")
        yield EnvTable(id="env-table")
        yield Static("", id="env-detail")
