"""What the fuzz tests share: hypothesis settings, hostile values, mutations, a checked run.

Every fuzz test is seeded (hypothesis derandomized) and small in CI. `make fuzz` sets
PNET_FUZZ_SCALE (examples multiplied by it) and PNET_FUZZ_RANDOM=1 (fresh seeds each run).
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pnet import doctor

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SCALE = max(1, int(os.environ.get("PNET_FUZZ_SCALE", "1") or "1"))
RANDOM = os.environ.get("PNET_FUZZ_RANDOM") == "1"
TIME_BOUND_S = 5.0
"""No run may take longer, whatever it is given (typical runs take milliseconds)."""
EXIT_CODES = frozenset({0, 1, 2})


def fuzz(examples: int) -> settings:
    """Hypothesis settings for a fuzz test: `examples` in CI, SCALE times more under make fuzz."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


NASTY_VALUES = (
    "0",
    "-1",
    "65536",
    "99999",
    "1e999",
    "-.inf",
    ".nan",
    "0x" + "f" * 3700,
    "9" * 5000,
    "[" * 300 + "]" * 300,
    "{" * 70 + "}" * 70,
    "&a [*a]",
    "*undefined",
    "!!python/object/apply:os.system ['true']",
    "!!binary AAAA",
    "!!str",
    "2001-13-45",
    "2001-02-03",
    "12:30:45",
    "~",
    "''",
    '"\\x00\\x07\\u202e"',
    '"\\udcff"',
    "é",
    "🙂",
    "a" * 20_000,
    "a:" * 3000,
    "a@" * 3000,
    "?a=" * 3000,
    "postgres://u:p@ss/w@host/db",
    "postgresql://u:" + "x/" * 2000 + "@dpg-x/db",
    "https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r",
    "{a: b}",
    "[1, 2]",
    "yes",
    "no",
    "null",
    "true",
    "${{api.PORT}}",
    "${{ nope.NOPE }}",
    "${{" * 100,
    "key: value: other",
    "\t",
    "- x",
    "| \n  block",
    "host:0",
    "[::1]:99999",
    "http://x:65536/",
    "redis://:pw@red-r1s2t3u4v5w6x7y8z9a0:6379",
)
NASTY_KEYS = (
    "café",
    "ключ",
    "𝔨𝔢𝔶",
    "a" * 5000,
    "root:$6$abcdefgh$SECRETHASHxyz:19000:0:99999:7::",
    "1",
    "true",
    "null",
    "? complex",
    "<<",
    "-",
    "'quoted key'",
    "key\twith tab",
    "STRIPE_KEY",
    "PORT",
)
NASTY_LINES = (
    "---",
    "...",
    "%YAML 1.1",
    "%TAG ! tag:x,2000:",
    "? a",
    "<<: *nope",
    "x: &anchor [1, *anchor]",
    "\t- tabbed",
    "  " * 40 + "deep: 1",
    "- " * 300 + "x",
    "services:",
    "envVars:",
    "  - key: A",
    "    value: " + "v" * 70_000,
    "\x00",
    "\ufeff",
    "# comment",
)


@st.composite
def mutated_text(draw: st.DrawFn, bases: Sequence[str]) -> str:
    """A base file with a few mutations: values, keys, lines, indentation, characters."""
    lines = draw(st.sampled_from(bases)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("value", "key", "delete", "dup", "indent", "insert", "chars")))
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        indent = line[: len(line) - len(line.lstrip())]
        key, colon, value = line.strip().partition(": ")
        if op == "value" and colon:
            new = draw(st.one_of(st.sampled_from(NASTY_VALUES), st.text(max_size=30)))
            lines[i] = f"{indent}{key}: {new}"
        elif op == "key" and colon:
            lines[i] = f"{indent}{draw(st.sampled_from(NASTY_KEYS))}: {value}"
        elif op == "delete":
            del lines[i]
        elif op == "dup":
            lines.insert(i, line)
        elif op == "indent":
            lines[i] = ("  " + line) if draw(st.booleans()) else line[2:]
        elif op == "insert":
            lines.insert(i, indent + draw(st.sampled_from(NASTY_LINES)))
        else:
            at = draw(st.integers(0, len(line)))
            lines[i] = line[:at] + draw(st.text(max_size=8)) + line[at:]
    return "\n".join(lines) + "\n"


def write_bytes(path: Path, text: str, corrupt: bytes | None = None) -> None:
    """Write text as UTF-8 (what cannot be encoded is written as it is: invalid UTF-8)."""
    data = text.encode("utf-8", "surrogateescape" if _surrogates_ok(text) else "replace")
    if corrupt:
        middle = len(data) // 2
        data = data[:middle] + corrupt + data[middle:]
    path.write_bytes(data)


def _surrogates_ok(text: str) -> bool:
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Run:
    argv: list[str]
    code: int
    out: str
    err: str
    seconds: float

    def context(self) -> str:
        return f"argv={self.argv!r}\nexit={self.code}\nstderr={self.err[-2000:]!r}"


class _TtyIO(io.StringIO):
    """stderr as a terminal, so the progress line is written (and can be checked)."""

    def isatty(self) -> bool:
        return True


def run_doctor(
    argv: Sequence[str],
    environ: Mapping[str, str] | None = None,
    *,
    tty_stderr: bool = False,
) -> Run:
    """pnet-doctor in this process, checked: an exit status of the contract, no traceback,
    one error line for exit 2, output that is valid UTF-8 (and JSON when asked), in time."""
    out = io.StringIO()
    err: io.StringIO = _TtyIO() if tty_stderr else io.StringIO()
    started = time.perf_counter()
    code = doctor.main(list(argv), stdout=out, stderr=err, environ=dict(environ or {}))
    run = Run(list(argv), code, out.getvalue(), err.getvalue(), time.perf_counter() - started)
    check(run)
    return run


def check(run: Run) -> None:
    assert run.code in EXIT_CODES, run.context()
    assert "Traceback" not in run.err, run.context()
    assert run.seconds < TIME_BOUND_S, f"{run.seconds:.1f} s\n{run.context()}"
    run.out.encode("utf-8")
    run.err.encode("utf-8")
    if run.code == 2:
        lines = [line for line in run.err.replace("\r", "\n").splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("pnet-doctor: error: ")]
        assert len(errors) == 1 and run.out == "", run.context()
    formats = [b for a, b in zip(run.argv, run.argv[1:], strict=False) if a == "--format"]
    report = not {"--version", "--explain", "-h", "--help"} & set(run.argv)
    fmt = formats[-1] if formats else "text"
    if run.code in (0, 1) and report and fmt in ("json", "sarif"):
        data = json.loads(run.out)
        assert data["version"] in (1, "2.1.0"), run.context()
    if run.code in (0, 1) and report and fmt == "junit":
        ElementTree.fromstring(run.out)
