"""`pnet`: bad input is one line and exit 2 before Textual starts; `pnet lab` is dispatched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pnet import cli
from pnet.errors import InputError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run_pnet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "from pnet.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
        "raise SystemExit(rc)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def test_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = run_pnet("--workspace", str(tmp_path / "nope.yaml"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("pnet: error: ")
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_bad_fixture_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("platform: render\nservices:\n  - name: api\n    type: wbe\n")
    proc = run_pnet("--workspace", str(bad))
    assert proc.returncode == 2
    assert f"{bad}:4" in proc.stderr


def test_unknown_source_service() -> None:
    proc = run_pnet("--workspace", str(FIXTURES / "render-acme.yaml"), "--from", "nope")
    assert proc.returncode == 2
    assert "--from nope: no such service" in proc.stderr


def test_bad_nameserver() -> None:
    proc = run_pnet(
        "--workspace", str(FIXTURES / "render-acme.yaml"), "--nameserver", "127.0.0.1:99999"
    )
    assert proc.returncode == 2
    assert "--nameserver" in proc.stderr


def test_two_sources_is_a_usage_error() -> None:
    proc = run_pnet("--demo", "--workspace", "x.yaml")
    assert proc.returncode == 2
    assert "not allowed with" in proc.stderr


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("10.0.0.2", ("10.0.0.2", 53)),
        ("[::1]:53", ("::1", 53)),
        ("::1", ("::1", 53)),
    ],
)
def test_parse_nameserver(text: str, want: tuple[str, int]) -> None:
    assert cli.parse_nameserver(text) == want


def test_parse_nameserver_rejects_bad_port() -> None:
    with pytest.raises(InputError):
        cli.parse_nameserver("host:0")


def test_plan_picks_the_source_and_the_theme() -> None:
    args = cli.build_parser().parse_args(
        ["--workspace", str(FIXTURES / "render-acme.yaml"), "--from", "api", "--theme", "ansi-dark"]
    )
    plan = cli.plan(args, {})
    assert plan.source is not None and plan.source.name == "api"
    assert plan.theme == "ansi-dark"
    assert not plan.demo and not plan.instance


def test_demo_loads_the_packaged_fixture() -> None:
    plan = cli.plan(cli.build_parser().parse_args(["--demo"]), {})
    assert plan.demo and plan.workspace.name == "acme"


def test_instance_environment_opens_on_this_instance(tmp_path: Path) -> None:
    env = {
        "RENDER": "true",
        "RENDER_SERVICE_NAME": "api-x7f2",
        "RENDER_SERVICE_TYPE": "web",
        "RENDER_INSTANCE_ID": "srv-abcdefghij0123456789-abcde",
        "PORT": "8080",
    }
    args = cli.build_parser().parse_args([])
    plan = cli.plan(args, env)
    assert plan.instance


def test_lab_is_dispatched(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    import pnet.lab.cli

    monkeypatch.setattr(pnet.lab.cli, "main", fake)
    assert cli.main(["lab", "fixtures/render-acme.yaml", "--dns-port", "0"]) == 0
    assert seen == [["fixtures/render-acme.yaml", "--dns-port", "0"]]


def test_keys_come_from_the_environment_or_a_file() -> None:
    """A key on the command line stays in shell history and `ps`: the flags that took one
    say why they no longer do and what to use, without repeating the key."""
    parse = cli.build_parser().parse_args
    for argv, instead in (
        (["--render-api-key", "rnd_s3cret"], "--render-api-key-file"),
        (["--render-api-key=rnd_s3cret"], "--render-api-key-file"),
        (["--railway-token", "s3cret-token"], "--railway-token-file"),
    ):
        with pytest.raises(InputError) as info:
            cli.plan(parse(argv), {})
        message = str(info.value)
        assert "shell's history" in message and instead in message
        assert "s3cret" not in message
    args = parse(["--render-api-key-file", "k", "--refresh"])
    assert (args.render_api_key_file, args.refresh) == ("k", True)
    with pytest.raises(InputError):
        cli.plan(parse(["--demo", "--railway-token-file", "t"]), {})


def test_config_file_env_and_flags(tmp_path: Path) -> None:
    conf = tmp_path / "pnet" / "config.toml"
    conf.parent.mkdir()
    conf.write_text('theme = "ansi-light"\nexport_dir = "/tmp/reports"\n[keys]\nprobe = "f5"\n')
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    loaded = cli.load_config(env)
    assert loaded.theme == "ansi-light" and loaded.keys == {"probe": "f5"}
    assert cli.load_config({**env, "PNET_THEME": "ansi-dark"}).theme == "ansi-dark"
    args = cli.build_parser().parse_args(
        ["--workspace", str(FIXTURES / "render-acme.yaml"), "--theme", "nord"]
    )
    plan = cli.plan(args, env)
    assert plan.theme == "nord" and plan.keys == {"probe": "f5"}
    assert plan.export_dir == Path("/tmp/reports")


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "pnet" / "config.toml"
    conf.parent.mkdir()
    conf.write_text("colour = 1\n")
    env = {"XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = run_pnet("--workspace", str(FIXTURES / "render-acme.yaml"), env=env)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"pnet: error: {conf}: unknown setting 'colour' (known: theme, export_dir, keys)"
    )


async def test_a_keymap_remaps_a_binding() -> None:
    from pnet.tui.app import PnetApp
    from tests.test_tui_support import acme, clock, script

    engine = script()
    app = PnetApp(acme(), engine=engine, clock=clock, keymap={"probe": "f5"})
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(50):
            if app.current is not None:
                break
            await pilot.pause()
        app.select_service("api")
        await pilot.press("f5")
        for _ in range(100):
            if "api" in engine.probes_started:
                break
            await pilot.pause()
        assert "api" in engine.probes_started
