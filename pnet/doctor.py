"""`pnet-doctor`: the checks with no UI, for scripts, CI and pre-start hooks."""

from __future__ import annotations

import argparse
import sys

from pnet import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pnet-doctor")
    parser.add_argument("--version", action="version", version=f"pnet-doctor {__version__}")
    parser.parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
