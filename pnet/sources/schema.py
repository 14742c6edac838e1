"""Strict readers for YAML mappings: each error names the file, the line and what was expected."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any, NoReturn

from pnet.argcheck import digits
from pnet.errors import QUOTE_UP_TO, InputError, quote, quote_key
from pnet.yamlload import Node, Seq

LIST_KEYS_UP_TO = 12


class Reader:
    """Reads typed fields out of a mapping and reports mistakes as `FILE:LINE: ...`."""

    def __init__(self, file: str, *, source_text: bool = False) -> None:
        """With `source_text`, a string field takes any scalar as its source text (`off`,
        `0755`, `1.10`), as a YAML 1.2 reader such as Render's does."""
        self.file = file
        self.source_text = source_text

    def fail(self, message: str, where: Any = None, key: str | None = None) -> NoReturn:
        line: int | None = None
        if isinstance(where, Node) and key is not None:
            line = where.line_of(key)
        elif isinstance(where, Node | Seq):
            line = where.line
        elif isinstance(where, int):
            line = where
        raise InputError(message, self.file, line)

    def mapping(self, value: Any, what: str, where: Any = None) -> Node:
        if not isinstance(value, Node):
            self.fail(f"{what} must be a mapping, not {type_name(value)}", where)
        return value

    def sequence(self, value: Any, what: str, where: Any = None) -> Seq:
        if not isinstance(value, Seq):
            self.fail(f"{what} must be a list, not {type_name(value)}", where)
        return value

    def check_keys(
        self, node: Node, allowed: Iterable[str], what: str, reference: str | None = None
    ) -> None:
        """Refuse keys outside `allowed`; long lists suggest the closest keys instead."""
        allowed = tuple(allowed)
        for key in node:
            if key in allowed:
                continue
            if len(allowed) <= LIST_KEYS_UP_TO:
                hint = f"expected one of: {', '.join(allowed)}"
            else:
                close = difflib.get_close_matches(str(key), allowed, n=3, cutoff=0.6)
                if not close:
                    lowered = {a.lower(): a for a in allowed}
                    close = [lowered[str(key).lower()]] if str(key).lower() in lowered else []
                hint = (
                    f"did you mean {' or '.join(repr(c) for c in close)}?"
                    if close
                    else f"not one of the {len(allowed)} keys of {reference or what}"
                )
            self.fail(f"unknown key {quote_key(key)} in {what} ({hint})", node, key)

    def require(self, node: Node, key: str, what: str) -> Any:
        if key not in node or node[key] is None:
            self.fail(f"{what} needs {key!r}", node)
        return node[key]

    def string(self, node: Node, key: str, what: str, default: str | None = None) -> str | None:
        if key not in node or node[key] is None:
            return default
        value = node[key]
        if self.source_text and not isinstance(value, str):
            raw = node.raw_of(key)
            if raw is not None:
                return raw
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.fail(f"{key!r} of {what} must be a string, not {type_name(value)}", node, key)
        return str(value)

    def integer(
        self,
        node: Node,
        key: str,
        what: str,
        default: int | None = None,
        low: int = 0,
        high: int | None = None,
    ) -> int | None:
        if key not in node or node[key] is None:
            return default
        value = node[key]
        if isinstance(value, str) and digits(value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(
                f"{key!r} of {what} must be a whole number, not {type_name(value)}", node, key
            )
        if value < low or (high is not None and value > high):
            bound = f"{low} to {high}" if high is not None else f"at least {low}"
            self.fail(f"{key!r} of {what} must be {bound}, not {value}", node, key)
        return value

    def boolean(self, node: Node, key: str, what: str, default: bool = False) -> bool:
        if key not in node or node[key] is None:
            return default
        value = node[key]
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
            return value.lower() in ("true", "yes", "on")
        if not isinstance(value, bool):
            self.fail(f"{key!r} of {what} must be true or false, not {type_name(value)}", node, key)
        return value

    def choice(
        self, node: Node, key: str, what: str, choices: Iterable[str], default: str | None = None
    ) -> str | None:
        value = self.string(node, key, what, default)
        choices = tuple(choices)
        if value is not None and value not in choices:
            self.fail(
                f"{key!r} of {what} is {quote(value)}, expected one of: {', '.join(choices)}",
                node,
                key,
            )
        return value

    def pick(self, node: Node, key: str, what: str, choices: Iterable[str], default: str) -> str:
        """Like `choice`, with a default, so the answer is always a string."""
        return self.choice(node, key, what, choices, default) or default

    def port(self, value: Any, what: str, where: Any) -> int:
        if isinstance(value, str) and digits(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            self.fail(f"{what} must be a port from 1 to 65535, not {quote(value)}", where)
        return value

    def ports(self, node: Node, key: str, what: str) -> tuple[int, ...] | None:
        if key not in node or node[key] is None:
            return None
        raw = node[key]
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw_list: list[Any] = [raw]
            lines = [node.line_of(key)]
        else:
            seq = self.sequence(raw, f"{key!r} of {what}", node.line_of(key))
            raw_list = list(seq)
            lines = [seq.line_of(i) for i in range(len(seq))]
        return tuple(
            self.port(v, f"{key!r} of {what}", line)
            for v, line in zip(raw_list, lines, strict=True)
        )

    def strings(self, node: Node, key: str, what: str) -> tuple[str, ...] | None:
        if key not in node or node[key] is None:
            return None
        seq = self.sequence(node[key], f"{key!r} of {what}", node.line_of(key))
        out = []
        for i, v in enumerate(seq):
            if not isinstance(v, str | int | float) or isinstance(v, bool):
                self.fail(f"items of {key!r} in {what} must be strings", seq.line_of(i))
            out.append(str(v))
        return tuple(out)


def scalar_text(value: Any) -> str:
    """An env var value as the platform would store it: YAML 1.1 booleans and numbers as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {quote(value)}" if len(value) <= QUOTE_UP_TO else quote(value)
    return type(value).__name__
