"""Paths as CI systems want them: relative to the repository's root, with `/`."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


def repo_path(file: str, root: str | Path | None = None, cwd: str | Path | None = None) -> str:
    """`file` (as the workspace source named it, from `cwd`) relative to `root` when it lies
    under it, in POSIX form without `./`; otherwise as given."""
    path = Path(file)
    if cwd is not None and not path.is_absolute():
        path = Path(cwd) / path
    if root is not None and path.is_absolute():
        try:
            rel = Path(os.path.normpath(path)).relative_to(Path(os.path.normpath(root)))
        except ValueError:
            return Path(os.path.normpath(path)).as_posix()
        return rel.as_posix()
    return PurePosixPath(os.path.normpath(file).replace(os.sep, "/")).as_posix()
