"""pnet-doctor's text, the answer first: one line per target, each problem with its fix under
it, evidence and links with -v, only the problems with -q, wrapped to a terminal's width; and
a name server that does not answer is one finding."""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import socket
import struct
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from pnet import doctor
from pnet.diagnose import diagnose
from pnet.probes.result import Outcome, ProbeResult
from pnet.sources.fixture import load
from pnet.targets import targets_from_env

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACME = str(FIXTURES / "render-acme.yaml")
HEALTHY = str(FIXTURES / "render-healthy.yaml")


class _Out(io.StringIO):
    encoding = "utf-8"


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = _Out(), _Out()
    rc = doctor.main(argv, stdout=out, stderr=err, environ=env or {})
    return rc, out.getvalue(), err.getvalue()


def offline(*more: str, env: dict[str, str] | None = None) -> list[str]:
    return run(["--workspace", ACME, "--offline", "--from", "api", *more], env)[1].splitlines()


def test_one_line_per_target_then_the_problems_then_the_summary() -> None:
    lines = offline()
    checks = 19
    table = lines[2 : 2 + checks + 2]
    assert lines[1] == "" and lines[2 + checks + 2] == ""
    assert [line.split()[1] for line in table[:3]] == [
        "DATABASE_URL",
        "SESSION_REDIS_URL",
        "CACHE_URL",
    ]
    assert all(len(line) <= 80 for line in table), [line for line in table if len(line) > 80]
    assert ["✗", "SEARCH_URL", "search", "wrong-port"] in [line.split() for line in table]
    assert ["!", "service:acme-db", "acme-db", "public-database"] in [x.split() for x in table]
    problems = lines[2 + checks + 3 :]
    at = problems.index("✗ SEARCH_URL")
    assert problems[at + 1] == (
        f"    {ACME}:22: error wrong-port: search does not listen on port 9300; it listens on 9200"
    ), "where to change it, as editors and CI logs link it"
    assert problems[at + 2] == "    fix: SEARCH_URL=http://search-q1w2:9200"
    assert not any("https://render.com/docs" in line for line in lines)
    assert not any(line.lstrip().startswith("· ") for line in problems), "evidence is for -v"
    assert lines[-1].startswith("19 checks: ")
    assert len(lines) < 80


def test_verbose_adds_the_evidence_and_each_link_once_at_the_end() -> None:
    lines = offline("-v")
    text = "\n".join(lines)
    assert "    · search listens on 9200 (its open ports)" in lines
    links = re.findall(r"https://render\.com/docs/[\w/-]+", text)
    assert links and len(links) == len(set(links)), "each link once"
    docs = lines.index("docs (pnet-doctor --explain KIND says more):")
    assert all("https://render.com/docs" not in line for line in lines[:docs])
    assert any(line.startswith("  https://render.com/docs/private-network  (") for line in lines)


def test_quiet_prints_only_the_problems_and_the_summary() -> None:
    lines = offline("-q")
    assert lines[0] == "✗ SESSION_REDIS_URL"
    assert lines[1].startswith(f"    {ACME}:19: error wrong-protocol: ")
    assert not any(line.startswith("pnet-doctor:") for line in lines)
    assert not any(line.startswith("· ") for line in lines), "no table"
    assert lines[-1].startswith("19 checks: ")
    _, out, _ = run(["--workspace", HEALTHY, "--offline", "-q"])
    assert out.splitlines() == [
        "9 checks: 0 ok, 0 warning, 0 error, 9 not checked · findings: 0 errors, 0 warnings"
    ]
    rc, _, err = run(["--workspace", ACME, "--offline", "-q", "-v"])
    assert rc == 2 and "not allowed with" in err


def _words(lines: list[str]) -> list[str]:
    return [w for w in " ".join(lines).split() if w != "·"]


def overflows_alone(line: str, width: int) -> bool:
    """A line longer than `width` only because its one last word is longer than any line."""
    head, _, last = line.rstrip().rpartition(" ")
    return len(head) < width and len(last) > width - 12


@pytest.mark.parametrize("width", [60, 80])
def test_columns_wraps_at_spaces_and_never_cuts_a_word(width: int) -> None:
    whole = offline("-v")
    wrapped = offline("-v", env={"COLUMNS": str(width)})
    assert _words(wrapped) == _words(whole), "the same words, none broken"
    for line in wrapped:
        if len(line) > width:
            assert overflows_alone(line, width), line
    fix = next(i for i, line in enumerate(wrapped) if line.startswith("    fix: BILLING_DATABASE"))
    assert wrapped[fix + 1].startswith("         "), "a fix's next line stays under it"


@pytest.fixture
def tty() -> Iterator[tuple[int, int]]:
    main, child = os.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 70, 0, 0))
    try:
        yield main, child
    finally:
        os.close(main)
        os.close(child)


def test_on_a_terminal_the_text_fits_its_width(tty: tuple[int, int]) -> None:
    main, child = tty
    with os.fdopen(os.dup(child), "w", encoding="utf-8") as out:
        assert doctor._width(out, {}) == 70
    err = _Out()
    with os.fdopen(os.dup(child), "w", encoding="utf-8") as out:
        argv = ["--workspace", ACME, "--offline", "--from", "api", "--color", "never"]
        rc = doctor.main(argv, stdout=out, stderr=err, environ={})
    assert rc == 1
    os.set_blocking(main, False)
    data = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        data += chunk
    lines = data.decode("utf-8").replace("\r\n", "\n").splitlines()
    assert lines[0].startswith("pnet-doctor: acme")
    too_long = [line for line in lines if len(line) > 70 and not overflows_alone(line, 70)]
    assert not too_long


# ---- a name server that does not answer -------------------------------------------------


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["nothing-listens", "never-answers"])
def dead_nameserver(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "nothing-listens":
        yield f"127.0.0.1:{_free_udp_port()}"
        return
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sink.getsockname()[1]}"


def test_a_dead_name_server_is_one_finding(dead_nameserver: str) -> None:
    argv = ["--workspace", ACME, "--from", "api", "--nameserver", dead_nameserver]
    rc, out, _ = run([*argv, "--timeout", "0.4", "--format", "json"])
    data = json.loads(out)
    unknown = [f for f in data["findings"] if f["kind"] == "unknown-host"]
    assert [f["subject"] for f in unknown] == [
        f"nameserver:{dead_nameserver}",
        "RECS_URL",
    ], "one fact about the server; RECS_URL is a typo the model proves"
    assert rc == 1
    silent = [c for c in data["checks"] if c.get("reason") == "the name server did not answer"]
    assert {c["target"] for c in silent} >= {"DATABASE_URL", "QUEUE_URL", "service:api"}
    assert all(c["status"] == "not-checked" for c in silent)
    summary = data["summary"]
    assert summary["checks"]["total"] == sum(
        summary["checks"][k] for k in ("ok", "warning", "error", "not_checked")
    )
    rc, text, _ = run([*argv, "--timeout", "0.4", "-q"])
    assert text.splitlines()[0].startswith(f"✗ nameserver:{dead_nameserver}  unknown-host: ")
    assert text.count("does not answer") == 1


def test_a_name_server_that_answers_is_not_called_dead() -> None:
    ws = load(FIXTURES / "render-acme.yaml")
    api = ws.service("api")
    assert api is not None
    targets = [t for t in targets_from_env(ws, api) if t.subject in ("QUEUE_URL", "RECS_URL")]

    def dns(name: str, outcome: Outcome) -> ProbeResult:
        evidence = {"nameserver": "10.0.0.53:53", "a": [], "aaaa": []}
        return ProbeResult("dns", name, outcome, 5.0, f"{name}: {outcome}", evidence)

    silent = {
        "QUEUE_URL": [dns("queue-r4t5", Outcome.TIMEOUT)],
        "RECS_URL": [dns("recs-a1b3", Outcome.TIMEOUT)],
    }
    found = diagnose(ws, api, targets, silent)
    assert [(f.kind, f.subject) for f in found if f.kind == "unknown-host"] == [
        ("unknown-host", "nameserver:10.0.0.53:53"),
        ("unknown-host", "RECS_URL"),
    ]
    answered = {
        "QUEUE_URL": [dns("queue-r4t5", Outcome.TIMEOUT)],
        "RECS_URL": [dns("recs-a1b3", Outcome.NXDOMAIN)],
    }
    found = diagnose(ws, api, targets, answered)
    assert {f.subject for f in found if f.kind == "unknown-host"} == {"QUEUE_URL", "RECS_URL"}
