"""A Lab in its own thread and event loop, for blocking callers (the app, the tests)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from types import TracebackType

from pnet.lab.faults import Faults
from pnet.lab.network import LabError, Served
from pnet.lab.server import Lab
from pnet.model import Workspace


class LabThread:
    """A Lab in its own thread and event loop, for blocking callers (the app, tests)."""

    def __init__(
        self,
        workspace: Workspace,
        faults: Faults | None = None,
        *,
        dns_port: int = 0,
        netns: bool = False,
    ) -> None:
        self.lab = Lab(workspace, faults, dns_port=dns_port, netns=netns)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def __enter__(self) -> LabThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def nameserver(self) -> tuple[str, int]:
        return self.lab.nameserver

    def nameserver_for(self, location: str | None) -> tuple[str, int]:
        return self.lab.nameserver_for(location)

    def addresses(self, service_name: str) -> list[str]:
        return self.lab.addresses(service_name)

    def served(self, service_name: str | None = None) -> list[Served]:
        return self.lab.served(service_name)

    @property
    def notes(self) -> list[str]:
        return self.lab.notes

    def start(self, timeout: float = 60.0) -> None:
        """Start the lab; returns once everything listens, raises what start raised."""
        if self._thread is not None:
            raise RuntimeError("the lab thread is already started")
        self._thread = threading.Thread(target=self._run, name="pnet-lab", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise LabError(f"the lab did not start within {timeout:g} s")
        if self._error is not None:
            self._thread.join()
            raise self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._stopping = asyncio.Event()
            try:
                loop.run_until_complete(self.lab.start())
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_until_complete(self._stopping.wait())
            loop.run_until_complete(self.lab.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the lab and join its thread (idempotent)."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None or loop is None or stopping is None:
            return
        if thread.is_alive():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout)
