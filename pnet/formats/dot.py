"""The map as Graphviz DOT (`dot -Tsvg` draws it): a cluster per region or environment, an
arrow per variable coloured and labelled by its verdict, its finding's kind and fix; in the
SVG, hovering an arrow shows the whole finding."""

from __future__ import annotations

from pnet.checks import State
from pnet.formats.graph import MARKS, WORDS, Edge, Graph, Node, wrap

COLOURS = {
    State.OK: "#1a7f37",
    State.WARNING: "#9a6700",
    State.ERROR: "#cf222e",
    State.NOT_CHECKED: "#6e7781",
}
STYLES = {
    State.OK: "solid",
    State.WARNING: "solid",
    State.ERROR: "bold",
    State.NOT_CHECKED: "dashed",
}


def quote(value: str) -> str:
    """A DOT string: double quotes and backslashes escaped, each line ended by `\\l`
    (left-aligned)."""
    body = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "\\l".join(body.split("\n")) + ("\\l" if "\n" in value else "") + '"'


def _edge_label(edge: Edge) -> str:
    lines = [f"{edge.label} {MARKS[edge.state]}"]
    worst = edge.worst
    if worst is not None:
        lines[0] += f" {worst.kind}"
        lines += wrap(f"fix: {edge.fix}", 48)
    return "\n".join(lines)


def _tooltip(edge: Edge) -> str:
    lines = [f"{edge.source} → {edge.target}: {edge.label} = {edge.value}", WORDS[edge.state]]
    for f in edge.findings:
        where = f" ({f.location})" if f.location is not None else ""
        lines += [f"{f.severity.value} {f.kind}{where}: {f.message}", f"fix: {f.fix}"]
    if edge.state is State.NOT_CHECKED and edge.why:
        lines.append(f"not checked: {edge.why}")
    return "\n".join(lines)


def _node_label(node: Node) -> str:
    head = node.label
    if node.state is not None and node.state is not State.NOT_CHECKED:
        head += f" {MARKS[node.state]}"
    lines = [head, node.kind]
    for f in node.findings:
        lines += wrap(f"{f.kind}: fix: {f.fix}", 48)
    return "\n".join(lines)


def _node(node: Node, ids: dict[str, str]) -> str:
    attrs = [f"label={quote(_node_label(node))}"]
    if node.state is not None:
        attrs.append(f'color="{COLOURS[node.state]}"')
        if node.state is State.ERROR:
            attrs.append("penwidth=2")
    if not node.known:
        attrs.append('style="dashed,rounded"')
    return f"    {ids[node.id]} [{', '.join(attrs)}];"


def render_dot(graph: Graph) -> str:
    ids = {n.id: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = [
        f"// pnet map of {graph.name} ({graph.platform}): an arrow per variable, "
        "✓ ok, ! warning, ✗ error, · not checked",
        f"digraph {quote(graph.name)} {{",
        "  rankdir=LR;",
        '  graph [fontname="Helvetica", fontsize=11, nodesep=0.3, ranksep=1.2];',
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for gi, (group, members) in enumerate(graph.groups):
        title = group if group != "global" else "no region"
        lines.append(f"  subgraph cluster_{gi} {{")
        lines.append(f"    label={quote(title)};")
        lines.append('    style="rounded"; color="#8c959f";')
        for name in members:
            node = graph.node(name)
            if node is not None:
                lines.append(_node(node, ids))
        lines.append("  }")
    for edge in graph.edges:
        colour = COLOURS[edge.state]
        attrs = [
            f"label={quote(_edge_label(edge))}",
            f'color="{colour}"',
            f'fontcolor="{colour}"',
            f"style={STYLES[edge.state]}",
            f"tooltip={quote(_tooltip(edge))}",
            f"labeltooltip={quote(_tooltip(edge))}",
        ]
        if edge.state is State.ERROR:
            attrs.append("penwidth=2")
        lines.append(f"  {ids[edge.source]} -> {ids[edge.target]} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
