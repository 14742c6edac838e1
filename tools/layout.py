"""The installed layout, read from pyproject.toml: which folder each pnet subpackage lives in.

`[tool.setuptools.package-dir]` maps `pnet.probes` to `probes/` and `pnet.tui` to `tui/`; the
type checker and the import contracts read the real folders under their installed names.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def package_dirs(root: Path = ROOT) -> dict[str, Path]:
    """`{"pnet.probes": ROOT/probes, ...}`: every mapped package whose folder is not its name."""
    with (root / "pyproject.toml").open("rb") as fh:
        config = tomllib.load(fh)
    mapping = config["tool"]["setuptools"]["package-dir"]
    out: dict[str, Path] = {}
    for package, folder in mapping.items():
        if package.replace(".", "/") != folder:
            out[package] = (root / folder).resolve()
    return out


def installed_name(module: str, root: Path = ROOT) -> str:
    """`probes.tcp` (as found on disk) -> `pnet.probes.tcp` (as installed)."""
    for package, folder in package_dirs(root).items():
        local = folder.relative_to(root).as_posix().replace("/", ".")
        if module == local or module.startswith(local + "."):
            return package + module[len(local) :]
    return module
