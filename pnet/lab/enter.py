"""`pnet lab exec SERVICE [-- CMD ...]`: run a command inside an instance of a running lab.

The lab must run with `--netns` (root). CMD (default: `$SHELL`, else `/bin/sh`) runs in the
instance's network namespace through `ip netns exec`, so its `/etc/resolv.conf` is the
instance's (its network's dnsmasq), with the instance's environment: what the platform sets
there (`RENDER_*` / `RAILWAY_*`, `PORT`, ...) and the service's own variables, over a few of
the caller's (`PATH`, `HOME`, `TERM`, `LANG`, `LC_ALL`, `USER`, `LOGNAME`, `SHELL`) and
nothing else of the caller's, as in a shell on the platform. The exit status is CMD's.

With several labs running, the newest that has SERVICE is used, or the one `--lab TAG`
names. `--env-file` prints the path of the instance's environment file instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from pnet.lab import environ, netns

PROG = "pnet lab exec"
KEPT = ("PATH", "HOME", "TERM", "LANG", "LC_ALL", "USER", "LOGNAME", "SHELL")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        usage = self.format_usage().strip().removeprefix("usage: ")
        self.exit(2, f"pnet: error: {message} (usage: {usage})\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        usage=f"{PROG} SERVICE [--instance N] [--lab TAG] [--env-file] [-- CMD ...]",
        description="Run a command inside an instance of a running `pnet lab --netns`, "
        "with the instance's resolver and environment.",
    )
    parser.add_argument("service", metavar="SERVICE", help="the service whose instance to enter")
    parser.add_argument(
        "--instance", type=int, default=1, metavar="N", help="which instance (default 1)"
    )
    parser.add_argument("--lab", metavar="TAG", help="the lab (default: the newest with SERVICE)")
    parser.add_argument(
        "--env-file", action="store_true", help="print the instance's environment file and exit"
    )
    return parser


def _error(message: str) -> int:
    print(f"pnet: error: {message}", file=sys.stderr, flush=True)
    return 2


def find(service: str, index: int, tag: str | None) -> dict[str, Any] | str:
    """The record of the instance to enter, or why there is none (one line)."""
    labs = netns.live_labs()
    if tag is not None:
        labs = [doc for doc in labs if Path(str(doc.get("record", ""))).stem == tag]
        if not labs:
            return f"--lab {tag}: no such lab is running"
    if not labs:
        return "no `pnet lab --netns` is running on this machine"
    for doc in labs:
        instances = doc.get("instances", {})
        mine = [v for v in instances.values() if v.get("service") == service]
        if not mine:
            continue
        for entry in mine:
            if int(entry.get("index", -1)) == index - 1:
                return dict(entry)
        return f"{service} has {len(mine)} instance(s), not {index}"
    names = sorted({v.get("service") for doc in labs for v in doc.get("instances", {}).values()})
    return f"no instance of {service!r} in the running lab (services: {', '.join(names)})"


def main(argv: list[str]) -> int:
    command: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    if args.instance < 1:
        return _error(f"--instance {args.instance}: instances are numbered from 1")
    found = find(args.service, args.instance, args.lab)
    if isinstance(found, str):
        return _error(found)
    env_path = Path(str(found.get("env", "")))
    if args.env_file:
        print(env_path)
        return 0
    try:
        variables = environ.read_file(env_path)
    except OSError as exc:
        return _error(f"cannot read {env_path}: {exc.strerror or exc}")
    env = {key: os.environ[key] for key in KEPT if key in os.environ}
    env.update(variables)
    if not command:
        command = [os.environ.get("SHELL") or "/bin/sh"]
    ip = shutil.which("ip")
    if ip is None:
        return _error("the `ip` command (iproute2) is missing")
    sys.stdout.flush()
    os.execve(ip, [ip, "netns", "exec", str(found["namespace"]), *command], env)
    return 0  # pragma: no cover - execve does not return
