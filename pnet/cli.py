"""`pnet`: the app (and `pnet lab`). Textual is imported only when the app opens."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pnet import __version__
from pnet.errors import InputError, SourceError

if TYPE_CHECKING:
    from collections.abc import Callable

    from pnet.checks import Options
    from pnet.model import Service, Workspace
    from pnet.sources import Loaded
    from pnet.sources.fixture import Fixture

THEMES = (
    "textual-dark",
    "textual-light",
    "ansi-dark",
    "ansi-light",
    "nord",
    "gruvbox",
    "dracula",
    "tokyo-night",
    "solarized-dark",
    "solarized-light",
)
DEMO_FIXTURE = "render-acme.yaml"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pnet",
        description="Explore and debug a Render or Railway private network.",
        epilog="`pnet lab FIXTURE` serves a workspace fixture as a real network on loopback. "
        "With no source inside a Render or Railway instance, pnet opens on that instance (and "
        "with an API key, on the whole workspace seen from it). Exit status: 2 bad usage, bad "
        "input or a key the platform refuses; 3 the platform's API could not be read.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--workspace", metavar="FILE", help="a workspace fixture (YAML)")
    source.add_argument("--blueprint", metavar="FILE", help="a Render Blueprint (render.yaml)")
    source.add_argument(
        "--demo", action="store_true", help="the built-in lab: a real network served on loopback"
    )
    parser.add_argument(
        "--render-api-key-file",
        metavar="FILE",
        help="read the workspace from Render's API with the key in FILE "
        "(default: $RENDER_API_KEY; $RENDER_WORKSPACE names one of several)",
    )
    parser.add_argument(
        "--railway-token-file",
        metavar="FILE",
        help="read the project from Railway's API with the token in FILE "
        "(default: $RAILWAY_API_TOKEN or $RAILWAY_TOKEN; $RAILWAY_PROJECT_ID names one)",
    )
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="read the platform's API again rather than what it answered minutes ago",
    )
    for gone in ("--render-api-key", "--railway-token"):
        parser.add_argument(gone, nargs="?", const="", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--from",
        dest="source",
        metavar="SERVICE",
        help="probe from this service's side (its region or environment)",
    )
    parser.add_argument(
        "--nameserver", metavar="HOST:PORT", help="send DNS here instead of the system's resolver"
    )
    parser.add_argument(
        "--theme",
        choices=THEMES,
        default=None,
        metavar="THEME",
        help="colours: ansi-dark and ansi-light follow the terminal's palette (also "
        + ", ".join(t for t in THEMES if not t.startswith("ansi"))
        + ")",
    )
    parser.add_argument(
        "--export-dir",
        metavar="DIR",
        type=Path,
        default=None,
        help="where `e` writes its reports (default: the current folder)",
    )
    parser.add_argument("--version", action="version", version=f"pnet {__version__}")
    return parser


def parse_nameserver(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[v6]:PORT`, or a bare host for port 53), checked and normalised."""
    host, sep, port = text.rpartition(":")
    if not sep or (host.count(":") and not host.startswith("[")):
        host, port = text, "53"
    host = host.strip("[]")
    if not host:
        raise InputError(f"--nameserver {text!r}: expected HOST:PORT")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"--nameserver {text!r}: the port must be a number from 1 to 65535")
    return host, int(port)


CONFIG_KEYS = ("theme", "export_dir", "keys")


@dataclass
class Config:
    """The person's settings: `$XDG_CONFIG_HOME/pnet/config.toml`, then `PNET_*`, then flags."""

    theme: str | None = None
    export_dir: Path | None = None
    keys: dict[str, str] | None = None
    file: Path | None = None


def config_path(environ: dict[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME", "~")) / ".config")
    return Path(base).expanduser() / "pnet" / "config.toml"


def load_config(environ: dict[str, str]) -> Config:
    import tomllib

    path = Path(environ["PNET_CONFIG"]) if environ.get("PNET_CONFIG") else config_path(environ)
    data: dict[str, object] = {}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read it: {exc}", str(path)) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"not TOML: {exc}", str(path)) from None
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise InputError(
            f"unknown setting {unknown[0]!r} (known: {', '.join(CONFIG_KEYS)})", str(path)
        )
    theme = environ.get("PNET_THEME") or data.get("theme")
    if theme is not None and theme not in THEMES:
        raise InputError(f"theme {theme!r}: one of {', '.join(THEMES)}", str(path))
    export_dir = environ.get("PNET_EXPORT_DIR") or data.get("export_dir")
    if export_dir is not None and not isinstance(export_dir, str):
        raise InputError("export_dir: a folder path", str(path))
    keys = data.get("keys", {})
    if not isinstance(keys, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keys.items()
    ):
        raise InputError('[keys]: binding id = "key" pairs, e.g. probe = "f5"', str(path))
    return Config(
        theme if isinstance(theme, str) else None,
        Path(export_dir).expanduser() if export_dir else None,
        dict(keys) or None,
        path if path.is_file() else None,
    )


@dataclass
class Plan:
    """What the app opens on, decided before Textual is imported."""

    workspace: Workspace
    source: Service | None
    options: Options
    theme: str | None
    demo: bool
    instance: bool
    export_dir: Path | None = None
    keys: dict[str, str] | None = None
    read_at: float | None = None
    cached: bool = False
    reload: Callable[[Callable[[str], None] | None], Loaded] | None = None


def plan(args: argparse.Namespace, environ: dict[str, str]) -> Plan:
    from pnet.checks import Options
    from pnet.sources import load, load_workspace

    for flag in ("render_api_key", "railway_token"):
        if getattr(args, flag, None) is not None:
            from pnet.sources.keys import gone_flag

            raise InputError(gone_flag("--" + flag.replace("_", "-")))
    nameserver = parse_nameserver(args.nameserver) if args.nameserver else None
    instance = False
    read_at: float | None = None
    cached = False
    reload: Callable[[Callable[[str], None] | None], Loaded] | None = None
    keyed = args.render_api_key_file or args.railway_token_file
    if keyed and (args.demo or args.workspace or args.blueprint):
        raise InputError("give one source: a key file reads the API, not with a file or --demo")
    if args.demo:
        workspace, source = _demo_workspace(), None
    elif args.workspace or args.blueprint:
        workspace, source = load_workspace(workspace=args.workspace, blueprint=args.blueprint)
    else:
        env = dict(environ)
        cwd = Path.cwd()

        def again(say: Callable[[str], None] | None, use: str = "write") -> Loaded:
            return load(
                environ=env,
                cwd=cwd,
                render_key_file=args.render_api_key_file,
                railway_token_file=args.railway_token_file,
                cache="write" if use == "write" else "read",
                say=say,
            )

        line = _LoadLine()
        try:
            got = again(line.say if line.enabled else None, "write" if args.refresh else "read")
        finally:
            line.close()
        workspace, source = got.workspace, got.service
        instance = source is not None
        read_at, cached = got.read_at, got.cached
        if read_at is not None:
            reload = again
    if args.source:
        chosen = workspace.service(args.source)
        if chosen is None:
            names = ", ".join(s.name for s in workspace.services)
            raise InputError(f"--from {args.source}: no such service (the workspace has {names})")
        source = chosen
    config = load_config(environ)
    return Plan(
        workspace,
        source,
        Options(nameserver=nameserver),
        args.theme or config.theme,
        args.demo,
        instance,
        args.export_dir or config.export_dir,
        config.keys,
        read_at,
        cached,
        reload,
    )


class _LoadLine:
    """While an API is read before the app opens: one line on stderr (a TTY only)."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def say(self, text: str) -> None:
        self.shown = True
        sys.stderr.write(f"\r\x1b[K{text[:78]}")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _demo_fixture() -> Fixture:
    from importlib.resources import as_file, files

    from pnet.sources import fixture

    with as_file(files("pnet.fixtures") / DEMO_FIXTURE) as path:
        return fixture.read(path)


def _demo_workspace() -> Workspace:
    return _demo_fixture().workspace


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["lab"]:
        from pnet.lab.cli import main as lab_main

        return lab_main(args_list[1:])
    args = build_parser().parse_args(args_list)
    try:
        the_plan = plan(args, dict(os.environ))
    except InputError as exc:
        print(f"pnet: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except SourceError as exc:
        print(f"pnet: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 3
    return run(the_plan)


def run(the_plan: Plan) -> int:
    from dataclasses import replace

    with ExitStack() as stack:
        options = the_plan.options
        if the_plan.demo:
            from pnet.lab import LabThread

            lab = LabThread(the_plan.workspace, _demo_fixture().lab)
            try:
                lab.start()
            except Exception as exc:
                print(f"pnet: error: the demo lab could not start: {exc}", file=sys.stderr)
                return 1
            stack.callback(lab.stop)
            options = replace(
                options,
                nameserver=options.nameserver or lab.nameserver,
                nameserver_for=lab.nameserver_for,
            )
        from pnet.tui.app import PnetApp

        app = PnetApp(
            the_plan.workspace,
            source=the_plan.source,
            options=options,
            theme=the_plan.theme,
            instance=the_plan.instance,
            export_dir=the_plan.export_dir,
            keymap=the_plan.keys,
            read_at=the_plan.read_at,
            cached=the_plan.cached,
            reload=the_plan.reload,
        )
        app.run()
        return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
