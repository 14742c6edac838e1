"""`pnet lab` stopped by one Ctrl-C or two in quick succession: exit 0, no traceback.

A second SIGINT that lands while the lab tears down, or while the interpreter shuts down,
changes nothing. The gaps between the two are drawn from a seeded generator (more of them
under `make fuzz`).
"""

from __future__ import annotations

import os
import random
import selectors
import signal
import subprocess
import sys
import time

import pytest

from tests.fuzzing import FIXTURES, RANDOM, SCALE

FIXTURE = str(FIXTURES / "render-healthy.yaml")


def _serving(proc: subprocess.Popen[bytes], deadline_s: float = 20.0) -> None:
    """Wait for the first stdout line (`nameserver ...`): everything listens."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout.fileno(), selectors.EVENT_READ)
        line = b""
        while not line.endswith(b"\n"):
            assert sel.select(deadline_s), "pnet lab printed nothing in time"
            byte = os.read(proc.stdout.fileno(), 1)
            assert byte, "pnet lab ended before serving"
            line += byte
    assert line.startswith(b"nameserver "), line


def _gaps() -> list[float | None]:
    rng = random.Random(None if RANDOM else 20260709)
    gaps: list[float | None] = [None, 0.0]
    gaps += [rng.choice([0.001, 0.005, 0.02, 0.05, 0.2]) for _ in range(SCALE * 2)]
    return gaps


@pytest.mark.parametrize("gap", _gaps())
def test_one_or_two_interrupts_end_cleanly(gap: float | None) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pnet.lab", FIXTURE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    try:
        _serving(proc)
        proc.send_signal(signal.SIGINT)
        if gap is not None:
            time.sleep(gap)
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=20)
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err
