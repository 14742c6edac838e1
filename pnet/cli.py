"""`pnet`: the app (and `pnet lab`). Textual is imported only when the app opens."""

from __future__ import annotations

import argparse
import sys

from pnet import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pnet", description="Explore and debug a Render or Railway private network."
    )
    parser.add_argument("--version", action="version", version=f"pnet {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    build_parser().parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
