"""`make dist`: the standalone executable runs where there is no Python at all, the zipapp runs
on Python 3.11+ and says in one line what to use on an older one.

These use dist/pnet and dist/pnet.pyz as `make dist` left them (CI runs it before the tests:
building needs the package registry, which the tests' network namespace cannot reach), and
skip, saying so, when they are missing or older than the sources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "dist"
EXE = DIST / "pnet"
PYZ = DIST / "pnet.pyz"
SOURCES = ("pnet", "probes", "tui", "fixtures", "tools/dist", "pyproject.toml")
PYENV = Path("/root/.pyenv/versions")


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files if "__pycache__" not in p.parts)])
    return newest


def _built(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is missing: run `make dist` first")
    if path.stat().st_mtime < _newest_source():
        pytest.skip(f"{path.relative_to(ROOT)} is older than the sources: run `make dist` again")
    return path


def _python(version: str) -> Path | None:
    for folder in sorted(PYENV.glob(f"{version}.*")) if PYENV.is_dir() else []:
        candidate = folder / "bin" / "python3"
        if candidate.exists():
            return candidate
    found = shutil.which(f"python{version}")
    return Path(found) if found else None


# What runs inside the sandbox: a shell script, since no Python is left there.
NO_PYTHON = r"""
set -e
ip link set lo up
for d in /root/.pyenv /usr/lib/python3 /usr/local/lib/python3; do
    [ -d "$d" ] && mount -t tmpfs pnet-no-python "$d"
done
for f in /usr/bin/python* /usr/local/bin/python* /bin/python*; do
    [ -e "$f" ] && mount --bind /dev/null "$f"
done
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
if command -v python3 || command -v python; then echo "a Python is left" >&2; exit 90; fi
exe="$1"; fixtures="$2"; out="$3"
"$exe" --version > "$out/version"
set +e
"$exe" doctor --workspace "$fixtures/render-acme.yaml" --offline --from api --format json \
    > "$out/offline.json"
echo $? > "$out/offline.rc"
ln -s "$exe" "$out/pnet-doctor"
"$out/pnet-doctor" --explain wrong-port > "$out/explain" 2>&1
echo $? > "$out/explain.rc"
"$exe" lab "$fixtures/render-healthy.yaml" > "$out/lab" 2> "$out/lab.err" &
lab=$!
for i in $(seq 100); do grep -q '^nameserver ' "$out/lab" && break; sleep 0.1; done
ns=$(head -1 "$out/lab" | cut -d' ' -f2)
"$exe" doctor --workspace "$fixtures/render-healthy.yaml" --nameserver "$ns" --from api \
    > "$out/live" 2>&1
echo $? > "$out/live.rc"
if command -v tmux > /dev/null; then
    sock="pnetdist$$"
    tmux -L "$sock" new-session -d -x 110 -y 32 "$exe --workspace $fixtures/render-acme.yaml"
    for i in $(seq 100); do
        tmux -L "$sock" capture-pane -p > "$out/screen" 2>/dev/null
        grep -q 'frankfurt' "$out/screen" && break
        sleep 0.1
    done
    tmux -L "$sock" send-keys q
    for i in $(seq 50); do tmux -L "$sock" has-session 2>/dev/null || break; sleep 0.1; done
    tmux -L "$sock" kill-server 2>/dev/null
fi
kill -INT $lab
wait $lab
echo $? > "$out/lab.rc"
"""


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="the sandbox without Python needs root and unshare",
)
def test_the_executable_runs_where_there_is_no_python(tmp_path: Path) -> None:
    exe = _built(EXE)
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--net",
            "--",
            "sh",
            "-c",
            NO_PYTHON,
            "sh",
            str(exe),
            str(ROOT / "fixtures"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (out / "version").read_text().strip().startswith("pnet ")
    report = json.loads((out / "offline.json").read_text())
    assert report["version"] == 1 and report["source"]["name"] == "api"
    assert (out / "offline.rc").read_text().strip() == "1"
    assert (out / "explain.rc").read_text().strip() == "0"
    assert "wrong-port" in (out / "explain").read_text()
    assert (out / "live.rc").read_text().strip() == "0", (out / "live").read_text()
    assert (out / "lab.rc").read_text().strip() == "0", (out / "lab.err").read_text()
    if shutil.which("tmux"):
        screen = (out / "screen").read_text()
        assert "oregon" in screen and "frankfurt" in screen, screen


def test_the_zipapp_runs_on_python_3_11_and_later(tmp_path: Path) -> None:
    pyz = _built(PYZ)
    env = {**os.environ, "PNET_CACHE_DIR": str(tmp_path / "cache")}
    ran = 0
    for version in ("3.11", "3.12", "3.13"):
        python = _python(version)
        if python is None:
            continue
        done = subprocess.run(
            [
                str(python),
                str(pyz),
                "doctor",
                "--workspace",
                str(ROOT / "fixtures" / "render-acme.yaml"),
                "--offline",
                "--format",
                "json",
                "--from",
                "api",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert done.returncode == 1, (version, done.stderr)
        assert json.loads(done.stdout)["source"]["name"] == "api"
        ran += 1
    assert ran, "no Python 3.11+ to run the zipapp with"
    (unpacked,) = (tmp_path / "cache").iterdir()
    assert unpacked.name.startswith("pyz-") and (unpacked / ".complete").exists()


@pytest.mark.parametrize("version", ["3.9", "3.10"])
def test_an_older_python_is_told_what_to_use_in_one_line(tmp_path: Path, version: str) -> None:
    pyz = _built(PYZ)
    python = _python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine")
    done = subprocess.run(
        [str(python), str(pyz), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PNET_CACHE_DIR": str(tmp_path)},
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    expected = f"pnet: error: pnet.pyz needs Python 3.11 or later, and this is Python {version}"
    assert line.startswith(expected)
    assert "standalone executable" in line
    assert not list(tmp_path.iterdir())


def test_the_launcher_picks_the_doctor_by_name_or_word(monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.dist import launcher

    seen: list[tuple[str, list[str]]] = []

    def doctor(args: list[str]) -> int:
        seen.append(("doctor", args))
        return 0

    def app(args: list[str]) -> int:
        seen.append(("app", args))
        return 0

    monkeypatch.setattr("pnet.doctor.main", doctor)
    monkeypatch.setattr("pnet.cli.main", app)
    monkeypatch.setattr(sys, "argv", ["/tmp/pnet"])
    launcher.main(["doctor", "--offline"])
    launcher.main(["--demo"])
    monkeypatch.setattr(sys, "argv", ["/usr/local/bin/pnet-doctor"])
    launcher.main(["--all"])
    assert seen == [("doctor", ["--offline"]), ("app", ["--demo"]), ("doctor", ["--all"])]
