"""What the lab serves instead of the truth: a fixture's `lab:` blocks, by service name.

The faults are the lab's concern, not the workspace's: the fixture loader reads each `lab:`
block (`pnet.sources.fixture.LabFaults`, defined with the format it belongs to, below the
lab) beside the workspace (`pnet.sources.fixture.read`), and only the lab and the tests use
them. A service the mapping does not name serves the truth.
"""

from __future__ import annotations

from collections.abc import Mapping

from pnet.sources.fixture import LAB_BINDS as BINDS
from pnet.sources.fixture import LAB_PROTOCOLS as PROTOCOLS
from pnet.sources.fixture import LabFaults

__all__ = ["BINDS", "NO_FAULTS", "PROTOCOLS", "Faults", "LabFaults", "of"]

NO_FAULTS = LabFaults()

Faults = Mapping[str, LabFaults]
"""Service name -> its faults; a service not named serves the truth."""


def of(faults: Faults | None, service: str) -> LabFaults:
    """A service's faults, or none (the defaults) when the fixture gives none."""
    if faults is None:
        return NO_FAULTS
    return faults.get(service, NO_FAULTS)
