"""The pnet-doctor contract without a network: exit codes, bad input, --explain, output forms."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from pnet import doctor
from pnet.diagnose import KINDS
from pnet.diagnose.explain import EXPLANATIONS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACME = str(FIXTURES / "render-acme.yaml")
HEALTHY = str(FIXTURES / "render-healthy.yaml")
SHOP = str(FIXTURES / "railway-shop.yaml")


class _Stream(io.StringIO):
    def __init__(self, tty: bool = False, encoding: str | None = "utf-8") -> None:
        super().__init__()
        self._tty = tty
        self._encoding = encoding

    def isatty(self) -> bool:
        return self._tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding or ""


def run(
    argv: list[str],
    env: dict[str, str] | None = None,
    *,
    tty: bool = False,
    encoding: str | None = "utf-8",
) -> tuple[int, str, str]:
    out, err = _Stream(tty, encoding), _Stream(tty, encoding)
    rc = doctor.main(argv, stdout=out, stderr=err, environ=env or {})
    return rc, out.getvalue(), err.getvalue()


def _one_error_line(rc: int, out: str, err: str) -> str:
    assert rc == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pnet-doctor: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_exit_codes_follow_the_findings():
    assert run(["--workspace", HEALTHY, "--offline"])[0] == 0
    assert run(["--workspace", ACME, "--offline", "--from", "api"])[0] == 1
    rc, out, _ = run(["--workspace", ACME, "--offline", "--from", "web", "--format", "json"])
    assert rc == 1 and json.loads(out)["summary"]["errors"] == 1
    warnings_only = [
        "--workspace",
        ACME,
        "--offline",
        "--from",
        "api",
        "https://auth-77aq.onrender.com",
    ]
    assert run(warnings_only)[0] == 0


def test_bad_input_is_one_line_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("platform: render\nservices:\n  - name: api\n    type: web\n    colour: blue\n")
    line = _one_error_line(*run(["--workspace", str(bad), "--offline"]))
    assert f"{bad}:5:" in line and "colour" in line
    missing = _one_error_line(*run(["--workspace", str(tmp_path / "nope.yaml")]))
    assert "nope.yaml" in missing
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("services: [\n")
    assert str(garbage) in _one_error_line(*run(["--workspace", str(garbage)]))


@pytest.mark.parametrize(
    "argv",
    [
        ["--bogus"],
        ["--format", "xml"],
        ["--color", "purple"],
        ["--timeout", "soon"],
        ["--workspace", ACME, "--timeout", "0"],
        ["--workspace", ACME, "--nameserver", "nowhere"],
        ["--workspace", ACME, "--nameserver", "127.0.0.1:99999"],
        ["--workspace", ACME, "--offline", "--nameserver", "127.0.0.1:53"],
        ["--workspace", ACME, "--all", "api"],
        ["--workspace", ACME, "--all", "--from", "api"],
        ["--workspace", ACME, "--render-api-key", "rnd_x", "--railway-token", "y"],
        ["--workspace", ACME, "--offline", "--from", "api", "not a target at all"],
        ["--workspace", ACME, "--blueprint", ACME],
        ["--offline"],
    ],
)
def test_bad_usage_is_one_line_and_exit_2(argv):
    _one_error_line(*run(argv))


def test_unknown_source_service_names_the_closest():
    line = _one_error_line(*run(["--workspace", ACME, "--offline", "--from", "aip"]))
    assert "aip" in line and "api" in line


def test_explain_every_kind():
    assert set(EXPLANATIONS) == set(KINDS)
    for kind in KINDS:
        rc, out, err = run(["--explain", kind])
        assert rc == 0 and err == ""
        assert out.startswith(f"{kind} ({KINDS[kind].severity.value})")
        for section in ("What it means", "How pnet detects it", "How to fix it", "Docs"):
            assert section in out
        assert "https://" in out


def test_explain_an_unknown_kind_lists_the_kinds():
    line = _one_error_line(*run(["--explain", "slow-dns"]))
    assert all(k in line for k in KINDS)


def test_version():
    rc, out, _ = run(["--version"])
    assert rc == 0 and out.startswith("pnet-doctor ")


def test_json_contract():
    _rc, out, err = run(["--workspace", SHOP, "--offline", "--from", "api", "--format", "json"])
    data = json.loads(out)
    assert set(data) >= {"version", "workspace", "source", "checks", "findings", "summary"}
    assert data["version"] == 1
    assert data["workspace"]["name"] == "shop" and data["workspace"]["platform"] == "railway"
    svc = data["workspace"]["services"][0]
    assert set(svc) == {"name", "type", "environment", "plan", "host", "ports"}
    assert data["source"]["name"] == "api"
    for check in data["checks"]:
        assert {"target", "service", "probes"} <= set(check)
    for f in data["findings"]:
        fields = {"kind", "severity", "subject", "service", "message", "evidence", "fix"}
        assert fields <= set(f) <= fields | {"location"}
        if "location" in f:
            assert set(f["location"]) == {"file", "line", "column"}
            assert f["location"]["file"] == SHOP and f["location"]["line"] >= 1
        assert f["kind"] in KINDS and f["severity"] == KINDS[f["kind"]].severity.value
    assert set(data["summary"]) >= {"errors", "warnings", "ok"}
    checks, found = data["summary"]["checks"], data["summary"]["findings"]
    assert checks["total"] == len(data["checks"])
    assert checks["ok"] + checks["warning"] + checks["error"] + checks["not_checked"] == len(
        data["checks"]
    )
    assert (
        found["total"] == len(data["findings"]) == found["error"] + found["warning"] + found["info"]
    )
    assert err == ""


def test_render_json_service_shape():
    data = json.loads(run(["--workspace", ACME, "--offline", "--format", "json"])[1])
    svc = next(s for s in data["workspace"]["services"] if s["name"] == "api")
    assert svc == {
        "name": "api",
        "type": "web",
        "region": "oregon",
        "plan": "starter",
        "host": "api-x7f2",
        "ports": [8080],
    }
    assert data["source"] is None


def test_text_marks_fixes_and_summary():
    _rc, out, _ = run(["--workspace", ACME, "--offline", "--from", "api"])
    lines = out.splitlines()
    assert lines[0].startswith("pnet-doctor: acme (render), from api")
    assert any(line.startswith("✗ SEARCH_URL") for line in lines)
    assert any(line.startswith("· DATABASE_URL") for line in lines)
    assert any(line.startswith("! AUTH_URL") for line in lines)
    at = lines.index("✗ SEARCH_URL")
    problem = "error wrong-port: search does not listen on port 9300; it listens on 9200"
    assert lines[at + 1] == f"    {ACME}:22: {problem}"
    assert "    fix: SEARCH_URL=http://search-q1w2:9200" in lines
    assert lines[-1] == (
        "19 checks: 0 ok, 2 warning, 8 error, 9 not checked · findings: 8 errors, 4 warnings"
    )
    assert not any(line.startswith("✓") for line in lines)
    assert any(
        line.startswith("· SEARCH_DATABASE_URL") and line.endswith("not checked: offline")
        for line in lines
    )


def test_ascii_fallback_when_the_output_is_not_utf8():
    _, out, _ = run(["--workspace", ACME, "--offline", "--from", "api", "-v"], encoding="ascii")
    out.encode("ascii")
    assert "\nx SEARCH_URL" in out and "\n- DATABASE_URL" in out and "******" in out


def test_json_on_an_ascii_stream_is_escaped():
    argv = ["--workspace", ACME, "--offline", "--from", "api", "--format", "json"]
    _, out, _ = run(argv, encoding="ascii")
    out.encode("ascii")
    assert json.loads(out)["findings"]


def test_colour_only_on_a_tty_or_when_asked_and_never_with_no_color():
    argv = ["--workspace", ACME, "--offline", "--from", "api"]
    assert "\x1b[" not in run(argv)[1]
    assert "\x1b[" in run(argv, tty=True)[1]
    assert "\x1b[" in run([*argv, "--color", "always"])[1]
    assert "\x1b[" not in run([*argv, "--color", "never"], tty=True)[1]
    assert "\x1b[" not in run([*argv, "--color", "always"], {"NO_COLOR": "1"}, tty=True)[1]


def test_targets_on_the_command_line():
    argv = ["--workspace", ACME, "--offline", "--from", "api", "--format", "json"]
    data = json.loads(run([*argv, "http://search-q1w2:9300", "mailer", "images-p0o9:7000"])[1])
    got = {(f["kind"], f["subject"]) for f in data["findings"]}
    assert ("wrong-port", "http://search-q1w2:9300") in got
    assert ("not-receiving", "mailer") in got
    assert [c["target"] for c in data["checks"]] == [
        "http://search-q1w2:9300",
        "mailer",
        "images-p0o9:7000",
    ]


def test_offline_lint_of_a_blueprint():
    rc, out, err = run(
        [
            "--blueprint",
            str(FIXTURES / "blueprints" / "mistakes.yaml"),
            "--offline",
            "--format",
            "json",
        ]
    )
    assert err == "" and rc == 1
    got = {(f["kind"], f["subject"]) for f in json.loads(out)["findings"]}
    assert {
        ("client-side-private-url", "frontend.NEXT_PUBLIC_API_URL"),
        ("missing-scheme", "frontend.API_URL"),
        ("not-receiving", "backend.JOBS_HOST"),
        ("cross-region", "backend.DATABASE_URL"),
        ("unknown-host", "backend.REDIS_URL"),
        ("public-database", "service:main-db"),
    } <= got


def test_offline_lint_sees_an_isolated_environment():
    path = str(FIXTURES / "blueprints" / "projects.yaml")
    rc, out, _ = run(["--blueprint", path, "--offline", "--format", "json"])
    got = {(f["kind"], f["subject"]) for f in json.loads(out)["findings"]}
    assert got == {("cross-environment", "ledger-api-staging.RATES_HOST")} and rc == 1


def test_every_sample_blueprint_lints_without_a_traceback():
    for path in sorted((FIXTURES / "blueprints").glob("*.yaml")):
        rc, out, err = run(["--blueprint", str(path), "--offline"])
        assert rc in (0, 1), (path, err)
        assert err == "" and out.splitlines()[-1]


def test_inside_an_instance_the_environment_is_the_source(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    env = {
        "RENDER": "true",
        "RENDER_SERVICE_NAME": "api-x7f2",
        "RENDER_SERVICE_TYPE": "web",
        "RENDER_SERVICE_ID": "srv-abcdefghij0123456789",
        "PORT": "8080",
        "NEXT_PUBLIC_API": "http://search-q1w2:9200",
        "SEARCH_URL": "http://search-q1w2:9200",
    }
    rc, out, err = run(["--offline", "--format", "json"], env)
    data = json.loads(out)
    assert data["source"]["host"] == "api-x7f2"
    assert {f["kind"] for f in data["findings"]} == {"client-side-private-url"}
    assert rc == 1 and err == ""


def test_progress_on_a_tty_stderr_is_erased_and_stdout_carries_only_the_report():
    progress = doctor._Progress(_Stream(tty=True), 3, True)
    for subject in ("A", "B", "C"):
        progress.step(subject)
    progress.close()
    text = progress.stream.getvalue()  # type: ignore[attr-defined]
    assert "probing 3/3" in text and text.endswith("\r\x1b[K")
    quiet = doctor._Progress(_Stream(tty=False), 3, False)
    quiet.step("A")
    quiet.close()
    assert quiet.stream.getvalue() == ""  # type: ignore[attr-defined]
