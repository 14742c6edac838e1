"""`pnet lab FIXTURE`: serve a workspace fixture as a real network until interrupted.

stdout, first line: `nameserver HOST:PORT` (printed and flushed once everything listens; with
`--network-of REGION` the resolver of that private network, otherwise the one that answers
every network's names). `--netns` (root) serves every instance in a network namespace of
its own (`pnet.lab.netns`); the first line is then the first network's resolver, reachable
from that network's instances only. Then a table of the networks and of what listens where.
Notes (an address two services need, a raised open-file limit) go to stderr. SIGINT or
SIGTERM stops the lab cleanly: exit 0. A bad fixture or an address the lab cannot use: one
line, exit 2.

`pnet lab exec SERVICE [-- CMD ...]` runs CMD inside an instance of a running `--netns` lab
(`pnet.lab.enter`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import replace
from typing import TextIO

from pnet.errors import InputError
from pnet.lab import Lab, LabError
from pnet.lab.network import Served

PROG = "pnet lab"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        usage = self.format_usage().strip().removeprefix("usage: ")
        self.exit(2, f"pnet: error: {message} (usage: {usage})\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Serve a workspace fixture as a real network (DNS and listeners on "
        "loopback addresses) until interrupted.",
    )
    parser.add_argument("fixture", metavar="FIXTURE", help="a workspace fixture (YAML)")
    parser.add_argument(
        "--dns-port",
        type=int,
        default=0,
        metavar="N",
        help="the DNS servers' port (default: a free one)",
    )
    parser.add_argument(
        "--netns",
        action="store_true",
        help="(root) every instance in a network namespace of its own, networks unlinked",
    )
    parser.add_argument(
        "--network-of",
        metavar="REGION",
        help="print the resolver of this region (Render) or environment (Railway) first",
    )
    return parser


def _error(message: str) -> int:
    print(f"pnet: error: {message}", file=sys.stderr, flush=True)
    return 2


def main(argv: list[str]) -> int:
    if argv[:1] == ["exec"]:
        from pnet.lab.enter import main as exec_main

        return exec_main(argv[1:])
    args = build_parser().parse_args(argv)
    if not 0 <= args.dns_port <= 65535:
        return _error(f"--dns-port {args.dns_port}: a port is 0 to 65535")
    from pnet.sources import fixture

    try:
        read = fixture.read(args.fixture)
    except InputError as exc:
        return _error(str(exc))
    if args.netns and args.dns_port:
        return _error(
            "--dns-port: with --netns each network's resolver listens on port 53, "
            "where its instances' system resolver looks"
        )
    if args.netns:
        from pnet.lab import netns

        why = netns.available()
        if why is not None:
            return _error(why)
    try:
        lab = Lab(read.workspace, read.lab, dns_port=args.dns_port, netns=args.netns)
    except LabError as exc:
        return _error(f"{args.fixture}: {exc}")
    if args.network_of is not None and args.network_of not in lab.networks():
        known = ", ".join(lab.networks()) or "none"
        return _error(f"--network-of {args.network_of}: no such network (networks: {known})")
    network = args.network_of
    if network is None and args.netns and lab.networks():
        network = lab.networks()[0]
    try:
        return asyncio.run(_serve(lab, network))
    except LabError as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        return 0


async def _serve(lab: Lab, network: str | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with lab:
            host, port = lab.nameserver_for(network)
            out = sys.stdout
            try:
                out.write(f"nameserver {_endpoint(host, [port])}\n")
                out.flush()
                print_table(lab, out)
                out.flush()
            except BrokenPipeError:
                _quiet_stdout()
            for note in lab.notes:
                print(f"pnet lab: note: {note}", file=sys.stderr)
            print("pnet lab: serving; Ctrl-C to stop", file=sys.stderr, flush=True)
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


def _quiet_stdout() -> None:
    """The reader went away after the first line (`| head -1`): keep serving, print nothing."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _faults(s: Served) -> str:
    bits = []
    if s.protocol not in ("http", "postgres", "redis"):
        bits.append(s.protocol)
    if s.tls:
        bits.append("tls")
    if s.bind not in ("0.0.0.0", "::"):
        bits.append(f"bound to {s.bind}")
    return ", ".join(bits)


def _grouped(served: list[Served]) -> list[tuple[Served, list[int]]]:
    """Consecutive entries that differ only by port, with their ports."""
    out: list[tuple[Served, list[int]]] = []
    for s in served:
        if out:
            last, ports = out[-1]
            same = replace(last, port=s.port) == s
            if same and s.port == ports[-1] + 1:
                ports.append(s.port)
                continue
        out.append((s, [s.port]))
    return out


def _endpoint(address: str, ports: list[int]) -> str:
    text = str(ports[0]) if len(ports) == 1 else f"{ports[0]}-{ports[-1]}"
    return f"[{address}]:{text}" if ":" in address else f"{address}:{text}"


def print_table(lab: Lab, out: TextIO) -> None:
    ws = lab.workspace
    where = "region" if str(ws.platform) == "render" else "environment"
    out.write(f"\nworkspace {ws.name} ({ws.platform})\n")
    if lab.fabric is None:
        host, port = lab.nameserver
        out.write(f"nameserver {host}:{port} answers every network's names\n")
    for net in lab.plan.networks:
        host, port = lab.nameserver_for(net.name)
        out.write(f"\n{where} {net.name} ({net.family}): nameserver {_endpoint(host, [port])}\n")
        rows: list[tuple[str, str, str, str, str]] = []
        for name in net.services:
            svc = ws.service(name)
            if svc is None:
                continue
            served = lab.served(name)
            label = svc.host if svc.host and svc.host_known else "(no internal name)"
            if not served:
                why = "not on the private network" if not svc.type.receives else "no port"
                if not svc.type.has_internal_address:
                    why = "no internal address"
                rows.append((name, label, "-", "-", why))
                continue
            for group, ports in _grouped(served):
                state = "listening" if group.listening else "not listening"
                detail = "; ".join(x for x in (_faults(group), group.note) if x)
                rows.append(
                    (
                        name,
                        label,
                        _endpoint(group.address, ports),
                        group.protocol,
                        f"{state}{': ' if detail else ''}{detail}",
                    )
                )
                name, label = "", ""
        widths = [max(len(r[i]) for r in rows) if rows else 0 for i in range(4)]
        for row in rows:
            cells = [row[i].ljust(widths[i]) for i in range(4)]
            out.write("  " + "  ".join(cells) + "  " + row[4] + "\n")
    if lab.fabric is not None:
        out.write(
            "\ninstances (a command inside one, with its environment: "
            "pnet lab exec SERVICE [--instance N] -- CMD)\n"
        )
        fabric = lab.fabric
        entries = [
            (i.id, fabric.namespace_of(i), str(fabric.env_file(i))) for i in lab.plan.instances
        ]
        widths = [max((len(r[k]) for r in entries), default=0) for k in range(2)]
        for inst, name, env in entries:
            out.write(f"  {inst.ljust(widths[0])}  {name.ljust(widths[1])}  {env}\n")
