"""`python -m bench.app FIXTURE HOST:PORT [--keys N]`: the app's sweep, headless, against a lab.

Opens the app (Textual's headless Pilot, 120x36) on the fixture with the real engine asking the
lab's nameserver, times its first frame, presses `P` and times the sweep until the app says it
is done, while pressing a key now and then (down, up) and timing how long the app takes to
answer each. Prints one JSON object: first_frame_s, sweep_s, frames (screen updates sent
during the sweep, the keys' own included), draws (redraws of the status line and the probe
summary), key latencies (ms), and the process's peak memory (MB); `slow_keys` lists each key
answered after more than 100 ms as (seconds into the sweep it was sent, milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from typing import Any

from pnet.checks import Options
from pnet.sources import fixture

SIZE = (120, 36)
SWEEP_LIMIT_S = 300.0
KEY_EVERY_S = 0.05
KEY_LIMIT_S = 5.0
SLOW_MS = 100.0


def _p99(values: list[float]) -> float:
    if not values:
        return 0.0
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _send(app: Any, key: str, char: str | None = None) -> None:
    """A key as the terminal would send it, without waiting for the app to settle."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def _key(app: Any, tree: Any, key: str) -> float | None:
    """Send one key as the terminal would and wait until the tree's cursor moved (ms)."""
    before = tree.cursor_line
    started = time.perf_counter()
    _send(app, key)
    while time.perf_counter() - started < KEY_LIMIT_S:
        await asyncio.sleep(0.001)
        if tree.cursor_line != before:
            return (time.perf_counter() - started) * 1000.0
    return None


async def measure(path: str, nameserver: tuple[str, int], keys: int) -> dict[str, Any]:
    from pnet.tui.app import PnetApp
    from pnet.tui.engine import CoreEngine
    from pnet.tui.widgets.service_tree import ServiceTree

    workspace = fixture.load(path)
    app = PnetApp(workspace, engine=CoreEngine(Options(nameserver=nameserver)))
    frames = 0
    first: float | None = None
    original = app._display
    started = time.perf_counter()

    def counting(screen: Any, renderable: Any) -> None:
        nonlocal frames, first
        if renderable is not None:
            frames += 1
            if first is None:
                first = time.perf_counter() - started
        original(screen, renderable)

    app._display = counting  # type: ignore[method-assign]
    draws = 0

    def gated(draw: Any) -> Any:
        def counted() -> None:
            nonlocal draws
            draws += 1
            draw()

        return counted

    for name in ("_status_redraw", "_summary_redraw"):
        gate = getattr(app, name, None)
        if gate is not None:
            gate.draw = gated(gate.draw)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(10_000):
            if first is not None:
                break
            await asyncio.sleep(0.005)
        tree = app.query_one(ServiceTree)
        await pilot.pause(0.2)
        frames = 0
        draws = 0
        sweep_started = time.perf_counter()
        _send(app, "P", "P")
        for _ in range(int(KEY_LIMIT_S * 1000)):
            if app.sweep_state is not None:
                break
            await asyncio.sleep(0.001)
        latencies: list[float] = []
        slow: list[tuple[float, float]] = []
        lost = 0
        end = sweep_started + SWEEP_LIMIT_S
        while time.perf_counter() < end:
            if app.sweep_state is None:
                break
            if len(latencies) + lost < keys:
                ms = await _key(app, tree, "down" if (len(latencies) + lost) % 2 == 0 else "up")
                if ms is None:
                    lost += 1
                else:
                    latencies.append(ms)
                    if ms > SLOW_MS:
                        at = time.perf_counter() - sweep_started - ms / 1000.0
                        slow.append((round(at, 2), round(ms, 1)))
            await asyncio.sleep(KEY_EVERY_S)
        sweep = time.perf_counter() - sweep_started
        done = app.sweep_state is None
        marks: dict[str, int] = {}
        for status in app.status.values():
            marks[str(status.name).lower()] = marks.get(str(status.name).lower(), 0) + 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "services": len(workspace.services),
        "first_frame_s": round(first or 0.0, 3),
        "sweep_s": round(sweep, 3),
        "finished": done,
        "statuses": marks,
        "frames": frames,
        "frames_per_s": round(frames / sweep, 1) if sweep else 0.0,
        "draws": draws,
        "draws_per_s": round(draws / sweep, 1) if sweep else 0.0,
        "keys": len(latencies),
        "keys_unanswered": lost,
        "key_p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "key_p99_ms": round(_p99(latencies), 1) if latencies else None,
        "peak_mb": round(peak, 1),
        "slow_keys": slow,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.app", description=__doc__)
    parser.add_argument("fixture", metavar="FIXTURE")
    parser.add_argument("nameserver", metavar="HOST:PORT")
    parser.add_argument("--keys", type=int, default=200, metavar="N")
    args = parser.parse_args(argv)
    host, _, port = args.nameserver.rpartition(":")
    out = asyncio.run(measure(args.fixture, (host, int(port)), max(0, args.keys)))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
