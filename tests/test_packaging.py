"""The wheel holds the whole tree under `pnet`, installs, and the doctor runs without Textual."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Source folder -> where its files live inside the wheel.
LAYOUT = {"pnet": "pnet", "probes": "pnet/probes", "tui": "pnet/tui", "fixtures": "pnet/fixtures"}
DATA_SUFFIXES = (".py", ".tcss", ".yaml")
TIMEOUT = 120


def _source_files() -> set[str]:
    """Every module and data file of the source tree, named as the wheel must hold it."""
    out = set()
    for folder, target in LAYOUT.items():
        for path in (ROOT / folder).rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix in DATA_SUFFIXES:
                out.add(f"{target}/{path.relative_to(ROOT / folder).as_posix()}")
    return out


def _setuptools_version() -> tuple[int, ...]:
    try:
        text = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return (0,)
    return tuple(int(p) for p in text.split(".")[:2] if p.isdigit())


def _can_build_offline() -> bool:
    """Setuptools 70.1+ builds wheels itself; older ones need the `wheel` package."""
    return _setuptools_version() >= (70, 1) or importlib.util.find_spec("wheel") is not None


def _fit_license_to_setuptools(pyproject: Path) -> None:
    """Setuptools before 77 reads `license` only as a table: give it `{text = ...}` there.

    The build runs without isolation (no download), so it uses the installed setuptools.
    """
    if _setuptools_version() >= (77,):
        return
    text = pyproject.read_text()
    fitted = re.sub(r'^license = "([^"]+)"$', r'license = {text = "\1"}', text, flags=re.M)
    pyproject.write_text(fitted)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the tree, so the checkout gets no build/ or egg-info."""
    if not _can_build_offline():
        pytest.skip("building a wheel offline needs setuptools>=70.1 (or wheel) installed")
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    _fit_license_to_setuptools(src / "pyproject.toml")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in LAYOUT:
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    out = work / "dist"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(out),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = out.glob("pnet-*.whl")
    return built


def test_wheel_holds_every_module_and_data_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    missing = sorted(_source_files() - names)
    assert not missing, f"not in the wheel: {missing}"
    assert "pnet/tui/app.tcss" in names
    assert "pnet/fixtures/render-acme.yaml" in names
    assert any(n.startswith("pnet/fixtures/blueprints/") for n in names)
    assert not any(n.startswith(("tui/", "probes/", "fixtures/")) for n in names)
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    with zipfile.ZipFile(wheel) as zf:
        scripts = zf.read(entry_points).decode()
    assert "pnet = pnet.cli:main" in scripts
    assert "pnet-doctor = pnet.doctor:main" in scripts


def test_wheel_installs_and_runs(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)],
        check=True,
        timeout=TIMEOUT,
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    # The dependencies come from the project's environment; pnet itself only from the wheel.
    env = dict(os.environ, PYTHONPATH=sysconfig.get_paths()["purelib"], NO_COLOR="1")
    doctor = subprocess.run(
        [str(venv / "bin" / "pnet-doctor"), "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    assert doctor.returncode == 0, doctor.stderr
    assert "pnet-doctor" in doctor.stdout
    probe = subprocess.run(
        [
            str(python),
            "-c",
            "import pnet, pnet.probes, pnet.tui, pnet.sources.blueprint, pnet.fixtures\n"
            "from importlib.resources import files\n"
            "print(pnet.__file__)\n"
            "print((files('pnet.fixtures') / 'render-acme.yaml').is_file())\n"
            "print((files('pnet.tui') / 'app.tcss').is_file())\n"
            "print(any((files('pnet.fixtures') / 'blueprints').iterdir()))\n",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=TIMEOUT,
    )
    assert probe.returncode == 0, probe.stderr
    where, fixture, tcss, blueprints = probe.stdout.split()
    assert Path(where).is_relative_to(venv)
    assert (fixture, tcss, blueprints) == ("True", "True", "True")


def test_doctor_does_not_import_textual(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pnet.doctor import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', "
        "'pnet.tui'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=TIMEOUT,
        env=dict(os.environ, NO_COLOR="1"),
    )
    assert done.returncode == 0, done.stderr
    assert "pnet-doctor" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_doctor_entry_point_import_time_has_no_textual(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pnet.doctor", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=TIMEOUT,
        env=dict(os.environ, NO_COLOR="1"),
    )
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "pnet" in imported and "pnet.errors" in imported
    assert not {m for m in imported if m == "textual" or m.startswith(("textual.", "pnet.tui"))}
