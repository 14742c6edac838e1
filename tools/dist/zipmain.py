# pnet as a zipapp: pnet and every dependency it needs, textual included. The compiled parts
# (psutil, PyYAML's libyaml binding) are for Linux x86-64; elsewhere PyYAML falls back to pure
# Python. pnet needs Python 3.11 or later: on an older one this says so and names the
# standalone executable, which needs no Python.
#
# This file is written for any Python 3 to read, so that the message above is what an old one
# prints. On first start the archive's `lib/` is unpacked once into a cache folder
# ($PNET_CACHE_DIR, else $XDG_CACHE_HOME/pnet, else ~/.cache/pnet; a private folder under the
# temporary folder when none is writable), named by the build's id; later starts use it.
from __future__ import annotations

import os
import sys
from typing import NoReturn

MINIMUM = (3, 11)


def _fail(message: str) -> NoReturn:
    sys.stderr.write("pnet: error: " + message + "\n")
    sys.exit(2)


def _usable(folder: str) -> bool:
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except OSError:
        return False
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return mine and not info.st_mode & 0o022 and os.access(folder, os.W_OK)


def _cache_root() -> str:
    import tempfile

    given = os.environ.get("PNET_CACHE_DIR")
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    uid = os.getuid() if hasattr(os, "getuid") else 0
    fallback = os.path.join(tempfile.gettempdir(), f"pnet-{uid}")
    for folder in (given, os.path.join(xdg, "pnet"), fallback):
        if folder and _usable(folder):
            return folder
    _fail("no writable folder to unpack pnet into: set PNET_CACHE_DIR to one")


def _unpack(archive: str) -> str:
    import shutil
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        build = zf.read("pnet-build-id").decode().strip()
        target = os.path.join(_cache_root(), "pyz-" + build)
        if os.path.exists(os.path.join(target, ".complete")):
            return target
        partial = f"{target}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        for member in zf.namelist():
            if member.startswith("lib/") and not member.endswith("/"):
                zf.extract(member, partial)
        open(os.path.join(partial, "lib", ".complete"), "w").close()
    try:
        os.rename(os.path.join(partial, "lib"), target)
    except OSError:
        if not os.path.exists(os.path.join(target, ".complete")):
            raise
    shutil.rmtree(partial, ignore_errors=True)
    return target


def main() -> int:
    if sys.version_info < MINIMUM:
        _fail(
            f"pnet.pyz needs Python {MINIMUM[0]}.{MINIMUM[1]} or later, and this is Python "
            f"{sys.version.split()[0]} ({sys.executable}); use the standalone executable "
            "`pnet`, which needs no Python"
        )
    archive = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, _unpack(archive))
    from launcher import main as launch  # type: ignore[import-not-found]

    result: int = launch()
    return result


if __name__ == "__main__":
    sys.exit(main())
