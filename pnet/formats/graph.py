"""The map: services as nodes grouped by region (Render) or environment (Railway), and an edge
from each service to what each of its variables points at, with that check's verdict, its
findings and their fix. One pure function of the report(s); the app's Map view and the
Mermaid and DOT formats all draw from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from pnet import platforms
from pnet.checks import Check, Report, State
from pnet.diagnose.finding import Finding, Severity
from pnet.model import Workspace

OUTSIDE = "outside the workspace"
"""The group of an address that maps to no service of the workspace."""

MARKS = {State.OK: "✓", State.WARNING: "!", State.ERROR: "✗", State.NOT_CHECKED: "·"}
WORDS = {
    State.OK: "ok",
    State.WARNING: "warning",
    State.ERROR: "error",
    State.NOT_CHECKED: "not checked",
}


@dataclass(frozen=True)
class Node:
    """A service (or an address that maps to none): `state` is its own check's, None when it
    has none; `findings` are about the service itself."""

    id: str
    label: str
    kind: str
    group: str
    state: State | None = None
    findings: tuple[Finding, ...] = ()
    known: bool = True


@dataclass(frozen=True)
class Edge:
    """A variable of `source` pointing at `target`: `label` is the variable (`KEY` or `KEY[i]`
    for one address of a list), `value` what it holds (masked)."""

    source: str
    target: str
    label: str
    state: State
    value: str = ""
    findings: tuple[Finding, ...] = ()
    cross: bool = False
    why: str = ""

    @property
    def id(self) -> tuple[str, str]:
        return self.source, self.label

    @property
    def worst(self) -> Finding | None:
        """The finding that decides the verdict: the first of the most severe."""
        if not self.findings:
            return None
        top = max(f.severity.rank for f in self.findings)
        return next(f for f in self.findings if f.severity.rank == top)

    @property
    def fix(self) -> str:
        found = self.worst
        return found.fix if found is not None else ""


@dataclass(frozen=True)
class Graph:
    name: str
    platform: str
    scope: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    groups: tuple[tuple[str, tuple[str, ...]], ...] = field(default_factory=tuple)

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def edges_of(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges if node_id in (e.source, e.target)]

    def around(self, node_id: str) -> Graph:
        """The neighbourhood of one node: it, what it points at and what points at it."""
        edges = tuple(self.edges_of(node_id))
        keep = {node_id} | {e.source for e in edges} | {e.target for e in edges}
        nodes = tuple(n for n in self.nodes if n.id in keep)
        groups = tuple(
            (g, tuple(i for i in ids if i in keep))
            for g, ids in self.groups
            if any(i in keep for i in ids)
        )
        return replace(self, nodes=nodes, edges=edges, groups=groups)

    def count(self) -> dict[State, int]:
        out = dict.fromkeys(State, 0)
        for e in self.edges:
            out[e.state] += 1
        return out


def wrap(text: str, width: int = 60) -> list[str]:
    """Words in lines of at most `width` characters (a longer word, a URL, stays whole)."""
    out: list[str] = []
    for para in text.splitlines():
        line = ""
        for word in para.split():
            if line and len(line) + 1 + len(word) > width:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            out.append(line)
    return out


def _worst_state(findings: Iterable[Finding]) -> State | None:
    sev = max((f.severity.rank for f in findings), default=None)
    if sev is None:
        return None
    if sev >= Severity.ERROR.rank:
        return State.ERROR
    if sev >= Severity.WARNING.rank:
        return State.WARNING
    return None


def _owner(report: Report, check: Check) -> str | None:
    if check.target.source:
        return check.target.source
    return report.source.name if report.source is not None else None


def _label(check: Check, owner: str) -> str:
    subject = check.target.subject
    prefix = f"{owner}."
    if check.target.source and subject.startswith(prefix):
        return subject[len(prefix) :]
    return subject


def _unknown_id(check: Check) -> str:
    host = check.target.hostport or check.target.host or check.target.display
    return f"?{host}"


def build(*reports: Report) -> Graph:
    """The graph of the first report's workspace, each later report's checks replacing the
    verdicts of the same variables and services (a live sweep over the static baseline)."""
    if not reports:
        raise ValueError("build() needs at least one report")
    ws = reports[0].workspace
    scope = platforms.of(ws).scope_word
    group_of = {s.name: group for group, members in ws.groups() for s in members}
    nodes: dict[str, Node] = {
        s.name: Node(s.name, s.name, s.type.label, group_of[s.name]) for s in ws.services
    }
    edges: dict[tuple[str, str], Edge] = {}
    for report in reports:
        held: set[str] = set()
        for check in report.checks:
            held.add(check.target.subject)
            t = check.target
            if t.origin == "service" and t.service in nodes:
                own = nodes[t.service]
                nodes[t.service] = replace(own, state=check.state, findings=check.findings)
                continue
            owner = _owner(report, check)
            if owner is None or owner not in nodes:
                continue
            target = t.service if t.service in nodes else _unknown_id(check)
            if target not in nodes:
                nodes[target] = Node(target, target[1:], "address", OUTSIDE, known=False)
            cross = nodes[target].known and group_of.get(target) != group_of[owner]
            edge = Edge(
                source=owner,
                target=target,
                label=_label(check, owner),
                state=check.state,
                value=t.display,
                findings=check.findings,
                cross=cross,
                why=check.why_not_checked,
            )
            edges[edge.id] = edge
        for f in report.findings:
            if f.subject in held or not f.subject.startswith("service:"):
                continue
            name = f.subject.split(":", 1)[1]
            if name in nodes and f not in nodes[name].findings:
                own = nodes[name]
                found = (*own.findings, f)
                nodes[name] = replace(own, findings=found, state=_worst_state(found))
    return _graph(ws, scope, nodes, edges)


def _graph(
    ws: Workspace, scope: str, nodes: dict[str, Node], edges: dict[tuple[str, str], Edge]
) -> Graph:
    order = [s.name for s in ws.services]
    names = {n: i for i, n in enumerate(order)}
    ordered = sorted(edges.values(), key=lambda e: (names.get(e.source, len(names)),))
    groups: list[tuple[str, tuple[str, ...]]] = [
        (g, tuple(s.name for s in members)) for g, members in ws.groups()
    ]
    unknown = tuple(n.id for n in nodes.values() if not n.known)
    if unknown:
        groups.append((OUTSIDE, unknown))
    listed = [n for g in groups for n in g[1]]
    return Graph(
        name=ws.name,
        platform=ws.platform.value,
        scope=scope,
        nodes=tuple(nodes[n] for n in listed),
        edges=tuple(ordered),
        groups=tuple(groups),
    )


def of_workspace(workspace: Workspace, *reports: Report) -> Graph:
    """The graph with the static verdicts of every variable of every service (no network),
    then whatever `reports` probed over them."""
    from pnet import checks
    from pnet.targets import select

    baseline = checks.run_offline(workspace, None, select(workspace, None, every=True, own=False))
    return build(baseline, *reports)
