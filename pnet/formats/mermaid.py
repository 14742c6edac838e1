"""The map as a Mermaid flowchart (GitHub renders it in Markdown): a subgraph per region or
environment, an arrow per variable labelled with its name and verdict, and for a finding its
kind and the first line of its fix."""

from __future__ import annotations

from pnet.checks import State
from pnet.formats.graph import MARKS, Edge, Graph, Node, wrap

COLOURS = {
    State.OK: "#1a7f37",
    State.WARNING: "#9a6700",
    State.ERROR: "#cf222e",
    State.NOT_CHECKED: "#6e7781",
}
ARROWS = {State.OK: "-->", State.WARNING: "-->", State.ERROR: "==>", State.NOT_CHECKED: "-.->"}


def text(value: str) -> str:
    """Text inside a quoted Mermaid label, with the characters Mermaid reads escaped."""
    out = []
    for ch in value:
        if ch in '"#<>;&`{}|':
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def edge_label(edge: Edge) -> str:
    parts = [f"{edge.label} {MARKS[edge.state]}"]
    worst = edge.worst
    if worst is not None:
        parts[0] += f" {worst.kind}"
        parts += wrap(f"fix: {edge.fix}")
    return "<br/>".join(text(p) for p in parts)


def _node_label(node: Node) -> str:
    head = node.label
    if node.state is not None and node.state is not State.NOT_CHECKED:
        head += f" {MARKS[node.state]}"
    lines = [text(head), f"<small>{text(node.kind)}</small>"]
    for f in node.findings:
        lines += [text(line) for line in wrap(f"{f.kind}: fix: {f.fix}")]
    return "<br/>".join(lines)


def render_mermaid(graph: Graph) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = [
        f"%% pnet map of {graph.name} ({graph.platform}): an arrow per variable, "
        "✓ ok, ! warning, ✗ error, · not checked",
        "flowchart LR",
    ]
    for gi, (group, members) in enumerate(graph.groups):
        title = group if group != "global" else "no region"
        lines.append(f'  subgraph g{gi}["{text(title)}"]')
        for name in members:
            node = graph.node(name)
            if node is not None:
                open_, close = ('["', '"]') if node.known else ('(["', '"])')
                lines.append(f"    {ids[name]}{open_}{_node_label(node)}{close}")
        lines.append("  end")
    for edge in graph.edges:
        arrow = ARROWS[edge.state]
        label = edge_label(edge)
        lines.append(f'  {ids[edge.source]} {arrow}|"{label}"| {ids[edge.target]}')
    for i, edge in enumerate(graph.edges):
        colour = COLOURS[edge.state]
        width = "3px" if edge.state is State.ERROR else "1.5px"
        lines.append(f"  linkStyle {i} stroke:{colour},stroke-width:{width},color:{colour}")
    for state, colour in COLOURS.items():
        name = state.value.replace("-", "_")
        lines.append(f"  classDef {name} stroke:{colour},stroke-width:2px")
    for node in graph.nodes:
        if node.state is not None:
            lines.append(f"  class {ids[node.id]} {node.state.value.replace('-', '_')}")
    return "\n".join(lines) + "\n"
