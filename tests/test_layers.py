"""The layer contract covers the whole core: a new core module cannot slip past it."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from tools.layout import package_dirs

ROOT = Path(__file__).resolve().parent.parent
FRONT_ENDS = {"cli", "tui", "__main__", "__init__", "fixtures"}


def core_modules() -> set[str]:
    names = {p.rsplit(".", 1)[1] for p in package_dirs(ROOT) if p.count(".") == 1}
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


def test_no_symlinks_in_the_tree() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "-s"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    links = [line.split("\t", 1)[1] for line in tracked if line.startswith("120000")]
    assert links == []
    on_disk = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("build", "dist")]
        on_disk += [n for n in dirs + files if os.path.islink(os.path.join(folder, n))]
    assert on_disk == []


def test_subpackages_live_in_their_own_folders() -> None:
    dirs = package_dirs(ROOT)
    assert dirs["pnet.probes"] == ROOT / "probes"
    assert dirs["pnet.tui"] == ROOT / "tui"
    assert not (ROOT / "pnet" / "probes").exists()
    assert not (ROOT / "pnet" / "tui").exists()
