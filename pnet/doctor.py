"""`pnet-doctor`: the checks with no UI, for scripts, CI and pre-start hooks.

stdout carries the report only (text, JSON, a CI format or the map); stderr the progress line
and errors.
Exit 0: no error finding; 1: at least one; 2: bad usage, bad input or a key the platform
refuses (one line); 3: the source could not be read (network, 5xx or rate limit after the
retries; one line).
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from pnet import __version__, argcheck
from pnet.errors import InputError, SourceError, bare, quote, safe_line
from pnet.secrets import one_line

PROG = "pnet-doctor"


class UsageError(Exception):
    """Bad usage: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Check what a Render or Railway service's configuration points at over the "
        "private network, and say what is wrong and how to fix it.",
        epilog="exit status: 0 no error finding, 1 at least one error, 2 bad usage, bad input "
        "or a key the platform refuses, 3 the source could not be read (network failure, 5xx "
        "or rate limit after the retries). Keys come from RENDER_API_KEY, RAILWAY_API_TOKEN, "
        "RAILWAY_TOKEN or a key file; HTTPS_PROXY, NO_PROXY and SSL_CERT_FILE are honoured.",
    )
    src = p.add_argument_group("where the workspace comes from (default: this instance)")
    src.add_argument("--workspace", metavar="FILE", help="a workspace fixture (YAML)")
    src.add_argument("--blueprint", metavar="FILE", help="a Render Blueprint (render.yaml)")
    src.add_argument(
        "--render-api-key-file",
        metavar="FILE",
        help="read the workspace from Render's API with the key in FILE "
        "(default: $RENDER_API_KEY; $RENDER_WORKSPACE names one of several)",
    )
    src.add_argument(
        "--railway-token-file",
        metavar="FILE",
        help="read the project from Railway's API with the token in FILE "
        "(default: $RAILWAY_API_TOKEN or $RAILWAY_TOKEN; $RAILWAY_PROJECT_ID names one)",
    )
    for gone in ("--render-api-key", "--railway-token"):
        src.add_argument(gone, nargs="?", const="", default=None, help=argparse.SUPPRESS)
    p.add_argument("targets", nargs="*", metavar="TARGET", help="a URL, host:port or service name")
    p.add_argument("--from", dest="source", metavar="SERVICE", help="check from this service")
    p.add_argument("--all", action="store_true", help="check every service of the workspace")
    p.add_argument(
        "--offline", action="store_true", help="static rules only, no network (a lint for CI)"
    )
    p.add_argument(
        "--nameserver",
        action="append",
        metavar="[NETWORK=]HOST:PORT",
        help="send DNS there instead of the system's resolver; NETWORK= for one region or "
        "environment (repeatable)",
    )
    p.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif", "junit", "mermaid", "dot"),
        default="text",
        help="text (default), json (the contract), github (workflow commands: annotations on "
        "the changed lines), sarif (code scanning), junit, mermaid or dot (the map)",
    )
    amount = p.add_mutually_exclusive_group()
    amount.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="text: each problem's evidence, and the documentation of each kind at the end",
    )
    amount.add_argument(
        "-q", "--quiet", action="store_true", help="text: only the problems and the summary"
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help="seconds each DNS, TCP, Redis and PostgreSQL probe may take (default 2); an HTTP "
        "probe gets 2.5 times as long (default 5), for its connection, headers and body",
    )
    p.add_argument("--explain", metavar="KIND", help="explain a finding kind and exit")
    p.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    return p


def _hostport(text: str) -> tuple[str, int]:
    try:
        return argcheck.nameserver(text, default_port=None)
    except argcheck.BadArgument as exc:
        raise UsageError(f"--nameserver: {exc}") from None


def _nameservers(
    values: Sequence[str] | None,
) -> tuple[tuple[str, int] | None, dict[str, tuple[str, int]]]:
    default: tuple[str, int] | None = None
    per: dict[str, tuple[str, int]] = {}
    for value in values or ():
        if "=" in value:
            network, _, rest = value.partition("=")
            if not network.strip():
                raise UsageError(f"--nameserver {quote(value)}: NETWORK=IP:PORT needs the NETWORK")
            per[network.strip()] = _hostport(rest.strip())
        else:
            default = _hostport(value.strip())
    return default, per


def _target(text: str) -> str:
    try:
        return argcheck.target(text)
    except argcheck.BadArgument as exc:
        raise UsageError(f"TARGET {exc}") from None


def _explain(kind: str, out: IO[str]) -> int:
    from pnet.diagnose.explain import explain
    from pnet.diagnose.kinds import KINDS

    text = explain(kind)
    if text is None:
        raise UsageError(f"unknown kind {quote(kind)}; the kinds are: {', '.join(KINDS)}")
    out.write(text)
    return 0


def _use_color(choice: str, stream: IO[str], environ: Mapping[str, str]) -> bool:
    if environ.get("NO_COLOR"):
        return False
    if choice == "always":
        return True
    if choice == "never":
        return False
    return bool(getattr(stream, "isatty", lambda: False)()) and environ.get("TERM") != "dumb"


def _width(stream: IO[str], environ: Mapping[str, str]) -> int | None:
    """The columns to wrap the text to: the terminal's, or $COLUMNS; None (no wrapping) for a
    pipe or a file, so a script sees each line whole."""
    if bool(getattr(stream, "isatty", lambda: False)()):
        try:
            return max(40, os.get_terminal_size(stream.fileno()).columns)
        except (OSError, ValueError, AttributeError):
            pass
    columns = environ.get("COLUMNS", "")
    return max(40, int(columns)) if columns.isdigit() else None


def _unicode_ok(stream: IO[str]) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return encoding in ("utf8", "utf16", "utf32", "utf8sig")


class _Progress:
    """A one-line progress display on stderr, only on a TTY; erased at the end."""

    def __init__(self, stream: IO[str], total: int, enabled: bool) -> None:
        self.stream = stream
        self.total = total
        self.done = 0
        self.enabled = enabled and total > 0

    def step(self, subject: str) -> None:
        self.done += 1
        if self.enabled:
            text = one_line(f"probing {self.done}/{self.total} {subject}", 70)
            self.stream.write(f"\r\x1b[K{text}")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _load(args: argparse.Namespace, environ: Mapping[str, str], err: IO[str]) -> tuple[Any, Any]:
    from pnet.sources import load

    line = _LoadLine(err)
    try:
        got = load(
            workspace=args.workspace,
            blueprint=args.blueprint,
            environ=environ,
            cwd=os.getcwd(),
            render_key_file=args.render_api_key_file,
            railway_token_file=args.railway_token_file,
            cache="write",
            say=line.say if line.enabled else None,
        )
    finally:
        line.close()
    return got.workspace, got.service


class _LoadLine:
    """While an API is read: what it reads and how far, one line on stderr (a TTY only)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.enabled = bool(getattr(stream, "isatty", lambda: False)())
        self.shown = False

    def say(self, text: str) -> None:
        self.shown = True
        self.stream.write(f"\r\x1b[K{one_line(text, 78)}")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _pick_source(workspace: Any, name: str | None, detected: Any) -> Any:
    if name is None:
        return detected
    svc = workspace.service(name)
    if svc is not None:
        return svc
    names = [s.name for s in workspace.services]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(close)}?" if close else f" (services: {', '.join(names)})"
    raise UsageError(f"--from {bare(name)}: no such service in {workspace.name}{hint}")


def _listeners() -> Sequence[Any] | None:
    try:
        from pnet.probes import listeners
    except ImportError:
        return None
    try:
        return tuple(listeners.listening())
    except Exception:
        return None


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _say(stream: IO[str], text: str) -> None:
    """Write a line whatever the stream's encoding can hold."""
    if not _unicode_ok(stream):
        text = text.encode("ascii", "replace").decode("ascii")
    stream.write(text)


def main(
    argv: list[str] | None = None,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    env = os.environ if environ is None else environ
    from pnet.collector import collecting_rarely

    try:
        with collecting_rarely():
            return _main(argv, out, err, env)
    except (UsageError, InputError) as exc:
        _say(err, f"{PROG}: error: {safe_line(str(exc))}\n")
        return 2
    except SourceError as exc:
        _say(err, f"{PROG}: error: {safe_line(str(exc))}\n")
        return 3
    except KeyboardInterrupt:
        err.write(f"{PROG}: interrupted\n")
        return 130


def _main(argv: list[str] | None, out: IO[str], err: IO[str], env: Mapping[str, str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if args.version:
        out.write(f"{PROG} {__version__}\n")
        return 0
    if args.explain:
        return _explain(args.explain, out)
    for flag in ("render_api_key", "railway_token"):
        if getattr(args, flag) is not None:
            from pnet.sources.keys import gone_flag

            raise UsageError(gone_flag("--" + flag.replace("_", "-")))
    if args.timeout is not None and not 0 < args.timeout <= 600:
        raise UsageError(f"--timeout wants seconds between 0 and 600, not {args.timeout}")
    default_ns, per_network = _nameservers(args.nameserver)
    if args.offline and (args.nameserver or args.timeout):
        raise UsageError("--offline sends nothing: --nameserver and --timeout do not apply")
    if args.all and args.targets:
        raise UsageError("give TARGETs or --all, not both")
    if args.all and args.source:
        raise UsageError("--all checks every service from itself: leave out --from")

    from pnet import checks
    from pnet.formats import Options as FormatOptions
    from pnet.formats import Style, render
    from pnet.targets import NotATarget, select

    try:
        workspace, detected = _load(args, env, err)
    except OSError as exc:
        raise InputError(f"cannot read the workspace: {exc.strerror or exc}") from exc
    source = _pick_source(workspace, args.source, detected)
    inside = detected is not None and source is detected
    if args.all:
        source = None
    try:
        targets = select(
            workspace,
            source,
            texts=[_target(text) for text in args.targets],
            every=args.all,
            own=not args.offline,
        )
    except NotATarget as exc:
        raise UsageError(f"{quote(exc.text)} is not a URL, host:port or service name") from exc

    if args.offline:
        report = checks.run_offline(workspace, source, targets)
    else:
        scale = (args.timeout or 2.0) / 2.0
        ns_for = None
        if per_network:

            def ns_for(location: str | None) -> tuple[str, int]:
                if location is not None and location in per_network:
                    return per_network[location]
                if default_ns is not None:
                    return default_ns
                raise KeyError(location)

        options = checks.Options(nameserver=default_ns, nameserver_for=ns_for).scaled(scale)
        listeners = _listeners()
        tty = bool(getattr(err, "isatty", lambda: False)())
        total = checks.count_jobs(workspace, source, targets, options) if tty else 0
        progress = _Progress(err, total, tty)
        from pnet.checks.run import run_sync

        try:
            report = run_sync(
                workspace,
                source,
                targets,
                options,
                listeners=listeners,
                inside=inside,
                on_result=lambda subject, r: (
                    None if "instance" in r.evidence else progress.step(subject)
                ),
            )
        finally:
            progress.close()

    unicode = _unicode_ok(out)
    cwd = os.getcwd()
    written = FormatOptions(
        style=Style(
            color=_use_color(args.color, out, env),
            unicode=unicode,
            width=_width(out, env),
            verbose=args.verbose,
            quiet=args.quiet,
        ),
        unicode=unicode,
        root=env.get("GITHUB_WORKSPACE") or cwd,
        cwd=cwd,
        read=_read_text,
        compact=not bool(getattr(out, "isatty", lambda: False)()),
    )
    _say(out, render(args.format, report, written))
    out.flush()
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
