"""Redraws asked for many times a second (a sweep lands thousands of results), drawn at most
once every `interval` seconds: the first one at once, and the last one always."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.css.query import NoMatches

REDRAW_S = 0.1
RETRIES = 600


class Coalesced:
    """`draw()` through a gate: at once when the last draw is `interval` old, else once when
    it is, however many times it was asked for in between. A draw at once raises what `draw`
    raises, as a plain call would."""

    def __init__(self, owner: Any, draw: Callable[[], None], interval: float = REDRAW_S) -> None:
        self.owner = owner
        self.draw = draw
        self.interval = interval
        self.last = float("-inf")
        self.timer: Any = None

    def __call__(self) -> None:
        if self.timer is not None:
            return
        wait = self.last + self.interval - time.monotonic()
        if wait <= 0:
            self.last = time.monotonic()
            self.draw()
            return
        self.timer = self.owner.set_timer(wait, self._due)

    def _due(self, retries: int = RETRIES) -> None:
        """The trailing draw; while another screen covers the one it draws on (a modal, the
        command palette), it waits for that screen to go, up to RETRIES times."""
        self.timer = None
        self.last = time.monotonic()
        try:
            self.draw()
        except NoMatches:
            if retries > 0 and getattr(self.owner, "is_running", False):
                self.timer = self.owner.set_timer(self.interval, lambda: self._due(retries - 1))
