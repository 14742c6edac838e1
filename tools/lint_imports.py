"""`python -m tools.lint_imports`: import-linter's contracts over the real folders.

Grimp finds a package's folder through importlib, which only knows `pnet/`; the subpackages
that live elsewhere (`pnet.probes` in `probes/`, `pnet.tui` in `tui/`) are found here instead.
"""

from __future__ import annotations

import sys
from typing import Any

from grimp.adaptors.packagefinder import ImportLibPackageFinder
from grimp.application.config import settings as grimp_settings

from tools.layout import package_dirs


class _Finder(ImportLibPackageFinder):
    def determine_package_directories(self, package_name: str, file_system: Any) -> set[str]:
        folder = package_dirs().get(package_name)
        if folder is not None:
            return {str(folder)}
        return set(super().determine_package_directories(package_name, file_system))


def main() -> int:
    from importlinter import cli

    grimp_settings.configure(PACKAGE_FINDER=_Finder())
    return int(cli.lint_imports_command.main(standalone_mode=False) or 0)


if __name__ == "__main__":
    sys.exit(main())
