"""YAML loading that remembers line numbers and refuses duplicate keys.

Whatever it is given, it answers within bounded time and memory, or with one InputError line:
only regular files and standard input (`-`) are read, at most MAX_BYTES; nesting deeper than
MAX_DEPTH, an alias inside itself or aliases that expand past MAX_EXPANDED values are refused
before anything is built; a number too long to be one (or a date that is not one) stays the
text it was written as.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from pnet.errors import InputError, quote_key

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
MAX_DEPTH = 64
"""A workspace description is a few levels deep; 64 leaves room and keeps every reader of
the tree (the sources, the JSON output) far from Python's recursion limit."""
MAX_EXPANDED = 1_000_000
"""Values after aliases are expanded: past this, an alias bomb, not a workspace."""
MAX_NUMBER_CHARS = 1000
"""An integer written with more characters than this is kept as its text: no field of a
workspace holds such a number, and Python converts at most 4,300 digits."""
STDIN = "-"


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
                f"duplicate key {quote_key(key)} (first on line {out.key_lines[key]})",
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


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int | str:
    if len(node.value) > MAX_NUMBER_CHARS:
        return str(node.value)
    try:
        return int(SafeConstructor.construct_yaml_int(loader, node))
    except ValueError:
        return str(node.value)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
    try:
        return SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        return str(node.value)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_tree(root: yaml.Node) -> None:
    """Refuse a node tree too deep, an alias inside the node it names, or aliases that expand
    past MAX_EXPANDED values, without recursion and visiting each node once."""
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    open_nodes = {id(root)}
    stack = [(root, iter(_children(root)))]
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            open_nodes.discard(id(node))
            kids = _children(node)
            height[id(node)] = 1 + max((height[id(k)] for k in kids), default=0)
            size[id(node)] = 1 + sum(size[id(k)] for k in kids)
            if size[id(node)] > MAX_EXPANDED:
                raise InputError(
                    f"aliases here expand to more than {MAX_EXPANDED:,} values: an alias "
                    "bomb, not a workspace description",
                    line=node.start_mark.line + 1,
                )
            continue
        line = child.start_mark.line + 1
        if id(child) in open_nodes:
            raise InputError("an alias refers to the list or mapping it is in", line=line)
        if len(stack) + height.get(id(child), 1) > MAX_DEPTH:
            raise InputError(
                f"nested more than {MAX_DEPTH} levels deep: a workspace description is a "
                "few levels deep",
                line=line,
            )
        if id(child) not in height:
            open_nodes.add(id(child))
            stack.append((child, iter(_children(child))))


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_tree(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_text(text: str, file: str) -> Any:
    try:
        return _load(text)
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


_NOT_A_FILE = {
    stat.S_IFIFO: "is a named pipe, not a file (to read a stream, give `-` and send it to "
    "standard input)",
    stat.S_IFSOCK: "is a socket, not a file",
    stat.S_IFBLK: "is a block device, not a file",
    stat.S_IFDIR: "is a folder, not a file",
}


def read_bytes(path: str | Path) -> bytes:
    """The bytes of a workspace description: a regular file, a device that does not block
    (`/dev/null`), or standard input for `-`; at most MAX_BYTES + 1 of them. Anything that
    could leave the read waiting (a FIFO, a socket, a terminal) is refused at once."""
    where = str(path)
    if where == STDIN:
        return _read_stdin()
    try:
        info = os.stat(path)
        refused = _NOT_A_FILE.get(stat.S_IFMT(info.st_mode))
        if refused:
            raise InputError(refused, where)
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_BYTES:
            raise InputError(_too_large(info.st_size), where)
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
        try:
            mode = os.fstat(fd).st_mode
            refused = _NOT_A_FILE.get(stat.S_IFMT(mode))
            if refused:
                raise InputError(refused, where)
            if os.isatty(fd):
                raise InputError("is a terminal, not a file", where)
            return _read_fd(fd)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise InputError("no such file", where) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", where) from None
    except PermissionError:
        raise InputError("permission denied", where) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", where) from None


def _read_fd(fd: int) -> bytes:
    """Up to MAX_BYTES + 1 bytes; a non-blocking device with nothing more to give ends it."""
    chunks: list[bytes] = []
    total = 0
    while total <= MAX_BYTES:
        try:
            chunk = os.read(fd, min(1 << 16, MAX_BYTES + 1 - total))
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _read_stdin() -> bytes:
    stream = sys.stdin
    if stream is None:
        raise InputError("standard input is closed", STDIN)
    try:
        if os.isatty(stream.fileno()):
            raise InputError(
                "standard input is a terminal: send the file to it (`- < render.yaml`)", STDIN
            )
        return stream.buffer.read(MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise InputError(f"cannot read standard input: {reason}", STDIN) from None


def load_file(path: str | Path) -> Any:
    where = str(path)
    data = read_bytes(path)
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
