"""The collector's pace during a sweep, and the thresholds it gives back."""

from __future__ import annotations

import gc

from pnet.collector import collecting_rarely


def test_a_run_restores_the_collector_thresholds_it_found() -> None:
    before = gc.get_threshold()
    gc.set_threshold(900, 11, 12)
    try:
        with collecting_rarely():
            assert gc.get_threshold()[0] == 20_000
            with collecting_rarely():
                pass
            assert gc.get_threshold()[0] == 20_000
        assert gc.get_threshold() == (900, 11, 12)
    finally:
        gc.set_threshold(*before)
