"""YAML loading that remembers line numbers and refuses duplicate keys."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

from pnet.errors import InputError

try:
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader


class Node(dict[str, Any]):
    """A mapping that knows the line and column of itself and of each of its keys (1-based).

    `scalars` keeps each scalar value's source text (`yes`, `0755`, `1.10`), for formats
    such as Render Blueprints whose parser keeps that text rather than YAML 1.1's reading.
    """

    line: int
    key_lines: dict[str, int]
    scalars: dict[str, str]
    column: int = 1
    key_columns: dict[str, int]
    value_spans: dict[str, tuple[int, int, int, int]]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def spot(self, key: str | None = None) -> tuple[int, int]:
        """The line and column of a key (of the mapping itself without one, or when absent)."""
        columns = getattr(self, "key_columns", {})
        if key is not None and key in self.key_lines and key in columns:
            return self.key_lines[key], columns[key]
        return self.line, self.column

    def span_of(self, key: str) -> tuple[int, int, int, int] | None:
        """Where a scalar value is written: its first line and column, and the line and column
        just past its end (quotes included); None for mappings, lists and absent keys."""
        return getattr(self, "value_spans", {}).get(key)

    def raw_of(self, key: str) -> str | None:
        """The source text of a scalar value, None for mappings, lists and absent keys."""
        return getattr(self, "scalars", {}).get(key)


class Seq(list[Any]):
    line: int
    item_lines: list[int]
    column: int = 1
    item_columns: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line

    def spot(self, index: int) -> tuple[int, int]:
        """The line and column of an item (of the list itself past its end)."""
        columns = getattr(self, "item_columns", [])
        if index < len(self.item_lines) and index < len(columns):
            return self.item_lines[index], columns[index]
        return self.line, self.column


MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_BYTES = 2 * 1024 * 1024
"""A workspace description larger than this is refused: a Blueprint of this size already
describes some 17,000 services, and loading much more takes minutes and gigabytes."""


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    out = Node()
    out.line = node.start_mark.line + 1
    out.column = node.start_mark.column + 1
    out.key_lines = {}
    out.key_columns = {}
    out.value_spans = {}
    out.scalars = {}
    # Keys written in this mapping may not repeat; keys brought in by a `<<` merge are
    # overridden by the ones written here, as YAML's merge rule says.
    explicit = {id(k) for k, _ in node.value if k.tag != MERGE_TAG}
    loader.flatten_mapping(node)
    written: set[str] = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key).lower() if isinstance(key, bool) else str(key)
        here = id(key_node) in explicit
        if key in written and here:
            raise InputError(
                f"duplicate key {key!r} (first on line {out.key_lines[key]})",
                line=key_node.start_mark.line + 1,
            )
        out[key] = loader.construct_object(value_node, deep=True)
        if here:
            written.add(key)
        out.key_lines[key] = key_node.start_mark.line + 1
        out.key_columns[key] = key_node.start_mark.column + 1
        if isinstance(value_node, yaml.ScalarNode):
            out.scalars[key] = value_node.value
            start, end = value_node.start_mark, value_node.end_mark
            out.value_spans[key] = (start.line + 1, start.column + 1, end.line + 1, end.column + 1)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> Seq:
    out = Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.column = node.start_mark.column + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    out.item_columns = [child.start_mark.column + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_text(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)
    except InputError as exc:
        exc.file = file
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise InputError(f"invalid YAML: {_explain(exc, text, line)}", file, line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise InputError(
            f"invalid YAML: character {ord(char):#06x} is not allowed in a YAML file", file, line
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {' '.join(str(exc).split())}", file) from None


def _explain(exc: yaml.MarkedYAMLError, text: str, line: int | None) -> str:
    """PyYAML's problem in words a person can act on."""
    problem = " ".join((exc.problem or exc.context or "invalid YAML").split())
    lines = text.splitlines()
    here = lines[line - 1] if line is not None and 0 < line <= len(lines) else ""
    indent = here[: len(here) - len(here.lstrip(" \t"))]
    if "\t" in indent and "cannot start any token" in problem:
        return "a tab indents this line; YAML indents with spaces only"
    if (exc.context or "").startswith("expected a single document"):
        return (
            "a second YAML document starts here (`---`); a workspace description is one "
            "document: remove this `---` and what follows it, or merge the two"
        )
    return problem


def load_file(path: str | Path) -> Any:
    p = Path(path)
    where = str(path)
    try:
        info = p.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError("is a folder, not a file", where)
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_BYTES:
            raise InputError(_too_large(info.st_size), where)
        with p.open("rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError("no such file", where) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", where) from None
    except PermissionError:
        raise InputError("permission denied", where) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where) from None
    if len(data) > MAX_BYTES:
        raise InputError(
            f"more than {_size(MAX_BYTES)}: too large for a workspace description",
            where,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError("not a UTF-8 text file", where, line) from None
    return load_text(text.replace("\r\n", "\n").replace("\r", "\n"), where)


def _too_large(size: int) -> str:
    return f"{_size(size)} is too large for a workspace description (at most {_size(MAX_BYTES)})"


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MiB"
    return f"{size / 1024:.1f} KiB"
