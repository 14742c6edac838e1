"""Each sample Blueprint loads into exactly the Workspace recorded in tests/golden/blueprints/.

Every field of every service, env var, environment and note is compared, so a change in what
the loader builds shows up here as a diff. `PNET_UPDATE_GOLDEN=1` rewrites the recorded files
after an intended change.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from pnet.sources import blueprint

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "fixtures" / "blueprints"
GOLDEN = Path(__file__).resolve().parent / "golden" / "blueprints"
SAMPLES = sorted(BLUEPRINTS.glob("*.yaml"))


def _portable(value: Any, path: Path) -> Any:
    """The loaded value as JSON data, with the sample's absolute path made repository-relative."""
    if isinstance(value, str):
        return value.replace(str(path), path.relative_to(ROOT).as_posix())
    if isinstance(value, dict):
        return {str(k): _portable(v, path) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_portable(v, path) for v in value]
    return value


def snapshot(path: Path) -> str:
    """The Workspace a Blueprint file loads into, as stable, indented JSON."""
    ws = blueprint.load(path)
    data = _portable(dataclasses.asdict(ws), path)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_every_sample_has_a_golden_file() -> None:
    assert SAMPLES
    recorded = {p.stem for p in GOLDEN.glob("*.json")}
    assert recorded == {p.stem for p in SAMPLES}


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_loads_into_the_recorded_workspace(path: Path) -> None:
    text = snapshot(path)
    golden = GOLDEN / f"{path.stem}.json"
    if os.environ.get("PNET_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
