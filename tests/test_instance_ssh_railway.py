"""Inside a Railway instance of a legacy (IPv6-only) environment over real SSH: `pnet-doctor`
with no option, from nothing but the instance's environment.

The lab serves tests/instance/railway-legacy.yaml in network namespaces (root, Linux): the
environment has no IPv4 at all, and `api`'s own app binds 0.0.0.0 only. sshd runs inside api's
instance (tests.sshsession); the client connects over IPv6 from the instance of `worker`.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pnet.lab import netns
from pnet.sources.fixture import read
from tests.labspaces import lab_thread
from tests.sshsession import Keys, Session, Sshd, kinds_by_subject, missing, report_in

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(netns.available() is not None, reason=str(netns.available())),
    pytest.mark.skipif(missing() is not None, reason=str(missing())),
]

WORKSPACE = Path(__file__).resolve().parent / "instance" / "railway-legacy.yaml"
DOCTOR = Path(sys.executable).parent / "pnet-doctor"
PASSWORD = "Yw6cN1sD4fH8"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    keys = Keys.make(tmp_path_factory.mktemp("keys"))
    with lab_thread(read(WORKSPACE), netns=True) as lab:
        sshd = Sshd(lab, "api", tmp_path_factory.mktemp("sshd"), keys).start()
        try:
            yield sshd
        finally:
            sshd.stop()
        assert sshd.left() == [], "processes left in api's instance"


@pytest.fixture(scope="module")
def run(api: Sshd, tmp_path_factory: pytest.TempPathFactory) -> Session:
    if not DOCTOR.is_file():
        pytest.skip(f"{DOCTOR} is missing: install pnet in this environment")
    folder = tmp_path_factory.mktemp("app")
    return api.run("worker", f"cd {shlex.quote(str(folder))} && {DOCTOR} --format json")


def test_the_session_came_over_ipv6(api: Sshd, run: Session) -> None:
    assert ":" in api.address and api.lab.addresses("worker")[0].startswith("fd70:")
    assert f"Accepted publickey for root from {api.lab.addresses('worker')[0]}" in api.log_text()


def test_what_the_instance_finds_on_an_ipv6_only_network(run: Session) -> None:
    data = report_in(run.terminal)
    assert run.status == 1, run.everything
    assert data["workspace"]["platform"] == "railway"
    assert data["source"]["environment"] == "production"
    assert kinds_by_subject(data) == {
        "service:api": {"ipv4-only-bind"},
        "REDIS_URL": {"ipv6-only-name"},
        "CATALOG_URL": {"tls-on-private"},
    }
    checks = {c["target"]: c for c in data["checks"]}
    assert checks["PAYMENTS_URL"]["status"] == "ok", checks["PAYMENTS_URL"]
    (own,) = (f for f in data["findings"] if f["subject"] == "service:api")
    assert "0.0.0.0:3000" in " ".join(own["evidence"])
    (redis,) = (f for f in data["findings"] if f["subject"] == "REDIS_URL")
    assert "family=0" in redis["fix"]


def test_no_password_in_any_output(run: Session) -> None:
    assert PASSWORD not in run.everything
    assert "redis://default:••••••@redis.railway.internal:6379" in run.terminal
