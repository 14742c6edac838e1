"""Regenerate the README's screenshots from the demo: `python -m tools.screenshots DIR`.

Each view is taken at 120x36 (and one at 80x24) from the app running against the lab (a real
network on loopback). The pictures change only when the app does: the clock is fixed, each
probe's latency is replaced by a steady one derived from its question, and as root the lab runs
in a network namespace of its own (only loopback), so it owns 127.1.0.0/16 and its name server's
port whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import subprocess
import sys
import zlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from pnet.checks import Options
from pnet.lab import LabThread
from pnet.model import Workspace
from pnet.probes.result import Outcome, ProbeResult
from pnet.sources import fixture
from pnet.tui.app import PnetApp
from pnet.tui.engine import CoreEngine, EngineEvent, Landed
from pnet.tui.screens.pathcheck import PathCheckScreen
from pnet.tui.status import Status
from pnet.tui.widgets.env_view import EnvTable

SIZE = (120, 36)
SMALL = (80, 24)
WAIT_S = 30.0
NOW = datetime(2026, 7, 9, 12, 0, 0, tzinfo=UTC)
ISOLATED = "PNET_SCREENSHOTS_ISOLATED"
DNS_PORT = 5353


def steady(result: ProbeResult) -> ProbeResult:
    """The same answer with a latency that does not change from run to run: a timeout keeps its
    length to the tenth of a second, anything else gets 0.5 to 4.4 ms from its question."""
    key = (result.key or f"{result.kind}:{result.target}").encode()
    if result.outcome in (Outcome.TIMEOUT, Outcome.UNREACHABLE):
        fixed = float(round(result.elapsed_ms, -2))
    else:
        fixed = 0.5 + (zlib.crc32(key) % 40) / 10
    return dataclasses.replace(result, elapsed_ms=fixed)


class SteadyEngine(CoreEngine):
    """The real engine, its latencies made steady for pictures (see `steady`)."""

    async def _stream(
        self, workspace: Workspace, source: Any, targets: Sequence[Any]
    ) -> AsyncGenerator[EngineEvent, None]:
        async for event in super()._stream(workspace, source, targets):
            if isinstance(event, Landed):
                yield Landed(event.subject, steady(event.result), event.owner, event.env)
            else:
                yield event


def _clock() -> datetime:
    return NOW


async def _until(pilot: Pilot[Any], cond: Callable[[], bool]) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + WAIT_S
    while not cond():
        if loop.time() > end:
            raise TimeoutError("the view never settled")
        await pilot.pause(0.05)
    await pilot.pause()


def _has_current(app: PnetApp) -> bool:
    return app.current is not None


def _settled(app: PnetApp, name: str) -> Callable[[], bool]:
    return lambda: app.status.get(name) not in (None, Status.RUNNING)


Shot = Callable[[PnetApp, Pilot[Any]], Awaitable[None]]


async def _tree(app: PnetApp, pilot: Pilot[Any]) -> None:
    await pilot.press("P")
    await _until(pilot, lambda: app.sweep_state is None and len(app.findings) > 10)
    app.clear_notifications()
    app.select_service("api")


async def _connect(app: PnetApp, pilot: Pilot[Any]) -> None:
    app.select_service("acme-db")


async def _probes(app: PnetApp, pilot: Pilot[Any]) -> None:
    app.select_service("inventory")
    await pilot.press("p")
    await _until(pilot, _settled(app, "inventory"))
    await pilot.press("2")


async def _findings(app: PnetApp, pilot: Pilot[Any]) -> None:
    app.select_service("reports")
    await pilot.press("p")
    await _until(pilot, _settled(app, "reports"))
    await pilot.press("3")


async def _env(app: PnetApp, pilot: Pilot[Any]) -> None:
    app.select_service("api")
    await pilot.press("v")
    await _until(pilot, lambda: "api" in app.env_findings)
    app.clear_notifications()
    table = app.query_one(EnvTable)
    table.focus()
    table.move_cursor(row=table.get_row_index("SEARCH_URL"))


async def _pathcheck(app: PnetApp, pilot: Pilot[Any]) -> None:
    app.open_path_check("api", "billing", run=True)
    await _until(pilot, lambda: isinstance(app.screen, PathCheckScreen))
    screen = app.screen
    assert isinstance(screen, PathCheckScreen)
    await _until(pilot, lambda: screen.verdict is not None and screen.verdict.done)


async def _instance(app: PnetApp, pilot: Pilot[Any]) -> None:
    await _until(pilot, lambda: app.instance_view is not None)


async def _small(app: PnetApp, pilot: Pilot[Any]) -> None:
    await _tree(app, pilot)
    await pilot.press("3")


SHOTS: dict[str, Shot] = {
    "tree": _tree,
    "small": _small,
    "connect": _connect,
    "probes": _probes,
    "findings": _findings,
    "env": _env,
    "pathcheck": _pathcheck,
    "instance": _instance,
}


def demo_fixture() -> fixture.Fixture:
    """The demo, its findings placed in `fixtures/render-acme.yaml` wherever the checkout is."""
    with as_file(files("pnet.fixtures") / "render-acme.yaml") as path:
        return fixture.reads(path.read_text(encoding="utf-8"), "fixtures/render-acme.yaml")


def _lab_listeners(lab: LabThread, name: str) -> Callable[[], Sequence[Any]]:
    from pnet.probes.listeners import Listener

    def listeners() -> list[Listener]:
        out = []
        for address, port in lab.lab.listeners_inside(name):
            family = 6 if ":" in address else 4
            out.append(Listener(family, address, port, 41, "gunicorn", None))
        return out

    return listeners


async def take(folder: Path, names: Sequence[str]) -> list[Path]:
    demo = demo_fixture()
    ws = demo.workspace
    written: list[Path] = []
    port = DNS_PORT if os.environ.get(ISOLATED) else 0
    with LabThread(ws, demo.lab, dns_port=port) as lab:
        options = Options(nameserver=lab.nameserver, nameserver_for=lab.nameserver_for)
        for name in names:
            source = None
            engine = SteadyEngine(options)
            if name == "instance":
                source = ws.service("reports")
                engine = SteadyEngine(options, listeners=_lab_listeners(lab, "reports"))
            app = PnetApp(
                ws, source=source, engine=engine, clock=_clock, instance=name == "instance"
            )
            size = SMALL if name == "small" else SIZE
            async with app.run_test(size=size) as pilot:
                await _until(pilot, partial(_has_current, app))
                await SHOTS[name](app, pilot)
                await pilot.pause()
                path = app.save_screenshot(filename=f"{name}.svg", path=str(folder))
                written.append(Path(path))
    return written


def isolated(argv: Sequence[str]) -> int | None:
    """As root, run again in a network namespace with only loopback (None: run here)."""
    if os.environ.get(ISOLATED) or os.geteuid() != 0 or shutil.which("unshare") is None:
        return None
    if subprocess.run(["unshare", "--net", "true"], check=False).returncode != 0:
        return None
    script = 'ip link set lo up && exec "$0" -m tools.screenshots "$@"'
    command = ["unshare", "--net", "sh", "-c", script, sys.executable, *argv]
    return subprocess.run(command, env={**os.environ, ISOLATED: "1"}, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    args_given = list(sys.argv[1:] if argv is None else argv)
    rc = isolated(args_given)
    if rc is not None:
        return rc
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots")
    parser.add_argument("folder", type=Path, help="where to write the SVGs")
    parser.add_argument("--only", nargs="*", choices=list(SHOTS), help="just these views")
    args = parser.parse_args(args_given)
    args.folder.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(take(args.folder, args.only or list(SHOTS))):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
