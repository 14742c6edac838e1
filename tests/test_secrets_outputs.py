"""No output of pnet carries a secret, and every output is valid UTF-8.

Values in every form of tests/secretforms.py are planted in a workspace (as the variables of
`api` in render-healthy.yaml) and given as TARGETs; then each output path is read: the doctor's
text and JSON offline and against the lab (with the progress line), its error lines, and the
app's Markdown and JSON export. Files that are not workspace descriptions at all (a shadow
file, an `.env`, a key) give an error line that quotes none of their secrets.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnet import checks
from pnet.formats.dispatch import FORMATS
from pnet.lab import LabThread
from pnet.sources.fixture import load, loads
from pnet.targets import targets_from_env
from pnet.tui.export import ServiceState, as_json, markdown
from pnet.tui.status import Status
from tests import secretforms
from tests.fuzzing import FIXTURES, Run, fuzz, run_doctor

HEALTHY = FIXTURES / "render-healthy.yaml"
BASE = HEALTHY.read_text(encoding="utf-8")
ENV_AT = BASE.index("    env:\n") + len("    env:\n")

Planted = tuple[list[str], list[tuple[str, str]], list[str]]


def planted_fixture(values: list[str], named: list[tuple[str, str]]) -> str:
    """render-healthy.yaml with the values as `api`'s variables (URL names, then secret names)."""
    lines = [f"      PLANTED_{i}_URL: {json.dumps(v)}\n" for i, v in enumerate(values)]
    lines += [f"      {k}: {json.dumps(v)}\n" for k, v in named]
    return BASE[:ENV_AT] + "".join(lines) + BASE[ENV_AT:]


@st.composite
def planted(draw: st.DrawFn) -> Planted:
    found = draw(st.lists(secretforms.forms(), min_size=1, max_size=5))
    named = draw(st.lists(secretforms.named(), max_size=2, unique_by=lambda n: n[0]))
    values = [v for v, _ in found]
    secrets = [s for _, ss in found for s in ss] + [s for _, _, ss in named for s in ss]
    return values, [(k, v) for k, v, _ in named], secrets


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pnet-secrets-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with LabThread(load(HEALTHY)) as running:
        yield running


def _no_leak(secrets: list[str], *runs: Run | str) -> None:
    for run in runs:
        text = run if isinstance(run, str) else run.out + run.err
        leaked = secretforms.leaked(secrets, text)
        assert not leaked, (leaked, run if isinstance(run, str) else run.context(), text[-3000:])


@fuzz(40)
@given(planted())
def test_doctor_offline(scratch: Path, case: Planted) -> None:
    values, named, secrets = case
    path = scratch / "planted.yaml"
    path.write_text(planted_fixture(values, named), encoding="utf-8")
    base = ["--workspace", str(path), "--offline"]
    runs = [
        run_doctor([*base, "--from", "api", "--format", fmt, "--color", color])
        for fmt in FORMATS
        for color in ("never", "always")
    ]
    runs.append(run_doctor([*base, "--all", "--format", "json"]))
    runs += [run_doctor([*base, "--from", "api", value]) for value in values]
    runs += [run_doctor([*base, "--from", "api", "--format", "json", *values])]
    _no_leak(secrets, *runs)


@fuzz(5)
@given(planted())
def test_doctor_against_the_lab(lab: LabThread, scratch: Path, case: Planted) -> None:
    values, named, secrets = case
    path = scratch / "planted-live.yaml"
    path.write_text(planted_fixture(values, named), encoding="utf-8")
    host, port = lab.nameserver
    base = ["--workspace", str(path), "--nameserver", f"{host}:{port}", "--timeout", "0.5"]
    runs = [
        run_doctor([*base, "--from", "api", "--format", fmt], tty_stderr=True)
        for fmt in ("text", "json")
    ]
    runs.append(run_doctor([*base, "--from", "api", *values[:2]], tty_stderr=True))
    assert any("probing" in r.err for r in runs), "the progress line was not written"
    _no_leak(secrets, *runs)


def _export(workspace_text: str, nameserver: tuple[str, int] | None) -> tuple[str, str]:
    workspace = loads(workspace_text)
    api = workspace.service("api")
    assert api is not None
    targets = targets_from_env(workspace, api)
    if nameserver is None:
        report = checks.run_offline(workspace, api, targets)
    else:
        options = checks.Options(nameserver=nameserver).scaled(0.25)
        report = asyncio.run(checks.run(workspace, api, targets, options))
    states = [
        ServiceState(
            service=api,
            status=Status.ERROR if report.summary["errors"] else Status.OK,
            results=[r for c in report.checks for r in c.results],
            findings=list(report.findings),
            report=report,
        )
    ]
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    text = markdown(workspace, api, states, when, path_lines=[t.raw for t in targets])
    data = json.dumps(as_json(workspace, api, states, when), ensure_ascii=False)
    data.encode("utf-8")
    return text, data


@fuzz(25)
@given(planted())
def test_export_offline(case: Planted) -> None:
    values, named, secrets = case
    _no_leak(secrets, *_export(planted_fixture(values, named), None))


@fuzz(3)
@given(planted())
def test_export_after_probing_the_lab(lab: LabThread, case: Planted) -> None:
    values, named, secrets = case
    _no_leak(secrets, *_export(planted_fixture(values, named), lab.nameserver))


# ---- files that are not workspace descriptions -------------------------------------------

HOSTILE_FILES = {
    "shadow": (
        "root:$6$Vx9Q2rT8$Qm3Lk8Jr2Wn5Bt7Yc1Zf4Hd6Gs9Pa0Xe3Uv5Io7Ky2Nb4Mh6Lj8Cq1Dw3Er5Ts7:19000:0:99999:7:::\n"
        "daemon:*:19000:0:99999:7:::\n",
        ["Qm3Lk8Jr2Wn5Bt7Yc1Zf4Hd6Gs9Pa0Xe3Uv5"],
    ),
    "dotenv": (
        "STRIPE_KEY=sk_live_51Hq8Rt2Wn5Bt7Yc1Zf4Hd6G\nDB_PASS=Pw9xK2mQ7vT4\n",
        ["sk_live_51Hq8Rt2Wn5Bt7Yc1Zf4Hd6G", "Pw9xK2mQ7vT4"],
    ),
    "dotenv-yaml": (
        "STRIPE_KEY: sk_live_51Hq8Rt2Wn5Bt7Yc1Zf4Hd6G\nDB_PASS: Pw9xK2mQ7vT4\n",
        ["sk_live_51Hq8Rt2Wn5Bt7Yc1Zf4Hd6G", "Pw9xK2mQ7vT4"],
    ),
    "service-account": (
        '{"type": "service_account", "private_key_id": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",'
        ' "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n'
        '-----END PRIVATE KEY-----\\n", "client_email": "x@y.iam.gserviceaccount.com"}\n',
        ["a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"],
    ),
    "ssh-key": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
        "-----END OPENSSH PRIVATE KEY-----\n",
        ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"],
    ),
    "pgpass": ("dpg-x-a:5432:acme:acme:Pw9xK2mQ7vT4\n", ["Pw9xK2mQ7vT4"]),
    "netrc": ("machine api.render.com login me password Pw9xK2mQ7vT4\n", ["Pw9xK2mQ7vT4"]),
    "aws": (
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
@pytest.mark.parametrize("option", ["--workspace", "--blueprint"])
def test_a_file_of_secrets_is_one_line_that_quotes_none(
    tmp_path: Path, name: str, option: str
) -> None:
    text, secrets = HOSTILE_FILES[name]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    run = run_doctor([option, str(path), "--offline"])
    assert run.code == 2, run.context()
    _no_leak(secrets, run)


def test_an_environment_value_that_is_not_utf8_gives_valid_json(monkeypatch) -> None:
    monkeypatch.chdir(tempfile.gettempdir())
    environ = {
        "RENDER": "true",
        "RENDER_SERVICE_NAME": "api-x7f2",
        "RENDER_SERVICE_TYPE": "web",
        "PORT": "10000",
        "SEARCH_URL": "http://search-q1w2:9200/caf\udce9",
        "IMAGES_URL": "images-p0o9:7000/caf\udce9",
        "NOTE\udcff": "x",
    }
    for fmt in ("json", "text"):
        run = run_doctor(["--offline", "--format", fmt], environ)
        assert run.code in (0, 1)
        run.out.encode("utf-8")
        if fmt == "json":
            values = [c["value"] for c in json.loads(run.out)["checks"]]
            assert any("caf\\xe9" in v for v in values), values
        else:
            assert "IMAGES_URL=http://images-p0o9:7000/caf\\xe9" in run.out, run.out
