"""The layer contract covers the whole core: a new core module cannot slip past it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRONT_ENDS = {"cli", "tui", "__main__", "__init__", "fixtures"}


def core_modules() -> set[str]:
    names = set()
    for entry in (ROOT / "pnet").iterdir():
        if entry.name.startswith(("_", ".")) and entry.name != "__init__.py":
            continue
        if entry.is_dir() and (entry / "__init__.py").exists():
            names.add(entry.name)
        elif entry.suffix == ".py":
            names.add(entry.stem)
    return {f"pnet.{n}" for n in names - FRONT_ENDS}


def test_every_core_module_is_forbidden_to_import_textual() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    ui = next(c for c in contracts if "textual" in c["forbidden_modules"])
    assert core_modules() <= set(ui["source_modules"])
    assert "pnet.probes" in core_modules()
