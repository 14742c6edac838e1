"""`pnet lab --netns` run in a sandbox, and what it leaves behind.

`run(scenario, fixture, folder)` starts `python -m tests.netns_sandbox SCENARIO FIXTURE` in
fresh mount and network namespaces (`unshare --mount --net`) with a tmpfs on `/run`, an
overlay on `/etc` and a tmpfs on `/etc/netns` (where other labs on this machine would show
through the overlay): inside, `ip netns list`, `/run/netns`, `/run/pnet-lab` and `/etc/netns` are
the sandbox's own, so what a lab leaves can be compared exactly, whatever other labs run on
this machine; and the network namespace the lab is started in, the "caller's", is a
throwaway one whose links, addresses, routes and rules can be compared too.

Inside, the scenario starts `pnet lab --netns FIXTURE` as a person would, takes snapshots
before, while it runs and after, and prints them as JSON on its last line. Every wait is
bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE = Path("/run/pnet-lab")
START_S = 30.0
STOP_S = 30.0

SETUP = """set -e
mount -t tmpfs pnet-sandbox-run /run
mount -t tmpfs pnet-sandbox-etc "$1"
mkdir "$1/up" "$1/work"
mount -t overlay pnet-sandbox-etc -o lowerdir=/etc,upperdir="$1/up",workdir="$1/work" /etc
mkdir -p /etc/netns
mount -t tmpfs pnet-sandbox-etc-netns /etc/netns
ip link set lo up
shift
exec "$@"
"""


def run(scenario: str, fixture: str, folder: Path, timeout: float = 120.0) -> dict[str, Any]:
    """Run one scenario in a sandbox; its result (snapshots, exit codes, stderr)."""
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--net",
        "--",
        "sh",
        "-c",
        SETUP,
        "sh",
        str(folder),
        sys.executable,
        "-m",
        "tests.netns_sandbox",
        scenario,
        fixture,
    ]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise AssertionError(f"sandbox {scenario}: exit {done.returncode}: {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# ---- inside the sandbox ---------------------------------------------------------------------


def _out(*cmd: str) -> list[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    return sorted(line.strip() for line in done.stdout.splitlines() if line.strip())


def _files(root: str) -> list[str]:
    out = []
    for folder, dirs, files in os.walk(root):
        out.append(folder)
        out += [os.path.join(folder, f) for f in files]
        dirs.sort()
    return sorted(out)


def _mounts() -> list[str]:
    out = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        sep = fields.index("-")
        out.append(" ".join([fields[3], fields[4], fields[sep + 1], fields[sep + 2]]))
    return sorted(out)


def caller() -> dict[str, list[str]]:
    """The network namespace the lab runs in, as `ip` shows it."""
    return {
        "links": _out("ip", "-o", "link", "show"),
        "addresses": _out("ip", "-o", "address", "show"),
        "routes4": _out("ip", "-4", "route", "show", "table", "all"),
        "routes6": _out("ip", "-6", "route", "show", "table", "all"),
        "rules4": _out("ip", "-4", "rule", "show"),
        "rules6": _out("ip", "-6", "rule", "show"),
    }


def snapshot() -> dict[str, Any]:
    return {
        "caller": caller(),
        "netns": _out("ip", "netns", "list"),
        "run_netns": _files("/run/netns"),
        "etc_netns": _files("/etc/netns"),
        "state": _files(str(STATE)),
        "mounts": _mounts(),
    }


def _namespace_inodes() -> dict[str, int]:
    """The namespaces in /run/netns now (a lab may make or remove them while this looks)."""
    out: dict[str, int] = {}
    try:
        entries = list(Path("/run/netns").iterdir())
    except FileNotFoundError:
        return out
    for p in entries:
        try:
            out[p.name] = p.stat().st_ino
        except FileNotFoundError:
            continue
    return out


def _started(pid: str) -> str | None:
    """When the process started, or None when it is gone (a zombie has ended: it waits only
    for its parent, or an init that does not reap, to collect its status)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    if len(fields) < 20 or fields[0] == "Z":
        return None
    return fields[19]


def _processes_in(inodes: set[int]) -> list[str]:
    """Processes whose network namespace is one of `inodes` (a lab's namespaces), as
    `PID COMM START`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            link = os.readlink(entry / "ns" / "net")
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if link.startswith("net:[") and int(link[5:-1]) in inodes:
            found.append(f"{entry.name} {comm} {_started(entry.name)}")
    return sorted(found)


def _alive(processes: list[str]) -> list[str]:
    """Those of `processes` (from `_processes_in`) that still run: same pid, same start."""
    return [p for p in processes if _started(p.split()[0]) == p.split()[2]]


def _start(fixture: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pnet.lab", "--netns", fixture],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )


def _first_line(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    import selectors

    fd = proc.stdout.fileno()
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        for _ in range(500):
            if not sel.select(START_S):
                raise AssertionError("no line from pnet lab in time")
            byte = os.read(fd, 1)
            if byte in (b"", b"\n"):
                break
            line += byte
    return line.decode()


def _until(cond: Any, limit_s: float = START_S) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.002)
    return False


def _finish(proc: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, err = proc.communicate(timeout=STOP_S)
    return proc.returncode, err.decode(errors="replace")


def _records() -> list[Path]:
    return sorted(STATE.glob("*.json")) if STATE.is_dir() else []


def scenario_stop(fixture: str, signals: int = 1) -> dict[str, Any]:
    before = snapshot()
    proc = _start(fixture)
    first = _first_line(proc)
    during = snapshot()
    inodes = set(_namespace_inodes().values())
    inside = _processes_in(inodes)
    for k in range(signals):
        proc.send_signal(signal.SIGINT)
        if k + 1 < signals:
            time.sleep(0.05)
    code, err = _finish(proc)
    return {
        "first": first,
        "before": before,
        "during": during,
        "after": snapshot(),
        "inside": inside,
        "left": _alive(inside),
        "code": code,
        "stderr": err,
    }


def scenario_interrupt_build(fixture: str) -> dict[str, Any]:
    """Ctrl-C twice while the lab builds (once its owner record is written)."""
    before = snapshot()
    proc = _start(fixture)
    seen = _until(lambda: bool(_records()) or proc.poll() is not None)
    _until(lambda: bool(_namespace_inodes()), 2.0)
    inside = _processes_in(set(_namespace_inodes().values()))
    proc.send_signal(signal.SIGINT)
    time.sleep(0.02)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    code, err = _finish(proc)
    return {
        "seen": seen,
        "before": before,
        "after": snapshot(),
        "left": _alive(inside),
        "code": code,
        "stderr": err,
    }


def scenario_fail(fixture: str) -> dict[str, Any]:
    """The build fails halfway: every network's resolver, a dnsmasq that cannot start (a
    stand-in first on PATH that says why and ends), after the namespaces and links are made."""
    before = snapshot()
    folder = Path("/run/pnet-sandbox-bin")
    folder.mkdir()
    fake = folder / "dnsmasq"
    fake.write_text("#!/bin/sh\necho 'dnsmasq: failed to create listening socket' >&2\nexit 3\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{folder}:{os.environ.get('PATH', '')}"}
    proc = _start(fixture, env)
    code, err = _finish(proc)
    fake.unlink()
    folder.rmdir()
    return {"before": before, "after": snapshot(), "code": code, "stderr": err}


def scenario_kill(fixture: str, moment: str) -> dict[str, Any]:
    """kill -9 at a moment of the build (`record`, `namespaces`, `served`), then the next
    lab sweeps what the first one left."""
    before = snapshot()
    proc = _start(fixture)
    if moment == "record":
        _until(lambda: bool(_records()))
    elif moment == "namespaces":
        _until(lambda: len(_namespace_inodes()) >= 3)
    else:
        _first_line(proc)
    inodes = set(_namespace_inodes().values())
    proc.kill()
    proc.wait(STOP_S)
    _until(lambda: False, 0.05)
    inodes |= set(_namespace_inodes().values())
    killed = snapshot()
    orphans = _processes_in(inodes)
    following = _start(fixture)
    first = _first_line(following)
    swept = _alive(orphans)
    following.send_signal(signal.SIGINT)
    code, err = _finish(following)
    return {
        "before": before,
        "killed": killed,
        "orphans": orphans,
        "first": first,
        "swept": swept,
        "after": snapshot(),
        "left": _alive(orphans),
        "code": code,
        "stderr": err,
    }


def main(argv: list[str]) -> int:
    scenario, fixture = argv[0], argv[1]
    if scenario == "stop":
        result = scenario_stop(fixture)
    elif scenario == "sigint-twice":
        result = scenario_stop(fixture, signals=2)
    elif scenario == "interrupt-build":
        result = scenario_interrupt_build(fixture)
    elif scenario == "fail":
        result = scenario_fail(fixture)
    elif scenario.startswith("kill-"):
        result = scenario_kill(fixture, scenario.removeprefix("kill-"))
    else:
        raise SystemExit(f"unknown scenario {scenario}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
