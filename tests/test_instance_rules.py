"""Inside an instance with nothing but its environment: what pnet establishes from the
environment, the resolver and the sockets alone, against the lab's real DNS and listeners."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pnet import doctor
from pnet.lab import LabThread
from pnet.model import Workspace
from pnet.sources.fixture import read

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# What Render sets in an instance of api (oregon), and the variables the app reads.
API = {
    "RENDER": "true",
    "RENDER_SERVICE_ID": "srv-d0a1b2c3d4e5f6g7h8i9",
    "RENDER_SERVICE_NAME": "api-x7f2",
    "RENDER_SERVICE_TYPE": "web",
    "RENDER_DISCOVERY_SERVICE": "api-x7f2-discovery",
    "RENDER_EXTERNAL_URL": "https://api-x7f2.onrender.com",
    "PORT": "8080",
    "AUTH_URL": "https://auth-77aq.onrender.com",
    "IMAGES_URL": "images-p0o9:7000",
    "GRAPH_URL": "https://graph-z5x6:4000",
    "CACHE_URL": "redis://red-c0d1e2f3g4h5i6j7k8l9:6379",
    "QUEUE_URL": "http://queue-r4t5:7000",
    "REPORTS_URL": "http://reports-d3f4:9000",
    "BILLING_URL": "http://billing-m3n4:8000",
    "MAILER_URL": "http://mailer-j8k9:8000",
    "SEARCH_URL": "http://search-q1w2:9200",
    "DATABASE_URL": "postgresql://acme:Hx9sK2pQ7vW4@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme",
    "STRIPE_URL": "https://api.stripe.com/v1",
    "CORS_ORIGIN": "https://web-b8c9.onrender.com",
}


@pytest.fixture(scope="module")
def acme() -> Iterator[tuple[Workspace, LabThread]]:
    fx = read(FIXTURES / "render-acme.yaml")
    with LabThread(fx.workspace, fx.lab) as lab:
        yield fx.workspace, lab


def _doctor(lab: LabThread, environ: dict[str, str], tmp: Path, *args: str) -> dict[str, Any]:
    ns = lab.nameserver_for("oregon")
    out, err = io.StringIO(), io.StringIO()
    argv = ["--nameserver", f"{ns[0]}:{ns[1]}", "--timeout", "1", "--format", "json", *args]
    import os

    here = os.getcwd()
    os.chdir(tmp)
    try:
        rc = doctor.main(argv, stdout=out, stderr=err, environ=environ)
    finally:
        os.chdir(here)
    data: dict[str, Any] = json.loads(out.getvalue())
    assert rc == (1 if data["summary"]["errors"] else 0), err.getvalue()
    return data


def _found(data: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in data["findings"]:
        out.setdefault(f["subject"], set()).add(f["kind"])
    return out


def test_what_the_environment_alone_establishes(
    acme: tuple[Workspace, LabThread], tmp_path: Path
) -> None:
    _, lab = acme
    data = _doctor(lab, API, tmp_path)
    found = _found(data)
    checks = {c["target"]: c for c in data["checks"]}
    assert found["AUTH_URL"] == {"wrong-url"}
    auth = next(f for f in data["findings"] if f["subject"] == "AUTH_URL")
    assert auth["fix"].startswith("AUTH_URL=http://auth-77aq:")
    assert found["IMAGES_URL"] == {"missing-scheme"}
    assert found["GRAPH_URL"] == {"tls-on-private"}
    assert found["CACHE_URL"] == {"auth-required"}
    assert found["QUEUE_URL"] == {"refused"}
    assert found["REPORTS_URL"] & {"refused", "loopback-bind"}
    for name in ("BILLING_URL", "MAILER_URL"):
        assert found[name] == {"unknown-host"}
        f = next(f for f in data["findings"] if f["subject"] == name)
        assert "pnet sees only this service" in f["fix"]
        assert "not the internal address of any service" not in f["message"]
    for ok in ("SEARCH_URL", "DATABASE_URL"):
        assert ok not in found and checks[ok]["status"] == "ok"
    for public in ("STRIPE_URL", "CORS_ORIGIN"):
        assert public not in found and checks[public]["status"] == "not-checked"
    text = json.dumps(data)
    assert "Hx9sK2pQ7vW4" not in text


def test_its_own_instances_through_its_discovery_name(
    acme: tuple[Workspace, LabThread], tmp_path: Path
) -> None:
    _, lab = acme
    inventory = {
        "RENDER": "true",
        "RENDER_SERVICE_NAME": "inventory-k4l5",
        "RENDER_SERVICE_TYPE": "pserv",
        "RENDER_DISCOVERY_SERVICE": "inventory-k4l5-discovery",
        "PORT": "8000",
    }
    data = _doctor(lab, inventory, tmp_path)
    own = next(c for c in data["checks"] if c["target"] == "service:inventory")
    assert any(p["kind"] == "discovery" and p["outcome"] == "ok" for p in own["probes"])
    assert _found(data).get("service:inventory", set()) >= {"instance-down"}


def test_an_assumed_port_is_never_the_ground_of_an_error(
    acme: tuple[Workspace, LabThread], tmp_path: Path
) -> None:
    _, lab = acme
    search = {
        "RENDER": "true",
        "RENDER_SERVICE_NAME": "api-x7f2",
        "RENDER_SERVICE_TYPE": "web",
        "SEARCH_URL": "http://search-q1w2:9200",
    }
    data = _doctor(lab, search, tmp_path)
    kinds = {f["kind"] for f in data["findings"]}
    assert "wrong-port" not in kinds
    me = next(s for s in data["workspace"]["services"] if s["host"] == "api-x7f2")
    assert "ports" in me.get("assumed", [])
