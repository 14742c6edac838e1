"""Where a Blueprint states each thing a finding can be about: the line and column of a
resource's keys and of each `ipAllowList` entry, for annotations on the changed lines."""

from __future__ import annotations

from pnet.yamlload import Node, Seq

Spots = tuple[tuple[str, int, int], ...]

SPOT_KEYS = ("buildCommand", "startCommand", "dockerCommand", "ipAllowList")
"""The keys of a resource a finding's fix changes (the rest point at the resource itself)."""


def resource_spots(node: Node) -> Spots:
    """The keys of a `services:` or `databases:` entry a fix changes, as (key, line, column),
    and each `ipAllowList` entry as `ipAllowList[i]` at its `source`."""
    out: list[tuple[str, int, int]] = []
    for key in SPOT_KEYS:
        if key in node:
            line, column = node.spot(key)
            out.append((key, line, column))
    allow = node.get("ipAllowList")
    if isinstance(allow, Seq):
        for i, item in enumerate(allow):
            line, column = item.spot("source") if isinstance(item, Node) else allow.spot(i)
            out.append((f"ipAllowList[{i}]", line, column))
    return tuple(out)


def var_spot(var: Node) -> tuple[int, int]:
    """Where a finding about an env var entry points: its `fromService` / `fromDatabase` /
    `fromGroup` block for a reference, else its `key`."""
    for key in ("fromService", "fromDatabase", "fromGroup", "key"):
        if key in var:
            return var.spot(key)
    return var.spot()
