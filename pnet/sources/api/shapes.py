"""Reading the APIs' JSON defensively: anything may be missing, null or of another type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pnet.errors import SourceError


def expect(value: Any, kind: type, what: str, host: str) -> Any:
    """`value` if it is a `kind` (list or dict), else the one-line error an odd answer gets."""
    if not isinstance(value, kind):
        expected = "a list" if kind is list else "an object"
        raise SourceError(f"{what}: unexpected answer (expected {expected})", host)
    return value


def text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    out = str(value)
    return out or None


def integer(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def port(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    return None


def nested(node: Any, *keys: str) -> Any:
    value: Any = node
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def edges(connection: Any) -> list[dict[str, Any]]:
    """The nodes of a GraphQL connection `{edges: [{node: {...}}]}`."""
    if not isinstance(connection, dict):
        return []
    out = []
    for edge in as_list(connection.get("edges")):
        node = edge.get("node") if isinstance(edge, dict) else None
        if isinstance(node, dict):
            out.append(node)
    return out


def variables(value: Any) -> dict[str, str]:
    """A variables map (`{KEY: value}`) with every value a string."""
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def cidrs(entries: list[Any]) -> tuple[str, ...]:
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            block = entry.get("cidrBlock") or entry.get("source")
            if isinstance(block, str) and block:
                out.append(block)
    return tuple(out)
