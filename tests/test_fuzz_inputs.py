"""Whatever it is handed, pnet-doctor answers with an exit status of its contract, in time.

Mutated fixtures and Blueprints, argument sets and instance environments: every run must
exit 0, 1 or 2 (never a traceback), give one error line for 2, write valid UTF-8 (and JSON
when asked), and finish within tests.fuzzing.TIME_BOUND_S. Live runs go only to the lab this
module starts on loopback.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pnet import cli
from pnet.diagnose.kinds import KINDS
from pnet.errors import InputError
from pnet.formats.dispatch import FORMATS
from pnet.lab import LabThread
from pnet.sources.fixture import load
from tests.fuzzing import (
    FIXTURES,
    NASTY_KEYS,
    NASTY_VALUES,
    fuzz,
    mutated_text,
    run_doctor,
    write_bytes,
)

WORKSPACES = sorted(FIXTURES.glob("*.yaml"))
BLUEPRINTS = sorted((FIXTURES / "blueprints").glob("*.yaml"))
HEALTHY = FIXTURES / "render-healthy.yaml"


def _texts(paths: list[Path]) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in paths]


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="pnet-fuzz-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def lab() -> Iterator[LabThread]:
    with LabThread(load(HEALTHY)) as running:
        yield running


def app_plan(option: str, path: Path) -> None:
    """What `pnet` decides before the app opens: a plan, or one InputError (exit 2)."""
    args = cli.build_parser().parse_args([option, str(path)])
    try:
        cli.plan(args, {})
    except InputError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 700


def _ns(lab: LabThread) -> str:
    host, port = lab.nameserver
    return f"{host}:{port}"


# Text with no digit: a drawn target or value never names an IP address outside loopback.
WORDS = st.text(alphabet=st.characters(blacklist_categories=["Nd", "Cs"]), max_size=20)
CORRUPT = st.one_of(st.none(), st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf"]))


@fuzz(250)
@given(
    text=mutated_text(_texts(WORKSPACES)),
    corrupt=CORRUPT,
    fmt=st.sampled_from(FORMATS),
    how=st.sampled_from([["--all"], [], ["--from", "api"]]),
)
def test_mutated_fixtures(scratch: Path, text: str, corrupt: bytes | None, fmt: str, how) -> None:
    path = scratch / "fixture.yaml"
    write_bytes(path, text, corrupt)
    run_doctor(["--workspace", str(path), "--offline", "--format", fmt, *how])
    app_plan("--workspace", path)


@fuzz(250)
@given(
    text=mutated_text(_texts(BLUEPRINTS)),
    corrupt=CORRUPT,
    fmt=st.sampled_from(FORMATS),
    every=st.booleans(),
)
def test_mutated_blueprints(scratch: Path, text: str, corrupt: bytes | None, fmt: str, every):
    path = scratch / "render.yaml"
    write_bytes(path, text, corrupt)
    run_doctor(["--blueprint", str(path), "--offline", "--format", fmt, *(["--all"] * every)])
    app_plan("--blueprint", path)


# ---- argument sets ---------------------------------------------------------------------

SERVICES = ("api", "search", "worker", "tidy-db", "sessions")
TARGETS = (
    "api",
    "search",
    "nope",
    "api-h3k9:8080",
    "http://api-h3k9:8080/healthz",
    "postgresql://tidy:Wn5bQ1rT8yU3@dpg-h1i2j3k4l5m6n7o8p9q0-a/tidy",
    "redis://red-r1s2t3u4v5w6x7y8z9a0:6379",
    "host:0",
    "host:65536",
    "[::1]:99999",
    "[::1",
    "http://x:0/",
    "https://u:pw@api-h3k9:99999/",
    "",
    " ",
    "::1",
    "a" * 5000,
    "é:80",
    "http://[::1]:8080/",
    "tcp://api-h3k9:8080",
)
NAMESERVERS = (
    "999.999.999.999:53",
    "[::1",
    "127.0.0.1",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "=127.0.0.1:53",
    "ohio=",
    "localhost:53",
    "[::1]:53x",
)
TIMEOUTS = ("0.3", "0", "-1", "nan", "inf", "1e9", "abc", "601")


@st.composite
def argument_set(draw: st.DrawFn, lab_ns: str, files: dict[str, str]) -> list[str]:
    args: list[str] = []
    source = draw(st.sampled_from(["workspace", "blueprint", "both", "missing", "none"]))
    if source in ("workspace", "both"):
        args += ["--workspace", files[draw(st.sampled_from(sorted(files)))]]
    if source in ("blueprint", "both"):
        args += ["--blueprint", str(BLUEPRINTS[draw(st.integers(0, len(BLUEPRINTS) - 1))])]
    if source == "missing":
        args += ["--workspace", "/nonexistent/fixture.yaml"]
    if draw(st.booleans()):
        args += ["--from", draw(st.one_of(st.sampled_from(SERVICES), WORDS))]
    args += draw(st.lists(st.one_of(st.sampled_from(TARGETS), WORDS), max_size=3))
    for flag in ("--all", "--offline"):
        if draw(st.integers(0, 3)) == 0:
            args.append(flag)
    if draw(st.integers(0, 3)) == 0:
        args += ["--nameserver", draw(st.sampled_from(NAMESERVERS))]
    if draw(st.integers(0, 3)) == 0:
        args += ["--format", draw(st.sampled_from([*FORMATS, "yaml"]))]
    if draw(st.integers(0, 3)) == 0:
        args += ["--timeout", draw(st.sampled_from(TIMEOUTS))]
    if draw(st.integers(0, 7)) == 0:
        args += ["--explain", draw(st.one_of(st.sampled_from(sorted(KINDS)), WORDS))]
    if draw(st.integers(0, 7)) == 0:
        args += draw(st.sampled_from([["--version"], ["--color", "never"], ["--bogus"], ["-x"]]))
    if draw(st.integers(0, 9)) == 0:
        args += ["--render-api-key", draw(st.sampled_from(["ké", "a b", "\x07", ""]))]
    if "--offline" not in args:
        # Never the system resolver: DNS goes to the lab (a later --nameserver adds to it).
        args = ["--nameserver", lab_ns, "--timeout", "0.3", *args]
    return args


@pytest.fixture(scope="module")
def argument_files(scratch: Path) -> dict[str, str]:
    files = {p.name: str(p) for p in WORKSPACES}
    fifo = scratch / "fifo.yaml"
    os.mkfifo(fifo)
    files.update(fifo=str(fifo), folder=str(scratch), null="/dev/null")
    return files


@fuzz(150)
@given(data=st.data())
def test_argument_sets(
    lab: LabThread, argument_files: dict[str, str], data: st.DataObject, monkeypatch
) -> None:
    monkeypatch.chdir(tempfile.gettempdir())
    args = data.draw(argument_set(_ns(lab), argument_files))
    run_doctor(args, tty_stderr=data.draw(st.booleans()))


# ---- instance environments -------------------------------------------------------------

RENDER_INSTANCE = {
    "RENDER": "true",
    "RENDER_SERVICE_ID": "srv-d0a1b2c3d4e5f6g7h8i9",
    "RENDER_SERVICE_NAME": "api-x7f2",
    "RENDER_SERVICE_TYPE": "web",
    "RENDER_INSTANCE_ID": "srv-d0a1b2c3d4e5f6g7h8i9-x2k9p",
    "RENDER_DISCOVERY_SERVICE": "api-x7f2-discovery",
    "RENDER_EXTERNAL_HOSTNAME": "api-x7f2.onrender.com",
    "RENDER_EXTERNAL_URL": "https://api-x7f2.onrender.com",
    "PORT": "10000",
    "DATABASE_URL": "postgresql://acme:Hx9sK2pQ7vW4@dpg-d0a1b2c3d4e5f6g7h8i9-a/acme",
    "REDIS_URL": "redis://red-d0a1b2c3d4e5f6g7h8i9:6379",
    "SEARCH_URL": "http://search-q1w2:9200",
    "CACHE_HOST": "red-d0a1b2c3d4e5f6g7h8i9",
    "CACHE_PORT": "6379",
}
RAILWAY_INSTANCE = {
    "RAILWAY_PROJECT_NAME": "shop",
    "RAILWAY_PROJECT_ID": "0b5c2f6e-3a41-4f7c-9a0e-2f1d5e6c7b8a",
    "RAILWAY_ENVIRONMENT_NAME": "production",
    "RAILWAY_ENVIRONMENT_ID": "7d9e1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    "RAILWAY_SERVICE_NAME": "api",
    "RAILWAY_SERVICE_ID": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
    "RAILWAY_PRIVATE_DOMAIN": "api.railway.internal",
    "RAILWAY_PUBLIC_DOMAIN": "api-production.up.railway.app",
    "PORT": "3000",
    "DATABASE_URL": "postgresql://postgres:Pg9secret@postgres.railway.internal:5432/railway",
    "PAYMENTS_URL": "http://payments.railway.internal:8080",
}
ENV_VALUES = st.one_of(
    st.sampled_from(NASTY_VALUES),
    st.sampled_from(["x" * 15_000, "\udcff\udcfe", "caf\udce9", "", " ", "10000\n", "²", "٣"]),
    st.text(max_size=30),
)
ENV_KEYS = st.one_of(
    st.sampled_from([*RENDER_INSTANCE, *RAILWAY_INSTANCE, *NASTY_KEYS[:4], "ÄPI_URL", "X"]),
    st.text(min_size=1, max_size=12).filter(lambda k: "\x00" not in k and "=" not in k),
)


@fuzz(200)
@given(
    base=st.sampled_from([RENDER_INSTANCE, RAILWAY_INSTANCE]),
    changes=st.dictionaries(ENV_KEYS, ENV_VALUES, max_size=5),
    dropped=st.lists(st.sampled_from(sorted({*RENDER_INSTANCE, *RAILWAY_INSTANCE})), max_size=3),
    fmt=st.sampled_from(["text", "json"]),
)
def test_instance_environments(base, changes, dropped, fmt, monkeypatch) -> None:
    monkeypatch.chdir(tempfile.gettempdir())
    environ = {k: v for k, v in {**base, **changes}.items() if k not in dropped}
    run_doctor(["--offline", "--format", fmt], environ)


@fuzz(12)
@given(
    changes=st.dictionaries(ENV_KEYS, st.one_of(st.sampled_from(NASTY_VALUES), WORDS), max_size=4),
    fmt=st.sampled_from(["text", "json"]),
)
def test_instance_environments_live(lab: LabThread, changes, fmt, monkeypatch) -> None:
    monkeypatch.chdir(tempfile.gettempdir())
    environ = {**RENDER_INSTANCE, **changes}
    run_doctor(["--nameserver", _ns(lab), "--timeout", "0.3", "--format", fmt], environ)


# ---- what the fuzzers found, kept as cases -----------------------------------------------

MALFORMED = {
    "nested-300": "services: " + "[" * 300 + "]" * 300 + "\n",
    "nested-block": "services:\n" + "".join("  " * i + "- \n" for i in range(1, 120)),
    "alias-in-itself": "services: &a [*a]\n",
    "alias-bomb": "".join(
        f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]\n" if i else 'a0: &a0 ["x"]\n'
        for i in range(10)
    ),
    "huge-int": "services:\n  - type: web\n    name: a\n    numInstances: " + "9" * 5000 + "\n",
    "huge-hex-port": "platform: render\nworkspace: x\nservices:\n  - name: a\n    type: web\n"
    "    ports: [0x" + "f" * 3700 + "]\n",
    "bad-date": "services:\n  - type: web\n    name: a\n    runtime: node\n    plan: 2001-13-45\n",
    "non-ascii-key": "services:\n  - type: web\n    name: a\n    runtime: node\n    ключ: 1\n",
    "superscript-port": "services:\n  - type: web\n    name: a\n    runtime: node\n"
    "    envVars:\n      - key: PORT\n        value: '²'\n",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("option", ["--workspace", "--blueprint"])
def test_malformed_files(tmp_path: Path, case: str, option: str) -> None:
    path = tmp_path / "input.yaml"
    path.write_text(MALFORMED[case], encoding="utf-8")
    run = run_doctor([option, str(path), "--offline", "--format", "json"])
    assert len(run.err) < 700
    app_plan(option, path)


@pytest.mark.parametrize(
    "args",
    [
        ["api-h3k9:0"],
        ["api-h3k9:65536"],
        ["[::1]:99999"],
        ["[::1"],
        ["http://api-h3k9:0/"],
        ["--nameserver", "999.999.999.999:53"],
        ["--nameserver", "[::1"],
        ["--nameserver", "127.0.0.1"],
        ["--nameserver", "127.0.0.1:0"],
        ["--nameserver", "ohio="],
        ["--timeout", "nan"],
        ["--timeout", "0"],
    ],
)
def test_malformed_arguments_are_usage_errors(args: list[str]) -> None:
    run = run_doctor(["--workspace", str(HEALTHY), "--from", "api", *args])
    assert run.code == 2, run.context()


@pytest.mark.parametrize("key", ["ké", "a b", "tab\there", "\x07"])
def test_an_api_key_no_header_can_carry_is_a_usage_error(key: str) -> None:
    run = run_doctor([], {"RENDER_API_KEY": key})
    assert run.code == 2 and "RENDER_API_KEY" in run.err
    assert key not in run.err


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "render.yaml"
    os.mkfifo(fifo)
    run = run_doctor(["--blueprint", str(fifo), "--offline"])
    assert run.code == 2 and "named pipe" in run.err and run.seconds < 1


def test_a_terminal_is_refused_at_once() -> None:
    leader, follower = os.openpty()
    try:
        run = run_doctor(["--workspace", os.ttyname(follower), "--offline"])
    finally:
        os.close(leader)
        os.close(follower)
    assert run.code == 2 and "terminal" in run.err and run.seconds < 1


def test_standard_input_is_read_for_a_dash(monkeypatch) -> None:
    read, write = os.pipe()
    os.write(write, HEALTHY.read_bytes())
    os.close(write)
    with os.fdopen(read, encoding="utf-8") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        run = run_doctor(["--workspace", "-", "--offline", "--all"])
    assert run.code == 0 and "tidy" in run.out


LONG = 100_000
LONG_VALUES = {
    "references": "${{" * (LONG // 3),
    "reference-spaces": "${{" + " " * LONG,
    "userinfo": "http://" + "a:@" * (LONG // 3),
    "query": "?a=" * (LONG // 3),
    "urls": "http://a-b.c:80/" * (LONG // 16),
    "ats": "@" * LONG,
    "name": "a" * LONG,
}


@pytest.mark.parametrize("case", sorted(LONG_VALUES))
@pytest.mark.parametrize("platform", ["render", "railway"])
def test_long_hostile_values_stay_fast(scratch: Path, case: str, platform: str) -> None:
    """100 KB built to make a backtracking regex or a quadratic scan take minutes."""
    value = LONG_VALUES[case]
    where = "region: oregon" if platform == "render" else "environment: production"
    head = (
        "platform: render\nworkspace: x\n"
        if platform == "render"
        else "platform: railway\nproject: p\nenvironments: {production: {network: dual-stack}}\n"
    )
    text = (
        f"{head}services:\n  - name: api\n    type: web\n    {where}\n    ports: [8080]\n"
        f"    env:\n      X_URL: {json.dumps(value)}\n      Y_HOST: {json.dumps(value)}\n"
        f"  - name: {json.dumps(value[:5000])}\n    type: pserv\n    {where}\n"
    )
    path = scratch / f"long-{platform}-{case}.yaml"
    path.write_text(text, encoding="utf-8")
    for args in (["--all"], ["--from", "api", "--format", "json"]):
        run = run_doctor(["--workspace", str(path), "--offline", *args])
        assert run.seconds < 3.0, f"{run.seconds:.1f} s"
