"""ProbeResult: frozen, JSON-serialisable, and read back from its JSON."""

from __future__ import annotations

import dataclasses
import json

import pytest

from pnet.probes import Outcome, ProbeResult


def test_json_round_trip() -> None:
    r = ProbeResult(
        kind="http",
        target="http://api-x7f2:8080/healthz",
        outcome=Outcome.HTTP_STATUS,
        elapsed_ms=12.5,
        detail="503",
        evidence={"status": 503, "timings": {"connect": 1.2}},
        key="http:api",
    )
    data = json.loads(json.dumps(r.to_json()))
    assert data["outcome"] == "http-status" and data["ms"] == 12.5
    assert ProbeResult.from_json(data) == r


def test_default_key_and_frozen() -> None:
    r = ProbeResult(kind="tcp", target="127.0.0.1:80", outcome=Outcome.OK, elapsed_ms=0.04)
    assert r.to_json()["key"] == "tcp:127.0.0.1:80" and r.ok
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.outcome = Outcome.TIMEOUT  # type: ignore[misc]


def test_outcomes_are_strings() -> None:
    assert {str(o) for o in Outcome} >= {"ok", "nxdomain", "timeout", "protocol-error"}
    assert Outcome.OK.good and not Outcome.REFUSED.good
