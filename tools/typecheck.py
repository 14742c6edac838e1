"""`python -m tools.typecheck [MYPY ARGS]`: mypy on the real folders, under installed names.

mypy names a module by its folder (`probes/tcp.py` is `probes.tcp`); setuptools installs it as
`pnet.probes.tcp`. This runs mypy's own option parsing and build with each source renamed.
"""

from __future__ import annotations

import sys
import time

from mypy import main as mypy_main
from mypy.fscache import FileSystemCache

from tools.layout import installed_name


def main(argv: list[str]) -> int:
    started = time.time()
    fscache = FileSystemCache()
    sources, options = mypy_main.process_options(
        argv, stdout=sys.stdout, stderr=sys.stderr, fscache=fscache
    )
    for source in sources:
        if source.module:
            source.module = installed_name(source.module)
    _, messages, blockers = mypy_main.run_build(
        sources, options, fscache, started, sys.stdout, sys.stderr
    )
    errors = [m for m in messages if ": error:" in m]
    if errors or blockers:
        files = len({m.split(":", 1)[0] for m in errors})
        print(f"Found {len(errors)} errors in {files} files (checked {len(sources)} source files)")
        return 1
    print(f"Success: no issues found in {len(sources)} source files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
