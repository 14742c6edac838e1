"""Errors that reach the person as one line: where, what is wrong, what was expected.

An error line may be pasted anywhere, and the file it is about may be anything (`/etc/shadow`,
an `.env` file): it names the key and the shape that was expected, and quotes a value only when
it is short, masked like every output (pnet.secrets), with control characters escaped.
"""

from __future__ import annotations

import re

from pnet.secrets import looks_random, mask_text, one_line

QUOTE_UP_TO = 40
"""Longer values are described (`a text of 5,000 characters`), not quoted."""
LINE_UP_TO = 600

_WORDS = re.compile(r"[\w.,/+ -]*")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.$/{}\[\] -]{0,63}")
_LONG_QUOTED = tuple(
    re.compile(rf"(?<![^\s(\[{{,=:]){q}[^{q}\n]{{{QUOTE_UP_TO + 1},}}{q}(?![^\s)\]}},.;:])")
    for q in "'\""
)


def _clip_quoted(m: re.Match[str]) -> str:
    return f"a text of {len(m[0]) - 2:,} characters"


def safe_line(text: str) -> str:
    """A message as an error line may carry it: long quoted values described, secrets masked,
    one line, control characters escaped, at most LINE_UP_TO characters."""
    for pattern in _LONG_QUOTED:
        text = pattern.sub(_clip_quoted, text)
    return one_line(text, LINE_UP_TO)


def quote(value: object) -> str:
    """A value for an error message: quoted when it is a few words (`'gold'`, `'10.0.0.0/8'`),
    else only its shape (`a text of 35 characters`): a line of some other file, a password or
    a key is never echoed."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 64:
            return f"a number of {value.bit_length()} bits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if not isinstance(value, str):
        return type(value).__name__
    if len(value) > QUOTE_UP_TO or not _WORDS.fullmatch(value) or looks_random(value):
        return f"a text of {len(value):,} characters"
    return repr(mask_text(value))


def bare(value: str) -> str:
    """A name given on the command line, for an error message: as given when it is short and
    clean, else its shape (as `quote`)."""
    shown = quote(value)
    return shown[1:-1] if shown[:1] in "'\"" and len(shown) >= 2 else shown


def quote_key(key: object) -> str:
    """A mapping key for an error message: quoted when it reads as a name (what a key of
    this format is), else described, so a line of some other file is not echoed."""
    text = str(key)
    if _NAME.fullmatch(text) and mask_text(text) == text:
        return repr(text)
    return f"[{len(text):,} characters, not a name]"


class InputError(Exception):
    """Bad input: a file that cannot be read or does not describe a workspace.

    Rendered as `FILE:LINE: message`; front ends print it on one line and exit 2.
    """

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        return safe_line(f"{where}{self.message}")


class SourceError(Exception):
    """The source could not be read: the network failed, or the platform's API answered 5xx,
    kept rate limiting, or sent something that is not its documented JSON, after the retries.

    Rendered as `WHERE: message`; front ends print it on one line and exit 3.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return safe_line(f"{self.where}: {self.message}" if self.where else self.message)
