"""The entry of pnet as a single file (the zipapp and the standalone executable).

`pnet ...` is the app (and `pnet lab`), `pnet doctor ...` the doctor, and so is the file
started under a name beginning `pnet-doctor` (a link: `ln -s pnet pnet-doctor`).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    name = os.path.basename(sys.argv[0])
    if name.startswith("pnet-doctor") or args[:1] == ["doctor"]:
        from pnet.doctor import main as doctor

        return doctor(args[1:] if args[:1] == ["doctor"] else args)
    from pnet.cli import main as app

    return app(args)


if __name__ == "__main__":
    sys.exit(main())
