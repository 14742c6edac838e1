"""YAML loading that remembers line numbers and refuses duplicate keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pnet.errors import InputError

try:
    _BaseLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _BaseLoader = yaml.SafeLoader


class Node(dict[str, Any]):
    """A mapping that knows the line of itself and of each of its keys (1-based).

    `scalars` keeps each scalar value's source text (`yes`, `0755`, `1.10`), for formats
    such as Render Blueprints whose parser keeps that text rather than YAML 1.1's reading.
    """

    line: int
    key_lines: dict[str, int]
    scalars: dict[str, str]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def raw_of(self, key: str) -> str | None:
        """The source text of a scalar value, None for mappings, lists and absent keys."""
        return getattr(self, "scalars", {}).get(key)


class Seq(list[Any]):
    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    out = Node()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
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
        if isinstance(value_node, yaml.ScalarNode):
            out.scalars[key] = value_node.value
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> Seq:
    out = Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
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
        problem = " ".join((exc.problem or exc.context or "invalid YAML").split())
        raise InputError(f"invalid YAML: {problem}", file, line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise InputError(
            f"invalid YAML: character {ord(char):#06x} is not allowed in a YAML file", file, line
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {' '.join(str(exc).split())}", file) from None


def load_file(path: str | Path) -> Any:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", str(path)) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a file", str(path)) from None
    except PermissionError:
        raise InputError("permission denied", str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", str(path)) from None
    return load_text(text, str(path))


def line_of(obj: Any, default: int | None = None) -> int | None:
    return getattr(obj, "line", default)
