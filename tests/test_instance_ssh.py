"""Inside a Render instance over real SSH: `pnet-doctor` and the app run where the problem is,
with nothing but the instance's environment, then with the project's render.yaml beside them.

The lab serves tests/instance/render-workspace.yaml in network namespaces (root, Linux): `api`
reads a variable per planted fault and healthy ones beside them, and its own app listens on
127.0.0.1 only. sshd runs inside api's instance with a config and keys made for the test, and
every session gets the instance's environment (tests.sshsession); the ssh client runs in the
instance of `web`, another service of the same private network, as `ssh -t` does. The
doctor runs with no option, from a folder without render.yaml and from a repository holding
tests/instance/render.yaml; the app runs in tmux at 80x24; the standalone executable
(`make dist`) does the doctor's runs again.

An instance that does not answer is planted on `inventory` (three instances, one down), whose
first instance has an sshd too: api's own app, bound to loopback in every instance, leaves none
of them answering, and pnet names that cause (loopback-bind) rather than its symptom.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pnet.lab import LabThread, netns
from pnet.sources.fixture import read
from tests.labspaces import lab_thread
from tests.sshsession import Keys, Session, Sshd, kinds_by_subject, missing, report_in

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(netns.available() is not None, reason=str(netns.available())),
    pytest.mark.skipif(missing() is not None, reason=str(missing())),
]

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "instance"
WORKSPACE = HERE / "render-workspace.yaml"
BLUEPRINT = HERE / "render.yaml"
BIN = Path(sys.executable).parent
DOCTOR = BIN / "pnet-doctor"
APP = BIN / "pnet"
EXE = ROOT / "dist" / "pnet"
DIST_SOURCES = ("pnet", "probes", "tui", "fixtures", "tools/dist", "pyproject.toml")
PASSWORDS = ("Vb7nQ2xL9kW4", "Zt5pR8mK3wQ1")
WAIT_S = 30.0

# What api's variables are found to be, wherever pnet runs.
ALWAYS = {
    "AUTH_URL": {"wrong-url"},
    "IMAGES_URL": {"missing-scheme"},
    "GRAPH_URL": {"tls-on-private"},
    "CACHE_URL": {"auth-required"},
    "REPORTS_URL": {"refused"},
    "service:api": {"loopback-bind"},
}
# What only the workspace can establish, and what pnet can honestly say without it: a port
# that refuses, and names that do not resolve here.
WITH_BLUEPRINT = {
    "SEARCH_URL": {"wrong-port"},
    "MAILER_URL": {"not-receiving"},
    "BILLING_URL": {"cross-region"},
}
WITHOUT_BLUEPRINT = {
    "SEARCH_URL": {"refused"},
    "MAILER_URL": {"unknown-host"},
    "BILLING_URL": {"unknown-host"},
}
HEALTHY = ("DATABASE_URL", "SESSION_URL", "PRICING_URL")
PUBLIC = ("STRIPE_URL",)
# inventory: 3 instances, one down; pnet checks one address of a name when it does not know the
# service, so from the environment alone it may find it fine, or see the instance that is down
SEVERAL = "INVENTORY_URL"


@dataclass(frozen=True)
class Repos:
    blueprint: Path
    bare: Path


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with lab_thread(read(WORKSPACE), netns=True) as running:
        yield running


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys.make(tmp_path_factory.mktemp("keys"))


def _sshd(lab: LabThread, service: str, folder: Path, keys: Keys) -> Iterator[Sshd]:
    sshd = Sshd(lab, service, folder, keys).start()
    try:
        yield sshd
    finally:
        sshd.stop()
    assert sshd.left() == [], f"processes left in {service}'s instance"


@pytest.fixture(scope="module")
def api(lab: LabThread, keys: Keys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    yield from _sshd(lab, "api", tmp_path_factory.mktemp("sshd-api"), keys)


@pytest.fixture(scope="module")
def inventory(
    lab: LabThread, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sshd]:
    yield from _sshd(lab, "inventory", tmp_path_factory.mktemp("sshd-inventory"), keys)


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> Repos:
    """A checkout holding the render.yaml, and a folder of another repository without one."""
    with_yaml = tmp_path_factory.mktemp("repo")
    (with_yaml / ".git").mkdir()
    shutil.copy(BLUEPRINT, with_yaml / "render.yaml")
    (with_yaml / "app").mkdir()
    bare = tmp_path_factory.mktemp("elsewhere")
    (bare / ".git").mkdir()
    return Repos(with_yaml / "app", bare)


def _doctor(sshd: Sshd, folder: Path, program: str = str(DOCTOR)) -> Session:
    return sshd.run("web", f"cd {shlex.quote(str(folder))} && {program} --format json")


@pytest.fixture(scope="module")
def runs(api: Sshd, inventory: Sshd, repos: Repos) -> dict[str, Session]:
    if not DOCTOR.is_file():
        pytest.skip(f"{DOCTOR} is missing: install pnet in this environment")
    return {
        "api": _doctor(api, repos.bare),
        "api+yaml": _doctor(api, repos.blueprint),
        "inventory": _doctor(inventory, repos.bare),
        "inventory+yaml": _doctor(inventory, repos.blueprint),
    }


def _checks(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["target"]: c for c in data["checks"]}


def _without(found: dict[str, set[str]], *keys: str) -> dict[str, set[str]]:
    return {k: v for k, v in found.items() if k not in keys}


# ---- the session ---------------------------------------------------------------------------------


def test_the_session_is_a_terminal_in_the_instance_with_its_environment(
    api: Sshd, lab: LabThread
) -> None:
    script = 'echo "$RENDER_SERVICE_NAME $PORT $RENDER_INSTANCE_ID"; tty; getent hosts auth-77aq'
    s = api.run("web", script)
    assert s.status == 0, s.everything
    name, port, instance = s.terminal.splitlines()[0].split()
    assert (name, port) == ("api-k3m9", "8080") and instance.startswith("srv-")
    assert s.terminal.splitlines()[1].startswith("/dev/pts/")
    assert s.terminal.splitlines()[2].split() == [lab.addresses("auth")[0], "auth-77aq"]
    (web,) = lab.addresses("web")
    assert f"Accepted publickey for root from {web}" in api.log_text()


# ---- pnet-doctor, with no option -----------------------------------------------------------------


def test_from_the_environment_alone(runs: dict[str, Session]) -> None:
    s = runs["api"]
    data = report_in(s.terminal)
    assert s.status == 1 and data["summary"]["errors"] > 0, s.everything
    assert data["source"]["host"] == "api-k3m9" and data["source"]["region"] is None
    found = kinds_by_subject(data)
    assert _without(found, SEVERAL) == {**ALWAYS, **WITHOUT_BLUEPRINT}
    assert found.get(SEVERAL) in (None, {"instance-down"})
    for name in ("MAILER_URL", "BILLING_URL"):
        (f,) = (f for f in data["findings"] if f["subject"] == name)
        assert "pnet sees only this service" in f["fix"]
    checks = _checks(data)
    for name in HEALTHY:
        assert checks[name]["status"] == "ok", checks[name]
    for name in PUBLIC:
        assert checks[name]["status"] == "not-checked"


def test_with_the_render_yaml_in_the_repository(runs: dict[str, Session]) -> None:
    s = runs["api+yaml"]
    data = report_in(s.terminal)
    assert s.status == 1, s.everything
    assert data["source"]["host"] == "api-k3m9" and data["source"]["region"] == "oregon"
    assert {svc["name"] for svc in data["workspace"]["services"]} >= {"billing", "mailer"}
    found = kinds_by_subject(data)
    assert _without(found, SEVERAL) == {**ALWAYS, **WITH_BLUEPRINT}
    checks = _checks(data)
    for name in HEALTHY:
        assert checks[name]["status"] == "ok", checks[name]
    for name in PUBLIC:
        assert checks[name]["status"] == "not-checked"
    (search,) = (f for f in data["findings"] if f["subject"] == "SEARCH_URL")
    assert search["fix"].startswith("SEARCH_URL=http://search-q1w2:9200")


def test_with_the_render_yaml_a_service_with_an_instance_down(runs: dict[str, Session]) -> None:
    found = kinds_by_subject(report_in(runs["api+yaml"].terminal))
    assert found.get(SEVERAL) == {"instance-down"}


def test_its_own_discovery_name_lists_its_instances(runs: dict[str, Session]) -> None:
    for key in ("inventory", "inventory+yaml"):
        s = runs[key]
        data = report_in(s.terminal)
        assert s.status == 0, s.everything
        assert kinds_by_subject(data) == {"service:inventory": {"instance-down"}}, key
        own = _checks(data)["service:inventory"]
        (disco,) = (p for p in own["probes"] if p["kind"] == "discovery")
        assert disco["target"] == "inventory-k4l5-discovery"
        assert disco["evidence"]["count"] == 3, disco


def test_no_password_in_any_output(runs: dict[str, Session]) -> None:
    for key, s in runs.items():
        for secret in PASSWORDS:
            assert secret not in s.everything, key
    data = report_in(runs["api"].terminal)
    assert _checks(data)["DATABASE_URL"]["value"] == (
        "postgresql://shop:••••••@dpg-c1d2e3f4g5h6i7j8k9l0-a/shop"
    )


# ---- the standalone executable -------------------------------------------------------------------


def _built_exe() -> Path:
    if not EXE.is_file():
        pytest.skip("dist/pnet is missing: run `make dist` first")
    newest = 0.0
    for name in DIST_SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        newest = max([newest, *(p.stat().st_mtime for p in files if "__pycache__" not in p.parts)])
    if EXE.stat().st_mtime < newest:
        pytest.skip("dist/pnet is older than the sources: run `make dist` again")
    return EXE


def test_the_standalone_executable_does_the_same_runs(
    api: Sshd, repos: Repos, runs: dict[str, Session]
) -> None:
    exe = f"{shlex.quote(str(_built_exe()))} doctor"
    for key, folder in (("api", repos.bare), ("api+yaml", repos.blueprint)):
        s = _doctor(api, folder, exe)
        data = report_in(s.terminal)
        expected = report_in(runs[key].terminal)
        assert s.status == runs[key].status, s.everything
        assert kinds_by_subject(data) == kinds_by_subject(expected), key
        assert data["source"] == expected["source"]
        for secret in PASSWORDS:
            assert secret not in s.everything


# ---- the app, in tmux at 80x24 -------------------------------------------------------------------


class Tmux:
    """A tmux server of the test's own (its own socket), one session at a given size, the raw
    output of its pane written to a file, and OSC 52 from the application kept as a buffer."""

    def __init__(self, folder: Path) -> None:
        self.socket = folder / "tmux.sock"
        self.conf = folder / "tmux.conf"
        self.raw = folder / "pane.raw"
        self.conf.write_text("set -s set-clipboard on\nset -s escape-time 0\n")

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", str(self.conf), *args],
            env={k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )

    def start(self, command: str, width: int, height: int) -> None:
        done = self("new-session", "-d", "-x", str(width), "-y", str(height), command)
        assert done.returncode == 0, done.stderr
        self("pipe-pane", "-O", f"cat >> {shlex.quote(str(self.raw))}")

    def screen(self) -> str:
        return self("capture-pane", "-p").stdout

    def until(self, *texts: str) -> str:
        deadline = time.monotonic() + WAIT_S
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"not on screen within {WAIT_S:g} s: {texts}\n{screen}")

    def keys(self, *keys: str) -> None:
        self("send-keys", *keys)

    def buffer(self) -> str:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            done = self("show-buffer")
            if done.returncode == 0:
                return done.stdout
            time.sleep(0.1)
        return ""

    def stop(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self("has-session").returncode == 0:
            time.sleep(0.1)
        self("kill-server")


@pytest.fixture(scope="module")
def app(api: Sshd, repos: Repos, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The app over `ssh -t` in tmux at 80x24: what it showed, copied and sent."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is missing")
    if not APP.is_file():
        pytest.skip(f"{APP} is missing: install pnet in this environment")
    folder = tmp_path_factory.mktemp("tmux")
    tmux = Tmux(folder)
    command = f"cd {shlex.quote(str(repos.bare))} && exec {APP}"
    seen: dict[str, str] = {}
    tmux.start(shlex.join(api.ssh("web", command, tty="-t")), 80, 24)
    try:
        seen["instance"] = tmux.until("This instance", "Where its variables point", "wrong-url")
        tmux.keys("3")
        seen["findings"] = tmux.until("tls-on-private", "auth-required")
        tmux.keys("1")
        seen["connect"] = tmux.until("Internal Address", "api-k3m9:8080")
        tmux.keys("y")
        seen["buffer"] = tmux.buffer()
        seen["copied"] = tmux.until("copied")
        tmux.keys("q")
    finally:
        tmux.stop()
    assert tmux("has-session").returncode != 0, "the tmux server outlived the test"
    seen["raw"] = tmux.raw.read_text(errors="replace") if tmux.raw.exists() else ""
    return seen


def test_the_app_opens_on_the_instance(app: dict[str, str]) -> None:
    screen = app["instance"]
    assert len(screen.splitlines()) <= 24 and max(map(len, screen.splitlines())) <= 80
    assert "from api" in screen.splitlines()[0]
    for line in ("Service         api", "Internal host   api-k3m9", "Ports           8080"):
        assert line in screen, screen
    assert "3 listening sockets" in screen
    for kind in ("auth-required", "tls-on-private", "unknown-host", "refused"):
        assert kind in app["findings"], app["findings"]


def test_y_copies_over_osc_52(app: dict[str, str]) -> None:
    assert app["buffer"] == "api-k3m9:8080"
    encoded = base64.b64encode(b"api-k3m9:8080").decode()
    assert f"\x1b]52;c;{encoded}" in app["raw"]
    assert "copied Internal Address" in app["copied"]


def test_no_password_on_screen_or_in_what_the_terminal_received(app: dict[str, str]) -> None:
    for name, text in app.items():
        for secret in PASSWORDS:
            assert secret not in text, name


def test_the_app_shows_its_listeners_and_own_finding_at_80x24(app: dict[str, str]) -> None:
    screen = app["instance"]
    assert "127.0.0.1" in screen and "loopback-bind" in screen, screen
