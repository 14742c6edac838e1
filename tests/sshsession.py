"""SSH into an instance of a `pnet lab --netns` lab, as `render ssh` / `railway ssh` do.

- `Keys.make(folder)`: a host key and a user key made for the test (ed25519).
- `Sshd(lab, service, folder, keys)`: OpenSSH's sshd inside the instance's network namespace
  (`ip netns exec`), with a config of its own: the test's host key, the test's user key as the
  only authorized one, root by key only, no PAM. Every session gets the instance's environment
  (the lab's file of it, through `SetEnv`): a shell opened by `render ssh` or `railway ssh` runs
  in the instance with what the platform and the service set there, whoever connects. `HOME` is
  a folder of the test's, so no dotfile of this machine's root runs in the session. sshd runs in
  the mount namespace `ip netns exec` makes, with a tmpfs on `/run` for its privilege separation
  folder: nothing is made on this machine's `/run`.
- `Sshd.ssh(client, command)`: the ssh client's command line, run inside an instance of another
  service (`client`), which reaches this one over the lab's private network.
- `report_in(output)`: the `pnet-doctor --format json` object in what a terminal received.

Every wait is bounded; `Sshd.stop()` ends sshd by its PID (the lab's teardown ends whatever
else is left in its namespaces).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pnet.lab import LabThread
from pnet.lab.environ import read_file

SSHD = "/usr/sbin/sshd"
PORT = 22
START_S = 10.0
STOP_S = 5.0
SESSION_S = 60.0
NEEDED = ("ssh", "ssh-keygen", "ip")

# In sshd's own mount namespace: a tmpfs on /run holding its privilege separation folder.
# When /etc/resolv.conf is a link into /run, the instance's resolver (which `ip netns exec`
# bound there) is bound again on top of the tmpfs.
START = """set -e
resolv=$(readlink -f /etc/resolv.conf)
mount -t tmpfs -o mode=755,size=1m pnet-sshd /run
mkdir -m 755 /run/sshd
case "$resolv" in
/run/*)
    mkdir -p "$(dirname "$resolv")"
    : > "$resolv"
    mount --bind "/etc/netns/$1/resolv.conf" "$resolv"
    ;;
esac
exec "$2" -D -e -f "$3"
"""


def missing() -> str | None:
    """Why SSH sessions cannot be made here, or None."""
    if not Path(SSHD).is_file():
        return f"{SSHD} is missing (Debian: openssh-server)"
    for tool in NEEDED:
        if shutil.which(tool) is None:
            return f"`{tool}` is missing (Debian: openssh-client, iproute2)"
    return None


@dataclass(frozen=True)
class Keys:
    host: Path
    user: Path

    @classmethod
    def make(cls, folder: Path) -> Keys:
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("host", "user"):
            subprocess.run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    f"pnet-test-{name}",
                    "-f",
                    str(folder / name),
                ],
                check=True,
                capture_output=True,
                timeout=30,
            )
        return cls(folder / "host", folder / "user")

    def host_public(self) -> str:
        kind, key = self.host.with_suffix(".pub").read_text().split()[:2]
        return f"{kind} {key}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_text(keys: Keys, authorized: Path, home: Path, environ: dict[str, str]) -> str:
    """sshd_config: key login for root only, no PAM, the instance's environment per session."""
    variables = {**environ, "HOME": str(home)}
    setenv = " ".join(_quoted(f"{key}={value}") for key, value in variables.items())
    lines = [
        f"Port {PORT}",
        "ListenAddress 0.0.0.0",
        "ListenAddress ::",
        f"HostKey {keys.host}",
        "PidFile none",
        f"AuthorizedKeysFile {authorized}",
        "PermitRootLogin prohibit-password",
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "PrintMotd no",
        "PrintLastLog no",
        "LogLevel INFO",
        # sshd reads SetEnv from its first line only: every variable on one line
        f"SetEnv {setenv}",
    ]
    return "\n".join(lines) + "\n"


class Sshd:
    """sshd in the first instance of `service`, until `stop()`."""

    def __init__(self, lab: LabThread, service: str, folder: Path, keys: Keys) -> None:
        self.lab = lab
        self.service = service
        self.keys = keys
        self.folder = folder
        self.namespace = lab.lab.netns_of(service)
        self.address = lab.addresses(service)[0]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "home").mkdir(exist_ok=True)
        authorized = folder / "authorized_keys"
        authorized.write_text(keys.user.with_suffix(".pub").read_text())
        authorized.chmod(0o600)
        self.config = folder / "sshd_config"
        environ = read_file(lab.lab.env_file(service))
        self.config.write_text(config_text(keys, authorized, folder / "home", environ))
        self.config.chmod(0o600)
        host = self.address if PORT == 22 else f"[{self.address}]:{PORT}"
        self.known_hosts = folder / "known_hosts"
        self.known_hosts.write_text(f"{host} {keys.host_public()}\n")
        self.log = folder / "sshd.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Sshd:
        with self.log.open("wb") as log:
            self._proc = subprocess.Popen(
                [
                    *("ip", "netns", "exec", self.namespace),
                    *("sh", "-c", START, "sh", self.namespace, SSHD, str(self.config)),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if "Server listening on" in self.log_text():
                return self
            if self._proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"sshd in {self.service} did not start: {self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_S)

    def left(self) -> list[int]:
        """The processes still in the instance's namespace (none once sshd and every session
        have ended; the lab's own listeners belong to the lab's process, which is not there)."""
        deadline = time.monotonic() + STOP_S
        while True:
            done = subprocess.run(
                ["ip", "netns", "pids", self.namespace],
                capture_output=True,
                text=True,
                timeout=STOP_S,
                check=False,
            )
            pids = [int(p) for p in done.stdout.split() if p.isdigit()]
            if not pids or time.monotonic() > deadline:
                return pids
            time.sleep(0.05)

    def ssh(self, client: str, command: str, *, tty: str = "-tt") -> list[str]:
        """The ssh command line, run inside the first instance of `client`."""
        return [
            "ip",
            "netns",
            "exec",
            self.lab.lab.netns_of(client),
            "ssh",
            tty,
            "-F",
            "/dev/null",
            "-i",
            str(self.keys.user),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "LogLevel=ERROR",
            "-p",
            str(PORT),
            f"root@{self.address}",
            command,
        ]

    def run(self, client: str, command: str) -> Session:
        """`command` in a session with a terminal (`ssh -tt`), from an instance of `client`."""
        done = subprocess.run(
            self.ssh(client, command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=SESSION_S,
            check=False,
        )
        return Session(
            done.returncode,
            done.stdout.decode(errors="replace").replace("\r\n", "\n"),
            done.stderr.decode(errors="replace"),
        )


@dataclass(frozen=True)
class Session:
    """What a session's terminal received (the remote stdout and stderr, one stream), the
    ssh client's own messages, and the remote command's exit status (ssh passes it on)."""

    status: int
    terminal: str
    client: str

    @property
    def everything(self) -> str:
        return self.terminal + self.client


REPORT_START = re.compile(r'\{\s*"version"')


def report_in(terminal: str) -> dict[str, Any]:
    """The doctor's JSON object in a terminal's stream (after any progress line)."""
    found = REPORT_START.search(terminal)
    if found is None:
        raise AssertionError(f"no JSON report in the session's output: {terminal[-2000:]}")
    data, _ = json.JSONDecoder().raw_decode(terminal, found.start())
    if not isinstance(data, dict):
        raise AssertionError("the report is not a JSON object")
    return data


def kinds_by_subject(data: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for finding in data["findings"]:
        out.setdefault(finding["subject"], set()).add(finding["kind"])
    return out
