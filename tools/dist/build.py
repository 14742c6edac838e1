"""`make dist`: pnet as a single file to copy onto an instance.

- `dist/pnet.pyz`: a zipapp of pnet and every dependency (tools/dist/requirements.txt, pinned),
  for any Python 3.11 or later; an older Python gets one line saying so (tools/dist/zipmain.py).
- `dist/pnet`: a standalone Linux x86-64 executable (PyInstaller, pinned in
  tools/dist/build-requirements.txt) that needs no Python at all.

Both start the app as `pnet`, the doctor as `pnet doctor` or under the name `pnet-doctor`
(tools/dist/launcher.py). Everything comes from the package registry (PyPI) through pip, into
`build/dist/`; the build's own venv is kept there, so a second build is quicker.

    python -m tools.dist.build [--out DIR] [--only pyz|exe]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import venv
import zipapp
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
WORK = ROOT / "build" / "dist"
REQUIREMENTS = HERE / "requirements.txt"
BUILD_REQUIREMENTS = HERE / "build-requirements.txt"
MINIMUM = (3, 11)
STEP_TIMEOUT_S = 1200


def run(*cmd: str | Path, cwd: Path = ROOT) -> None:
    subprocess.run([str(c) for c in cmd], cwd=cwd, check=True, timeout=STEP_TIMEOUT_S)


def pip(python: Path, *args: str | Path) -> None:
    run(python, "-m", "pip", "--disable-pip-version-check", "--quiet", *args)


def build_venv(work: Path) -> Path:
    """The build's venv: the pinned dependencies, pnet itself, PyInstaller."""
    folder = work / "venv"
    python = folder / "bin" / "python"
    stamp = folder / ".stamp"
    want = hashlib.sha256(REQUIREMENTS.read_bytes() + BUILD_REQUIREMENTS.read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        shutil.rmtree(folder, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(folder)
        pip(python, "install", "--only-binary=:all:", "--no-deps", "-r", REQUIREMENTS)
        pip(python, "install", "--only-binary=:all:", "-r", BUILD_REQUIREMENTS)
        stamp.write_text(want)
    pip(python, "install", "--no-deps", "--force-reinstall", ROOT)
    return python


def build_pyz(python: Path, work: Path, out: Path) -> Path:
    """The zipapp: `lib/` holds pnet and its dependencies, unpacked on first start."""
    stage = work / "pyz"
    shutil.rmtree(stage, ignore_errors=True)
    lib = stage / "lib"
    target: list[str | Path] = ["install", "--no-compile", "--no-deps", "--target", lib]
    pip(python, *target, "--only-binary=:all:", "-r", REQUIREMENTS)
    pip(python, *target, ROOT)
    shutil.copy(HERE / "launcher.py", lib / "launcher.py")
    shutil.copy(HERE / "zipmain.py", stage / "__main__.py")
    for cache in lib.rglob("__pycache__"):
        shutil.rmtree(cache)
    shutil.rmtree(lib / "bin", ignore_errors=True)
    digest = hashlib.sha256()
    for path in sorted(p for p in lib.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(lib)).encode() + b"\0" + path.read_bytes())
    (stage / "pnet-build-id").write_text(digest.hexdigest()[:16] + "\n")
    result = out / "pnet.pyz"
    zipapp.create_archive(stage, result, interpreter="/usr/bin/env python3", compressed=True)
    return result


def build_exe(python: Path, work: Path, out: Path) -> Path:
    """The standalone executable: one file that unpacks Python and pnet at each start.

    PyInstaller runs on a copy of the launcher in the work folder: beside tools/__init__.py
    it would add the checkout to its search path, and the source tree's `pnet/` (which lacks
    the `pnet.tui` and `pnet.probes` that setuptools maps in) would hide the installed one."""
    pyinstaller = python.parent / "pyinstaller"
    entry = work / "entry"
    entry.mkdir(exist_ok=True)
    shutil.copy(HERE / "launcher.py", entry / "launcher.py")
    collect = []
    for package in ("pnet", "textual", "rich", "dns", "pygments"):
        collect += ["--collect-submodules", package]
    for package in ("pnet", "textual"):
        collect += ["--collect-data", package]
    run(
        pyinstaller,
        "--noconfirm",
        "--log-level=WARN",
        "--onefile",
        "--name",
        "pnet",
        "--distpath",
        work / "exe",
        "--workpath",
        work / "pyinstaller",
        "--specpath",
        work,
        *collect,
        entry / "launcher.py",
        cwd=work,
    )
    result = out / "pnet"
    shutil.copy(work / "exe" / "pnet", result)
    return result


def glibc_needed(python: Path) -> str:
    """The newest glibc symbol version the executable's libraries ask for: it runs on a
    Linux whose glibc is at least that (what this machine's Python was built against)."""
    folders = [
        Path(sysconfig.get_config_var("LIBDIR") or "/nonexistent"),
        Path(sysconfig.get_path("platstdlib")) / "lib-dynload",
        python.parent.parent / "lib",
    ]
    newest = (2, 0)
    for folder in folders:
        for path in folder.rglob("*.so*") if folder.is_dir() else []:
            if not path.is_file():
                continue
            for major, minor in re.findall(rb"GLIBC_(\d+)\.(\d+)", path.read_bytes()):
                newest = max(newest, (int(major), int(minor)))
    return f"{newest[0]}.{newest[1]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.dist.build", description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "dist"), metavar="DIR")
    parser.add_argument("--work", default=str(WORK), metavar="DIR")
    parser.add_argument("--only", choices=("pyz", "exe"))
    args = parser.parse_args(argv)
    if sys.version_info < MINIMUM:
        print(
            f"make dist: error: building needs Python {MINIMUM[0]}.{MINIMUM[1]}+ "
            f"(this is {sys.version.split()[0]}): PYTHON=python3.11 make dist",
            file=sys.stderr,
        )
        return 2
    out, work = Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    python = build_venv(work)
    made: list[tuple[Path, float]] = []
    if args.only in (None, "pyz"):
        step = time.monotonic()
        made.append((build_pyz(python, work, out), time.monotonic() - step))
    if args.only in (None, "exe"):
        step = time.monotonic()
        made.append((build_exe(python, work, out), time.monotonic() - step))
    for path, seconds in made:
        os.chmod(path, 0o755)
        size = path.stat().st_size / 1e6
        needs = "Python 3.11+" if path.suffix == ".pyz" else f"glibc {glibc_needed(python)}+"
        print(f"{path}  {size:.1f} MB, needs {needs}  ({seconds:.0f} s)")
    print(f"make dist: done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
